"""``titlereview tick``: fire the deadlines that are due, and send reminders before them.

Every firing goes through :func:`workflow.engine.core.fire` as the system actor, so each leaves an event. The
tick is idempotent and safe to run from several processes at once: the engine claims the timer
(``pending`` → ``fired``) inside the same transaction that changes the case, under the case lock, so a
deadline fires exactly once however many ticks see it due; a tick that loses simply moves on. On
PostgreSQL the due-list query skips rows another tick is reading right now (``SKIP LOCKED``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select, update

from workflow.access.roles import SYSTEM
from workflow.db import Database
from workflow.engine.core import fire
from workflow.errors import WorkflowError
from workflow.models import Case, OutboxMessage, Timer, as_utc, utcnow
from workflow.pipeline.catalog import get_pipeline

_timer = Timer.__table__
_case = Case.__table__
_outbox = OutboxMessage.__table__


@dataclass
class TickReport:
    """What one tick did."""

    fired: list[tuple[int, str]] = field(default_factory=list)
    reminded: list[tuple[int, str]] = field(default_factory=list)
    waiting: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)


def _due(db: Database, now: datetime, limit: int) -> list[dict]:
    with db.write() as conn:
        stmt = (select(_timer.c.id, _timer.c.case_id, _timer.c.trigger, _timer.c.state, _timer.c.name)
                .where(_timer.c.status == "pending", _timer.c.due_at <= now)
                .order_by(_timer.c.due_at, _timer.c.id).limit(limit))
        if db.is_postgres:
            stmt = stmt.with_for_update(skip_locked=True)
        return [dict(r) for r in conn.execute(stmt).mappings()]


def tick(db: Database, now: datetime | None = None, limit: int = 500) -> TickReport:
    """Fire every due timer whose case is still in the timer's state; send due reminders."""
    # SQLite stores naive UTC text, so a time in another zone must be converted before any comparison.
    now = as_utc(now) if now is not None else utcnow()
    report = TickReport()
    for t in _due(db, now, limit):
        with db.read() as conn:
            state = conn.execute(select(_case.c.state).where(_case.c.id == t["case_id"])).scalar()
        if state != t["state"]:
            # Paused (e.g. an objection is being investigated): the timer waits for the case to come back.
            report.waiting += 1
            continue
        try:
            fire(db, t["case_id"], t["trigger"], SYSTEM, now=now, _timer_id=t["id"])
            report.fired.append((t["case_id"], t["trigger"]))
        except WorkflowError as err:
            # Another tick won the race, or the case moved: nothing to do. Guards refusing is logged.
            with db.read() as conn:
                status = conn.execute(select(_timer.c.status).where(_timer.c.id == t["id"])).scalar()
            if status == "pending":
                report.failed.append((t["case_id"], err.message_zh))
    report.reminded = _send_reminders(db, now, limit)
    return report


def reminder_roles(db: Database, pipeline_id: str, version: int, state: str) -> list[str]:
    """Who must act before a deadline in ``state``: the people's roles on the transitions leaving it."""
    pipeline = get_pipeline(db, pipeline_id, version)
    roles: list[str] = []
    for trigger in pipeline.triggers_from[state]:
        for role in pipeline.by_trigger_source[(trigger, state)][0].roles:
            if role not in ("system", "public", "unit_member") and role not in roles:
                roles.append(role)
    return roles


def _send_reminders(db: Database, now: datetime, limit: int) -> list[tuple[int, str]]:
    sent: list[tuple[int, str]] = []
    with db.write() as conn:
        stmt = (select(_timer.c.id, _timer.c.case_id, _timer.c.name, _timer.c.due_at, _timer.c.state,
                       _case.c.pipeline_id, _case.c.pipeline_version)
                .join(_case, _case.c.id == _timer.c.case_id)
                .where(_timer.c.status == "pending", _timer.c.remind_at.is_not(None), _timer.c.remind_at <= now,
                       _timer.c.reminded_at.is_(None))
                .limit(limit))
        if db.is_postgres:
            stmt = stmt.with_for_update(of=_timer, skip_locked=True)
        for t in conn.execute(stmt).mappings().all():
            claimed = conn.execute(update(_timer).where(_timer.c.id == t["id"], _timer.c.reminded_at.is_(None))
                                   .values(reminded_at=now)).rowcount
            if not claimed:
                continue
            conn.execute(insert(_outbox).values(
                case_id=t["case_id"], kind="reminder",
                audience={"roles": reminder_roles(db, t["pipeline_id"], t["pipeline_version"], t["state"])},
                payload={"deadline": t["name"], "due_at": t["due_at"].isoformat(), "state": t["state"]},
                created_at=now, attempts=0, last_error=""))
            sent.append((t["case_id"], t["name"]))
    return sent
