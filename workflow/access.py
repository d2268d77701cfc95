"""Who may *see* a case (its page, dossier and materials), as opposed to who may act on it.

Acting is decided per transition by :mod:`workflow.permissions`; seeing is broader (a unit reviewer keeps
seeing a case after recommending it) but still deny by default and scoped by the same relationships:

* the applicant sees their own cases, drafts included;
* the reviewing unit or agency, every superior department on the case's chain and the case's authority see
  it once it has been submitted — a draft is the applicant's private working copy;
* a seated committee member sees it while it is before the panel, unless recused on it — that rule is the
  committee's own (:func:`workflow.conflicts.can_open_dossier`, which also runs conflict detection), used
  here through :func:`dossier_relations`;
* administrators see every case (support), read only: they hold no case role.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, false, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from .catalog import get_pipeline
from .conflicts import PANEL_STAGE, RECUSING, can_open_dossier
from .db import Database
from .models import Case, CommitteeSeat, Conflict
from .roles import Actor

_seat = CommitteeSeat.__table__
_case = Case.__table__
_conflict = Conflict.__table__

REVIEWER_ROLES = ("unit_reviewer", "agency_reviewer", "superior_reviewer", "authority_officer")
"""Roles that review a case on behalf of an organisation."""


def seat_role(conn: Connection, session_id: int | None, user_id: int | None) -> str | None:
    """``chair`` or ``member`` when the user is seated on the session's committee, else None."""
    if session_id is None or user_id is None:
        return None
    return conn.execute(select(_seat.c.seat_role).where(_seat.c.session_id == session_id,
                                                       _seat.c.user_id == user_id)).scalar()


def viewing_relations(conn: Connection, actor: Actor, case: dict[str, Any]) -> list[str]:
    """The roles in which ``actor`` may see ``case`` (empty: not at all), most specific first."""
    if actor.user_id is None:
        return []
    found: list[str] = []
    roles = actor.roles
    if "applicant" in roles and case["applicant_id"] == actor.user_id:
        found.append("applicant")
    submitted = case.get("submitted_at") is not None
    if submitted and actor.org_id is not None:
        if actor.org_id == case["unit_org_id"]:
            found.extend(r for r in ("unit_reviewer", "agency_reviewer") if r in roles)
        if "superior_reviewer" in roles and actor.org_id in (case.get("superior_org_ids") or []):
            found.append("superior_reviewer")
        if "authority_officer" in roles and actor.org_id == case["authority_org_id"]:
            found.append("authority_officer")
    if "administrator" in roles:
        found.append("administrator")
    return found


def can_view_case(conn: Connection, actor: Actor, case: dict[str, Any]) -> bool:
    """True when ``actor`` may open the case page through a non-panel relation (see :func:`dossier_relations`)."""
    return bool(viewing_relations(conn, actor, case))


def dossier_relations(db: Database, actor: Actor, case: dict[str, Any]) -> tuple[list[str], str]:
    """All roles in which ``actor`` may see the case, panel seats included, and — when there are none and the
    actor is on the committee — the committee's reason for refusing (e.g. a conflict of interest)."""
    with db.read() as conn:
        found = viewing_relations(conn, actor, case)
        seat = seat_role(conn, case.get("session_id"), actor.user_id)
    if seat is None or not actor.roles & {"panel_member", "panel_chair"}:
        return found, ""
    allowed, reason = can_open_dossier(db, case["id"], actor)
    if allowed:
        found.append("panel_chair" if seat == "chair" and "panel_chair" in actor.roles else "panel_member")
    return found, reason


def visible_case_condition(conn: Connection, db: Database, actor: Actor) -> ColumnElement[bool]:
    """The cases ``actor`` may see, as one SQL condition on ``case_file`` — the same rule as
    :func:`dossier_relations`, for listings (a property test holds the two together, case by case and role by
    role).

    The simple relations (own case; the case's unit, agency or authority; administrators) are SQL conditions.
    The two that depend on JSON or on the pipeline (a superior department on the case's chain; a seated
    committee member while the case is before the panel and they are not recused) are resolved by one query
    each over their candidate cases, and enter the condition as an id list — never a query per case.
    """
    roles = actor.roles
    if actor.user_id is None:
        return false()
    if "administrator" in roles:
        return true()
    submitted = _case.c.submitted_at.is_not(None)
    conds = []
    if "applicant" in roles:
        conds.append(_case.c.applicant_id == actor.user_id)
    if actor.org_id is not None:
        if roles & {"unit_reviewer", "agency_reviewer"}:
            conds.append(and_(submitted, _case.c.unit_org_id == actor.org_id))
        if "authority_officer" in roles:
            conds.append(and_(submitted, _case.c.authority_org_id == actor.org_id))
    ids: set[int] = set()
    if "superior_reviewer" in roles and actor.org_id is not None:
        rows = conn.execute(select(_case.c.id, _case.c.superior_org_ids).where(submitted))
        ids.update(cid for cid, chain in rows if actor.org_id in (chain or []))
    if roles & {"panel_member", "panel_chair"}:
        seated = select(_seat.c.session_id).where(_seat.c.user_id == actor.user_id)
        recused = select(_conflict.c.case_id).where(_conflict.c.user_id == actor.user_id,
                                                    _conflict.c.status.in_(RECUSING))
        before_panel = conn.execute(select(_case.c.id, _case.c.pipeline_id, _case.c.pipeline_version, _case.c.state)
                                    .where(_case.c.session_id.in_(seated), _case.c.id.not_in(recused)))
        for cid, pid, version, state in before_panel:
            st = get_pipeline(db, pid, version).state_map.get(state)
            if st is not None and st.stage == PANEL_STAGE:
                ids.add(cid)
    if ids:
        conds.append(_case.c.id.in_(sorted(ids)))
    return or_(*conds) if conds else false()
