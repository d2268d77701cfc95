"""The public side in a real browser: a result notice, its printable page, a named objection with an evidence
file, the authority's investigation (dismissed here; upholding is covered in test_pipeline_suite), the
certificate, its revocation and the public verification page showing it revoked.

The case is brought to its result notice by the test driver (the full way there is the other journeys' job);
everything after that is done in the pages, except the passing of time (the timer tick, as ``titlereview
tick`` would run it). Screenshots go to ``test-output/screenshots`` with the prefix ``public-journey-``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from driver import advance
from livehelpers import Person, case_state, live_world
from pdfs import make_pdf
from sqlalchemy import select

from workflow.engine import timers
from workflow.models import Certificate, utcnow

REASON = "经查，公示对象申报的代表作实际由他人完成，业绩材料与事实不符，请予核查。"
DISMISSAL = "经核查，代表作由申报人主持完成，有项目合同和验收报告为证，异议不成立。"
REVOCATION = "经查实，申报人提供的继续教育证明系伪造，属弄虚作假取得职称。"
EVIDENCE = make_pdf(comment=b"the objector's evidence")


def test_objection_investigation_revocation_and_public_check(chromium, live_server, live_db, screenshot_dir):
    world = live_world(live_db)
    case_id = world.open("industry-session")
    advance(world, case_id, "result_notice")
    people = []
    try:
        # a member of the public (signed in) reads the result notices and prints one
        public = Person(chromium, live_server, "outsider", screenshot_dir, "public-journey-")
        people.append(public)
        public.go("/notices")
        row = public.page.locator("tr", has=public.page.locator(f"a[href='/notices/{case_id}/objection']"))
        assert "张伟" in row.inner_text() and "高级工程师" in row.inner_text()
        public.shot("01-result-notices")
        row.locator(f"a[href='/notices/{case_id}/print']").click()
        public.page.wait_for_load_state()
        public.check()
        sheet = public.page.locator("#notice").inner_text()
        for expected in ("职称评审结果公示", "张伟", "高级工程师（副高）", "株洲智轨装备科技有限公司",
                         "公示期为 5 个工作日", "湖南省人力资源和社会保障厅", f"/notices/{case_id}/objection"):
            assert expected in sheet, expected
        assert public.page.locator(".site-nav").count() == 0
        public.shot("02-notice-print")
        public.page.emulate_media(media="print")
        assert not public.page.locator(".toolbar").is_visible()  # the print button is for the screen only
        pdf = public.page.pdf(format="A4", print_background=False)
        assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1  # one A4 sheet
        public.page.emulate_media(media="screen")

        # an anonymous visitor can print the notice too, but must sign in to object
        anonymous = Person(chromium, live_server, None, screenshot_dir, "public-journey-")
        people.append(anonymous)
        anonymous.go(f"/notices/{case_id}/print")
        assert "张伟" in anonymous.page.locator("#notice").inner_text()
        anonymous.page.goto(live_server + f"/notices/{case_id}/objection")
        assert "/login" in anonymous.page.url

        # the named objection
        public.go("/notices")
        public.click(f"a[href='/notices/{case_id}/objection']")
        assert "郑敏" in public.page.content()  # the objection is made under the signed-in name
        public.page.fill("#reason", REASON)
        # evidence is optional; a web page saved under a .pdf name is refused by its content, the text stays
        public.page.set_input_files("#evidence", files=[{"name": "证明.pdf", "mimeType": "application/pdf",
                                                         "buffer": b"<!doctype html><p>not a pdf</p>"}])
        public.page.click("main form button[type=submit]")
        public.page.wait_for_load_state()
        assert "只接受 PDF、JPEG 或 PNG" in public.page.content()
        # the refusal's status is the only "error" the browser logged; nothing else went wrong on the page
        assert len(public.errors) == 1 and "status of 422" in public.errors[0], public.errors
        public.errors.clear()
        assert public.page.input_value("#reason") == REASON and case_state(live_db, case_id) == "result_notice"
        public.page.set_input_files("#evidence", files=[{"name": "项目验收报告.pdf", "mimeType": "application/pdf",
                                                         "buffer": EVIDENCE}])
        public.shot("03-objection-form")
        public.click("main form button[type=submit]")
        assert public.page.url.endswith("/notices")
        assert case_state(live_db, case_id) == "result_notice_objection"
        row = public.page.locator("tr", has=public.page.locator(f"a[href='/notices/{case_id}/print']"))
        assert "异议核查中，公示暂停" in row.inner_text()
        assert row.locator(f"a[href='/notices/{case_id}/objection']").count() == 0  # no second objection now
        public.shot("04-notice-suspended")

        # the authority officer sees the objection and dismisses it with reasons
        officer = Person(chromium, live_server, "officer", screenshot_dir, "public-journey-")
        people.append(officer)
        officer.go(f"/cases/{case_id}")
        content = officer.page.content()
        assert REASON in content and "郑敏" in content
        officer.shot("05-officer-investigation")
        # the evidence came with the objection: the officer downloads exactly what was sent
        with officer.page.expect_download() as download:
            officer.page.click(".objection-evidence a")
        assert download.value.suggested_filename == "项目验收报告.pdf"
        assert Path(download.value.path()).read_bytes() == EVIDENCE
        officer.act(case_id, "dismiss_objection", reason=DISMISSAL)
        assert case_state(live_db, case_id) == "result_notice"
        assert DISMISSAL in officer.page.content()

        # the notice runs out, the result is filed and the certificate issued
        timers.tick(live_db, now=utcnow() + timedelta(days=60))
        assert case_state(live_db, case_id) == "filing"
        officer.act(case_id, "file_result", comment="程序合规，予以备案。")
        officer.act(case_id, "issue_certificate")
        number = officer.page.locator(".cert-number").first.inner_text().strip()

        # the officer revokes the title for fraud
        officer.act(case_id, "revoke", reason=REVOCATION)
        assert case_state(live_db, case_id) == "revoked"
        assert REVOCATION in officer.page.content()
        officer.shot("06-officer-revoked")
        with live_db.read() as conn:
            cert = conn.execute(select(Certificate.__table__).where(Certificate.__table__.c.number == number)
                                ).mappings().one()
        assert cert["status"] == "revoked" and cert["revocation_reason"] == REVOCATION

        # anyone, without signing in, sees the certificate revoked
        anonymous.go(f"/verify?number={number}")
        result = anonymous.page.locator("[data-result=revoked]")
        assert result.count() == 1
        text = result.inner_text()
        assert "已撤销" in text and number in text and "张伟" in text
        anonymous.shot("07-verify-revoked")
    finally:
        for person in people:
            person.close()
