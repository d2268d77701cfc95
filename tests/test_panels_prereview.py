"""Pre-review groups, opinions only from the group and only for the sitting, and the defence interview."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from driver import advance, case_row, prepare, step
from panel_helpers import seat_members

from workflow.engine import core as engine
from workflow.errors import GuardRefused, InvalidAction, MissingData, PermissionDenied
from workflow.models import CommitteeDraw, ReviewSession
from workflow.panel import ballots, committee, conflicts, prereview


def at_pre_review(world, **kw) -> int:
    case_id = world.open("industry-session", **kw)
    advance(world, case_id, "pre_review")
    return case_id


def by_id(world):
    return {a.user_id: a for a in [world.chair, *world.members]}


def test_group_is_drawn_from_unconflicted_seats_and_recorded(world):
    case_id = at_pre_review(world)
    conflicts.declare_conflict(world.db, case_id, world.members[0], "relative", "表兄弟")
    group = prereview.assign_reviewers(world.db, case_id, world.chair, seed=99)
    assert len(group) == 3 and world.members[0].user_id not in group
    draws = [d for d in committee.session_draws(world.db, world.session_id) if d["kind"] == "pre_review"]
    assert len(draws) == 1 and draws[0]["case_id"] == case_id and draws[0]["seed"] == "99"
    assert world.members[0].user_id not in draws[0]["candidates"]
    assert committee.verify_draw(world.db, draws[0]["id"]).ok
    with pytest.raises(InvalidAction, match="无需再抽取"):
        prereview.assign_reviewers(world.db, case_id, world.chair)


def test_group_size_follows_the_parameter(world):
    with world.db.session(write=True) as s:
        s.get(ReviewSession, world.session_id).parameters = {"min_pre_reviewers": 5}
    case_id = at_pre_review(world)
    assert len(prereview.assign_reviewers(world.db, case_id, world.chair)) == 5


def test_top_up_after_a_reviewer_is_recused(world):
    case_id = at_pre_review(world)
    group = prereview.assign_reviewers(world.db, case_id, world.chair)
    leaving = by_id(world)[group[0]]
    conflicts.declare_conflict(world.db, case_id, leaving, "collaborator", "共同发表论文")
    decider = world.admin if leaving == world.chair else world.chair
    conflicts.decide_conflict(world.db, case_id, leaving.user_id, decider, confirm=True)
    bigger = prereview.assign_reviewers(world.db, case_id, world.admin)
    assert len(bigger) == 4 and set(group) < set(bigger)


def test_opinions_only_from_the_group_and_only_for_the_sitting(world):
    case_id = at_pre_review(world)
    group = prereview.assign_reviewers(world.db, case_id, world.chair)
    outsider_member = next(a for uid, a in by_id(world).items() if uid not in group)
    with pytest.raises(PermissionDenied, match="评议组") as refused:
        ballots.submit_opinion(world.db, case_id, outsider_member, "yes", {"业绩": 80}, "同意")
    assert refused.value.status == 403
    for uid in group:
        ballots.submit_opinion(world.db, case_id, by_id(world)[uid], "no", {"业绩": 60, "能力": 70}, "业绩支撑不足")
    with pytest.raises(InvalidAction, match="已提交"):
        ballots.submit_opinion(world.db, case_id, by_id(world)[group[0]], "yes")
    seen = prereview.opinions_for(world.db, case_id, outsider_member)  # the sitting reads them all
    assert [o["reviewer_id"] for o in seen] == group and seen[0]["scores"] == {"业绩": 60, "能力": 70}
    for never in (world.applicant, world.unit, world.outsider):
        with pytest.raises(PermissionDenied):
            prereview.opinions_for(world.db, case_id, never)
    engine.fire(world.db, case_id, "complete_pre_review", world.chair)


def test_assignment_needs_the_chair_or_the_organiser(world):
    case_id = at_pre_review(world)
    for intruder in (world.members[0], world.applicant, world.unit):
        with pytest.raises(PermissionDenied):
            prereview.assign_reviewers(world.db, case_id, intruder)
    assert len(prereview.assign_reviewers(world.db, case_id, world.officer)) == 3


def test_manual_assignment_is_checked_and_logged(world):
    case_id = at_pre_review(world)
    conflicts.declare_conflict(world.db, case_id, world.members[3], "other", "利害关系")
    with pytest.raises(InvalidAction, match="无回避"):
        prereview.assign_reviewers(world.db, case_id, world.chair, reviewers=[world.members[3].user_id])
    with pytest.raises(InvalidAction):
        prereview.assign_reviewers(world.db, case_id, world.chair, reviewers=[world.outsider.user_id])
    chosen = [world.members[0].user_id, world.members[1].user_id]
    assert prereview.assign_reviewers(world.db, case_id, world.chair, reviewers=chosen) == sorted(chosen)


def test_appeal_round_gets_a_different_group(world):
    seat_members(world, 3)  # 10 seated, so a second group of 3 can avoid the first
    case_id = world.open("industry-session")
    advance(world, case_id, "committee_vote")
    first = prereview.assigned_reviewers(world.db, case_id, 1)
    step(world, case_id, "close_ballot", passing=False)
    engine.fire(world.db, case_id, "appeal", world.applicant, data={"reason": "评议未考虑经济效益证明"})
    engine.fire(world.db, case_id, "accept_appeal", world.officer, comment="另组专家复查")
    with pytest.raises(GuardRefused, match="评议意见 0 份"):
        engine.fire(world.db, case_id, "complete_pre_review", world.chair)
    second = prereview.assign_reviewers(world.db, case_id, world.chair)
    assert len(second) == 3 and not set(second) & set(first)
    draw = [d for d in committee.session_draws(world.db, world.session_id) if d["kind"] == "pre_review"][-1]
    assert draw["parameters"]["round"] == 2 and draw["parameters"]["excluded_earlier_rounds"] == first
    with pytest.raises(PermissionDenied):  # a first-round reviewer is not in the new group
        ballots.submit_opinion(world.db, case_id, by_id(world)[first[0]], "yes")
    for uid in second:
        ballots.submit_opinion(world.db, case_id, by_id(world)[uid], "yes", {"业绩": 88}, "复查同意")
    engine.fire(world.db, case_id, "complete_pre_review", world.chair)
    assert case_row(world.db, case_id).state == "committee_vote"


def test_not_enough_members_for_an_appeal_group(world):
    case_id = world.open("industry-session")
    advance(world, case_id, "committee_vote")
    step(world, case_id, "close_ballot", passing=False)
    engine.fire(world.db, case_id, "appeal", world.applicant, data={"reason": "复查"})
    engine.fire(world.db, case_id, "accept_appeal", world.officer, comment="另组专家复查")
    with pytest.raises(InvalidAction, match="不足"):
        prereview.assign_reviewers(world.db, case_id, world.chair, count=5)


def test_defence_scheduled_recorded_and_the_case_moves_to_the_vote(world):
    case_id = world.open("industry-session", level="正高")
    advance(world, case_id, "defence")
    when = datetime(2026, 6, 18, 2, 0, tzinfo=UTC)
    with pytest.raises(MissingData):
        prereview.schedule_defence(world.db, case_id, world.chair, scheduled_at=when, place=" ")
    with pytest.raises(PermissionDenied):
        prereview.schedule_defence(world.db, case_id, world.members[0], scheduled_at=when, place="株洲")
    with pytest.raises(InvalidAction, match="尚未安排"):
        prereview.record_defence(world.db, case_id, world.chair, record="x", result="pass")
    prereview.schedule_defence(world.db, case_id, world.chair, scheduled_at=when, place="长沙市芙蓉区评审中心 3 楼")
    defence = prereview.defence_for(world.db, case_id, world.members[0])
    assert defence["panel"] == prereview.assigned_reviewers(world.db, case_id) and defence["result"] is None
    with pytest.raises(PermissionDenied):
        prereview.defence_for(world.db, case_id, world.applicant)
    with pytest.raises(InvalidAction, match="答辩结果"):
        prereview.record_defence(world.db, case_id, world.chair, record="答辩顺利", result="good")
    prereview.record_defence(world.db, case_id, world.chair, record="陈述清晰，回答问题准确。", result="pass")
    assert case_row(world.db, case_id).state == "committee_vote"
    assert prereview.defence_for(world.db, case_id, world.members[1])["result"] == "pass"
    with pytest.raises(InvalidAction, match="答辩阶段"):
        prereview.schedule_defence(world.db, case_id, world.chair, scheduled_at=when, place="x")


def test_pre_review_draw_record_is_in_the_session_chain(world):
    case_id = at_pre_review(world)
    prereview.assign_reviewers(world.db, case_id, world.chair)
    assert committee.verify_session(world.db, world.session_id).ok is False  # hand-seated world: no committee draw
    with world.db.read() as conn:
        from sqlalchemy import func, select

        kinds = conn.execute(select(CommitteeDraw.__table__.c.kind, func.count())
                             .group_by(CommitteeDraw.__table__.c.kind)).all()
    assert dict(kinds) == {"pre_review": 1}


@pytest.mark.parametrize(("level", "label"), [("副高", "评议完成，提交表决"), ("正高", "评议完成，安排答辩")])
def test_the_chairs_button_says_where_the_case_goes(world, level, label):
    """One action, two branches (a defence only for the levels that need one): the button names the branch
    the case will take, not the first one written."""
    case_id = world.open("industry-session", level=level)
    advance(world, case_id, "pre_review")
    prepare(world, case_id, "complete_pre_review")
    options = {o.trigger: o for o in engine.available_actions(world.db, case_id, world.chair)}
    assert options["complete_pre_review"].allowed
    assert options["complete_pre_review"].label["zh"] == label
