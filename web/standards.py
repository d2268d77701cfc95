"""Occupation standards (评价标准) in the web UI: the administrators' editor and the applicants' pre-check.

Administrators list the newest version of every standard, read any version with every requirement's
provenance ([S]/[R]/[C]) and source, create one from scratch or as a copy, edit it (scalar fields as inputs, each
criteria layer as a YAML block checked by the same loader as the seed files), preview it against a sample
profile, publish it as a new version, and export or import it as YAML. Publishing writes a new stored version
(:func:`workflow.standards_store.publish`); every process reads the newest version from the database, so it is in
force everywhere at once. Applicants check their stored profile against any standard before they submit.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import yaml
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from workflow import standards_store
from workflow.eligibility import EligibilityInputError, Relaxations, Route, evaluate
from workflow.eligibility_gate import relaxations_for_channel
from workflow.models import ApplicantProfile, ReviewSession, StandardVersion, User, UserRole
from workflow.profiles import TitleLevel
from workflow.standards import Standard, _Dumper, _line, dump_standard_yaml, parse_standard, standard_from_data
from workflow.yamlsource import DefinitionError, load_yaml

from .i18n import current_lang
from .security import roles_required, small_int

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
"""The criteria layers, each edited as one YAML block (in the order of rules.md §5)."""

SCALARS = ["id", "name_zh", "name_en", "series", "specialty", "level", "title", "effective_from",
           "effective_until", "source", "notes_zh", "notes_en"]
"""The editor's plain inputs (``name_zh`` stands for ``name.zh``)."""

SKELETON: dict[str, Any] = {
    "basic": {
        "not_retired": {"tag": "R", "source": "职称评审面向在职专业技术人员，退休人员不得申报"},
        "no_sanction": {"tag": "R", "source": "受到处分的，在影响期内不得申报职称评审"},
        "no_integrity_record": {"tag": "S", "source": "弄虚作假取得职称的，撤销职称并记入诚信档案，纪录期限3年"},
    },
    "education_routes": [{
        "id": "bachelor",
        "label": {"zh": "具备大学本科及以上学历，从事本专业工作满5年", "en": "Bachelor's degree, 5 years"},
        "min_education": "本科",
        "specialty_years": {"value": 5, "tag": "C", "source": "本系统默认值：从事本专业技术工作满5年（请按政策修改）"},
    }],
    "achievements": {
        "kinds": ["patent_invention", "patent_utility", "software_copyright", "standard_drafted", "key_project",
                  "technical_breakthrough", "new_product", "economic_benefit"],
        "k": {"value": 1, "tag": "C", "source": "本系统默认值：业绩成果具备其中1项"},
    },
    "representative_works": {
        "kinds": ["patent", "project_report", "design_document", "standard", "technical_document"],
        "min_count": {"value": 1, "tag": "C", "source": "本系统默认值：提交代表作1件"},
        "technical_document_min_chars": {"value": 5000, "tag": "S",
                                         "source": "代表作可为经单位认定的不少于5000字的技术文档"},
    },
}
"""What a standard created from scratch starts with: the basic conditions and the usual evidence layers."""


def _db():
    return current_app.extensions["titlereview_db"]


# --------------------------------------------------------------------------------------------- helpers


def _section_yaml(value: Any) -> str:
    if value is None:
        return ""
    return yaml.dump(value, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100_000)


def _tokens(path: str) -> list[str | int]:
    """``a.b[0].c`` → ``["a", "b", 0, "c"]``."""
    out: list[str | int] = []
    for part in path.split("."):
        name, *indexes = part.split("[")
        if name:
            out.append(name)
        out.extend(n for i in indexes if (n := small_int(i.rstrip("]"))) is not None)
    return out


def _sourced_rows(data: Any, path: str = "") -> list[dict[str, str]]:
    """Every sourced requirement (``{value?, tag, source}``) in JSON-shaped ``data``, with its path."""
    rows: list[dict[str, str]] = []
    if isinstance(data, dict):
        if "tag" in data and "source" in data:
            value = data.get("value")
            rows.append({"path": path, "has_value": "1" if "value" in data else "",
                         "value": "" if value is None else str(value), "tag": str(data["tag"]),
                         "source": str(data["source"])})
        for key, item in data.items():
            if isinstance(item, dict | list):
                rows.extend(_sourced_rows(item, f"{path}.{key}" if path else str(key)))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            rows.extend(_sourced_rows(item, f"{path}[{i}]"))
    return rows


