"""The working-day calendar as configured in this installation: the library's China schedule plus the
administrators' overrides stored in the database."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection

from workflow.engine.storage import Statement
from workflow.models import CalendarOverride
from workflow.time.calendar import WorkingCalendar

# Read inside fire() by every transition that starts a deadline: SQL text on the DBAPI cursor
# (see workflow.engine.storage).
_OVERRIDES = Statement(f"SELECT day, is_working_day FROM {CalendarOverride.__tablename__}")


def calendar_from_db(conn: Connection) -> WorkingCalendar:
    """A WorkingCalendar with every stored override (a small table: a few dozen rows a year at most)."""
    rows = _OVERRIDES.run(conn).fetchall()
    # SQLite hands back SQLAlchemy's storage forms: ISO date text and 0/1.
    return WorkingCalendar({day if isinstance(day, date) else date.fromisoformat(day): bool(working)
                            for day, working in rows})
