"""An authority officer reads the reports, follows the process view down to a state's cases, and downloads
the reports as Excel; openpyxl reads the file back with the numbers the page showed.

The module serves the demo data set (seed/demo.py) instead of the small test cast: the reports need cases in
every stage, decided cases and a history of events.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import inspect
from sqlmodel import SQLModel

from seed.demo import DEMO_PASSWORD, load_demo
from workflow.db import Database
from workflow.models.attachments import Attachment

EXPECTED_STAGES = [2, 12, 9, 4, 8]
"""The demo's cases per big stage as the officer's reports count them (derived in tests/test_reports.py from
seed/demo_applicants.yaml): only cases the officer may see, so not the three drafts (an administrator's first
stage counts 5)."""


@pytest.fixture(scope="module")
def live_db(sqlite_template: Path, tmp_path_factory) -> Iterator[Database]:
    """The demo data set in a fresh database (overrides the cast-based fixture of conftest.py)."""
    directory = tmp_path_factory.mktemp("reports-journey")
    shutil.copyfile(sqlite_template, directory / "live.db")
    db = Database(f"sqlite:///{directory / 'live.db'}")
    if "attachment" not in inspect(db.engine).get_table_names():
        SQLModel.metadata.create_all(db.engine, tables=[Attachment.__table__])
    load_demo(db)
    yield db
    db.dispose()


def _cells(page, selector: str) -> list[list[str]]:
    """The body rows of a table as lists of cell texts."""
    return page.eval_on_selector_all(f"{selector} tbody tr",
                                     "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText.trim()))")


def test_officer_reports_process_view_and_excel(chromium, live_server, screenshot_dir, tmp_path):
    shots = screenshot_dir / "reports-journey"
    shots.mkdir(exist_ok=True)
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1360, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)  # e.g. CSP violations
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(live_server + "/login")
        page.fill("#username", "rst_officer")
        page.fill("#password", DEMO_PASSWORD)
        page.click("main form button[type=submit]")
        assert "/login" not in page.url

        # The navigation leads to the reports.
        page.click("nav.site-nav >> text=统计报表")
        page.wait_for_load_state()
        assert page.url.endswith("/reports/")
        stages = _cells(page, "#stage-table")
        assert [int(r[1]) for r in stages] == EXPECTED_STAGES
        firm_rates = _cells(page, "#rate-table-firm_type")
        assert len(page.locator("svg.report-chart").all()) >= 3
        page.screenshot(path=str(shots / "01-reports.png"), full_page=True)

        # The process view: the pipeline's diagram, then one state's cases.
        page.click("text=流程监控")
        page.wait_for_load_state()
        assert "/reports/process/" in page.url
        page.screenshot(path=str(shots / "02-process-index.png"), full_page=True)
        page.locator("a[href*='/reports/process/industry-session/']").first.click()
        page.wait_for_load_state()
        page.screenshot(path=str(shots / "03-process-version.png"), full_page=True)
        page.locator("svg a[href$='/formal_check']").first.click()
        page.wait_for_load_state()
        assert page.url.endswith("/formal_check")
        body = page.inner_text("main")
        assert "周敏" in body  # zhoumin's industry-session case waits in formal check
        page.screenshot(path=str(shots / "04-process-state.png"), full_page=True)

        # Back to the reports and download them as Excel.
        page.goto(live_server + "/reports/")
        shown_stages = _cells(page, "#stage-table")
        shown_rates = _cells(page, "#rate-table-firm_type")
        assert shown_stages == stages and shown_rates == firm_rates
        with page.expect_download() as info:
            page.click("#download-xlsx")
        download = info.value
        assert download.suggested_filename.endswith(".xlsx")
        target = tmp_path / download.suggested_filename
        download.save_as(target)
        book = load_workbook(target)
        rows = [list(r) for r in book["各阶段案件数"].iter_rows(min_row=2, values_only=True)]
        assert rows == [[r[0], int(r[1])] for r in shown_stages]
        rates = [list(r) for r in book["通过率（按企业类型）"].iter_rows(min_row=2, values_only=True)]
        assert [(r[0], r[1], r[2], f"{100 * r[5]:.1f}%") for r in rates] == [
            (r[0], int(r[1]), int(r[2]), r[5]) for r in shown_rates]
        assert not errors, errors
    finally:
        context.close()
