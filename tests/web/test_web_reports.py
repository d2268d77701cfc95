"""The reports page and the Excel exports: who may see them, what the workbook holds, and bad filter input."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from workflow.models import Case, Certificate, Organisation, ReviewSession, User, utcnow

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The demo's cases by big stage (see tests/test_reports.py for the derivation from seed/demo_applicants.yaml;
# the Hunan route examples hejj, zouht, longxb and duanlx account for 9 → 12 and 8 → 9).
EXPECTED_STAGES = {"submission": 5, "unit_recommendation": 12, "panel_review": 9, "result_publication": 4,
                   "closed": 8}
OFFICER_STAGES = {**EXPECTED_STAGES, "submission": 2}
"""What the officer counts: the same less the demo's three drafts, which are their applicants' private working
copies and outside an officer's scope (workflow.access.visibility); the administrator counts every case."""


class _Tables(HTMLParser):
    """Collects the cell texts of every ``<table id=…>`` of a page: {id: [[cell, …], …]} (body rows only)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._in_body = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self._table = attrs["id"]
            self.tables[self._table] = []
        elif tag == "tbody" and self._table:
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    """The page's tables with an id, as lists of body rows of cell texts."""
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def sheet_rows(book, title: str) -> list[list]:
    """A worksheet's rows below the header."""
    return [list(r) for r in book[title].iter_rows(min_row=2, values_only=True)]


@pytest.fixture
def reports_app(demo_app):
    """The demo app with the report clock fixed, so that a page and its download show the same durations."""
    demo_app.config["REPORTS_NOW"] = utcnow()
    return demo_app


@pytest.fixture
def officer(reports_app, demo_browser):
    """The demo's authority officer, signed in."""
    return demo_browser("rst_officer")


def test_officer_sees_the_stage_counts_and_charts(officer):
    response = officer.get("/reports/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    stage_rows = tables(html)["stage-table"]
    assert [int(r[1]) for r in stage_rows] == list(OFFICER_STAGES.values())
    assert html.count("<svg") >= 3  # stages, pass rates, time in state: server-rendered, no script
    assert "<script" not in html.split("<main", 1)[1]
    assert "rate-table-firm_type" in html and "wait-table" in html


def test_the_workbook_holds_the_page_numbers(officer):
    html = officer.get("/reports/").get_data(as_text=True)
    page = tables(html)
    response = officer.get("/reports/?format=xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="reports-') and ".xlsx" in disposition
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]).startswith("统计报表-")
    book = load_workbook(io.BytesIO(response.data))

    stages = sheet_rows(book, "各阶段案件数")
    assert [(r[0], r[1]) for r in stages] == [(r[0], int(r[1])) for r in page["stage-table"]]
    assert all(isinstance(r[1], int) for r in stages)  # typed numbers, not text

    states = sheet_rows(book, "各状态案件数")
    assert [(r[2], r[3]) for r in states] == [(r[2], int(r[3])) for r in page["state-table"]]

    for dimension, title in (("session", "通过率（按评审会）"), ("series", "通过率（按系列）"),
                             ("level", "通过率（按级别）"), ("pipeline", "通过率（按流程）"),
                             ("firm_type", "通过率（按企业类型）")):
        rows = sheet_rows(book, title)
        shown = page[f"rate-table-{dimension}"]
        assert len(rows) == len(shown) > 0
        for got, want in zip(rows, shown, strict=True):
            assert got[0] == want[0]
            assert got[1:5] == [int(x) for x in want[1:5]]
            assert f"{100 * got[5]:.1f}%" == want[5]
            assert book[title].cell(row=2, column=6).number_format == "0.0%"

    times = sheet_rows(book, "停留时间（工作日）")
    assert [(r[0], r[1], f"{r[2]:.2f}", f"{r[3]:.2f}", f"{r[4]:.2f}") for r in times] == [
        (r[0], int(r[1]), r[2], r[3], r[4]) for r in page["time-table"]]

    waits = sheet_rows(book, "等待最久")
    assert [(r[0], f"{r[7]:.2f}") for r in waits] == [(r[0], r[6]) for r in page["wait-table"]]
    assert len(waits) == 20


