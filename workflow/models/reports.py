"""Tables that only the reports read: a materialised working-day calendar."""

from __future__ import annotations

from datetime import date

from sqlmodel import Field

from ._types import TableModel


class ReportCalendarDay(TableModel, table=True):
    """One calendar day with its working-day flag and the number of working days before it.

    Filled by :func:`workflow.records.reports.refresh_calendar` from :class:`workflow.time.calendar.WorkingCalendar`
    (the
    library's China schedule plus the administrators' overrides) for whole years, so that durations in working
    days are a join and a subtraction in SQL instead of a Python loop per case. ``working_before`` counts the
    working days from the first stored day up to, but excluding, ``day``.
    """

    __tablename__ = "report_calendar_day"

    day: date = Field(primary_key=True)
    is_working: bool
    working_before: int
