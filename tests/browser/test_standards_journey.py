"""A new occupation's standard, written in the structured editor and in force at once (rules.md §5, 22号
measure 5), as a new administrator would work.

The administrator copies the Hunan SME senior standard, renames it for 智能网联汽车, changes the years of one
route and the k of achievements in form fields, meets a Chinese error beside the field for an impossible value,
previews two saved profiles (current version against the draft), and publishes. An applicant in a session that
accepts the new standard pre-checks against it and sees the new numbers with their policy basis and no source
tags; the comparison page shows exactly the two changed numbers. The applicant then opens a case and submits it
under v1; the administrator publishes a stricter v2 as a revision; the submitted case keeps v1 and v1's verdict,
while a new pre-check uses v2.
"""

from __future__ import annotations

import re

from livehelpers import Person
from pdfs import make_pdf
from sqlalchemy import select

from workflow.eligibility import standards_store
from workflow.eligibility.gate import latest_reports
from workflow.models import Case, ReviewSession

SID = "smart-vehicle-senior"
HUNAN = "hunan-sme-advanced-manufacturing-senior"
PDF = make_pdf()



def _case(db, case_id: int) -> dict:
    with db.read() as conn:
        return dict(conn.execute(select(Case.__table__).where(Case.__table__.c.id == case_id)).mappings().one())


def _submission_report(db, case_id: int) -> dict:
    with db.read() as conn:
        return latest_reports(conn, case_id)["submission"]["report"]


