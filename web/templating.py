"""Template globals, filters and the per-request navigation."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, request, url_for
from flask_login import current_user

from workflow.access.roles import ROLES
from workflow.panel.agenda import CLOSE_ACTION
from workflow.pipeline.catalog import UnknownPipeline, get_pipeline
from workflow.pipeline.stages import stage_catalogue
from workflow.records import queries

from .extensions import get_db
from .i18n import (
    LANGUAGES,
    N_,
    current_lang,
    deadline_text,
    format_day,
    format_dt,
    install_template_gettext,
    label,
    translations,
)
from .security import statement_reads

UNREAD_KEY = "titlereview.unread_messages"
"""Where a view that read the signed-in user's unread count with its own data leaves it (in the WSGI environ,
which lives exactly as long as the request), so the header's badge needs no query of its own."""


def _(message: str) -> str:
    """``message`` in the request's language, through the catalogue looked up once per request.

    Flask-Babel's ``gettext`` would walk its context and locale again for every message; these helpers run
    for many fields of every case page.
    """
    return translations().ugettext(message)


def role_label(role: str) -> str:
    """A role's display label in the current language."""
    return label(ROLES.get(role, {"zh": role, "en": role}))


def _pipeline(pipeline_id: str, version: int):
    try:
        return get_pipeline(get_db(), pipeline_id, version)
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
    from workflow.pipeline.catalog import latest_versions

    db = get_db()
    version = version or latest_versions(db).get(pipeline_id)
    p = _pipeline(pipeline_id, version) if version else None
    return label(p.label) if p else pipeline_id


OUTCOME_BADGE = {"favourable": "success", "unfavourable": "danger"}
"""Bootstrap badge colour of a settled outcome (a conferred title green, a refusal or revocation red)."""


def state_badge(pipeline_id: str, version: int, state: str) -> str:
    """The badge colour of a state: by its outcome when the definition settles one, else by its stage."""
    from workflow.pipeline.catalog import screen_state

    p = _pipeline(pipeline_id, version)
    if p is None or state not in p.state_map:
        return "secondary"
    definition = screen_state(get_db(), pipeline_id, version, state)
    if definition.outcome is not None:
        return OUTCOME_BADGE[definition.outcome]
    stage = stage_catalogue().stage(definition.stage)
    return stage.badge if stage else "secondary"


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


_ADMIN_HINTS = re.compile(r"（[^（）]*(?:请按政策修改|待与[^（）]*核对|核对|rules\.md)[^（）]*）")
"""Administrators' notes inside a source text: reminders to check a default, references to our rulebook."""


def policy_basis(source: str, tag: Any) -> str:
    """A requirement's source as an applicant reads it: the policy in plain words, without the
    administrators' provenance tag or their reminders to check a default ("请按政策修改")."""
    text = _ADMIN_HINTS.sub("", source or "").strip()
    if str(getattr(tag, "value", tag)) == "C":
        # A configurable default has no published source: say it is this standard's own requirement.
        text = text.removeprefix("本系统默认值：").removeprefix("本系统默认值")
        return _("本评价标准规定：%(text)s") % {"text": text} if text else _("本评价标准规定")
    return _("依据：%(source)s") % {"source": text}


def filesize(size: int) -> str:
    """A file size as people read it (B, KB, MB)."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


AREAS: tuple[tuple[tuple[str, ...], tuple[str, ...], str, str], ...] = (
    (("applicant",), (), "applicant.home", N_("我的申报")),
    (("unit_reviewer",), (), "unit.inbox", N_("单位审核")),
    (("agency_reviewer",), ("unit_reviewer",), "unit.inbox", N_("代理机构审核")),
    (("superior_reviewer",), (), "unit.superior_inbox", N_("主管部门审核")),
    (("authority_officer",), (), "authority.inbox", N_("职改办工作台")),
    (("panel_chair", "panel_member"), (), "panel.home", N_("评审委员会")),
    (("administrator",), (), "admin.home", N_("系统管理")),
)
"""Navigation areas: (any of these roles, unless one of these, endpoint, label); an agency reviewer who is also a
unit reviewer sees the one shared inbox once."""


def _areas(user: Any) -> list[dict[str, Any]]:
    """The signed-in ``user``'s areas for the navigation bar (``user`` unwrapped from ``current_user``).

    Called for every page: the roles are read from the user object once instead of through the
    ``current_user`` proxy per role, and labels go through the request's catalogue (:func:`translations`).
    """
    roles = user.roles
    if not roles:
        return []
    section = (request.endpoint or "").split(".")[0]
    catalogue = translations()
    return [{"endpoint": endpoint, "label": catalogue.ugettext(text), "url": url_for(endpoint),
             "active": section == endpoint.split(".")[0]}
            for any_of, unless, endpoint, text in AREAS
            if not roles.isdisjoint(any_of) and roles.isdisjoint(unless)]


def closes_ballot(option: Any) -> bool:
    """Jinja test: the offered action closes and counts a ballot (it runs the close action, whatever the
    pipeline calls its trigger) — such a form leads to the confirmation page instead of firing at once."""
    return CLOSE_ACTION in getattr(option, "runs", ())


def register_template_helpers(app: Flask) -> None:
    """Install globals, filters, the templates' gettext and the navigation context processor on ``app``."""
    install_template_gettext(app)
    app.jinja_env.globals.update(label=label, role_label=role_label, state_label=state_label,
                                 state_badge=state_badge, state_final=state_final, pipeline_label=pipeline_label,
                                 field_display=field_display, verdict_label=verdict_label,
                                 policy_basis=policy_basis,
                                 LANGUAGES=LANGUAGES, current_lang=current_lang, ROLES=ROLES)
    app.jinja_env.filters.update(dt=format_dt, day=format_day, deadline=deadline_text, filesize=filesize)
    app.jinja_env.tests.update(closes_ballot=closes_ballot)

    @app.context_processor
    def _navigation() -> dict[str, Any]:
        user = current_user._get_current_object()  # one proxy lookup; None outside a request (e.g. mail)
        if user is None or not user.is_authenticated:
            return {"nav_areas": [], "unread_messages": 0}
        # A page that already read the count with its own data (the case page) left it with this request.
        unread = request.environ.get(UNREAD_KEY)
        if unread is None:
            with statement_reads(get_db(app)) as conn:
                unread = queries.unread_count(conn, user.id)
        return {"nav_areas": _areas(user), "unread_messages": unread}
