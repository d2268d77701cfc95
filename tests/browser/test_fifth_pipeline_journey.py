"""The fifth pipeline end to end in a real browser (issue 16, "Done when", first bullet).

talent-express exists only as tests/fixtures/pipelines/talent-express.yaml: the shared review chain under state
names of its own (hr_check, hr_notice, expert_reading, ballot_round, public_listing, title_granted …) that
nothing in ``web/`` or ``workflow/`` knows. The live server's database stores it beside the shipped pipelines,
as a deployment's sync would, and a case on it goes through every role's pages: the applicant creates it,
uploads the required materials and submits; the unit reviewer finds it in the unit inbox, approves it into the
unit notice (which a colleague sees) and, once the notice has run, recommends it; the superior department
approves; the officer finds it under the formal check and the re-check; the committee gives its opinions and
votes at the sitting; the public sees the result notice; the officer files and issues the certificate; the
reports and the process view count it under its own states. At every step the page of the role that acts must
list the case (tests/fifth_pipeline.py says where). Only the passing of time is simulated, by the timer tick
as ``titlereview tick`` runs it.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fifth_pipeline import FIFTH_ID, FIFTH_LABEL, FIFTH_STANDARD, case_reference, install_fifth_pipeline, looks
from livehelpers import Person, case_state, close_ballot_confirmed, read_key_shares
from pdfs import make_pdf
from sqlalchemy import select

from workflow.engine import timers
from workflow.models import Case, CommitteeSeat, User, utcnow
from workflow.panel import prereview
from workflow.pipeline.catalog import get_pipeline

pytestmark = pytest.mark.browser

PDF = make_pdf()
SESSION_LABEL = "2026年湘产专场·轨道交通装备"
"""The cast's session (it takes talent-express once the fixture below adds it)."""


@pytest.fixture(scope="module")
def live_db(live_db, tmp_path_factory):
    """The browser tests' database (tests/browser/conftest.py) with talent-express stored beside the shipped
    pipelines before the server serves a page, and the cast's session taking it."""
    install_fifth_pipeline(live_db, tmp_path_factory.mktemp("fifth-definitions"))
    return live_db


def _tick(db) -> None:
    """Let the deadlines pass (what the scheduled ``titlereview tick`` does)."""
    timers.tick(db, now=utcnow() + timedelta(days=60))


def _usernames(db) -> dict[int, str]:
    with db.read() as conn:
        return dict(conn.execute(select(User.__table__.c.id, User.__table__.c.username)).all())


def _finds(person: Person, db, case_id: int, state: str, *, everywhere: bool = False) -> None:
    """The page where ``person`` works lists the case in ``state`` (tests/fifth_pipeline.py says which): an
    inbox opens on the tab that holds it when that tab waits for them, else that tab lists it. ``everywhere``:
    every page of theirs that must list it (for the officer: the reports and the process view too)."""
    assert case_state(db, case_id) == state
    checks = [look for look in looks(db, case_id, state) if look.who == person.username and look.listed]
    assert checks, f"nothing to look at for {person.username} in {state}"
    if not everywhere:
        inbox = [look for look in checks if look.tab is not None and not look.path.endswith("tab=all")]
        opening = [look for look in inbox if "?" not in look.path]
        checks = opening or inbox or [look for look in checks if not look.path.startswith("/reports")]
    for path in dict.fromkeys(look.path for look in checks):
        person.go(path)
        html = person.page.content()
        problems = [p for look in checks if look.path == path and (p := look.problem(html))]
        assert not problems, problems
        for look in checks:
            if look.path == path and look.tab is not None:
                assert f"tab={look.tab}" in person.page.locator(".inbox-tabs a.nav-link.active").get_attribute("href")


