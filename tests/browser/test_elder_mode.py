"""The elder-friendly mode (长辈模式, issue 18 item 4) in a real browser.

Switched on with the header's switch, it enlarges text and buttons to at least 150 % on the case page, the
public result notice and the ballot (a committee member's case page with the vote form), makes every control a
touch target of at least 44 px, and none of those pages scrolls sideways at 320 px wide or at 200 % zoom. The
choice is remembered on the account (it survives signing out and in again, in a browser that has never seen
it) and, for visitors who are not signed in, in a cookie.

The cases are prepared through the core (tests/driver.py, tests/panel_helpers.py): the pages are the point.
"""

from __future__ import annotations

import pytest
from display_checks import font_px, horizontal_overflow, small_targets
from driver import advance
from livehelpers import PASSWORD, Person, live_world
from panel_helpers import case_at_vote

pytestmark = pytest.mark.browser

BODY_TEXT = "main p"
"""Ordinary running text of a page (its first paragraph in the main content)."""

TOUCH_TARGETS = ("main .btn, header .btn, .site-nav .nav-link, main .form-control, main .form-select,"
                 " main .form-check-label")
"""What a finger has to hit: buttons, navigation links, fields and the labels of radio buttons."""


@pytest.fixture(scope="module")
def pages(live_db) -> dict[str, tuple[str, str, str]]:
    """name → (username or None, path, a button on it): the case page, the public notice and the ballot."""
    world = live_world(live_db)
    at_vote = case_at_vote(world)
    # after the vote's case: the driver lets time pass by a year at each timed step, which would end a notice
    on_notice = world.open("industry-session")
    advance(world, on_notice, "result_notice")
    draft = world.open("industry-session")
    return {
        "case": ("zhang", f"/cases/{draft}", "#action-submit button[type=submit]"),
        "notice": (None, "/notices", "main .btn"),
        "ballot": ("expert1", f"/cases/{at_vote}", "#vote-form button[type=submit]"),
    }


def _measure(person: Person, path: str, button: str) -> dict[str, float]:
    person.go(path)
    return {"body": font_px(person.page, "body"), "text": font_px(person.page, BODY_TEXT),
            "button": font_px(person.page, button)}


def _switch(person: Person, on: bool) -> None:
    """Press the header's switch (a plain form) and check the page says it is on or off."""
    button = person.page.locator("#elder-switch button")
    assert button.get_attribute("aria-pressed") == ("false" if on else "true")
    person.click("#elder-switch button")
    assert button.get_attribute("aria-pressed") == ("true" if on else "false")
    assert person.page.evaluate("document.documentElement.classList.contains('elder-mode')") is on


def _no_sideways_scroll(person: Person, path: str, what: str) -> None:
    person.go(path)
    scroll, client, culprits = horizontal_overflow(person.page)
    assert scroll <= client, f"{what} scrolls sideways ({scroll} > {client}): {culprits}"


def test_elder_mode_enlarges_the_case_page_the_notice_and_the_ballot(people, live_server, chromium, pages,
                                                                     screenshot_dir):
    visitor = Person(chromium, live_server, None, screenshot_dir, prefix="elder-")
    persons = {name: people(username) if username else visitor for name, (username, _p, _b) in pages.items()}
    normal = {name: _measure(persons[name], path, button) for name, (_u, path, button) in pages.items()}

    for name, (_u, path, _b) in pages.items():  # each person turns it on with the header's switch
        persons[name].go(path)
        _switch(persons[name], on=True)
    for name, (_u, path, button) in pages.items():
        person = persons[name]
        large = _measure(person, path, button)
        for what in ("body", "text", "button"):
            assert large[what] >= 1.5 * normal[name][what], f"{name}: {what} {large[what]}px vs {normal[name][what]}px"
        assert not small_targets(person.page, TOUCH_TARGETS), f"{name}: {small_targets(person.page, TOUCH_TARGETS)}"
        person.shot(f"elder-{name}")
    assert persons["ballot"].page.locator("#vote-form").count() == 1  # the ballot page really shows the vote

    # 320 px wide (a small phone, and WCAG's reflow width) and a 1280 px screen at 200 % zoom (640 CSS px):
    # no sideways scroll
    for width in (320, 640):
        for name, (_u, path, _b) in pages.items():
            person = persons[name]
            person.page.set_viewport_size({"width": width, "height": 800})
            _no_sideways_scroll(person, path, f"{name} at {width}px")
            if width == 320:
                person.shot(f"elder-{name}-320px")
    visitor.close()


