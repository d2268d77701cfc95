"""The behavioural suite every pipeline definition must pass (one run per file in definitions/pipelines).

Structure (reachability, finals, roles on every transition, side paths), a happy path from draft to
certificate through the engine, every side path, refusals for the wrong role and invalid triggers, and the
invariant that no state changes without an event.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from driver import DATA_FOR, advance, case_row, close_secrets, happy_path, step
from sqlalchemy import func, select

from workflow.access.roles import ROLES
from workflow.engine import core as engine
from workflow.engine import timers
from workflow.errors import GuardRefused, InvalidAction, MissingData, PermissionDenied
from workflow.models import Case, CaseEvent, Certificate, utcnow
from workflow.panel import ballots
from workflow.pipeline.catalog import PIPELINES_DIR, latest_versions
from workflow.pipeline.schema import parse_pipeline
from workflow.records.audit import verify_chains

PIPELINE_FILES = sorted(PIPELINES_DIR.glob("*.yaml"))
PIPELINE_IDS = [p.stem for p in PIPELINE_FILES]
FALLBACK_EVIDENCE = {"account_evidence": {"kind": "labour_contract", "contract_months": 12, "social_insurance": True}}


def _open(world, pid: str, **kw) -> int:
    data = FALLBACK_EVIDENCE if pid == "fallback-filing" else None
    return world.open(pid, data=data, **kw)


def _events(db, case_id: int) -> list[CaseEvent]:
    with db.session() as s:
        return list(s.exec(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)).scalars())


def test_the_four_policy_pipelines_exist():
    assert set(PIPELINE_IDS) == {"industry-session", "skill-bridging", "exceptional-senior", "fallback-filing"}


@pytest.fixture(params=PIPELINE_IDS)
def pid(request) -> str:
    """Each pipeline id in turn."""
    return request.param


@pytest.fixture
def pipeline(pid: str):
    """The parsed definition of ``pid``."""
    path = Path(PIPELINES_DIR) / f"{pid}.yaml"
    return parse_pipeline(path.read_text(encoding="utf-8"), str(path))


class TestStructure:
    def test_reaches_a_certificate_and_every_state_can_finish(self, pipeline):
        assert "certified" in pipeline.finals
        assert happy_path(pipeline)[0] == "submit"

    def test_every_transition_names_known_roles(self, pipeline):
        for t in pipeline.transitions:
            assert t.roles and set(t.roles) <= set(ROLES), t.trigger

    @pytest.mark.parametrize("trigger", ["withdraw", "file_objection", "uphold_objection", "dismiss_objection",
                                         "appeal", "revoke", "return_for_correction", "resubmit",
                                         "correction_expired"])
    def test_has_side_path(self, pipeline, trigger):
        assert any(t.trigger == trigger for t in pipeline.transitions)

    def test_parameters_carry_their_source(self, pipeline):
        for name, param in pipeline.parameters.items():
            assert param.source.strip(), name
            assert param.tag in "SRC"

    def test_no_timer_trigger_is_offered_to_people(self, pipeline):
        for t in pipeline.transitions:
            if "system" in t.roles:
                assert t.roles == ["system"], t.trigger


class TestThroughTheEngine:
    def test_happy_path_to_certificate(self, world, pid):
        case_id = _open(world, pid)
        advance(world, case_id, "certified")
        case = case_row(world.db, case_id)
        assert case.pipeline_id == pid and case.pipeline_version == latest_versions(world.db)[pid]
        with world.db.session() as s:
            cert = s.exec(select(Certificate).where(Certificate.case_id == case_id)).scalar_one()
        assert cert.status == "valid" and cert.number == case.data["certificate_number"]
        events = _events(world.db, case_id)
        assert events[0].trigger == "create" and events[-1].to_state == "certified"
        assert case.version == len(events)
        assert verify_chains(world.db) == (1, [])

    def test_withdraw_from_draft_and_from_pre_review(self, world, pid):
        for goal in ("draft", "pre_review"):
            case_id = _open(world, pid)
            advance(world, case_id, goal)
            engine.fire(world.db, case_id, "withdraw", world.applicant, data={"reason": "个人原因"})
            assert case_row(world.db, case_id).state == "withdrawn"

    def test_unit_return_for_correction_loop(self, world, pid):
        case_id = _open(world, pid)
        advance(world, case_id, "unit_review")
        reviewer = world.agency_reviewer if pid == "fallback-filing" else world.unit
        with pytest.raises(MissingData, match="补正清单"):
            engine.fire(world.db, case_id, "return_for_correction", reviewer, data={"corrections": []})
        engine.fire(world.db, case_id, "return_for_correction", reviewer, data={"corrections": DATA_FOR["corrections"]})
        case = case_row(world.db, case_id)
        assert case.state == "correction" and case.data["corrections"] == DATA_FOR["corrections"]
        engine.fire(world.db, case_id, "resubmit", world.applicant)
        assert case_row(world.db, case_id).state == "unit_review"

    def test_authority_correction_deadline_marks_withdrawn(self, world, pid):
        case_id = _open(world, pid)
        advance(world, case_id, "formal_check")
        fired = engine.fire(world.db, case_id, "return_for_correction", world.officer,
                            data={"corrections": ["补充学历证明"]})
        assert fired.payload["deadline"]["name"] == "correction_deadline"
        assert timers.tick(world.db).fired == []  # not due yet
        report = timers.tick(world.db, now=utcnow() + timedelta(days=30))
        assert (case_id, "correction_expired") in report.fired
        assert case_row(world.db, case_id).state == "withdrawn"
        assert _events(world.db, case_id)[-1].actor_role == "system"

    @pytest.mark.parametrize("notice", ["unit_notice", "result_notice"])
    @pytest.mark.parametrize("outcome", ["uphold_objection", "dismiss_objection"])
    def test_objection_investigation(self, world, pid, notice, outcome):
        case_id = _open(world, pid)
        advance(world, case_id, notice)
        objector = world.colleague if notice == "unit_notice" else world.outsider
        engine.fire(world.db, case_id, "file_objection", objector, data={"reason": "业绩材料与实际不符"})
        assert case_row(world.db, case_id).state == f"{notice}_objection"
        # The notice deadline waits while the objection is investigated; it neither fires nor is lost.
        assert timers.tick(world.db, now=utcnow() + timedelta(days=60)).waiting == 1
        investigator = {
            "unit_notice": world.agency_reviewer if pid == "fallback-filing" else world.unit,
            "result_notice": world.officer,
        }[notice]
        engine.fire(world.db, case_id, outcome, investigator, data={"reason": "经核查"})
        if outcome == "uphold_objection":
            assert case_row(world.db, case_id).state == "rejected"
        else:
            assert case_row(world.db, case_id).state == notice
            step(world, case_id, "close_unit_notice" if notice == "unit_notice" else "close_result_notice")

    def test_failed_vote_then_appeal_reopens_review(self, world, pid):
        case_id = _open(world, pid)
        advance(world, case_id, "committee_vote")
        step(world, case_id, "close_ballot", passing=False)
        case = case_row(world.db, case_id)
        assert case.state == "not_passed"
        engine.fire(world.db, case_id, "appeal", world.applicant, data={"reason": "评议未考虑经济效益证明"})
        engine.fire(world.db, case_id, "accept_appeal", world.officer, comment="另组专家复查")
        case = case_row(world.db, case_id)
        assert case.state == "pre_review" and case.data["round"] == 2
        with pytest.raises(GuardRefused, match="评议意见 0 份"):
            engine.fire(world.db, case_id, "complete_pre_review", world.chair)

    def test_appeal_window_closes_the_case(self, world, pid):
        case_id = _open(world, pid)
        advance(world, case_id, "committee_vote")
        step(world, case_id, "close_ballot", passing=False)
        step(world, case_id, "close_appeal_window")
        assert case_row(world.db, case_id).state == "closed_not_passed"

    def test_revoke_writes_integrity_record_that_blocks_new_cases(self, world, pid):
        case_id = _open(world, pid)
        advance(world, case_id, "certified")
        engine.fire(world.db, case_id, "revoke", world.officer, data={"reason": "业绩材料弄虚作假"})
        with world.db.session() as s:
            cert = s.exec(select(Certificate).where(Certificate.case_id == case_id)).scalar_one()
        assert cert.status == "revoked"
        with pytest.raises(GuardRefused, match="诚信记录"):
            _open(world, pid)

    def test_wrong_role_is_refused_and_nothing_changes(self, world, pid):
        case_id = _open(world, pid)
        advance(world, case_id, "unit_review")
        before = case_row(world.db, case_id)
        for intruder in (world.other_unit, world.other_applicant, world.officer, world.outsider, world.admin):
            with pytest.raises(PermissionDenied):
                engine.fire(world.db, case_id, "start_unit_notice", intruder)
        with pytest.raises(PermissionDenied):  # another applicant cannot withdraw someone else's case
            engine.fire(world.db, case_id, "withdraw", world.other_applicant, data={"reason": "x"})
        after = case_row(world.db, case_id)
        assert (after.state, after.version) == (before.state, before.version)

    def test_invalid_triggers_give_clear_errors(self, world, pid):
        case_id = _open(world, pid)
        with pytest.raises(InvalidAction, match="不存在"):
            engine.fire(world.db, case_id, "teleport", world.applicant)
        with pytest.raises(InvalidAction, match="草稿"):
            engine.fire(world.db, case_id, "issue_certificate", world.officer)

    def test_available_actions_match_what_fire_accepts(self, world, pid):
        case_id = _open(world, pid)
        advance(world, case_id, "unit_review")
        reviewer = world.agency_reviewer if pid == "fallback-filing" else world.unit
        offered = {o.trigger for o in engine.available_actions(world.db, case_id, reviewer) if o.allowed}
        assert offered == {"return_for_correction", "start_unit_notice", "verify_materials"}
        assert {o.trigger for o in engine.available_actions(world.db, case_id, world.applicant)} == {"withdraw"}
        assert engine.available_actions(world.db, case_id, world.other_unit) == []

    def test_no_state_changes_without_an_event(self, world, pid):
        ids = [_open(world, pid) for _ in range(3)]
        advance(world, ids[0], "certified")
        advance(world, ids[1], "pre_review")
        with world.db.session() as s:
            for case_id in ids:
                case = s.get(Case, case_id)
                last = s.exec(select(CaseEvent).where(CaseEvent.case_id == case_id)
                              .order_by(CaseEvent.seq.desc()).limit(1)).scalar_one()
                count = s.exec(select(func.count()).where(CaseEvent.case_id == case_id)).scalar_one()
                assert case.state == last.to_state and case.version == count


def test_bridging_recommendation_requires_the_unit_assessment(world):
    case_id = world.open("skill-bridging", level="中级")
    advance(world, case_id, "unit_recommendation")
    with pytest.raises(MissingData, match="单位考核结果"):
        engine.fire(world.db, case_id, "recommend", world.unit, comment="同意推荐")
    engine.fire(world.db, case_id, "recommend", world.unit, comment="同意推荐",
                data={"assessment": DATA_FOR["assessment"]})
    assert case_row(world.db, case_id).data["assessment"]["result"] == "合格"


def test_fallback_submission_needs_account_evidence(world):
    case_id = world.open("fallback-filing", data={"account_evidence": {"kind": "labour_contract",
                                                                       "contract_months": 4, "social_insurance": True}})
    with pytest.raises(GuardRefused, match="不足 6 个月"):
        engine.fire(world.db, case_id, "submit", world.applicant)
    free = world.open("fallback-filing", data={"account_evidence": {"kind": "freelancer_registration",
                                                                    "registration_no": "HN-ZY-2024-0193"}})
    engine.fire(world.db, free, "submit", world.applicant)
    assert case_row(world.db, free).state == "unit_review"


def test_fallback_case_is_owned_by_the_agency_not_the_employer(world):
    case_id = world.open("fallback-filing", data=FALLBACK_EVIDENCE)
    engine.fire(world.db, case_id, "submit", world.applicant)
    with pytest.raises(PermissionDenied):
        engine.fire(world.db, case_id, "start_unit_notice", world.unit)
    engine.fire(world.db, case_id, "start_unit_notice", world.agency_reviewer)


def test_superior_levels_run_in_order(world):
    case_id = world.open("industry-session", superior=True)
    advance(world, case_id, "unit_recommendation")
    engine.fire(world.db, case_id, "recommend", world.unit, comment="同意推荐")
    assert case_row(world.db, case_id).state == "superior_review"
    with pytest.raises(PermissionDenied):
        engine.fire(world.db, case_id, "superior_approve", world.officer)
    engine.fire(world.db, case_id, "superior_approve", world.superior_reviewer)
    assert case_row(world.db, case_id).state == "formal_check"


def test_defence_only_where_the_level_or_route_requires_it(world):
    senior = world.open("industry-session", level="正高")
    deputy = world.open("industry-session", level="副高")
    for case_id in (senior, deputy):
        advance(world, case_id, "pre_review")
        step(world, case_id, "complete_pre_review")
    assert case_row(world.db, senior).state == "defence"
    assert case_row(world.db, deputy).state == "committee_vote"


def test_votes_after_close_and_twice_are_refused(world):
    case_id = world.open("industry-session")
    advance(world, case_id, "committee_vote")
    for m in [world.chair, *world.members]:
        ballots.record_attendance(world.db, world.session_id, m.user_id)
    engine.fire(world.db, case_id, "open_ballot", world.chair)
    ballots.cast_vote(world.db, case_id, world.members[0], "yes")
    with pytest.raises(InvalidAction, match="已投过票"):
        ballots.cast_vote(world.db, case_id, world.members[0], "no")
    with pytest.raises(PermissionDenied, match="委员"):
        ballots.cast_vote(world.db, case_id, world.outsider, "yes")
    for m in world.members[1:]:
        ballots.cast_vote(world.db, case_id, m, "yes")
    engine.fire(world.db, case_id, "close_ballot", world.chair, secrets=close_secrets(world))
    with pytest.raises(InvalidAction):
        ballots.cast_vote(world.db, case_id, world.chair, "yes")
    assert case_row(world.db, case_id).state == "result_notice"


@pytest.mark.parametrize("party", ["applicant", "unit"])
def test_parties_cannot_object_to_their_own_notice(world, party):
    case_id = world.open("industry-session")
    advance(world, case_id, "result_notice")
    with pytest.raises(GuardRefused, match="不能对"):
        engine.fire(world.db, case_id, "file_objection", getattr(world, party), data={"reason": "自己反对自己"})
    engine.fire(world.db, case_id, "file_objection", world.outsider, data={"reason": "业绩存疑"})


def test_defence_must_be_recorded_before_the_vote(world):
    case_id = world.open("industry-session", level="正高")
    advance(world, case_id, "defence")
    with pytest.raises(GuardRefused, match="答辩尚未安排"):
        engine.fire(world.db, case_id, "record_defence", world.chair, comment="答辩通过")
    step(world, case_id, "record_defence")
    assert case_row(world.db, case_id).state == "committee_vote"


def test_conflicts_are_detected_when_a_case_enters_pre_review(world):
    from workflow.models import Conflict

    with world.db.session(write=True) as s:
        from workflow.models import User

        member = s.get(User, world.members[0].user_id)
        member.org_id = world.employer  # the expert works for the applicant's employer
    case_id = world.open("industry-session")
    advance(world, case_id, "pre_review")
    with world.db.session() as s:
        conflicts = s.exec(select(Conflict).where(Conflict.case_id == case_id)).scalars().all()
    assert [c.user_id for c in conflicts] == [world.members[0].user_id]
