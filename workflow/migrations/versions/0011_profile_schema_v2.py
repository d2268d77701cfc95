"""profile schema v2: every stored applicant profile body is rewritten from schema version 1 to 2

Revision ID: 0011
Revises: 0010

Version 2 of ``applicant_profile.body`` (see ``workflow.eligibility.profiles.PROFILE_SCHEMA_VERSION``) added the 技工院校
class and the 学位 beside the 学历, work in the industry beside work in the specialty, the achievement's
standard item, level, rank, count and appraisal, and three lists (work-experience claims, firm roles, firm
recognitions). Only one of them has a value that follows from version 1: work in the specialty was the only
kind of work, so it is also work in the industry (``in_industry = in_specialty``); every other new field
starts empty, which a version-2 body may simply leave out. The upgrade is a copy of
``workflow.eligibility.profiles.upgrade_profile_body`` as it was for version 2 — copied, not imported, so that this
revision keeps doing the same thing when the application's code moves on. ``parse_profile`` upgrades old
bodies on read as well, so the two paths give the same result.

``updated_at`` is left alone: the applicant changed nothing, only the shape the same facts are written in.

The downgrade writes version 1 again where that loses nothing: the version-2 fields are dropped when they
hold their empty value (school type "general" with no class and no degree, ``in_industry`` false or implied
by ``in_specialty``, an achievement with no item/level/rank/appraisal and a count of 1, no claims, firm roles
or recognitions). A body holding anything version 1 cannot say makes the downgrade stop with an error naming
the profiles and fields, and nothing is changed (the whole migration is one transaction): silently dropping
an applicant's declarations would change what the evaluator decides, and a version-1 application could not
read a body left at version 2. Back up first (``titlereview backup``) and clear those entries to go back.
"""
from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_BATCH = 500

_V2_LISTS = ("experience_claims", "firm_roles", "firm_recognitions")
_STAMPS = ("verified_by", "verified_on")
_ACHIEVEMENT_EMPTY: dict[str, Any] = {"item": "", "level": None, "rank": None, "count": 1, "appraised_by": "",
                                      "appraisal_level": None}
_EDUCATION_EMPTY: dict[str, Any] = {"school_type": "general", "technical_class": None, "degree": None}


def _json_type() -> sa.types.TypeEngine:
    from sqlalchemy.dialects.postgresql import JSONB

    return sa.JSON().with_variant(JSONB(), "postgresql")


def _table() -> sa.Table:
    return sa.Table("applicant_profile", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("body", _json_type()))


def _upgrade_body(body: dict[str, Any]) -> dict[str, Any]:
    """Version 1 → 2, as ``workflow.eligibility.profiles.upgrade_profile_body`` did it (a new dict)."""
    version = body.get("schema_version", 1)
    if not isinstance(version, int) or version >= 2:
        return dict(body)
    out = dict(body)
    out["work_history"] = [
        {**w, "in_industry": w.get("in_industry", bool(w.get("in_specialty", True)))} if isinstance(w, dict) else w
        for w in body.get("work_history") or []]
    out["schema_version"] = 2
    return out


def _downgrade_body(body: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Version 2 → 1: the body without its version-2 fields, and what would be lost (empty when nothing)."""
    lost: list[str] = []
    out = {k: v for k, v in body.items() if k not in _V2_LISTS}
    out["schema_version"] = 1
    lost += [key for key in _V2_LISTS if body.get(key)]

    def strip(section: str, empty: dict[str, Any]) -> list[Any]:
        rows = []
        for i, row in enumerate(body.get(section) or []):
            if isinstance(row, dict):
                lost.extend(f"{section}[{i}].{k}" for k in empty if k in row and row[k] != empty[k])
                row = {k: v for k, v in row.items() if k not in empty}
            rows.append(row)
        return rows

    if "education" in body:
        out["education"] = strip("education", _EDUCATION_EMPTY)
    if "achievements" in body:
        out["achievements"] = strip("achievements", _ACHIEVEMENT_EMPTY)
    for section in ("achievements", "works"):
        # Who verified an entry and when: version 1 kept only the flag. The case's audit events still say.
        if section in out:
            out[section] = [{k: v for k, v in row.items() if k not in _STAMPS} if isinstance(row, dict) else row
                            for row in out[section] or []]
    if "work_history" in body:
        work = []
        for i, row in enumerate(body.get("work_history") or []):
            if isinstance(row, dict):
                # Version 1 counted only work in the specialty; industry work outside it has no place there.
                if row.get("in_industry") and not row.get("in_specialty", True):
                    lost.append(f"work_history[{i}].in_industry")
                row = {k: v for k, v in row.items() if k != "in_industry"}
            work.append(row)
        out["work_history"] = work
    return out, lost


def _rewrite(change) -> None:
    """Apply ``change(profile id, body) -> new body or None`` to every profile, in batches by id."""
    bind = op.get_bind()
    table = _table()
    last = 0
    while True:
        rows = bind.execute(sa.select(table.c.id, table.c.body).where(table.c.id > last)
                            .order_by(table.c.id).limit(_BATCH)).all()
        if not rows:
            return
        for profile_id, body in rows:
            body = json.loads(body) if isinstance(body, str) else body
            new = change(profile_id, body) if isinstance(body, dict) else None
            if new is not None and new != body:
                bind.execute(table.update().where(table.c.id == profile_id).values(body=new))
            last = profile_id


def upgrade() -> None:
    """Apply this revision: every version-1 profile body becomes version 2."""
    _rewrite(lambda _id, body: _upgrade_body(body))


def downgrade() -> None:
    """Revert this revision where nothing is lost; otherwise refuse, naming what would be (nothing changes)."""
    losses: list[str] = []

    def change(profile_id: int, body: dict[str, Any]) -> dict[str, Any] | None:
        if body.get("schema_version") != 2:
            return None
        out, lost = _downgrade_body(body)
        if lost:
            losses.append(f"profile {profile_id}: {', '.join(lost)}")
        # Once anything would be lost the downgrade fails and rolls back; writing more would be wasted.
        return None if losses else out

    _rewrite(change)
    if losses:
        shown = "; ".join(losses[:10]) + (f"; … ({len(losses)} profiles)" if len(losses) > 10 else "")
        raise RuntimeError("cannot downgrade applicant profiles to schema version 1 without losing what they "
                           f"declare: {shown}. Clear these entries first (back up before).")
