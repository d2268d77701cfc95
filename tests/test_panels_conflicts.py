"""Conflicts: detection from the pool, declaration by members, the chair's decision, and the doors it shuts."""

from __future__ import annotations

import pytest
from driver import advance, close_secrets
from panel_helpers import case_at_vote, org_name
from sqlalchemy import select, update

from workflow.directory import actor_for, create_user
from workflow.engine import core as engine
from workflow.errors import GuardRefused, InvalidAction, MissingData, PermissionDenied
from workflow.models import CommitteeSeat, Conflict, Expert, PanelLog
from workflow.panel import ballots, conflicts, prereview
from workflow.panel.audit import verify_chain

_conflict = Conflict.__table__
_log = PanelLog.__table__


def expert_row(world, member, **fields) -> None:
    """Give a seated member an expert-pool row with ``fields``."""
    with world.db.session(write=True) as s:
        s.add(Expert(code=f"E-{member.user_id}", user_id=member.user_id, name=member.name,
                     specialties=["轨道交通装备"], level="正高", **fields))


def conflict_of(world, case_id, user_id):
    with world.db.read() as conn:
        row = conn.execute(select(_conflict).where(_conflict.c.case_id == case_id, _conflict.c.user_id == user_id)
                           ).mappings().first()
        return dict(row) if row else None


def log_kinds(world, case_id):
    with world.db.read() as conn:
        return [r for r in conn.execute(select(_log.c.kind).where(_log.c.case_id == case_id).order_by(_log.c.seq)
                                        ).scalars()]


def at_pre_review(world, **kw) -> int:
    case_id = world.open("industry-session", **kw)
    advance(world, case_id, "pre_review")
    return case_id


@pytest.mark.parametrize(("fields", "kind", "status"), [
    ({"employer_org_id": "employer"}, "employer", "confirmed"),
    ({"employer_name": "employer_name"}, "employer", "confirmed"),
    ({"relations": [{"kind": "relative", "person_id": "applicant"}]}, "relative", "confirmed"),
    ({"relations": [{"kind": "student", "person": "张 伟"}]}, "supervisor_student", "pending"),
    ({"relations": [{"kind": "collaborator", "org": "employer_name"}]}, "collaborator", "confirmed"),
    ({"relations": [{"kind": "other", "org_id": "employer", "note": "兼职顾问"}]}, "other", "confirmed"),
])
def test_detection_from_the_pool(world, fields, kind, status):
    names = {"employer": world.employer, "employer_name": org_name(world.db, world.employer),
             "applicant": world.applicant.user_id}

    def fill(value):
        if isinstance(value, list):
            return [{k: names.get(v, v) for k, v in item.items()} for item in value]
        return names.get(value, value)

    member = world.members[2]
    expert_row(world, member, **{k: fill(v) for k, v in fields.items()})
    case_id = at_pre_review(world)  # entering pre-review runs detection (the detect_conflicts action)
    found = conflict_of(world, case_id, member.user_id)
    assert (found["kind"], found["status"], found["source"]) == (kind, status, "detected")
    assert log_kinds(world, case_id) == ["conflict_detected"]
    assert conflicts.detect(world.db, case_id) == []  # idempotent: nothing new the second time
    group = prereview.assign_reviewers(world.db, case_id, world.chair, count=6)  # all 6 unconflicted seats
    assert len(group) == 6 and member.user_id not in group


def test_same_agency_in_the_fallback_channel(world):
    with world.db.session(write=True) as s:
        agent = create_user(s, "agency_expert", "代理机构专家", ["panel_member"], org=None)
        s.add(CommitteeSeat(session_id=world.session_id, user_id=agent.id))
        s.add(Expert(code="AG-1", user_id=agent.id, name="代理机构专家", specialties=["人力资源"], level="正高",
                     employer_org_id=world.agency))
        s.flush()
        agent_actor = actor_for(s, agent.id)
    case_id = world.open("fallback-filing", data={"account_evidence": {"kind": "freelancer_registration",
                                                                         "registration_no": "HN-1"}})
    advance(world, case_id, "pre_review")
    allowed, reason = conflicts.can_open_dossier(world.db, case_id, agent_actor)
    assert not allowed and "回避" in reason
    assert conflict_of(world, case_id, agent.id)["kind"] == "employer"


def test_login_organisation_counts_too(world):
    with world.db.session(write=True) as s:
        insider = create_user(s, "insider", "同单位专家", ["panel_member"], org=None)
        s.add(CommitteeSeat(session_id=world.session_id, user_id=insider.id))
        s.flush()
        from workflow.models import User

        s.get(User, insider.id).org_id = world.employer
        s.flush()
        actor = actor_for(s, insider.id)
    case_id = at_pre_review(world)
    with pytest.raises(PermissionDenied) as refused:
        conflicts.require_dossier_access(world.db, case_id, actor)
    assert refused.value.status == 403


