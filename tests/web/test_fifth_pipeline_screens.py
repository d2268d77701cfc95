"""A fifth pipeline, given only as a YAML file in the test fixtures, reaches every screen (issue 16).

talent-express runs the shared review chain under state names nothing in ``web/`` or ``workflow/`` knows. A
case on it is moved along through the core (tests/driver.py) and, in every state, each role's pages are read
through the Flask test client: the applicant's list, the unit's and the authority's inbox tabs (in the right
tab and no other), the committee's pages, the unit and public notices, the reports and the process view.
tests/browser/test_fifth_pipeline_journey.py walks the same chain in Chromium; this catches a regression
without a browser.
"""

from __future__ import annotations

import pytest
from driver import happy_path, step
from fifth_pipeline import (
    FIFTH_FILE,
    FIFTH_ID,
    FIFTH_LABEL,
    FIFTH_STANDARD,
    Look,
    case_reference,
    install_fifth_pipeline,
    looks,
)
from webhelpers import PASSWORD, Browser, make_app

from seed.cast import World, read_world
from workflow.db import Database
from workflow.pipeline.catalog import get_pipeline, latest_versions, sync_pipelines


@pytest.fixture
def fifth_world(cast_db: Database, tmp_path) -> World:
    """The test cast with talent-express stored beside the shipped pipelines and taken by the cast's session."""
    install_fifth_pipeline(cast_db, tmp_path / "definitions")
    return read_world(cast_db)


@pytest.fixture
def read_page(fifth_world: World, tmp_path):
    """``read_page(username, path)``: the page's HTML as that person (None: anonymous) sees it; not a 200 fails."""
    app = make_app(fifth_world.db, tmp_path)
    clients: dict[str | None, Browser] = {}

    def read(username: str | None, path: str) -> str:
        """The page at ``path`` as ``username`` sees it."""
        if username not in clients:
            client = Browser(app.test_client(), PASSWORD)
            clients[username] = client.login(username) if username else client
        response = clients[username].get(path)
        assert response.status_code == 200, f"{username} {path}: {response.status_code}"
        return response.get_data(as_text=True)

    return read


def _problems(read_page, checks: list[Look]) -> list[str]:
    """What the pages show wrongly, each page read once."""
    pages: dict[tuple[str | None, str], str] = {}
    problems = []
    for look in checks:
        key = (look.who, look.path)
        if key not in pages:
            pages[key] = read_page(*key)
        problem = look.problem(pages[key])
        if problem:
            problems.append(problem)
    return problems


def _open(world: World) -> int:
    return world.open(FIFTH_ID, standard_id=FIFTH_STANDARD, level="副高")


def test_the_fifth_pipeline_is_stored_beside_the_shipped_ones(fifth_world):
    versions = latest_versions(fifth_world.db)
    assert versions[FIFTH_ID] == 1 and {"industry-session", "skill-bridging", "exceptional-senior",
                                        "fallback-filing"} <= set(versions)
    assert get_pipeline(fifth_world.db, FIFTH_ID, 1).label.zh == FIFTH_LABEL


def test_a_draft_is_only_on_the_applicants_own_list(fifth_world, read_page):
    case_id = _open(fifth_world)
    ref = case_reference(fifth_world.db, case_id)
    assert ref in read_page("zhang", "/applicant/")
    for who, path in (("unit_hr", "/unit/?tab=all"), ("officer", "/authority/?tab=all"),
                      ("officer", f"/reports/process/{FIFTH_ID}/1/dossier_draft")):
        assert ref not in read_page(who, path), f"a draft on {who}'s {path}"


def test_every_screen_finds_the_case_in_every_state_of_the_chain(fifth_world, read_page):
    db = fifth_world.db
    case_id = _open(fifth_world)
    visited = []
    for trigger in happy_path(get_pipeline(db, FIFTH_ID, 1), "title_granted"):
        step(fifth_world, case_id, trigger)
        state = _state(db, case_id)
        visited.append(state)
        problems = _problems(read_page, looks(db, case_id, state))
        assert not problems, (state, problems)
    assert visited[-1] == "title_granted" and {"hr_check", "expert_reading", "ballot_round",
                                               "public_listing"} <= set(visited)
    reports = read_page("officer", "/reports/")
    # the pass rate by pipeline counts it as decided, passed and certified; time in state names its own states
    assert f"<tr><td>{FIFTH_LABEL}</td><td class=\"text-end num\">1</td><td class=\"text-end num\">1</td>" \
           f"<td class=\"text-end num\">0</td><td class=\"text-end num\">1</td>" in reports
    assert '<tr data-key="hr_check"><td>人事初审</td>' in reports


def test_the_checks_notice_a_case_shown_in_the_wrong_place(fifth_world, read_page):
    """Read against the unit review while the case is already at the authority's formal check, the checks
    report the unit's tab, the authority's tab and the report stage: they can fail."""
    db = fifth_world.db
    case_id = _open(fifth_world)
    for trigger in happy_path(get_pipeline(db, FIFTH_ID, 1), "intake_check"):
        step(fifth_world, case_id, trigger)
    problems = _problems(read_page, looks(db, case_id, "hr_check"))
    assert any("unit_hr /unit/?tab=review: case in tab review missing" in p for p in problems), problems
    assert any("unit_hr /unit/?tab=progress: case in tab progress shown" in p for p in problems), problems
    assert any("officer /authority/?tab=formal_check: case in tab formal_check shown" in p for p in problems)
    assert any("report stage unit_recommendation missing" in p for p in problems), problems
    assert not _problems(read_page, looks(db, case_id, "intake_check"))


def test_a_case_that_fails_the_vote_waits_in_the_authoritys_appeal_tab(fifth_world, read_page):
    db = fifth_world.db
    case_id = _open(fifth_world)
    path = happy_path(get_pipeline(db, FIFTH_ID, 1), "ballot_round")
    for trigger in path:
        step(fifth_world, case_id, trigger)
    step(fifth_world, case_id, "close_ballot", passing=False)
    assert _state(db, case_id) == "unsuccessful"
    assert not _problems(read_page, looks(db, case_id, "unsuccessful"))
    reports = read_page("officer", "/reports/")
    assert f"<tr><td>{FIFTH_LABEL}</td><td class=\"text-end num\">1</td><td class=\"text-end num\">0</td>" \
           f"<td class=\"text-end num\">1</td>" in reports


def _state(db: Database, case_id: int) -> str:
    from driver import case_row

    return case_row(db, case_id).state


def test_the_applicants_self_check_follows_the_pipelines_route_not_its_id(fifth_world, read_page, tmp_path):
    """A pipeline on the bridging route under an id of its own gets the bridging self-check on the new-case
    page (it used to be tied to the shipped pipeline's id)."""
    directory = tmp_path / "bridging" / "pipelines"
    directory.mkdir(parents=True)
    text = FIFTH_FILE.read_text(encoding="utf-8").replace(f"id: {FIFTH_ID}", "id: talent-bridge")
    (directory / "talent-bridge.yaml").write_text(text.replace("route: normal", "route: bridging"), encoding="utf-8")
    assert sync_pipelines(fifth_world.db, directory) == [("talent-bridge", 1)]
    assert get_pipeline(fifth_world.db, "talent-bridge", 1).route == "bridging"
    bridging_check = "贯通评价：持有高级工及以上职业技能等级证书"
    assert bridging_check in read_page("zhang", "/applicant/cases/new?pipeline=talent-bridge")
    assert bridging_check not in read_page("zhang", f"/applicant/cases/new?pipeline={FIFTH_ID}")