def _threshold_rows(data: dict[str, Any]) -> list[dict[str, str]]:
    rows = [r for key, _label in SECTIONS for r in _sourced_rows(data.get(key), key)]
    for row in rows:
        row.update(o_value=row["value"], o_tag=row["tag"], o_source=row["source"])
    return rows


def _posted_rows() -> list[dict[str, str]]:
    form = request.form
    try:
        count = min(int(form.get("t-count", "0")), 500)
    except ValueError:
        count = 0
    keys = ("path", "has_value", "value", "tag", "source", "o_value", "o_tag", "o_source")
    return [{k: form.get(f"t-{i}-{k}", "") for k in keys} for i in range(count)]


def _apply_rows(parsed: dict[str, Any], rows: list[dict[str, str]], errors: dict[str, list[str]]) -> None:
    """Apply the changed threshold inputs to the parsed sections (an input left as it was never overrides the
    YAML, so an edit made in the YAML block is kept)."""
    for i, row in enumerate(rows):
        tokens = _tokens(row["path"])
        node: Any = parsed
        for token in tokens:
            try:
                node = node[token]
            except (KeyError, IndexError, TypeError):
                node = None
                break
        if not isinstance(node, dict):
            continue
        if row["has_value"] and row["value"].strip() != row["o_value"]:
            number = small_int(row["value"])
            if number is None:
                errors.setdefault(f"t-{i}", []).append(_("数值须为非负整数。"))
            else:
                node["value"] = number
        for key in ("tag", "source"):
            if row[key].strip() != row[f"o_{key}"]:
                node[key] = row[key].strip()


def _values_of(standard: Standard | None, skeleton: bool = False) -> dict[str, Any]:
    """The editor's inputs for ``standard`` (blank, or the skeleton for a standard made from scratch)."""
    if standard is None:
        values = {k: "" for k in SCALARS}
        values.update(series="工程", level=TitleLevel.INTERMEDIATE.value, effective_from=date.today().isoformat())
        for key, _label in SECTIONS:
            values[key] = _section_yaml(SKELETON.get(key)) if skeleton else ""
        values["thresholds"] = _threshold_rows(SKELETON if skeleton else {})
        return values
    data = standard.model_dump(mode="json", exclude_defaults=True)
    values = {k: "" for k in SCALARS}
    for key in ("id", "series", "specialty", "level", "title", "effective_from", "source"):
        values[key] = str(data.get(key) or "")
    values["effective_until"] = data.get("effective_until") or ""
    values["name_zh"], values["name_en"] = standard.name.zh, standard.name.en
    if standard.notes is not None:
        values["notes_zh"], values["notes_en"] = standard.notes.zh, standard.notes.en
    for key, _label in SECTIONS:
        values[key] = _section_yaml(data.get(key))
    values["thresholds"] = _threshold_rows(data)
    return values


def _field_for(path: str) -> str:
    """The editor input to blame for an error at dotted ``path``."""
    head = path.split(".")[0]
    if head in ("name", "notes"):
        tail = path.split(".")[1] if "." in path else "zh"
        return f"{head}_{tail}" if tail in ("zh", "en") else f"{head}_zh"
    if head in SCALARS or head in dict(SECTIONS):
        return head
    return "_form"


def _loc(path: str) -> tuple[Any, ...]:
    return tuple(n if (n := small_int(p)) is not None else p for p in path.split("."))