def _create_and_submit(applicant: Person, db, tmp_path) -> int:
    """The applicant opens a talent-express draft through the form, uploads every required material (while one
    is missing the page refuses the submission and names it) and submits."""
    p = applicant.page
    applicant.go("/applicant/cases/new")
    assert FIFTH_LABEL in p.locator("#pipeline_id").inner_text()
    p.select_option("#pipeline_id", FIFTH_ID)
    p.select_option("#session_id", label=SESSION_LABEL)
    p.select_option("#level", "副高")
    p.fill("#target_title", "高级工程师")
    p.select_option("#standard_id", FIFTH_STANDARD)
    p.fill("#specialty", "轨道交通装备")
    p.click("main form button[type=submit]")
    p.wait_for_load_state()
    applicant.check()
    match = re.search(r"/cases/(\d+)$", p.url)
    assert match, p.url
    case_id = int(match.group(1))
    required = get_pipeline(db, FIFTH_ID, 1).required_materials
    assert len(required) > 1
    for n, material in enumerate(required):  # the upload returns to the case page
        if n == len(required) - 1:  # the last one still missing: submitting is not offered, and the page says why
            assert p.locator("#action-submit").count() == 0
            assert material.label.zh in p.locator(".refused-actions").inner_text()
        pdf = tmp_path / f"{material.label.zh}.pdf"
        pdf.write_bytes(PDF)
        p.select_option("#category", material.code)
        p.set_input_files("#file", str(pdf))
        p.click("#upload-form button[type=submit]")
        p.wait_for_load_state()
        applicant.check()
        assert re.search(rf"/cases/{case_id}(#.*)?$", p.url) and pdf.name in p.content()
    applicant.act(case_id, "submit")
    applicant.shot("fifth-applicant-submitted")
    _finds(applicant, db, case_id, "hr_check")
    return case_id


def _unit_steps(people, db, case_id: int) -> None:
    """Unit review into the unit notice (seen by a colleague), the notice running out, the recommendation, the
    superior department's approval."""
    unit = people("unit_hr")
    _finds(unit, db, case_id, "hr_check")
    unit.shot("fifth-unit-inbox")
    unit.act(case_id, "start_unit_notice")
    _finds(unit, db, case_id, "hr_notice")
    _finds(people("colleague"), db, case_id, "hr_notice")
    _tick(db)
    _finds(unit, db, case_id, "hr_endorsement")
    unit.act(case_id, "recommend", comment="经考核，同意推荐。")
    assert case_state(db, case_id) == "department_check"
    superior = people("superior")
    superior.go("/unit/superior")
    assert f'href="/cases/{case_id}"' in superior.page.content()
    superior.act(case_id, "superior_approve")


def _authority_steps(people, db, case_id: int) -> None:
    """The formal check and the eligibility re-check."""
    officer = people("officer")
    _finds(officer, db, case_id, "intake_check")
    officer.shot("fifth-authority-inbox")
    officer.act(case_id, "accept")
    _finds(officer, db, case_id, "qualification_check")
    officer.act(case_id, "confirm_eligibility")
    _finds(officer, db, case_id, "expert_reading")


