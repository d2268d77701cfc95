"""The connection pool on PostgreSQL: idle connections are pinged before use, busy ones are not."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

import workflow.db
from workflow.db import Database

pytestmark = pytest.mark.postgres


def _pid(db: Database) -> int:
    with db.read() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(url: str, pid: int) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    finally:
        admin.dispose()
    time.sleep(0.2)  # let the backend go


def test_idle_connection_is_pinged_and_replaced(pg_url, monkeypatch):
    monkeypatch.setattr(workflow.db, "PING_AFTER_IDLE_S", 0.0)
    db = Database(pg_url)
    try:
        pid = _pid(db)
        _terminate(pg_url, pid)
        assert _pid(db) != pid  # the ping failed, the pool replaced the connection: no error reaches us
    finally:
        db.dispose()


def test_busy_connection_is_not_pinged_and_recovers_after_one_error(pg_url, monkeypatch):
    monkeypatch.setattr(workflow.db, "PING_AFTER_IDLE_S", 3600.0)
    db = Database(pg_url)
    try:
        pid = _pid(db)
        _terminate(pg_url, pid)
        with pytest.raises(DBAPIError):  # no ping: the dead connection shows up on use, once
            _pid(db)
        assert _pid(db) != pid
    finally:
        db.dispose()


def _lean_pid(db: Database) -> int:
    with db.lean_write() as conn:
        cur = conn.connection.driver_connection.cursor()
        cur.execute("SELECT pg_backend_pid()")
        return cur.fetchone()[0]


def test_lean_write_on_a_dead_connection_reports_it_and_the_pool_recovers(pg_url, monkeypatch):
    import psycopg

    monkeypatch.setattr(workflow.db, "PING_AFTER_IDLE_S", 3600.0)
    db = Database(pg_url)
    try:
        pid = _lean_pid(db)
        _terminate(pg_url, pid)
        with pytest.raises(psycopg.OperationalError):  # the statement's own error, not the failed rollback's
            _lean_pid(db)
        assert _lean_pid(db) != pid  # the broken connection was discarded on its way back to the pool
    finally:
        db.dispose()
