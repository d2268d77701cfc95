"""The committee's secret ballot: attendance, quorum, voting and the tally.

Secrecy is structural: casting a vote writes a participation row (member, box) and a ballot row (random id,
box, choice) in one transaction, and nothing else — no timestamp, no log line, no sequence that could line
the two up. The tally exists only when the chair closes the box through the engine.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from .db import Database
from .errors import CaseNotFound, InvalidAction, PermissionDenied
from .models import (
    Attendance,
    Ballot,
    BallotBox,
    BallotParticipation,
    Case,
    CommitteeSeat,
    Conflict,
    Opinion,
    utcnow,
)
from .roles import Actor

if TYPE_CHECKING:
    from .context import TransitionContext

CHOICES = {"yes": "同意", "no": "不同意", "abstain": "弃权"}
"""Ballot choices and their labels."""

_box = BallotBox.__table__
_part = BallotParticipation.__table__
_ballot = Ballot.__table__
_seat = CommitteeSeat.__table__
_att = Attendance.__table__
_conflict = Conflict.__table__
_case = Case.__table__
_opinion = Opinion.__table__


@dataclass(frozen=True)
class Tally:
    """The counts behind a decision: quorum is on the seated committee, the pass rule on eligible voters."""

    box_id: int
    seated: int
    present: int
    recused: int
    yes: int
    no: int
    abstain: int
    quorum_fraction: Fraction
    pass_fraction: Fraction

    @property
    def eligible(self) -> int:
        """Present members who are not recused: the denominator of the pass rule."""
        return self.present - self.recused

    @property
    def quorate(self) -> bool:
        """At least the quorum fraction of the seated committee is present."""
        return self.seated > 0 and self.present >= self.quorum_fraction * self.seated

    @property
    def passed(self) -> bool:
        """Yes votes reach the pass fraction of eligible members (abstentions count as not yes)."""
        return self.quorate and self.eligible > 0 and self.yes >= self.pass_fraction * self.eligible

    def as_dict(self) -> dict[str, Any]:
        """Counts only (for the audit event and minutes)."""
        d = asdict(self)
        d.update(quorum_fraction=str(self.quorum_fraction), pass_fraction=str(self.pass_fraction),
                 eligible=self.eligible, quorate=self.quorate, passed=self.passed)
        return d


def current_box(conn: Connection, case_id: int, round_: int) -> dict | None:
    """The ballot box of this case and round, if one was opened."""
    row = conn.execute(select(_box).where(_box.c.case_id == case_id, _box.c.round == round_)).mappings().first()
    return dict(row) if row else None


def open_box(conn: Connection, case_id: int, round_: int, now) -> int:
    """Create the open ballot box for (case, round)."""
    return conn.execute(insert(_box).values(case_id=case_id, round=round_, opened_at=now)
                        .returning(_box.c.id)).scalar_one()


def _present_ids(conn: Connection, session_id: int) -> set[int]:
    rows = conn.execute(
        select(_att.c.user_id).join(_seat, and_(_seat.c.session_id == _att.c.session_id,
                                                _seat.c.user_id == _att.c.user_id))
        .where(_att.c.session_id == session_id)
    ).scalars()
    return set(rows)


def _seated_count(conn: Connection, session_id: int) -> int:
    return conn.execute(select(func.count()).select_from(_seat).where(_seat.c.session_id == session_id)).scalar_one()


def recused_ids(conn: Connection, case_id: int) -> set[int]:
    """Members with a confirmed or still-pending conflict on the case (a pending one recuses until dismissed)."""
    return set(conn.execute(select(_conflict.c.user_id).where(
        _conflict.c.case_id == case_id, _conflict.c.status.in_(("confirmed", "pending")))).scalars())


def quorum_refusal(conn: Connection, session_id: int | None, fraction: Fraction) -> str | None:
    """None when the session's sitting is quorate, else the reason in Chinese."""
    if session_id is None:
        return "本案尚未分配评审会"
    seated = _seated_count(conn, session_id)
    present = len(_present_ids(conn, session_id))
    if seated == 0 or present < fraction * seated:
        return f"出席 {present} 人，未达到法定人数（评委会 {seated} 人的 {fraction}）"
    return None


def compute_tally(conn: Connection, case: dict, round_: int, quorum: Fraction, pass_: Fraction) -> Tally | None:
    """The tally of the open box of ``case`` in ``round_``; None when no open box exists."""
    box = current_box(conn, case["id"], round_)
    if box is None or box["closed_at"] is not None:
        return None
    counts = dict(conn.execute(select(_ballot.c.choice, func.count()).where(_ballot.c.box_id == box["id"])
                               .group_by(_ballot.c.choice)).all())
    present = _present_ids(conn, case["session_id"]) if case["session_id"] else set()
    recused = len(present & recused_ids(conn, case["id"]))
    return Tally(box_id=box["id"], seated=_seated_count(conn, case["session_id"]) if case["session_id"] else 0,
                 present=len(present), recused=recused, yes=counts.get("yes", 0), no=counts.get("no", 0),
                 abstain=counts.get("abstain", 0), quorum_fraction=quorum, pass_fraction=pass_)