def _panel_steps(people, db, case_id: int) -> None:
    """The committee: the review group and its opinions, then at the sitting attendance and the secret ballot
    on this case (the single-case path of the sitting page)."""
    chair = people("chair")
    _finds(chair, db, case_id, "expert_reading")
    chair.go(f"/cases/{case_id}")
    chair.page.click("form[action$='/reviewers'] button")
    chair.page.wait_for_load_state()
    names = _usernames(db)
    for uid in prereview.assigned_reviewers(db, case_id):
        people(names[uid]).give_opinion(case_id)
    chair.act(case_id, "complete_pre_review")
    _finds(chair, db, case_id, "ballot_round")

    with db.read() as conn:
        session_id = conn.execute(select(Case.__table__.c.session_id).where(Case.__table__.c.id == case_id)
                                  ).scalar_one()
        seated = conn.execute(select(CommitteeSeat.__table__.c.user_id)
                              .where(CommitteeSeat.__table__.c.session_id == session_id)
                              .order_by(CommitteeSeat.__table__.c.id)).scalars().all()
    chair.go(f"/panel/sessions/{session_id}")
    if chair.page.locator("form[action$='/sitting/open'] button").count():
        chair.page.click("form[action$='/sitting/open'] button")
        chair.page.wait_for_load_state()
        read_key_shares(chair, db, session_id)
    voters = seated[:5]
    for uid in voters:
        chair.go(f"/panel/sessions/{session_id}")
        button = chair.page.locator(f"form:has(input[name=user_id][value='{uid}']) button")
        if button.count():
            button.click()
            chair.page.wait_for_load_state()
    chair.go(f"/panel/sessions/{session_id}")
    chair.shot("fifth-panel-session")
    chair.page.click(f"form[action='/cases/{case_id}/actions/open_ballot'] button")
    chair.page.wait_for_load_state()
    chair.check()
    for n, uid in enumerate(voters):
        member = people(names[uid])
        member.go(f"/cases/{case_id}")
        member.page.check("#vote-yes" if n < 4 else "#vote-abstain")
        member.page.click("#vote-form button")
        member.page.wait_for_load_state()
        assert "投票成功" in member.page.content()
    chair.go(f"/panel/sessions/{session_id}")
    close_ballot_confirmed(chair, db, session_id, case_id)
    assert case_state(db, case_id) == "public_listing"


def _result_steps(people, public: Person, db, case_id: int) -> None:
    """The public result notice (for a visitor who is not signed in), its end, filing and the certificate."""
    _finds_anonymously(public, db, case_id)
    officer = people("officer")
    _finds(officer, db, case_id, "public_listing")
    _tick(db)
    _finds(officer, db, case_id, "record_keeping")
    officer.act(case_id, "file_result", comment="程序合规，予以备案。")
    _finds(officer, db, case_id, "certificate_pending")
    officer.act(case_id, "issue_certificate")
    assert officer.page.locator(".cert-number").count() >= 1
    assert case_state(db, case_id) == "title_granted"


def _finds_anonymously(public: Person, db, case_id: int) -> None:
    """The public result notice lists the case for a visitor who is not signed in."""
    checks = [look for look in looks(db, case_id, "public_listing") if look.who is None and look.listed]
    assert checks
    public.go("/notices")
    problems = [p for look in checks if (p := look.problem(public.page.content()))]
    assert not problems, problems
    public.shot("notices")


@pytest.fixture
def visitor(chromium, live_server, screenshot_dir):
    """Someone on the public site who is not signed in."""
    person = Person(chromium, live_server, None, screenshot_dir, prefix="fifth-anonymous-")
    yield person
    person.close()


def test_a_talent_express_case_goes_through_every_role_in_the_browser(people, visitor, live_db, tmp_path):
    case_id = _create_and_submit(people("zhang"), live_db, tmp_path)
    _unit_steps(people, live_db, case_id)
    _authority_steps(people, live_db, case_id)
    _panel_steps(people, live_db, case_id)
    _result_steps(people, visitor, live_db, case_id)

    _finds(people("unit_hr"), live_db, case_id, "title_granted")  # the closed tab of both inboxes
    officer = people("officer")
    _finds(officer, live_db, case_id, "title_granted", everywhere=True)  # inbox tabs, reports, process view
    officer.go("/reports/")
    officer.shot("fifth-reports")
    # the process view, as the officer reaches it: the pipeline's row, its diagram, the state's list
    officer.go("/reports/process/")
    officer.click(f"tr[data-pipeline='{FIFTH_ID}'] a")
    assert officer.page.locator("tr[data-state='title_granted'] [data-count]").get_attribute("data-count") == "1"
    assert "已授予职称" in officer.page.locator(".diagram svg").inner_html()
    officer.shot("fifth-process-version")
    officer.click("tr[data-state='title_granted'] a")
    assert case_reference(live_db, case_id) in officer.page.content()
    applicant = people("zhang")
    applicant.go(f"/cases/{case_id}")
    assert "已授予职称" in applicant.page.content()
