"""Shared fixtures and factories: a migrated database per test, organisations, people and cases."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

# Small committee keys for speed (before workflow is imported; subprocesses inherit it). Production keys are
# 2048 bits; tests/test_ballot_encryption.py makes one of those too.
os.environ.setdefault("TITLEREVIEW_BALLOT_KEY_BITS", "512")

from scratch_db import scratch_postgres

from seed.cast import World, build_world
from workflow.bootstrap import open_database
from workflow.db import Database

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


@pytest.fixture(autouse=True)
def _fresh_standard_cache() -> Iterator[None]:
    """Parsed standard versions are cached per process by (database URL, id, version), and test databases
    reuse file names: every test starts and ends with an empty cache so none reads another's versions."""
    from workflow.eligibility import standards_store

    standards_store._cache.clear()
    yield
    standards_store._cache.clear()


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
    with scratch_postgres(postgres_admin_url) as url:
        yield url


make_database = open_database
"""A migrated database with the shipped pipelines and standards stored (kept for older call sites)."""


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


@pytest.fixture
def world(db: Database) -> World:
    """The standard cast on the SQLite database."""
    return build_world(db)
