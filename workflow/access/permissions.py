"""Who may fire a transition on a case: a role named by the transition AND the matching relationship.

Deny by default. The relationship makes a role count for *this* case: the applicant's own case, a case of
the reviewer's organisation, the superior department at the current level, the case's authority, a seat
on the case's committee without a conflict.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection

from workflow.access.roles import Actor
from workflow.engine.storage import CaseRow, Statement
from workflow.models import CommitteeSeat, Conflict
from workflow.panel.conflicts import RECUSING

_SEAT_AND_RECUSAL = Statement(
    f"SELECT s.seat_role, EXISTS (SELECT 1 FROM {Conflict.__tablename__} c WHERE c.case_id = :case_id "
    f"AND c.user_id = :user_id AND c.status IN ({', '.join(repr(s) for s in RECUSING)})) "
    f"FROM {CommitteeSeat.__tablename__} s WHERE s.session_id = :session_id AND s.user_id = :user_id")
"""The member's seat on the case's committee and whether they are recused from the case: one round trip."""


def _seat_role(conn: Connection, case: dict[str, Any], actor: Actor) -> tuple[str | None, bool]:
    """(seat role or None, recused from this case)."""
    if case.get("session_id") is None or actor.user_id is None:
        return None, False
    cur = _SEAT_AND_RECUSAL.run(conn, {"case_id": case["id"], "user_id": actor.user_id,
                                       "session_id": case["session_id"]})
    row = cur.fetchone()
    return (None, False) if row is None else (row[0], bool(row[1]))


def relation_holds(role: str, actor: Actor, case: dict[str, Any], conn: Connection) -> bool:
    """True when ``actor`` acts in ``role`` with the relationship that role needs to ``case``."""
    if role == "system":
        return actor.is_system
    if actor.user_id is None:
        return False
    if role == "public":
        return True
    if role == "unit_member":
        return actor.org_id is not None and actor.org_id in (case.get("employer_org_id"), case["unit_org_id"])
    if role not in actor.roles:
        return False
    if role == "applicant":
        return case["applicant_id"] == actor.user_id
    if role in ("unit_reviewer", "agency_reviewer"):
        return actor.org_id == case["unit_org_id"]
    if role == "superior_reviewer":
        chain = case.get("superior_org_ids") or []
        level = (case.data_value("superior_level", 0) if isinstance(case, CaseRow)
                 else (case.get("data") or {}).get("superior_level", 0))
        return level < len(chain) and actor.org_id == chain[level]
    if role == "authority_officer":
        return actor.org_id == case["authority_org_id"]
    if role in ("panel_member", "panel_chair"):
        seat, recused = _seat_role(conn, case, actor)
        if seat is None or (role == "panel_chair" and seat != "chair"):
            return False
        return not recused
    return role == "administrator"


def acting_role(roles: Iterable[str], actor: Actor, case: dict[str, Any], conn: Connection) -> str | None:
    """The first of ``roles`` in which ``actor`` may act on ``case`` (recorded on the event), or None."""
    for role in roles:
        if relation_holds(role, actor, case, conn):
            return role
    return None
