"""我的待办: every action waiting for the signed-in user, across their roles and inbox tabs, on one page.

Nothing here names a state. The reviewing inboxes contribute the cases of their actionable tabs
(``definitions/inboxes.yaml``, with the states each tab lists read from the pipelines by :func:`web.inbox.tabs_for`),
labelled with the tab's own words; superior departments the cases at their level in a superior-stage state; the
committee the opinions and votes the member owes (a state's ``panel_step``) and the actions the engine offers the
chair; the applicant the actions the engine offers on their own open cases, leaving out destructive ones
(``style: danger``, e.g. withdrawing) that are never "waiting" for anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from workflow.access.visibility import VisibleCases
from workflow.engine import core as engine
from workflow.models import as_utc
from workflow.panel import ballots
from workflow.pipeline.catalog import get_pipeline, latest_pipelines, state_names
from workflow.records import queries

from .extensions import get_db
from .i18n import label
from .inbox import tabs_for
from .security import visible_scope

bp = Blueprint("todo", __name__)

_LAST = datetime.max.replace(tzinfo=UTC)
"""Sorts after every real instant (an item without a deadline or start time comes after those with one)."""

PER_SOURCE = 200
"""At most this many cases from one inbox tab or list (the rest are counted and linked to the inbox)."""


@dataclass
class Todo:
    """One thing waiting for the user: the case, what to do, where it comes from, since when and until when."""

    case_id: int
    reference: str
    applicant_name: str
    target_title: str
    action: str
    area: str
    area_url: str
    since: datetime | None
    due: datetime | None
    notes: tuple[str, ...] = ()


@dataclass
class Overflow:
    """A source with more waiting cases than listed: its name, link and how many there are."""

    area: str
    url: str
    total: int


def _db():
    return get_db()


def _todo(row: dict[str, Any], action: str, area: str, area_url: str, notes: tuple[str, ...] = ()) -> Todo:
    return Todo(row["id"], row["reference"], row["applicant_name"], row["target_title"], action, area, area_url,
                as_utc(row.get("state_entered_at")), as_utc(row.get("next_due")), notes)


def _inbox_todos(conn, inbox: str, area: str, endpoint: str, scope: dict[str, Any],
                 overflow: list[Overflow]) -> list[Todo]:
    """The cases of the actionable tabs of ``inbox``, each labelled with its tab (as the inbox shows it);
    ``scope`` is the inbox's own filter and the user's visibility scope, as the inbox passes them."""
    todos = []
    for tab in tabs_for(_db(), inbox):
        if not tab.actionable or not tab.states:
            continue
        page = queries.list_cases(conn, states=tab.states, submitted_only=True, oldest_first=True,
                                  per_page=PER_SOURCE, **scope)
        url = url_for(endpoint, tab=tab.key)
        todos.extend(_todo(row, tab.label, area, url) for row in page.rows)
        if page.total > len(page.rows):
            overflow.append(Overflow(f"{area} · {tab.label}", url, page.total))
    return todos


def _superior_todos(conn, org_id: int, visible: VisibleCases) -> list[Todo]:
    """Cases at this department's level in a superior-stage state, labelled with the state."""
    db = _db()
    states = state_names(db, lambda s: s.stage == "superior" and not s.final)
    if not states:
        return []
    url = url_for("unit.superior_inbox")
    area = _("主管部门审核")
    return [_todo(row, label(get_pipeline(db, row["pipeline_id"], row["pipeline_version"])
                             .state_map[row["state"]].label), area, url)
            for row in queries.superior_queue(conn, org_id, states, visible=visible)[:PER_SOURCE]]


