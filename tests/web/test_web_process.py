"""The live process view: counts per pipeline version and state, the diagram's badges and links, the case lists
with pagination and Excel export, who may see what, and clean refusals of bad input.

Expected numbers are computed independently of the view's GROUP BY queries (every case read through the ORM
and counted in Python), and a few are written down by hand from the demo's case specs (seed/demo_applicants.yaml).
"""

from __future__ import annotations

import io
import re
from collections import Counter, deque
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import select
from webhelpers import Browser, make_app

from seed.demo import DEMO_PASSWORD
from workflow.access.roles import SYSTEM
from workflow.directory import create_org, create_user
from workflow.engine import core as engine
from workflow.models import Case, Organisation, utcnow
from workflow.pipeline.catalog import get_pipeline
from workflow.time.calendar import CHINA_TZ
from workflow.time.workdays import calendar_from_db

BASE = "/reports/process"

# ----------------------------------------------------------------------------------------------- page parsing

_INDEX_ROW = re.compile(r'<tr data-pipeline="([^"]+)" data-version="(\d+)">(.*?)</tr>', re.S)
_SVG_STATE = re.compile(r'<g class="state[^"]*" data-state="([^"]+)" data-count="(\d+)"><title>[^<]*</title>'
                        r'<a href="([^"]+)"')
_TABLE_STATE = re.compile(r'<tr data-state="([^"]+)"[^>]*>\s*<th[^>]*><a href="([^"]+)">.*?data-count="(\d+)"', re.S)
_CASE_ROW = re.compile(r'<tr data-case="(\d+)">')


def index_rows(html: str) -> dict[tuple[str, int], dict[str, str]]:
    """The overview table as {(pipeline, version): {"open", "closed", "total"}} (cells as text)."""
    out = {}
    for pid, version, body in _INDEX_ROW.findall(html):
        cells = dict(re.findall(r'data-col="(\w+)">([^<]*)<', body))
        out[(pid, int(version))] = cells
    return out


def svg_states(html: str) -> dict[str, tuple[int, str]]:
    """Every state box of the live diagram: {state: (badge count, link)}."""
    svg = re.search(r"<svg.*?</svg>", html, re.S)
    assert svg, "no diagram on the page"
    return {state: (int(n), href) for state, n, href in _SVG_STATE.findall(svg.group(0))}


def table_states(html: str) -> dict[str, tuple[int, str]]:
    """The accessible table of the same page: {state: (count, link)}."""
    return {state: (int(n), href) for state, href, n in _TABLE_STATE.findall(html)}


def listed_cases(html: str) -> list[int]:
    """Case ids in a state list, in page order."""
    return [int(i) for i in _CASE_ROW.findall(html)]


# ----------------------------------------------------------------------------------------------- expectations


def expected_counts(db, authority_org_id: int | None = None) -> Counter:
    """Cases per (pipeline, version, state) counted one by one: all of them, or an officer's (submitted only)."""
    counts: Counter = Counter()
    with db.session() as s:
        for case in s.exec(select(Case)):
            if authority_org_id is not None and (case.authority_org_id != authority_org_id
                                                 or case.submitted_at is None):
                continue
            counts[(case.pipeline_id, case.pipeline_version, case.state)] += 1
    return counts


def case_ids_in(db, pipeline_id: str, version: int, state: str) -> set[int]:
    """Ids of every case of (pipeline, version) in ``state`` (no scope)."""
    with db.session() as s:
        return set(s.exec(select(Case.id).where(Case.pipeline_id == pipeline_id, Case.pipeline_version == version,
                                                Case.state == state)))


def org_id(db, name: str) -> int:
    """An organisation's id by name."""
    with db.session() as s:
        return s.exec(select(Organisation.id).where(Organisation.name == name)).one()


AUTHORITY = "湖南省人力资源和社会保障厅"


