"""Fixtures for the web tests: the Flask test client against the small test cast or the full demo data set.

Both databases are built once per test run and copied for each test (copying a file costs far less than
migrating and loading), so every test starts from the same state and may change it freely.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from webhelpers import PASSWORD, Browser, ensure_attachment_table, make_app

from seed.cast import World, build_world, read_world
from seed.demo import DEMO_PASSWORD, load_demo
from workflow.access.passwords import hash_password
from workflow.bootstrap import open_database
from workflow.db import Database
from workflow.models import User


def _copy(template: Path, directory: Path, name: str) -> Database:
    target = directory / name
    shutil.copyfile(template, target)
    return Database(f"sqlite:///{target}")


# This directory is called ``web`` like the package under test, and pytest puts ``tests/`` on sys.path, so
# a bare ``import web`` would resolve to this test directory as a namespace package (the project's editable
# install finds packages only after the path search). Putting the project root on the path makes the real
# package win (a regular package beats namespace portions); a namespace ``web`` imported earlier in this run
# is dropped so that it is imported again, correctly. The lasting fix is ``pythonpath = ["."]`` in pytest's
# configuration. Nothing in this directory imports ``web`` at module level for the same reason.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
if "web" in sys.modules and getattr(sys.modules["web"], "__file__", None) is None:
    del sys.modules["web"]


@pytest.fixture(scope="session")
def cast_template(sqlite_template: Path, tmp_path_factory) -> Path:
    """A migrated database with the test cast (tests/conftest.py's world) and known passwords."""
    directory = tmp_path_factory.mktemp("cast")
    db = _copy(sqlite_template, directory, "cast.db")
    _stage_cast(db)
    db.dispose()
    return directory / "cast.db"


def _stage_cast(db: Database) -> None:
    """Put the test cast into the migrated ``db``, every account with the known password ``PASSWORD``."""
    ensure_attachment_table(db)
    build_world(db)  # the cast's applicants come with a profile that meets the seed standards
    with db.write() as conn:
        conn.execute(update(User.__table__).values(password_hash=hash_password(PASSWORD)))


@pytest.fixture(scope="session")
def demo_template(sqlite_template: Path, tmp_path_factory) -> Path:
    """A migrated database with the whole demo data set loaded (once per run: ~3 s)."""
    directory = tmp_path_factory.mktemp("demo")
    db = _copy(sqlite_template, directory, "demo.db")
    ensure_attachment_table(db)
    load_demo(db)
    db.dispose()
    return directory / "demo.db"


@pytest.fixture
def cast_db(cast_template: Path, tmp_path: Path) -> Iterator[Database]:
    """A fresh copy of the cast database."""
    db = _copy(cast_template, tmp_path, "cast.db")
    yield db
    db.dispose()


@pytest.fixture
def cast(cast_db: Database) -> World:
    """The test cast's actors and organisations (ids read back from the copied database)."""
    return read_world(cast_db)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_cast_db(request, tmp_path: Path) -> Iterator[Database]:
    """The cast database on SQLite and on PostgreSQL (as ``any_db`` in tests/conftest.py): on SQLite a copy of
    ``cast_template`` as ``cast_db`` makes, on PostgreSQL a fresh migrated database (``pg_url``, dropped after
    the test) with the same cast and the same known password for every account."""
    if request.param == "sqlite":
        db = _copy(request.getfixturevalue("cast_template"), tmp_path, "cast.db")
    else:
        db = open_database(request.getfixturevalue("pg_url"))  # tests/conftest.py's make_database
        _stage_cast(db)
    yield db
    db.dispose()


@pytest.fixture
def any_cast(any_cast_db: Database) -> World:
    """The test cast's actors and organisations in ``any_cast_db`` (ids read back from that database)."""
    return read_world(any_cast_db)


@pytest.fixture
def any_app(any_cast_db: Database, tmp_path: Path):
    """The app on ``any_cast_db`` (SQLite or PostgreSQL)."""
    return make_app(any_cast_db, tmp_path)


@pytest.fixture
def any_browser(any_app) -> Callable[[str | None], Browser]:
    """``any_browser("zhang")``: as ``browser``, on the app over ``any_cast_db`` (SQLite or PostgreSQL)."""

    def make(username: str | None = None) -> Browser:
        """A new client, signed in as ``username`` unless None."""
        b = Browser(any_app.test_client(), PASSWORD)
        return b.login(username) if username else b

    return make


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path) -> Iterator[Database]:
    """A fresh copy of the demo database."""
    db = _copy(demo_template, tmp_path, "demo.db")
    yield db
    db.dispose()


@pytest.fixture
def app(cast_db: Database, tmp_path: Path):
    """The app on the cast database."""
    return make_app(cast_db, tmp_path)


@pytest.fixture
def demo_app(demo_db: Database, tmp_path: Path):
    """The app on the demo database."""
    return make_app(demo_db, tmp_path)


@pytest.fixture
def browser(app) -> Callable[[str | None], Browser]:
    """``browser("zhang")``: a client signed in as that cast member (None: anonymous)."""

    def make(username: str | None = None) -> Browser:
        """A new client, signed in as ``username`` unless None."""
        b = Browser(app.test_client(), PASSWORD)
        return b.login(username) if username else b

    return make


@pytest.fixture
def demo_browser(demo_app) -> Callable[[str | None], Browser]:
    """``demo_browser("rst_officer")``: a client signed in as that demo account."""

    def make(username: str | None = None) -> Browser:
        """A new client, signed in as ``username`` unless None."""
        b = Browser(demo_app.test_client(), DEMO_PASSWORD)
        return b.login(username) if username else b

    return make
