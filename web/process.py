"""The live process view (as in Camunda Cockpit): each pipeline version's diagram with the number of cases in
every state, and the list of the cases in any one state.

Authority officers see the submitted cases of their own authority, administrators every case (see
:class:`workflow.access.visibility.VisibleCases`); every number on these pages is counted in the same scope as the
lists they link to, so a badge saying 3 opens a list of 3.
"""

from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from workflow.access.visibility import VisibleCases
from workflow.models import utcnow
from workflow.pipeline.catalog import UnknownPipeline, get_pipeline
from workflow.pipeline.schema import Pipeline
from workflow.records import process_view
from workflow.records.spreadsheet import XLSX_MIMETYPE, Sheet, safe_filename, workbook_bytes
from workflow.time.calendar import CHINA_TZ
from workflow.time.workdays import calendar_from_db

from .diagram import live_svg
from .errors import render_error
from .extensions import get_db
from .i18n import beijing, current_lang, label
from .security import roles_required, small_int, visible_scope

bp = Blueprint("process", __name__, url_prefix="/reports/process")

VIEW_ROLES = ("authority_officer", "administrator")
"""Who may open the process view."""


def reader_scope() -> VisibleCases:
    """The cases the signed-in reader may count: the one scope of every listing (all for an administrator,
    else their authority's submitted ones)."""
    with get_db().read() as conn:
        return visible_scope(conn)


def _pipeline_or_404(pipeline_id: str, version: int) -> Pipeline:
    """The stored definition of (pipeline, version), loaded as the engine loads it; 404 when there is none."""
    if version > process_view.MAX_VERSION or len(pipeline_id) > 60:
        abort(404)  # could never be stored; checked before the database sees an out-of-range number
    try:
        return get_pipeline(get_db(), pipeline_id, version)
    except UnknownPipeline:
        abort(404)


@bp.get("/")
@roles_required(*VIEW_ROLES)
def index():
    """Every pipeline version in use or stored, with its open and closed case counts."""
    db = get_db()
    rows = []
    for v in process_view.versions_overview(db, reader_scope()):
        name = v.pipeline_id
        if v.stored:
            name = label(get_pipeline(db, v.pipeline_id, v.version).label)
        rows.append({"counts": v, "name": name})
    return render_template("process/index.html", rows=rows, scoped=not current_user.has("administrator"),
                           org_name=current_user.org_name)


@bp.get("/<pipeline_id>/<int:version>")
@roles_required(*VIEW_ROLES)
def version(pipeline_id: str, version: int):
    """The diagram of one version with the live count on every state, and the same numbers as a table."""
    pipeline = _pipeline_or_404(pipeline_id, version)
    db = get_db()
    with db.read() as conn:
        counts = process_view.state_counts(conn, pipeline_id, version, visible_scope(conn))
    hrefs = {s.name: url_for("process.state_cases", pipeline_id=pipeline_id, version=version, state=s.name)
             for s in pipeline.states}
    states = [{"name": s.name, "label": label(s.label), "final": s.final, "count": counts.get(s.name, 0),
               "href": hrefs[s.name]} for s in pipeline.states]
    total = sum(counts.values())
    closed = sum(n for state, n in counts.items() if state in pipeline.finals)
    # Every label and URL inside the SVG is escaped by the renderer, so the markup is safe to insert as is.
    svg = Markup(live_svg(pipeline, counts, hrefs, "en" if current_lang() == "en" else "zh_CN"))
    return render_template("process/version.html", pipeline=pipeline, pipeline_name=label(pipeline.label),
                           states=states, total=total, closed=closed, open=total - closed, diagram=svg,
                           scoped=not current_user.has("administrator"), org_name=current_user.org_name)


def _requested_page() -> int | None:
    """The ``page`` query parameter as a positive number (1 when absent), None when it is not one."""
    raw = request.args.get("page")
    if raw is None or raw == "":
        return 1
    value = small_int(raw, digits=6)
    return value if value else None


@bp.get("/<pipeline_id>/<int:version>/<state>")
@roles_required(*VIEW_ROLES)
def state_cases(pipeline_id: str, version: int, state: str):
    """The cases waiting in one state, longest waiting first, paginated; ``?format=xlsx`` downloads them all."""
    pipeline = _pipeline_or_404(pipeline_id, version)
    if state not in pipeline.state_map:
        abort(404)
    fmt = request.args.get("format", "html")
    if fmt not in ("html", "xlsx"):
        return render_error(400, _("不支持的导出格式：仅支持 xlsx。"))
    page_number = _requested_page()
    if page_number is None:
        return render_error(400, _("页码无效：页码须为正整数。"))
    db = get_db()
    per_page = None if fmt == "xlsx" else current_app.config["PER_PAGE"]
    with db.read() as conn:
        page = process_view.cases_in_state(conn, pipeline_id, version, state, visible_scope(conn),
                                           page=1 if fmt == "xlsx" else page_number, per_page=per_page)
        calendar = calendar_from_db(conn)
    today = utcnow().astimezone(CHINA_TZ).date()
    for row in page.rows:
        row["working_days"] = process_view.working_days_in_state(calendar, row["state_entered_at"], today)
        if current_lang() == "en" and row["session_name_en"]:
            row["session_name"] = row["session_name_en"]
    state_label = label(pipeline.state_map[state].label)
    if fmt == "xlsx":
        return _xlsx(pipeline, state, state_label, page.rows, today)
    if page_number > page.pages:
        return render_error(400, _("页码超出范围：共 %(pages)s 页。", pages=page.pages))
    return render_template("process/state.html", pipeline=pipeline, pipeline_name=label(pipeline.label),
                           state=state, state_label=state_label, final=pipeline.state_map[state].final,
                           page=page, scoped=not current_user.has("administrator"), org_name=current_user.org_name)


def _xlsx(pipeline: Pipeline, state: str, state_label: str, rows: list[dict], today):
    """Every case of the list as one worksheet (times in Beijing time, working days as numbers)."""
    headers = [_("申报编号"), _("申报人"), _("推荐单位"), _("申报职称"), _("评审会"),
               _("进入本环节时间（北京时间）"), _("在本环节工作日")]
    data = [[r["reference"], r["applicant_name"], r["unit_name"], r["target_title"], r["session_name"] or "",
             beijing(r["state_entered_at"]), r["working_days"]] for r in rows]
    title = f"{label(pipeline.label)} v{pipeline.version} {state_label}"
    content = workbook_bytes([Sheet(title=title, headers=headers, rows=data, widths=(22, 14, 30, 24, 34, 22, 14))])
    name = safe_filename(f"process-{pipeline.id}-v{pipeline.version}-{state}", today)
    return send_file(io.BytesIO(content), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=name)
