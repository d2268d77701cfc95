"""The submission guard and the pinned standard version: the evaluator wired into the engine."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from driver import advance, case_row
from sqlalchemy import select, update

from seed.cast import READY_PROFILE, build_world
from workflow import engine
from workflow.eligibility_gate import latest_reports
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
    with world.db.read() as conn:
        stored = latest_reports(conn, early)
    assert stored["submission"]["report"]["standard_version"] == 1
    assert "eligibility_at_submission" not in pinned.data  # the reports live in eligibility_record

    with world.db.read() as conn:
        current = get_standard(conn, sid, 1)
    stricter = current.model_copy(update={"name": current.name.model_copy(update={"zh": current.name.zh + "（修订）"})})
    published = publish(world.db, stricter, by_user_id=world.admin.user_id)
    assert published.version == 2
    with world.db.read() as conn:
        assert latest_version(conn, sid) == 2

    engine.fire(world.db, early, "confirm_eligibility", world.officer)
    with world.db.read() as conn:
        recheck = latest_reports(conn, early)["recheck"]
    assert recheck["report"]["standard_version"] == 1  # judged by the version in force at submission
    assert recheck["by"] == world.officer.user_id and recheck["problem"] == ""

    late = world.open("industry-session")
    engine.fire(world.db, late, "submit", world.applicant)
    assert case_row(world.db, late).standard_version == 2


def test_migration_moves_stored_reports_out_of_case_data_and_back(any_db):
    """0008 moves the reports from case_file.data into eligibility_record; its downgrade puts them back."""
    from alembic import command

    from workflow import migrate

    world = build_world(any_db)
    case_id = world.open("industry-session")
    advance(world, case_id, "eligibility_recheck")
    engine.fire(any_db, case_id, "confirm_eligibility", world.officer)
    with any_db.read() as conn:
        before = latest_reports(conn, case_id)
    cfg = migrate.alembic_config(any_db)
    with any_db.write() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")
    old = case_row(any_db, case_id).data
    assert old["eligibility_at_submission"] == before["submission"]["report"]
    assert old["eligibility_recheck"]["report"] == before["recheck"]["report"]
    assert old["eligibility_recheck"]["by"] == world.officer.user_id
    migrate.upgrade(any_db)
    moved = case_row(any_db, case_id)
    assert not {"eligibility_at_submission", "eligibility_recheck"} & set(moved.data)
    assert moved.data["eligibility_basis"] == "normal"
    with any_db.read() as conn:
        after = latest_reports(conn, case_id)
    assert after["submission"]["report"] == before["submission"]["report"]
    assert after["recheck"]["report"] == before["recheck"]["report"]
    assert after["recheck"]["by"] == world.officer.user_id
    assert after["recheck"]["checked_at"] == before["recheck"]["checked_at"]


def test_latest_reports_take_the_newest_record_of_each_kind(world):
    """Records are only added; the case page shows the newest of each kind, whatever the insertion order."""
    from workflow.models.cases import EligibilityRecord

    case_id = world.open("industry-session")
    engine.fire(world.db, case_id, "submit", world.applicant)
    table = EligibilityRecord.__table__
    with world.db.write() as conn:
        seq = conn.execute(select(table.c.event_seq).where(table.c.case_id == case_id)).scalar_one()
        for event_seq, problem in ((seq + 3, "newer"), (seq + 1, "older")):  # the newer one first
            conn.execute(table.insert().values(case_id=case_id, kind="recheck", event_seq=event_seq,
                                               checked_at=datetime.now(UTC), checked_by=world.officer.user_id,
                                               report=None, problem=problem))
    with world.db.read() as conn:
        found = latest_reports(conn, case_id)
    assert set(found) == {"submission", "recheck"}
    assert found["recheck"]["problem"] == "newer" and found["recheck"]["report"] is None
    assert found["submission"]["report"]["standard_id"] == "hunan-sme-advanced-manufacturing-senior"
