"""Backup and restore, on SQLite and PostgreSQL: a round trip gives back exactly what was backed up with every
audit chain intact; damaged, foreign and wrong-backend files are refused with a clear message and change
nothing; a database that holds data is only replaced with --force; a backup taken while cases move is
consistent."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from driver import advance
from scratch_db import scratch_postgres
from sqlalchemy import create_engine, delete, func, inspect, select, text, update

from seed.cast import build_world
from web.cli import main
from workflow import migrate
from workflow.bootstrap import open_database
from workflow.db import Database
from workflow.engine import core as engine
from workflow.models import CaseEvent, OutboxMessage, metadata
from workflow.records.audit import verify_chains
from workflow.records.backup import BackupError, backup, libpq_connection, restore

_event = CaseEvent.__table__


def snapshot(db: Database) -> dict[str, list[tuple] | None]:
    """Every row of every table (None for a missing table) and the schema revision, in primary-key order."""
    present = set(inspect(db.engine).get_table_names())
    with db.read() as conn:
        rows = {t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
                if t.name in present else None for t in metadata.sorted_tables}
        rows["alembic_version"] = [tuple(r) for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
    return rows


def populate(db: Database):
    """A few cases in different places: one certified (ballot, certificate), one at a notice, one returned."""
    world = build_world(db)
    done = world.open("industry-session")
    advance(world, done, "certified")
    waiting = world.open("skill-bridging")
    advance(world, waiting, "unit_notice")
    returned = world.open("industry-session", superior=True)
    advance(world, returned, "unit_review")
    engine.fire(db, returned, "return_for_correction", world.unit, data={"corrections": ["补充社保证明"]})
    return world, waiting


def change_everything(db: Database, world, case_id: int) -> None:
    """What happens after a backup and must be undone by restoring it: new history, lost rows, a lost table."""
    advance(world, case_id, "unit_recommendation")
    world.open("industry-session")
    with db.write() as conn:
        conn.execute(delete(OutboxMessage.__table__))
        conn.execute(text("DROP TABLE notification"))


@pytest.fixture
def fresh_url(request, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind as ``any_db`` (nothing created in it, not even tables)."""
    if "postgres" not in request.node.callspec.id:
        yield f"sqlite:///{tmp_path / 'fresh' / 'restored.db'}"
        return
    with scratch_postgres(request.getfixturevalue("postgres_admin_url")) as url:
        yield url


def test_round_trip_gives_back_exactly_what_was_backed_up(any_db: Database, tmp_path: Path):
    world, waiting = populate(any_db)
    saved = snapshot(any_db)
    info = backup(any_db, tmp_path / "titlereview.backup")
    assert info.size > 0 and info.revision == migrate.head_revision(any_db)
    assert not (tmp_path / "titlereview.backup.partial").exists()

    change_everything(any_db, world, waiting)
    assert snapshot(any_db) != saved

    report = restore(any_db, info.path, force=True)
    assert report.ok and report.cases == 3 and report.breaks == []
    assert report.backup_revision == report.revision == migrate.head_revision(any_db)
    assert snapshot(any_db) == saved
    assert verify_chains(any_db) == (3, [])
    # The restored database keeps working: ids continue after the restored rows, chains keep verifying.
    case_id = world.open("industry-session")
    engine.fire(any_db, case_id, "submit", world.applicant)
    engine.fire(any_db, waiting, "file_objection", world.colleague, data={"reason": "业绩材料存疑"})
    assert verify_chains(any_db) == (4, [])


def test_restore_into_an_empty_database_needs_no_force(any_db: Database, fresh_url: str, tmp_path: Path):
    populate(any_db)
    saved = snapshot(any_db)
    path = backup(any_db, tmp_path / "b.backup").path
    target = Database(fresh_url)
    try:
        report = restore(target, path)
        assert report.ok and report.cases == 3
        assert snapshot(target) == saved
    finally:
        target.dispose()


def test_restore_refuses_to_replace_data_without_force(any_db: Database, tmp_path: Path):
    world, waiting = populate(any_db)
    path = backup(any_db, tmp_path / "b.backup").path
    advance(world, waiting, "unit_recommendation")
    current = snapshot(any_db)
    held = r"目标数据库已有数据.*--force.*\(case_file: 3, user_account: \d+, organisation: 5\)"
    with pytest.raises(BackupError, match=held):
        restore(any_db, path)
    assert snapshot(any_db) == current


def test_a_freshly_initialised_database_holds_nothing_to_protect(any_db: Database, fresh_url: str,
                                                                tmp_path: Path):
    """init-db's own rows (pipelines, standards) are not data: restoring over them needs no --force."""
    populate(any_db)
    path = backup(any_db, tmp_path / "b.backup").path
    target = open_database(fresh_url)
    try:
        assert restore(target, path).cases == 3
    finally:
        target.dispose()


