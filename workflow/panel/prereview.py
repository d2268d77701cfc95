"""Pre-review (专业组评议): each case's review group, the opinions it gives, and the defence interview (答辩).

A group of at least ``min_pre_reviewers`` (pipeline parameter, session may override) is drawn at random
from the seated committee members without a conflict on the case — the same recorded, re-runnable draw as
the committee (:mod:`workflow.panel.committee`, kind ``pre_review``, ids are user ids). An appeal round gets a
different group: everyone who reviewed the case in an earlier round is excluded. Only the group may give
opinions (:func:`workflow.panel.ballots.submit_opinion`); opinions are shown to the sitting (seated, unrecused
members) and never to the applicant. Senior levels may have a defence interview scheduled and recorded
here; recording it moves the case on to the vote through the engine.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from workflow.access.roles import Actor
from workflow.db import Database
from workflow.engine import core as engine
from workflow.errors import CaseNotFound, InvalidAction, MissingData, PermissionDenied
from workflow.models import (
    Case,
    CommitteeSeat,
    Defence,
    Opinion,
    ReviewAssignment,
    ReviewSession,
    User,
    as_utc,
    utcnow,
)
from workflow.panel.audit import append_draw, append_log
from workflow.panel.committee import administering_role, run_draw
from workflow.panel.conflicts import detect, recused_ids
from workflow.pipeline.catalog import get_pipeline, screen_state

_case = Case.__table__
_seat = CommitteeSeat.__table__
_assignment = ReviewAssignment.__table__
_opinion = Opinion.__table__
_defence = Defence.__table__
_session = ReviewSession.__table__
_user = User.__table__

DEFENCE_RESULTS = {"pass": "答辩合格", "fail": "答辩不合格"}
"""Defence results and their labels (the defence informs the vote; it does not decide it)."""

DEFAULT_MIN_PRE_REVIEWERS = 3
"""Used only for a pipeline that does not define ``min_pre_reviewers`` (人社部令第40号: at least 3)."""


DEFENCE_GUARD = "defence_recorded"
"""The guard of the transition the defence form fires: it passes once the form has stored the record. The
transition is found by it, whatever the pipeline calls its trigger."""


def defence_trigger(db: Database, case: dict[str, Any]) -> str | None:
    """The trigger that leaves the case's current state once its defence is recorded (None: there is none)."""
    pipeline = get_pipeline(db, case["pipeline_id"], case["pipeline_version"])
    return next((t.trigger for t in pipeline.transitions
                 if case["state"] in t.source and DEFENCE_GUARD in t.guards), None)


def fired_by_defence_form(guards: Any) -> bool:
    """True for a transition the defence form fires after storing the record (the case page offers no
    generic form for it: firing it there would skip the record)."""
    return DEFENCE_GUARD in guards


def _step(db: Database, case: dict[str, Any]) -> str | None:
    """The committee's step on the case in its current state (opinions, interview, ballot), from its pipeline."""
    return screen_state(db, case["pipeline_id"], case["pipeline_version"], case["state"]).panel_step


def _case_row(conn: Connection, case_id: int, *, lock: bool) -> dict[str, Any]:
    stmt = (select(_case, _session.c.parameters.label("session_parameters"), _session.c.authority_org_id
                   .label("session_authority"))
            .select_from(_case.outerjoin(_session, _session.c.id == _case.c.session_id))
            .where(_case.c.id == case_id))
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=_case)
    row = conn.execute(stmt).mappings().first()
    if row is None:
        raise CaseNotFound("案件不存在", "No such case")
    return dict(row)


def _seats(conn: Connection, session_id: int | None) -> dict[int, str]:
    if session_id is None:
        return {}
    return dict(conn.execute(select(_seat.c.user_id, _seat.c.seat_role).where(_seat.c.session_id == session_id)).all())


def _organiser_role(conn: Connection, case: dict[str, Any], actor: Actor) -> str:
    """The chair (seated, not recused on this case) or whoever administers the session; else refuse."""
    if (actor.user_id is not None and "panel_chair" in actor.roles
            and _seats(conn, case["session_id"]).get(actor.user_id) == "chair"
            and actor.user_id not in recused_ids(conn, case["id"])):
        return "panel_chair"
    role = administering_role({"authority_org_id": case["session_authority"]}, actor)
    if role is None:
        raise PermissionDenied("只有主任委员或评审会组织者可以安排评议", "Only the chair or the organiser")
    return role


def _round(case: dict[str, Any]) -> int:
    return int((case["data"] or {}).get("round", 1))


def min_pre_reviewers(db: Database, case: dict[str, Any]) -> int:
    """The case's minimum group size: the pipeline parameter with the session's override."""
    pipeline = get_pipeline(db, case["pipeline_id"], case["pipeline_version"])
    params = engine.effective_params(pipeline, case["session_parameters"])
    return int(params.get("min_pre_reviewers", DEFAULT_MIN_PRE_REVIEWERS))


