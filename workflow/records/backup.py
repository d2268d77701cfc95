"""Backing up and restoring the whole database, and proving the restored history is intact.

SQLite uses the online backup API (``sqlite3.Connection.backup``): a transaction-consistent copy page by page,
safe while the application serves (WAL readers and writers carry on), and restoring goes through the same API
into the configured file, which replaces its content in one transaction. PostgreSQL uses ``pg_dump
--format=custom`` (one consistent snapshot) and ``pg_restore --clean --if-exists --no-owner
--single-transaction``, so a restore that fails half-way changes nothing.

Every backup is written to ``PATH.partial`` and renamed into place only once it is complete and checked, so
an interrupted backup never leaves a truncated file under the name a later restore would trust. A restore
first checks that the file is a titlereview database (an Alembic revision this code knows), refuses to
replace a database that already holds data unless forced, migrates an older backup up to the current
schema, and finally walks every audit hash chain (:func:`workflow.records.audit.verify_chains`).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from workflow import migrate
from workflow.db import Database
from workflow.models import Case, Organisation, User, metadata
from workflow.records.audit import ChainBreak, verify_chains

_SQLITE_MAGIC = b"SQLite format 3\x00"
_PGDMP_MAGIC = b"PGDMP"
_DATA_TABLES = (Case.__table__, User.__table__, Organisation.__table__)
"""What makes a database worth protecting: people, organisations and cases (``init-db`` creates none)."""
_CORE_TABLES = ("alembic_version", "case_file", "case_event", "user_account")
"""Tables every titlereview database has, at every revision."""
_LOCK_TIMEOUT_MS = 60_000
"""How long pg_dump/pg_restore wait for a table lock before giving up (a migration or a long transaction
holding one), rather than hang."""


class BackupError(Exception):
    """A backup or restore could not be done; the message (Chinese first, then English) says why and what to do."""


@dataclass(frozen=True)
class BackupInfo:
    """What ``backup`` wrote."""

    path: Path
    backend: str
    size: int
    revision: str


@dataclass(frozen=True)
class RestoreReport:
    """What ``restore`` did: the backup's schema revision, the revision now, and the audit-chain check."""

    backend: str
    backup_revision: str
    revision: str
    cases: int
    breaks: list[ChainBreak] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every case's hash chain verifies."""
        return not self.breaks


# --- shared checks ---------------------------------------------------------------------------------------------

def _known_revision(db: Database, revision: str | None, what: tuple[str, str]) -> str:
    """``revision`` if this code's migrations know it; else a BackupError naming ``what`` (Chinese, English)."""
    zh, en = what
    if not revision:
        raise BackupError(f"{zh}没有记录数据库结构版本（alembic_version），不是 titlereview 的数据库 / "
                          f"{en} records no schema revision (alembic_version): not a titlereview database")
    scripts = ScriptDirectory.from_config(migrate.alembic_config(db))
    try:
        known = scripts.get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise BackupError(f"{zh}的数据库结构版本 {revision!r} 不是本程序的版本（可能来自更新的 titlereview），"
                          f"请用对应版本的程序恢复 / {en} is at schema revision {revision!r}, which this "
                          "version of titlereview does not know (a newer release?); restore it with that release")
    return revision


def _data_summary(db: Database) -> str | None:
    """None when the database holds nothing worth protecting, else what it holds (for the refusal message).

    Worth protecting: any case, user or organisation, and any table titlereview would not have created.
    """
    try:
        return _held(db)
    except SQLAlchemyError as err:  # the target must answer before anything in it is replaced
        raise BackupError(f"无法读取目标数据库（{type(err).__name__}）/ cannot read the database to restore into "
                          f"({str(err).splitlines()[0]})") from None