def test_a_conflicted_member_is_refused_dossier_opinion_and_vote(world):
    member = world.members[0]
    case_id = at_pre_review(world)
    prereview.assign_reviewers(world.db, case_id, world.chair, reviewers=[member.user_id])
    assert conflicts.can_open_dossier(world.db, case_id, member) == (True, "")
    expert_row(world, member, employer_org_id=world.employer)  # the pool learns where they work
    allowed, reason = conflicts.can_open_dossier(world.db, case_id, member)
    assert not allowed and "回避" in reason
    with pytest.raises(PermissionDenied) as refused:
        conflicts.require_dossier_access(world.db, case_id, member)
    assert refused.value.status == 403
    with pytest.raises(PermissionDenied, match="回避") as refused:
        ballots.submit_opinion(world.db, case_id, member, "yes", {"业绩": 90}, "同意")
    assert refused.value.status == 403
    with pytest.raises(PermissionDenied):
        prereview.opinions_for(world.db, case_id, member)


def test_conflict_found_at_the_vote_is_recorded_and_the_vote_refused(world):
    member = world.members[5]
    case_id = case_at_vote(world)
    expert_row(world, member, relations=[{"kind": "relative", "person_id": world.applicant.user_id}])
    with pytest.raises(PermissionDenied, match="回避") as refused:
        ballots.cast_vote(world.db, case_id, member, "yes")
    assert refused.value.status == 403
    assert conflict_of(world, case_id, member.user_id)["status"] == "confirmed"  # survived the refusal
    for m in [world.chair, *world.members[:5]]:
        ballots.cast_vote(world.db, case_id, m, "yes")
    engine.fire(world.db, case_id, "close_ballot", world.chair, secrets=close_secrets(world))
    from panel_helpers import box_of

    box = box_of(world.db, case_id)
    assert (box["present"], box["eligible"], box["yes"]) == (7, 6, 6)


def test_declare_then_chair_confirms(world):
    member = world.members[1]
    case_id = at_pre_review(world)
    with pytest.raises(InvalidAction, match="回避类型"):
        conflicts.declare_conflict(world.db, case_id, member, "enemy")
    with pytest.raises(MissingData):
        conflicts.declare_conflict(world.db, case_id, member, "other", "  ")
    with pytest.raises(PermissionDenied):
        conflicts.declare_conflict(world.db, case_id, world.outsider, "relative", "表兄")
    conflicts.declare_conflict(world.db, case_id, member, "supervisor_student", "申报人硕士导师")
    assert conflict_of(world, case_id, member.user_id)["status"] == "pending"
    assert conflicts.can_open_dossier(world.db, case_id, member)[0] is False  # pending recuses at once
    with pytest.raises(InvalidAction, match="已登记"):
        conflicts.declare_conflict(world.db, case_id, member, "relative", "again")
    for not_chair in (world.members[2], member, world.officer):
        with pytest.raises(PermissionDenied):
            conflicts.decide_conflict(world.db, case_id, member.user_id, not_chair, confirm=True)
    conflicts.decide_conflict(world.db, case_id, member.user_id, world.chair, confirm=True)
    assert conflict_of(world, case_id, member.user_id)["status"] == "confirmed"
    with pytest.raises(InvalidAction, match="已处理"):
        conflicts.decide_conflict(world.db, case_id, member.user_id, world.chair, confirm=False, note="x")
    assert log_kinds(world, case_id) == ["conflict_declared", "conflict_confirmed"]
    listed = conflicts.case_conflicts(world.db, case_id, world.chair)
    assert [(c["display_name"], c["kind_label"], c["status"]) for c in listed] == [
        (member.name, "师生关系", "confirmed")]
    with pytest.raises(PermissionDenied):
        conflicts.case_conflicts(world.db, case_id, world.members[3])


def test_declare_then_chair_dismisses(world):
    member = world.members[1]
    case_id = at_pre_review(world)
    conflicts.declare_conflict(world.db, case_id, member, "collaborator", "十年前同一课题组")
    with pytest.raises(MissingData, match="理由"):
        conflicts.decide_conflict(world.db, case_id, member.user_id, world.chair, confirm=False)
    conflicts.decide_conflict(world.db, case_id, member.user_id, world.chair, confirm=False,
                              note="合作已超过五年，不构成回避情形")
    assert conflict_of(world, case_id, member.user_id)["status"] == "dismissed"
    assert conflicts.can_open_dossier(world.db, case_id, member) == (True, "")
    # a hard fact found later outranks the dismissal
    expert_row(world, member, employer_org_id=world.employer)
    assert conflicts.detect(world.db, case_id)[0]["status"] == "confirmed"
    with world.db.read() as conn:
        assert verify_chain(conn, "panel_log", world.session_id) == []