def test_firm_type_pass_rates_on_the_page(officer):
    # little giant 3/3, specialised 5/6, other 1/1 (see tests/test_reports.py EXPECTED_RATES).
    rows = tables(officer.get("/reports/").get_data(as_text=True))["rate-table-firm_type"]
    assert {r[0]: (int(r[1]), int(r[2]), r[5]) for r in rows} == {
        "专精特新“小巨人”": (3, 3, "100.0%"), "专精特新": (6, 5, "83.3%"), "其他企业": (1, 1, "100.0%")}


def test_session_filter(officer, demo_db):
    s = ReviewSession.__table__
    with demo_db.read() as conn:
        hrm = conn.execute(select(s.c.id).where(s.c.code.like("%-HRM"))).scalar_one()
    response = officer.get(f"/reports/?session={hrm}")
    assert response.status_code == 200
    rows = tables(response.get_data(as_text=True))["stage-table"]
    assert [int(r[1]) for r in rows] == [0, 1, 1, 1, 1]  # the four HRM cases
    book = load_workbook(io.BytesIO(officer.get(f"/reports/?session={hrm}&format=xlsx").data))
    assert [r[1] for r in sheet_rows(book, "各阶段案件数")] == [0, 1, 1, 1, 1]


def test_download_link_carries_the_filters(officer):
    html = officer.get("/reports/?format=html&pipeline=skill-bridging&from=2026-01-01&to=").get_data(as_text=True)
    link = html.split('id="download-xlsx" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert link.startswith("/reports/?") and "format=xlsx" in link and "format=html" not in link
    assert "pipeline=skill-bridging" in link and "from=2026-01-01" in link and "to=" not in link


def test_chart_labels_are_escaped():
    from web.reports import bar_chart

    svg = str(bar_chart([("<script>alert(1)</script>", 2.0, "<b>2</b>")], title='"t"'))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;2" in svg
    assert svg.startswith("<svg") and 'aria-label="&#34;t&#34;"' in svg


def test_administrator_sees_every_authority(reports_app, demo_browser):
    admin = demo_browser("rst_admin")
    rows = tables(admin.get("/reports/").get_data(as_text=True))["stage-table"]
    assert [int(r[1]) for r in rows] == list(EXPECTED_STAGES.values())


@pytest.mark.parametrize("username", ["zhangwei", "zhigui_hr", "rcfw", "zz_gxj", "chair_zhou", "expert_li", "wangjun"])
def test_other_roles_are_refused(reports_app, demo_browser, username):
    b = demo_browser(username)
    assert b.get("/reports/").status_code == 403
    assert b.get("/reports/?format=xlsx").status_code == 403


def test_anonymous_is_sent_to_sign_in(reports_app, demo_browser):
    response = demo_browser(None).get("/reports/")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


@pytest.mark.parametrize(("query", "message"), [
    ("from=2026-02-30", "不是有效日期"),
    ("to=yesterday", "不是有效日期"),
    ("from=2026-06-02&to=2026-06-01", "起始日期不能晚于截止日期"),
    ("session=abc", "评审会不存在"),
    ("session=99999", "评审会不存在"),
    ("session=" + "9" * 40, "评审会不存在"),
    ("from=0001-01-01", "年至"),
    ("to=9999-12-31", "年至"),
    ("pipeline=no-such", "流程不存在"),
    ("format=pdf", "不支持的导出格式"),
    ("from=2026-02-30&format=xlsx", "不是有效日期"),
])
def test_bad_filters_are_refused_with_a_message(officer, query, message):
    response = officer.get(f"/reports/?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_officer_cannot_pick_another_authoritys_session(reports_app, demo_db, demo_browser):
    # A second authority with its own session: its id is unknown to this officer's form, so it is refused.
    from workflow.models import ReviewSession as RS

    with demo_db.session(write=True) as s:
        other = Organisation(name="另一人社局", kind="authority")
        s.add(other)
        s.flush()
        session = RS(code="X-OTHER", name="他局评审会", year=2026, authority_org_id=other.id)
        s.add(session)
        s.flush()
        sid = session.id
    officer = demo_browser("rst_officer")
    assert officer.get(f"/reports/?session={sid}").status_code == 400
    assert demo_browser("rst_admin").get(f"/reports/?session={sid}").status_code == 200


def test_date_range_filter(officer):
    rows = tables(officer.get("/reports/?from=2000-01-01&to=2000-12-31").get_data(as_text=True))["stage-table"]
    assert [int(r[1]) for r in rows] == [0, 0, 0, 0, 0]


# --------------------------------------------------------------------------------------------- listings


def _book(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == XLSX
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    return load_workbook(io.BytesIO(response.data))


def test_authority_inbox_export_matches_the_queue(officer, demo_db):
    page = officer.get("/authority/?tab=formal_check").get_data(as_text=True)
    assert "/reports/export/authority-inbox?tab=formal_check" in page
    book = _book(officer.get("/reports/export/authority-inbox?tab=formal_check"))
    rows = sheet_rows(book, book.sheetnames[0])
    c = Case.__table__
    with demo_db.read() as conn:
        expected = set(conn.execute(select(c.c.reference).where(c.c.state == "formal_check")).scalars())
    assert {r[0] for r in rows} == expected and len(expected) == 3  # zhoumin, ouyangm, duanlx (skill bridging)


def test_certificate_register_export(officer, demo_db):
    book = _book(officer.get("/reports/export/certificates"))
    rows = sheet_rows(book, book.sheetnames[0])
    with demo_db.read() as conn:
        numbers = set(conn.execute(select(Certificate.__table__.c.number)).scalars())
    assert {r[0] for r in rows} == numbers and len(numbers) == 5  # four valid, luocheng's revoked
    assert sorted(r[5] for r in rows) == sorted(["有效"] * 4 + ["已撤销"])


def test_applicant_exports_only_own_cases(reports_app, demo_browser):
    book = _book(demo_browser("zhangwei").get("/reports/export/my-cases"))
    rows = sheet_rows(book, book.sheetnames[0])
    assert len(rows) == 2 and {r[1] for r in rows} == {"张伟"}


def test_unit_inbox_export(reports_app, demo_browser):
    # 株洲智轨's HR: unit review tab holds zouht (industry session, opened 4 days before loading, so listed
    # first) and xiejh (skill-bridging, 2 days); zhangwei's case is in correction, longxb's awaits the
    # recommendation.
    book = _book(demo_browser("zhigui_hr").get("/reports/export/unit-inbox?tab=review"))
    rows = sheet_rows(book, book.sheetnames[0])
    assert [r[1] for r in rows] == ["邹海涛", "谢建华"]


@pytest.mark.parametrize(("url", "table"), [("/reports/export/users", User), ("/reports/export/orgs", Organisation),
                                            ("/reports/export/sessions", ReviewSession)])
def test_admin_list_exports(reports_app, demo_browser, demo_db, url, table):
    book = _book(demo_browser("rst_admin").get(url))
    with demo_db.read() as conn:
        total = conn.execute(select(func.count()).select_from(table.__table__)).scalar_one()
    assert len(sheet_rows(book, book.sheetnames[0])) == total


def test_admin_lists_link_their_exports(reports_app, demo_browser):
    admin = demo_browser("rst_admin")
    assert "/reports/export/users" in admin.get("/admin/users").get_data(as_text=True)
    assert "/reports/export/orgs" in admin.get("/admin/orgs").get_data(as_text=True)
    assert "/reports/export/sessions" in admin.get("/admin/sessions").get_data(as_text=True)
    assert "/reports/" in admin.get("/admin/").get_data(as_text=True)  # navigation link


def test_reports_in_english(officer):
    officer.get("/lang/en")
    html = officer.get("/reports/").get_data(as_text=True)
    assert "Cases per stage" in html and "Pass rate by Firm type" in html
