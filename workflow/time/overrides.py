"""Administrators' corrections to the working-day calendar, and the year views and checks the admin page shows.

The schedule of non-working days comes from the ``holidays`` library (see :mod:`workflow.time.calendar`); when the
State Council publishes a year's notice after the pinned library release, an administrator enters single
dates here. Every change is recorded (who, when, what) in ``calendar_override_change``, which also keeps
removed overrides.

No calendar is cached between calls: every deadline computed after a change reads the overrides afresh
(:func:`workflow.time.workdays.calendar_from_db` inside each transition), in every process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from workflow.access.roles import Actor
from workflow.db import Database
from workflow.errors import InvalidAction, MissingData, PermissionDenied
from workflow.models import CalendarOverride, User, utcnow
from workflow.models.definitions import CalendarOverrideChange
from workflow.time.calendar import WorkingCalendar
from workflow.time.workdays import calendar_from_db

__all__ = ["MAX_CHECK_DAYS", "MAX_YEAR", "MIN_YEAR", "CalendarDay", "YearView", "add_working_days",
           "check_year", "history", "parse_day", "remove_override", "set_override", "working_days_between",
           "year_view"]

MIN_YEAR = 2000
"""Earliest year an override may be entered for (older cases are never recomputed)."""
MAX_YEAR = 2099
"""Latest year; the library estimates statutory holidays up to 2100 only."""
MAX_CHECK_DAYS = 1000
"""Largest N the check form adds (about four years of working days; longer periods are a typing error)."""
MAX_SPAN_DAYS = 3653
"""Longest span (ten years) the between-dates check counts."""
MAX_NOTE = 200

_override = CalendarOverride.__table__
_change = CalendarOverrideChange.__table__
_user = User.__table__


@dataclass(frozen=True)
class CalendarDay:
    """A day whose status differs from the plain Monday-to-Friday rule, or that an administrator overrode."""

    day: date
    is_working_day: bool
    override: dict[str, Any] | None
    """The stored override (note, changed_by_name, changed_at) when this day's status comes from one."""
    library_working: bool
    """What the library alone says (so the page can show what an override changed)."""


@dataclass(frozen=True)
class YearView:
    """One year as the calendar computes it now: days off on weekdays, 调休 working weekends, overrides."""

    year: int
    days_off: list[CalendarDay]
    """Weekdays that are not working days (statutory holidays and the days moved around them)."""
    weekend_workdays: list[CalendarDay]
    """Saturdays and Sundays that are working days (调休)."""
    redundant: list[CalendarDay]
    """Overrides that say what the plain weekday/weekend rule says anyway (kept, shown so they can be removed)."""
    official: bool
    """Whether the year's schedule is known (library notice or an administrator's day off)."""
    working_days: int
    """Number of working days in the year."""


def _require_admin(actor: Actor) -> None:
    if "administrator" not in actor.roles or actor.user_id is None:
        raise PermissionDenied("只有管理员可以修改工作日历", "Only administrators can change the working calendar")


def check_year(year: int) -> int:
    """``year`` when it lies within the supported range, else MissingData with the range."""
    if isinstance(year, bool) or not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise MissingData(f"年份须在 {MIN_YEAR} 到 {MAX_YEAR} 之间",
                          f"The year must be between {MIN_YEAR} and {MAX_YEAR}")
    return year


def parse_day(raw: str | None, what_zh: str = "日期", what_en: str = "date") -> date:
    """An ISO date (YYYY-MM-DD) within the supported years, else MissingData naming the field."""
    text = (raw or "").strip()
    if not text:
        raise MissingData(f"请填写{what_zh}", f"Please enter the {what_en}")
    try:
        # fromisoformat also takes 20261001 and week dates; only the form the page asks for is accepted.
        if len(text) != 10 or text[4] != "-" or text[7] != "-":
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise MissingData(f"{what_zh}格式不正确，请按“年-月-日”填写，例如 2026-10-01",
                          f"The {what_en} is not valid; use YEAR-MONTH-DAY, e.g. 2026-10-01") from None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise MissingData(f"{what_zh}的年份须在 {MIN_YEAR} 到 {MAX_YEAR} 之间",
                          f"The {what_en} must be between {MIN_YEAR} and {MAX_YEAR}")
    return day


def _overrides_of_year(conn, year: int) -> dict[date, dict[str, Any]]:
    stmt = (select(_override.c.day, _override.c.is_working_day, _override.c.note, _override.c.changed_at,
                   _user.c.display_name.label("changed_by_name"))
            .select_from(_override.outerjoin(_user, _user.c.id == _override.c.changed_by))
            .where(_override.c.day >= date(year, 1, 1), _override.c.day <= date(year, 12, 31)))
    out = {}
    for r in conn.execute(stmt).mappings():
        day = r["day"] if isinstance(r["day"], date) else date.fromisoformat(r["day"])
        out[day] = dict(r, day=day, is_working_day=bool(r["is_working_day"]))
    return out


