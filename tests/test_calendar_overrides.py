"""Administrators' working-calendar overrides: validation, the recorded history, the year view, and that every
deadline computed after a change uses the new calendar (no stale copy in the process)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from driver import advance
from sqlalchemy import select

from seed.cast import build_world
from workflow.engine import core as engine
from workflow.errors import InvalidAction, MissingData, PermissionDenied
from workflow.models import CalendarOverride, Timer, as_utc, utcnow
from workflow.models.definitions import CalendarOverrideChange
from workflow.time import overrides as cal
from workflow.time.calendar import CHINA_TZ, WorkingCalendar


@pytest.fixture
def w(db):
    """The test cast on the SQLite database."""
    return build_world(db)


def test_year_view_shows_library_days_and_marks_overrides(w):
    view = cal.year_view(w.db, 2026)
    off = {d.day: d for d in view.days_off}
    weekend = {d.day: d for d in view.weekend_workdays}
    # National Day week 2026 and its 调休 Sunday/Saturday, straight from the library
    assert {date(2026, 10, d) for d in (1, 2, 5, 6, 7)} <= set(off)
    assert date(2026, 10, 3) not in off  # a Saturday: off anyway, not listed as a weekday off
    assert {date(2026, 9, 20), date(2026, 10, 10)} <= set(weekend)
    assert all(d.override is None for d in view.days_off + view.weekend_workdays)
    assert view.official

    cal.set_override(w.db, w.admin, date(2026, 10, 9), False, "示例：国庆假期延长一天")
    cal.set_override(w.db, w.admin, date(2026, 10, 10), False, "示例：取消调休")
    view = cal.year_view(w.db, 2026)
    off = {d.day: d for d in view.days_off}
    assert off[date(2026, 10, 9)].override["note"] == "示例：国庆假期延长一天"
    assert off[date(2026, 10, 9)].override["changed_by_name"]
    assert off[date(2026, 10, 9)].library_working is True
    assert date(2026, 10, 10) not in {d.day for d in view.weekend_workdays}
    # an override of a Saturday to "day off" says what the weekend rule says: listed so it can be removed
    assert [d.day for d in view.redundant] == [date(2026, 10, 10)]
    assert view.working_days == cal.year_view(w.db, 2026).working_days
    assert view.working_days == WorkingCalendar({date(2026, 10, 9): False, date(2026, 10, 10): False}) \
        .working_days_between(date(2025, 12, 31), date(2026, 12, 31))


def test_a_late_year_gets_its_schedule_from_overrides(w):
    """2027: the pinned library has no State Council notice yet; the administrator enters it."""
    assert not cal.year_view(w.db, 2027).official
    # the library's estimate: 5-10 February off (statutory days only), no 调休 working weekend
    assert cal.add_working_days(w.db, date(2027, 2, 4), 3) == date(2027, 2, 15)
    for d in (11, 12):  # the published week off runs two days longer
        cal.set_override(w.db, w.admin, date(2027, 2, d), False, "2027 春节")
    cal.set_override(w.db, w.admin, date(2027, 2, 20), True, "2027 春节调休上班")
    view = cal.year_view(w.db, 2027)
    assert view.official
    assert [d.day for d in view.weekend_workdays] == [date(2027, 2, 20)]
    assert view.weekend_workdays[0].override["note"] == "2027 春节调休上班"
    assert cal.add_working_days(w.db, date(2027, 2, 4), 3) == date(2027, 2, 17)
    assert cal.add_working_days(w.db, date(2027, 2, 4), 6) == date(2027, 2, 20)  # the 调休 Saturday counts
    assert cal.working_days_between(w.db, date(2027, 2, 4), date(2027, 2, 21)) == 6


def test_refusals_are_clear(w):
    cal.set_override(w.db, w.admin, date(2026, 12, 31), False, "跨年")
    with pytest.raises(InvalidAction, match="已有调整"):
        cal.set_override(w.db, w.admin, date(2026, 12, 31), True, "重复")
    with pytest.raises(MissingData, match="2000 到 2099"):
        cal.set_override(w.db, w.admin, date(2100, 1, 4), True)
    with pytest.raises(MissingData, match="备注最多"):
        cal.set_override(w.db, w.admin, date(2026, 6, 1), False, "长" * 201)
    with pytest.raises(PermissionDenied):
        cal.set_override(w.db, w.officer, date(2026, 6, 1), False)
    with pytest.raises(PermissionDenied):
        cal.remove_override(w.db, w.applicant, date(2026, 12, 31))
    with pytest.raises(InvalidAction, match="没有调整"):
        cal.remove_override(w.db, w.admin, date(2026, 6, 1))
    for bad in ("", "2026-13-01", "2026-02-30", "20261001", "2026/10/01", "1999-12-31", "明天"):
        with pytest.raises(MissingData):
            cal.parse_day(bad)
    with pytest.raises(MissingData, match="不能早于"):
        cal.working_days_between(w.db, date(2026, 10, 9), date(2026, 10, 1))
    with pytest.raises(MissingData, match="10年"):
        cal.working_days_between(w.db, date(2000, 1, 1), date(2020, 1, 1))
    with pytest.raises(MissingData, match="0 到"):
        cal.add_working_days(w.db, date(2026, 1, 1), cal.MAX_CHECK_DAYS + 1)
    with pytest.raises(MissingData):
        cal.check_year(1999)
    # nothing of the refused writes was stored
    with w.db.read() as conn:
        rows = conn.execute(select(CalendarOverride.__table__.c.day)).scalars().all()
    assert [d if isinstance(d, date) else date.fromisoformat(d) for d in rows] == [date(2026, 12, 31)]


def test_every_change_is_recorded_with_who_and_when(w):
    before = utcnow()
    cal.set_override(w.db, w.admin, date(2026, 5, 6), False, "示例")
    cal.remove_override(w.db, w.admin, date(2026, 5, 6))
    cal.set_override(w.db, w.admin, date(2026, 5, 6), True, "改为上班")
    with w.db.read() as conn:
        row = conn.execute(select(CalendarOverride.__table__)).mappings().one()
        log = conn.execute(select(CalendarOverrideChange.__table__)
                           .order_by(CalendarOverrideChange.__table__.c.id)).mappings().all()
    assert row["changed_by"] == w.admin.user_id and as_utc(row["changed_at"]) >= before
    assert [(r["action"], r["is_working_day"], r["note"], r["changed_by"]) for r in log] == [
        ("set", False, "示例", w.admin.user_id), ("remove", False, "示例", w.admin.user_id),
        ("set", True, "改为上班", w.admin.user_id)]
    history = cal.history(w.db, 2026)
    assert [h["action"] for h in history] == ["set", "remove", "set"]  # newest first
    assert history[0]["changed_by_name"]
    assert cal.history(w.db, 2027) == []


def _notice_timer(db, case_id: int) -> dict:
    t = Timer.__table__
    with db.read() as conn:
        return dict(conn.execute(select(t).where(t.c.case_id == case_id, t.c.name == "unit_notice_end")
                                 ).mappings().one())


def test_deadlines_computed_after_a_change_use_it_and_after_removal_do_not(w):
    first, second = w.open(), w.open()
    for case_id in (first, second):
        advance(w, case_id, "unit_review")
    # the next ten calendar days (Beijing) become days off: the 5-working-day unit notice must end later
    today = utcnow().astimezone(CHINA_TZ).date()
    days = [today + timedelta(days=i) for i in range(1, 11)]
    for d in days:
        cal.set_override(w.db, w.admin, d, False, "测试")
    engine.fire(w.db, first, "start_unit_notice", w.unit)
    timer = _notice_timer(w.db, first)
    started = as_utc(timer["created_at"])
    with_overrides = WorkingCalendar({d: False for d in days}).period_end(started, 5)
    library_only = WorkingCalendar().period_end(started, 5)
    assert with_overrides > library_only
    assert as_utc(timer["due_at"]) == with_overrides

    for d in days:
        cal.remove_override(w.db, w.admin, d)
    engine.fire(w.db, second, "start_unit_notice", w.unit)
    timer = _notice_timer(w.db, second)
    assert as_utc(timer["due_at"]) == WorkingCalendar().period_end(as_utc(timer["created_at"]), 5)
