"""Shared fixtures and factories: a migrated database per test, organisations, people and cases."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from workflow import engine, migrate
from workflow.catalog import sync_pipelines
from workflow.db import Database
from workflow.directory import actor_for, create_org, create_user
from workflow.models import CommitteeSeat, ReviewSession
from workflow.roles import Actor

PG_ADMIN_URL = os.environ.get("TITLEREVIEW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _postgres_reachable() -> str | None:
    """None when the test PostgreSQL server answers, else why not."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]')"
    try:
        eng = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
    except Exception as err:  # any failure to connect means "not reachable" here
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(err).__name__}"
    return None


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The admin URL of a reachable PostgreSQL server; skip locally, fail under CI when it is missing."""
    why = _postgres_reachable()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"CI requires PostgreSQL: {why}")
        pytest.skip(why)
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    name = f"titlereview_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_database(url: str) -> Database:
    """A migrated database with the shipped pipelines stored."""
    db = Database(url)
    migrate.upgrade(db)
    sync_pipelines(db)
    return db


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite file per test run; each test gets a copy (migrating each time costs ~0.2 s)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    database = make_database(f"sqlite:///{path}")
    database.dispose()  # the last connection to close checkpoints the WAL into the main file
    assert not Path(f"{path}-wal").exists()
    return path


def sqlite_copy(template: Path, directory: Path) -> Database:
    """A Database on a fresh copy of the migrated template."""
    target = directory / "test.db"
    shutil.copyfile(template, target)
    return Database(f"sqlite:///{target}")


@pytest.fixture
def db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite database in a temporary file."""
    database = sqlite_copy(sqlite_template, tmp_path)
    yield database
    database.dispose()


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[Database]:
    """A migrated PostgreSQL database (fresh per test)."""
    database = make_database(pg_url)
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db(request, tmp_path: Path) -> Iterator[Database]:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        database = sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path)
    else:
        database = make_database(request.getfixturevalue("pg_url"))
    yield database
    database.dispose()


@dataclass
class World:
    """A small cast: one employer, one agency, a superior department, the authority, and a person per role."""

    db: Database
    employer: int
    other_employer: int
    agency: int
    superior: int
    authority: int
    session_id: int
    applicant: Actor
    other_applicant: Actor
    unit: Actor
    other_unit: Actor
    agency_reviewer: Actor
    superior_reviewer: Actor
    officer: Actor
    chair: Actor
    members: list[Actor]
    colleague: Actor
    outsider: Actor
    admin: Actor

    def open(self, pipeline_id: str = "industry-session", *, applicant: Actor | None = None,
             superior: bool = False, level: str = "副高", **kw) -> int:
        """Open a case for ``applicant`` (default: the main applicant) in ``pipeline_id``."""
        fallback = pipeline_id == "fallback-filing"
        return engine.open_case(
            self.db, applicant or self.applicant, pipeline_id=pipeline_id,
            unit_org_id=self.agency if fallback else self.employer, employer_org_id=self.employer,
            authority_org_id=self.authority, superior_org_ids=[self.superior] if superior else [],
            session_id=self.session_id, series="工程", specialty="轨道交通装备", level=level,
            target_title="高级工程师", **kw)


@pytest.fixture
def world(db: Database) -> World:
    """The standard cast on the SQLite database."""
    return build_world(db)


def build_world(db: Database) -> World:
    """Create the standard cast in ``db``."""
    with db.session(write=True) as s:
        authority = create_org(s, "湖南省人力资源和社会保障厅", "authority", region="长沙")
        superior = create_org(s, "株洲市工业和信息化局", "superior", region="株洲")
        employer = create_org(s, "株洲智轨装备科技有限公司", "employer", region="株洲", is_specialised=True,
                              superior_org_id=superior.id)
        other = create_org(s, "长沙精密传感有限公司", "employer", region="长沙", is_little_giant=True)
        agency = create_org(s, "长沙市人才服务中心", "agency", region="长沙")
        session = ReviewSession(code="2026-RAIL", name="2026年湘产专场·轨道交通装备", year=2026,
                                series="工程", industry="轨道交通装备", authority_org_id=authority.id,
                                pipeline_ids=["industry-session", "skill-bridging", "exceptional-senior",
                                              "fallback-filing"])
        s.add(session)
        s.flush()

        def person(username: str, name: str, roles: list[str], org) -> int:
            return create_user(s, username, name, roles, org=org).id

        ids = {
            "applicant": person("zhang", "张伟", ["applicant"], employer),
            "other_applicant": person("li", "李娜", ["applicant"], other),
            "unit": person("unit_hr", "王芳", ["unit_reviewer"], employer),
            "other_unit": person("other_hr", "赵磊", ["unit_reviewer"], other),
            "agency_reviewer": person("agency", "陈静", ["agency_reviewer"], agency),
            "superior_reviewer": person("superior", "刘洋", ["superior_reviewer"], superior),
            "officer": person("officer", "杨帆", ["authority_officer"], authority),
            "chair": person("chair", "周建国", ["panel_chair", "panel_member"], None),
            "colleague": person("colleague", "吴强", [], employer),
            "outsider": person("outsider", "郑敏", [], None),
            "admin": person("admin", "系统管理员", ["administrator"], authority),
        }
        member_ids = [person(f"expert{i}", f"专家{i}", ["panel_member"], None) for i in range(1, 7)]
        s.add(CommitteeSeat(session_id=session.id, user_id=ids["chair"], seat_role="chair"))
        for uid in member_ids:
            s.add(CommitteeSeat(session_id=session.id, user_id=uid, seat_role="member"))
        s.flush()
        actors = {k: actor_for(s, v) for k, v in ids.items()}
        members = [actor_for(s, uid) for uid in member_ids]
        orgs = dict(employer=employer.id, other_employer=other.id, agency=agency.id, superior=superior.id,
                    authority=authority.id, session_id=session.id)
    return World(db=db, members=members, **orgs, **actors)
