"""The applicant's area: my cases, my profile, opening a case, editing its details, uploading materials."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from workflow.eligibility.dossier import (
    ACCOUNT_EVIDENCE_KINDS,
    BASIC_FIELDS,
    LEVELS,
    PROFILE_SECTIONS,
    SECTION_MAP,
    account_evidence,
    load_profile,
    row_is_blank,
    save_profile,
    update_declaration,
)
from workflow.engine import core as engine
from workflow.errors import WorkflowError
from workflow.pipeline.catalog import get_pipeline, latest_pipelines
from workflow.records import attachments as attachment_store
from workflow.records import queries

from .casepage import render_case
from .extensions import get_db
from .forms import Form, options
from .i18n import current_lang, label
from .security import roles_required, visible_scope
from .uploads import UploadRejected, discard, safe_display_name, store

bp = Blueprint("applicant", __name__, url_prefix="/applicant")

TITLE_SUGGESTIONS = ("助理工程师", "工程师", "高级工程师", "正高级工程师", "助理经济师（人力资源管理）",
                     "经济师（人力资源管理）", "高级经济师（人力资源管理）", "正高级经济师（人力资源管理）")
"""Common target titles offered in the title field's suggestion list (free text is allowed)."""

BRIDGING_LADDER = {"高级工": ("初级", "助理工程师"), "技师": ("中级", "工程师"), "高级技师": ("副高", "高级工程师"),
                   "特级技师": ("副高", "高级工程师"), "首席技师": ("副高", "高级工程师")}
"""Skill level → the engineering title it bridges to (rules §4)."""


def _db():
    return get_db()


# --------------------------------------------------------------------------------------------- home


@bp.get("/")
@roles_required("applicant")
def home():
    """My cases, newest activity first, with what each is waiting for."""
    with _db().read() as conn:
        page = queries.list_cases(conn, visible=visible_scope(conn), applicant_id=current_user.id, per_page=200)
    profile = load_profile(_db(), current_user.id)
    core = [s for s in PROFILE_SECTIONS if not s.optional]
    filled = sum(1 for s in core if profile.get(s.key))
    return render_template("applicant/home.html", cases=page.rows, filled=filled, sections=len(core))


# --------------------------------------------------------------------------------------------- profile


