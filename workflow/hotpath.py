"""The statements of :func:`workflow.engine.fire`, issued straight through the database driver.

Measured here, SQLAlchemy Core spends ~40–100 µs of client CPU per statement (execution context, result
proxy, type processors, events) — more than SQLite needs to execute it, and a large share of a PostgreSQL
round trip. ``fire`` runs five or six statements on every transition, so they are written once as SQL
text and executed on the DBAPI cursor of the connection SQLAlchemy already holds (inside its transaction,
so commit/rollback stay with SQLAlchemy). Values are converted exactly as SQLAlchemy's column types would:
JSON as ``json.dumps`` text (JSONB on PostgreSQL), timestamps as naive UTC text on SQLite.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Connection, DateTime, Table

from .models import Case, CaseEvent, OutboxMessage, ReviewSession, Timer, as_utc

_SQLITE_TS = "%Y-%m-%d %H:%M:%S.%f"


def _kinds(table: Table) -> tuple[set[str], set[str]]:
    json_cols = {c.name for c in table.c if isinstance(c.type, JSON) or
                 any(isinstance(v, JSON) for v in getattr(c.type, "_variant_mapping", {}).values())}
    ts_cols = {c.name for c in table.c if isinstance(c.type, DateTime)}
    return json_cols, ts_cols


_case, _event, _outbox, _timer, _session = (Case.__table__, CaseEvent.__table__, OutboxMessage.__table__,
                                            Timer.__table__, ReviewSession.__table__)
_CASE_JSON, _CASE_TS = _kinds(_case)
_CASE_COLS = [c.name for c in _case.c]
_EVENT_COLS = [c.name for c in _event.c if c.name != "id"]
_OUTBOX_COLS = [c.name for c in _outbox.c if c.name != "id"]
_TIMER_COLS = [c.name for c in _timer.c if c.name != "id"]
MUTABLE = ("state", "version", "last_event_hash", "updated_at", "state_entered_at", "data", "pending_timers",
           "submitted_at", "standard_version")
"""Case columns a transition may change."""


def _insert(table: Table, cols: list[str]) -> str:
    return f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"


_SQL = {
    "select_case": (f"SELECT {', '.join('c.' + c for c in _CASE_COLS)}, s.parameters AS session_parameters "
                    f"FROM {_case.name} c LEFT OUTER JOIN {_session.name} s ON s.id = c.session_id "
                    "WHERE c.id = :case_id"),
    "claim_timer": (f"UPDATE {_timer.name} SET status = 'fired', closed_at = :now "
                    "WHERE id = :timer_id AND case_id = :case_id AND status = 'pending'"),
    "update_case": (f"UPDATE {_case.name} SET {', '.join(f'{c} = :v_{c}' for c in MUTABLE)} "
                    "WHERE id = :w_id AND version = :w_version"),
    "insert_event": _insert(_event, _EVENT_COLS),
    "insert_outbox": _insert(_outbox, _OUTBOX_COLS),
    "insert_timer": _insert(_timer, _TIMER_COLS),
    "pending_timers": (f"SELECT id, name, state, paused_in FROM {_timer.name} "
                       "WHERE case_id = :case_id AND status = 'pending'"),
    "cancel_timer": f"UPDATE {_timer.name} SET status = 'cancelled', closed_at = :now WHERE id = :timer_id",
}


class HotPath:
    """fire()'s statements for one dialect (``sqlite`` or ``postgresql``)."""

    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgresql"
        if self.postgres:
            from psycopg.types.json import Jsonb

            self._jsonb = Jsonb
            # psycopg uses %(name)s placeholders; a literal % would need doubling, and none of ours has one.
            self.sql = {k: re.sub(r":(\w+)", r"%(\1)s", v) for k, v in _SQL.items()}
            self.sql["select_case_locked"] = self.sql["select_case"] + " FOR UPDATE OF c"
        else:
            self.sql = dict(_SQL)
            self.sql["select_case_locked"] = self.sql["select_case"]  # BEGIN IMMEDIATE already holds the lock

    def _out(self, value: Any) -> Any:
        """A Python value as the driver should receive it for our columns."""
        if isinstance(value, dict | list):
            return self._jsonb(value) if self.postgres else json.dumps(value)
        if isinstance(value, datetime) and not self.postgres:
            return as_utc(value).replace(tzinfo=None).strftime(_SQLITE_TS)
        return value

    def _params(self, values: dict[str, Any]) -> dict[str, Any]:
        return {k: self._out(v) for k, v in values.items()}

    @staticmethod
    def cursor(conn: Connection):
        """A DBAPI cursor on the connection SQLAlchemy holds (already inside its transaction)."""
        return conn.connection.driver_connection.cursor()

    def load_case(self, cur, case_id: int, *, lock: bool) -> dict[str, Any] | None:
        """The case row plus ``session_parameters``, typed as SQLAlchemy would return it."""
        cur.execute(self.sql["select_case_locked" if lock else "select_case"], {"case_id": case_id})
        row = cur.fetchone()
        if row is None:
            return None
        case = dict(zip([*_CASE_COLS, "session_parameters"], row, strict=True))
        if not self.postgres:
            for name in _CASE_JSON:
                if isinstance(case[name], str):
                    case[name] = json.loads(case[name])
            if isinstance(case["session_parameters"], str):
                case["session_parameters"] = json.loads(case["session_parameters"])
            for name in _CASE_TS:
                if isinstance(case[name], str):
                    case[name] = as_utc(datetime.fromisoformat(case[name]))
        return case

    def claim_timer(self, cur, timer_id: int, case_id: int, now: datetime) -> bool:
        """Mark a pending timer fired; False when another tick already did."""
        cur.execute(self.sql["claim_timer"], self._params({"timer_id": timer_id, "case_id": case_id, "now": now}))
        return cur.rowcount == 1

    def update_case(self, cur, case_id: int, version: int, values: dict[str, Any]) -> bool:
        """Write the mutable columns if the case is still at ``version``."""
        params = {f"v_{k}": self._out(values[k]) for k in MUTABLE}
        params.update(w_id=case_id, w_version=version)
        cur.execute(self.sql["update_case"], params)
        return cur.rowcount == 1

    def insert_event(self, cur, event: dict[str, Any]) -> None:
        """Append the audit event."""
        cur.execute(self.sql["insert_event"], self._params(event))

    def insert_outbox(self, cur, row: dict[str, Any]) -> None:
        """Queue a message for delivery after commit."""
        cur.execute(self.sql["insert_outbox"], self._params({c: row.get(c) for c in _OUTBOX_COLS}))

    def insert_timer(self, cur, row: dict[str, Any]) -> None:
        """Start a deadline."""
        cur.execute(self.sql["insert_timer"], self._params({c: row.get(c) for c in _TIMER_COLS}))

    def pending_timers(self, cur, case_id: int) -> list[dict[str, Any]]:
        """The case's pending timers (id, name, state, paused_in)."""
        cur.execute(self.sql["pending_timers"], {"case_id": case_id})
        rows = [dict(zip(("id", "name", "state", "paused_in"), r, strict=True)) for r in cur.fetchall()]
        if not self.postgres:
            for r in rows:
                r["paused_in"] = json.loads(r["paused_in"]) if isinstance(r["paused_in"], str) else r["paused_in"]
        return rows

    def cancel_timers(self, cur, timer_ids: list[int], now: datetime) -> None:
        """Cancel timers whose state the case has left for good."""
        for timer_id in timer_ids:
            cur.execute(self.sql["cancel_timer"], self._params({"timer_id": timer_id, "now": now}))


_paths: dict[str, HotPath] = {}


def hot_path(dialect: str) -> HotPath:
    """The (stateless, shareable) HotPath for ``dialect``."""
    path = _paths.get(dialect)
    if path is None:
        path = _paths[dialect] = HotPath(dialect)
    return path