def assign_reviewers(db: Database, case_id: int, actor: Actor, *, count: int | None = None, seed: int | None = None,
                     reviewers: list[int] | None = None, now: datetime | None = None) -> list[int]:
    """Form (or top up) the case's review group for the current round; returns the group's members.

    Random by default: enough members are drawn to bring the unrecused group to ``max(count,
    min_pre_reviewers)``, recorded in ``committee_draw``. ``reviewers`` assigns named members instead (the
    chair's manual choice, logged in the panel log). Either way only seated members without a conflict on
    the case, and — in an appeal round — none who reviewed it before.
    """
    now = now or utcnow()
    detect(db, case_id, actor=actor)  # conflicts found now must already exclude their members
    with db.write() as conn:
        case = _case_row(conn, case_id, lock=True)
        role = _organiser_role(conn, case, actor)
        if _step(db, case) != "opinions":
            raise InvalidAction("案件不在评议阶段，不能组建评议组", "The case is not in pre-review")
        round_ = _round(case)
        needed = max(int(count or 0), min_pre_reviewers(db, case))
        recused = recused_ids(conn, case_id)
        rows = conn.execute(select(_assignment.c.reviewer_id, _assignment.c.round)
                            .where(_assignment.c.case_id == case_id)).all()
        current = {uid for uid, r in rows if r == round_}
        earlier = {uid for uid, r in rows if r < round_}
        candidates = sorted(set(_seats(conn, case["session_id"])) - current - earlier - recused)
        if reviewers is not None:
            chosen = sorted(set(reviewers))
            outside = [u for u in chosen if u not in candidates]
            if not chosen or outside:
                raise InvalidAction("指定的评议专家须为本评审会委员、无回避情形、未曾评议本案且尚未分配",
                                    "Named reviewers must be seated, unconflicted, new to this case")
            draw_id = None
            append_log(conn, case["session_id"], "reviewers_assigned", actor, role=role, case_id=case_id,
                       payload={"round": round_, "reviewers": chosen}, now=now)
        else:
            missing = needed - len(current - recused)
            if missing <= 0:
                raise InvalidAction(f"本轮评议组已有 {len(current - recused)} 名专家，无需再抽取",
                                    "The review group is already complete")
            if len(candidates) < missing:
                raise InvalidAction(f"可抽取的委员 {len(candidates)} 人，不足 {missing} 人（已排除回避及前轮评议专家）",
                                    "Not enough eligible members for the review group")
            seed = secrets.randbits(64) if seed is None else int(seed)
            chosen, _ = run_draw(seed, candidates, missing)
            record = append_draw(conn, {
                "session_id": case["session_id"], "kind": "pre_review", "case_id": case_id, "seed": str(seed),
                "parameters": {"size": missing, "round": round_, "min_pre_reviewers": needed,
                               "excluded_earlier_rounds": sorted(earlier)},
                "candidates": candidates, "result": chosen, "actor_id": actor.user_id, "actor_role": role,
                "created_at": now})
            draw_id = record["id"]
        for uid in chosen:
            conn.execute(insert(_assignment).values(case_id=case_id, round=round_, reviewer_id=uid, draw_id=draw_id,
                                                    assigned_by=actor.user_id, assigned_at=now))
        return sorted(current | set(chosen))


def assigned_reviewers(db: Database, case_id: int, round_: int | None = None) -> list[int]:
    """User ids of the case's review group in ``round_`` (default: the current round)."""
    with db.read() as conn:
        case = _case_row(conn, case_id, lock=False)
        r = _round(case) if round_ is None else round_
        return sorted(conn.execute(select(_assignment.c.reviewer_id).where(
            _assignment.c.case_id == case_id, _assignment.c.round == r)).scalars())


def _require_sitting_member(conn: Connection, case: dict[str, Any], actor: Actor) -> None:
    """Opinions and defence records are for the sitting: seated, unrecused members (never the applicant)."""
    if actor.user_id is None or actor.user_id not in _seats(conn, case["session_id"]):
        raise PermissionDenied("评议意见仅供评审会委员查阅", "Opinions are for the committee only")
    if actor.user_id in recused_ids(conn, case["id"]):
        raise PermissionDenied("您与本案存在利益冲突，须回避", "You are recused from this case")


def opinions_for(db: Database, case_id: int, actor: Actor) -> list[dict[str, Any]]:
    """The case's pre-review opinions (all rounds) for a seated, unrecused member; refused to anyone else."""
    with db.read() as conn:
        case = _case_row(conn, case_id, lock=False)
        _require_sitting_member(conn, case, actor)
        rows = conn.execute(
            select(_opinion.c.round, _opinion.c.reviewer_id, _user.c.display_name.label("reviewer_name"),
                   _opinion.c.recommendation, _opinion.c.scores, _opinion.c.text, _opinion.c.submitted_at)
            .join(_user, _user.c.id == _opinion.c.reviewer_id)
            .where(_opinion.c.case_id == case_id).order_by(_opinion.c.round, _opinion.c.id)).mappings()
        return [dict(r, submitted_at=as_utc(r["submitted_at"])) for r in rows]