def _profile_rows(source: dict[str, Any], extra: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Rows per section as the form shows them: what exists plus one blank row (two for ``extra``)."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for section in PROFILE_SECTIONS:
        existing = [dict(r) for r in source.get(section.key) or []]
        blanks = 2 if extra == section.key else (0 if section.optional and existing else 1)
        if len(existing) + blanks > section.max_rows:
            blanks = max(0, section.max_rows - len(existing))
        rows[section.key] = existing + [{} for _ in range(blanks)]
    return rows


def _posted_profile() -> dict[str, Any]:
    """The profile form as submitted: basic fields, then each section's rows (checkboxes as booleans)."""
    form = request.form
    raw: dict[str, Any] = {}
    for f in BASIC_FIELDS:
        raw[f.key] = form.get(f.key) is not None if f.kind == "bool" else form.get(f.key, "")
    for section in PROFILE_SECTIONS:
        try:
            count = min(int(form.get(f"{section.key}-count", "0")), section.max_rows + 5)
        except ValueError:
            count = 0
        raw[section.key] = [
            {f.key: (form.get(f"{section.key}-{i}-{f.key}") is not None if f.kind == "bool"
                     else form.get(f"{section.key}-{i}-{f.key}", "")) for f in section.fields}
            for i in range(count)]
    return raw


def _nonblank(section, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # The same test the validator applies: a spare row showing only its pre-filled defaults is blank.
    return [r for r in rows if not row_is_blank(section, r)]


@bp.route("/profile", methods=["GET", "POST"])
@roles_required("applicant")
def profile():
    """The applicant's profile: education, titles, skill certificates, work, achievements, works, ….

    "Add a row" re-renders with the typed input and one more blank row (no JavaScript needed); "save"
    validates everything and lists every problem at once, keeping what was typed.
    """
    status = 200
    problems = []
    if request.method == "POST":
        raw = _posted_profile()
        basic = {f.key: raw[f.key] for f in BASIC_FIELDS}
        add = request.form.get("add")
        if add in SECTION_MAP:
            rows = _profile_rows({s.key: _nonblank(s, raw[s.key]) for s in PROFILE_SECTIONS}, extra=add)
            return render_template("applicant/profile.html", rows=rows, basic=basic, problems=[],
                                   sections=PROFILE_SECTIONS, basic_fields=BASIC_FIELDS, lang=current_lang())
        problems = save_profile(_db(), current_user.actor, raw)
        if not problems:
            flash(_("个人信息已保存。"), "success")
            return redirect(url_for("applicant.profile"), 303)
        status = 422
        rows = {s.key: raw[s.key] for s in PROFILE_SECTIONS}  # as typed, problem rows included
    else:
        stored = load_profile(_db(), current_user.id)
        rows = _profile_rows(stored)
        basic = {f.key: stored.get(f.key, f.default) for f in BASIC_FIELDS}
    return render_template("applicant/profile.html", rows=rows, basic=basic, problems=problems,
                           sections=PROFILE_SECTIONS, basic_fields=BASIC_FIELDS, lang=current_lang()), status


# --------------------------------------------------------------------------------------------- new case


class CaseForm(Form):
    """Opening a case: pipeline, session, target title, and (fallback channel) agency and account evidence."""

    pipeline_id = SelectField(_l("评审流程"), validators=[InputRequired(message=_l("请选择评审流程"))])
    session_id = SelectField(_l("评审会（专场）"), coerce=int, validators=[InputRequired(message=_l("请选择评审会"))])
    level = SelectField(_l("申报级别"), choices=options((v, v) for v in LEVELS))
    target_title = StringField(_l("申报职称"), validators=[InputRequired(message=_l("请填写申报职称")), Length(max=60)])
    standard_id = SelectField(_l("评价标准"), validators=[InputRequired(message=_l("请选择评价标准"))])
    series = StringField(_l("职称系列"), default="工程", validators=[Length(max=40)])
    specialty = StringField(_l("专业"), validators=[InputRequired(message=_l("请填写专业")), Length(max=80)])
    agency_org_id = SelectField(_l("人事代理机构（兜底申报）"), coerce=int, validators=[Optional()])
    evidence_kind = RadioField(_l("账户证明（兜底申报）"),
                               choices=options((k, v["zh"]) for k, v in ACCOUNT_EVIDENCE_KINDS.items()),
                               validators=[Optional()], validate_choice=False)
    contract_months = StringField(_l("劳动合同期限（月）"), validators=[Optional(), Length(max=4)])
    social_insurance = BooleanField(_l("在签约单位缴纳社会保险"))
    registration_no = StringField(_l("自由职业登记编号"), validators=[Optional(), Length(max=60)])

    def validate_evidence_kind(self, field: RadioField) -> None:
        """Only the two kinds of evidence the fallback guard understands."""
        if field.data and field.data not in ACCOUNT_EVIDENCE_KINDS:
            raise ValidationError(_l("请选择账户证明类型"))


def _choices(form: CaseForm, conn) -> dict[str, Any]:
    pipelines = latest_pipelines(_db())
    form.pipeline_id.choices = [("", _("— 请选择 —"))] + [(p.id, label(p.label)) for p in pipelines]
    sessions = queries.sessions(conn, open_only=True)
    form.session_id.choices = [(0, _("— 请选择 —"))] + [(s["id"], _session_label(s)) for s in sessions]
    agencies = queries.organisations(conn, kinds=["agency"])
    form.agency_org_id.choices = [(0, _("— 请选择 —"))] + [(a["id"], a["name"]) for a in agencies]
    form.evidence_kind.choices = [(k, label(v)) for k, v in ACCOUNT_EVIDENCE_KINDS.items()]
    standards = _standards()
    form.standard_id.choices = _standard_choices(standards)
    return {"pipelines": {p.id: p for p in pipelines}, "sessions": {s["id"]: s for s in sessions},
            "standards": standards}


def _standard_groups(known: dict[str, Any], session_id: int | None, standard_id: str | None) -> list[dict[str, Any]]:
    """The standards each open session accepts, one ``<optgroup>`` per session (no JavaScript needed).

    A standard several sessions accept appears in each group, so only one of its options is marked selected:
    the one in the chosen session's group, else the first.
    """
    offered = {row["id"]: [sid for sid in row["standard_ids"] or [] if sid in known["standards"]]
               for row in known["sessions"].values()}
    holders = [sid for sid, ids in offered.items() if standard_id in ids]
    marked = session_id if session_id in holders else (holders[0] if holders else None)
    return [{"id": row["id"], "label": _session_label(row),
             "options": [{"value": sid, "text": _standard_label(known["standards"][sid]),
                          "selected": row["id"] == marked and sid == standard_id} for sid in offered[row["id"]]]}
            for row in known["sessions"].values()]


def _session_label(row: dict[str, Any]) -> str:
    return row["name_en"] if current_lang() == "en" and row["name_en"] else row["name"]


def _standards() -> dict[str, Any]:
    """Every occupation standard that can be chosen today, in its version in force (the one a submission
    today would be judged by), by id."""
    from workflow.eligibility.standards_store import china_today, standards_in_force

    return {s.id: s for s in standards_in_force(_db(), china_today())}


def _standard_label(standard) -> str:
    """A standard as an applicant chooses it: its name with its series and level."""
    return f"{label(standard.name)}（{standard.series}·{standard.level.value}）"


def _standard_choices(standards: dict[str, Any]) -> list[tuple[str, str]]:
    return [("", _("— 请选择 —"))] + [(sid, _standard_label(s)) for sid, s in standards.items()]


def _self_check(profile: dict[str, Any], route: str | None) -> list[tuple[bool, str]]:
    """Soft checks of the profile before applying: what a reviewer will look for first, with the extra ones of
    the chosen pipeline's ``route`` (bridging, exceptional) as its definition declares it — so a pipeline added
    later on one of these routes gets them too."""
    checks = [(bool(profile.get("birth_date")), _("已填写出生日期等基本信息")),
              (bool(profile.get("education")), _("已填写学历学位")),
              (bool(profile.get("work_history")), _("已填写工作经历")),
              (bool(profile.get("achievements")), _("已填写业绩成果")),
              (bool(profile.get("works")), _("已填写代表作（专利、项目报告、标准等均可，不限论文）"))]
    if route == "bridging":
        skills = [s for s in profile.get("skill_certificates") or [] if s.get("level") in BRIDGING_LADDER]
        checks.append((bool(skills), _("贯通评价：持有高级工及以上职业技能等级证书")))
    if route == "exceptional":
        checks.append((len(profile.get("achievements") or []) >= 2, _("破格申报：至少2项业绩成果")))
    return checks


@bp.route("/cases/new", methods=["GET", "POST"])
@roles_required("applicant")
def new_case():
    """Open a new case (a draft: nothing is sent until the applicant submits it from the case page)."""
    db = _db()
    form = CaseForm()
    with db.read() as conn:
        known = _choices(form, conn)
        me = queries.organisation(conn, current_user.org_id) if current_user.org_id else None
    if request.method == "GET" and request.args.get("pipeline") in known["pipelines"]:
        form.pipeline_id.data = request.args["pipeline"]
    status = 200
    error = None
    if form.validate_on_submit():
        try:
            case_id = _open_case(form, known, me)
        except WorkflowError as err:
            status = err.status
            if getattr(err, "field", None) == "standard_id":  # e.g. a standard the session does not accept
                form.standard_id.errors.append(err.message(current_lang()))
            else:
                error = err.message(current_lang())
        else:
            flash(_("申报草稿已创建。请上传材料，核对信息后提交。"), "success")
            return redirect(url_for("cases.show", case_id=case_id), 303)
    elif request.method == "POST":
        status = 422
    profile = load_profile(db, current_user.id)
    groups = _standard_groups(known, form.session_id.data, form.standard_id.data)
    chosen = known["pipelines"].get(form.pipeline_id.data)
    checks = _self_check(profile, chosen.route if chosen else None)
    return render_template("applicant/new_case.html", form=form, error=error, me=me,
                           pipelines=known["pipelines"], sessions=known["sessions"], titles=TITLE_SUGGESTIONS,
                           standard_groups=groups, checks=checks), status


def _open_case(form: CaseForm, known: dict[str, Any], me) -> int:
    from workflow.errors import MissingData

    pipeline = known["pipelines"].get(form.pipeline_id.data)
    session = known["sessions"].get(form.session_id.data)
    if pipeline is None:
        raise MissingData("请选择评审流程", "Choose a pipeline")
    if session is None:
        raise MissingData("请选择评审会", "Choose a review session")
    standard = known["standards"].get(form.standard_id.data)
    if standard is None:
        raise MissingData("请选择评价标准", "Choose the occupation standard")
    if pipeline.id not in (session["pipeline_ids"] or []):
        raise MissingData(f"评审会“{session['name']}”不受理“{pipeline.label.zh}”", "This session does not take that "
                          "pipeline")
    data: dict[str, Any] = {}
    superiors: list[int] = []
    if pipeline.channel == "agency":
        if not form.agency_org_id.data:
            raise MissingData("兜底申报请选择人事代理机构", "Choose the personnel agency")
        unit_org_id = form.agency_org_id.data
        data["account_evidence"] = account_evidence(
            form.evidence_kind.data or "", contract_months=form.contract_months.data,
            social_insurance=form.social_insurance.data, registration_no=form.registration_no.data or "")
    else:
        if me is None or me["kind"] != "employer":
            raise MissingData("您的账号未关联用人单位，请选择“兜底申报”通过人事代理机构申报",
                              "Your account has no employer; use fallback filing through an agency")
        if not me["has_hr_capacity"]:
            raise MissingData("您所在单位暂不具备单位审核条件，请选择“兜底申报”通过人事代理机构申报",
                              "Your employer cannot run the unit steps; use fallback filing")
        unit_org_id = me["id"]
        with _db().read() as conn:
            superiors = queries.superior_chain(conn, me["id"])
    return engine.open_case(
        _db(), current_user.actor, pipeline_id=pipeline.id, unit_org_id=unit_org_id,
        authority_org_id=session["authority_org_id"], employer_org_id=me["id"] if me else None,
        superior_org_ids=superiors, session_id=session["id"], series=form.series.data.strip(),
        specialty=form.specialty.data.strip(), level=form.level.data, target_title=form.target_title.data.strip(),
        standard_id=standard.id, data=data)


# --------------------------------------------------------------------------------------------- case details


class DeclarationForm(Form):
    """The case's declared details, editable while the case is with the applicant."""

    version = HiddenField()
    level = SelectField(_l("申报级别"), choices=options((v, v) for v in LEVELS))
    target_title = StringField(_l("申报职称"), validators=[InputRequired(message=_l("请填写申报职称")), Length(max=60)])
    standard_id = SelectField(_l("评价标准"), validators=[Optional()])
    specialty = StringField(_l("专业"), validators=[InputRequired(message=_l("请填写专业")), Length(max=80)])
    evidence_kind = RadioField(_l("账户证明（兜底申报）"), validators=[Optional()], validate_choice=False)
    contract_months = StringField(_l("劳动合同期限（月）"), validators=[Optional(), Length(max=4)])
    social_insurance = BooleanField(_l("在签约单位缴纳社会保险"))
    registration_no = StringField(_l("自由职业登记编号"), validators=[Optional(), Length(max=60)])


@bp.route("/cases/<int:case_id>/edit", methods=["GET", "POST"])
@roles_required("applicant")
def edit_case(case_id: int):
    """Edit the declared details of a draft or a case returned for correction."""
    from flask import abort

    db = _db()
    with db.read() as conn:
        case = queries.case_detail(conn, case_id)
    if case is None:
        abort(404)
    if case["applicant_id"] != current_user.id:
        abort(403)
    fallback = case["unit_kind"] == "agency"
    form = DeclarationForm()
    form.evidence_kind.choices = [(k, label(v)) for k, v in ACCOUNT_EVIDENCE_KINDS.items()]
    standards = _standards()
    accepted = None
    if case["session_id"] is not None:
        with db.read() as conn:
            accepted = set((queries.session_row(conn, case["session_id"]) or {}).get("standard_ids") or [])
    # A posted standard is checked against every one in force, so that one the session does not accept gets the
    # core's message naming it (not WTForms' "not a valid choice"); the form offers only what the session
    # accepts, and the case's own standard (kept if the session's list changed).
    form.standard_id.choices = _standard_choices(standards)
    offered = _standard_choices(
        {sid: x for sid, x in standards.items() if accepted is None or sid in accepted or sid == case["standard_id"]})
    # The standard can change only before the first submission: it is pinned then (rules §5).
    draft = case["state"] == get_pipeline(db, case["pipeline_id"], case["pipeline_version"]).initial
    evidence = (case["data"] or {}).get("account_evidence") or {}
    if request.method == "GET":
        form.version.data = str(case["version"])
        form.level.data, form.target_title.data, form.specialty.data = case["level"], case["target_title"], \
            case["specialty"]
        form.standard_id.data = case["standard_id"] or ""
        form.evidence_kind.data = evidence.get("kind")
        form.contract_months.data = str(evidence.get("contract_months", "") or "")
        form.social_insurance.data = bool(evidence.get("social_insurance"))
        form.registration_no.data = evidence.get("registration_no", "")
    status, error = 200, None
    if form.validate_on_submit():
        try:
            new_evidence = None
            if fallback:
                new_evidence = account_evidence(form.evidence_kind.data or "",
                                                contract_months=form.contract_months.data,
                                                social_insurance=form.social_insurance.data,
                                                registration_no=form.registration_no.data or "")
            chosen = form.standard_id.data if draft and form.standard_id.data in standards else None
            update_declaration(db, case_id, current_user.actor, expected_version=int(form.version.data or -1),
                               target_title=form.target_title.data, specialty=form.specialty.data,
                               level=form.level.data, evidence=new_evidence, standard_id=chosen)
        except WorkflowError as err:
            status = err.status
            if getattr(err, "field", None) == "standard_id" and draft:
                form.standard_id.errors.append(err.message(current_lang()))
            else:
                error = err.message(current_lang())
        else:
            flash(_("申报信息已保存。"), "success")
            return redirect(url_for("cases.show", case_id=case_id), 303)
    elif request.method == "POST":
        status = 422
    form.standard_id.choices = offered
    # The materials checklist beside the details: what the pinned version requires and what is still missing.
    pipeline = get_pipeline(db, case["pipeline_id"], case["pipeline_version"])
    checklist = None
    if pipeline.materials:
        with db.read() as conn:
            checklist = attachment_store.checklist(pipeline, queries.case_materials(conn, case_id))
    missing = [item for item in checklist or [] if item["required"] and not item["files"]]
    return render_template("applicant/edit_case.html", form=form, case=case, fallback=fallback, error=error,
                           draft=draft, standards=standards, checklist=checklist, missing_materials=missing), status


# --------------------------------------------------------------------------------------------- materials


@bp.post("/cases/<int:case_id>/materials")
@roles_required("applicant")
def upload(case_id: int):
    """Upload one file to the case (type checked by content, size limited)."""
    db = _db()
    lang = current_lang()
    category = request.form.get("category", "")
    kept = {"form": "upload", "values": {"category": category}}
    with db.read() as conn:
        case = queries.case_detail(conn, case_id)
    if case is None:
        from flask import abort

        abort(404)
    if case["applicant_id"] != current_user.id:
        return render_case(case_id, 403, error=_("只有申报人本人可以上传材料。"), kept=kept)
    if not attachment_store.materials_editable(db, case, current_user.actor):
        return render_case(case_id, 409, error=_("案件已提交审核，材料不能再修改；如需补正，请等待退回补正。"),
                           kept=kept)
    if category not in attachment_store.categories_for(get_pipeline(db, case["pipeline_id"], case["pipeline_version"])):
        return render_case(case_id, 422, error=_("请选择材料类别。"), kept=kept)
    try:
        upload_file = request.files.get("file")
    except RequestEntityTooLarge:
        return render_case(case_id, 413, error=_too_large_text(), kept=kept)
    if upload_file is None or not upload_file.filename:
        return render_case(case_id, 422, error=_("请选择要上传的文件。"), kept=kept)
    folder = current_app.config["UPLOAD_FOLDER"]
    try:
        stored = store(upload_file.stream, folder, current_app.config["MAX_UPLOAD_BYTES"])
    except UploadRejected as err:
        return render_case(case_id, err.status, error=err.message(lang), kept=kept)
    try:
        attachment_store.add_attachment(db, case_id, current_user.actor, category=category,
                                        original_name=safe_display_name(upload_file.filename),
                                        stored_name=stored.stored_name, content_type=stored.content_type,
                                        size=stored.size, sha256=stored.sha256)
    except WorkflowError as err:
        discard(folder, stored.stored_name)
        return render_case(case_id, err.status, error=err.message(lang), kept=kept)
    flash(_("已上传：%(name)s", name=attachment_store.file_name_for(safe_display_name(upload_file.filename),
                                                                stored.content_type)), "success")
    return redirect(url_for("cases.show", case_id=case_id) + "#materials", 303)


def _too_large_text() -> str:
    limit = current_app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024)
    return _("上传内容过大：单个文件不能超过 %(mb)s MB。", mb=limit)


@bp.post("/cases/<int:case_id>/materials/<int:attachment_id>/remove")
@roles_required("applicant")
def remove_material(case_id: int, attachment_id: int):
    """Withdraw a file from the dossier (it stays on record, marked removed)."""
    db = _db()
    with db.read() as conn:
        att = attachment_store.get_attachment(conn, attachment_id)
    if att is None or att["case_id"] != case_id:
        from flask import abort

        abort(404)
    try:
        attachment_store.remove_attachment(db, attachment_id, current_user.actor)
    except WorkflowError as err:
        return render_case(case_id, err.status, error=err.message(current_lang()))
    flash(_("已移除：%(name)s", name=att["original_name"]), "info")
    return redirect(url_for("cases.show", case_id=case_id) + "#materials", 303)
