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
from livehelpers import PASSWORD
from sqlalchemy import select
from sqlmodel import select as orm_select

from seed.cast import World
from workflow import timers
from workflow.directory import actor_for
from workflow.models import Case, Certificate, CommitteeSeat, Organisation, ReviewSession, User, utcnow

REASON = "经查，公示对象申报的代表作实际由他人完成，业绩材料与事实不符，请予核查。"
DISMISSAL = "经核查，代表作由申报人主持完成，有项目合同和验收报告为证，异议不成立。"
REVOCATION = "经查实，申报人提供的继续教育证明系伪造，属弄虚作假取得职称。"
EVIDENCE = b"%PDF-1.4\n% the objector's evidence\n%%EOF\n"


class Person:
    """A browser context, signed in as ``username`` unless None; fails on console errors (e.g. CSP)."""

    def __init__(self, chromium, base: str, username: str | None, shots) -> None:
        self.context = chromium.new_context(locale="zh-CN", viewport={"width": 1360, "height": 900})
        self.page = self.context.new_page()
        self.base, self.shots, self.errors = base, shots, []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        if username:
            self.go("/login")
            self.page.fill("#username", username)
            self.page.fill("#password", PASSWORD)
            self.page.click("main form button[type=submit]")
            assert "/login" not in self.page.url, f"{username} could not sign in"

    def go(self, path: str) -> None:
        """Open a page and check it rendered without errors."""
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        self.check()

    def click(self, selector: str) -> None:
        """Click and wait for the next page."""
        self.page.click(selector)
        self.page.wait_for_load_state()
        self.check()

    def act(self, case_id: int, trigger: str, **fields: str) -> None:
        """Open the case, fill the action's form and press its button (danger actions are folded)."""
        self.go(f"/cases/{case_id}")
        form = self.page.locator(f"#action-{trigger}")
        folded = self.page.locator(f"details:has(#action-{trigger}) > summary")
        if folded.count():
            folded.click()
        for name, value in fields.items():
            form.locator(f"[name={name}]").fill(value)
        form.locator("button[type=submit]").click()
        self.page.wait_for_load_state()
        assert self.page.locator("#action-error").count() == 0, self.page.locator("#action-error").inner_text()
        self.check()

    def check(self) -> None:
        """No console errors so far."""
        assert not self.errors, self.errors

    def shot(self, name: str) -> None:
        """A full-page screenshot."""
        self.page.screenshot(path=str(self.shots / f"public-journey-{name}.png"), full_page=True)

    def close(self) -> None:
        """Close the context."""
        self.context.close()


def _world(db) -> World:
    """The test cast of the live database as a World (for the driver that brings the case to its notice)."""
    with db.session() as s:
        users = {u.username: u.id for u in s.exec(orm_select(User))}
        orgs = {o.name: o.id for o in s.exec(orm_select(Organisation))}
        session_id = s.exec(orm_select(ReviewSession.id)).first()
        member_ids = list(s.exec(orm_select(CommitteeSeat.user_id).where(CommitteeSeat.seat_role == "member")))
        actor = {name: actor_for(s, uid) for name, uid in users.items()}
        members = [actor_for(s, uid) for uid in member_ids]
    return World(db=db, employer=orgs["株洲智轨装备科技有限公司"], other_employer=orgs["长沙精密传感有限公司"],
                 agency=orgs["长沙市人才服务中心"], superior=orgs["株洲市工业和信息化局"],
                 authority=orgs["湖南省人力资源和社会保障厅"], session_id=session_id, applicant=actor["zhang"],
                 other_applicant=actor["li"], unit=actor["unit_hr"], other_unit=actor["other_hr"],
                 agency_reviewer=actor["agency"], superior_reviewer=actor["superior"], officer=actor["officer"],
                 chair=actor["chair"], members=members, colleague=actor["colleague"], outsider=actor["outsider"],
                 admin=actor["admin"])


def _state(db, case_id: int) -> str:
    with db.read() as conn:
        return conn.execute(select(Case.__table__.c.state).where(Case.__table__.c.id == case_id)).scalar_one()


def test_objection_investigation_revocation_and_public_check(chromium, live_server, live_db, screenshot_dir):
    world = _world(live_db)
    case_id = world.open("industry-session")
    advance(world, case_id, "result_notice")
    people = []
    try:
        # a member of the public (signed in) reads the result notices and prints one
        public = Person(chromium, live_server, "outsider", screenshot_dir)
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
        anonymous = Person(chromium, live_server, None, screenshot_dir)
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
        assert public.page.input_value("#reason") == REASON and _state(live_db, case_id) == "result_notice"
        public.page.set_input_files("#evidence", files=[{"name": "项目验收报告.pdf", "mimeType": "application/pdf",
                                                         "buffer": EVIDENCE}])
        public.shot("03-objection-form")
        public.click("main form button[type=submit]")
        assert public.page.url.endswith("/notices")
        assert _state(live_db, case_id) == "result_notice_objection"
        row = public.page.locator("tr", has=public.page.locator(f"a[href='/notices/{case_id}/print']"))
        assert "异议核查中，公示暂停" in row.inner_text()
        assert row.locator(f"a[href='/notices/{case_id}/objection']").count() == 0  # no second objection now
        public.shot("04-notice-suspended")

        # the authority officer sees the objection and dismisses it with reasons
        officer = Person(chromium, live_server, "officer", screenshot_dir)
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
        assert _state(live_db, case_id) == "result_notice"
        assert DISMISSAL in officer.page.content()

        # the notice runs out, the result is filed and the certificate issued
        timers.tick(live_db, now=utcnow() + timedelta(days=60))
        assert _state(live_db, case_id) == "filing"
        officer.act(case_id, "file_result", comment="程序合规，予以备案。")
        officer.act(case_id, "issue_certificate")
        number = officer.page.locator(".cert-number").first.inner_text().strip()

        # the officer revokes the title for fraud
        officer.act(case_id, "revoke", reason=REVOCATION)
        assert _state(live_db, case_id) == "revoked"
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
