"""Database access: one :class:`Database` per process wraps the SQLAlchemy engine and its transactions.

SQLite is the embedded default and PostgreSQL the production store. Writes must serialise on the case row:
PostgreSQL does that with ``SELECT … FOR UPDATE``; SQLite ignores FOR UPDATE, so write transactions start
with ``BEGIN IMMEDIATE`` (taking the write lock up front; a deferred BEGIN that upgrades later fails with
"database is locked" instead of waiting). pysqlite's own transaction handling is switched off so that
SQLAlchemy's BEGIN is the one that runs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import cast

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session

DEFAULT_SQLITE_PATH = Path("instance") / "titlereview.db"
_WRITE = "titlereview_write"
_BEGUN = "titlereview_begun"
PING_AFTER_IDLE_S = 2.0
"""A pooled PostgreSQL connection idle longer than this is pinged before use (restarts, proxies' idle cuts).

SQLAlchemy's ``pool_pre_ping`` pings on *every* checkout: one more round trip per transaction (~40 µs here,
more across a network). Connections that sat idle are where dead ones hide, so only those are pinged; a busy
process never pings. The price: after a server restart, each connection used in the last two seconds fails
once on its next use (a 500 for that request) and is then discarded and replaced.
"""


def database_url(explicit: str | None = None) -> str:
    """The database URL: explicit argument, else ``TITLEREVIEW_DATABASE_URL``, else the SQLite file."""
    url = explicit or os.environ.get("TITLEREVIEW_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # pragma: no cover - exercised by every SQLite test
        dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN be the only one
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=5000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get(_BEGUN, False):
            return  # a Connection joining the transaction Database.lean_write() began
        immediate = options.get(_WRITE, False)
        # Straight to the driver: through exec_driver_sql this BEGIN cost ~30 µs of SQLAlchemy CPU, a third
        # of a whole raw-driver transaction. SQLAlchemy's log still shows "BEGIN (implicit)".
        driver = conn.connection.driver_connection
        if driver is None:  # only a closed or invalidated pool entry has none, and this one is beginning
            raise RuntimeError("cannot BEGIN: the pooled connection has no DBAPI connection")
        driver.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _configure_postgres(engine: Engine) -> None:
    """Ping a pooled connection before use only when it has sat idle (see PING_AFTER_IDLE_S)."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn, record, _proxy) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return  # new, or used a moment ago: a dead server shows up as an error on this use instead
        try:
            cur = dbapi_conn.cursor()
            cur.execute("SELECT 1")
            cur.close()
            dbapi_conn.rollback()  # the driver began a transaction for the ping; leave the connection idle
        except Exception as err:  # any failure: the pool discards this connection and checks out another
            raise DisconnectionError("pooled connection failed its ping") from err


class _LeanConnection:
    """Stands in for a ``Connection`` inside :meth:`Database.lean_write`; see there."""

    __slots__ = ("_engine", "_real", "connection", "dialect")

    def __init__(self, engine: Engine, fairy) -> None:
        self._engine = engine
        self._real: Connection | None = None
        self.connection = fairy
        self.dialect = engine.dialect

    def get_execution_options(self):
        """The execution options of a write transaction."""
        return self._engine.get_execution_options()

    def __getattr__(self, name: str):
        # Anything else needs SQLAlchemy: wrap the same DBAPI connection (its BEGIN already ran; the begin
        # listener sees the joined option and emits nothing; the dialects' own do_begin is a no-op).
        if self._real is None:
            self._real = Connection(self._engine, connection=self.connection)
        return getattr(self._real, name)


class Database:
    """The process's handle on the store: read and write transactions (Core) and ORM sessions."""

    def __init__(self, url: str | None = None, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = database_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.is_postgres = parsed.get_backend_name() == "postgresql"
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            if parsed.database in (None, "", ":memory:"):
                raise ValueError("an in-memory SQLite database cannot be shared between connections; use a file")
            self.engine = create_engine(
                self.url, echo=echo, connect_args={"check_same_thread": False, "timeout": 5},
                pool_size=pool_size, max_overflow=20,
            )
            _configure_sqlite(self.engine)
        else:
            self.engine = create_engine(self.url, echo=echo, pool_size=pool_size, max_overflow=20)
            if self.is_postgres:
                _configure_postgres(self.engine)
        # Same pool; the option only changes how SQLite begins (IMMEDIATE) for write transactions.
        self._write_engine = self.engine.execution_options(**{_WRITE: True})
        # For a Connection that joins a transaction lean_write() already began (see there).
        self._joined_engine = self.engine.execution_options(**{_WRITE: True, _BEGUN: True})

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises.

        On SQLite it begins IMMEDIATE (the database write lock); on PostgreSQL callers lock rows themselves.
        """
        with self._write_engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def lean_write(self) -> Iterator[Connection]:
        """A write transaction like :meth:`write`, without SQLAlchemy's per-transaction bookkeeping.

        Measured on a plain transition, checking out a ``Connection``, beginning, committing and returning it
        cost ~30 µs of CPU (SQLite; ~15 µs more than the driver alone on PostgreSQL) — a quarter of what the
        raw-SQL floor spends on a whole transition. Here the pooled DBAPI connection is used directly: BEGIN
        (IMMEDIATE on SQLite) and COMMIT / ROLLBACK go to the driver. What is yielded behaves as a
        ``Connection`` (``.connection``, ``.dialect``, ``get_execution_options()`` answer at once); the first
        use of anything else — a Core statement, ``begin_nested()`` — wraps a real ``Connection`` around the
        same DBAPI connection, joined to the transaction already running, and the block ends through it.
        """
        fairy = self.engine.raw_connection()  # pool checkout (and, on PostgreSQL, the idle-connection ping)
        conn = _LeanConnection(self._joined_engine, fairy)
        driver = fairy.driver_connection
        try:
            if driver is None:  # only a closed or invalidated pool entry has none; this one was just checked out
                raise RuntimeError("cannot begin a write: the pooled connection has no DBAPI connection")
            if self.is_sqlite:
                driver.execute("BEGIN IMMEDIATE")
            # It behaves as a Connection for every use its callers make of it (see _LeanConnection).
            yield cast(Connection, conn)
            real = conn._real
            if real is not None and real.in_transaction():
                real.commit()
            else:
                driver.commit()
        except BaseException:
            real = conn._real
            # If the connection itself broke, rolling back fails too: report the original error; the pool
            # discards the connection when it comes back (its reset fails).
            with suppress(Exception):
                if real is not None and real.in_transaction():
                    real.rollback()
                elif driver is not None:
                    driver.rollback()
            raise
        finally:
            if conn._real is not None:
                conn._real.close()  # returns the DBAPI connection to the pool
            else:
                fairy.close()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (a consistent snapshot on both databases)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """An ORM session for pages and admin work; committed on success when ``write`` is true."""
        with Session(self._write_engine if write else self.engine, expire_on_commit=False) as session:
            try:
                yield session
                if write:
                    session.commit()
                # A read session just closes: a rollback would expire the objects handed to the caller.
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        """Close every pooled connection (tests, forks)."""
        self.engine.dispose()
