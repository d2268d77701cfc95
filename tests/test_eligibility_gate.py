"""The submission guard and the pinned standard version: the evaluator wired into the engine."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from driver import advance, case_row
from sqlalchemy import select, update

from seed.cast import READY_PROFILE, build_world
from workflow.eligibility.gate import latest_reports
from workflow.eligibility.standards import STANDARDS_DIR, load_standard_yaml
from workflow.eligibility.standards_store import get_standard, latest_version, publish
from workflow.engine import core as engine
from workflow.errors import GuardRefused
from workflow.models import ApplicantProfile, Case, ReviewSession

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


def _young_engineer(recommender_specialty: str) -> dict:
    """No lower title and seven years of work, two verified items, two 正高 recommenders."""
    body = copy.deepcopy(READY_PROFILE)
    body["titles"] = []
    body["education"][0]["graduated_on"] = "2019-06-30"
    body["work_history"][0]["start"] = "2019-07-01"
    for r in body["recommendations"]:
        r["specialty"] = recommender_specialty
    return body


FALLBACK = {"account_evidence": {"kind": "freelancer_registration", "registration_no": "HN-ZY-1"}}


def test_exceptional_evidence_carries_a_normal_route_failure_where_the_pipeline_allows_it(world):
    # The national baseline's 破格 (§7.4): 2 正高级工程师 of the case's own specialty carry a normal-route
    # failure on the 台阶 where the pipeline allows the exceptional route.
    _set_profile(world, _young_engineer("轨道交通装备"))
    allowed = world.open("fallback-filing", data=FALLBACK)
    engine.fire(world.db, allowed, "submit", world.applicant)
    assert case_row(world.db, allowed).data["eligibility_basis"] == "exceptional"
    # Recommenders of another specialty are left to the experts: the 破格 evidence is not complete.
    _set_profile(world, _young_engineer("机械"))
    related = world.open("fallback-filing", data=FALLBACK)
    with pytest.raises(GuardRefused, match="台阶"):
        engine.fire(world.db, related, "submit", world.applicant)


def test_hunan_direct_routes_open_only_where_the_session_waives_the_ladder(world):
    # §7.3: a 本科 engineer 13 years after the 初级 title, without the 工程师 title.
    body = copy.deepcopy(READY_PROFILE)
    body["titles"] = [t for t in body["titles"] if t["level"] == "助理"]  # 助理工程师 since 2007-09-01
    _set_profile(world, body)
    closed = world.open("industry-session")
    with pytest.raises(GuardRefused, match="台阶"):  # this session does not waive the ladder
        engine.fire(world.db, closed, "submit", world.applicant)
    with world.db.write() as conn:
        conn.execute(update(ReviewSession.__table__).where(ReviewSession.__table__.c.id == world.session_id)
                     .values(relaxations={"waive_ladder": True, "source": "湘人社规〔2022〕22号第4条"}))
    opened = world.open("industry-session")
    engine.fire(world.db, opened, "submit", world.applicant)
    with world.db.read() as conn:
        report = latest_reports(conn, opened)["submission"]["report"]
    assert report["education_route"] == "bachelor-13"
    routes = {r["id"]: r for r in report["routes"]}
    assert routes["master-or-bachelor"]["decided_by"] == "ladder" and routes["bachelor-13"]["verdict"] == "met"
    assert "13 年" in {c["id"]: c for c in report["criteria"]}["industry_years"]["explanation"]["zh"]


def test_submission_pins_the_standard_version_and_keeps_its_verdict(world):
    sid = "hunan-sme-advanced-manufacturing-senior"
    early = world.open("industry-session")
    advance(world, early, "eligibility_recheck")
    pinned = case_row(world.db, early)
    seeded = load_standard_yaml(STANDARDS_DIR / f"{sid}.yaml").version
    assert pinned.standard_id == sid and pinned.standard_version == seeded
    with world.db.read() as conn:
        stored = latest_reports(conn, early)
    assert stored["submission"]["report"]["standard_version"] == seeded
    assert "eligibility_at_submission" not in pinned.data  # the reports live in eligibility_record

    with world.db.read() as conn:
        current = get_standard(conn, sid, seeded)
    stricter = current.model_copy(update={"name": current.name.model_copy(update={"zh": current.name.zh + "（修订）"})})
    published = publish(world.db, stricter, by_user_id=world.admin.user_id)
    assert published.version == seeded + 1
    with world.db.read() as conn:
        assert latest_version(conn, sid) == seeded + 1

    engine.fire(world.db, early, "confirm_eligibility", world.officer)
    with world.db.read() as conn:
        recheck = latest_reports(conn, early)["recheck"]
    assert recheck["report"]["standard_version"] == seeded  # judged by the version in force at submission
    assert recheck["by"] == world.officer.user_id and recheck["problem"] == ""

    late = world.open("industry-session")
    engine.fire(world.db, late, "submit", world.applicant)
    assert case_row(world.db, late).standard_version == seeded + 1


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


# ------------------------------------------------------------------------------------------------------------
# Through the workflow: the unit assessment (rules.md §7.2) and the integrity record's end (§7.5)
# ------------------------------------------------------------------------------------------------------------


def _criterion(report: dict, cid: str) -> dict:
    return {c["id"]: c for c in report["criteria"]}[cid]


def test_the_unit_assessment_turns_a_bridging_case_from_pending_to_eligible(world):
    case_id = world.open("skill-bridging", level="中级")  # 技师 since 2012 → 工程师, Hunan direct channel
    engine.fire(world.db, case_id, "submit", world.applicant)
    with world.db.read() as conn:
        submitted = latest_reports(conn, case_id)["submission"]["report"]
    assert submitted["overall"] == "needs_judgement"
    assert _criterion(submitted, "unit_assessment")["verdict"] == "needs_judgement"
    assert "待单位考核" in _criterion(submitted, "unit_assessment")["explanation"]["zh"]
    assert _criterion(submitted, "bridging_waiting_years")["relaxation"] == "local_bridging_channel"

    advance(world, case_id, "eligibility_recheck")  # the unit's recommend step records the assessment
    with world.db.read() as conn:
        reports = latest_reports(conn, case_id)
    assessed = _criterion(reports["recommend"]["report"], "unit_assessment")
    assert assessed["verdict"] == "met" and world.unit.name in assessed["explanation"]["zh"]
    engine.fire(world.db, case_id, "confirm_eligibility", world.officer)
    with world.db.read() as conn:
        recheck = latest_reports(conn, case_id)["recheck"]["report"]
    assert recheck["stage"] == "recheck" and _criterion(recheck, "unit_assessment")["verdict"] == "met"


def test_at_the_recheck_a_missing_assessment_is_not_met(world):
    case_id = world.open("skill-bridging", level="中级")
    advance(world, case_id, "eligibility_recheck")
    with world.db.write() as conn:  # a case recommended before assessments were dated carries no usable record
        row = case_row(world.db, case_id)
        data = {k: v for k, v in row.data.items() if k != "assessment"}
        conn.execute(update(Case.__table__).where(Case.__table__.c.id == case_id).values(data=data))
    engine.fire(world.db, case_id, "confirm_eligibility", world.officer)
    with world.db.read() as conn:
        recheck = latest_reports(conn, case_id)["recheck"]["report"]
    assert recheck["overall"] == "not_met"
    assert _criterion(recheck, "unit_assessment")["verdict"] == "not_met"


@pytest.mark.parametrize(("days_after_revocation", "blocked"), [
    (0, True), (365, True), ("anniversary-1", True), ("anniversary", False), ("anniversary+1", False)])
def test_an_integrity_record_blocks_up_to_the_day_before_its_third_anniversary(world, days_after_revocation,
                                                                               blocked):
    revoked_at = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Beijing, 10 March 2026
    case_id = world.open("industry-session")
    advance(world, case_id, "certified")
    engine.fire(world.db, case_id, "revoke", world.officer, data={"reason": "业绩材料弄虚作假"}, now=revoked_at)
    anniversary = datetime(2029, 3, 10, 2, 0, tzinfo=UTC)
    when = {"anniversary-1": anniversary - timedelta(days=1), "anniversary": anniversary,
            "anniversary+1": anniversary + timedelta(days=1)}.get(days_after_revocation)
    if when is None:
        when = revoked_at + timedelta(days=int(days_after_revocation))
    if blocked:
        with pytest.raises(GuardRefused, match="2029-03-10 期满"):
            world.open("industry-session", now=when)
    else:
        assert world.open("industry-session", now=when)