def _held(db: Database) -> str | None:
    names = set(inspect(db.engine).get_table_names())
    foreign = sorted(names - set(metadata.tables) - {"alembic_version"})
    if foreign:
        return f"{len(foreign)} 个非 titlereview 的表 / {len(foreign)} tables titlereview did not create " \
               f"({', '.join(foreign[:5])})"
    counts = []
    with db.read() as conn:
        for table in _DATA_TABLES:
            if table.name in names:
                n = conn.execute(select(func.count()).select_from(table)).scalar_one()
                if n:
                    counts.append(f"{table.name}: {n}")
    return ", ".join(counts) or None


def _refuse_overwrite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise BackupError(f"文件 {path} 已存在；如确需覆盖请加 --force / {path} already exists; pass --force to "
                          "overwrite it")
    if path.is_dir():
        raise BackupError(f"{path} 是目录，请给出文件名 / {path} is a directory; give a file name")


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def backup(db: Database, path: Path, *, force: bool = False) -> BackupInfo:
    """Write a consistent copy of the whole database to ``path`` (safe while the application runs).

    Refuses to overwrite an existing file unless ``force``. SQLite: a SQLite file; PostgreSQL: a ``pg_dump``
    custom-format archive.
    """
    path = Path(path)
    if db.is_sqlite and path.resolve() in {Path(f"{_sqlite_path(db)}{s}") for s in ("", "-wal", "-shm")}:
        raise BackupError(f"{path} 就是数据库文件本身，请另选备份位置 / {path} is the database itself; choose another "
                          "place for the backup")
    _refuse_overwrite(path, force)
    if not path.parent.is_dir():
        raise BackupError(f"目录 {path.parent} 不存在 / directory {path.parent} does not exist")
    partial = _partial(path)
    partial.unlink(missing_ok=True)
    try:
        if db.is_sqlite:
            revision = _sqlite_backup(db, partial)
        elif db.is_postgres:
            revision = _pg_backup(db, partial)
        else:
            raise BackupError(f"不支持备份此类数据库 / cannot back up a {db.engine.dialect.name} database")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return BackupInfo(path, "sqlite" if db.is_sqlite else "postgresql", path.stat().st_size, revision)


def restore(db: Database, path: Path, *, force: bool = False) -> RestoreReport:
    """Replace ``db``'s content with the backup at ``path``, migrate it to this code's schema, verify every chain.

    The file is checked first (a backup of this backend, of a titlereview database at a revision this code
    knows); a database that already holds data is only replaced when ``force`` is true. Stop the application
    first: a restore replaces what running requests read and write. Problems found in the restored chains are
    returned in the report (the data is restored as it was backed up, so the caller decides what to do).
    """
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"备份文件 {path} 不存在 / backup file {path} does not exist")
    with path.open("rb") as f:
        head = f.read(len(_SQLITE_MAGIC))
    if db.is_sqlite:
        if head.startswith(_PGDMP_MAGIC):
            raise BackupError("这是 PostgreSQL 的备份（pg_dump），当前数据库是 SQLite / this is a PostgreSQL "
                              "(pg_dump) backup, but the configured database is SQLite")
        restore_fn = _sqlite_restore
    elif db.is_postgres:
        if head == _SQLITE_MAGIC:
            raise BackupError("这是 SQLite 的备份，当前数据库是 PostgreSQL / this is a SQLite backup, but the "
                              "configured database is PostgreSQL")
        restore_fn = _pg_restore
    else:
        raise BackupError(f"不支持恢复此类数据库 / cannot restore a {db.engine.dialect.name} database")
    backup_revision = restore_fn(db, path, force)
    db.dispose()  # pooled connections may hold plans and pages of the replaced tables
    if backup_revision != migrate.head_revision(db):
        try:
            migrate.upgrade(db)
        except Exception as err:  # the data is restored; say plainly that the schema step is what failed
            raise BackupError(f"已恢复（结构版本 {backup_revision}），但升级到当前结构失败：{err} / restored (schema "
                              f"revision {backup_revision}), but migrating it to this release failed: {err}") from err
    cases, breaks = verify_chains(db)
    return RestoreReport("sqlite" if db.is_sqlite else "postgresql", backup_revision,
                         migrate.current_revision(db) or "", cases, breaks)


# --- SQLite ----------------------------------------------------------------------------------------------------