def test_backup_refuses_to_overwrite_a_file_without_force(any_db: Database, tmp_path: Path):
    populate(any_db)
    path = tmp_path / "b.backup"
    path.write_bytes(b"an older backup")
    with pytest.raises(BackupError, match="already exists; pass --force"):
        backup(any_db, path)
    assert path.read_bytes() == b"an older backup"
    assert backup(any_db, path, force=True).size > len(b"an older backup")
    with pytest.raises(BackupError, match="is a directory"):
        backup(any_db, tmp_path, force=True)
    if any_db.is_sqlite:
        live = Path(any_db.engine.url.database)
        with pytest.raises(BackupError, match="is the database itself"):
            backup(any_db, live, force=True)
        assert verify_chains(any_db) == (3, [])


def test_backup_while_cases_move_is_consistent(any_db: Database, fresh_url: str, tmp_path: Path):
    """Backups taken while another thread fires transitions each hold a whole history (no half transition)."""
    world = build_world(any_db)
    stop = threading.Event()
    errors: list[BaseException] = []

    def keep_firing() -> None:
        try:
            while not stop.is_set():
                case_id = world.open("industry-session")
                advance(world, case_id, "unit_recommendation")
        except BaseException as err:  # reported by the assertion below
            errors.append(err)

    writer = threading.Thread(target=keep_firing)
    writer.start()
    try:
        sizes = []
        for i in range(4):
            deadline = time.monotonic() + 60
            while True:  # wait until the writer has moved on since the previous backup
                with any_db.read() as conn:
                    events = conn.execute(select(func.count()).select_from(_event)).scalar_one()
                if events > (sizes[-1] if sizes else 0):
                    break
                assert writer.is_alive() and time.monotonic() < deadline, f"the writer stopped: {errors}"
                time.sleep(0.01)
            sizes.append(events)
            backup(any_db, tmp_path / f"live-{i}.backup")
    finally:
        stop.set()
        writer.join(timeout=60)
    assert not errors, errors
    target = Database(fresh_url)
    try:
        for i in range(4):
            report = restore(target, tmp_path / f"live-{i}.backup", force=True)
            assert report.ok, report.breaks
            assert report.cases > 0
    finally:
        target.dispose()


# --- damaged, foreign and wrong-backend files ------------------------------------------------------------------

def _foreign_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
        conn.execute("INSERT INTO invoices (amount) VALUES (12.5)")
    conn.close()


def _foreign_pg_dump(admin_url: str, path: Path) -> None:
    """A pg_dump archive of some other application's database."""
    name = f"titlereview_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        other = create_engine(admin_url.rsplit("/", 1)[0] + f"/{name}")
        with other.begin() as conn:
            conn.execute(text("CREATE TABLE invoices (id serial PRIMARY KEY, amount numeric)"))
        other.dispose()
        conninfo, env = libpq_connection(admin_url.rsplit("/", 1)[0] + f"/{name}")
        subprocess.run(["pg_dump", "--format=custom", f"--file={path}", f"--dbname={conninfo}"], env=env,
                       check=True)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


BAD_FILES = ["empty", "text", "random", "truncated", "foreign", "newer", "other-backend"]


