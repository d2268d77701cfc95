"""The submission guard and the pinned standard version: the evaluator wired into the engine."""

from __future__ import annotations

import copy

import pytest
from driver import advance, case_row
from sqlalchemy import update

from seed.cast import READY_PROFILE
from workflow import engine
from workflow.errors import GuardRefused
from workflow.models import ApplicantProfile
from workflow.standards_store import get_standard, latest_version, publish

_profile = ApplicantProfile.__table__


def _set_profile(world, body: dict | None) -> None:
    with world.db.write() as conn:
        if body is None:
            conn.execute(_profile.delete().where(_profile.c.user_id == world.applicant.user_id))
        else:
            conn.execute(update(_profile).where(_profile.c.user_id == world.applicant.user_id).values(body=body))


def test_submission_needs_a_standard(world):
    case_id = world.open("industry-session", standard_id=None)
    with pytest.raises(GuardRefused, match="尚未选择评价标准"):
        engine.fire(world.db, case_id, "submit", world.applicant)


def test_submission_needs_a_profile(world):
    _set_profile(world, None)
    case_id = world.open("industry-session")
    with pytest.raises(GuardRefused, match="请先填写个人信息"):
        engine.fire(world.db, case_id, "submit", world.applicant)


def test_hard_failure_blocks_submission_with_the_evaluators_reasons(world):
    body = copy.deepcopy(READY_PROFILE)
    body["continuing_education"] = [{"year": 2023, "hours": 20}, {"year": 2024, "hours": 10},
                                    {"year": 2025, "hours": 5}]
    _set_profile(world, body)
    case_id = world.open("fallback-filing", data={"account_evidence": {"kind": "freelancer_registration",
                                                                       "registration_no": "HN-ZY-1"}})
    with pytest.raises(GuardRefused, match="不符合申报条件") as info:
        engine.fire(world.db, case_id, "submit", world.applicant)
    assert "继续教育" in str(info.value)
    assert case_row(world.db, case_id).state == "draft"


def test_exceptional_evidence_carries_a_normal_route_failure_where_the_pipeline_allows_it(world):
    body = copy.deepcopy(READY_PROFILE)
    # A young engineer with no lower title and seven years of work: the normal route fails on the 台阶, but
    # two verified achievements and two 正高 recommendations make the 破格 evidence complete.
    body["titles"] = []
    body["education"][0]["graduated_on"] = "2019-06-30"
    body["work_history"][0]["start"] = "2019-07-01"
    _set_profile(world, body)
    allowed = world.open("industry-session")  # 湘产专场 allows 破格 for outstanding people
    engine.fire(world.db, allowed, "submit", world.applicant)
    assert case_row(world.db, allowed).data["eligibility_basis"] == "exceptional"
    body["achievements"] = body["achievements"][:1]
    body["recommendations"] = []
    _set_profile(world, body)
    short = world.open("industry-session")
    with pytest.raises(GuardRefused, match="台阶"):
        engine.fire(world.db, short, "submit", world.applicant)


def test_submission_pins_the_standard_version_and_keeps_its_verdict(world):
    sid = "hunan-sme-advanced-manufacturing-senior"
    early = world.open("industry-session")
    advance(world, early, "eligibility_recheck")
    pinned = case_row(world.db, early)
    assert pinned.standard_id == sid and pinned.standard_version == 1
    assert pinned.data["eligibility_at_submission"]["standard_version"] == 1

    with world.db.read() as conn:
        current = get_standard(conn, sid, 1)
    stricter = current.model_copy(update={"name": current.name.model_copy(update={"zh": current.name.zh + "（修订）"})})
    published = publish(world.db, stricter, by_user_id=world.admin.user_id)
    assert published.version == 2
    with world.db.read() as conn:
        assert latest_version(conn, sid) == 2

    engine.fire(world.db, early, "confirm_eligibility", world.officer)
    recheck = case_row(world.db, early).data["eligibility_recheck"]
    assert recheck["report"]["standard_version"] == 1  # judged by the version in force at submission

    late = world.open("industry-session")
    engine.fire(world.db, late, "submit", world.applicant)
    assert case_row(world.db, late).standard_version == 2
