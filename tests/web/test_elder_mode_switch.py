"""The elder-friendly mode's switch (长辈模式, issue 18 item 4) through the Flask client: where the choice is kept
(the account, or a cookie for visitors), how it survives signing in and out, and what a bad request gets."""

from __future__ import annotations

from webhelpers import user_id

from workflow.preferences import elder_mode, set_elder_mode

SWITCH = "/display/elder-mode"


def _elder_page(response) -> bool:
    """True when the page is drawn in the elder-friendly mode (and its switch says so)."""
    html = response.get_data(as_text=True)
    on = 'class="elder-mode"' in html
    assert ('aria-pressed="true"' in html) is on
    return on


def _cookie(client) -> str | None:
    cookie = client.get_cookie("elder")
    return cookie.value if cookie else None


def test_a_visitor_switches_it_on_and_off_in_a_cookie(browser, cast_db):
    visitor = browser()
    assert not _elder_page(visitor.get("/notices"))
    response = visitor.post(SWITCH, {"on": "1", "next": "/notices"})
    assert response.status_code == 303 and response.headers["Location"] == "/notices"
    assert _cookie(visitor.client) == "1"
    assert _elder_page(visitor.get("/notices")) and _elder_page(visitor.get("/verify"))
    visitor.post(SWITCH, {"on": "0", "next": "/notices"})
    assert _cookie(visitor.client) == "0" and not _elder_page(visitor.get("/notices"))


def test_a_signed_in_choice_is_kept_on_the_account_and_follows_the_person(browser, cast_db):
    zhang = browser("zhang")
    zhang.post(SWITCH, {"on": "1", "next": "/applicant/"})
    assert elder_mode(cast_db, user_id(cast_db, "zhang"))
    assert _elder_page(zhang.get("/applicant/"))
    assert _elder_page(browser("zhang").get("/applicant/"))  # another device, no cookie of its own
    assert not _elder_page(browser("li").get("/applicant/"))  # nobody else's
    zhang.post(SWITCH, {"on": "0", "next": "/applicant/"})
    assert not elder_mode(cast_db, user_id(cast_db, "zhang"))
    assert not _elder_page(browser("zhang").get("/applicant/"))


def test_signing_in_and_out_keeps_the_page_as_the_account_has_it(browser, cast_db):
    set_elder_mode(cast_db, user_id(cast_db, "li"), True)
    li = browser("li")
    assert _elder_page(li.get("/applicant/")) and _cookie(li.client) == "1"  # the cookie follows the account
    li.post("/logout")
    assert _elder_page(li.get("/"))  # signed out, the same browser keeps the larger page


def test_a_visitor_who_switched_it_on_keeps_it_after_signing_in(browser, cast_db):
    visitor = browser()
    visitor.post(SWITCH, {"on": "1", "next": "/login"})
    assert not elder_mode(cast_db, user_id(cast_db, "other_hr"))
    visitor.login("other_hr")
    assert elder_mode(cast_db, user_id(cast_db, "other_hr"))
    assert _elder_page(visitor.get("/unit/"))


def test_signing_in_with_it_off_does_not_switch_off_the_account(browser, cast_db):
    set_elder_mode(cast_db, user_id(cast_db, "li"), True)
    visitor = browser()
    visitor.post(SWITCH, {"on": "0", "next": "/login"})
    visitor.login("li")
    assert elder_mode(cast_db, user_id(cast_db, "li"))  # only the switch itself turns it off
    assert _elder_page(visitor.get("/applicant/")) and _cookie(visitor.client) == "1"


def test_a_bad_request_changes_nothing_and_says_why(browser, cast_db):
    zhang = browser("zhang")
    response = zhang.post(SWITCH, {"on": "yes please", "next": "/applicant/"})
    assert response.status_code == 303 and response.headers["Location"] == "/applicant/"
    page = zhang.get("/applicant/").get_data(as_text=True)
    assert "未能切换长辈模式" in page
    assert not elder_mode(cast_db, user_id(cast_db, "zhang")) and _cookie(zhang.client) != "1"


def test_it_only_goes_back_to_a_page_of_this_site(browser):
    visitor = browser()
    for target in ("https://evil.example/", "//evil.example/", ""):
        response = visitor.post(SWITCH, {"on": "1", "next": target})
        assert response.status_code == 303 and response.headers["Location"] == "/", target


def test_the_switch_is_a_form_in_the_header_labelled_in_both_languages(browser):
    visitor = browser()
    html = visitor.get("/verify").get_data(as_text=True)
    assert f'action="{SWITCH}"' in html and "长辈模式" in html and 'name="next" value="/verify?"' in html
    visitor.get("/lang/en?next=/verify")
    assert "Larger text" in visitor.get("/verify").get_data(as_text=True)