def demo_version(db) -> int:
    """The industry-session version the demo's cases run on (the only one they use)."""
    with db.session() as s:
        versions = set(s.exec(select(Case.pipeline_version).where(Case.pipeline_id == "industry-session")))
    assert len(versions) == 1
    return versions.pop()


# ----------------------------------------------------------------------------------------------- overview


def test_overview_counts_match_a_case_by_case_count(demo_db, demo_browser):
    html = demo_browser("rst_admin").get(f"{BASE}/").get_data(as_text=True)
    rows = index_rows(html)
    expected = expected_counts(demo_db)
    assert rows, html[:500]
    versions = {(pid, v) for pid, v, _ in expected}
    assert versions <= set(rows)
    for (pid, v), cells in rows.items():
        finals = set(get_pipeline(demo_db, pid, v).finals)
        total = sum(n for (p, ver, _), n in expected.items() if (p, ver) == (pid, v))
        closed = sum(n for (p, ver, st), n in expected.items() if (p, ver) == (pid, v) and st in finals)
        assert cells == {"open": str(total - closed), "closed": str(closed), "total": str(total)}, (pid, v)
    # By hand from the demo specs: 38 cases, 23 of them in the industry session; four of those have ended
    # (one certificate, one certificate later revoked, one withdrawal, one objection upheld -> rejected).
    # The Hunan route examples account for 4 of the 38: hejj and zouht (industry session, unit review), longxb
    # and duanlx (skill bridging).
    v = demo_version(demo_db)
    assert sum(int(c["total"]) for c in rows.values()) == 38
    assert rows[("industry-session", v)] == {"open": "19", "closed": "4", "total": "23"}


def test_an_officer_counts_submitted_cases_of_their_authority_only(demo_db, demo_browser):
    html = demo_browser("rst_officer").get(f"{BASE}/").get_data(as_text=True)
    rows = index_rows(html)
    expected = expected_counts(demo_db, org_id(demo_db, AUTHORITY))
    for (pid, v), cells in rows.items():
        assert int(cells["total"]) == sum(n for (p, ver, _), n in expected.items() if (p, ver) == (pid, v))
    # The demo's three drafts (industry session, skill bridging, fallback filing) are the applicants' own
    # (38 − 3; the industry session's 23 − 1, hejj and zouht included).
    assert sum(int(c["total"]) for c in rows.values()) == 35
    assert rows[("industry-session", demo_version(demo_db))]["total"] == "22"


# ----------------------------------------------------------------------------------------------- diagram


def test_diagram_badges_table_and_database_agree(demo_db, demo_browser):
    v = demo_version(demo_db)
    html = demo_browser("rst_admin").get(f"{BASE}/industry-session/{v}").get_data(as_text=True)
    pipeline = get_pipeline(demo_db, "industry-session", v)
    badges, table = svg_states(html), table_states(html)
    expected = expected_counts(demo_db)
    assert set(badges) == set(table) == set(pipeline.state_map)
    for state in pipeline.state_map:
        want = expected[("industry-session", v, state)]
        assert badges[state][0] == table[state][0] == want, state
        assert badges[state][1] == table[state][1] == f"{BASE}/industry-session/{v}/{state}"
    # Hand counts: two cases in panel pre-review (one per session), none at the defence, one draft.
    assert badges["pre_review"][0] == 2 and badges["defence"][0] == 0 and badges["draft"][0] == 1
    assert 'data-state="pre_review" data-count="2"' in html
    assert "state-busy" in html  # occupied states are emphasised
    assert 'data-total="all">合计 23 件' in html  # 21 + hejj and zouht (unit review)


def test_the_officers_diagram_leaves_out_drafts(demo_db, demo_browser):
    v = demo_version(demo_db)
    badges = svg_states(demo_browser("rst_officer").get(f"{BASE}/industry-session/{v}").get_data(as_text=True))
    assert badges["draft"][0] == 0
    assert badges["pre_review"][0] == 2
    assert sum(n for n, _ in badges.values()) == 22  # 23 industry-session cases less liuqiang's draft