def _panel_todos(conn, user_id: int, visible: VisibleCases) -> list[Todo]:
    """Opinions the member owes (in the review group, none given), open ballots not yet cast (unless recused),
    and what the engine lets the chair do now on the chair's sessions' cases."""
    db = _db()
    seats = queries.seated_sessions(conn, user_id)
    if not seats:
        return []
    steps = {s.name: s.panel_step for p in latest_pipelines(db) for s in p.states if s.panel_step}
    active = queries.list_cases(conn, visible=visible, session_ids=[s["id"] for s in seats],
                                states=tuple(sorted(steps)), per_page=500, oldest_first=True).rows
    progress = queries.panel_progress(conn, [c["id"] for c in active], user_id)
    chaired = {s["id"] for s in seats if s["seat_role"] == "chair"}
    area, url = _("评审委员会"), url_for("panel.home")
    todos = []
    for case in active:
        mine = progress.get(case["id"], {})
        step = steps.get(case["state"])
        if user_id in ballots.recused_ids(conn, case["id"]):
            continue
        if step == "opinions" and mine.get("in_group") and not mine.get("my_opinion"):
            todos.append(_todo(case, _("提交评议意见"), area, url))
        elif step == "ballot" and mine.get("box") == "open" and not mine.get("i_voted"):
            todos.append(_todo(case, _("投票"), area, url))
        if case["session_id"] in chaired:
            for option in _offered(case["id"], ("panel_chair",), conn):
                todos.append(_todo(case, label(option.label), area, url))
    return todos


def _offered(case_id: int, roles: tuple[str, ...], conn, *, include_refused: bool = False) -> list:
    """The actions the engine offers the user on the case in one of ``roles``, destructive ones left out."""
    db = _db()
    case = queries.case_detail(conn, case_id)
    if case is None:
        return []
    pipeline = get_pipeline(db, case["pipeline_id"], case["pipeline_version"])
    kept = []
    for option in engine.available_actions(db, case_id, current_user.actor, include_refused=include_refused,
                                           conn=conn):
        cands = pipeline.by_trigger_source.get((option.trigger, case["state"]), [])
        if cands and set(roles) & set(cands[0].roles) and option.style != "danger":
            kept.append(option)
    return kept


def _applicant_todos(conn, user_id: int, visible: VisibleCases, overflow: list[Overflow]) -> list[Todo]:
    """The user's own open cases with an action of theirs to take (a refused one with why, e.g. what is missing)."""
    db = _db()
    finals = tuple(sorted({s.name for p in latest_pipelines(db) for s in p.states if s.final}))
    page = queries.list_cases(conn, visible=visible, applicant_id=user_id, exclude_states=finals,
                              per_page=PER_SOURCE)
    area, url = _("我的申报"), url_for("applicant.home")
    todos = []
    for row in page.rows:
        for option in _offered(row["id"], ("applicant",), conn, include_refused=True):
            todos.append(_todo(row, label(option.label), area, url, tuple(option.reasons)))
    if page.total > len(page.rows):
        overflow.append(Overflow(area, url, page.total))
    return todos


def todos_for_current_user() -> tuple[list[Todo], list[Overflow]]:
    """Everything waiting for the signed-in user, the oldest deadline first, then the longest waiting."""
    user = current_user
    roles = user.actor.roles
    org_id = user.org_id or -1
    todos: list[Todo] = []
    overflow: list[Overflow] = []
    with _db().read() as conn:
        visible = visible_scope(conn)
        if "applicant" in roles:
            todos.extend(_applicant_todos(conn, user.id, visible, overflow))
        if roles & {"unit_reviewer", "agency_reviewer"}:
            agency = "agency_reviewer" in roles and "unit_reviewer" not in roles
            todos.extend(_inbox_todos(conn, "unit", _("代理机构审核") if agency else _("单位审核"), "unit.inbox",
                                      {"unit_org_id": org_id, "visible": visible}, overflow))
        if "superior_reviewer" in roles:
            todos.extend(_superior_todos(conn, org_id, visible))
        if "authority_officer" in roles:
            todos.extend(_inbox_todos(conn, "authority", _("职改办工作台"), "authority.inbox",
                                      {"authority_org_id": org_id, "visible": visible}, overflow))
        if roles & {"panel_member", "panel_chair"}:
            todos.extend(_panel_todos(conn, user.id, visible))
    todos.sort(key=lambda t: (t.due is None, t.due or _LAST, t.since or _LAST, t.case_id))
    return todos, overflow


@bp.get("/todo")
@login_required
def index():
    """我的待办: what waits for the signed-in user in every role, with a link to each case."""
    todos, overflow = todos_for_current_user()
    return render_template("todo.html", todos=todos, overflow=overflow)
