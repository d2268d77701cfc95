"""Occupation standards (评价标准) in the web UI: the administrators' editor and the applicants' pre-check.

Administrators list the newest version of every standard, read any version with every requirement's
provenance ([S]/[R]/[C]) and source, and write standards in drafts: as a copy of an existing standard (the usual
way to write one for a new occupation), from scratch, or as a revision of the newest version. The editor is a
structured form (:mod:`web.standards_form`), one input per field with each number's source beside it; a draft
is saved without publishing, previewed on applicants' saved profiles (verdict under the current version and
under the draft), and published as a new immutable version with its effective date
(:func:`workflow.eligibility.standards_drafts.publish_draft`). YAML export and import stay for bulk work. Applicants
check
their stored profile against any standard before they submit.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from workflow.eligibility import (
    EligibilityInputError,
    Relaxations,
    Route,
    evaluate,
    profile_store,
    standards_drafts,
    standards_store,
)
from workflow.eligibility.gate import relaxations_for_channel
from workflow.eligibility.standards import Standard, dump_standard_part, dump_standard_yaml, parse_standard
from workflow.eligibility.standards_store import china_today
from workflow.eligibility.standards_validation import FieldProblem, check_standard
from workflow.errors import WorkflowError
from workflow.pipeline.yamlsource import DefinitionError, load_yaml

from . import standards_form
from .extensions import get_db
from .i18n import current_lang
from .security import roles_required, small_int
from .standards_versions import history_rows

bp = Blueprint("standards", __name__)

SECTIONS: list[tuple[str, Any]] = [
    ("basic", _l("基本条件")),
    ("ladder", _l("台阶（下一级职称）")),
    ("education_routes", _l("学历资历路径")),
    ("work_experience", _l("工作经历")),
    ("achievements", _l("业绩成果")),
    ("representative_works", _l("代表作")),
    ("benefits", _l("经济社会效益")),
    ("exceptional", _l("破格条件（专家推荐/业绩）")),
    ("direct", _l("直接申报路径（学历+本行业年限、企业主要负责人）")),
    ("bridging", _l("技能贯通")),
]
"""The criteria layers as the version page lists them (in the order of rules.md §5)."""

def _db():
    return get_db()


# --------------------------------------------------------------------------------------------- helpers


APPLICANTS_SHOWN = 30
"""How many applicants the preview lists at a time: a province has tens of thousands, so the list is searched."""


def _applicants(find: str = "", chosen: set[int] | frozenset[int] = frozenset(),
                limit: int | None = None) -> list[dict[str, Any]]:
    """Applicants who have stored a profile, for the preview: those already ``chosen``, then the first
    ``limit`` whose name or username contains ``find`` (the seeded route examples come first: lowest ids)."""
    return profile_store.applicants_with_profiles(_db(), find=find, chosen=chosen,
                                                  limit=APPLICANTS_SHOWN if limit is None else limit)


def _preview_inputs() -> dict[str, str]:
    form = request.form if request.method == "POST" else request.args
    return {"profile_user": form.get("profile_user", ""), "profile_text": form.get("profile_text", ""),
            "route": form.get("route", "normal"), "as_of": form.get("as_of", "") or china_today().isoformat()}


def _evaluate(standard: Standard, profile: dict[str, Any], route: str, as_of: str,
              relaxations: Relaxations | None = None) -> tuple[Any, str | None]:
    """The report, or a message saying why the inputs cannot be evaluated."""
    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        return None, _("评价日期格式应为 YYYY-MM-DD。")
    if route not in {r.value for r in Route}:
        route = "normal"
    try:
        return evaluate(profile, standard, route=route, relaxations=relaxations or Relaxations(), as_of=day), None
    except EligibilityInputError as err:
        return None, err.message(current_lang())


def _preview(standard: Standard, inputs: dict[str, str]) -> tuple[Any, str | None]:
    """Evaluate ``standard`` against the chosen sample profile (pasted JSON/YAML wins over a stored one)."""
    profile: Any = None
    if inputs["profile_text"].strip():
        try:
            profile = load_yaml(inputs["profile_text"], "profile")  # YAML is a superset of JSON
        except DefinitionError as err:
            return None, str(err)
        if not isinstance(profile, dict):
            return None, _("样例个人信息应为 JSON 或 YAML 对象。")
        profile = json.loads(json.dumps(profile, default=str))
    elif small_int(inputs["profile_user"]) is not None:
        profile = profile_store.stored_profile(_db(), small_int(inputs["profile_user"]))
        if profile is None:
            return None, _("该申报人尚未填写个人信息。")
    else:
        return None, _("请选择申报人的个人信息，或粘贴样例个人信息。")
    return _evaluate(standard, profile, inputs["route"], inputs["as_of"])


def _history(standard_id: str) -> list[dict[str, Any]]:
    """The version history for the standard's page: dates, origins, and the cases each version judges."""
    return history_rows(_db(), standard_id)