def test_state_links_open_lists_of_exactly_those_cases(demo_db, demo_browser):
    v = demo_version(demo_db)
    b = demo_browser("rst_admin")
    badges = svg_states(b.get(f"{BASE}/industry-session/{v}").get_data(as_text=True))
    for state, (count, href) in badges.items():
        page = b.get(href)
        assert page.status_code == 200, state
        html = page.get_data(as_text=True)
        ids = listed_cases(html)
        assert len(ids) == count, state
        assert set(ids) == case_ids_in(demo_db, "industry-session", v, state)
        for case_id in ids:
            assert f'href="/cases/{case_id}"' in html
        assert f"共 {count} 件" in html
    # and the case pages those rows link to open for the reader
    first = listed_cases(b.get(f"{BASE}/industry-session/{v}/pre_review").get_data(as_text=True))[0]
    assert b.get(f"/cases/{first}").status_code == 200


def test_a_case_list_shows_entry_time_in_china_time_and_working_days(demo_db, demo_browser):
    v = demo_version(demo_db)
    html = demo_browser("rst_admin").get(f"{BASE}/industry-session/{v}/pre_review").get_data(as_text=True)
    with demo_db.session() as s:
        cases = s.exec(select(Case).where(Case.pipeline_id == "industry-session", Case.state == "pre_review")).all()
        for case in cases:
            entered = case.state_entered_at.replace(tzinfo=UTC) if case.state_entered_at.tzinfo is None \
                else case.state_entered_at
            assert entered.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") in html
            assert case.reference in html


# ----------------------------------------------------------------------------------------------- every state


def _route(pipeline, start: str, goal: str) -> tuple[str, str]:
    """The first (trigger, destination) of a shortest route from ``start`` to ``goal`` (side paths allowed)."""
    queue, seen = deque([(start, None)]), {start}
    while queue:
        state, first = queue.popleft()
        if state == goal:
            return first
        for t in pipeline.transitions:
            if state in t.source and t.dest not in seen:
                seen.add(t.dest)
                queue.append((t.dest, first or (t.trigger, t.dest)))
    raise AssertionError(f"{goal} unreachable from {start}")


def _one_case_in_every_state(world) -> dict[str, int]:
    """Open one industry-session case per state and drive each there through the engine; {state: case id}."""
    from driver import case_row, step

    pipeline = get_pipeline(world.db, "industry-session", get_version(world.db))
    placed = {}
    for s in pipeline.states:
        case_id = world.open("industry-session", superior=s.name == "superior_review",
                             **({"level": "正高"} if s.name == "defence" else {}))  # 正高 must defend
        for _ in range(60):
            now = case_row(world.db, case_id).state
            if now == s.name:
                break
            trigger, dest = _route(pipeline, now, s.name)
            if pipeline.by_trigger_source[(trigger, now)][0].roles == ["system"]:
                # What a timer would do, for this case alone (a tick would move the cases already placed).
                engine.fire(world.db, case_id, trigger, SYSTEM, now=utcnow() + timedelta(days=400))
            else:
                step(world, case_id, trigger, passing=dest != "not_passed")
        assert case_row(world.db, case_id).state == s.name
        placed[s.name] = case_id
    return placed


def get_version(db) -> int:
    """The newest stored version of the industry session."""
    from workflow.pipeline.catalog import latest_versions

    return latest_versions(db)["industry-session"]


