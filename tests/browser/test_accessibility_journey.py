"""Every role's main pages in Chinese and in English, each checked by axe-core (issue 18, item 1).

The other journeys go where a case takes them; this one makes sure each role's own pages are loaded at least
once in each language, with cases waiting in the states where that role has something to do: the checks
themselves run on every page load (``axe_audit.py``, hooked into the ``chromium`` fixture) and fail the test at
its teardown with the rule, the element and the page. The page language is checked on the way (``zh-CN`` or
``en`` on ``<html>``). The last test shows that the audit really finds a violation when there is one.
"""

from __future__ import annotations

import pytest
from axe_audit import AxeAudit
from driver import advance
from livehelpers import Person, live_world
from sqlalchemy import select

from workflow.eligibility.standards_store import latest_version
from workflow.models import Certificate, CommitteeSeat, User

ROLES = ["anonymous", "zhang", "unit_hr", "superior", "agency", "officer", "chair", "member", "admin", "outsider"]
"""Who looks: nobody signed in, the applicant, each reviewing role, a committee member, the administrator, and
a signed-in member of the public."""

STANDARD, OTHER_STANDARD = "hunan-sme-advanced-manufacturing-senior", "national-engineering-senior"
"""Two shipped standards, for the administrator's standard pages and their comparison."""


@pytest.fixture(scope="module")
def cases(live_db) -> dict:
    """Cases waiting where each role acts: a draft, unit review, formal check, the committee's vote, a result
    notice and a certificate; and the ids, names and standard versions the pages need."""
    world = live_world(live_db)
    made = {"draft": world.open("industry-session")}
    # the certificate first: getting there lets the deadlines pass, which would end the others' waits
    for state in ("certified", "unit_review", "formal_check", "committee_vote", "result_notice"):
        made[state] = world.open("industry-session")
        advance(world, made[state], state)
    with live_db.read() as conn:
        made["number"] = conn.execute(select(Certificate.__table__.c.number).where(
            Certificate.__table__.c.case_id == made["certified"])).scalar_one()
        seat = CommitteeSeat.__table__
        made["member"] = conn.execute(
            select(User.__table__.c.username).join(seat, seat.c.user_id == User.__table__.c.id)
            .where(seat.c.session_id == world.session_id, seat.c.seat_role != "chair")
            .order_by(seat.c.id)).scalars().first()
        for standard_id in (STANDARD, OTHER_STANDARD):
            made[standard_id] = latest_version(conn, standard_id)
    made["session"] = world.session_id
    return made


def pages_for(role: str, c: dict) -> list[str]:
    """The main pages of ``role``: its home, its lists, a case where it acts, its account."""
    return {
        "anonymous": ["/", "/login", "/notices", f"/notices/{c['result_notice']}/print", "/verify",
                      f"/verify?number={c['number']}", "/audit-checkpoints"],
        "zhang": ["/applicant/", "/applicant/profile", "/applicant/cases/new", "/applicant/precheck",
                  f"/applicant/cases/{c['draft']}/edit", f"/cases/{c['draft']}", f"/cases/{c['certified']}",
                  "/messages", "/account", "/account/tokens"],
        "unit_hr": ["/unit/", f"/cases/{c['unit_review']}", "/unit-notices"],
        "superior": ["/unit/superior"],
        "agency": ["/unit/"],
        "officer": ["/authority/", f"/cases/{c['formal_check']}", f"/cases/{c['result_notice']}",
                    "/authority/certificates", "/reports/", "/reports/process/"],
        "chair": ["/panel/", f"/panel/sessions/{c['session']}", f"/cases/{c['committee_vote']}"],
        "member": ["/panel/", f"/cases/{c['committee_vote']}"],
        "admin": ["/admin/", "/admin/users", "/admin/users/new", "/admin/orgs", "/admin/orgs/new",
                  "/admin/sessions", f"/admin/sessions/{c['session']}", "/admin/calendar", "/admin/standards/",
                  f"/admin/standards/{STANDARD}/v{c[STANDARD]}", f"/admin/standards/{STANDARD}/edit",
                  "/admin/standards/new", "/admin/standards/import",
                  f"/admin/standards/compare?left={STANDARD}@{c[STANDARD]}&right={OTHER_STANDARD}@{c[OTHER_STANDARD]}",
                  "/admin/experts/", "/admin/experts/new", "/admin/experts/import", "/admin/committees",
                  f"/admin/sessions/{c['session']}/committee"],
        "outsider": ["/notices", f"/notices/{c['result_notice']}/objection"],
    }[role]


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("role", ROLES)
def test_main_pages_of_every_role_in_both_languages(role, lang, chromium, live_server, cases, screenshot_dir):
    username = None if role == "anonymous" else cases["member"] if role == "member" else role
    person = Person(chromium, live_server, username, screenshot_dir, f"a11y-{role}-{lang}-")
    try:
        if lang == "en":
            person.go("/lang/en?next=/")
        for path in pages_for(role, cases):
            person.go(path)
            assert person.page.locator("html").get_attribute("lang") == ("en" if lang == "en" else "zh-CN"), path
    finally:
        person.close()


def test_the_audit_reports_a_violation_with_its_rule_element_and_page(chromium, live_server, screenshot_dir):
    person = Person(chromium, live_server, None, screenshot_dir)
    try:
        person.go("/login")
        # an image without a text alternative, added after the page's own check: a second audit must catch it
        person.page.evaluate("""() => { const img = document.createElement('img');
            img.src = '/static/favicon.svg'; img.id = 'unlabelled'; document.querySelector('main').append(img); }""")
        audit = AxeAudit()
        audit.check(person.page.unaudited)
        audit.check(person.page.unaudited)  # the same document again: checked once only
        found = audit.take()
        assert audit.pages_checked == 1
    finally:
        person.close()
    assert [(f.rule, f.target) for f in found] == [("image-alt", "#unlabelled")]
    assert found[0].url == live_server + "/login" and found[0].impact == "critical"
