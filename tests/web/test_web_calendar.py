"""The administrators' working-calendar page: the year view, adding and removing overrides, the checks, refusals
with the input kept, and the recorded history."""

from __future__ import annotations

import re

from sqlalchemy import select

from workflow.models import CalendarOverride
from workflow.models.definitions import CalendarOverrideChange


def _row(body: str, day: str) -> str:
    """The table row of ``day`` ('' when the page lists no such day)."""
    match = re.search(rf'<tr[^>]*data-day="{day}".*?</tr>', body, re.S)
    return match.group(0) if match else ""


def _section(body: str, table_id: str) -> str:
    match = re.search(rf'<table[^>]*id="{table_id}".*?</table>', body, re.S)
    assert match, table_id
    return match.group(0)


def _overrides(db) -> dict[str, bool]:
    t = CalendarOverride.__table__
    with db.read() as conn:
        return {str(d): bool(w) for d, w in conn.execute(select(t.c.day, t.c.is_working_day))}


def test_year_page_lists_library_days_off_and_workdays(cast, browser):
    body = browser("admin").get("/admin/calendar?year=2026").get_data(as_text=True)
    days_off = _section(body, "days-off")
    workdays = _section(body, "weekend-workdays")
    for day in ("2026-01-01", "2026-02-17", "2026-10-01", "2026-10-07"):
        assert f'data-day="{day}"' in days_off, day
    for day in ("2026-01-04", "2026-02-14", "2026-02-28", "2026-09-20", "2026-10-10"):
        assert f'data-day="{day}"' in workdays, day
    assert "国务院节假日安排" in _row(body, "2026-10-01")
    assert "管理员调整" not in days_off + workdays
    assert "no-official-schedule" not in body
    # a year the library does not know yet says so
    assert 'id="no-official-schedule"' in browser("admin").get("/admin/calendar?year=2027").get_data(as_text=True)


def test_add_and_remove_an_override(cast, browser):
    b = browser("admin")
    response = b.post("/admin/calendar/overrides", data={
        "year": "2027", "day": "2027-02-20", "working": "1", "note": "2027 春节调休上班"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/calendar?year=2027")
    assert _overrides(cast.db) == {"2027-02-20": True}
    page = b.get("/admin/calendar?year=2027").get_data(as_text=True)
    row = _row(_section(page, "weekend-workdays"), "2027-02-20")
    assert "管理员调整" in row and "2027 春节调休上班" in row and "系统管理员" in row
    assert "已保存 2027-02-20 的调整" in page  # the flash message
    history = _section(page, "override-history")
    assert "2027-02-20" in history and "新增" in history

    response = b.post("/admin/calendar/overrides/2027-02-20/remove", data={"year": "2027"})
    assert response.status_code == 303
    assert _overrides(cast.db) == {}
    page = b.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert 'data-day="2027-02-20"' not in page.split('id="override-history"')[0]
    history = _section(page, "override-history")
    assert history.count("2027-02-20") == 2 and "删除" in history
    with cast.db.read() as conn:
        actions = conn.execute(select(CalendarOverrideChange.__table__.c.action)).scalars().all()
    assert actions == ["set", "remove"]


def test_refusals_keep_the_input_and_change_nothing(cast, browser):
    b = browser("admin")
    cases = [
        ({"day": "2026-02-30", "working": "0", "note": "错日"}, "日期格式不正确", "2026-02-30"),
        ({"day": "tomorrow", "working": "0", "note": "写错"}, "日期格式不正确", "tomorrow"),
        ({"day": "2150-01-01", "working": "0", "note": "太远"}, "2000 到 2099", "2150-01-01"),
        ({"day": "2026-06-01", "working": "", "note": "没选"}, "请选择工作日或休息日", "没选"),
        ({"day": "", "working": "1", "note": "空日期"}, "请填写日期", "空日期"),
        ({"day": "2026-06-01", "working": "1", "note": "长" * 201}, "备注最多", "长" * 201),
    ]
    for data, message, kept in cases:
        response = b.post("/admin/calendar/overrides", data={"year": "2026", **data})
        body = response.get_data(as_text=True)
        assert response.status_code == 422, data
        assert message in body, (data, message)
        assert kept in body, (data, kept)
    assert _overrides(cast.db) == {}

    assert b.post("/admin/calendar/overrides", data={"day": "2026-06-01", "working": "0", "note": "首次"}
                  ).status_code == 303
    response = b.post("/admin/calendar/overrides", data={"day": "2026-06-01", "working": "1", "note": "重复录入"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "已有调整" in body and "重复录入" in body
    assert _overrides(cast.db) == {"2026-06-01": False}

    response = b.post("/admin/calendar/overrides/2026-06-02/remove")
    assert response.status_code == 409 and "没有调整" in response.get_data(as_text=True)
    response = b.post("/admin/calendar/overrides/not-a-day/remove")
    assert response.status_code == 422 and "日期格式不正确" in response.get_data(as_text=True)
    assert _overrides(cast.db) == {"2026-06-01": False}

    for query, message in (("year=abc", "年份格式不正确"), ("year=1999", "2000 到 2099"),
                           ("year=99999", "年份格式不正确")):
        response = b.get(f"/admin/calendar?{query}")
        assert response.status_code == 422 and message in response.get_data(as_text=True), query


def test_checks_use_the_calendar_in_force(cast, browser):
    b = browser("admin")
    # 2026-09-30 + 1 working day skips the National Day week (1-7 October) and lands on Thursday 8 October
    body = b.get("/admin/calendar/check?year=2026&start=2026-09-30&days=1").get_data(as_text=True)
    assert "2026-09-30 之后第 1 个工作日是 2026-10-08（周四）" in body
    body = b.get("/admin/calendar/check?year=2026&from=2026-09-30&to=2026-10-10").get_data(as_text=True)
    assert "之间有 3 个工作日" in body  # 8, 9 and the 调休 Saturday 10 October
    b.post("/admin/calendar/overrides", data={"day": "2026-10-08", "working": "0", "note": "示例"})
    body = b.get("/admin/calendar/check?start=2026-09-30&days=1").get_data(as_text=True)
    assert "第 1 个工作日是 2026-10-09（周五）" in body

    for query, message, kept in (
            ("start=2026-9-30&days=1", "日期格式不正确", "2026-9-30"),
            ("start=2026-09-30&days=-3", "工作日数请填写0或正整数", "-3"),
            ("start=2026-09-30&days=5000", "工作日数须在 0 到 1000 之间", "5000"),
            ("from=2026-10-10&to=2026-10-01", "结束日期不能早于开始日期", "2026-10-10"),
            ("from=2026-10-10&to=", "请填写结束日期", "2026-10-10"),
            ("", "请填写开始日期和工作日数，或两个日期", "")):
        response = b.get(f"/admin/calendar/check?{query}")
        body = response.get_data(as_text=True)
        assert response.status_code == 422 and message in body, query
        assert kept in body, query


def test_only_administrators(cast, browser):
    for username in ("officer", "zhang", "unit_hr"):
        b = browser(username)
        assert b.get("/admin/calendar").status_code == 403
        assert b.post("/admin/calendar/overrides", data={"day": "2026-06-01", "working": "0"}).status_code == 403
    assert _overrides(cast.db) == {}


def test_english_page(cast, browser):
    b = browser("admin")
    b.get("/lang/en")
    body = b.get("/admin/calendar?year=2026").get_data(as_text=True)
    assert "Working calendar" in body and "Weekend working days" in body
    response = b.post("/admin/calendar/overrides", data={"day": "2026-02-30", "working": "0"})
    assert "YEAR-MONTH-DAY" in response.get_data(as_text=True)
