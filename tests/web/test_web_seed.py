"""The demo data set: loads through the core, covers every stage, verifies, and refuses to mix with real data."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from webhelpers import ensure_attachment_table

from seed.demo import (
    DEMO_PASSWORD,
    DemoDataConflict,
    DemoLoadError,
    _profile_body,
    demo_is_loaded,
    demo_logins,
    load_demo,
)
from workflow.access.passwords import verify_password
from workflow.db import Database
from workflow.eligibility.gate import latest_reports
from workflow.models import (
    ApplicantProfile,
    Case,
    CaseEvent,
    Certificate,
    CommitteeSeat,
    IntegrityRecord,
    Organisation,
    ReviewSession,
    Timer,
    User,
    as_utc,
    utcnow,
)
from workflow.records.audit import verify_chains


def test_every_stage_is_represented(demo_db):
    with demo_db.read() as conn:
        states = Counter(dict(conn.execute(select(Case.__table__.c.state, func.count())
                                           .group_by(Case.__table__.c.state)).all()))
        pipelines = set(conn.execute(select(Case.__table__.c.pipeline_id).distinct()).scalars())
    assert sum(states.values()) >= 30
    assert pipelines == {"industry-session", "skill-bridging", "exceptional-senior", "fallback-filing"}
    for state in ("draft", "unit_review", "correction", "unit_notice", "unit_recommendation", "superior_review",
                  "formal_check", "authority_correction", "eligibility_recheck", "pre_review", "defence",
                  "committee_vote", "result_notice", "result_notice_objection", "unit_notice_objection",
                  "filing", "certified", "not_passed", "withdrawn", "rejected", "revoked"):
        assert states[state] >= 1, state


def test_every_case_has_a_verifiable_history(demo_db):
    checked, breaks = verify_chains(demo_db)
    assert checked >= 30 and breaks == []
    now = utcnow()
    with demo_db.read() as conn:
        latest = conn.execute(select(func.max(CaseEvent.__table__.c.created_at))).scalar_one()
        t = Timer.__table__
        pending = conn.execute(select(t.c.name, t.c.state, t.c.due_at, Case.__table__.c.state.label("case_state"))
                               .join(Case.__table__, Case.__table__.c.id == t.c.case_id)
                               .where(t.c.status == "pending")).mappings().all()
    assert as_utc(latest) <= now
    for timer in pending:
        # running deadlines end after loading; only a deadline paused by an objection may have passed
        assert as_utc(timer["due_at"]) > now or timer["case_state"] != timer["state"], dict(timer)


def test_organisations_people_sessions_and_records(demo_db):
    with demo_db.read() as conn:
        orgs = conn.execute(select(Organisation.__table__)).mappings().all()
        sessions = conn.execute(select(ReviewSession.__table__)).mappings().all()
        seats = Counter(conn.execute(select(CommitteeSeat.__table__.c.session_id)).scalars())
        certs = Counter(conn.execute(select(Certificate.__table__.c.status)).scalars())
        records = conn.execute(select(func.count()).select_from(IntegrityRecord.__table__)).scalar_one()
        admin_hash = conn.execute(select(User.__table__.c.password_hash)
                                  .where(User.__table__.c.username == "rst_admin")).scalar_one()
    kinds = Counter(o["kind"] for o in orgs)
    assert len(orgs) >= 12 and kinds["authority"] == 1 and kinds["agency"] >= 1 and kinds["superior"] >= 1
    assert sum(o["is_specialised"] for o in orgs) >= 8 and any(o["is_little_giant"] for o in orgs)
    assert {o["region"][:3] for o in orgs if o["kind"] == "employer"} >= {"株洲市", "长沙市", "湘潭市"}
    names = {s["name"] for s in sessions}
    assert any(n.endswith("年湘产专场·轨道交通装备") for n in names)
    assert any(n.endswith("年人力资源管理高级职称专场") for n in names)
    assert all(n >= 7 for n in seats.values())  # a chair and at least six members each
    assert certs["valid"] >= 3 and certs["revoked"] == 1 and records == 1
    assert verify_password(admin_hash, DEMO_PASSWORD)


def test_logins_cover_every_role(demo_db):
    logins = demo_logins()
    labels = {login.role_label for login in logins}
    assert {"申报人", "用人单位", "人事代理机构", "主管部门", "人社部门（职改办）", "主任委员", "评审专家",
            "管理员"} <= labels
    assert all(login.password == DEMO_PASSWORD and login.description for login in logins)
    with demo_db.read() as conn:
        usernames = set(conn.execute(select(User.__table__.c.username)).scalars())
    assert {login.username for login in logins} <= usernames


def test_loading_again_changes_nothing(demo_db):
    assert demo_is_loaded(demo_db)
    with demo_db.read() as conn:
        before = conn.execute(select(func.count()).select_from(CaseEvent.__table__)).scalar_one()
    assert load_demo(demo_db) == demo_logins()
    assert load_demo(demo_db, existing=True) == demo_logins()
    with demo_db.read() as conn:
        assert conn.execute(select(func.count()).select_from(CaseEvent.__table__)).scalar_one() == before


def test_a_database_with_other_data_is_refused(cast_db):
    with pytest.raises(DemoDataConflict, match="空数据库"):
        load_demo(cast_db)
    with pytest.raises(DemoDataConflict):
        load_demo(cast_db, existing=True)


DEMO_STATEMENT_BUDGET = 7000
"""Most SQL statements loading the demo may run (about 4,700 when this was written): a per-case query sneaking
into a loop multiplies it, while a new demo case adds a few dozen."""


def test_loading_the_demo_does_bounded_work(sqlite_template: Path, tmp_path: Path):
    """Loading stays quick by doing a bounded amount of work — counted in SQL statements, not seconds, so a busy
    machine cannot fail it (how long it takes is the benchmark's business)."""
    from sqlalchemy import event

    shutil.copyfile(sqlite_template, tmp_path / "fresh.db")
    db = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    ensure_attachment_table(db)
    statements = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(1))
    load_demo(db)
    db.dispose()
    assert 100 < len(statements) < DEMO_STATEMENT_BUDGET, f"loading the demo ran {len(statements)} statements"