def test_normal_mode_reflows_at_320px_too(people, pages):
    for name, (username, path, _b) in pages.items():
        person = people(username or "outsider")
        if person.page.evaluate("document.documentElement.classList.contains('elder-mode')"):
            person.go(path)
            _switch(person, on=False)
        person.page.set_viewport_size({"width": 320, "height": 800})
        _no_sideways_scroll(person, path, f"{name} at 320px")
        assert not small_targets(person.page, "main .btn-primary:not(.btn-sm)"), name  # 44 px in every mode
        person.page.set_viewport_size({"width": 1360, "height": 900})


def test_the_choice_is_remembered_for_the_user_and_for_visitors(chromium, live_server, screenshot_dir):
    applicant = Person(chromium, live_server, "li", screenshot_dir, prefix="elder-")
    applicant.go("/applicant/")
    _switch(applicant, on=True)

    # signing out keeps the page as it was in this browser (the cookie follows the account)…
    applicant.click("header form[action$='/logout'] button")
    assert applicant.page.evaluate("document.documentElement.classList.contains('elder-mode')")
    applicant.close()

    # …and the account remembers it in a browser that has never seen it
    elsewhere = Person(chromium, live_server, "li", screenshot_dir, prefix="elder-")
    elsewhere.go("/applicant/")
    assert elsewhere.page.evaluate("document.documentElement.classList.contains('elder-mode')")
    _switch(elsewhere, on=False)  # and switching it off is remembered too
    elsewhere.close()
    again = Person(chromium, live_server, "li", screenshot_dir, prefix="elder-")
    again.go("/applicant/")
    assert not again.page.evaluate("document.documentElement.classList.contains('elder-mode')")
    again.close()

    # a visitor's choice lives in a cookie, and it is carried into the account of whoever signs in with it on
    visitor = Person(chromium, live_server, None, screenshot_dir, prefix="elder-")
    visitor.go("/verify")
    _switch(visitor, on=True)
    visitor.go("/notices")
    assert visitor.page.evaluate("document.documentElement.classList.contains('elder-mode')")
    visitor.go("/login")
    visitor.page.fill("#username", "other_hr")
    visitor.page.fill("#password", PASSWORD)
    visitor.click("main form button[type=submit]")
    assert visitor.page.evaluate("document.documentElement.classList.contains('elder-mode')")
    visitor.close()
    fresh = Person(chromium, live_server, "other_hr", screenshot_dir, prefix="elder-")
    fresh.go("/unit/")
    assert fresh.page.evaluate("document.documentElement.classList.contains('elder-mode')")
    fresh.close()


ROLE_PAGES = {
    None: ["/", "/notices", "/verify", "/login", "/audit-checkpoints"],
    "zhang": ["/applicant/", "/applicant/profile", "/applicant/cases/new", "/account"],
    "unit_hr": ["/unit/", "/unit-notices"],
    "superior": ["/unit/superior"],
    "officer": ["/authority/", "/authority/certificates", "/reports/"],
    "chair": ["/panel/", "/panel/sessions/{session}", "/panel/sessions/{session}/minutes"],
    "admin": ["/admin/", "/admin/users", "/admin/orgs", "/admin/sessions", "/admin/experts/", "/admin/standards/",
              "/admin/calendar", "/reports/process", "/account/tokens"],
}
"""Each role's everyday pages (the case page, notice and ballot are checked above)."""


def test_every_role_s_pages_hold_at_320px_in_elder_mode(people, chromium, live_server, live_db, pages,
                                                        screenshot_dir):
    session_id = live_world(live_db).session_id
    visitor = Person(chromium, live_server, None, screenshot_dir, prefix="elder-")
    problems = []
    for username, paths in ROLE_PAGES.items():
        person = people(username) if username else visitor
        person.go("/")
        if person.page.locator("#elder-switch button[aria-pressed=false]").count():
            _switch(person, on=True)
        person.page.set_viewport_size({"width": 320, "height": 800})
        for path in (p.format(session=session_id) for p in paths):
            person.go(path)
            scroll, client, culprits = horizontal_overflow(person.page)
            if scroll > client:
                problems.append(f"{username} {path}: {scroll} > {client} {culprits}")
            if small := small_targets(person.page, TOUCH_TARGETS):
                problems.append(f"{username} {path}: targets under 44 px {small}")
        person.page.set_viewport_size({"width": 1360, "height": 900})
    visitor.close()
    assert not problems, "\n".join(problems)
