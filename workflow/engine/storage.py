"""The statements of :func:`workflow.engine.core.fire`, issued straight through the database driver.

Measured here, SQLAlchemy Core spends ~40–100 µs of client CPU per statement (execution context, result
proxy, type processors, events) — more than SQLite needs to execute it, and a large share of a PostgreSQL
round trip. So fire()'s statements, and the ones its guards and actions run often (:class:`Statement`), are
written once as SQL text and executed on the DBAPI cursor of the transaction's connection (the pooled
connection of :meth:`workflow.db.Database.lean_write` in fire(), a SQLAlchemy Connection's elsewhere).
Values are converted exactly as SQLAlchemy's column types would: JSON as ``json.dumps`` text (JSONB on
PostgreSQL; Python None as JSON null), timestamps as naive UTC text and dates as ISO text on SQLite.

On PostgreSQL a transition's writes — the guarded case update, its event, its deadline and its outbox row —
are one statement: a data-modifying CTE whose inserts select from the update, so they happen only if it did.

The case's ``data`` column holds a few small keys (``round``, ``superior_level``, corrections …); the
eligibility reports, 20–40 KB, have a table of their own (``eligibility_record``), so ``data`` comes with
the case row (a lazy fetch cost panel steps a round trip each). A transition that changes some keys has the
database merge them (``json_set`` on SQLite, ``||`` on PostgreSQL — both replace whole top-level keys, like
``{**data, **updates}``), so the document is never re-encoded whole.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Connection, DateTime, Table

from workflow.models import CalendarOverride, Case, CaseEvent, OutboxMessage, ReviewSession, Timer, as_utc
from workflow.time.calendar import WorkingCalendar

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
_LOADED_COLS = (*_CASE_COLS, "session_parameters", "session_relaxations")
_CASE_JSON_COLS = tuple(sorted(_CASE_JSON))
_CASE_TS_COLS = tuple(sorted(_CASE_TS))
_EVENT_COLS = [c.name for c in _event.c if c.name != "id"]
_OUTBOX_COLS = [c.name for c in _outbox.c if c.name != "id"]
_TIMER_COLS = [c.name for c in _timer.c if c.name != "id"]


def _typed(table: Table) -> tuple[tuple[str, ...], tuple[str, ...]]:
    json_cols, ts_cols = _kinds(table)
    return tuple(sorted(json_cols)), tuple(sorted(ts_cols))


_EVENT_KINDS, _OUTBOX_KINDS, _TIMER_KINDS = _typed(_event), _typed(_outbox), _typed(_timer)
_NOW_KINDS: tuple[tuple[str, ...], tuple[str, ...]] = ((), ("now",))
MUTABLE = ("state", "version", "last_event_hash", "updated_at", "state_entered_at", "data", "pending_timers",
           "submitted_at", "standard_version")
"""Case columns a transition may change."""
_SET_COLS = tuple(c for c in MUTABLE if c != "data")
_UPDATE_TS = tuple(f"v_{c}" for c in _SET_COLS if c in _CASE_TS)
_DATA_KEY = re.compile(r"[A-Za-z0-9_-]+")
"""Keys merged by SQLite's ``json_set``; anything else (never seen in practice) is merged in Python."""


class CaseRow(dict):
    """The case row as guards and actions see it (with its session's parameters and relaxations): a dict."""

    __slots__ = ()

    def data_value(self, key: str, default: Any = None) -> Any:
        """``data.get(key, default)``."""
        return (self["data"] or {}).get(key, default)


def _insert(table: Table, cols: list[str]) -> str:
    return f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"