@pytest.mark.parametrize("kind", BAD_FILES)
def test_damaged_or_foreign_files_are_refused_and_change_nothing(any_db: Database, tmp_path: Path, request,
                                                                 kind: str):
    populate(any_db)
    good = backup(any_db, tmp_path / "good.backup").path
    bad = tmp_path / f"{kind}.backup"
    postgres = any_db.is_postgres
    expected = {  # (a regular expression)
        "empty": "is not a pg_dump custom-format archive" if postgres else "is not a titlereview database",
        "text": "is not a pg_dump custom-format archive" if postgres else "is not a valid SQLite database",
        "random": "is not a pg_dump custom-format archive" if postgres else "is not a valid SQLite database",
        "truncated": ("reading the backup file failed|pg_restore failed" if postgres
                      else "is damaged|is not a valid SQLite database"),
        "foreign": re.escape("not a titlereview database (no table alembic_version, case_file, case_event, "
                             "user_account)"),
        "newer": "at schema revision '9999_future', which this version of titlereview does not know",
        "other-backend": "this is a SQLite backup" if postgres else re.escape("this is a PostgreSQL (pg_dump) backup"),
    }[kind]
    if kind == "empty":
        bad.write_bytes(b"")
    elif kind == "text":
        bad.write_text("id: industry-session\nversion: 1\n", encoding="utf-8")
    elif kind == "random":
        bad.write_bytes(os.urandom(64 * 1024))
    elif kind == "truncated":
        data = good.read_bytes()
        bad.write_bytes(data[: len(data) * 2 // 3])
    elif kind == "foreign":
        if postgres:
            _foreign_pg_dump(request.getfixturevalue("postgres_admin_url"), bad)
        else:
            _foreign_sqlite(bad)
    elif kind == "newer":
        # A backup of a database one migration ahead of this code (made with the newer release).
        if postgres:
            with any_db.write() as conn:
                conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
            with pytest.raises(BackupError, match="does not know"):
                backup(any_db, tmp_path / "refused.backup")  # this release will not even back it up
            conninfo, env = libpq_connection(any_db.url)
            subprocess.run(["pg_dump", "--format=custom", f"--file={bad}", f"--dbname={conninfo}"], env=env,
                           check=True)
            with any_db.write() as conn:
                conn.execute(text(f"UPDATE alembic_version SET version_num = '{migrate.head_revision(any_db)}'"))
        else:
            bad.write_bytes(good.read_bytes())
            with sqlite3.connect(bad) as conn:
                conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
            conn.close()
    elif kind == "other-backend":
        if postgres:
            _foreign_sqlite(bad)
        else:
            bad.write_bytes(b"PGDMP" + os.urandom(1024))
    before = snapshot(any_db)
    with pytest.raises(BackupError) as info:
        restore(any_db, bad, force=True)
    assert re.search(expected, str(info.value)), str(info.value)
    assert snapshot(any_db) == before
    assert verify_chains(any_db) == (3, [])


def test_a_missing_backup_file_is_a_clear_error(any_db: Database, tmp_path: Path):
    with pytest.raises(BackupError, match="does not exist"):
        restore(any_db, tmp_path / "nope.backup")


def test_an_older_backup_is_migrated_to_the_current_schema(tmp_path: Path):
    old = Database(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(old, "0002")
    path = backup(old, tmp_path / "old.backup").path
    old.dispose()
    target = Database(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        report = restore(target, path)
        assert (report.backup_revision, report.revision) == ("0002", migrate.head_revision(target))
        assert migrate.current_revision(target) == migrate.head_revision(target)
        assert report.cases == 0 and report.ok
    finally:
        target.dispose()


def test_missing_postgresql_client_programs_are_named(pg_db: Database, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump here
    with pytest.raises(BackupError, match="pg_dump not found on PATH: install the PostgreSQL client tools"):
        backup(pg_db, tmp_path / "b.backup")
    assert list(tmp_path.iterdir()) == []


def test_libpq_parameters_come_from_the_sqlalchemy_url():
    conninfo, env = libpq_connection(
        "postgresql+psycopg://app%20user:p%27ss%20w@db.example:6543/title review?sslmode=require")
    assert conninfo == "host=db.example port=6543 user='app user' dbname='title review' sslmode=require"
    assert env["PGPASSWORD"] == "p'ss w"
    assert "p'ss" not in conninfo
    assert "lock_timeout=" in env["PGOPTIONS"]
    socket, _ = libpq_connection("postgresql+psycopg:///titlereview?host=/var/run/postgresql")
    assert socket == "dbname=titlereview host=/var/run/postgresql"


# --- the command line ------------------------------------------------------------------------------------------

def test_cli_backup_and_restore(any_db: Database, tmp_path: Path):
    world, waiting = populate(any_db)
    url, path, runner = any_db.url, tmp_path / "cli.backup", CliRunner()
    done = runner.invoke(main, ["--database-url", url, "backup", str(path)])
    assert done.exit_code == 0, done.output
    assert "backup written" in done.output and "schema revision" in done.output
    again = runner.invoke(main, ["--database-url", url, "backup", str(path)])
    assert again.exit_code == 1 and "already exists; pass --force" in again.output

    advance(world, waiting, "unit_recommendation")
    refused = runner.invoke(main, ["--database-url", url, "restore", str(path)])
    assert refused.exit_code == 1 and "pass --force to proceed" in refused.output
    restored = runner.invoke(main, ["--database-url", url, "restore", "--force", str(path)])
    assert restored.exit_code == 0, restored.output
    assert "all 3 case chains verify" in restored.output
    with any_db.read() as conn:
        assert conn.execute(select(func.count()).select_from(_event).where(
            _event.c.trigger == "close_unit_notice", _event.c.case_id == waiting)).scalar_one() == 0

    garbage = tmp_path / "garbage.backup"
    garbage.write_bytes(os.urandom(4096))
    failed = runner.invoke(main, ["--database-url", url, "restore", "--force", str(garbage)])
    assert failed.exit_code == 1 and "Error:" in failed.output


def test_cli_restore_fails_when_a_restored_chain_is_broken(any_db: Database, tmp_path: Path):
    """The backup faithfully keeps a tampered history; the restore says so and exits non-zero."""
    populate(any_db)
    with any_db.write() as conn:
        first = conn.execute(select(_event.c.id).order_by(_event.c.id).limit(1)).scalar_one()
        conn.execute(update(_event).where(_event.c.id == first).values(comment="篡改"))
    path = backup(any_db, tmp_path / "tampered.backup").path
    result = CliRunner().invoke(main, ["--database-url", any_db.url, "restore", "--force", str(path)])
    assert result.exit_code == 1
    assert "BROKEN case" in result.output and "1 of 3 restored case chains are broken" in result.output