def _build(values: dict[str, Any], version: int) -> tuple[Standard | None, dict[str, list[str]]]:
    """The standard the inputs describe, or the problems found, by input (``file:line``-style for YAML blocks)."""
    errors: dict[str, list[str]] = {}
    raw: dict[str, Any] = {"id": values["id"].strip(), "version": version,
                           "name": {"zh": values["name_zh"].strip(), "en": values["name_en"].strip()}}
    for key in ("series", "specialty", "level", "title", "effective_from", "source"):
        raw[key] = values[key].strip()
    if values["effective_until"].strip():
        raw["effective_until"] = values["effective_until"].strip()
    if values["notes_zh"].strip() or values["notes_en"].strip():
        raw["notes"] = {"zh": values["notes_zh"].strip(), "en": values["notes_en"].strip()}
    for key in ("effective_from", "effective_until"):
        if raw.get(key):
            try:
                date.fromisoformat(raw[key])
            except ValueError:
                errors.setdefault(key, []).append(_("日期格式应为 YYYY-MM-DD。"))
    parsed: dict[str, Any] = {}
    for key, _label in SECTIONS:
        text = values[key]
        if not text.strip():
            continue
        try:
            section = load_yaml(text, key)
        except DefinitionError as err:
            errors.setdefault(key, []).extend(str(err).splitlines())
            continue
        if section is not None:
            parsed[key] = raw[key] = section
    _apply_rows(parsed, values.get("thresholds") or [], errors)
    if errors:
        return None, errors
    try:
        return standard_from_data(raw, "<standard>"), {}
    except DefinitionError as err:
        for problem in err.problems:
            path, _sep, _msg = problem.message.partition(": ")
            field = _field_for(path)
            loc = _loc(path)
            if field in parsed and len(loc) > 1:
                line = _line(parsed[field], loc[1:]) or getattr(parsed[field], "line", 0)
                text = f"{field}:{line}: {problem.message}" if line else f"{field}: {problem.message}"
            else:
                text = problem.message
            errors.setdefault(field, []).append(text)
        return None, errors


def _posted_values() -> dict[str, Any]:
    keys = SCALARS + [k for k, _label in SECTIONS]
    values: dict[str, Any] = {k: request.form.get(k, "") for k in keys}
    values["thresholds"] = _posted_rows()
    return values


def _applicants() -> list[dict[str, Any]]:
    """Applicants who have stored a profile (for the preview's sample-profile list)."""
    u, p, r = User.__table__, ApplicantProfile.__table__, UserRole.__table__
    with _db().read() as conn:
        rows = conn.execute(select(u.c.id, u.c.username, u.c.display_name).join(p, p.c.user_id == u.c.id)
                            .join(r, r.c.user_id == u.c.id).where(r.c.role == "applicant").order_by(u.c.id))
        return [dict(row._mapping) for row in rows]


def _stored_profile(user_id: int) -> dict[str, Any] | None:
    p = ApplicantProfile.__table__
    with _db().read() as conn:
        body = conn.execute(select(p.c.body).where(p.c.user_id == user_id)).scalar()
    if isinstance(body, str):
        body = json.loads(body)
    return body or None


def _preview_inputs() -> dict[str, str]:
    form = request.form if request.method == "POST" else request.args
    return {"profile_user": form.get("profile_user", ""), "profile_text": form.get("profile_text", ""),
            "route": form.get("route", "normal"), "as_of": form.get("as_of", "") or date.today().isoformat()}


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
        profile = _stored_profile(small_int(inputs["profile_user"]))
        if profile is None:
            return None, _("该申报人尚未填写个人信息。")
    else:
        return None, _("请选择申报人的个人信息，或粘贴样例个人信息。")
    return _evaluate(standard, profile, inputs["route"], inputs["as_of"])


def _history(standard_id: str) -> list[dict[str, Any]]:
    sv, u = StandardVersion.__table__, User.__table__
    with _db().read() as conn:
        rows = conn.execute(select(sv.c.version, sv.c.name, sv.c.published_at, u.c.display_name)
                            .outerjoin(u, u.c.id == sv.c.published_by)
                            .where(sv.c.standard_id == standard_id).order_by(sv.c.version.desc()))
        return [dict(row._mapping) for row in rows]


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
    """The newest version of every standard, with series, level, title and effective period."""
    return render_template("standards/index.html", standards=standards_store.latest_standards(_db()),
                           today=date.today())


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
                           section_yaml=_section_yaml)


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
                           problem=problem, applicants=_applicants(), routes=_routes()), status