def _cases_of(db: Database, username: str) -> list[dict]:
    c, u = Case.__table__, User.__table__
    with db.read() as conn:
        return [dict(r) for r in conn.execute(select(c).join(u, u.c.id == c.c.applicant_id)
                                              .where(u.c.username == username).order_by(c.c.id)).mappings()]


def _reports(db: Database, case_id: int) -> dict[str, dict]:
    with db.read() as conn:
        return {kind: rec["report"] for kind, rec in latest_reports(conn, case_id).items()}


def _criterion(report: dict, cid: str) -> dict:
    return next(c for c in report["criteria"] if c["id"] == cid)


def _route(report: dict, rid: str) -> dict:
    return next(r for r in report["routes"] if r["id"] == rid)


@pytest.mark.parametrize(("username", "state", "route", "explained"), [
    # 总经理 of a national little giant since 2017, 大专, no title: the 5-year leader route decides.
    ("hejj", "unit_review", "leader-giant-5", "主要负责人累计"),
    # 本科, 助理工程师 since 2012-12-20, no 工程师: 13 years in the industry after the junior title.
    ("zouht", "unit_review", "bachelor-13", "自取得助理工程师（2012-12-20）起"),
])
def test_hunan_direct_route_examples_are_decided_by_their_route(demo_db, username, state, route, explained):
    (case,) = _cases_of(demo_db, username)
    assert case["state"] == state and case["pipeline_id"] == "industry-session"
    report = _reports(demo_db, case["id"])["submission"]
    assert report["education_route"] == route and report["overall"] == "met"
    decided = _route(report, route)
    assert decided["open"] and decided["verdict"] == "met"
    assert explained in " ".join(c["explanation"]["zh"] for c in decided["criteria"])
    # Every other route of the standard was considered and says why it does not apply.
    others = [r for r in report["routes"] if r["id"] != route]
    assert {r["id"] for r in others} >= {"doctorate", "master-or-bachelor", "master-12", "leader-giant-champion-3"}
    assert all(r["verdict"] == "not_met" and r["decided_by"] and r["reason"]["zh"] for r in others)
    if username == "zouht":
        assert _route(report, "master-or-bachelor")["decided_by"] == "ladder"  # no 工程师: waiving keeps years
    else:
        champion = _route(report, "leader-giant-champion-3")
        assert champion["decided_by"] == "enterprise_leader" and "单项冠军" in champion["reason"]["zh"]


def test_bridging_examples_with_and_without_the_unit_assessment(demo_db):
    (waiting,) = _cases_of(demo_db, "longxb")
    (recorded,) = _cases_of(demo_db, "duanlx")
    assert (waiting["pipeline_id"], waiting["state"]) == ("skill-bridging", "unit_recommendation")
    assert (recorded["pipeline_id"], recorded["state"]) == ("skill-bridging", "formal_check")
    # Not yet assessed: pending at submission (待单位考核), not blocking; the Hunan channel waives the 3 years.
    reports = _reports(demo_db, waiting["id"])
    assert set(reports) == {"submission"}
    assessment = _criterion(reports["submission"], "unit_assessment")
    assert assessment["verdict"] == "needs_judgement" and assessment["explanation"]["zh"].startswith("待单位考核")
    wait = _criterion(reports["submission"], "bridging_waiting_years")
    assert wait["verdict"] == "met" and wait["relaxation"] == "local_bridging_channel"
    with demo_db.read() as conn:  # both declared their 技工院校 class as it is (预备技师班, counted as 本科)
        bodies = conn.execute(select(ApplicantProfile.__table__.c.body)
                              .where(ApplicantProfile.__table__.c.user_id.in_(
                                  [waiting["applicant_id"], recorded["applicant_id"]]))).scalars().all()
    assert [b["education"][0]["technical_class"] for b in bodies] == ["预备技师班", "预备技师班"]
    # Assessed at the unit's recommendation: dated, by the unit's reviewer, and judged met then.
    reports = _reports(demo_db, recorded["id"])
    assert set(reports) == {"submission", "recommend"}
    assert _criterion(reports["submission"], "unit_assessment")["verdict"] == "needs_judgement"
    assert _criterion(reports["recommend"], "unit_assessment")["verdict"] == "met"
    record = recorded["data"]["assessment"]
    assert record["result"] == "优秀" and record["on"] and record["by"] == "柳燕"