def test_counts_with_a_case_in_every_state_including_final_ones(cast, browser):
    placed = _one_case_in_every_state(cast)
    v = get_version(cast.db)
    pipeline = get_pipeline(cast.db, "industry-session", v)
    assert set(placed) == set(pipeline.state_map) and len(pipeline.state_map) == 24
    admin = browser("admin")
    badges = svg_states(admin.get(f"{BASE}/industry-session/{v}").get_data(as_text=True))
    assert {state: n for state, (n, _) in badges.items()} == {state: 1 for state in pipeline.state_map}
    row = index_rows(admin.get(f"{BASE}/").get_data(as_text=True))[("industry-session", v)]
    # 24 states, five of them final (certified, closed_not_passed, rejected, withdrawn, revoked)
    assert row == {"open": "19", "closed": "5", "total": "24"}
    for state in ("certified", "revoked", "closed_not_passed", "not_passed"):
        html = admin.get(f"{BASE}/industry-session/{v}/{state}").get_data(as_text=True)
        assert listed_cases(html) == [placed[state]]
    # The officer sees the same less what was never submitted: the draft, and the case withdrawn as a draft
    # (the shortest way to "withdrawn"), which the officer could not open either.
    officer = browser("officer")
    row = index_rows(officer.get(f"{BASE}/").get_data(as_text=True))[("industry-session", v)]
    assert row == {"open": "18", "closed": "4", "total": "22"}
    badges = svg_states(officer.get(f"{BASE}/industry-session/{v}").get_data(as_text=True))
    expected = expected_counts(cast.db, cast.authority)
    assert {state: n for state, (n, _) in badges.items()} == {
        state: expected[("industry-session", v, state)] for state in pipeline.state_map}
    assert badges["draft"][0] == badges["withdrawn"][0] == 0 and badges["closed_not_passed"][0] == 1
    assert listed_cases(officer.get(f"{BASE}/industry-session/{v}/draft").get_data(as_text=True)) == []


# ----------------------------------------------------------------------------------------------- pagination


def test_lists_are_paginated(demo_db, tmp_path):
    app = make_app(demo_db, tmp_path, PER_PAGE=1)
    b = Browser(app.test_client(), DEMO_PASSWORD).login("rst_admin")
    v = demo_version(demo_db)
    url = f"{BASE}/industry-session/{v}/pre_review"
    first, second = (b.get(url).get_data(as_text=True), b.get(f"{url}?page=2").get_data(as_text=True))
    assert len(listed_cases(first)) == len(listed_cases(second)) == 1
    assert set(listed_cases(first) + listed_cases(second)) == case_ids_in(demo_db, "industry-session", v,
                                                                          "pre_review")
    assert f'href="{url}?page=2"' in first
    with demo_db.session() as s:  # longest waiting first
        entered = {c.id: c.state_entered_at for c in s.exec(select(Case).where(Case.state == "pre_review"))}
    assert entered[listed_cases(first)[0]] <= entered[listed_cases(second)[0]]
    # the export is the whole list, not one page
    book = load_workbook(io.BytesIO(b.get(f"{url}?format=xlsx&page=2").data))
    assert book.active.max_row == 3


@pytest.mark.parametrize("page", ["0", "-1", "abc", "3", "999999", "1e3", "９", "1.5", "99999999999999999999"])
def test_bad_page_numbers_are_refused_clearly(demo_db, tmp_path, page):
    app = make_app(demo_db, tmp_path, PER_PAGE=1)
    b = Browser(app.test_client(), DEMO_PASSWORD).login("rst_admin")
    response = b.get(f"{BASE}/industry-session/{demo_version(demo_db)}/pre_review?page={page}")
    assert response.status_code == 400
    assert "页码" in response.get_data(as_text=True)


# ----------------------------------------------------------------------------------------------- export