def _editor(existing: Standard | None, values: dict[str, Any], title: str, mode: str):
    """Show the editor; on POST preview (no write) or publish a new version."""
    status, errors, report, problem = 200, {}, None, None
    inputs = _preview_inputs()
    if request.method == "POST":
        values = _posted_values()
        if existing is not None:
            values["id"] = existing.id  # an id never changes: cases refer to it
        standard, errors = _build(values, existing.version if existing else 1)
        if standard is None:
            status = 422
        elif request.form.get("action") == "publish":
            with _db().read() as conn:
                taken = standards_store.latest_version(conn, standard.id)
            if existing is None and taken is not None:
                errors = {"id": [_("标准编号 %(id)s 已存在：请修改该标准，或换一个编号。", id=standard.id)]}
                status = 409
            elif existing is not None and standard == existing.model_copy(update={"version": standard.version}):
                errors = {"_form": [_("内容没有变化，无需发布新版本。")]}
                status = 409
            else:
                published = standards_store.publish(_db(), standard, by_user_id=current_user.id)
                flash(_("已发布 %(name)s 第 %(v)s 版，立即生效。", name=published.name.zh, v=published.version),
                      "success")
                return redirect(url_for("standards.show", standard_id=published.id, version=published.version), 303)
        else:
            report, problem = _preview(standard, inputs)
            values = {**_values_of(standard), "id": values["id"]}
    return render_template("standards/edit.html", values=values, errors=errors, existing=existing, title=title,
                           mode=mode, sections=SECTIONS, levels=[lv.value for lv in TitleLevel], report=report,
                           problem=problem, inputs=inputs, applicants=_applicants(), routes=_routes()), status


@bp.route("/admin/standards/new", methods=["GET", "POST"])
@roles_required("administrator")
def new():
    """Create a standard from scratch (e.g. for a new occupation) or as a copy of an existing one (``?copy=``)."""
    source_id = request.args.get("copy", "")
    values = _values_of(None, skeleton=True)
    title = _("新建评价标准")
    if source_id:
        version = request.args.get("version", "")
        original = _get(source_id, small_int(version))
        values = _values_of(original)
        values["id"] = f"{original.id}-copy"[:80]
        values["name_zh"] = f"{original.name.zh}（副本）"
        values["name_en"] = f"{original.name.en} (copy)"
        title = _("复制评价标准：%(name)s", name=original.name.zh)
    return _editor(None, values, title, "copy" if source_id else "new")


@bp.route("/admin/standards/<standard_id>/edit", methods=["GET", "POST"])
@roles_required("administrator")
def edit(standard_id: str):
    """Edit the newest version; publishing stores the next version (earlier ones stay readable)."""
    existing = _get(standard_id)
    return _editor(existing, _values_of(existing), _("修订评价标准：%(name)s", name=existing.name.zh), "edit")


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
                    flash(_("已导入并发布 %(name)s 第 %(v)s 版，立即生效。", name=published.name.zh,
                            v=published.version), "success")
                    return redirect(url_for("standards.show", standard_id=published.id,
                                            version=published.version), 303)
    return render_template("standards/import.html", text=text, errors=errors), status


# --------------------------------------------------------------------------------------------- applicant


def _open_sessions() -> list[dict[str, Any]]:
    """Sessions open for applications, newest first (the pre-check applies their waivers)."""
    rs = ReviewSession.__table__
    with _db().read() as conn:
        rows = conn.execute(select(rs.c.id, rs.c.name, rs.c.name_en, rs.c.standard_ids).where(rs.c.status == "open")
                            .order_by(rs.c.id.desc()))
        return [dict(row._mapping) for row in rows]


@bp.get("/applicant/precheck")
@roles_required("applicant")
def precheck():
    """The applicant's own profile checked against a standard before submission (nothing is stored), with
    the waivers of the chosen session and channel, route by route."""
    standards = {s.id: s for s in standards_store.latest_standards(_db()) if s.in_force(date.today())}
    chosen = standards.get(request.args.get("standard_id", ""))
    route = request.args.get("route", "normal")
    if route not in {r.value for r in Route}:
        route = "normal"
    sessions = _open_sessions()
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
        profile = _stored_profile(current_user.id)
        relaxations, pipeline_id = relaxations_for_channel(_db(), session_id, route)
        if profile is None:
            problem = _("请先填写个人信息（学历、职称、工作经历、业绩成果等），系统据此核对申报条件。")
        elif pipeline_id is None:
            problem = _("所选评审会不受理该申报途径，请改选评审会或申报途径。")
        else:
            report, problem = _evaluate(chosen, profile, route, date.today().isoformat(), relaxations)
    return render_template("standards/precheck.html", standards=standards, chosen=chosen, route=route,
                           routes=_routes(), report=report, problem=problem, sessions=sessions,
                           session_id=session_id)
