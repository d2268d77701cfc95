"""The keyboard alone (issue 18 item 2): an applicant submits a case, the unit's reviewer recommends it and a
committee member votes on it, each signing in and acting with key presses only — Tab, Shift+Tab, Enter, Space
and typing, never a mouse click.

At every step the focused element must show the site's focus indicator (a solid outline of at least 2 px, or
a ring), and focus must move in document order (Tab forward, Shift+Tab back), which is the reading order of
the page. The skip link is the first stop on every page and takes focus into the main content.

What lies between the three acts (the unit's notice period, the authority's checks, the review group and the
sitting) is done through the core (tests/driver.py): those steps have their own journeys.
"""

from __future__ import annotations

import pytest
from display_checks import FOCUS_STATE, focus_is_visible
from driver import advance, open_sitting
from livehelpers import PASSWORD, Person, case_state, live_world
from sqlalchemy import select

from workflow.engine import core as engine
from workflow.models import BallotBox, BallotParticipation, Case
from workflow.panel import ballots

pytestmark = pytest.mark.browser

MOVED_FORWARD = """() => {
  // Did focus move on in document order since the last call on this page? (Remembers the element on window.)
  const el = document.activeElement, before = window.__keyboardLast;
  window.__keyboardLast = el;
  return !before || !!(before.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING);
}"""


def _focused(page) -> dict:
    state = page.evaluate(FOCUS_STATE)
    assert state is not None, "nothing has focus"
    return state


def _matches(page, selector: str) -> bool:
    return page.evaluate("sel => !!document.activeElement && document.activeElement.matches(sel)", selector)


def tab_to(page, selector: str, limit: int = 150) -> None:
    """Press Tab until the element matching ``selector`` has focus; every element passed on the way must show
    the focus indicator and come after the one before it in the document."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        state = _focused(page)
        assert focus_is_visible(state), f"focus is not visible on {state}"
        assert page.evaluate(MOVED_FORWARD), f"Tab moved focus backwards in the document, to {state}"
        if _matches(page, selector):
            return
    raise AssertionError(f"{selector} not reached with {limit} presses of Tab")


def skip_to_main(page) -> None:
    """The first Tab stop is the skip link, shown when focused; Enter takes focus into <main>."""
    page.keyboard.press("Tab")
    assert _matches(page, "a[href='#main']"), _focused(page)
    state = _focused(page)
    assert focus_is_visible(state) and state["width"] > 20 and state["height"] > 10, state
    page.keyboard.press("Enter")
    assert _matches(page, "main#main"), _focused(page)
    page.evaluate("() => { window.__keyboardLast = document.activeElement; }")


def press_and_wait(person: Person, key: str) -> None:
    """Press ``key`` on the focused control and wait for the page it leads to."""
    with person.page.expect_navigation():
        person.page.keyboard.press(key)
    person.page.wait_for_load_state()
    person.check()


def sign_in_by_keyboard(chromium, base: str, username: str, shots) -> Person:
    """A person who opens the sign-in page and signs in by typing: Tab through the header to the name, type,
    Tab to the password, type, Enter. (Not through the skip link here: the browser would carry its ``#main``
    into the address it is sent to after signing in, and that page would open with focus on its main part.)"""
    person = Person(chromium, base, None, shots, prefix="keyboard-")
    person.go("/login")
    tab_to(person.page, "#username")
    person.page.keyboard.type(username)
    person.page.keyboard.press("Tab")
    assert _matches(person.page, "#password")
    person.page.keyboard.type(PASSWORD)
    press_and_wait(person, "Enter")
    assert "/login" not in person.page.url, f"{username} could not sign in"
    return person


def test_submit_recommend_and_vote_with_the_keyboard_alone(chromium, live_server, live_db, screenshot_dir):
    world = live_world(live_db)
    case_id = world.open("industry-session")  # a draft with its materials uploaded

    # the applicant: from their list of applications to the case, then submits it with a note
    applicant = sign_in_by_keyboard(chromium, live_server, "zhang", screenshot_dir)
    page = applicant.page
    skip_to_main(page)
    tab_to(page, f"main a[href='/cases/{case_id}']")
    press_and_wait(applicant, "Enter")
    assert page.url.endswith(f"/cases/{case_id}")
    skip_to_main(page)
    tab_to(page, "#comment-submit")
    page.keyboard.type("材料已备齐，请审核。")
    tab_to(page, "#action-submit button[type=submit]")
    applicant.shot("submit-button-focused")
    press_and_wait(applicant, "Enter")
    assert case_state(live_db, case_id) == "unit_review"
    applicant.close()

    # the unit's reviewer: the notice period passes (core), then the recommendation by keyboard
    advance(world, case_id, "unit_recommendation")
    unit = sign_in_by_keyboard(chromium, live_server, "unit_hr", screenshot_dir)
    page = unit.page
    unit.go(f"/cases/{case_id}")
    skip_to_main(page)
    tab_to(page, "#comment-recommend")
    page.keyboard.type("经考核，同意推荐。")
    tab_to(page, "#action-recommend button[type=submit]")
    page.keyboard.press("Shift+Tab")  # one step back lands on the comment just typed, then forward again
    assert _matches(page, "#comment-recommend") and focus_is_visible(_focused(page))
    page.keyboard.press("Tab")
    assert _matches(page, "#action-recommend button[type=submit]")
    unit.shot("recommend-button-focused")
    press_and_wait(unit, "Enter")
    assert case_state(live_db, case_id) == "formal_check"  # this employer reports to no superior department
    unit.close()

    # the committee: everything up to an open ballot through the core, then one member votes by keyboard
    advance(world, case_id, "committee_vote")
    open_sitting(world)
    for seated in [world.chair, *world.members]:
        ballots.record_attendance(live_db, world.session_id, seated.user_id)
    engine.fire(live_db, case_id, "open_ballot", world.chair)
    member = sign_in_by_keyboard(chromium, live_server, "expert1", screenshot_dir)
    page = member.page
    member.go(f"/cases/{case_id}")
    skip_to_main(page)
    tab_to(page, "#vote-yes")
    page.keyboard.press("Space")
    assert page.is_checked("#vote-yes")
    page.keyboard.press("Shift+Tab")  # out of the radio group, backwards
    assert not _matches(page, "#vote-form input[type=radio]") and focus_is_visible(_focused(page))
    page.keyboard.press("Tab")  # back into the group, on the chosen answer
    assert _matches(page, "#vote-yes")
    page.keyboard.press("Tab")
    assert _matches(page, "#vote-form button[type=submit]") and focus_is_visible(_focused(page))
    member.shot("vote-button-focused")
    press_and_wait(member, "Enter")
    assert "投票成功" in page.content()
    with live_db.read() as conn:
        assert conn.execute(select(Case.__table__.c.state).where(Case.__table__.c.id == case_id)).scalar_one() \
            == "committee_vote"
    assert ballots_cast(live_db, case_id) == 1
    member.close()


def ballots_cast(db, case_id: int) -> int:
    """How many members have voted in the case's ballot box (participations; who voted how is not stored)."""
    box, voted = BallotBox.__table__, BallotParticipation.__table__
    with db.read() as conn:
        return len(conn.execute(select(voted.c.id).join(box, box.c.id == voted.c.box_id)
                                .where(box.c.case_id == case_id)).all())
