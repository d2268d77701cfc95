"""Printable notices: the public result notice (no sign-in) and the unit notice (only the unit's staff), each an
A4 page without the site's navigation, with who, which title, the unit, the notice period in working days,
how to object and the authority; linked from the notice lists."""

from __future__ import annotations

import re

from driver import advance
from sqlalchemy import select

from workflow.engine import core as engine
from workflow.models import Timer, as_utc
from workflow.time.calendar import CHINA_TZ, WorkingCalendar


def _timer(db, case_id: int, name: str) -> dict:
    t = Timer.__table__
    with db.read() as conn:
        return dict(conn.execute(select(t).where(t.c.case_id == case_id, t.c.name == name)).mappings().one())


def _text(body: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_result_notice_print_is_public_and_complete(cast, browser):
    case_id = cast.open("industry-session")
    advance(cast, case_id, "result_notice")
    anon = browser(None)
    listing = anon.get("/notices").get_data(as_text=True)
    assert f'href="/notices/{case_id}/print"' in listing

    response = anon.get(f"/notices/{case_id}/print")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    text = _text(body)
    assert "print.css" in body and 'class="site-nav"' not in body and "site-header" not in body
    assert "职称评审结果公示" in text
    assert cast.applicant.name in text
    assert "高级工程师（副高）" in text
    assert "株洲智轨装备科技有限公司" in text
    assert "湖南省人力资源和社会保障厅" in text
    timer = _timer(cast.db, case_id, "result_notice_end")
    start = as_utc(timer["created_at"]).astimezone(CHINA_TZ).date()
    last_day = WorkingCalendar().add_working_days(start, 5)
    assert as_utc(timer["due_at"]).astimezone(CHINA_TZ).date() > last_day  # ends at midnight after the last day
    assert "公示期为 5 个工作日" in text
    assert f"自 {start.isoformat()} 起，至 {last_day.isoformat()} 24:00 止" in text
    assert f"http://localhost/notices/{case_id}/objection" in text  # where to object online
    assert "实名" in text and "匿名异议不予受理" in text
    assert "公示期暂停" not in text

    # while an objection is investigated the sheet says the period is suspended
    engine.fire(cast.db, case_id, "file_objection", cast.outsider, data={"reason": "业绩材料与事实不符，请核查"})
    text = _text(anon.get(f"/notices/{case_id}/print").get_data(as_text=True))
    assert "公示期暂停计算" in text


def test_result_notice_print_only_while_on_notice(cast, browser):
    case_id = cast.open("industry-session")
    advance(cast, case_id, "committee_vote")
    assert browser(None).get(f"/notices/{case_id}/print").status_code == 404
    assert browser("admin").get(f"/notices/{case_id}/print").status_code == 404
    assert browser(None).get("/notices/999999/print").status_code == 404


def test_unit_notice_print_only_for_the_units_staff(cast, browser):
    case_id = cast.open("industry-session")
    advance(cast, case_id, "unit_notice")
    url = f"/unit-notices/{case_id}/print"
    for username in ("zhang", "unit_hr", "colleague"):
        b = browser(username)
        assert f'href="{url}"' in b.get("/unit-notices").get_data(as_text=True), username
        response = b.get(url)
        assert response.status_code == 200, username
        text = _text(response.get_data(as_text=True))
        assert "单位内部公示" in text and "高级工程师（副高）" in text
        assert "公示期为 5 个工作日" in text and "24:00 止" in text
        assert "向株洲智轨装备科技有限公司人事部门" in text
    for username in ("other_hr", "li", "outsider", "officer"):
        assert browser(username).get(url).status_code == 404, username
    anonymous = browser(None).get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    # the unit notice is not a public notice
    assert browser(None).get(f"/notices/{case_id}/print").status_code == 404


def test_print_page_in_english(cast, browser):
    case_id = cast.open("industry-session")
    advance(cast, case_id, "result_notice")
    b = browser(None)
    b.get("/lang/en")
    text = _text(b.get(f"/notices/{case_id}/print").get_data(as_text=True))
    assert "Public notice of title review results" in text and "5 working days" in text


def _same_but_the_id(body: str, case_id: int) -> str:
    """``body`` with the case's id in links (the language switch returns to the page) and the time-stamped
    CSRF tokens made neutral."""
    body = re.sub(r'value="[A-Za-z0-9._-]{40,}"', 'value="TOKEN"', body)
    return re.sub(rf"/(notices|cases)/{case_id}/", r"/\1/ID/", body)


def test_the_objection_form_of_a_unit_notice_follows_the_print_pages_rule(cast, browser):
    """A unit-internal notice's objection form used to show the applicant, employer and level to any signed-in
    account while its printed sheet answered 404; both now ask ``workflow.records.notices.visible_notice``."""
    from webhelpers import case_state, case_version

    from workflow.records.notices import visible_notice

    case_id = cast.open("industry-session")
    advance(cast, case_id, "unit_notice")
    elsewhere = cast.open("industry-session")  # on no notice at all
    with cast.db.read() as conn:
        assert visible_notice(cast.db, conn, case_id, cast.employer)[0] == "unit"
        assert visible_notice(cast.db, conn, case_id, cast.other_employer) is None
        assert visible_notice(cast.db, conn, case_id, None) is None
        assert visible_notice(cast.db, conn, elsewhere, cast.employer) is None
    form, sheet = f"/notices/{case_id}/objection", f"/unit-notices/{case_id}/print"
    # the unit's staff (the applicant too, whom the objection's own rule then refuses) reach the form
    for username in ("unit_hr", "colleague", "zhang"):
        b = browser(username)
        assert b.get(sheet).status_code == 200, username
        page = b.get(form)
        assert page.status_code == 200 and "实名提交异议" in page.get_data(as_text=True), username
    # an unrelated account, another unit's applicant and reviewer, the authority: the sheet's answer, nothing more
    for username in ("outsider", "li", "other_hr", "officer"):
        b = browser(username)
        assert b.get(sheet).status_code == 404, username
        response = b.get(form)
        body = response.get_data(as_text=True)
        assert response.status_code == 404 and cast.applicant.name not in body and "副高" not in body, username
        other = b.get(f"/notices/{elsewhere}/objection").get_data(as_text=True)
        assert _same_but_the_id(body, case_id) == _same_but_the_id(other, elsewhere), username
    # posting the form answers an outsider as for a case on no notice, without the case's details
    outsider = browser("outsider")
    data = {"reason": "我不是该单位职工，但想提异议。", "return_to": "objection"}
    on_notice = outsider.post(f"/cases/{case_id}/actions/file_objection",
                              data={**data, "version": str(case_version(cast.db, case_id))})
    no_notice = outsider.post(f"/cases/{elsewhere}/actions/file_objection",
                              data={**data, "version": str(case_version(cast.db, elsewhere))})
    assert on_notice.status_code == no_notice.status_code == 409
    assert (_same_but_the_id(on_notice.get_data(as_text=True), case_id)
            == _same_but_the_id(no_notice.get_data(as_text=True), elsewhere))
    assert cast.applicant.name not in on_notice.get_data(as_text=True)
    # posted from anywhere else (the API's path too: workflow.engine.commands), the same answer as for no notice
    bare = {"reason": data["reason"], "version": str(case_version(cast.db, case_id))}
    bare_on = outsider.post(f"/cases/{case_id}/actions/file_objection", data=bare)
    bare_off = outsider.post(f"/cases/{elsewhere}/actions/file_objection",
                             data={**bare, "version": str(case_version(cast.db, elsewhere))})
    assert bare_on.status_code == bare_off.status_code == 409
    assert cast.applicant.name not in bare_on.get_data(as_text=True)
    assert case_state(cast.db, case_id) == "unit_notice"
    # the unit's own staff still object by name
    response = browser("colleague").post(f"/cases/{case_id}/actions/file_objection", data={
        **data, "reason": "申报人近三年年度考核结果与材料不符。", "version": str(case_version(cast.db, case_id))})
    assert response.status_code == 303 and case_state(cast.db, case_id) == "unit_notice_objection"


def test_the_result_notices_objection_form_is_for_everyone_signed_in(cast, browser):
    case_id = cast.open("industry-session")
    advance(cast, case_id, "result_notice")
    for username in ("outsider", "li", "other_hr", "colleague"):
        page = browser(username).get(f"/notices/{case_id}/objection")
        body = page.get_data(as_text=True)
        assert page.status_code == 200 and "实名提交异议" in body and cast.applicant.name in body, username
    assert browser(None).get(f"/notices/{case_id}/objection").status_code == 302  # a named objection
