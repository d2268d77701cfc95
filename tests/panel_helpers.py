"""Helpers for the panel tests: more seated members, an expert pool, a case brought to the vote."""

from __future__ import annotations

from datetime import date

from driver import advance, open_sitting
from sqlalchemy import select

from workflow.access.roles import Actor
from workflow.db import Database
from workflow.directory import actor_for, create_user
from workflow.engine import core as engine
from workflow.models import BallotBox, CommitteeSeat, Expert, Organisation
from workflow.panel import ballots


def seat_members(world, count: int, *, prefix: str = "extra") -> list[Actor]:
    """Create ``count`` more panel members and seat them on the world's session."""
    with world.db.session(write=True) as s:
        ids = [create_user(s, f"{prefix}{i}", f"{prefix}委员{i}", ["panel_member"]).id for i in range(count)]
        for uid in ids:
            s.add(CommitteeSeat(session_id=world.session_id, user_id=uid, seat_role="member"))
        s.flush()
        members = [actor_for(s, uid) for uid in ids]
    world.members.extend(members)
    return members


def add_pool(db: Database, count: int, *, prefix: str = "pool", level: str = "正高", specialties=("轨道交通装备",),
             employer_org_id: int | None = None, with_login: bool = True, series: str = "工程",
             term_end: date | None = None) -> list[int]:
    """Create ``count`` experts (with logins holding the panel_member role); returns their expert ids."""
    ids = []
    with db.session(write=True) as s:
        for i in range(count):
            user_id = create_user(s, f"{prefix}{i}", f"{prefix}专家{i}", ["panel_member"]).id if with_login else None
            expert = Expert(code=f"{prefix}-{i:04d}", user_id=user_id, name=f"{prefix}专家{i}",
                            specialties=list(specialties), series=series, level=level,
                            employer_org_id=employer_org_id, term_start=date(2024, 1, 1),
                            term_end=term_end or date(2030, 12, 31))
            s.add(expert)
            s.flush()
            ids.append(expert.id)
    return ids


def org_name(db: Database, org_id: int) -> str:
    """The organisation's name."""
    with db.read() as conn:
        return conn.execute(select(Organisation.__table__.c.name).where(Organisation.__table__.c.id == org_id)
                            ).scalar_one()


def case_at_vote(world, *, present: list[Actor] | None = None, open_box: bool = True, **kw) -> int:
    """A new case advanced to the committee vote, the sitting open, ``present`` (default: all seated)
    recorded present and (``open_box``) its ballot opened by the chair."""
    case_id = world.open("industry-session", **kw)
    advance(world, case_id, "committee_vote")
    open_sitting(world)
    for m in present if present is not None else [world.chair, *world.members]:
        ballots.record_attendance(world.db, world.session_id, m.user_id)
    if open_box:
        engine.fire(world.db, case_id, "open_ballot", world.chair)
    return case_id


def box_of(db: Database, case_id: int) -> dict:
    """The case's (round 1) ballot box row."""
    with db.read() as conn:
        box = BallotBox.__table__
        return dict(conn.execute(select(box).where(box.c.case_id == case_id)).mappings().one())
