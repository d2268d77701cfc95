"""The sitting's agenda as the chair works it: every case before the committee with its ballot's progress as
counts only, and the ballots of many cases opened or closed in one command.

A batch is a convenience for the people in the room, never a shortcut through the rules: each case is still
fired through :func:`workflow.engine.core.fire` on its own (so each leaves its own audit event, and its guards —
quorum, the sitting open, both key shares at the close — run for it), and the trigger is found in the case's
pipeline by what it does (the transition that runs the ``open_ballot_box`` or ``close_ballot_box`` action),
never by a state name. A case refused in a batch is reported with its reason; the others go ahead.

Progress is "已投 n / 出席 m": how many present members took part in the box (participation rows), never
what anyone chose — before the close nothing can tell, and the close decrypts only the box's sums.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from workflow.access.roles import Actor
from workflow.db import Database
from workflow.engine import core as engine
from workflow.errors import InvalidAction, PermissionDenied, WorkflowError
from workflow.models import (
    Attendance,
    BallotBox,
    BallotParticipation,
    Case,
    CommitteeSeat,
    Conflict,
    ReviewAssignment,
    User,
)
from workflow.panel.ballot_keys import BallotShares, rebuild_key
from workflow.panel.conflicts import RECUSING
from workflow.pipeline.catalog import get_pipeline, screen_state
from workflow.records.queries import session_row

_case = Case.__table__
_box = BallotBox.__table__
_part = BallotParticipation.__table__
_seat = CommitteeSeat.__table__
_att = Attendance.__table__
_conflict = Conflict.__table__
_assignment = ReviewAssignment.__table__
_user = User.__table__

OPEN_ACTION = "open_ballot_box"
"""The action a pipeline runs when a case's ballot opens (the trigger is found by it, not by name)."""
CLOSE_ACTION = "close_ballot_box"
"""The action a pipeline runs when a case's ballot closes and is counted."""


@dataclass(frozen=True)
class AgendaRow:
    """One case before the committee and where its ballot stands — counts only, never a choice."""

    case_id: int
    reference: str
    applicant: str
    target_title: str
    level: str
    specialty: str
    state: str
    pipeline_id: str
    pipeline_version: int
    step: str
    round: int
    box: str | None
    """None before the ballot opens, then "open" or "closed"."""
    voted: int
    present: int
    recused: int
    reviewers: tuple[str, ...] = ()

    @property
    def eligible(self) -> int:
        """Present members who may vote on the case (recused members leave the denominator)."""
        return self.present - self.recused

    @property
    def may_open(self) -> bool:
        """The case is at the ballot step and its ballot for this round has not been opened."""
        return self.step == "ballot" and self.box is None

    @property
    def may_close(self) -> bool:
        """The case's ballot is open."""
        return self.box == "open"


@dataclass(frozen=True)
class BatchOutcome:
    """What a batch did: the cases it moved, the cases refused with their reasons (Chinese and English)."""

    done: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    minutes: dict[str, Any] | None = None
    """After a batch close: the sitting's minutes as they stand, every closed box included."""


def _is_chair(conn: Connection, session_id: int, actor: Actor) -> bool:
    if actor.user_id is None or "panel_chair" not in actor.roles:
        return False
    return conn.execute(select(_seat.c.seat_role).where(
        _seat.c.session_id == session_id, _seat.c.user_id == actor.user_id)).scalar() == "chair"


def _require_runner(conn: Connection, session_id: int, actor: Actor) -> dict[str, Any]:
    """The session, for its chair or the people who organise it (its authority's officer, administrators)."""
    from workflow.panel.committee import administering_role

    session = session_row(conn, session_id)
    if session is None:
        raise InvalidAction("评审会不存在", "No such review session")
    if not _is_chair(conn, session_id, actor) and administering_role(session, actor) is None:
        raise PermissionDenied("只有主任委员和本评审会的组织者可以查看表决进度",
                               "Only the chair and the session's organisers see the ballot progress")
    return session


def present_members(conn: Connection, session_id: int) -> set[int]:
    """Seated members recorded present (a presence without a seat counts for nothing)."""
    return set(conn.execute(select(_att.c.user_id).join(_seat, (_seat.c.session_id == _att.c.session_id)
                                                        & (_seat.c.user_id == _att.c.user_id))
                            .where(_att.c.session_id == session_id)).scalars())


