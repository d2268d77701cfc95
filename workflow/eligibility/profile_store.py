"""Applicants' stored profiles read as they are, for judging standards against them outside a case.

The standards pages evaluate a standard against saved profiles without storing anything: an administrator's
preview of a version or a draft picks sample applicants, and an applicant's pre-check reads their own profile.
This module finds the applicants who have a profile and reads profile bodies exactly as stored
(``applicant_profile.body``, not upgraded or completed: the evaluator reads every stored shape itself).
Editing a profile is :mod:`workflow.eligibility.dossier`'s job.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import Connection, select

from workflow.db import Database
from workflow.models import ApplicantProfile, User, UserRole

_profile = ApplicantProfile.__table__
_user = User.__table__
_role = UserRole.__table__

CHOSEN_LISTED = 100
"""At most this many already chosen applicants are listed again (the ids come from a form: bound the query)."""

FIND_LENGTH = 40
"""A search text is cut to this many characters."""


def _like_pattern(find: str) -> str:
    # The text is searched literally as part of a name: LIKE's wildcards and escape are dropped, not escaped,
    # because no username or display name is looked for by them.
    return "%" + find.strip()[:FIND_LENGTH].replace("\\", "").replace("%", "").replace("_", "") + "%"


def applicants_with_profiles(db: Database, *, find: str = "", chosen: Collection[int] = (),
                             limit: int) -> list[dict[str, Any]]:
    """Applicants who have stored a profile, as ``{id, username, display_name}``, for picking sample profiles.

    Those already ``chosen`` come first (the lowest :data:`CHOSEN_LISTED` ids, so a pick stays listed while
    the search changes), then the first ``limit`` whose username or display name contains ``find`` — by id,
    so the seeded route examples come first — without repeating a chosen one. Two queries at most: a province
    has tens of thousands of applicants, so the list is searched, never read whole.
    """
    base = (select(_user.c.id, _user.c.username, _user.c.display_name)
            .join(_profile, _profile.c.user_id == _user.c.id)
            .join(_role, _role.c.user_id == _user.c.id).where(_role.c.role == "applicant"))
    with db.read() as conn:
        picked = [dict(row._mapping) for row in conn.execute(
            base.where(_user.c.id.in_(sorted(chosen)[:CHOSEN_LISTED])).order_by(_user.c.id))] if chosen else []
        found: list[dict[str, Any]] = []
        if limit > 0:  # (LIMIT 0 would find nothing: the caller wants the chosen ones only)
            query = base
            if find.strip():
                pattern = _like_pattern(find)
                query = query.where(_user.c.username.like(pattern) | _user.c.display_name.like(pattern))
            found = [dict(row._mapping) for row in conn.execute(query.order_by(_user.c.id).limit(limit))]
    seen = {a["id"] for a in picked}
    return picked + [a for a in found if a["id"] not in seen]


def _bodies(conn: Connection, user_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    rows = conn.execute(select(_profile.c.user_id, _profile.c.body).where(_profile.c.user_id.in_(set(user_ids))))
    found = {}
    for user_id, body in rows:
        # A driver without a JSON type hands the column back as text.
        if isinstance(body, str):
            body = json.loads(body)
        if body:  # an empty body is no profile: nothing was declared
            found[user_id] = body
    return found


def stored_profiles(db: Database, user_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The stored profile body of each of ``user_ids`` that has a non-empty one, by user id (one query)."""
    with db.read() as conn:
        return _bodies(conn, user_ids)


def stored_profile(db: Database, user_id: int) -> dict[str, Any] | None:
    """The stored profile body of ``user_id`` as stored, or None when there is none (or it is empty)."""
    return stored_profiles(db, [user_id]).get(user_id)
