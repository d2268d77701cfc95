"""The one date routine every eligibility criterion counts with (rules.md §7.5).

"N years" is reached on the Nth anniversary of the start date, and a record or block lasting N years is over
on its Nth anniversary (it blocks up to the day before). Time spread over several periods (jobs, leadership
terms) is counted in full calendar months over the periods merged, so one continuous period reaches N years
exactly on its Nth anniversary, and overlapping periods count once. No criterion does date arithmetic of
its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta


def anniversary(start: date, years: int) -> date:
    """The day ``years`` full years after ``start`` are complete (29 February rolls to 1 March)."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return date(start.year + years, 3, 1)


def reached(start: date, years: int, on: date) -> bool:
    """True when ``years`` full years from ``start`` are complete on ``on`` (from the Nth anniversary on)."""
    return on >= anniversary(start, years)


def block_in_force(start: date | None, ends_on: date, on: date) -> bool:
    """True while a block that ends on ``ends_on`` (its Nth anniversary) still applies on ``on``."""
    return (start is None or start <= on) and on < ends_on


def full_years(start: date, end: date) -> int:
    """Full years from ``start`` to ``end`` (0 when ``end`` is not after ``start``)."""
    years = end.year - start.year
    if years > 0 and not reached(start, years, end):
        years -= 1
    return max(years, 0)


def full_months(start: date, end: date) -> int:
    """Full calendar months from ``start`` to ``end`` (0 when ``end`` is not after ``start``)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return max(months, 0)


def add_months(start: date, months: int) -> date:
    """The day ``months`` calendar months after ``start`` (a missing day rolls to the 1st of the next month,
    as :func:`anniversary` does for 29 February)."""
    total = start.year * 12 + start.month - 1 + months
    year, month = divmod(total, 12)
    try:
        return date(year, month + 1, start.day)
    except ValueError:
        return date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)


@dataclass(frozen=True)
class Span:
    """A period from ``start`` up to (not including) ``stop``."""

    start: date
    stop: date


def span_of(start: date, last_day: date | None, as_of: date, *, not_before: date | None = None) -> Span | None:
    """The part of a period (``last_day`` inclusive, None while it goes on) that lies before ``as_of``,
    beginning no earlier than ``not_before``; None when nothing is left."""
    begin = max(start, not_before) if not_before is not None else start
    stop = as_of if last_day is None else min(last_day + timedelta(days=1), as_of)
    return Span(begin, stop) if begin < stop else None


def merge(spans: Iterable[Span]) -> list[Span]:
    """Overlapping or touching spans joined, in date order."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, s.stop)):
        if merged and span.start <= merged[-1].stop:
            if span.stop > merged[-1].stop:
                merged[-1] = Span(merged[-1].start, span.stop)
        else:
            merged.append(span)
    return merged


@dataclass(frozen=True)
class Tally:
    """Time counted over merged spans: full months, and when ``years`` are (or would be) complete."""

    months: int
    years_needed: int
    due: date | None  # the day the years are complete if the last span goes on; None when it has ended

    @property
    def met(self) -> bool:
        """True when the months reach the years needed."""
        return self.months >= self.years_needed * 12

    def text(self) -> tuple[str, str]:
        """The counted time as "N 年 M 个月" / "N years M months"."""
        years, rest = divmod(self.months, 12)
        zh = f"{years} 年" + (f" {rest} 个月" if rest else "")
        en = f"{years} year{'s' if years != 1 else ''}" + (f" {rest} month{'s' if rest != 1 else ''}" if rest else "")
        return zh, en


def count_years(spans: Iterable[Span], years: int, as_of: date) -> Tally:
    """Count full months over the merged ``spans`` against ``years``; see :class:`Tally`."""
    merged = merge(spans)
    months = [full_months(s.start, s.stop) for s in merged]
    total = sum(months)
    due = None
    if merged and merged[-1].stop >= as_of:
        # The last period goes on: it completes the years after the months it still lacks.
        before_last = total - months[-1]
        due = add_months(merged[-1].start, max(years * 12 - before_last, 0))
    return Tally(total, years, due)
