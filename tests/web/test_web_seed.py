"""The demo data set: loads through the core, covers every stage, verifies, and refuses to mix with real data."""

from __future__ import annotations

import shutil
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from webhelpers import ensure_attachment_table

from seed.demo import DEMO_PASSWORD, DemoDataConflict, demo_is_loaded, demo_logins, load_demo
from workflow.audit import verify_chains
from workflow.db import Database
from workflow.models import (
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
from workflow.passwords import verify_password


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


def test_loading_takes_a_few_seconds(sqlite_template: Path, tmp_path: Path):
    shutil.copyfile(sqlite_template, tmp_path / "fresh.db")
    db = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    ensure_attachment_table(db)
    started = time.perf_counter()
    load_demo(db)
    elapsed = time.perf_counter() - started
    db.dispose()
    assert elapsed < 10, f"loading the demo took {elapsed:.1f} s"