def year_view(db: Database, year: int) -> YearView:
    """The year's non-working weekdays, 调休 working weekends and overrides, as deadlines would see them now."""
    check_year(year)
    library = WorkingCalendar()
    with db.read() as conn:
        calendar = calendar_from_db(conn)
        overrides = _overrides_of_year(conn, year)
    days_off, weekend_workdays, redundant = [], [], []
    working = 0
    day = date(year, 1, 1)
    while day.year == year:
        is_working = calendar.is_working_day(day)
        working += is_working
        weekend = day.weekday() >= 5
        entry = CalendarDay(day, is_working, overrides.get(day), library.is_working_day(day))
        if weekend and is_working:
            weekend_workdays.append(entry)
        elif not weekend and not is_working:
            days_off.append(entry)
        elif day in overrides:
            redundant.append(entry)
        day += timedelta(days=1)
    return YearView(year, days_off, weekend_workdays, redundant, calendar.has_official_schedule(year), working)


def set_override(db: Database, actor: Actor, day: date, working: bool, note: str = "") -> None:
    """Store an override for ``day`` (refused when one exists: remove it first, so no change is silent)."""
    _require_admin(actor)
    if not isinstance(day, date):
        raise MissingData("请填写日期", "Please enter the date")
    check_year(day.year)
    if not isinstance(working, bool):
        raise MissingData("请选择工作日或休息日", "Please choose working day or day off")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise MissingData(f"备注最多 {MAX_NOTE} 字", f"The note has at most {MAX_NOTE} characters")
    now = utcnow()
    try:
        with db.write() as conn:
            existing = conn.execute(select(_override.c.is_working_day).where(_override.c.day == day)).first()
            if existing is not None:
                raise InvalidAction(
                    f"{day.isoformat()} 已有调整（{'工作日' if existing[0] else '休息日'}），如需修改请先删除",
                    f"{day.isoformat()} already has an override ({'working day' if existing[0] else 'day off'}); "
                    "remove it first to change it")
            conn.execute(insert(_override).values(day=day, is_working_day=working, note=note,
                                                  changed_by=actor.user_id, changed_at=now))
            conn.execute(insert(_change).values(day=day, action="set", is_working_day=working, note=note,
                                                changed_by=actor.user_id, changed_at=now))
    except IntegrityError:
        # Two administrators adding the same day at once: the primary key lets only one in.
        raise InvalidAction(f"{day.isoformat()} 已有调整，如需修改请先删除",
                            f"{day.isoformat()} already has an override; remove it first to change it") from None


def remove_override(db: Database, actor: Actor, day: date) -> None:
    """Delete the override for ``day`` (recorded in the history with the value it had)."""
    _require_admin(actor)
    with db.write() as conn:
        row = conn.execute(select(_override.c.is_working_day, _override.c.note)
                           .where(_override.c.day == day)).first()
        if row is None:
            raise InvalidAction(f"{day.isoformat()} 没有调整，无需删除",
                                f"{day.isoformat()} has no override to remove")
        conn.execute(delete(_override).where(_override.c.day == day))
        conn.execute(insert(_change).values(day=day, action="remove", is_working_day=bool(row[0]), note=row[1],
                                            changed_by=actor.user_id, changed_at=utcnow()))


def history(db: Database, year: int, limit: int = 200) -> list[dict[str, Any]]:
    """The recorded changes to overrides of ``year``, newest first, with the administrator's name."""
    check_year(year)
    stmt = (select(_change, _user.c.display_name.label("changed_by_name"))
            .select_from(_change.outerjoin(_user, _user.c.id == _change.c.changed_by))
            .where(_change.c.day >= date(year, 1, 1), _change.c.day <= date(year, 12, 31))
            .order_by(_change.c.id.desc()).limit(limit))
    with db.read() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def add_working_days(db: Database, start: date, n: int) -> date:
    """The n-th working day after ``start`` by the calendar in force now (the admin page's check)."""
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_CHECK_DAYS:
        raise MissingData(f"工作日数须在 0 到 {MAX_CHECK_DAYS} 之间",
                          f"The number of working days must be between 0 and {MAX_CHECK_DAYS}")
    with db.read() as conn:
        calendar = calendar_from_db(conn)
    result = calendar.add_working_days(start, n)
    if result.year > MAX_YEAR:
        raise MissingData(f"结果超出 {MAX_YEAR} 年", f"The result lies after {MAX_YEAR}")
    return result


def working_days_between(db: Database, start: date, end: date) -> int:
    """Working days ``d`` with ``start < d <= end`` by the calendar in force now; refuses end before start."""
    if end < start:
        raise MissingData("结束日期不能早于开始日期", "The end date cannot be before the start date")
    if (end - start).days > MAX_SPAN_DAYS:
        # Each new year costs the library ~10 ms to expand; a century-long span is a typing error anyway.
        raise MissingData("两个日期相隔不能超过10年", "The two dates can be at most 10 years apart")
    with db.read() as conn:
        calendar = calendar_from_db(conn)
    return calendar.working_days_between(start, end)
