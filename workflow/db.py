"""Database access: one :class:`Database` per process wraps the SQLAlchemy engine and its transactions.

SQLite is the embedded default and PostgreSQL the production store. Writes must serialise on the case row:
PostgreSQL does that with ``SELECT … FOR UPDATE``; SQLite ignores FOR UPDATE, so write transactions start
with ``BEGIN IMMEDIATE`` (taking the write lock up front; a deferred BEGIN that upgrades later fails with
"database is locked" instead of waiting). pysqlite's own transaction handling is switched off so that
SQLAlchemy's BEGIN is the one that runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

DEFAULT_SQLITE_PATH = Path("instance") / "titlereview.db"
_WRITE = "titlereview_write"


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
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


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
            self.engine = create_engine(self.url, echo=echo, pool_size=pool_size, max_overflow=20,
                                        pool_pre_ping=True)
        # Same pool; the option only changes how SQLite begins (IMMEDIATE) for write transactions.
        self._write_engine = self.engine.execution_options(**{_WRITE: True})

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises.

        On SQLite it begins IMMEDIATE (the database write lock); on PostgreSQL callers lock rows themselves.
        """
        with self._write_engine.connect() as conn, conn.begin():
            yield conn

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