def test_the_chairs_own_conflict_is_decided_by_an_administrator(world):
    case_id = at_pre_review(world)
    conflicts.declare_conflict(world.db, case_id, world.chair, "relative", "申报人为其外甥")
    with pytest.raises(PermissionDenied):
        conflicts.decide_conflict(world.db, case_id, world.chair.user_id, world.chair, confirm=False, note="x")
    conflicts.decide_conflict(world.db, case_id, world.chair.user_id, world.admin, confirm=True)
    # a recused chair cannot run this case's panel steps either
    with pytest.raises(PermissionDenied):
        engine.fire(world.db, case_id, "complete_pre_review", world.chair)


def test_no_declaration_after_voting(world):
    member = world.members[0]
    case_id = case_at_vote(world)
    ballots.cast_vote(world.db, case_id, member, "no")
    with pytest.raises(InvalidAction, match="已对本案投票"):
        conflicts.declare_conflict(world.db, case_id, member, "relative", "刚想起来")


def test_dossier_only_while_the_case_is_before_the_panel(world):
    case_id = world.open("industry-session")
    advance(world, case_id, "eligibility_recheck")
    allowed, reason = conflicts.can_open_dossier(world.db, case_id, world.members[0])
    assert not allowed and "不在评审阶段" in reason
    assert conflicts.can_open_dossier(world.db, case_id, world.outsider) == (False, "您不是本评审会委员")


def test_recusal_leaves_the_denominator_consistently(world):
    """ballots.recused_ids, the permission check and the tally agree on who is recused."""
    case_id = case_at_vote(world, open_box=False)
    conflicts.declare_conflict(world.db, case_id, world.members[4], "other", "曾为申报人单位提供咨询")
    with world.db.read() as conn:
        assert ballots.recused_ids(conn, case_id) == conflicts.recused_ids(conn, case_id) == {world.members[4].user_id}
    engine.fire(world.db, case_id, "open_ballot", world.chair)
    with pytest.raises(PermissionDenied):
        ballots.cast_vote(world.db, case_id, world.members[4], "yes")
    for m in [world.chair, *world.members[:4]]:
        ballots.cast_vote(world.db, case_id, m, "yes")
    # 5 yes of 6 eligible (7 present - 1 recused): passes; member 5 present but silent
    engine.fire(world.db, case_id, "close_ballot", world.chair, secrets=close_secrets(world))
    from driver import case_row

    assert case_row(world.db, case_id).state == "result_notice"


def test_dismissal_by_the_chair_restores_the_vote(world):
    member = world.members[2]
    case_id = case_at_vote(world)
    conflicts.declare_conflict(world.db, case_id, member, "collaborator", "同一学会理事")
    with pytest.raises(PermissionDenied):
        ballots.cast_vote(world.db, case_id, member, "yes")
    conflicts.decide_conflict(world.db, case_id, member.user_id, world.chair, confirm=False, note="学会兼职不构成回避")
    ballots.cast_vote(world.db, case_id, member, "yes")


def test_detect_conflicts_action_is_registered_for_pipelines():
    from workflow.engine.registry import ACTIONS

    assert "detect_conflicts" in ACTIONS


def test_pending_conflicts_block_the_chair_too(world):
    case_id = case_at_vote(world, open_box=False)
    with world.db.write() as conn:  # the chair's seat is recorded as conflicted by detection
        conn.execute(_conflict.insert().values(case_id=case_id, user_id=world.chair.user_id, kind="employer",
                                               source="detected", status="pending", note=""))
    with pytest.raises(PermissionDenied):
        engine.fire(world.db, case_id, "open_ballot", world.chair)
    with world.db.write() as conn:
        conn.execute(update(_conflict).where(_conflict.c.case_id == case_id).values(status="dismissed"))
    engine.fire(world.db, case_id, "open_ballot", world.chair)
    with pytest.raises(GuardRefused):
        engine.fire(world.db, case_id, "open_ballot", world.chair)


def test_a_conflict_found_after_the_member_voted_is_logged_once_not_recorded(world):
    """The ballot cannot be withdrawn, so recusing now would skew the tally: the chair is told instead."""
    member = world.members[1]
    case_id = case_at_vote(world)
    ballots.cast_vote(world.db, case_id, member, "yes")
    expert_row(world, member, employer_org_id=world.employer)
    assert conflicts.detect(world.db, case_id) == []
    assert conflicts.detect(world.db, case_id) == []
    assert conflict_of(world, case_id, member.user_id) is None
    assert log_kinds(world, case_id) == ["conflict_after_vote"]