def _get(standard_id: str, version: int | None = None) -> Standard:
    with _db().read() as conn:
        version = version or standards_store.latest_version(conn, standard_id)
        standard = standards_store.get_standard(conn, standard_id, version) if version else None
    if standard is None:
        abort(404)
    return standard


def _routes() -> list[tuple[str, str]]:
    return [(r.value, r.en if current_lang() == "en" else r.zh) for r in Route]


# --------------------------------------------------------------------------------------------- admin pages


@bp.get("/admin/standards/")
@roles_required("administrator")
def index():
    """The newest version of every standard, with series, level, title and effective period; open drafts."""
    return render_template("standards/index.html", standards=standards_store.latest_standards(_db()),
                           today=china_today(), drafts=standards_drafts.list_drafts(_db()))


@bp.get("/admin/standards/<standard_id>")
@roles_required("administrator")
def latest(standard_id: str):
    """The newest version of one standard."""
    return show(standard_id, _get(standard_id).version)


@bp.get("/admin/standards/<standard_id>/v<int:version>")
@roles_required("administrator")
def show(standard_id: str, version: int):
    """One version: every criterion with its thresholds, provenance and sources; the version history."""
    standard = _get(standard_id, version)
    with _db().read() as conn:
        newest = standards_store.latest_version(conn, standard_id)
    return render_template("standards/show.html", standard=standard, history=_history(standard_id),
                           newest=newest, sourced=standard.thresholds(), yaml_text=dump_standard_yaml(standard),
                           sections=SECTIONS, data=standard.model_dump(mode="json", exclude_defaults=True),
                           section_yaml=dump_standard_part)