def tally_for(ctx: TransitionContext) -> Tally | None:
    """The tally for the case being fired, computed once per firing."""
    if "tally" not in ctx.cache:
        ctx.cache["tally"] = compute_tally(ctx.conn, ctx.case, ctx.case_data.get("round", 1),
                                           ctx.fraction("quorum_fraction"), ctx.fraction("pass_fraction"))
    return ctx.cache["tally"]


def close_box(conn: Connection, tally: Tally, now) -> None:
    """Close the box with its tally; after this no vote is accepted."""
    conn.execute(update(_box).where(_box.c.id == tally.box_id).values(
        closed_at=now, seated=tally.seated, present=tally.present, eligible=tally.eligible, yes=tally.yes,
        no=tally.no, abstain=tally.abstain, passed=tally.passed))


def _lock_case(db: Database, conn: Connection, case_id: int) -> dict:
    stmt = select(_case.c.id, _case.c.state, _case.c.session_id, _case.c.data).where(_case.c.id == case_id)
    if db.is_postgres:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().first()
    if row is None:
        raise CaseNotFound("案件不存在", "No such case")
    return dict(row)


def _seat_of(conn: Connection, session_id: int | None, user_id: int | None) -> str | None:
    if session_id is None or user_id is None:
        return None
    return conn.execute(select(_seat.c.seat_role).where(_seat.c.session_id == session_id,
                                                       _seat.c.user_id == user_id)).scalar()


def record_attendance(db: Database, session_id: int, user_id: int) -> None:
    """Record a seated member as present at the sitting (idempotent)."""
    with db.write() as conn:
        if _seat_of(conn, session_id, user_id) is None:
            raise PermissionDenied("该专家不是本评审会委员", "Not a member of this session's committee")
        exists = conn.execute(select(_att.c.id).where(_att.c.session_id == session_id,
                                                      _att.c.user_id == user_id)).scalar()
        if exists is None:
            conn.execute(insert(_att).values(session_id=session_id, user_id=user_id, recorded_at=utcnow()))


def submit_opinion(db: Database, case_id: int, actor: Actor, recommendation: str, scores: dict | None = None,
                   text: str = "") -> None:
    """Store a pre-review opinion from a seated, unconflicted member while the case is in pre-review."""
    if recommendation not in CHOICES:
        raise InvalidAction(f"评议建议必须是：{'、'.join(CHOICES.values())}", "Invalid recommendation")
    with db.write() as conn:
        case = _lock_case(db, conn, case_id)
        if case["state"] != "pre_review":
            raise InvalidAction("案件不在评议阶段，不能提交评议意见", "The case is not in pre-review")
        if _seat_of(conn, case["session_id"], actor.user_id) is None:
            raise PermissionDenied("您不是本评审会委员", "You are not on this committee")
        if actor.user_id in recused_ids(conn, case_id):
            raise PermissionDenied("您与本案存在利益冲突，须回避", "You are recused from this case")
        round_ = (case["data"] or {}).get("round", 1)
        try:
            with conn.begin_nested():
                conn.execute(insert(_opinion).values(case_id=case_id, reviewer_id=actor.user_id, round=round_,
                                                     scores=scores or {}, recommendation=recommendation,
                                                     text=text, submitted_at=utcnow()))
        except IntegrityError:
            raise InvalidAction("您已提交过本轮评议意见", "You already gave an opinion this round") from None


def cast_vote(db: Database, case_id: int, actor: Actor, choice: str) -> None:
    """Cast one secret vote: present, seated, unrecused members only, once, while the box is open.

    Runs under the case lock, so a vote racing the close is either counted before it or refused after it.
    """
    if choice not in CHOICES:
        raise InvalidAction("无效的表决选项", "Invalid choice")
    with db.write() as conn:
        case = _lock_case(db, conn, case_id)
        if case["state"] != "committee_vote":
            raise InvalidAction("案件不在表决阶段", "The case is not at the vote")
        box = current_box(conn, case_id, (case["data"] or {}).get("round", 1))
        if box is None:
            raise InvalidAction("投票尚未开启", "The ballot is not open")
        if box["closed_at"] is not None:
            raise InvalidAction("投票已结束，不再接受投票", "The ballot is closed")
        if _seat_of(conn, case["session_id"], actor.user_id) is None:
            raise PermissionDenied("您不是本评审会委员，不能投票（不得委托投票）",
                                   "Only seated members vote (no proxies)")
        if actor.user_id not in _present_ids(conn, case["session_id"]):
            raise PermissionDenied("您未登记出席，不能投票", "You are not recorded present")
        if actor.user_id in recused_ids(conn, case_id):
            raise PermissionDenied("您与本案存在利益冲突，须回避", "You are recused from this case")
        try:
            with conn.begin_nested():
                conn.execute(insert(_part).values(box_id=box["id"], member_id=actor.user_id))
        except IntegrityError:
            raise InvalidAction("您已投过票", "You have already voted") from None
        conn.execute(insert(_ballot).values(id=secrets.token_hex(16), box_id=box["id"], choice=choice))