def test_a_new_occupation_standard_from_a_copy_in_force_at_once_and_pinned_cases_keep_their_version(
        chromium, live_server, live_db, screenshot_dir, tmp_path):
    admin = Person(chromium, live_server, "admin", screenshot_dir)
    applicant = Person(chromium, live_server, "zhang", screenshot_dir)
    p, ap = admin.page, applicant.page
    try:
        # the applicant has the new-case form open before the standard exists
        applicant.go("/applicant/cases/new")
        assert SID not in ap.inner_html("#standard_id")

        # the administrator copies the Hunan SME senior standard
        admin.go("/admin/")
        admin.click("#admin-standards-link")
        admin.click("#new-standard")
        p.select_option("#copy", HUNAN)
        admin.click("#copy-button")
        assert "/admin/standards/drafts/" in p.url, p.url
        with live_db.read() as conn:
            hunan_version = standards_store.latest_version(conn, HUNAN)
        # … renames it for the new occupation and changes two numbers, in form fields (no YAML)
        p.fill("#f-id", SID)
        p.fill("#f-name-zh", "智能网联汽车专业高级工程师评价标准")
        p.fill("#f-name-en", "")
        p.fill("#f-specialty", "智能网联汽车")
        assert p.input_value("#f-education_routes-1-ladder_years-value") == "5"
        p.fill("#f-education_routes-1-ladder_years-value", "4")
        # an impossible value first: 9 of only 8 items
        p.fill("#f-achievements-k-value", "9")
        admin.shot("standards-01-admin-copy-edited")
        p.click("#publish-button")
        p.wait_for_load_state()
        assert admin.errors == ["Failed to load resource: the server responded with a status of 422 "
                                "(UNPROCESSABLE ENTITY)"]  # the answer to a refused form, nothing else
        admin.errors.clear()
        error = p.inner_text("#f-achievements-k-error")
        assert "要求具备9条，但只列出了8条" in error, error
        assert p.get_attribute("#f-achievements-k-value", "aria-invalid") == "true"
        assert p.input_value("#f-education_routes-1-ladder_years-value") == "4"  # nothing typed is lost
        admin.shot("standards-02-admin-field-error")
        p.fill("#f-achievements-k-value", "2")
        admin.click("#save-button")
        # the editor notices that the two numbers changed while their sources still quote the old rule
        warning = p.inner_text("#f-education_routes-1-ladder_years-warning")
        assert "数值已由 5 改为 4" in warning, warning
        assert "数值已由 1 改为 2" in p.inner_text("#f-achievements-k-warning")
        p.select_option("#f-education_routes-1-ladder_years-tag", "C")
        p.fill("#f-education_routes-1-ladder_years-source",
               "智能网联汽车专业：具备硕士学位或大学本科学历，取得工程师职称后满4年")
        p.fill("#f-achievements-k-source", "智能网联汽车专业：常规申报具备业绩成果中的2项")
        p.fill("#f-education_routes-1-label-zh", "具备硕士学位或大学本科学历，取得工程师后满4年")
        # … previews two saved profiles: the verdict under the standard copied and under the draft
        p.check("#draft-preview input[name=preview_user] >> nth=0")
        p.check("#draft-preview input[name=preview_user] >> nth=1")
        admin.click("#preview-button")
        assert p.locator("#preview-table tbody tr").count() == 2
        assert p.locator("#preview-table .preview-current .badge").count() == 2
        assert p.locator("#preview-table .preview-draft .badge").count() == 2
        admin.shot("standards-03-admin-preview-two-profiles")
        admin.click("#publish-button")
        assert p.url.endswith(f"/admin/standards/{SID}/v1"), p.url
        assert p.inner_text("#standard-version") == "v1"
        admin.shot("standards-04-admin-published-v1")

        # the comparison with the standard it was copied from shows exactly the two changed numbers
        admin.go(f"/admin/standards/compare?left={HUNAN}@{hunan_version}&right={SID}@1")
        numbers = p.locator("#diff-criteria .diff-changed.diff-number")
        assert numbers.count() == 2, p.inner_text("main")
        years, k = numbers.all_inner_texts()
        assert "5" in years and "4" in years and "1" in k and "2" in k
        assert p.locator("#diff-criteria .diff-changed").count() == 3  # and the route's label, reworded
        assert "其中数值 2 处" in p.inner_text("main")
        admin.shot("standards-05-admin-compare")

        # the administrator lets the rail session accept it (a session takes only its listed standards)
        with live_db.read() as conn:
            rail = conn.execute(select(ReviewSession.__table__.c.id)
                                .where(ReviewSession.__table__.c.code == "2026-RAIL")).scalar_one()
        admin.go(f"/admin/sessions/{rail}")
        p.check(f"input[name=standard_ids][value={SID}]")
        admin.click("main form button[type=submit]")

        # the applicant sees it at once and pre-checks: the new numbers, the policy basis, no tags
        applicant.go("/applicant/cases/new")
        assert SID in ap.inner_html("#standard_id")
        applicant.go(f"/applicant/precheck?session_id={rail}&standard_id={SID}&route=normal")
        report = ap.inner_text("#precheck-report")
        assert "取得工程师已满 4 年" in report and "须具备业绩成果 2 项" in report, report
        assert "本评价标准规定：智能网联汽车专业：具备硕士学位或大学本科学历，取得工程师职称后满4年" in report
        assert "依据：智能网联汽车专业：常规申报具备业绩成果中的2项" in report
        assert "[S]" not in report and "[C]" not in report and "[R]" not in report and "请按政策修改" not in report
        applicant.shot("standards-06-applicant-precheck-new-numbers")

        # … opens a case against it and submits (v1 is pinned with its verdict)
        applicant.go("/applicant/cases/new")
        ap.select_option("#pipeline_id", "industry-session")
        ap.select_option("#session_id", label="2026年湘产专场·轨道交通装备")
        ap.select_option("#level", "副高")
        ap.fill("#target_title", "高级工程师")
        ap.select_option("#standard_id", SID)
        ap.fill("#specialty", "智能网联汽车")
        applicant.click("main form:not(#new-case-precheck) button[type=submit]")
        match = re.search(r"/cases/(\d+)", ap.url)
        assert match, ap.url
        case_id = int(match.group(1))
        applicant.upload_required(live_db, case_id, tmp_path, PDF)
        applicant.go(f"/cases/{case_id}")
        ap.locator("#action-submit button[type=submit]").click()
        ap.wait_for_load_state()
        assert ap.locator("#action-error").count() == 0, ap.locator("#action-error").inner_text()
        assert _case(live_db, case_id)["standard_version"] == 1
        v1_verdict = _submission_report(live_db, case_id)["overall"]

        # the administrator revises it: v2 asks for all 8 achievement items
        admin.go(f"/admin/standards/{SID}/v1")
        admin.click("#edit-standard")
        admin.click("#start-revision")
        for k in ("achievements-k", "direct-achievements_k", "exceptional-achievements_k"):
            p.fill(f"#f-{k}-value", "8")
        admin.click("#publish-button")
        assert p.url.endswith(f"/admin/standards/{SID}/v2"), p.url
        admin.shot("standards-07-admin-published-v2")

        # the submitted case keeps v1 and v1's verdict; a new pre-check uses v2 and fails
        applicant.go(f"/cases/{case_id}")
        assert "智能网联汽车专业高级工程师评价标准 v1" in ap.inner_text("main dl")
        assert _submission_report(live_db, case_id)["standard_version"] == 1
        assert _submission_report(live_db, case_id)["overall"] == v1_verdict
        applicant.shot("standards-08-applicant-case-keeps-v1")
        applicant.go(f"/applicant/precheck?session_id={rail}&standard_id={SID}&route=normal")
        assert ap.inner_text("#report-overall") == "不符合"
        assert "v2" in ap.inner_text("#precheck-report")
        applicant.shot("standards-09-applicant-precheck-v2")
    finally:
        admin.context.close()
        applicant.context.close()
