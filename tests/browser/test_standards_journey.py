"""A new occupation's standard, made in the admin UI and in force at once (rules.md §5, 22号 measure 5).

An administrator creates and publishes a standard for 工业互联网工程技术人员 in the browser; an applicant in
another browser context sees it on the new-case form straight away, pre-checks against it, opens a case and
submits it under v1. The administrator then publishes v2 with a stricter rule: the submitted case still shows
v1 and v1's verdict, while a new pre-check uses v2.
"""

from __future__ import annotations

import re

import pytest
from livehelpers import Person
from pdfs import make_pdf
from sqlalchemy import select

from workflow import standards_store
from workflow.eligibility_gate import latest_reports
from workflow.models import Case, ReviewSession

SID = "industrial-internet-senior"
PDF = make_pdf()


@pytest.fixture(autouse=True)
def _fresh_standard_cache():
    """Parsed versions are cached per process by (id, version); other test modules publish the same ids."""
    standards_store._cache.clear()
    yield
    standards_store._cache.clear()


def _case(db, case_id: int) -> dict:
    with db.read() as conn:
        return dict(conn.execute(select(Case.__table__).where(Case.__table__.c.id == case_id)).mappings().one())


def _submission_report(db, case_id: int) -> dict:
    with db.read() as conn:
        return latest_reports(conn, case_id)["submission"]["report"]


def test_new_occupation_standard_in_force_at_once_and_pinned_cases_keep_their_version(
        chromium, live_server, live_db, screenshot_dir, tmp_path):
    admin = Person(chromium, live_server, "admin", screenshot_dir)
    applicant = Person(chromium, live_server, "zhang", screenshot_dir)
    try:
        # the applicant has the new-case form open before the standard exists
        applicant.go("/applicant/cases/new")
        assert SID not in applicant.page.inner_html("#standard_id")

        # the administrator creates the standard from scratch and publishes it
        admin.go("/admin/")
        admin.click("#admin-standards-link")
        admin.click("#new-standard")
        p = admin.page
        p.fill("#f-id", SID)
        p.fill("#f-name_zh", "工业互联网工程技术人员高级工程师评价标准")
        p.fill("#f-name_en", "Industrial internet engineering technicians: Senior engineer")
        p.fill("#f-specialty", "工业互联网")
        p.select_option("#f-level", "副高")
        p.fill("#f-title", "高级工程师")
        p.fill("#f-effective_from", "2026-01-01")
        p.fill("#f-source", "湘人社规〔2022〕22号第5条：新职业、新业态可单独制定评价标准")
        admin.shot("standards-01-admin-new")
        p.select_option("#profile_user", label="张伟（zhang）")
        admin.click("#preview-button")
        assert p.locator("#precheck-report").count() == 1
        admin.shot("standards-02-admin-preview")
        admin.click("#publish-button")
        assert p.url.endswith(f"/admin/standards/{SID}/v1"), p.url
        assert p.inner_text("#standard-version") == "v1"
        admin.shot("standards-03-admin-published-v1")

        # the administrator adds it to the rail session's accepted standards (a session takes only those)
        with live_db.read() as conn:
            rail = conn.execute(select(ReviewSession.__table__.c.id)
                                .where(ReviewSession.__table__.c.code == "2026-RAIL")).scalar_one()
        admin.go(f"/admin/sessions/{rail}")
        p.check(f"input[name=standard_ids][value={SID}]")
        admin.click("main form button[type=submit]")
        admin.shot("standards-03b-admin-session-accepts")

        # the applicant, in another browser context, sees it at once and gets a pre-check against it
        applicant.go("/applicant/cases/new")
        assert SID in applicant.page.inner_html("#standard_id")
        applicant.page.select_option("#precheck-standard", SID)
        applicant.click("#new-case-precheck button[type=submit]")
        assert applicant.page.inner_text("#report-overall") != "不符合"
        assert applicant.page.locator("[data-criterion=achievements]").count() == 1
        applicant.shot("standards-04-applicant-precheck-v1")

        # … opens a case against it and submits (v1 is pinned with its verdict)
        ap = applicant.page
        applicant.go("/applicant/cases/new")
        ap.select_option("#pipeline_id", "industry-session")
        ap.select_option("#session_id", label="2026年湘产专场·轨道交通装备")
        ap.select_option("#level", "副高")
        ap.fill("#target_title", "高级工程师")
        ap.select_option("#standard_id", SID)
        ap.fill("#specialty", "工业互联网")
        applicant.click("main form:not(#new-case-precheck) button[type=submit]")
        match = re.search(r"/cases/(\d+)", ap.url)
        assert match, ap.url
        case_id = int(match.group(1))
        pdf = tmp_path / "学历证书.pdf"
        pdf.write_bytes(PDF)
        ap.select_option("#category", "education")
        ap.set_input_files("#file", str(pdf))
        applicant.click("#upload-form button[type=submit]")
        applicant.go(f"/cases/{case_id}")
        form = ap.locator("#action-submit")
        form.locator("button[type=submit]").click()
        ap.wait_for_load_state()
        assert ap.locator("#action-error").count() == 0, ap.locator("#action-error").inner_text()
        case = _case(live_db, case_id)
        assert case["standard_version"] == 1
        v1_verdict = _submission_report(live_db, case_id)["overall"]
        assert v1_verdict in ("met", "needs_judgement")

        # the administrator publishes v2, which asks for all 8 achievement items
        admin.go(f"/admin/standards/{SID}/edit")
        text = p.input_value("#f-achievements")
        p.fill("#f-achievements", text.replace("value: 1", "value: 8"))
        admin.click("#publish-button")
        assert p.url.endswith(f"/admin/standards/{SID}/v2"), p.url
        admin.shot("standards-05-admin-published-v2")

        # the submitted case keeps v1 and v1's verdict; a new pre-check uses v2 and fails
        applicant.go(f"/cases/{case_id}")
        page = ap.content()
        assert "工业互联网工程技术人员高级工程师评价标准 v1" in ap.inner_text("main dl")
        verdict = ap.inner_text("section[aria-labelledby=elig-h]")
        assert "提交时的核对结果" in page and "须具备业绩成果 1 项" in verdict and "不符合" not in verdict
        assert _submission_report(live_db, case_id)["standard_version"] == 1
        applicant.shot("standards-06-applicant-case-keeps-v1")
        applicant.go(f"/applicant/precheck?standard_id={SID}&route=normal")
        assert ap.inner_text("#report-overall") == "不符合"
        assert "v2" in ap.inner_text("#precheck-report")
        applicant.shot("standards-07-applicant-precheck-v2")
    finally:
        admin.context.close()
        applicant.context.close()