_OVERRIDES_COLUMN = {
    # The calendar overrides as one JSON array of [day, is_working_day] pairs (NULL when there are none).
    "sqlite": f"(SELECT json_group_array(json_array(day, is_working_day)) FROM {CalendarOverride.__tablename__})",
    "postgresql": f"(SELECT json_agg(json_build_array(day, is_working_day)) FROM {CalendarOverride.__tablename__})",
}
_SET = ", ".join(f"{c} = :v_{c}" for c in _SET_COLS)
_SQL = {
    "select_case": (f"SELECT {', '.join('c.' + c for c in _CASE_COLS)}, s.parameters AS session_parameters, "
                    f"s.relaxations AS session_relaxations "
                    f"FROM {_case.name} c LEFT OUTER JOIN {_session.name} s ON s.id = c.session_id "
                    "WHERE c.id = :case_id"),
    "claim_timer": (f"UPDATE {_timer.name} SET status = 'fired', closed_at = :now "
                    "WHERE id = :timer_id AND case_id = :case_id AND status = 'pending'"),
    "update_case": f"UPDATE {_case.name} SET {_SET} WHERE id = :w_id AND version = :w_version",
    "update_case_data": f"UPDATE {_case.name} SET {_SET}, data = :v_data WHERE id = :w_id AND version = :w_version",
    "insert_event": _insert(_event, _EVENT_COLS),
    "insert_outbox": _insert(_outbox, _OUTBOX_COLS),
    "insert_timer": _insert(_timer, _TIMER_COLS),
    "pending_timers": (f"SELECT id, name, state, paused_in FROM {_timer.name} "
                       "WHERE case_id = :case_id AND status = 'pending'"),
    "cancel_timer": f"UPDATE {_timer.name} SET status = 'cancelled', closed_at = :now WHERE id = :timer_id",
}


_LENGTH = re.compile(r"\(\d+\)")


def _pg_insert_from_u(table: Table, cols: list[str], prefix: str) -> str:
    """``INSERT … SELECT <params> FROM u``: a row only if the CTE ``u`` (the case update) returned one.

    Parameters in a SELECT list have no column to take their type from, so each is cast to its column's
    type — without a length: a cast to varchar(n) would silently truncate where the insert must fail.
    """
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()
    types = {c: _LENGTH.sub("", table.c[c].type.compile(dialect=dialect)) for c in cols}
    casts = ", ".join(f"CAST(%({prefix}{c})s AS {types[c]})" for c in cols)
    return f"INSERT INTO {table.name} ({', '.join(cols)}) SELECT {casts} FROM u"


def _pyformat(sql: str) -> str:
    # psycopg uses %(name)s placeholders; a literal % would need doubling, and none of ours has one.
    return re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql)


class Statement:
    """One SQL text with ``:name`` placeholders, prepared for both dialects, run on the DBAPI cursor.

    For statements off fire()'s own path (guards, ballots) that run often enough for SQLAlchemy's
    per-statement cost to matter. Results come back as the driver gives them: no type processing, so
    callers select counts, ids and strings, or convert themselves.
    """

    __slots__ = ("postgresql", "sqlite")

    def __init__(self, sql: str, *, postgresql: str | None = None) -> None:
        self.sqlite = sql
        self.postgresql = _pyformat(postgresql if postgresql is not None else sql)

    def run(self, conn: Connection, params: dict[str, Any] | None = None):
        """Execute on ``conn``'s DBAPI connection (inside its transaction); return the DBAPI cursor."""
        driver = conn.connection.driver_connection
        if driver is None:  # only a closed or invalidated pool entry has none, not one inside a transaction
            raise RuntimeError("the connection has no DBAPI connection to run a statement on")
        cur = driver.cursor()
        cur.execute(self.postgresql if conn.dialect.name == "postgresql" else self.sqlite, params or {})
        return cur


