"""Tests for the mainland China working-day calendar (workflow/time/calendar.py).

The 2025 and 2026 tables are transcribed from the State Council General Office notices
(国务院办公厅关于2025年/2026年部分节假日安排的通知), not from the library, so that a library upgrade that
changes the data fails here.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from workflow.time import calendar as calendar_module
from workflow.time.calendar import CHINA_TZ, WorkingCalendar

D = date


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    """One calendar without overrides, shared so its per-year cache is exercised across tests."""
    return WorkingCalendar()


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# Published schedules: (blocks of consecutive days off, weekend days worked in exchange).
OFFICIAL = {
    2025: (
        [
            (D(2025, 1, 1), D(2025, 1, 1)),  # 元旦
            (D(2025, 1, 28), D(2025, 2, 4)),  # 春节, 8 days
            (D(2025, 4, 4), D(2025, 4, 6)),  # 清明节
            (D(2025, 5, 1), D(2025, 5, 5)),  # 劳动节
            (D(2025, 5, 31), D(2025, 6, 2)),  # 端午节
            (D(2025, 10, 1), D(2025, 10, 8)),  # 国庆节、中秋节, 8 days
        ],
        [D(2025, 1, 26), D(2025, 2, 8), D(2025, 4, 27), D(2025, 9, 28), D(2025, 10, 11)],
    ),
    2026: (
        [
            (D(2026, 1, 1), D(2026, 1, 3)),  # 元旦
            (D(2026, 2, 15), D(2026, 2, 23)),  # 春节, 9 days
            (D(2026, 4, 4), D(2026, 4, 6)),  # 清明节
            (D(2026, 5, 1), D(2026, 5, 5)),  # 劳动节
            (D(2026, 6, 19), D(2026, 6, 21)),  # 端午节
            (D(2026, 9, 25), D(2026, 9, 27)),  # 中秋节
            (D(2026, 10, 1), D(2026, 10, 7)),  # 国庆节, 7 days
        ],
        [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)],
    ),
}


@pytest.mark.parametrize("year", sorted(OFFICIAL))
def test_whole_year_matches_published_schedule(cal: WorkingCalendar, year: int) -> None:
    blocks, worked_weekends = OFFICIAL[year]
    off = {d for first, last in blocks for d in _days(first, last)}
    mismatches = []
    for day in _days(D(year, 1, 1), D(year, 12, 31)):
        expected = day in worked_weekends or (day.weekday() < 5 and day not in off)
        if cal.is_working_day(day) != expected:
            mismatches.append(day.isoformat())
    assert mismatches == []
    assert all(d.weekday() >= 5 for d in worked_weekends)  # guards the table itself


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # New Year 2025 (single day)
        (D(2024, 12, 31), True),
        (D(2025, 1, 1), False),
        (D(2025, 1, 2), True),
        # 2025 Spring Festival: off Jan 28 – Feb 4, worked Sun Jan 26 and Sat Feb 8
        (D(2025, 1, 26), True),
        (D(2025, 1, 27), True),
        (D(2025, 1, 28), False),
        (D(2025, 2, 1), False),
        (D(2025, 2, 4), False),
        (D(2025, 2, 5), True),
        (D(2025, 2, 8), True),
        (D(2025, 2, 9), False),
        # 2025 Labour Day: off May 1–5, worked Sun Apr 27
        (D(2025, 4, 27), True),
        (D(2025, 5, 2), False),
        (D(2025, 5, 5), False),
        (D(2025, 5, 6), True),
        # 2025 Dragon Boat: Sat May 31 falls on a weekend, Mon Jun 2 off instead
        (D(2025, 6, 2), False),
        # 2025 National Day + Mid-Autumn: off Oct 1–8, worked Sun Sep 28 and Sat Oct 11
        (D(2025, 9, 28), True),
        (D(2025, 10, 1), False),
        (D(2025, 10, 6), False),
        (D(2025, 10, 8), False),
        (D(2025, 10, 9), True),
        (D(2025, 10, 11), True),
        (D(2025, 10, 12), False),
        # New Year 2026: off Jan 1–3, worked Sun Jan 4
        (D(2026, 1, 2), False),
        (D(2026, 1, 4), True),
        # 2026 Spring Festival: off Feb 15–23, worked Sat Feb 14 and Sat Feb 28
        (D(2026, 2, 14), True),
        (D(2026, 2, 16), False),
        (D(2026, 2, 23), False),
        (D(2026, 2, 24), True),
        (D(2026, 2, 28), True),
        (D(2026, 3, 1), False),
        # 2026 Labour Day: off May 1–5, worked Sat May 9
        (D(2026, 5, 4), False),
        (D(2026, 5, 5), False),
        (D(2026, 5, 9), True),
        # 2026 National Day: off Oct 1–7, worked Sun Sep 20 and Sat Oct 10
        (D(2026, 9, 20), True),
        (D(2026, 10, 7), False),
        (D(2026, 10, 8), True),
        (D(2026, 10, 10), True),
        # Ordinary days
        (D(2026, 3, 7), False),
        (D(2026, 3, 9), True),
        # Beyond the library's range (2100): weekends off, weekdays on
        (D(2101, 1, 1), False),
        (D(2200, 1, 3), True),
        (D(9999, 12, 31), True),
    ],
    ids=lambda v: v.isoformat() if isinstance(v, date) else None,
)
def test_is_working_day(cal: WorkingCalendar, day: date, expected: bool) -> None:
    assert cal.is_working_day(day) is expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2025, 1, 24), 0, D(2025, 1, 24)),
        (D(2025, 10, 1), 0, D(2025, 10, 1)),  # n=0 returns start even on a holiday
        (D(2025, 1, 24), 1, D(2025, 1, 26)),  # Fri -> the 调休 Sunday
        (D(2025, 1, 26), 1, D(2025, 1, 27)),
        (D(2025, 1, 27), 1, D(2025, 2, 5)),  # jumps the whole Spring Festival
        (D(2025, 1, 27), 4, D(2025, 2, 8)),  # ... and lands on the 调休 Saturday
        (D(2025, 1, 27), 5, D(2025, 2, 10)),
        (D(2025, 4, 30), 1, D(2025, 5, 6)),
        (D(2025, 9, 22), 5, D(2025, 9, 28)),  # a 5-day notice ending on the 调休 Sunday
        (D(2025, 9, 30), 1, D(2025, 10, 9)),
        (D(2025, 9, 30), 3, D(2025, 10, 11)),
        (D(2025, 9, 30), 4, D(2025, 10, 13)),
        (D(2025, 10, 3), 1, D(2025, 10, 9)),  # starting on a holiday
        (D(2025, 12, 31), 1, D(2026, 1, 4)),  # across the year into the 调休 Sunday
        (D(2026, 2, 13), 1, D(2026, 2, 14)),
        (D(2026, 2, 14), 1, D(2026, 2, 24)),
        (D(2026, 2, 13), 6, D(2026, 2, 28)),
        (D(2026, 4, 30), 4, D(2026, 5, 9)),
        (D(2026, 9, 30), 1, D(2026, 10, 8)),
        (D(2026, 9, 30), 3, D(2026, 10, 10)),
        (D(2200, 1, 3), 1, D(2200, 1, 6)),  # far future: Fri -> Mon
    ],
)
def test_add_working_days(cal: WorkingCalendar, start: date, n: int, expected: date) -> None:
    assert cal.add_working_days(start, n) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2025, 1, 24), D(2025, 2, 10), 7),  # Jan 26, 27, Feb 5, 6, 7, 8, 10
        (D(2025, 9, 30), D(2025, 10, 12), 3),  # Oct 9, 10, 11
        (D(2025, 9, 30), D(2025, 10, 8), 0),
        (D(2025, 10, 8), D(2025, 10, 9), 1),  # end counted, start not
        (D(2025, 10, 9), D(2025, 10, 9), 0),
        (D(2025, 10, 12), D(2025, 10, 1), 0),  # end before start
        (D(2024, 12, 31), D(2025, 12, 31), 248),  # whole of 2025
        (D(2025, 12, 31), D(2026, 12, 31), 248),  # whole of 2026
    ],
)
def test_working_days_between(cal: WorkingCalendar, start: date, end: date, expected: int) -> None:
    assert cal.working_days_between(start, end) == expected


@pytest.mark.parametrize("start", [D(2025, 1, 20), D(2025, 9, 26), D(2025, 10, 5), D(2026, 2, 12)])
@pytest.mark.parametrize("n", [0, 1, 3, 7, 20])
def test_between_inverts_add(cal: WorkingCalendar, start: date, n: int) -> None:
    assert cal.working_days_between(start, cal.add_working_days(start, n)) == n


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # Across National Day 2025: the 1st working day after Sep 30 is Oct 9; it ends at Oct 10 00:00 CST.
        (datetime(2025, 9, 30, 10, 0, tzinfo=CHINA_TZ), 1, _utc(2025, 10, 9, 16)),
        # 17:00 UTC on Sep 29 is already Sep 30 in Beijing: counting starts from the Beijing date.
        (_utc(2025, 9, 29, 17), 1, _utc(2025, 10, 9, 16)),
        # ...whereas 15:59 UTC is still Sep 29 in Beijing: the 1st working day is Sep 30.
        (_utc(2025, 9, 29, 15, 59), 1, _utc(2025, 9, 30, 16)),
        # Ending on the 调休 Saturday Oct 11, 2025.
        (datetime(2025, 10, 9, 9, 0, tzinfo=CHINA_TZ), 2, _utc(2025, 10, 11, 16)),
        # Ending on the 调休 Saturday Feb 14, 2026, and across the 2026 Spring Festival.
        (datetime(2026, 2, 13, 9, 0, tzinfo=CHINA_TZ), 1, _utc(2026, 2, 14, 16)),
        (datetime(2026, 2, 13, 9, 0, tzinfo=CHINA_TZ), 2, _utc(2026, 2, 24, 16)),
        # Any aware zone is accepted: 21:00 New York on Feb 12 is Feb 13 10:00 in Beijing.
        (datetime(2026, 2, 12, 21, 0, tzinfo=ZoneInfo("America/New_York")), 1, _utc(2026, 2, 14, 16)),
        (datetime(2026, 2, 13, 2, 0, tzinfo=timezone(timedelta(hours=8))), 5, _utc(2026, 2, 27, 16)),
        # n=0: the period is the rest of the start's Beijing day.
        (datetime(2025, 10, 1, 12, 0, tzinfo=CHINA_TZ), 0, _utc(2025, 10, 1, 16)),
    ],
)
def test_period_end(cal: WorkingCalendar, start: datetime, n: int, expected: datetime) -> None:
    result = cal.period_end(start, n)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("overrides", "day", "expected"),
    [
        ({D(2025, 3, 12): False}, D(2025, 3, 12), False),  # a Wednesday turned off
        ({D(2025, 3, 15): True}, D(2025, 3, 15), True),  # a Saturday turned on
        ({D(2025, 10, 8): True}, D(2025, 10, 8), True),  # beats a library holiday
        ({D(2025, 10, 11): False}, D(2025, 10, 11), False),  # beats a library 调休 Saturday
        ({D(2025, 3, 15): True}, D(2025, 3, 16), False),  # neighbours are untouched
    ],
)
def test_overrides_win(overrides: dict[date, bool], day: date, expected: bool) -> None:
    assert WorkingCalendar(overrides).is_working_day(day) is expected


@pytest.mark.parametrize(
    ("overrides", "start", "n", "expected"),
    [
        ({D(2025, 3, 12): False}, D(2025, 3, 11), 1, D(2025, 3, 13)),
        ({D(2025, 3, 15): True}, D(2025, 3, 14), 1, D(2025, 3, 15)),
        ({D(2025, 3, 12): False, D(2025, 3, 15): True}, D(2025, 3, 10), 4, D(2025, 3, 15)),
    ],
)
def test_overrides_in_arithmetic(overrides: dict[date, bool], start: date, n: int, expected: date) -> None:
    assert WorkingCalendar(overrides).add_working_days(start, n) == expected


def test_overrides_are_copied_and_per_instance(cal: WorkingCalendar) -> None:
    overrides = {D(2025, 3, 12): False}
    custom = WorkingCalendar(overrides)
    overrides[D(2025, 3, 12)] = True
    overrides[D(2025, 3, 13)] = False
    assert custom.is_working_day(D(2025, 3, 12)) is False
    assert custom.is_working_day(D(2025, 3, 13)) is True
    assert cal.is_working_day(D(2025, 3, 12)) is True


@pytest.mark.parametrize(
    ("overrides", "year", "expected"),
    [
        (None, 2025, True),
        (None, 2026, True),
        (None, 2027, False),  # the library only estimates 2027 (no 调休)
        (None, 2101, False),
        ({D(2027, 2, 8): False}, 2027, True),  # an administrator has started entering 2027
        ({D(2027, 2, 20): True}, 2027, False),  # a worked Saturday alone is not a schedule
        ({D(2027, 2, 8): False}, 2028, False),
    ],
)
def test_has_official_schedule(overrides: dict[date, bool] | None, year: int, expected: bool) -> None:
    assert WorkingCalendar(overrides).has_official_schedule(year) is expected


def test_estimated_year_still_has_statutory_holidays(cal: WorkingCalendar) -> None:
    # National Day Oct 1 is fixed by law, so it is off even before the 2027 notice is known.
    assert cal.is_working_day(D(2027, 10, 1)) is False


def test_china_tz() -> None:
    assert CHINA_TZ.key == "Asia/Shanghai"


def test_concurrent_first_use_agrees_with_sequential(monkeypatch: pytest.MonkeyPatch) -> None:
    days = _days(D(2024, 12, 1), D(2027, 1, 31))
    expected = [WorkingCalendar().is_working_day(d) for d in days]
    # Start from an empty process-wide cache so the threads race to build the years.
    monkeypatch.setattr(calendar_module, "_library", None)
    monkeypatch.setattr(calendar_module, "_years", {})
    shared = WorkingCalendar()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(shared.is_working_day, days))
    assert results == expected
    assert {2024, 2025, 2026, 2027} <= set(calendar_module._years)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda c: c.add_working_days(D(2025, 1, 1), -1), ValueError, ">= 0"),
        (lambda c: c.add_working_days(D(2025, 1, 1), 1.5), TypeError, "int"),
        (lambda c: c.add_working_days(D(2025, 1, 1), True), TypeError, "int"),
        (lambda c: c.period_end(datetime(2025, 1, 1, 9, 0), 1), ValueError, "timezone-aware"),
        (lambda c: c.period_end(datetime(2025, 1, 1, 9, 0, tzinfo=UTC), -3), ValueError, ">= 0"),
        (lambda c: c.period_end(D(2025, 1, 1), 1), TypeError, "datetime"),
        (lambda c: c.is_working_day(datetime(2025, 1, 1, tzinfo=UTC)), TypeError, "date"),
        (lambda c: c.is_working_day("2025-01-01"), TypeError, "date"),
        (lambda c: WorkingCalendar({datetime(2025, 1, 1): False}), TypeError, "override keys"),
        (lambda c: WorkingCalendar({"2025-01-01": False}), TypeError, "override keys"),
        (lambda c: WorkingCalendar({D(2025, 1, 1): 1}), TypeError, "must be a bool"),
    ],
    ids=[
        "negative-n",
        "float-n",
        "bool-n",
        "naive-start",
        "period-negative-n",
        "period-date-start",
        "datetime-day",
        "str-day",
        "datetime-override",
        "str-override",
        "int-override-value",
    ],
)
def test_invalid_input(cal: WorkingCalendar, call, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call(cal)
