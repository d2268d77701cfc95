"""A member's ballot sheet: every case whose ballot is open at the sitting, marked and submitted at once.

The sheet of a member is every case of the session with an open box this round, while the member is seated
and recorded present, leaving out the cases they are recused from and those they already voted on. Each
entry carries a reminder of the case's pre-review opinions. The marks live only in the member's form until
they submit it — nothing is stored before (so no draft exists for the chair, the database or anyone to read);
one submission casts every marked case through :func:`workflow.panel.ballots.cast_votes`, the same checks as a
single vote, in one transaction: all are cast or none is. A cast ballot cannot be changed, and a ballot
closed meanwhile refuses the submission (naming the case) without casting anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from workflow.access.roles import Actor
from workflow.db import Database
from workflow.errors import InvalidAction, PermissionDenied
from workflow.models import BallotParticipation, CommitteeSeat, Opinion, Sitting, User
from workflow.panel import ballots
from workflow.panel.agenda import committee_cases, present_members, recused_by_case

_part = BallotParticipation.__table__
_seat = CommitteeSeat.__table__
_opinion = Opinion.__table__
_sitting = Sitting.__table__
_user = User.__table__


@dataclass(frozen=True)
class SheetEntry:
    """One case on the sheet, with the pre-review opinions of its current round as a reminder."""

    case_id: int
    reference: str
    applicant: str
    target_title: str
    level: str
    specialty: str
    opinions: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class BallotSheet:
    """What the member may vote on now, and why the sheet is empty when it is."""

    session_id: int
    seat: str
    present: bool
    sitting_open: bool
    entries: list[SheetEntry] = field(default_factory=list)
    voted: list[str] = field(default_factory=list)
    """References of the open ballots this member has already voted on (the choice is not kept anywhere)."""
    recused: list[str] = field(default_factory=list)
    """References of the open ballots this member is recused from (left off the sheet)."""


def ballot_sheet(db: Database, session_id: int, actor: Actor) -> BallotSheet:
    """The acting member's sheet for the session's sitting; refused to anyone without a seat on it."""
    member = actor.user_id
    with db.read() as conn:
        seat = None if member is None else conn.execute(select(_seat.c.seat_role).where(
            _seat.c.session_id == session_id, _seat.c.user_id == member)).scalar()
        if member is None or seat is None:
            raise PermissionDenied("您不是本评审会委员，没有表决票（不得委托投票）",
                                   "You hold no seat on this committee (no proxy votes)")
        sitting = conn.execute(select(_sitting.c.closed_at).where(_sitting.c.session_id == session_id)).first()
        sitting_open = sitting is not None and sitting[0] is None
        present = actor.user_id in present_members(conn, session_id)
        open_cases = [c for c in committee_cases(db, conn, session_id) if c["step"] == "ballot" and c["box"] == "open"]
        ids = [c["id"] for c in open_cases]
        recused = recused_by_case(conn, ids, {member})
        voted_boxes = set(conn.execute(select(_part.c.box_id).where(
            _part.c.member_id == actor.user_id, _part.c.box_id.in_([c["box_id"] for c in open_cases]))).scalars()) \
            if open_cases else set()
        opinions: dict[int, list[dict[str, Any]]] = {cid: [] for cid in ids}
        rounds = {c["id"]: c["round"] for c in open_cases}
        if ids:
            for row in conn.execute(
                    select(_opinion.c.case_id, _opinion.c.round, _opinion.c.recommendation, _opinion.c.scores,
                           _opinion.c.text, _user.c.display_name.label("reviewer"))
                    .join(_user, _user.c.id == _opinion.c.reviewer_id)
                    .where(_opinion.c.case_id.in_(ids)).order_by(_opinion.c.id)).mappings():
                if row["round"] == rounds[row["case_id"]]:
                    opinions[row["case_id"]].append({
                        "reviewer": row["reviewer"], "recommendation": row["recommendation"],
                        "label": ballots.CHOICES.get(row["recommendation"], row["recommendation"]),
                        "scores": dict(row["scores"] or {}), "text": row["text"]})
    entries, voted, recused_refs = [], [], []
    for c in open_cases:
        if actor.user_id in recused[c["id"]]:
            recused_refs.append(c["reference"])
        elif c["box_id"] in voted_boxes:
            voted.append(c["reference"])
        elif present and sitting_open:
            entries.append(SheetEntry(case_id=c["id"], reference=c["reference"], applicant=c["applicant"],
                                      target_title=c["target_title"], level=c["level"], specialty=c["specialty"],
                                      opinions=tuple(opinions[c["id"]])))
    return BallotSheet(session_id=session_id, seat=seat, present=present, sitting_open=sitting_open,
                       entries=entries, voted=voted, recused=recused_refs)


def submit_sheet(db: Database, session_id: int, actor: Actor, choices: dict[int, str]) -> int:
    """Cast the member's marks of their sheet in one submission; returns how many ballots were cast.

    Every marked case must be on the member's sheet of this session now (an open box, present, not recused,
    not yet voted); each vote is then cast by :func:`workflow.panel.ballots.cast_votes`, which checks every rule
    again under the case locks. Nothing is cast unless all are.
    """
    if not choices:
        raise InvalidAction("表决票上没有选择任何案件", "The ballot sheet marks no case")
    if any(choice not in ballots.CHOICES for choice in choices.values()):
        raise InvalidAction("无效的表决选项", "Invalid choice")
    sheet = ballot_sheet(db, session_id, actor)
    on_sheet = {e.case_id: e.reference for e in sheet.entries}
    if not sheet.sitting_open:
        raise InvalidAction("评审会议未在进行中", "The sitting is not open")
    if not sheet.present:
        raise PermissionDenied("您未登记出席，不能投票", "You are not recorded present")
    strangers = sorted(set(choices) - set(on_sheet))
    if strangers:
        raise InvalidAction(_not_on_sheet(db, strangers, sheet), "Some marked cases are not on your ballot sheet")
    return ballots.cast_votes(db, actor, choices, references=on_sheet)


def _not_on_sheet(db: Database, case_ids: list[int], sheet: BallotSheet) -> str:
    """Why the marked cases are not on the sheet, naming each (already voted, recused, or not open)."""
    from workflow.models import Case

    case = Case.__table__
    with db.read() as conn:
        refs = dict(conn.execute(select(case.c.id, case.c.reference).where(case.c.id.in_(case_ids))).all())
    parts = []
    for cid in case_ids:
        ref = refs.get(cid, str(cid))
        if ref in sheet.voted:
            parts.append(f"{ref}（您已投过票，投出后不能更改）")
        elif ref in sheet.recused:
            parts.append(f"{ref}（您须回避）")
        else:
            parts.append(f"{ref}（投票未在进行中）")
    return "以下案件不在您的表决票上：" + "、".join(parts)
