"""Drives a case along a pipeline for tests: picks the right person and data for each step."""

from __future__ import annotations

from datetime import timedelta

from workflow.engine import core as engine
from workflow.engine import timers
from workflow.models import Case, utcnow
from workflow.panel import ballots, prereview, sitting
from workflow.panel.ballot_keys import BallotShares
from workflow.pipeline.catalog import get_pipeline
from workflow.pipeline.schema import Pipeline

DATA_FOR = {
    "corrections": ["补充近三年社保缴纳证明", "代表作需加盖单位公章"],
    "assessment": {"result": "合格", "summary": "年度考核合格，技术水平突出"},
    "reason": "测试理由",
}
FAR_FUTURE = timedelta(days=400)


def actor_for_role(world, role: str, pipeline_id: str):
    """The person in ``world`` who acts in ``role`` on the main applicant's cases."""
    return {
        "applicant": world.applicant,
        "unit_reviewer": world.unit,
        "agency_reviewer": world.agency_reviewer,
        "superior_reviewer": world.superior_reviewer,
        "authority_officer": world.officer,
        "panel_chair": world.chair,
        "panel_member": world.members[0],
        "unit_member": world.colleague,
        "public": world.outsider,
    }[role]


SIDE_TRIGGERS = frozenset({"withdraw", "return_for_correction", "file_objection", "decline_recommendation",
                           "reject_ineligible", "appeal", "revoke", "superior_return"})


def happy_path(p: Pipeline, goal: str = "certified", start: str | None = None) -> list[str]:
    """The shortest list of triggers from ``start`` to ``goal`` avoiding side paths and self-loops."""
    start = start or p.initial
    path = p.shortest_path(start, goal, avoid=SIDE_TRIGGERS)
    if path is None:
        raise AssertionError(f"{p.id}: no path from {start} to {goal}")
    return path


def case_row(db, case_id: int) -> Case:
    """The case as stored now."""
    with db.session() as s:
        return s.get(Case, case_id)


def open_sitting(world) -> None:
    """Have the chair open the session's sitting unless it already is (attendance and ballots need it); the
    committee key's shares are kept on the world (:func:`ballot_shares`), as the chair and officer would."""
    if sitting.sitting_status(world.db, world.session_id) is None:
        keep_shares(world, sitting.open_sitting(world.db, world.session_id, world.chair))


_SHARES: dict[tuple[str, int], BallotShares] = {}
"""The committee keys' shares by (database URL, session): what the chair and the officer keep on paper or USB."""


def keep_shares(world, opened) -> None:
    """Keep the shares a sitting's opening handed out (``opened``: what sitting.open_sitting returned)."""
    if opened.shares is not None:
        remember_shares(world.db, opened.shares.session_id, BallotShares(opened.shares.chair, opened.shares.officer))


def remember_shares(db, session_id: int, shares: BallotShares) -> None:
    """Keep ``shares`` as the session's (e.g. read off the page a browser was shown when the sitting opened)."""
    _SHARES[(str(db.url), session_id)] = shares


def ballot_shares(world, session_id: int | None = None) -> BallotShares:
    """Both shares of the session's committee key, as the chair and the officer enter them to count."""
    return _SHARES[(str(world.db.url), session_id or world.session_id)]


def close_secrets(world, session_id: int | None = None) -> dict:
    """What ``engine.fire(..., "close_ballot", ...)`` needs beside its data: both key shares."""
    return {"ballot_shares": ballot_shares(world, session_id)}


def close_ballot(world, case_id: int, actor=None, **kw):
    """The chair closes the case's ballot with both key shares entered (the test's chair and officer)."""
    return engine.fire(world.db, case_id, "close_ballot", actor or world.chair, secrets=close_secrets(world), **kw)


def prepare(world, case_id: int, trigger: str, *, passing: bool = True) -> None:
    """Do what a trigger's guards need first (a review group and its opinions before pre-review ends, the
    sitting open by the time a case reaches the vote, votes before the count)."""
    db = world.db
    if trigger == "complete_pre_review":
        group = prereview.assigned_reviewers(db, case_id) or prereview.assign_reviewers(db, case_id, world.chair)
        seated = {a.user_id: a for a in [world.chair, *world.members]}
        for uid in group[:3]:
            ballots.submit_opinion(db, case_id, seated[uid], "yes", {"业绩": 90}, "同意推荐")
        open_sitting(world)
    if trigger == "record_defence":
        prereview.schedule_defence(db, case_id, world.chair, scheduled_at=utcnow() + timedelta(days=1),
                                   place="湖南省人才大厦 3 楼答辩室")
        prereview.record_defence(db, case_id, world.chair, record="答辩表现良好，回答准确", result="pass",
                                 advance=False)
    if trigger == "close_ballot":
        open_sitting(world)
        seated = [world.chair, *world.members]
        for m in seated:
            ballots.record_attendance(db, world.session_id, m.user_id)
        if engine.may_fire(db, case_id, "open_ballot", world.chair):
            engine.fire(db, case_id, "open_ballot", world.chair)
        for i, m in enumerate(seated):
            ballots.cast_vote(db, case_id, m, "yes" if passing or i == 0 else "no")


def step(world, case_id: int, trigger: str, *, passing: bool = True):
    """Fire ``trigger`` on the case as whoever the pipeline says may (timers via ``tick``)."""
    db = world.db
    case = case_row(db, case_id)
    p = get_pipeline(db, case.pipeline_id, case.pipeline_version)
    cand = p.by_trigger_source[(trigger, case.state)][0]
    if cand.roles == ["system"]:
        report = timers.tick(db, now=utcnow() + FAR_FUTURE)
        assert (case_id, trigger) in report.fired, report
        return None
    prepare(world, case_id, trigger, passing=passing)
    actor = actor_for_role(world, cand.roles[0], p.id)
    data = {r: DATA_FOR[r] for r in cand.requires if r in DATA_FOR}
    comment = "同意" if "comment" in cand.requires else ""
    secrets = close_secrets(world) if trigger == "close_ballot" else None
    return engine.fire(db, case_id, trigger, actor, comment=comment, data=data, secrets=secrets)


def advance(world, case_id: int, goal: str) -> None:
    """Move the case along the happy path until it is in ``goal``."""
    case = case_row(world.db, case_id)
    p = get_pipeline(world.db, case.pipeline_id, case.pipeline_version)
    for trigger in happy_path(p, goal, case.state):
        step(world, case_id, trigger)
    assert case_row(world.db, case_id).state == goal