def committee_cases(db: Database, conn: Connection, session_id: int) -> list[dict[str, Any]]:
    """The session's cases at a committee step (per their pipelines' definitions), oldest first, each with its
    current round and that round's box (id, closed or not); three statements however many cases."""
    rows = conn.execute(
        select(_case.c.id, _case.c.reference, _case.c.state, _case.c.pipeline_id, _case.c.pipeline_version,
               _case.c.data, _case.c.target_title, _case.c.level, _case.c.specialty,
               _user.c.display_name.label("applicant"))
        .join(_user, _user.c.id == _case.c.applicant_id)
        .where(_case.c.session_id == session_id).order_by(_case.c.id)).mappings().all()
    cases = []
    for r in rows:
        step = screen_state(db, r["pipeline_id"], r["pipeline_version"], r["state"]).panel_step
        if step is not None:
            cases.append({**r, "step": step, "round": (r["data"] or {}).get("round", 1), "box_id": None,
                          "box": None})
    by_id = {c["id"]: c for c in cases}
    if by_id:
        for box_id, case_id, round_, closed_at in conn.execute(
                select(_box.c.id, _box.c.case_id, _box.c.round, _box.c.closed_at)
                .where(_box.c.case_id.in_(list(by_id)))):
            if round_ == by_id[case_id]["round"]:
                by_id[case_id].update(box_id=box_id, box="open" if closed_at is None else "closed")
    return cases


def recused_by_case(conn: Connection, case_ids: list[int], user_ids: set[int] | None = None) -> dict[int, set[int]]:
    """Per case, the members (of ``user_ids`` when given) whose conflict recuses them."""
    out: dict[int, set[int]] = {cid: set() for cid in case_ids}
    if not case_ids:
        return out
    stmt = select(_conflict.c.case_id, _conflict.c.user_id).where(
        _conflict.c.case_id.in_(case_ids), _conflict.c.status.in_(RECUSING))
    for case_id, user_id in conn.execute(stmt):
        if user_ids is None or user_id in user_ids:
            out[case_id].add(user_id)
    return out


def agenda(db: Database, session_id: int, actor: Actor) -> list[AgendaRow]:
    """Every case before the committee with its ballot's progress and its review group, for the chair and the
    organisers: per case how many present members have voted, never how."""
    with db.read() as conn:
        _require_runner(conn, session_id, actor)
        cases = committee_cases(db, conn, session_id)
        present = present_members(conn, session_id)
        ids = [c["id"] for c in cases]
        recused = recused_by_case(conn, ids, present)
        box_ids = [c["box_id"] for c in cases if c["box_id"] is not None]
        voted: dict[int, int] = dict(conn.execute(
            select(_part.c.box_id, func.count()).where(_part.c.box_id.in_(box_ids)).group_by(_part.c.box_id)
        ).all()) if box_ids else {}
        reviewers: dict[int, list[str]] = {cid: [] for cid in ids}
        rounds = {c["id"]: c["round"] for c in cases}
        if ids:
            for case_id, round_, name in conn.execute(
                    select(_assignment.c.case_id, _assignment.c.round, _user.c.display_name)
                    .join(_user, _user.c.id == _assignment.c.reviewer_id)
                    .where(_assignment.c.case_id.in_(ids)).order_by(_assignment.c.id)):
                if round_ == rounds[case_id]:  # the review group of the case's current round
                    reviewers[case_id].append(name)
    return [AgendaRow(case_id=c["id"], reference=c["reference"], applicant=c["applicant"],
                      target_title=c["target_title"], level=c["level"], specialty=c["specialty"], state=c["state"],
                      pipeline_id=c["pipeline_id"], pipeline_version=c["pipeline_version"], step=c["step"],
                      round=c["round"], box=c["box"], voted=int(voted.get(c["box_id"], 0)), present=len(present),
                      recused=len(recused[c["id"]]), reviewers=tuple(reviewers[c["id"]])) for c in cases]


