"""The working-day calendar as configured in this installation: the library's China schedule plus the
administrators' overrides stored in the database."""

from __future__ import annotations

from sqlalchemy import Connection, select

from .calendar import WorkingCalendar
from .models import CalendarOverride

_override = CalendarOverride.__table__


def calendar_from_db(conn: Connection) -> WorkingCalendar:
    """A WorkingCalendar with every stored override (a small table: a few dozen rows a year at most)."""
    rows = conn.execute(select(_override.c.day, _override.c.is_working_day)).all()
    return WorkingCalendar({day: bool(working) for day, working in rows})