def schedule_defence(db: Database, case_id: int, actor: Actor, *, scheduled_at: datetime, place: str,
                     panel: list[int] | None = None, now: datetime | None = None) -> int:
    """Schedule (or reschedule, until recorded) the case's defence interview; returns the defence id.

    The panel defaults to the round's unrecused review group; named panellists must be seated and unrecused.
    """
    place = (place or "").strip()
    if not place:
        raise MissingData("请填写答辩地点", "Please give the place")
    now = now or utcnow()
    with db.write() as conn:
        case = _case_row(conn, case_id, lock=True)
        role = _organiser_role(conn, case, actor)
        if _step(db, case) != "interview":
            raise InvalidAction("案件不在答辩阶段", "The case is not at the defence stage")
        round_ = _round(case)
        recused = recused_ids(conn, case_id)
        seats = _seats(conn, case["session_id"])
        if panel is None:
            panel = sorted(set(conn.execute(select(_assignment.c.reviewer_id).where(
                _assignment.c.case_id == case_id, _assignment.c.round == round_)).scalars()) - recused)
        panel = sorted(set(panel))
        if not panel or any(u not in seats or u in recused for u in panel):
            raise InvalidAction("答辩专家须为本评审会委员且无回避情形", "Panellists must be seated and unconflicted")
        existing = conn.execute(select(_defence.c.id, _defence.c.recorded_at).where(
            _defence.c.case_id == case_id, _defence.c.round == round_)).first()
        values = {"scheduled_at": scheduled_at, "place": place, "panel": panel}
        if existing is None:
            defence_id = conn.execute(insert(_defence).values(case_id=case_id, round=round_, created_by=actor.user_id,
                                                              created_at=now, record="", **values)
                                      .returning(_defence.c.id)).scalar_one()
        elif existing.recorded_at is not None:
            raise InvalidAction("答辩已记录，不能再改期", "The defence was already recorded")
        else:
            defence_id = existing.id
            conn.execute(update(_defence).where(_defence.c.id == defence_id).values(**values))
        append_log(conn, case["session_id"], "defence_scheduled", actor, role=role, case_id=case_id,
                   payload={"round": round_, "scheduled_at": as_utc(scheduled_at).isoformat(), "place": place,
                            "panel": panel}, now=now)
        return defence_id


def record_defence(db: Database, case_id: int, actor: Actor, *, record: str, result: str, advance: bool = True,
                   now: datetime | None = None) -> None:
    """Store the defence record and result, then (``advance``) fire the transition that leaves the defence
    (the one guarded by :data:`DEFENCE_GUARD`).

    Two transactions on purpose: the record is kept even if the case cannot move on yet (the engine's
    refusal says why), and recording again before the case moves simply corrects it.
    """
    record = (record or "").strip()
    if result not in DEFENCE_RESULTS:
        raise InvalidAction("答辩结果须为：" + "、".join(DEFENCE_RESULTS.values()), "Invalid defence result")
    if not record:
        raise MissingData("请填写答辩记录", "Please write the defence record")
    now = now or utcnow()
    with db.write() as conn:
        case = _case_row(conn, case_id, lock=True)
        role = _organiser_role(conn, case, actor)
        if _step(db, case) != "interview":
            raise InvalidAction("案件不在答辩阶段", "The case is not at the defence stage")
        row = conn.execute(select(_defence.c.id).where(_defence.c.case_id == case_id,
                                                       _defence.c.round == _round(case))).scalar()
        if row is None:
            raise InvalidAction("尚未安排答辩", "No defence has been scheduled")
        conn.execute(update(_defence).where(_defence.c.id == row).values(
            record=record, result=result, recorded_at=now, recorded_by=actor.user_id))
        append_log(conn, case["session_id"], "defence_recorded", actor, role=role, case_id=case_id,
                   payload={"round": _round(case), "result": result}, now=now)
    if advance:
        trigger = defence_trigger(db, case)
        if trigger is None:  # the record is kept; the pipeline names no step after the defence
            raise InvalidAction("本流程未定义答辩完成后的环节", "The pipeline defines no step after the defence")
        engine.fire(db, case_id, trigger, actor, comment=f"{DEFENCE_RESULTS[result]}：{record[:500]}", now=now)


def defence_for(db: Database, case_id: int, actor: Actor) -> dict[str, Any] | None:
    """The current round's defence (schedule, panel, record, result) for the sitting; None if none."""
    with db.read() as conn:
        case = _case_row(conn, case_id, lock=False)
        _require_sitting_member(conn, case, actor)
        row = conn.execute(select(_defence).where(_defence.c.case_id == case_id,
                                                  _defence.c.round == _round(case))).mappings().first()
        return dict(row) if row else None
