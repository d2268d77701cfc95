"""The certificate people can hold, in a real browser (issue 17, item 3): the holder downloads the PDF from the
case page; someone checking it follows its QR code to the verification page, sees the status and the employer,
mistypes the verification code (told so, the typed text kept) and then downloads the same certificate with it.

The case is brought to its certificate by the test driver. Screenshots go to ``test-output/screenshots`` with
the prefix ``certificate-``.
"""

from __future__ import annotations

from pathlib import Path

from certificate_reading import pdf_text, qr_texts
from driver import advance
from livehelpers import Person, live_world


def test_the_holder_downloads_and_a_checker_verifies_by_qr_code(chromium, live_server, live_db, screenshot_dir):
    world = live_world(live_db)
    case_id = world.open("industry-session")
    advance(world, case_id, "certified")
    people = []
    try:
        holder = Person(chromium, live_server, "zhang", screenshot_dir, "certificate-")
        people.append(holder)
        holder.go(f"/cases/{case_id}")
        number = holder.page.locator(".cert-number").first.inner_text().strip()
        code = holder.page.locator(".cert-code").inner_text().strip()
        holder.shot("01-case-page")
        with holder.page.expect_download() as download:
            holder.page.click("#certificate-pdf")
        assert download.value.suggested_filename == f"certificate-{number}.pdf"
        pdf = Path(download.value.path()).read_bytes()
        text = pdf_text(pdf)
        assert "张伟" in text and "高级工程师" in text and number in text and code in text
        [url] = qr_texts(pdf)
        assert url == f"{live_server}/verify?number={number}"

        # someone checking the paper scans the QR code: no sign-in needed
        checker = Person(chromium, live_server, None, screenshot_dir, "certificate-")
        people.append(checker)
        checker.go(url.removeprefix(live_server))
        assert checker.page.locator("#verify-status").inner_text().strip().endswith("证书有效")
        assert checker.page.locator("#verify-employer").inner_text() == "株洲智轨装备科技有限公司"
        checker.shot("02-verify-by-qr")
        checker.page.fill("#code", "ABCD-2345")
        checker.page.click("#certificate-copy button[type=submit]")
        checker.page.wait_for_load_state()
        assert "验证码不正确" in checker.page.locator("#code-error").inner_text()
        assert checker.page.input_value("#code") == "ABCD-2345"
        # the refusal's 403 is the only error the browser logged
        assert len(checker.errors) == 1 and "status of 403" in checker.errors[0], checker.errors
        checker.errors.clear()
        checker.shot("03-wrong-code")
        checker.page.fill("#code", code.lower())
        with checker.page.expect_download() as download:
            checker.page.click("#certificate-copy button[type=submit]")
        assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
        assert number in pdf_text(Path(download.value.path()).read_bytes())
        checker.check()
    finally:
        for person in people:
            person.close()