def _sqlite_path(db: Database) -> Path:
    name = db.engine.url.database
    if not name:  # Database refuses a SQLite URL without a file, so only a non-SQLite database gets here
        raise BackupError("数据库地址未指明 SQLite 文件 / the database URL names no SQLite file")
    return Path(name).resolve()


def _sqlite_check(conn: sqlite3.Connection, db: Database, what: tuple[str, str]) -> str:
    """The revision of a SQLite titlereview database; BackupError when it is damaged or something else."""
    zh, en = what
    try:
        problems = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if problems != ["ok"]:
            raise BackupError(f"{zh}已损坏（integrity_check：{problems[0]}）/ {en} is damaged "
                              f"(integrity_check: {'; '.join(problems[:3])})")
        missing = [t for t in _CORE_TABLES if t not in tables]
        if missing:
            raise BackupError(f"{zh}不是 titlereview 的数据库（缺少表 {', '.join(missing)}）/ {en} is not a "
                              f"titlereview database (no table {', '.join(missing)})")
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as err:
        raise BackupError(f"{zh}不是有效的 SQLite 数据库（{err}）/ {en} is not a valid SQLite database "
                          f"({err})") from None
    return _known_revision(db, revision[0] if revision else None, what)


def _sqlite_backup(db: Database, target: Path) -> str:
    source = _sqlite_path(db)
    if not source.is_file():
        raise BackupError(f"数据库文件 {source} 不存在 / database file {source} does not exist")
    # Plain sqlite3 connections, not the pool: the backup API belongs to the driver, and a connection of its own
    # never interferes with the application's transactions. timeout= waits out a writer's brief lock.
    with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(target)) as dst:
        try:
            src.backup(dst)  # all pages in one step: one consistent snapshot even while others write
            # A backup is a single self-contained file: no WAL beside it.
            dst.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.Error as err:
            raise BackupError(f"备份失败（{err}）/ backup failed ({err})") from None
        return _sqlite_check(dst, db, ("备份", "the backup"))


def _sqlite_restore(db: Database, path: Path, force: bool) -> str:
    # Work on a private copy: checking and reading never touch the user's backup file (or create -wal/-shm
    # files next to it), and a backup that is still in WAL mode is read exactly as copied.
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "restore.db"
        shutil.copyfile(path, copy)
        with closing(sqlite3.connect(copy)) as src:
            revision = _sqlite_check(src, db, ("备份文件", "the backup file"))
            held = _data_summary(db)
            if held and not force:
                raise _holds_data(held)
            db.dispose()
            target = _sqlite_path(db)
            target.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(target, timeout=30)) as dst:
                # The backup API into the live file: one transaction on the target, so other connections see
                # either the old database or the restored one, never a mix, and the WAL stays consistent.
                try:
                    src.backup(dst)
                except sqlite3.Error as err:
                    raise BackupError(f"恢复失败，数据库未改变（{err}）/ restore failed, the database is "
                                      f"unchanged ({err})") from None
    return revision


def _holds_data(held: str) -> BackupError:
    return BackupError(f"目标数据库已有数据（{held}），恢复会替换全部内容；确认无误请加 --force / the database "
                       f"already holds data ({held}); restoring replaces all of it: pass --force to proceed")


# --- PostgreSQL ------------------------------------------------------------------------------------------------

def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"找不到 {name}，请安装 PostgreSQL 客户端程序（如 apt install postgresql-client）/ "
                          f"{name} not found on PATH: install the PostgreSQL client tools "
                          "(e.g. apt install postgresql-client)")
    return found