def test_xlsx_export_reads_back_with_the_listed_values(demo_db, demo_browser):
    v = demo_version(demo_db)
    response = demo_browser("rst_admin").get(f"{BASE}/industry-session/{v}/pre_review?format=xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    today = utcnow().astimezone(CHINA_TZ).date()
    assert f"process-industry-session-v{v}-pre_review-{today.isoformat()}.xlsx" in \
        response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("申报编号", "申报人", "推荐单位", "申报职称", "评审会", "进入本环节时间（北京时间）",
                       "在本环节工作日")
    with demo_db.session() as s:
        cases = {c.reference: c for c in s.exec(select(Case).where(Case.pipeline_id == "industry-session",
                                                                   Case.state == "pre_review"))}
        with demo_db.read() as conn:
            calendar = calendar_from_db(conn)
    assert len(rows) == 1 + len(cases) == 3
    for reference, _name, _unit, title, _session, entered, days in rows[1:]:
        case = cases[reference]
        assert title == case.target_title
        at = case.state_entered_at if case.state_entered_at.tzinfo else case.state_entered_at.replace(tzinfo=UTC)
        local = at.astimezone(CHINA_TZ).replace(tzinfo=None)
        assert isinstance(entered, datetime) and abs(entered - local) < timedelta(seconds=1)
        # working days after the day of entry up to today, counted day by day
        day, count = local.date(), 0
        while day < today:
            day += timedelta(days=1)
            count += calendar.is_working_day(day)
        assert days == count


def test_an_empty_state_exports_only_the_header(demo_db, demo_browser):
    v = demo_version(demo_db)
    response = demo_browser("rst_officer").get(f"{BASE}/industry-session/{v}/defence?format=xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert len(rows) == 1


def test_unknown_export_format_is_refused(demo_db, demo_browser):
    response = demo_browser("rst_admin").get(f"{BASE}/industry-session/{demo_version(demo_db)}/pre_review"
                                             "?format=pdf")
    assert response.status_code == 400 and "xlsx" in response.get_data(as_text=True)


# ----------------------------------------------------------------------------------------------- access


def test_an_officer_of_another_authority_sees_none(demo_db, demo_app):
    with demo_db.session(write=True) as s:
        other = create_org(s, "湘潭市人力资源和社会保障局", "authority", region="湘潭")
        create_user(s, "xt_officer", "湘潭职改办", ["authority_officer"], org=other, password=DEMO_PASSWORD)
    b = Browser(demo_app.test_client(), DEMO_PASSWORD).login("xt_officer")
    rows = index_rows(b.get(f"{BASE}/").get_data(as_text=True))
    assert rows and all(c == {"open": "0", "closed": "0", "total": "0"} for c in rows.values())
    v = demo_version(demo_db)
    html = b.get(f"{BASE}/industry-session/{v}").get_data(as_text=True)
    assert all(n == 0 for n, _ in svg_states(html).values())
    assert "state-busy" not in html
    for state in ("pre_review", "certified", "rejected"):
        assert listed_cases(b.get(f"{BASE}/industry-session/{v}/{state}").get_data(as_text=True)) == []
    xlsx = load_workbook(io.BytesIO(b.get(f"{BASE}/industry-session/{v}/pre_review?format=xlsx").data))
    assert xlsx.active.max_row == 1


def test_an_officer_without_an_organisation_sees_none(demo_db, demo_app):
    with demo_db.session(write=True) as s:
        create_user(s, "loose_officer", "无机构职改办", ["authority_officer"], password=DEMO_PASSWORD)
    b = Browser(demo_app.test_client(), DEMO_PASSWORD).login("loose_officer")
    rows = index_rows(b.get(f"{BASE}/").get_data(as_text=True))
    assert all(c["total"] == "0" for c in rows.values())


@pytest.mark.parametrize("username", ["zhangwei", "zhigui_hr", "zz_gxj", "rcfw", "expert_li", "chair_zhou"])
def test_other_roles_are_refused(demo_db, demo_browser, username):
    v = demo_version(demo_db)
    b = demo_browser(username)
    for url in (f"{BASE}/", f"{BASE}/industry-session/{v}", f"{BASE}/industry-session/{v}/pre_review",
                f"{BASE}/industry-session/{v}/pre_review?format=xlsx"):
        assert b.get(url).status_code == 403, url


def test_anonymous_visitors_are_sent_to_sign_in(demo_db, demo_browser):
    response = demo_browser().get(f"{BASE}/industry-session/{demo_version(demo_db)}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# ----------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("path", [
    "/no-such-pipeline/1", "/industry-session/99", "/industry-session/0", "/industry-session/99999999999999999999",
    "/industry-session/{v}/no_such_state", "/industry-session/99/pre_review", "/" + "x" * 500 + "/1",
    "/industry-session/{v}/%E2%80%AE%00", "/%27%3B--/{v}", "/industry-session/{v}/" + "y" * 300,
])
def test_unknown_pipelines_versions_and_states_are_404(demo_db, demo_browser, path):
    response = demo_browser("rst_admin").get(BASE + path.format(v=demo_version(demo_db)))
    assert response.status_code == 404


@pytest.mark.parametrize("query", ["format=", "format=XLSX", "page=&format=xlsx", "page=%00", "page=1&page=2",
                                   "format=xlsx&format=html", "q=%FF%FE"])
def test_junk_query_strings_never_fail(demo_db, demo_browser, query):
    response = demo_browser("rst_admin").get(f"{BASE}/industry-session/{demo_version(demo_db)}/pre_review?{query}")
    assert response.status_code in (200, 400)


def test_the_pages_read_in_english(demo_db, demo_browser):
    b = demo_browser("rst_admin")
    b.client.set_cookie("lang", "en")
    html = b.get(f"{BASE}/industry-session/{demo_version(demo_db)}").get_data(as_text=True)
    # 23 industry-session cases (21 + the route examples hejj and zouht, see the overview test)
    assert "Diagram (live counts)" in html and "Panel pre-review" in html and "23 in total" in html
    assert "Panel pre-review: 2 cases" in html


def test_the_case_page_diagram_is_unchanged(app, cast, browser):
    """The case page still draws its pipeline with the current state highlighted and no counts."""
    case_id = cast.open("industry-session")
    html = browser("zhang").get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'data-current="true"' in html and 'role="img"' in html and "count-badge" not in html



def test_the_queries_agree_on_sqlite_and_postgresql(any_db):
    """The grouped counts and the list, straight from workflow.records.process_view, on both database engines."""
    from seed.cast import build_world
    from workflow.access.roles import Actor
    from workflow.access.visibility import VisibleCases, visible_cases
    from workflow.records import process_view

    def officer(org_id):  # an authority officer's scope: their authority's submitted cases
        with any_db.read() as conn:
            return visible_cases(conn, any_db, Actor(user_id=-1, roles=frozenset({"authority_officer"}),
                                                     org_id=org_id))

    world = build_world(any_db)
    placed = _one_case_in_every_state(world)
    v = get_version(any_db)
    finals = set(get_pipeline(any_db, "industry-session", v).finals)
    for scope, authority in ((VisibleCases.all_cases(), None), (officer(world.authority), world.authority),
                             (officer(world.employer), world.employer), (officer(None), -1)):
        expected = expected_counts(any_db, authority)
        with any_db.read() as conn:
            got = process_view.state_counts(conn, "industry-session", v, scope)
        assert got == {st: n for (pid, ver, st), n in expected.items() if (pid, ver) == ("industry-session", v)}
        overview = {(r.pipeline_id, r.version): r for r in process_view.versions_overview(any_db, scope)}
        row = overview[("industry-session", v)]
        assert (row.total, row.closed) == (sum(got.values()), sum(n for st, n in got.items() if st in finals))
        assert row.open == row.total - row.closed
    with any_db.read() as conn:
        page = process_view.cases_in_state(conn, "industry-session", v, "revoked", VisibleCases.all_cases())
        empty = process_view.cases_in_state(conn, "industry-session", v, "revoked", officer(None))
    assert [r["id"] for r in page.rows] == [placed["revoked"]] and page.total == 1 and page.pages == 1
    assert page.rows[0]["state_entered_at"].tzinfo is not None
    assert empty.rows == [] and empty.total == 0
