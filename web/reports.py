"""Reports for authority officers and administrators, and the Excel export of the main listings.

``/reports/`` shows cases per stage, pass rates, time in state (working days) and the longest waits, as
tables with server-rendered SVG bar charts (no script, no CDN: the CSP allows neither). Adding
``?format=xlsx`` downloads the same figures as a workbook with typed cells. The ``/reports/export/…`` routes
download the listings (work queues, certificate register, own cases, administration lists) as .xlsx; each
checks the same role and scope as the page it belongs to.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape

from workflow import administration as admin_ops
from workflow.access.roles import ROLES
from workflow.access.visibility import VisibleCases
from workflow.models import utcnow
from workflow.pipeline.catalog import latest_versions
from workflow.pipeline.stages import stage_catalogue
from workflow.records import queries
from workflow.records import reports as rep
from workflow.records.spreadsheet import XLSX_MIMETYPE, Sheet, safe_filename, workbook_bytes
from workflow.time.calendar import CHINA_TZ

from .extensions import get_db
from .i18n import label
from .inbox import pick_tab, tabs_for
from .security import roles_required, visible_scope
from .templating import pipeline_label, state_label

bp = Blueprint("reports", __name__, url_prefix="/reports")

FILTER_ARGS = ("session", "pipeline", "from", "to")
"""Query parameters of the report filters (carried over to the download link)."""

MIN_YEAR, MAX_YEAR = 1990, 2999
"""Dates a report filter accepts."""

EXPORT_LIMIT = 20000
"""Most rows a listing export holds (a listing page shows 50; a whole authority's year is a few thousand)."""

FIRM_LABELS = {"little_giant": _l("专精特新“小巨人”"), "specialised": _l("专精特新"), "other": _l("其他企业")}
DIMENSION_LABELS = {"session": _l("评审会"), "series": _l("系列"), "level": _l("级别"), "pipeline": _l("流程"),
                    "firm_type": _l("企业类型")}


def _db():
    return get_db()


def _now() -> datetime:
    """The report clock: ``REPORTS_NOW`` when configured (reproducible figures in tests), else the present."""
    fixed = current_app.config.get("REPORTS_NOW")
    return fixed if isinstance(fixed, datetime) else utcnow()


def _today() -> date:
    return _now().astimezone(CHINA_TZ).date()


# --------------------------------------------------------------------------------------------- downloads


def xlsx_response(sheets: Sequence[Sheet], stem: str, title: str) -> Response:
    """The workbook as a download: an ASCII ``filename`` and the Chinese (translated) name in ``filename*``."""
    today = _today()
    ascii_name = safe_filename(stem, today)
    readable = f"{title}-{today.isoformat()}.xlsx".replace("/", "-").replace("\\", "-")
    response = Response(workbook_bytes(sheets), mimetype=XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(readable, safe='')}")
    response.headers["Cache-Control"] = "no-store"
    return response


class FilterError(ValueError):
    """A report filter the user typed or picked cannot be used; the message is for the user."""


def _scope() -> VisibleCases:
    """The cases the reader may see: the reports count exactly those (every case for an administrator)."""
    with _db().read() as conn:
        return visible_scope(conn)


def _visible_sessions(scope: VisibleCases) -> list[dict[str, Any]]:
    """The sessions a report may be narrowed to: every one for an administrator, else the officer's
    authority's."""
    with _db().read() as conn:
        return rep.report_sessions(conn, scope, current_user.org_id or -1)


def _parse_date(raw: str, what: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise FilterError(_("%(what)s“%(raw)s”不是有效日期，请按 YYYY-MM-DD 填写。", what=what, raw=raw[:20])) from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        # Year 1 or 9999 would overflow when converted to UTC instants; no case is that old or that new.
        raise FilterError(_("%(what)s须在 %(a)s 年至 %(b)s 年之间。", what=what, a=MIN_YEAR, b=MAX_YEAR))
    return value


def _parse_filter(sessions: list[dict[str, Any]], pipelines: Sequence[str]) -> rep.ReportFilter:
    """The filter from the query string; anything unknown or malformed raises :class:`FilterError`."""
    args = request.args
    session_id = None
    raw_session = args.get("session", "").strip()
    if raw_session:
        known = {str(s["id"]): s["id"] for s in sessions}
        if raw_session not in known:
            raise FilterError(_("所选评审会不存在或不在您的管辖范围内。"))
        session_id = known[raw_session]
    pipeline_id = args.get("pipeline", "").strip() or None
    if pipeline_id is not None and pipeline_id not in pipelines:
        raise FilterError(_("所选流程不存在。"))
    date_from = _parse_date(args.get("from", ""), _("起始日期"))
    date_to = _parse_date(args.get("to", ""), _("截止日期"))
    if date_from and date_to and date_from > date_to:
        raise FilterError(_("起始日期不能晚于截止日期。"))
    return rep.ReportFilter(session_id=session_id, pipeline_id=pipeline_id, date_from=date_from, date_to=date_to)


# --------------------------------------------------------------------------------------------- charts


_LABEL_CHARS = 14  # CJK characters that fit in the chart's label column at 12 px


def bar_chart(items: Sequence[tuple[str, float, str]], *, title: str, series: Sequence[str] = (),
              values2: Sequence[float | None] = ()) -> Markup:
    """A horizontal bar chart as inline SVG: one row per (label, value, text); optional second bar per row.

    Colours and sizes are SVG attributes, not CSS, so the page's strict CSP (no inline styles) allows it.
    """
    label_w, bar_w, row_h = 190, 380, 30 if values2 else 24
    top = 22 if series else 4
    height = top + row_h * len(items) + 4
    peak = max([v for _, v, _ in items] + [v for v in values2 if v is not None] + [0.0]) or 1.0
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" width="100%" '
             f'viewBox="0 0 {label_w + bar_w + 90} {height}" role="img" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>"]
    for i, name in enumerate(series):
        colour = "#1f5fa8" if i == 0 else "#9dbfe6"
        x = label_w + i * 120
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{x + 16}" y="14" font-size="12">{escape(name)}</text>')
    for i, (name, value, text) in enumerate(items):
        y = top + i * row_h
        width = max(0.0, round(bar_w * value / peak, 1))  # a negative value (clock skew in data) draws no bar
        # Long names (a session's full title) are shortened to fit; the whole name stays in a tooltip.
        shown = name if len(name) <= _LABEL_CHARS else name[: _LABEL_CHARS - 1] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" font-size="12" text-anchor="end">'
                     f"<title>{escape(name)}</title>{escape(shown)}</text>")
        thick = 12 if values2 else 18
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{width}" height="{thick}" fill="#1f5fa8"/>')
        parts.append(f'<text x="{label_w + width + 4}" y="{y + 14}" font-size="11">{escape(text)}</text>')
        if values2:
            second = values2[i]
            if second is not None:
                w2 = max(0.0, round(bar_w * second / peak, 1))
                parts.append(f'<rect x="{label_w}" y="{y + 15}" width="{w2}" height="{thick}" fill="#9dbfe6"/>')
                parts.append(f'<text x="{label_w + w2 + 4}" y="{y + 26}" font-size="11">{second:.2f}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


# --------------------------------------------------------------------------------------------- presentation


def _rate_key_label(dimension: str, row: dict[str, Any]) -> str:
    key = row["key"]
    if dimension == "session":
        return f"{row['code']} {row['name']}" if row.get("code") else _("（无评审会）")
    if dimension == "pipeline":
        return pipeline_label(key)
    if dimension == "firm_type":
        return str(FIRM_LABELS.get(key, key))
    return key or _("（未填）")


def _roles_text(roles: Sequence[str]) -> str:
    return "、".join(label(ROLES.get(r, {"zh": r, "en": r})) for r in roles) or _("（无）")


def _tables(report: rep.Report) -> dict[str, Any]:
    """The figures as displayed (rounded as on the page); the xlsx is built from the same values."""
    stages = [{"key": r.key, "label": label(r.label), "n": report.stages[r.key]}
              for r in stage_catalogue().report_stages]
    states = [{**r, "pipeline": pipeline_label(r["pipeline_id"], r["version"]),
               "label": state_label(r["pipeline_id"], r["version"], r["state"])} for r in report.states]
    rates = {d: [{**r, "label": _rate_key_label(d, r), "percent": round(100 * r["rate"], 1)} for r in rows]
             for d, rows in report.rates.items()}
    # States in the order of the pipeline definitions (submission first), not alphabetically.
    order = {name: i for i, name in enumerate(report.labels)}
    times = [{"state": r["state"], "label": label(report.labels.get(r["state"], r["state"])), "n": r["n"],
              "mean": round(r["mean"], 2), "p50": round(r["p50"], 2), "p90": round(r["p90"], 2)}
             for r in sorted(report.times, key=lambda r: (order.get(r["state"], len(order)), r["state"]))]
    waits = [{**r, "days": round(r["working_days"], 2), "pipeline": pipeline_label(r["pipeline_id"]),
              "label": state_label(r["pipeline_id"], r["pipeline_version"], r["state"]),
              "who": _roles_text(r["roles"])} for r in report.waits]
    return {"stages": stages, "states": states, "rates": rates, "times": times, "waits": waits}


def _sheets(t: dict[str, Any]) -> list[Sheet]:
    sheets = [
        Sheet(_("各阶段案件数"), [_("阶段"), _("案件数")], [(r["label"], r["n"]) for r in t["stages"]]),
        Sheet(_("各状态案件数"), [_("流程"), _("版本"), _("状态"), _("案件数")],
              [(r["pipeline"], r["version"], r["label"], r["n"]) for r in t["states"]]),
    ]
    for d in rep.DIMENSIONS:
        dim = str(DIMENSION_LABELS[d])
        sheets.append(Sheet(_("通过率（按%(dim)s）", dim=dim),
                            [dim, _("已决"), _("通过"), _("未通过"), _("取得证书"), _("通过率")],
                            [(r["label"], r["decided"], r["passed"], r["failed"], r["certificates"], r["rate"])
                             for r in t["rates"][d]], formats=(None, None, None, None, None, "0.0%")))
    sheets.append(Sheet(_("停留时间（工作日）"), [_("状态"), _("次数"), _("平均"), _("中位数"), _("P90")],
                        [(r["label"], r["n"], r["mean"], r["p50"], r["p90"]) for r in t["times"]],
                        formats=(None, None, "0.00", "0.00", "0.00")))
    sheets.append(Sheet(_("等待最久"), [_("案件编号"), _("申报人"), _("流程"), _("当前状态"), _("承办单位"),
                                       _("评审会"), _("进入本状态"), _("已等待（工作日）"), _("待办方")],
                        [(r["reference"], r["applicant"], r["pipeline"], r["label"], r["unit"], r["session"] or "",
                          r["entered"].astimezone(CHINA_TZ), r["days"], r["who"]) for r in t["waits"]],
                        widths=(18, 10, 16, 16, 28, 12, 18, 14, 16),
                        formats=(None, None, None, None, None, None, None, "0.00", None)))
    return sheets


@bp.get("/")
@roles_required("authority_officer", "administrator")
def index():
    """The reports page (or, with ``?format=xlsx``, the same figures as a workbook)."""
    fmt = request.args.get("format", "html")
    scope = _scope()
    sessions = _visible_sessions(scope)
    pipelines = sorted(latest_versions(_db()))
    try:
        if fmt not in ("html", "xlsx"):
            raise FilterError(_("不支持的导出格式。"))
        filt = _parse_filter(sessions, pipelines)
    except FilterError as err:
        # The page with the message, also for a download: whoever followed the link sees what to correct.
        return render_template("reports/index.html", error=str(err), sessions=sessions, pipelines=pipelines,
                               args=request.args, t=None), 400
    now = _now()
    report = rep.build_report(_db(), scope, filt, now)
    t = _tables(report)
    if fmt == "xlsx":
        return xlsx_response(_sheets(t), "reports", _("统计报表"))
    charts = {
        "stages": bar_chart([(r["label"], r["n"], str(r["n"])) for r in t["stages"]], title=_("各阶段案件数")),
        "rates": {d: bar_chart([(r["label"], r["percent"], f"{r['percent']:.1f}%（{r['passed']}/{r['decided']}）")
                                for r in rows], title=_("通过率（按%(dim)s）", dim=str(DIMENSION_LABELS[d])))
                  for d, rows in t["rates"].items() if rows},
        "times": bar_chart([(r["label"], r["p50"], f"{r['p50']:.2f}") for r in t["times"]],
                           title=_("各状态停留时间（工作日）"), series=(_("中位数"), _("P90")),
                           values2=[r["p90"] for r in t["times"]]) if t["times"] else None,
    }
    return render_template("reports/index.html", error=None, sessions=sessions, pipelines=pipelines,
                           args=request.args, t=t, charts=charts, now=now, dimension_labels=DIMENSION_LABELS,
                           xlsx_url=url_for("reports.index", format="xlsx",
                                            **{k: v for k in FILTER_ARGS if (v := request.args.get(k, "").strip())}))


# --------------------------------------------------------------------------------------------- listing exports


def _case_sheet(title: str, rows: Sequence[dict[str, Any]]) -> Sheet:
    """A case listing (the columns of the work queues) as a sheet."""
    return Sheet(title, [_("案件编号"), _("申报人"), _("申报职称"), _("级别"), _("专业"), _("流程"), _("状态"),
                         _("承办单位"), _("评审会"), _("提交时间"), _("进入本状态"), _("下一期限")],
                 [(r["reference"], r["applicant_name"], r["target_title"], r["level"], r["specialty"],
                   pipeline_label(r["pipeline_id"], r["pipeline_version"]),
                   state_label(r["pipeline_id"], r["pipeline_version"], r["state"]), r["unit_name"],
                   r["session_name"] or "", _local(r["submitted_at"]), _local(r["state_entered_at"]),
                   _local(r["next_due"])) for r in rows],
                 widths=(18, 10, 18, 8, 18, 16, 18, 28, 28, 18, 18, 18))


def _local(value: datetime | None) -> datetime | None:
    from workflow.models import as_utc

    return as_utc(value).astimezone(CHINA_TZ) if value is not None else None


def _queue_export(inbox: str, scope_kw: dict[str, Any], stem: str, title: str) -> Response:
    tabs = tabs_for(_db(), inbox)
    with _db().read() as conn:
        scope_kw = {**scope_kw, "visible": visible_scope(conn)}
        counts = queries.state_counts(conn, **scope_kw)
        tab = pick_tab(tabs, request.args.get("tab"), counts)
        page = queries.list_cases(conn, states=tab.states, submitted_only=True, search=request.args.get("q", ""),
                                  per_page=EXPORT_LIMIT, oldest_first=tab.actionable, **scope_kw)
    sheet_title = f"{title}-{tab.label}"
    return xlsx_response([_case_sheet(sheet_title, page.rows)], f"{stem}-{tab.key}", sheet_title)


@bp.get("/export/authority-inbox")
@roles_required("authority_officer")
def export_authority_inbox():
    """The authority's work queue (the tab and search of the page) as .xlsx."""
    return _queue_export("authority", {"authority_org_id": current_user.org_id or -1}, "authority-inbox",
                         _("职改办工作台"))


@bp.get("/export/unit-inbox")
@roles_required("unit_reviewer", "agency_reviewer")
def export_unit_inbox():
    """The unit's (or agency's) work queue as .xlsx."""
    return _queue_export("unit", {"unit_org_id": current_user.org_id or -1}, "unit-inbox", _("单位审核"))


@bp.get("/export/my-cases")
@roles_required("applicant")
def export_my_cases():
    """The applicant's own cases as .xlsx."""
    with _db().read() as conn:
        page = queries.list_cases(conn, visible=visible_scope(conn), applicant_id=current_user.id,
                                  per_page=EXPORT_LIMIT)
    return xlsx_response([_case_sheet(_("我的申报"), page.rows)], "my-cases", _("我的申报"))


@bp.get("/export/certificates")
@roles_required("authority_officer")
def export_certificates():
    """The authority's certificate register as .xlsx."""
    with _db().read() as conn:
        rows = queries.certificate_register(conn, current_user.org_id or -1, visible=visible_scope(conn),
                                            limit=EXPORT_LIMIT)
    status = {"valid": _("有效")}
    sheet = Sheet(_("证书登记簿"),
                  [_("证书编号"), _("持证人"), _("职称"), _("级别"), _("发证日期"), _("状态"), _("案件编号")],
                  [(r["number"], r["holder_name"], r["title"], r["level"], r["issued_on"],
                    status.get(r["status"], _("已撤销")), r["reference"]) for r in rows],
                  widths=(22, 10, 20, 8, 12, 8, 18))
    return xlsx_response([sheet], "certificates", _("证书登记簿"))


def _yes_no(value: Any) -> str:
    return _("是") if value else _("否")


@bp.get("/export/users")
@roles_required("administrator")
def export_users():
    """All accounts (the search and role filter of the page) as .xlsx."""
    role = request.args.get("role", "")
    with _db().read() as conn:
        rows = queries.users(conn, search=request.args.get("q", ""), role=role if role in ROLES else "")
    sheet = Sheet(_("用户"), [_("用户名"), _("姓名"), _("所属单位"), _("角色"), _("电子邮箱"), _("手机号码"), _("启用"),
                           _("创建时间")],
                  [(r["username"], r["display_name"], r["org_name"] or "",
                    "、".join(label(ROLES.get(x, {"zh": x, "en": x})) for x in r["roles"]), r["email"] or "",
                    r["phone"] or "", _yes_no(r["is_active"]), _local(r["created_at"])) for r in rows],
                  widths=(16, 10, 28, 28, 24, 14, 6, 18))
    return xlsx_response([sheet], "users", _("用户"))


@bp.get("/export/orgs")
@roles_required("administrator")
def export_orgs():
    """All organisations as .xlsx."""
    with _db().read() as conn:
        rows = queries.organisations(conn)
    sheet = Sheet(_("单位"), [_("名称"), _("类型"), _("地区"), _("统一社会信用代码"), _("专精特新"), _("小巨人"),
                           _("上级单位"), _("用户数")],
                  [(r["name"], label(admin_ops.ORG_KINDS.get(r["kind"], r["kind"])), r["region"],
                    r["credit_code"] or "", _yes_no(r["is_specialised"]),
                    _yes_no(r["is_little_giant"]), r["superior_name"] or "", r["users"]) for r in rows],
                  widths=(30, 10, 18, 22, 8, 8, 28, 8))
    return xlsx_response([sheet], "organisations", _("单位"))


@bp.get("/export/sessions")
@roles_required("administrator")
def export_sessions():
    """All review sessions as .xlsx."""
    with _db().read() as conn:
        rows = queries.sessions(conn)
    sheet = Sheet(_("评审会"), [_("编号"), _("名称"), _("系列"), _("行业"), _("年度"), _("评审机构"), _("开始申报"),
                             _("截止申报"), _("评审日期"), _("状态"), _("评委人数")],
                  [(r["code"], r["name"], r["series"], r["industry"], r["year"], r["authority_name"],
                    r["opens_on"], r["closes_on"], r["sitting_on"],
                    label(admin_ops.SESSION_STATUSES.get(r["status"], r["status"])), r["seats"]) for r in rows],
                  widths=(14, 30, 8, 14, 6, 24, 12, 12, 12, 8, 8))
    return xlsx_response([sheet], "sessions", _("评审会"))
