"""Working-day arithmetic on the mainland China calendar (rules §6, design §6).

A *working day* is a day on which government offices are open: Monday to Friday, minus the statutory holidays
and the days off the State Council moves around them, plus the weekend days it declares working days to pay
for those moves (调休). Deadlines in the workflow (notice period, correction deadline, appeal window) are
counted in such days.

The schedule comes from the ``holidays`` library (``holidays.China``), which encodes each year's State Council
notice. The notice for next year is published around November, so an administrator can override single dates
until the library catches up; overrides always win.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import MAXYEAR, UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import NamedTuple
from zoneinfo import ZoneInfo

import holidays

__all__ = ["CHINA_TZ", "WorkingCalendar"]

CHINA_TZ = ZoneInfo("Asia/Shanghai")
"""The time zone in which deadlines are counted: a working day starts and ends at Beijing-time midnight."""

_ONE_DAY = timedelta(days=1)


class _YearSchedule(NamedTuple):
    """The library's view of one calendar year, frozen so lookups never touch the library again."""

    days_off: frozenset[date]
    """Statutory holidays and the weekdays given off in exchange (some fall on weekends; harmless)."""
    weekend_workdays: frozenset[date]
    """Saturdays and Sundays declared working days (调休)."""
    official: bool
    """Whether the library holds the State Council notice for this year, not just rule-based estimates."""


# The library data depends only on the pinned version, not on the overrides, so it is shared by every
# calendar: callers build a fresh WorkingCalendar per request (overrides come from the database) and must
# not pay ~10 ms to rebuild a year each time. One library instance expands year by year as dates are asked
# for; expanding mutates it, so it is only touched under the lock, while the frozen per-year snapshots are
# read without it.
_library: holidays.HolidayBase | None = None
_library_lock = threading.Lock()
_years: dict[int, _YearSchedule] = {}


def _schedule(year: int) -> _YearSchedule:
    """The frozen library schedule for ``year``, computed once per process."""
    global _library
    cached = _years.get(year)
    if cached is not None:
        return cached
    with _library_lock:
        cached = _years.get(year)
        if cached is not None:
            return cached
        if _library is None:
            _library = holidays.China()
        # A 调休 working Saturday late in December can belong to *next* year's notice (e.g. 2001-12-29 was
        # worked for New Year 2002), so load the following year too before reading weekend_workdays.
        for y in (year, year + 1):
            if y <= MAXYEAR:
                # The library fills in a whole year the first time any date in it is looked up.
                _ = date(y, 1, 1) in _library
        days_off = frozenset(d for d in _library if d.year == year)
        workdays = frozenset(d for d in _library.weekend_workdays if d.year == year)
        # The library invents holidays for every year up to 2100 from the statutory rules (fixed dates, lunar
        # dates, weekend holidays moved to the next weekday), so "has any holiday" would always be true. What
        # marks an encoded State Council notice is the year's entry in its table of special (moved) days.
        official = year in _library.special_public_holidays
        cached = _YearSchedule(days_off, workdays, official)
        _years[year] = cached
        return cached


class WorkingCalendar:
    """The mainland China working-day calendar, with administrator overrides.

    ``overrides`` maps single dates to ``True`` (working day) or ``False`` (day off); they take precedence
    over the library, e.g. for a year whose schedule was published after the pinned library release.
    The mapping is copied, so later changes to the caller's dict have no effect: build a new calendar
    when the overrides change. Construction is cheap: the library schedule is cached per year for the
    whole process and shared by all instances.

    Instances are safe to share between threads.
    """

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        """Create a calendar; see the class docstring for ``overrides``."""
        checked: dict[date, bool] = {}
        for day, working in (overrides or {}).items():
            # A datetime is a date subclass but never equal to one, so it would silently never match.
            if not isinstance(day, date) or isinstance(day, datetime):
                raise TypeError(f"override keys must be datetime.date, got {type(day).__name__}: {day!r}")
            # Reject 0/1/"yes" rather than guess: a wrong guess silently moves every deadline.
            if not isinstance(working, bool):
                raise TypeError(f"override for {day.isoformat()} must be a bool, got {working!r}")
            checked[day] = working
        self._overrides: Mapping[date, bool] = MappingProxyType(checked)

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day: override if any, else the library schedule, else Mon–Fri."""
        if not isinstance(day, date) or isinstance(day, datetime):
            # A datetime has no single calendar date until a time zone is chosen; make the caller choose.
            raise TypeError(f"expected a datetime.date, got {type(day).__name__}: {day!r}")
        override = self._overrides.get(day)
        if override is not None:
            return override
        schedule = _schedule(day.year)
        if day.weekday() >= 5:
            return day in schedule.weekend_workdays
        return day not in schedule.days_off

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (``start`` itself is not counted; ``n == 0`` returns it).

        ``start`` need not be a working day: a period opened on a holiday simply starts counting with the
        next working day.
        """
        _check_count(n)
        day = start
        remaining = n
        while remaining:
            day += _ONE_DAY
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Number of working days ``d`` with ``start < d <= end``; 0 when ``end <= start``.

        The half-open interval matches :meth:`add_working_days`:
        ``working_days_between(s, add_working_days(s, n)) == n``.
        """
        count = 0
        day = start + _ONE_DAY
        while day <= end:
            if self.is_working_day(day):
                count += 1
            day += _ONE_DAY
        return count

    def period_end(self, start: datetime, n: int) -> datetime:
        """When a period of ``n`` working days beginning at ``start`` runs out, as an aware UTC datetime.

        The period covers the n-th working day after ``start``'s Beijing-time date in full, so it ends at
        00:00 Asia/Shanghai of the next calendar day (e.g. 16:00 UTC on the n-th working day). ``start``
        must be timezone-aware: a naive value could be local time or UTC, and the two can fall on different
        Beijing dates.
        """
        if not isinstance(start, datetime):
            raise TypeError(f"start must be a datetime, got {type(start).__name__}: {start!r}")
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError(f"start must be a timezone-aware datetime, got naive {start.isoformat()}")
        _check_count(n)
        last_day = self.add_working_days(start.astimezone(CHINA_TZ).date(), n)
        # China has no DST since 1991, but go through the zone anyway rather than hard-code +08:00.
        return datetime.combine(last_day + _ONE_DAY, time(0), tzinfo=CHINA_TZ).astimezone(UTC)

    def has_official_schedule(self, year: int) -> bool:
        """Whether ``year``'s holiday schedule is known rather than guessed.

        True if the pinned library encodes that year's State Council notice, or an administrator has
        entered at least one day off for that year as an override. When False, the calendar still works
        (weekends off, statutory holidays estimated by the library's rules up to 2100) but knows no 调休
        working weekends, so the UI should ask an administrator to enter the published schedule.
        """
        if any(not working and day.year == year for day, working in self._overrides.items()):
            return True
        return _schedule(year).official


def _check_count(n: int) -> None:
    """Reject counts that are not non-negative integers (bools are ints, but a bool here is a bug)."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"number of working days must be an int, got {type(n).__name__}: {n!r}")
    if n < 0:
        raise ValueError(f"number of working days must be >= 0, got {n}")