def _trigger_running(db: Database, case: dict[str, Any], action: str) -> str | None:
    """The trigger that leaves the case's state running ``action``, as its pipeline version defines it."""
    pipeline = get_pipeline(db, case["pipeline_id"], case["pipeline_version"])
    for t in pipeline.transitions:
        if case["state"] in t.source and action in t.actions:
            return t.trigger
    return None


def _chosen(db: Database, session_id: int, actor: Actor, case_ids: list[int] | None
            ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The session's committee cases picked by ``case_ids`` (all when None), and the picks that are not."""
    with db.read() as conn:
        if not _is_chair(conn, session_id, actor):
            raise PermissionDenied("只有本评审会主任委员可以开启或结束投票",
                                   "Only the session's chair opens and closes ballots")
        cases = committee_cases(db, conn, session_id)
    if case_ids is None:
        return cases, []
    wanted = set(case_ids)
    if not wanted:
        raise InvalidAction("请至少选择一个案件", "Choose at least one case")
    picked = [c for c in cases if c["id"] in wanted]
    strangers = [{"case_id": cid, "reference": str(cid), "reason": "该案件不在本评审会的评审议程中",
                  "reason_en": "Not on this sitting's agenda"} for cid in sorted(wanted - {c["id"] for c in cases})]
    return picked, strangers


def _fire_each(db: Database, cases: list[dict[str, Any]], action: str, actor: Actor, refused: list,
               secrets: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    done = []
    for case in cases:
        trigger = _trigger_running(db, case, action)
        if trigger is None:
            refused.append({"case_id": case["id"], "reference": case["reference"],
                            "reason": "案件当前环节不能进行此操作", "reason_en": "Not possible in the case's step"})
            continue
        try:
            fired = engine.fire(db, case["id"], trigger, actor, secrets=secrets)
        except WorkflowError as err:
            refused.append({"case_id": case["id"], "reference": case["reference"], "reason": err.message_zh,
                            "reason_en": err.message_en})
            continue
        done.append({"case_id": case["id"], "reference": case["reference"], "applicant": case["applicant"],
                     "target_title": case["target_title"], "to_state": fired.to_state,
                     "pipeline_id": case["pipeline_id"], "pipeline_version": case["pipeline_version"],
                     "tally": fired.payload.get("tally")})
    return done


def open_ballots(db: Database, session_id: int, actor: Actor, case_ids: list[int] | None = None) -> BatchOutcome:
    """The chair opens the ballot of every case on the agenda that awaits it (``case_ids`` None), or of the
    chosen cases, in one command: each through the engine, with its own guards and audit event."""
    picked, refused = _chosen(db, session_id, actor, case_ids)
    if case_ids is None:
        picked = [c for c in picked if c["step"] == "ballot" and c["box"] is None]
    else:
        for c in [c for c in picked if c["box"] is not None]:
            refused.append({"case_id": c["id"], "reference": c["reference"], "reason": "本轮投票已开启过",
                            "reason_en": "The ballot was already opened this round"})
        picked = [c for c in picked if c["box"] is None]
    done = _fire_each(db, picked, OPEN_ACTION, actor, refused)
    return BatchOutcome(done=done, refused=refused)


def close_ballots(db: Database, session_id: int, actor: Actor, case_ids: list[int] | None,
                  shares: BallotShares | None) -> BatchOutcome:
    """The chair closes the chosen open ballots (all open ones when ``case_ids`` is None) with both key shares,
    each through the engine as a single close would; returns every tally and the minutes as they now stand.

    The shares are checked once before anything closes, so wrong or missing shares change nothing.
    """
    from workflow.panel.sitting import minutes_data

    picked, refused = _chosen(db, session_id, actor, case_ids)
    with db.read() as conn:
        # Refuses (InvalidAction) wrong, swapped or missing shares; the rebuilt key is dropped at once.
        checked_key = rebuild_key(conn, session_id, shares)
        del checked_key
    for c in [c for c in picked if c["box"] != "open"]:
        refused.append({"case_id": c["id"], "reference": c["reference"], "reason": "投票未在进行中",
                        "reason_en": "The ballot is not open"})
    picked = [c for c in picked if c["box"] == "open"]
    done = _fire_each(db, picked, CLOSE_ACTION, actor, refused, secrets={"ballot_shares": shares})
    return BatchOutcome(done=done, refused=refused, minutes=minutes_data(db, session_id, actor))
