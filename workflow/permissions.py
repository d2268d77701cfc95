"""Who may fire a transition on a case: a role named by the transition AND the matching relationship.

Deny by default. The relationship makes a role count for *this* case: the applicant's own case, a case of
the reviewer's organisation, the superior department at the current level, the case's authority, a seat
on the case's committee without a conflict.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from .ballots import recused_ids
from .models import CommitteeSeat
from .roles import Actor

_seat = CommitteeSeat.__table__


def _seat_role(conn: Connection, case: dict[str, Any], actor: Actor) -> str | None:
    if case.get("session_id") is None or actor.user_id is None:
        return None
    return conn.execute(select(_seat.c.seat_role).where(_seat.c.session_id == case["session_id"],
                                                       _seat.c.user_id == actor.user_id)).scalar()


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
        level = (case.get("data") or {}).get("superior_level", 0)
        return level < len(chain) and actor.org_id == chain[level]
    if role == "authority_officer":
        return actor.org_id == case["authority_org_id"]
    if role in ("panel_member", "panel_chair"):
        seat = _seat_role(conn, case, actor)
        if seat is None or (role == "panel_chair" and seat != "chair"):
            return False
        return actor.user_id not in recused_ids(conn, case["id"])
    return role == "administrator"


def acting_role(roles: Iterable[str], actor: Actor, case: dict[str, Any], conn: Connection) -> str | None:
    """The first of ``roles`` in which ``actor`` may act on ``case`` (recorded on the event), or None."""
    for role in roles:
        if relation_holds(role, actor, case, conn):
            return role
    return None