class DriverStore:
    """fire()'s statements for one dialect (``sqlite`` or ``postgresql``)."""

    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgresql"
        self._merge_sql: dict[tuple[str, ...], str] = {}
        self._ts_memo: tuple[datetime | None, str] = (None, "")
        self._write_sql: dict[tuple[str, bool, bool], str] = {}
        if self.postgres:
            from psycopg.types.json import Jsonb

            self._jsonb = Jsonb
            self.sql = {k: _pyformat(v) for k, v in _SQL.items()}
            self.sql["select_case_locked"] = self.sql["select_case"] + " FOR UPDATE OF c"
            self.sql["close_left_timers"] = _pyformat(
                f"WITH c AS (UPDATE {_timer.name} SET status = 'cancelled', closed_at = :now "
                "WHERE case_id = :case_id AND status = 'pending' AND state <> :state "
                "AND NOT (paused_in @> to_jsonb(CAST(:state AS TEXT))) RETURNING id) "
                f"SELECT t.id, t.name, t.state, t.paused_in, t.id IN (SELECT id FROM c) FROM {_timer.name} t "
                "WHERE t.case_id = :case_id AND t.status = 'pending'")
            # jsonb || jsonb replaces whole top-level keys: the same as {**data, **updates}.
            self.sql["update_case_merge"] = self.sql["update_case"].replace(
                " WHERE ", ", data = data || %(v_data)s WHERE ", 1)
        else:
            self.sql = dict(_SQL)
            self.sql["select_case_locked"] = self.sql["select_case"]  # BEGIN IMMEDIATE already holds the lock
        overrides = f", {_OVERRIDES_COLUMN['postgresql' if self.postgres else 'sqlite']} AS calendar_overrides FROM "
        self.sql["select_case_locked_calendar"] = self.sql["select_case_locked"].replace(" FROM ", overrides, 1)

    def _out(self, value: Any) -> Any:
        """A Python value as the driver should receive it for our columns."""
        if isinstance(value, dict | list):
            return self._jsonb(value) if self.postgres else json.dumps(value)
        if isinstance(value, datetime):
            return value if self.postgres else self._ts(value)
        if isinstance(value, date) and not self.postgres:
            return value.isoformat()  # SQLAlchemy's Date type on SQLite
        return value

    def _ts(self, value: datetime) -> str:
        """SQLAlchemy's SQLite DateTime text (naive UTC, always six fractional digits)."""
        memo = self._ts_memo  # one fire writes the same `now` into several columns: format it once
        if memo[0] is value:
            return memo[1]
        utc = value if value.tzinfo is UTC else as_utc(value)
        text = utc.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        self._ts_memo = (value, text)  # one tuple, swapped atomically: threads never see a torn pair
        return text

    def value(self, value: Any) -> Any:
        """``value`` converted for the driver as SQLAlchemy's JSON / DateTime column types would."""
        return self._out(value)

    def _params(self, values: dict[str, Any], kinds: tuple[tuple[str, ...], tuple[str, ...]]) -> dict[str, Any]:
        """``values`` with only the columns that need it converted (JSON, then timestamp columns)."""
        out = dict(values)
        json_cols, ts_cols = kinds
        for name in json_cols:
            if name in out:
                # None too: SQLAlchemy's JSON type stores Python None as JSON null, not SQL NULL.
                value = out[name]
                out[name] = self._jsonb(value) if self.postgres else json.dumps(value)
        if not self.postgres:
            for name in ts_cols:
                value = out.get(name)
                if value is not None:
                    out[name] = self._ts(value)
        return out

    @staticmethod
    def cursor(conn: Connection):
        """A DBAPI cursor on the connection SQLAlchemy holds (already inside its transaction)."""
        driver = conn.connection.driver_connection
        if driver is None:  # only a closed or invalidated pool entry has none, not one inside a transaction
            raise RuntimeError("the connection has no DBAPI connection to open a cursor on")
        return driver.cursor()

    def load_case(self, cur, case_id: int, *, lock: bool) -> CaseRow | None:
        """The case row plus ``session_parameters`` and ``session_relaxations``, typed as SQLAlchemy would
        return them."""
        cur.execute(self.sql["select_case_locked" if lock else "select_case"], {"case_id": case_id})
        row = cur.fetchone()
        return None if row is None else self._case_row(row)

    def load_case_and_calendar(self, cur, case_id: int) -> tuple[CaseRow | None, WorkingCalendar | None]:
        """:meth:`load_case` (locked) with the working-day calendar in the same statement, for a transition
        that will start a deadline: on PostgreSQL the overrides' own query would cost a round trip."""
        cur.execute(self.sql["select_case_locked_calendar"], {"case_id": case_id})
        row = cur.fetchone()
        if row is None:
            return None, None
        pairs = row[-1]
        if isinstance(pairs, str):
            pairs = json.loads(pairs)
        # ISO date text from either database's JSON; SQLite's booleans are 0/1 (as workdays.calendar_from_db).
        calendar = WorkingCalendar({date.fromisoformat(day): bool(working) for day, working in pairs or ()})
        return self._case_row(row[:-1]), calendar

    def _case_row(self, row) -> CaseRow:
        values = dict(zip(_LOADED_COLS, row, strict=True))
        if not self.postgres:
            for name in _CASE_JSON_COLS:
                if isinstance(values[name], str):
                    values[name] = json.loads(values[name])
            for name in ("session_parameters", "session_relaxations"):
                if isinstance(values[name], str):
                    values[name] = json.loads(values[name])
            for name in _CASE_TS_COLS:
                if isinstance(values[name], str):  # naive UTC text, as SQLAlchemy stores it on SQLite
                    stamp = datetime.fromisoformat(values[name])
                    values[name] = stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
        return CaseRow(values)

    def claim_timer(self, cur, timer_id: int, case_id: int, now: datetime) -> bool:
        """Mark a pending timer fired; False when another tick already did."""
        cur.execute(self.sql["claim_timer"],
                    self._params({"timer_id": timer_id, "case_id": case_id, "now": now}, _NOW_KINDS))
        return cur.rowcount == 1

    def update_case(self, cur, case_id: int, version: int, values: dict[str, Any],
                    data_updates: dict[str, Any] | None = None) -> bool:
        """Write the mutable columns if the case is still at ``version``.

        ``values["data"]``, when present, replaces the whole document; ``data_updates`` otherwise replaces
        just those top-level keys, merged by the database. Returns False when the version did not match.
        """
        sql, params = self._update(case_id, version, values, data_updates)
        cur.execute(sql, params)
        return cur.rowcount == 1

    def _update(self, case_id: int, version: int, values: dict[str, Any],
                data_updates: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        params = {f"v_{k}": values[k] for k in _SET_COLS}
        if not self.postgres:
            for k in _UPDATE_TS:
                if params[k] is not None:
                    params[k] = self._ts(params[k])
        params["w_id"] = case_id
        params["w_version"] = version
        if "data" in values:
            params["v_data"] = self._out(values["data"])
            return self.sql["update_case_data"], params
        if data_updates:
            return self._merge(params, data_updates), params
        return self.sql["update_case"], params

    def write_transition(self, cur, case_id: int, version: int, values: dict[str, Any],
                         data_updates: dict[str, Any] | None, event: dict[str, Any],
                         outbox: dict[str, Any] | None = None, timer: dict[str, Any] | None = None) -> bool:
        """Update the case (if still at ``version``), append its event, start its timer, queue its message.

        Returns False, having written nothing, when the version did not match. On SQLite these are separate
        statements (no round trips to save); on PostgreSQL one statement: the update in a CTE, and the
        inserts selecting from it, so they happen only if the update did.
        """
        if not self.postgres:
            if not self.update_case(cur, case_id, version, values, data_updates):
                return False
            self.insert_event(cur, event)
            if timer is not None:
                self.insert_timer(cur, timer)
            if outbox is not None:
                self.insert_outbox(cur, outbox)
            return True
        update_sql, params = self._update(case_id, version, values, data_updates)
        key = (update_sql, timer is not None, outbox is not None)
        sql = self._write_sql.get(key)
        if sql is None:
            parts = [f"u AS ({update_sql} RETURNING 1)", f"e AS ({_pg_insert_from_u(_event, _EVENT_COLS, 'e_')})"]
            if timer is not None:
                parts.append(f"t AS ({_pg_insert_from_u(_timer, _TIMER_COLS, 't_')})")
            if outbox is not None:
                parts.append(f"o AS ({_pg_insert_from_u(_outbox, _OUTBOX_COLS, 'o_')})")
            sql = self._write_sql[key] = f"WITH {', '.join(parts)} SELECT COUNT(*) FROM u"
        params.update({f"e_{k}": v for k, v in self._params(event, _EVENT_KINDS).items()})
        if timer is not None:
            row = self._params({c: timer.get(c) for c in _TIMER_COLS}, _TIMER_KINDS)
            params.update({f"t_{k}": v for k, v in row.items()})
        if outbox is not None:
            row = self._params({c: outbox.get(c) for c in _OUTBOX_COLS}, _OUTBOX_KINDS)
            params.update({f"o_{k}": v for k, v in row.items()})
        cur.execute(sql, params)
        return cur.fetchone()[0] == 1

    def _merge(self, params: dict[str, Any], updates: dict[str, Any]) -> str:
        if self.postgres:
            params["v_data"] = self._jsonb(updates)
            return self.sql["update_case_merge"]
        keys = tuple(updates)
        if not all(_DATA_KEY.fullmatch(k) for k in keys):
            # A key json_set's path syntax cannot carry safely: merge in Python instead.
            raise ValueError(f"unsupported data key in {keys!r}")
        sql = self._merge_sql.get(keys)
        if sql is None:
            # json(...) makes json_set insert the value as JSON, not as a quoted string.
            pairs = ", ".join(f"'$.\"{k}\"', json(:d{i})" for i, k in enumerate(keys))
            sql = self._merge_sql[keys] = self.sql["update_case"].replace(
                " WHERE ", f", data = json_set(data, {pairs}) WHERE ", 1)
        for i, k in enumerate(keys):
            params[f"d{i}"] = json.dumps(updates[k])
        return sql

    @staticmethod
    def mergeable(updates: dict[str, Any]) -> bool:
        """True when ``updates`` can be merged by the database (every key is a plain name)."""
        return all(_DATA_KEY.fullmatch(k) for k in updates)

    def insert_event(self, cur, event: dict[str, Any]) -> None:
        """Append the audit event."""
        cur.execute(self.sql["insert_event"], self._params(event, _EVENT_KINDS))

    def insert_outbox(self, cur, row: dict[str, Any]) -> None:
        """Queue a message for delivery after commit."""
        cur.execute(self.sql["insert_outbox"], self._params({c: row.get(c) for c in _OUTBOX_COLS}, _OUTBOX_KINDS))

    def insert_timer(self, cur, row: dict[str, Any]) -> None:
        """Start a deadline."""
        cur.execute(self.sql["insert_timer"], self._params({c: row.get(c) for c in _TIMER_COLS}, _TIMER_KINDS))

    def pending_timers(self, cur, case_id: int) -> list[dict[str, Any]]:
        """The case's pending timers (id, name, state, paused_in)."""
        cur.execute(self.sql["pending_timers"], {"case_id": case_id})
        rows = [dict(zip(("id", "name", "state", "paused_in"), r, strict=True)) for r in cur.fetchall()]
        if not self.postgres:
            for r in rows:
                r["paused_in"] = json.loads(r["paused_in"]) if isinstance(r["paused_in"], str) else r["paused_in"]
        return rows

    def close_left_timers(self, cur, case_id: int, new_state: str, now: datetime
                          ) -> tuple[list[dict[str, Any]], int]:
        """Cancel the pending timers the case leaves for good (neither their state nor one they wait in);
        return (those still pending, how many were cancelled).

        A timer stays pending while the case is in its state or in one of its ``paused_in`` states. On
        PostgreSQL the cancelling update and the read are one statement (the CTE's outer SELECT still sees the
        rows as they were, hence the flag); on SQLite, where round trips cost nothing, a read then an update.
        """
        if not self.postgres:
            pending = self.pending_timers(cur, case_id)
            stale = [t["id"] for t in pending if t["state"] != new_state and new_state not in (t["paused_in"] or [])]
            if stale:
                self.cancel_timers(cur, stale, now)
            return [t for t in pending if t["id"] not in stale], len(stale)
        cur.execute(self.sql["close_left_timers"], {"case_id": case_id, "state": new_state, "now": now})
        rows = cur.fetchall()
        kept = [{"id": i, "name": n, "state": st, "paused_in": p} for i, n, st, p, cancelled in rows if not cancelled]
        return kept, len(rows) - len(kept)

    def cancel_timers(self, cur, timer_ids: list[int], now: datetime) -> None:
        """Cancel timers whose state the case has left for good."""
        for timer_id in timer_ids:
            cur.execute(self.sql["cancel_timer"], self._params({"timer_id": timer_id, "now": now}, _NOW_KINDS))


_paths: dict[str, DriverStore] = {}


def driver_store(dialect: str) -> DriverStore:
    """The (stateless, shareable) DriverStore for ``dialect``."""
    path = _paths.get(dialect)
    if path is None:
        path = _paths[dialect] = DriverStore(dialect)
    return path
