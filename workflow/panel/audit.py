"""Hash chains for the committee's own records: draws (``committee_draw``) and the panel log (``panel_log``).

Both tables are append-only and chained per review session with the same hash function as the case events
(:func:`workflow.records.audit.event_hash`): a panel record is mapped onto the event's hashed fields (``kind`` as the
trigger, no states, everything specific in the payload), so there is one canonical hashing routine in the
code base. Appending locks the session row first (PostgreSQL ``FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE``
already serialises writers), so two appends can never read the same predecessor and fork the chain; the
unique ``(session_id, seq)`` constraint is the second line of defence.

Lock order everywhere in the panel code: case row → sitting row → session row (this module).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from workflow.access.roles import Actor
from workflow.engine.storage import Statement, driver_store
from workflow.models import CommitteeDraw, PanelLog, ReviewSession
from workflow.records.audit import event_hash

_draw = CommitteeDraw.__table__
_log = PanelLog.__table__
_session = ReviewSession.__table__

# Appends run inside engine transitions (the ballot close logs that both shares were entered): as SQL text on
# the DBAPI cursor, like the engine's own statements, they cost no SQLAlchemy CPU and the transition needs no
# SQLAlchemy Connection around its lean one (workflow.engine.storage, workflow.db.Database.lean_write).
_LOCK_SESSION = Statement(f"SELECT id FROM {_session.name} WHERE id = :session_id",
                          postgresql=f"SELECT id FROM {_session.name} WHERE id = :session_id FOR UPDATE")
_TAIL = {table.name: Statement(f"SELECT seq, hash FROM {table.name} WHERE session_id = :session_id "
                               "ORDER BY seq DESC LIMIT 1") for table in (_draw, _log)}
_LOG_COLS = ("session_id", "seq", "kind", "case_id", "actor_id", "actor_role", "comment", "payload", "created_at",
             "prev_hash", "hash")
_INSERT_LOG = Statement(f"INSERT INTO {_log.name} ({', '.join(_LOG_COLS)}) "
                        f"VALUES ({', '.join(':' + c for c in _LOG_COLS)}) RETURNING id")

DRAW_PAYLOAD = ("session_id", "seed", "parameters", "candidates", "result", "chair_id", "replaced_id")
"""Columns of a draw that its hash covers through the payload (with case, seq, actor, kind, time, link)."""


def draw_hash(row: dict[str, Any]) -> str:
    """The chain hash of a ``committee_draw`` row (all inputs needed to re-run the draw are covered)."""
    return event_hash({
        "case_id": row["case_id"], "seq": row["seq"], "actor_id": row["actor_id"], "actor_role": row["actor_role"],
        "trigger": row["kind"], "from_state": None, "to_state": None, "comment": row["comment"],
        "payload": {k: row[k] for k in DRAW_PAYLOAD}, "created_at": row["created_at"],
        "prev_hash": row["prev_hash"]})


def log_hash(row: dict[str, Any]) -> str:
    """The chain hash of a ``panel_log`` row."""
    return event_hash({
        "case_id": row["case_id"], "seq": row["seq"], "actor_id": row["actor_id"], "actor_role": row["actor_role"],
        "trigger": row["kind"], "from_state": None, "to_state": None, "comment": row["comment"],
        "payload": {"session_id": row["session_id"], **row["payload"]}, "created_at": row["created_at"],
        "prev_hash": row["prev_hash"]})


def lock_session(conn: Connection, session_id: int) -> None:
    """Serialise appends to the session's chains (a no-op on SQLite, whose write transaction is exclusive)."""
    if _LOCK_SESSION.run(conn, {"session_id": session_id}).fetchone() is None:
        from workflow.errors import InvalidAction

        raise InvalidAction("评审会不存在", "No such review session")


def _tail(conn: Connection, table, session_id: int) -> tuple[int, str]:
    row = _TAIL[table.name].run(conn, {"session_id": session_id}).fetchone()
    return (row[0], row[1]) if row else (0, "")


def append_draw(conn: Connection, fields: dict[str, Any]) -> dict[str, Any]:
    """Append a draw record (``fields`` without seq/prev_hash/hash); returns the stored row with its id."""
    lock_session(conn, fields["session_id"])
    seq, prev = _tail(conn, _draw, fields["session_id"])
    row = {"case_id": None, "chair_id": None, "replaced_id": None, "comment": "", **fields,
           "seq": seq + 1, "prev_hash": prev}
    row["hash"] = draw_hash(row)
    row["id"] = conn.execute(insert(_draw).values(**row).returning(_draw.c.id)).scalar_one()
    return row


def append_log(conn: Connection, session_id: int, kind: str, actor: Actor | None, *, role: str = "",
               case_id: int | None = None, comment: str = "", payload: dict[str, Any] | None = None,
               now: datetime) -> dict[str, Any]:
    """Append one panel-log record in the caller's transaction; returns the stored row."""
    lock_session(conn, session_id)
    seq, prev = _tail(conn, _log, session_id)
    row = {"session_id": session_id, "seq": seq + 1, "kind": kind, "case_id": case_id,
           "actor_id": actor.user_id if actor else None, "actor_role": role, "comment": comment,
           "payload": payload or {}, "created_at": now, "prev_hash": prev}
    row["hash"] = log_hash(row)
    hp = driver_store(conn.dialect.name)
    # JSON and timestamps converted for the driver exactly as the columns' SQLAlchemy types would.
    row["id"] = _INSERT_LOG.run(conn, {c: hp.value(row[c]) for c in _LOG_COLS}).fetchone()[0]
    return row


@dataclass(frozen=True)
class ChainProblem:
    """One problem found while walking a panel chain."""

    table: str
    session_id: int
    seq: int | None
    problem: str

    def __str__(self) -> str:
        return f"{self.table} session {self.session_id} seq {self.seq}: {self.problem}"


def verify_chain(conn: Connection, table_name: str, session_id: int) -> list[ChainProblem]:
    """Every break in one session's chain of ``committee_draw`` or ``panel_log`` (empty: intact)."""
    table, hasher = {"committee_draw": (_draw, draw_hash), "panel_log": (_log, log_hash)}[table_name]
    rows = conn.execute(select(table).where(table.c.session_id == session_id).order_by(table.c.seq)).mappings()
    problems: list[ChainProblem] = []
    prev = ""
    for expected, row in enumerate(rows, start=1):
        if row["seq"] != expected:
            problems.append(ChainProblem(table_name, session_id, row["seq"], f"sequence gap: expected {expected}"))
        if row["prev_hash"] != prev:
            problems.append(ChainProblem(table_name, session_id, row["seq"], "previous-hash link broken"))
        if hasher(dict(row)) != row["hash"]:
            problems.append(ChainProblem(table_name, session_id, row["seq"], "content does not match its hash"))
        prev = row["hash"]
    return problems