def _conninfo_value(value: str) -> str:
    """A libpq keyword/value conninfo value, quoted when it needs to be."""
    if value and re.fullmatch(r"[A-Za-z0-9_./:-]+", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def libpq_connection(url: str | URL) -> tuple[str, dict[str, str]]:
    """A libpq conninfo string for ``pg_dump``/``pg_restore --dbname`` and the environment to run them with.

    The password goes into ``PGPASSWORD`` rather than the command line, where ``ps`` would show it. Query
    parameters of the URL (``sslmode``, ``host`` for a socket directory...) are libpq keywords already.
    """
    u = make_url(url)
    params: dict[str, str] = {}
    if u.host:
        params["host"] = u.host
    if u.port:
        params["port"] = str(u.port)
    if u.username:
        params["user"] = u.username
    if u.database:
        params["dbname"] = u.database
    for key, value in u.query.items():
        params[key] = value if isinstance(value, str) else value[-1]
    env = dict(os.environ)
    if u.password is not None:
        env["PGPASSWORD"] = str(u.password)
    # Fail rather than queue forever behind a lock (e.g. a migration, or an application still running).
    env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} -c lock_timeout={_LOCK_TIMEOUT_MS}".strip()
    return " ".join(f"{k}={_conninfo_value(v)}" for k, v in params.items()), env


def _run(args: list[str], env: dict[str, str], zh: str, en: str) -> str:
    """Run a PostgreSQL client program; its stdout, or a BackupError with the end of its stderr."""
    try:
        result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    except OSError as err:
        raise BackupError(f"无法运行 {args[0]}（{err}）/ cannot run {args[0]} ({err})") from None
    if result.returncode != 0:
        detail = "\n".join(result.stderr.strip().splitlines()[-5:]) or f"exit status {result.returncode}"
        raise BackupError(f"{zh}失败 / {en} failed:\n{detail}")
    return result.stdout


def _pg_backup(db: Database, target: Path) -> str:
    conninfo, env = libpq_connection(db.url)
    _run([_binary("pg_dump"), "--format=custom", f"--file={target}", f"--lock-wait-timeout={_LOCK_TIMEOUT_MS}",
          f"--dbname={conninfo}"], env, "备份（pg_dump）", "pg_dump")
    # The archive reads back, is a titlereview database, and records a revision this release can restore.
    return _pg_archive_revision(db, target, env, ("备份", "the backup"))


def _pg_archive_revision(db: Database, path: Path, env: dict[str, str], what: tuple[str, str]) -> str:
    """The revision recorded in a pg_dump archive; BackupError when it is not a titlereview archive."""
    zh, en = what
    with path.open("rb") as f:
        if f.read(len(_PGDMP_MAGIC)) != _PGDMP_MAGIC:
            raise BackupError(f"{zh}不是 pg_dump 自定义格式的备份 / {en} is not a pg_dump custom-format "
                              "archive")
    pg_restore = _binary("pg_restore")
    listing = _run([pg_restore, "--list", str(path)], env, f"读取{zh}", f"reading {en}")
    tables = set(re.findall(r"TABLE DATA \S+ (\S+) ", listing))
    missing = [t for t in _CORE_TABLES if t not in tables]
    if missing:
        raise BackupError(f"{zh}不是 titlereview 的数据库（缺少表 {', '.join(missing)}）/ {en} is not a "
                          f"titlereview database (no table {', '.join(missing)})")
    # The revision is table data: have pg_restore print just that table's COPY block.
    data = _run([pg_restore, "--data-only", "--table=alembic_version", "--file=-", str(path)], env,
                f"读取{zh}", f"reading {en}")
    rows = re.search(r"^COPY \S*alembic_version .*? FROM stdin;\n(.*?)^\\\.$", data, re.M | re.S)
    values = rows.group(1).split() if rows else []
    return _known_revision(db, values[0] if values else None, what)


def _pg_restore(db: Database, path: Path, force: bool) -> str:
    conninfo, env = libpq_connection(db.url)
    revision = _pg_archive_revision(db, path, env, ("备份文件", "the backup file"))
    held = _data_summary(db)
    if held and not force:
        raise _holds_data(held)
    db.dispose()
    # One transaction: if anything fails (a lock, a damaged archive), the database is left exactly as it was.
    _run([_binary("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
          "--exit-on-error", f"--dbname={conninfo}", str(path)], env, "恢复（pg_restore）", "pg_restore")
    return revision

