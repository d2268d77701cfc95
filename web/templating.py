"""Template globals, filters and the per-request navigation."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from workflow import queries
from workflow.catalog import UnknownPipeline, get_pipeline
from workflow.roles import ROLES

from .i18n import LANGUAGES, current_lang, deadline_text, format_day, format_dt, install_template_gettext, label
from .security import statement_reads

UNREAD_KEY = "titlereview.unread_messages"
"""Where a view that read the signed-in user's unread count with its own data leaves it (in the WSGI environ,
which lives exactly as long as the request), so the header's badge needs no query of its own."""


def role_label(role: str) -> str:
    """A role's display label in the current language."""
    return label(ROLES.get(role, {"zh": role, "en": role}))


def _pipeline(pipeline_id: str, version: int):
    try:
        return get_pipeline(current_app.extensions["titlereview_db"], pipeline_id, version)
    except UnknownPipeline:
        return None


def state_label(pipeline_id: str, version: int, state: str) -> str:
    """A state's label from the case's own pipeline version."""
    p = _pipeline(pipeline_id, version)
    if p is None or state not in p.state_map:
        return state
    return label(p.state_map[state].label)


def state_final(pipeline_id: str, version: int, state: str) -> bool:
    """True when the state ends the process."""
    p = _pipeline(pipeline_id, version)
    return bool(p and state in p.state_map and p.state_map[state].stage == "closed")


def pipeline_label(pipeline_id: str, version: int | None = None) -> str:
    """A pipeline's display name."""
    from workflow.catalog import latest_versions

    db = current_app.extensions["titlereview_db"]
    version = version or latest_versions(db).get(pipeline_id)
    p = _pipeline(pipeline_id, version) if version else None
    return label(p.label) if p else pipeline_id


STATE_BADGE = {
    "submission": "secondary", "unit": "info", "superior": "info", "authority": "warning", "panel": "primary",
    "publication": "primary", "filing": "success", "closed": "dark",
}
"""Bootstrap badge colour per stage."""


def state_badge(pipeline_id: str, version: int, state: str) -> str:
    """The badge colour of a state (by its stage; certificates green, failures red)."""
    if state in ("certified",):
        return "success"
    if state in ("rejected", "revoked", "closed_not_passed", "not_passed"):
        return "danger"
    p = _pipeline(pipeline_id, version)
    if p is None or state not in p.state_map:
        return "secondary"
    return STATE_BADGE.get(p.state_map[state].stage, "secondary")


def field_display(f: Any, value: Any) -> str:
    """A profile value as shown to reviewers: vocabulary labels, 是/否 for flags, 至今 for an open end."""
    if f.kind == "bool":
        return _("是") if value else _("否")
    if value is None or value == "":
        return _("至今") if f.key == "end" and f.kind == "date" else ""
    if f.kind == "number" and isinstance(value, float) and value.is_integer():
        return str(int(value))
    if f.kind == "choice" and f.vocab is not None:
        try:
            member = f.vocab(value)
        except ValueError:
            return str(value)
        return member.en if current_lang() == "en" else member.zh
    return str(value)


def verdict_label(value: str) -> str:
    """The label of an eligibility verdict (met / not met / needs judgement)."""
    from workflow.eligibility import Verdict

    try:
        member = Verdict(value)
    except ValueError:
        return value
    return member.en if current_lang() == "en" else member.zh


def filesize(size: int) -> str:
    """A file size as people read it (B, KB, MB)."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _areas() -> list[dict[str, Any]]:
    """The signed-in user's areas for the navigation bar."""
    if not current_user.is_authenticated:
        return []
    areas = []
    if current_user.has("applicant"):
        areas.append(("applicant.home", _("我的申报")))
    if current_user.has("unit_reviewer"):
        areas.append(("unit.inbox", _("单位审核")))
    elif current_user.has("agency_reviewer"):
        areas.append(("unit.inbox", _("代理机构审核")))
    if current_user.has("superior_reviewer"):
        areas.append(("unit.superior_inbox", _("主管部门审核")))
    if current_user.has("authority_officer"):
        areas.append(("authority.inbox", _("职改办工作台")))
    if current_user.has("panel_chair", "panel_member"):
        areas.append(("panel.home", _("评审委员会")))
    if current_user.has("administrator"):
        areas.append(("admin.home", _("系统管理")))
    return [{"endpoint": e, "label": text, "url": url_for(e),
             "active": (request.endpoint or "").split(".")[0] == e.split(".")[0]} for e, text in areas]


def register_template_helpers(app: Flask) -> None:
    """Install globals, filters, the templates' gettext and the navigation context processor on ``app``."""
    install_template_gettext(app)
    app.jinja_env.globals.update(label=label, role_label=role_label, state_label=state_label,
                                 state_badge=state_badge, state_final=state_final, pipeline_label=pipeline_label,
                                 field_display=field_display, verdict_label=verdict_label,
                                 LANGUAGES=LANGUAGES, current_lang=current_lang, ROLES=ROLES)
    app.jinja_env.filters.update(dt=format_dt, day=format_day, deadline=deadline_text, filesize=filesize)

    @app.context_processor
    def _navigation() -> dict[str, Any]:
        unread = 0
        if current_user.is_authenticated:
            # A page that already read the count with its own data (the case page) left it with this request.
            unread = request.environ.get(UNREAD_KEY)
            if unread is None:
                with statement_reads(app.extensions["titlereview_db"]) as conn:
                    unread = queries.unread_count(conn, current_user.id)
        return {"nav_areas": _areas(), "unread_messages": unread}
