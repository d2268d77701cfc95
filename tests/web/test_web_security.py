"""CSRF on every POST, sign-in and sign-out, the language switch, and response headers."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update
from webhelpers import PASSWORD, Browser, case_state, make_app, open_case

from workflow.models import User


@pytest.fixture
def csrf_browser(cast_db, tmp_path):
    """A browser against an app with CSRF protection on (as in production)."""
    app = make_app(cast_db, tmp_path, WTF_CSRF_ENABLED=True)
    return lambda: Browser(app.test_client(), PASSWORD)


def test_posts_without_a_csrf_token_are_refused(cast, csrf_browser):
    case_id = open_case(cast)
    b = csrf_browser().login("zhang")
    response = b.post(f"/cases/{case_id}/actions/submit", data={"version": "1"})
    assert response.status_code == 400 and "安全令牌" in response.get_data(as_text=True)
    assert case_state(cast.db, case_id) == "draft"
    response = b.post(f"/cases/{case_id}/actions/submit", data={"version": "1", "csrf_token": "forged"})
    assert response.status_code == 400 and case_state(cast.db, case_id) == "draft"


def test_the_token_from_the_page_is_accepted(cast, csrf_browser):
    case_id = open_case(cast)
    b = csrf_browser().login("zhang")
    token = b.token(f"/cases/{case_id}")
    assert token
    response = b.post(f"/cases/{case_id}/actions/submit", data={"version": "1", "csrf_token": token})
    assert response.status_code == 303 and case_state(cast.db, case_id) == "unit_review"


def test_sign_in_needs_the_token_too(csrf_browser):
    b = csrf_browser()
    response = b.post("/login", data={"username": "zhang", "password": PASSWORD})
    assert response.status_code == 400


def test_logout_is_a_post_with_csrf(csrf_browser):
    b = csrf_browser().login("zhang")
    assert b.get("/logout").status_code == 405
    assert b.post("/logout").status_code == 400
    assert b.get("/applicant/").status_code == 200
    assert b.post("/logout", data={"csrf_token": b.token("/applicant/")}).status_code == 303
    assert b.get("/applicant/").status_code == 302


def test_wrong_password_and_unknown_user_get_the_same_answer(browser):
    b = browser()
    for username in ("zhang", "nobody"):
        response = b.post("/login", data={"username": username, "password": "wrong-password"})
        assert response.status_code == 401
        assert "用户名或密码错误" in response.get_data(as_text=True)


def test_sign_in_goes_to_the_home_of_the_first_role_and_honours_next(browser):
    b = browser()
    response = b.post("/login", data={"username": "officer", "password": PASSWORD})
    assert response.headers["Location"].endswith("/authority/")
    b = browser()
    response = b.post("/login?next=/notices", data={"username": "officer", "password": PASSWORD})
    assert response.headers["Location"].endswith("/notices")
    b = browser()
    response = b.post("/login?next=//evil.example/x", data={"username": "officer", "password": PASSWORD})
    assert response.headers["Location"].endswith("/authority/")


def test_a_deactivated_user_is_signed_out_at_the_next_request(cast, browser):
    b = browser("zhang")
    assert b.get("/applicant/").status_code == 200
    with cast.db.write() as conn:
        conn.execute(update(User.__table__).where(User.__table__.c.username == "zhang").values(is_active=False))
    assert b.get("/applicant/").status_code == 302
    assert browser().post("/login", data={"username": "zhang", "password": PASSWORD}).status_code == 401


def test_changing_the_password_ends_other_sessions(browser):
    first, second = browser("zhang"), browser("zhang")
    response = first.post("/account", data={"current": PASSWORD, "new": "a-new-pass-2026",
                                            "confirm": "a-new-pass-2026"})
    assert response.status_code == 303
    assert first.get("/applicant/").status_code == 200  # this session signed in again with the new password
    assert second.get("/applicant/").status_code == 302
    response = first.post("/account", data={"current": "wrong", "new": "another-pass-1", "confirm": "another-pass-1"})
    assert response.status_code == 422 and "当前密码不正确" in response.get_data(as_text=True)


def test_language_switch_to_english_and_back(browser):
    b = browser("zhang")
    page = b.get("/applicant/").get_data(as_text=True)
    assert "我的申报" in page and '<html lang="zh-CN">' in page
    response = b.get("/lang/en?next=/applicant/")
    assert response.status_code == 303 and response.headers["Location"].endswith("/applicant/")
    assert "lang=en" in response.headers["Set-Cookie"]
    page = b.get("/applicant/").get_data(as_text=True)
    assert '<html lang="en">' in page and "My applications" in page and "我的申报" not in page
    assert "中文" in page  # the switch back, in its own language
    b.get("/lang/zh_CN")
    assert "我的申报" in b.get("/applicant/").get_data(as_text=True)


def test_english_covers_domain_labels_and_refusals(cast, browser):
    case_id = open_case(cast)
    b = browser("outsider")
    b.get("/lang/en")
    body = b.post(f"/cases/{case_id}/actions/submit", data={"version": "1"}).get_data(as_text=True)
    assert "You may not" in body
    b = browser("zhang")
    b.get("/lang/en")
    body = b.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Draft" in body and "Submit" in body and "Hunan industry session" in body
    assert not re.search(r"提交申报|办理记录", body)


def test_an_unknown_language_code_changes_nothing(browser):
    b = browser()
    response = b.get("/lang/xx")
    assert "Set-Cookie" not in response.headers
    assert "评审结果公示" in b.get("/").get_data(as_text=True)


def test_security_headers_and_no_cdn(browser):
    response = browser().get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.get_data(as_text=True)
    assert "/bootstrap/static/" in body and "cdn.jsdelivr" not in body and "https://" not in body.split("<body")[0]


def test_an_unexpected_error_is_a_friendly_500(cast_db, tmp_path, caplog):
    app = make_app(cast_db, tmp_path)
    app.add_url_rule("/boom", "boom", lambda: 1 // 0)
    response = app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500 and "系统出错" in body and "ZeroDivisionError" not in body
    assert "ZeroDivisionError" in caplog.text  # logged for the operators, not shown to the user


@pytest.mark.parametrize("case", ["right password", "wrong password", "unknown name", "deactivated"])
def test_every_sign_in_answer_costs_one_hash_check(cast, monkeypatch, case):
    """The refusal's timing tells nothing: an unknown name and a deactivated account are refused only after
    the same (slow) password verification as a wrong password."""
    from workflow.access import accounts

    checks = []
    real = accounts.verify_password
    monkeypatch.setattr(accounts, "verify_password", lambda h, p: checks.append(1) or real(h, p))
    if case == "deactivated":
        with cast.db.write() as conn:
            conn.execute(update(User.__table__).where(User.__table__.c.username == "zhang").values(is_active=False))
    name = "nobody-here" if case == "unknown name" else "zhang"
    password = PASSWORD if case in ("right password", "deactivated") else "not-the-password"
    found = accounts.check_credentials(cast.db, name, password)
    assert (found is not None) == (case == "right password") and checks == [1]