def test_every_demo_login_names_a_person_with_cases_or_a_role(demo_db):
    logins = {login.username: login.description for login in demo_logins()}
    for username in ("hejj", "zouht", "longxb", "duanlx"):
        assert _cases_of(demo_db, username), username
        assert logins[username]
    assert "主要负责人" in logins["hejj"] and "13" in logins["zouht"] and "待单位考核" in logins["longxb"]


def test_the_profile_shorthand_expands_to_schema_v2():
    from datetime import date

    person = {
        "username": "sample", "birth": date(1990, 1, 1),
        "edu": [["预备技师班", "湖南工贸技师学院", "数控加工", date(2010, 7, 1), True],
                ["本科", "湖南大学", "机械工程", date(2014, 6, 30), True, {"degree": "学士"}]],
        "work": [["某公司", "技术员", date(2010, 8, 1), None, {"in_specialty": False, "in_industry": True}]],
        "ach": [["patent_utility", "实用新型专利3项", 2022, {"item": "6", "rank": 1, "count": 3}],
                ["key_project", "省重点项目", 2023, {"item": "2", "level": "provincial",
                                                 "appraised_by": "湖南省科学技术厅", "appraisal_level": "provincial"}]],
        "works": [["project_report", "项目总结报告", 2023, {"chars": 8000, "verified": True}],
                  ["design_document", "设计说明书", 2023]],
        "firm_roles": [["某公司", "principal", date(2018, 1, 1), None]],
        "firm_recognitions": [["某公司", "national_little_giant", 2021]],
        "claims": [["key-projects", "参与省重点项目"]],
    }
    body = _profile_body(person, date(2026, 6, 1))
    assert body["schema_version"] == 2
    assert body["education"][0]["school_type"] == "technical_school"
    assert body["education"][0]["technical_class"] == "预备技师班" and body["education"][0]["level"] is None
    assert body["education"][1]["degree"] == "学士"
    assert body["work_history"][0]["in_industry"] is True and body["work_history"][0]["in_specialty"] is False
    assert body["achievements"][0]["count"] == 3 and body["achievements"][0]["rank"] == 1
    assert body["achievements"][1]["appraisal_level"] == "provincial"
    assert [(w["character_count"], w["unit_verified"]) for w in body["works"]] == [(8000, True), (None, False)]
    assert body["firm_roles"][0]["role"] == "principal" and body["firm_recognitions"][0]["year"] == 2021
    assert body["experience_claims"][0]["item"] == "key-projects"
    assert [c["year"] for c in body["continuing_education"]] == [2022, 2023, 2024, 2025]
    with pytest.raises(DemoLoadError, match="unknown fields"):
        _profile_body({**person, "works": [["paper", "论文", 2023, {"pages": 5}]]}, date(2026, 6, 1))


def test_each_session_accepts_the_standards_its_cases_use(demo_db):
    c, s = Case.__table__, ReviewSession.__table__
    with demo_db.read() as conn:
        accepted = {row.id: set(row.standard_ids) for row in conn.execute(select(s.c.id, s.c.standard_ids))}
        used = conn.execute(select(c.c.session_id, c.c.standard_id).distinct()).all()
    assert used and all(standard in accepted[session] for session, standard in used)


def test_the_demo_keeps_its_committees_key_shares_so_a_visitor_can_count_the_open_ballot(sqlite_template: Path,
                                                                                          tmp_path: Path):
    """The demo plays both holders: each session's shares are written as the files the chair and the officer
    would download, and together they rebuild that committee's key (production never writes them anywhere)."""
    from workflow.models import ReviewSession
    from workflow.panel.ballot_keys import BallotShares, rebuild_key

    shutil.copyfile(sqlite_template, tmp_path / "fresh.db")
    db = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    ensure_attachment_table(db)
    load_demo(db, shares_dir=tmp_path / "shares")
    with db.read() as conn:
        sessions = conn.execute(select(ReviewSession.__table__.c.id)).scalars().all()
        for session_id in sessions:
            chair = next((tmp_path / "shares").glob(f"*-session-{session_id}-share-A-chair.txt"))
            officer = next((tmp_path / "shares").glob(f"*-session-{session_id}-share-B-officer.txt"))
            assert chair.stat().st_mode & 0o077 == 0
            rebuild_key(conn, session_id, BallotShares(chair.read_text(), officer.read_text()))
    db.dispose()