@bp.get("/admin/standards/<standard_id>/v<int:version>/export")
@roles_required("administrator")
def export(standard_id: str, version: int):
    """Download the version as YAML (the same format as ``definitions/standards``)."""
    standard = _get(standard_id, version)
    return Response(dump_standard_yaml(standard), mimetype="application/x-yaml; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{standard.id}-v{standard.version}.yaml"'})


@bp.route("/admin/standards/<standard_id>/v<int:version>/preview", methods=["GET", "POST"])
@roles_required("administrator")
def preview(standard_id: str, version: int):
    """Evaluate a stored version against an applicant's stored profile or a pasted sample profile."""
    standard = _get(standard_id, version)
    inputs = _preview_inputs()
    report, problem = None, None
    status = 200
    if request.method == "POST" or inputs["profile_user"]:
        report, problem = _preview(standard, inputs)
        status = 422 if problem else 200
    return render_template("standards/preview.html", standard=standard, inputs=inputs, report=report,
                           problem=problem, routes=_routes(),
                           applicants=_applicants(chosen={small_int(inputs["profile_user"]) or 0}, limit=200)), status


# --------------------------------------------------------------------------------------------- the editor


def _lang() -> str:
    return current_lang() or "zh"


def _draft_or_404(draft_id: int) -> standards_drafts.Draft:
    draft = standards_drafts.get_draft(_db(), draft_id)
    if draft is None:
        abort(404)
    return draft


def _revising(draft: standards_drafts.Draft) -> bool:
    """True when the draft revises a stored standard (its id is fixed), False for a new standard or a copy."""
    return draft.base_id is not None and draft.base_id == draft.standard_id and draft.base_version is not None


def _current_for(draft: standards_drafts.Draft) -> Standard | None:
    """What the draft would replace or was copied from: the standard the preview compares it with."""
    with _db().read() as conn:
        if _revising(draft):
            version = standards_store.version_in_force(conn, draft.standard_id, china_today()) \
                or standards_store.latest_version(conn, draft.standard_id)
            return standards_store.get_standard(conn, draft.standard_id, version) if version else None
        if draft.base_id and draft.base_version:
            return standards_store.get_standard(conn, draft.base_id, draft.base_version)
    return None


def _preview_rows(draft_standard: Standard, current: Standard | None) -> tuple[list[dict[str, Any]], str | None]:
    """Each chosen saved profile judged by the current version and by the draft (nothing is stored)."""
    form = request.form
    chosen = [uid for raw in form.getlist("preview_user") if (uid := small_int(raw)) is not None][:20]
    route = form.get("route", "normal")
    as_of = form.get("as_of", "") or china_today().isoformat()
    if not chosen:
        return [], _("请至少选择一位申报人的个人信息用于预览。")
    names = {a["id"]: a for a in _applicants(chosen=set(chosen), limit=0)}
    profiles = profile_store.stored_profiles(_db(), names)  # one read for all of them, not one per row
    rows = []
    for uid in chosen:
        if uid not in names:
            continue
        profile = profiles.get(uid)
        row: dict[str, Any] = {"user": names[uid], "current": None, "with_draft": None, "problem": None}
        if profile is None:
            row["problem"] = _("该申报人尚未填写个人信息。")
        else:
            row["with_draft"], row["problem"] = _evaluate(draft_standard, profile, route, as_of)
            if current is not None and row["problem"] is None:
                row["current"], _unused = _evaluate(current, profile, route, as_of)
        rows.append(row)
    return rows, None


def _render_editor(draft: standards_drafts.Draft, doc: dict[str, Any], problems: list, *, status: int = 200,
                   preview_rows: list | None = None, preview_problem: str | None = None,
                   notice: str | None = None):
    locked = frozenset({"id"}) if _revising(draft) else frozenset()
    chosen = {uid for raw in request.form.getlist("preview_user") if (uid := small_int(raw)) is not None}
    current = _current_for(draft)
    base = standards_form.document_of(current) if current is not None else None
    sections, orphans = standards_form.build(doc, problems, _lang(), locked=locked, base=base)
    return render_template(
        "standards/edit.html", draft=draft, sections=sections, orphans=orphans, problems=problems,
        revising=_revising(draft), current=current, routes=_routes(),
        applicants=_applicants(request.form.get("preview_find", ""), chosen),
        preview_find=request.form.get("preview_find", ""),
        preview_rows=preview_rows, preview_problem=preview_problem, notice=notice,
        chosen_users=chosen,
        preview_route=request.form.get("route", "normal"),
        preview_as_of=request.form.get("as_of", "") or china_today().isoformat()), status


def _flash_published(published: Standard, *, imported: bool = False) -> None:
    """Say what publishing did: in force today, or from its effective date (earlier cases keep theirs)."""
    if published.effective_from > china_today():
        flash(_("已发布 %(name)s 第 %(v)s 版，自 %(d)s 起施行；此前新提交的申报仍按已生效的版本核对。",
                name=published.name.zh, v=published.version, d=published.effective_from.isoformat()), "success")
    elif imported:
        flash(_("已导入并发布 %(name)s 第 %(v)s 版，立即生效。", name=published.name.zh, v=published.version),
              "success")
    else:
        flash(_("已发布 %(name)s 第 %(v)s 版，立即生效。", name=published.name.zh, v=published.version), "success")


@bp.get("/admin/standards/new")
@roles_required("administrator")
def new():
    """Start a standard: normally as a copy of an existing one (``?copy=`` preselects it), or from scratch."""
    standards = standards_store.latest_standards(_db())
    return render_template("standards/new.html", standards=standards, preselect=request.args.get("copy", ""),
                           preselect_version=small_int(request.args.get("version", "")),
                           drafts=standards_drafts.list_drafts(_db()))


@bp.post("/admin/standards/new")
@roles_required("administrator")
def create_draft():
    """Create a draft from a copy of a stored version (``copy`` = ``id`` or ``id@version``) or from scratch."""
    source_id, _at, version = request.form.get("copy", "").strip().partition("@")
    if request.form.get("start") == "blank" or not source_id:
        if request.form.get("start") != "blank":
            flash(_("请选择要复制的评价标准，或选择从空白开始。"), "warning")
            return redirect(url_for("standards.new"), 303)
        draft = standards_drafts.save_draft(_db(), draft_id=None, body=standards_form.new_document(), base=None,
                                            by_user_id=current_user.id, expected_lock=None)
        return redirect(url_for("standards.draft", draft_id=draft.id), 303)
    original = _get(source_id, small_int(version))
    doc = standards_form.document_of(original)
    doc["id"] = f"{original.id}-copy"[:80]
    doc["name"] = {"zh": f"{original.name.zh}（副本）", "en": f"{original.name.en} (copy)"}
    doc["effective_from"] = max(original.effective_from, china_today()).isoformat()
    draft = standards_drafts.save_draft(_db(), draft_id=None, body=doc, base=(original.id, original.version),
                                        by_user_id=current_user.id, expected_lock=None)
    flash(_("已复制“%(name)s”第 %(v)s 版为草稿：请修改编号、名称和需要变化的条件。", name=original.name.zh,
            v=original.version), "info")
    return redirect(url_for("standards.draft", draft_id=draft.id), 303)


@bp.route("/admin/standards/<standard_id>/edit", methods=["GET", "POST"])
@roles_required("administrator")
def edit(standard_id: str):
    """Revise the newest version in a draft (an open draft of this standard is reused, not duplicated)."""
    existing = _get(standard_id)
    for draft in standards_drafts.list_drafts(_db()):
        if draft.standard_id == standard_id and draft.base_id == standard_id:
            if request.method == "POST":
                flash(_("该标准已有未发布的修订草稿，已为您打开。"), "info")
            return redirect(url_for("standards.draft", draft_id=draft.id), 303)
    if request.method == "GET":
        return render_template("standards/start_revision.html", standard=existing)
    draft = standards_drafts.save_draft(_db(), draft_id=None, body=standards_form.document_of(existing),
                                        base=(existing.id, existing.version), by_user_id=current_user.id,
                                        expected_lock=None)
    return redirect(url_for("standards.draft", draft_id=draft.id), 303)


@bp.route("/admin/standards/drafts/<int:draft_id>", methods=["GET", "POST"])
@roles_required("administrator")
def draft(draft_id: int):
    """The structured editor on a draft: save, add or remove rows, preview on saved profiles, publish, discard.

    Every button saves what was typed first (a draft may be incomplete); the checks run on preview and publish
    and put each problem beside its input.
    """
    draft = _draft_or_404(draft_id)
    if request.method == "GET":
        return _render_editor(draft, dict(draft.body), [])
    action = request.form.get("action", "save")
    if action == "discard":
        standards_drafts.delete_draft(_db(), draft.id)
        flash(_("草稿已删除。"), "info")
        return redirect(url_for("standards.index"), 303)
    doc = standards_form.parse(request.form, existing_id=draft.standard_id if _revising(draft) else None)
    if action.startswith(("add:", "remove:")):
        standards_form.apply_row_edit(doc, action)
    try:
        draft = standards_drafts.save_draft(_db(), draft_id=draft.id, body=doc,
                                            base=(draft.base_id, draft.base_version) if draft.base_id else None,
                                            by_user_id=current_user.id,
                                            expected_lock=small_int(request.form.get("lock", "")))
    except WorkflowError as err:
        # The input stays on the page with the lock it was typed against, so saving again cannot silently
        # overwrite the other administrator's change either.
        typed_against = replace(draft, lock_version=small_int(request.form.get("lock", "")) or 0)
        return _render_editor(typed_against, doc, [], status=err.status, notice=err.message(_lang()))
    if action.startswith(("add:", "remove:")) or action == "save":
        if action == "save":
            flash(_("草稿已保存（尚未发布）。"), "success")
        anchor = "f-" + action.partition(":")[2].replace(".", "-") if ":" in action else None
        return redirect(url_for("standards.draft", draft_id=draft.id, _anchor=anchor), 303)
    if action == "find":  # look up applicants for the preview; the draft was saved above
        return _render_editor(draft, doc, [])
    standard, problems = check_standard({**doc, "version": 1})
    if standard is None:
        return _render_editor(draft, doc, problems, status=422)
    if action == "preview":
        rows, problem = _preview_rows(standard, _current_for(draft))
        return _render_editor(draft, doc, [], preview_rows=rows, preview_problem=problem)
    if action != "publish":
        abort(400)
    with _db().read() as conn:
        newest = standards_store.latest_version(conn, standard.id)
        stored = standards_store.get_standard(conn, standard.id, newest) if newest else None
    if not _revising(draft) and stored is not None:
        problems = [FieldProblem("id", f"标准编号 {standard.id} 已被“{stored.name.zh}”使用，请换一个编号",
                                 f"The id {standard.id} is taken by “{stored.name.en}”; choose another")]
        return _render_editor(draft, doc, problems, status=409)
    if stored is not None and stored == standard.model_copy(update={"version": stored.version}):
        return _render_editor(draft, doc, [], status=409, notice=_("内容与当前版本相同，无需发布新版本。"))
    try:
        published = standards_drafts.publish_draft(_db(), draft.id, standard, by_user_id=current_user.id,
                                                   expected_lock=draft.lock_version)
    except WorkflowError as err:
        return _render_editor(draft, doc, [], status=err.status, notice=err.message(_lang()))
    _flash_published(published)
    return redirect(url_for("standards.show", standard_id=published.id, version=published.version), 303)


@bp.route("/admin/standards/import", methods=["GET", "POST"])
@roles_required("administrator")
def import_yaml():
    """Import a standard from YAML (upload or paste): validated, then published as the next version of its id."""
    text, errors, status = "", [], 200
    if request.method == "POST":
        upload = request.files.get("file")
        source = "<import>"
        if upload is not None and upload.filename:
            try:
                text = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                errors, status = [_("文件须为 UTF-8 编码的 YAML。")], 422
            source = upload.filename
        else:
            text = request.form.get("yaml_text", "")
        if not errors:
            if not text.strip():
                errors, status = [_("请上传 YAML 文件或粘贴 YAML 内容。")], 422
            else:
                try:
                    standard = parse_standard(text, source)
                except DefinitionError as err:
                    errors, status = str(err).splitlines(), 422
                else:
                    with _db().read() as conn:
                        newest = standards_store.latest_version(conn, standard.id)
                        current = standards_store.get_standard(conn, standard.id, newest) if newest else None
                    if current is not None and current == standard.model_copy(update={"version": newest}):
                        errors, status = [_("内容没有变化，无需发布新版本。")], 409
                        return render_template("standards/import.html", text=text, errors=errors), status
                    published = standards_store.publish(_db(), standard, by_user_id=current_user.id)
                    _flash_published(published, imported=True)
                    return redirect(url_for("standards.show", standard_id=published.id,
                                            version=published.version), 303)
    return render_template("standards/import.html", text=text, errors=errors), status


# --------------------------------------------------------------------------------------------- applicant


@bp.get("/applicant/precheck")
@roles_required("applicant")
def precheck():
    """The applicant's own profile checked against a standard before submission (nothing is stored), with
    the waivers of the chosen session and channel, route by route."""
    # The version each standard has in force today: the one a submission today would be judged by.
    standards = {s.id: s for s in standards_store.standards_in_force(_db(), china_today())}
    chosen = standards.get(request.args.get("standard_id", ""))
    route = request.args.get("route", "normal")
    if route not in {r.value for r in Route}:
        route = "normal"
    sessions = standards_store.open_sessions(_db())  # the pre-check applies their waivers
    session_id = small_int(request.args.get("session_id", ""))
    if session_id not in {s["id"] for s in sessions}:
        session_id = None
    report, problem = None, None
    if session_id is not None:
        # A session's pre-check offers what an application to it could choose: the standards it accepts.
        accepted = next(s["standard_ids"] or [] for s in sessions if s["id"] == session_id)
        standards = {sid: x for sid, x in standards.items() if sid in accepted}
        if chosen is not None and chosen.id not in standards:
            chosen, problem = None, _("所选评审会不受理该评价标准，请改选评价标准或评审会。")
    if chosen is not None:
        profile = profile_store.stored_profile(_db(), current_user.id)
        relaxations, pipeline_id = relaxations_for_channel(_db(), session_id, route)
        if profile is None:
            problem = _("请先填写个人信息（学历、职称、工作经历、业绩成果等），系统据此核对申报条件。")
        elif pipeline_id is None:
            problem = _("所选评审会不受理该申报途径，请改选评审会或申报途径。")
        else:
            report, problem = _evaluate(chosen, profile, route, china_today().isoformat(), relaxations)
    return render_template("standards/precheck.html", standards=standards, chosen=chosen, route=route,
                           routes=_routes(), report=report, problem=problem, sessions=sessions,
                           session_id=session_id)
