"""Sessions that end (issue 15, item 3): signing out, a password change and an administrator's "sign out
everywhere" make the server refuse every cookie of the user issued before, on every device — a copy of the
cookie, another browser, a "remember me" cookie — while API tokens keep working until revoked. The session
cookie itself is refused 12 hours after it was signed, not 31 days.

The first three tests run on SQLite and on PostgreSQL; the rest exercise the web layer only (SQLite).
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from webhelpers import PASSWORD, Browser, make_app

from workflow import administration as admin_ops
from workflow import migrate
from workflow.access.passwords import hash_password
from workflow.models import ApiToken, User

NEW_PASSWORD = "a-new-pw-2026"


@pytest.fixture
def site(any_db, tmp_path):
    """The app, with CSRF on as in production, over the test cast on SQLite or PostgreSQL."""
    from seed.cast import build_world

    world = build_world(any_db)
    with any_db.write() as conn:
        conn.execute(update(User.__table__).values(password_hash=hash_password(PASSWORD)))
    return make_app(any_db, tmp_path, WTF_CSRF_ENABLED=True), world


def _signed_in(app, username: str, password: str = PASSWORD) -> Browser:
    return Browser(app.test_client(), password).login(username)


def _copy(app, browser: Browser) -> Browser:
    """Another client carrying a copy of ``browser``'s session cookie (as saved by an attacker)."""
    copy = Browser(app.test_client(), PASSWORD)
    copy.client.set_cookie("session", browser.client.get_cookie("session").value)
    return copy


def _to_login(response) -> bool:
    return response.status_code in (302, 303) and "/login" in response.headers.get("Location", "")


def _mint(browser: Browser, name: str) -> str:
    """Create an applicant-scoped API token on the token page; its secret."""
    response = browser.post("/account/tokens", data={"name": name, "scopes": "applicant",
                                                     "csrf_token": browser.token("/account/tokens")})
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    return re.search(r'id="new-token">([^<]+)<', response.get_data(as_text=True)).group(1)


def _api_status(app, secret: str) -> int:
    return app.test_client().get("/api/v1/cases", headers={"Authorization": f"Bearer {secret}"}).status_code


def _token_names(db, user_id: int) -> list[str]:
    with db.read() as conn:
        return list(conn.execute(select(ApiToken.__table__.c.name)
                                 .where(ApiToken.__table__.c.user_id == user_id)).scalars())


def test_a_cookie_copied_before_logout_is_refused_after_it(site):
    app, world = site
    owner = _signed_in(app, "zhang")
    secret = _mint(owner, "before logout")
    copy = _copy(app, owner)
    assert copy.get("/account").status_code == 200  # the copy works while the session lives
    form_token = copy.token("/account/tokens")
    assert owner.post("/logout", data={"csrf_token": owner.token("/account")}).status_code == 303
    for url in ("/account", "/applicant/", "/account/tokens"):
        assert _to_login(copy.get(url)), url
    # past the CSRF check (the form token belongs to that very session), refused because the session ended
    assert _to_login(copy.post("/account/tokens", data={"name": "stolen", "scopes": "applicant",
                                                        "csrf_token": form_token}))
    assert _token_names(world.db, world.applicant.user_id) == ["before logout"]
    assert _api_status(app, secret) == 200  # API tokens are no sessions: they last until revoked
    again = _signed_in(app, "zhang")  # and signing in again works as before
    assert again.get("/account").status_code == 200 and _to_login(copy.get("/account"))


def test_a_password_change_ends_the_other_browsers_sessions_but_not_the_changers(site):
    app, _world = site
    changer, other = _signed_in(app, "zhang"), _signed_in(app, "zhang")
    before = _copy(app, changer)
    secret = _mint(changer, "before the change")
    response = changer.post("/account", data={"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                              "csrf_token": changer.token("/account")})
    assert response.status_code == 303
    assert changer.get("/account").status_code == 200
    assert _to_login(other.get("/account")) and _to_login(before.get("/account"))
    assert _api_status(app, secret) == 200
    assert _signed_in(app, "zhang", NEW_PASSWORD).get("/account").status_code == 200


def test_an_administrator_signs_a_user_out_everywhere(site, caplog):
    app, world = site
    uid = world.applicant.user_id
    laptop, phone, admin = _signed_in(app, "zhang"), _signed_in(app, "zhang"), _signed_in(app, "admin")
    secret = _mint(laptop, "laptop")
    page = admin.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert "全部设备退出登录" in page and f'action="/admin/users/{uid}/sign-out"' in page
    assert admin.post(f"/admin/users/{uid}/sign-out").status_code == 400  # no CSRF token, no sign-out
    assert laptop.get("/account").status_code == 200
    with caplog.at_level(logging.WARNING, logger="titlereview.accounts"):
        response = admin.post(f"/admin/users/{uid}/sign-out", data={"csrf_token": admin.token(f"/admin/users/{uid}")})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/admin/users/{uid}")
    assert _to_login(laptop.get("/account")) and _to_login(phone.get("/applicant/"))
    assert admin.get(f"/admin/users/{uid}").status_code == 200  # the administrator's own session is untouched
    assert _api_status(app, secret) == 200
    logged = [r.getMessage() for r in caplog.records if r.name == "titlereview.accounts"]
    assert logged == [f"administrator 系统管理员 (user {world.admin.user_id}) signed out every session of user {uid}"]
    assert _signed_in(app, "zhang").get("/account").status_code == 200  # the password still works


# --------------------------------------------------------------------------------------------- web layer only


@pytest.mark.parametrize("username", ["zhang", "unit_hr", "officer", "chair"])
def test_only_administrators_may_sign_someone_out(app, cast, browser, username):
    target = browser("li")
    assert browser(username).post(f"/admin/users/{cast.other_applicant.user_id}/sign-out").status_code == 403
    assert _to_login(browser().post(f"/admin/users/{cast.other_applicant.user_id}/sign-out"))
    assert target.get("/account").status_code == 200


def test_an_administrator_signing_out_their_own_account_lands_on_the_sign_in_page(app, cast, browser):
    admin, elsewhere = browser("admin"), browser("admin")
    response = admin.post(f"/admin/users/{cast.admin.user_id}/sign-out")
    assert _to_login(response)
    assert _to_login(admin.get("/admin/")) and _to_login(elsewhere.get("/admin/"))
    assert browser("admin").post("/admin/users/999999/sign-out").status_code == 404


def test_a_remember_me_cookie_cannot_bring_an_ended_session_back(app, browser):
    from flask_login.utils import encode_cookie

    b = browser("zhang")
    with b.client.session_transaction() as s:
        session_id = s["_user_id"]
    with app.test_request_context():
        remembered = encode_cookie(session_id)
    name = app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    live = app.test_client()
    live.set_cookie(name, remembered)
    assert live.get("/account").status_code == 200  # flask-login honours the cookie while the session lives
    b.post("/logout")
    late = app.test_client()
    late.set_cookie(name, remembered)
    assert _to_login(late.get("/account"))


def test_the_session_cookie_is_refused_twelve_hours_after_it_was_signed(app, browser, monkeypatch):
    from itsdangerous.timed import TimestampSigner

    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=12)
    b = browser("zhang")
    assert b.get("/account").status_code == 200
    early, late = _copy(app, b), _copy(app, b)
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) + 12 * 3600 - 60)
    assert early.get("/account").status_code == 200
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) + 12 * 3600 + 60)
    assert _to_login(late.get("/account"))


def test_deactivating_an_account_ends_its_sessions_for_good(app, cast, browser):
    b = browser("zhang")
    kept = dict(display_name="张伟", roles=["applicant"], org_id=cast.employer)
    admin_ops.update_account(cast.db, cast.admin, cast.applicant.user_id, is_active=False, **kept)
    assert _to_login(b.get("/account"))
    admin_ops.update_account(cast.db, cast.admin, cast.applicant.user_id, is_active=True, **kept)
    assert _to_login(b.get("/account"))  # reactivation does not revive the old cookie
    assert browser("zhang").get("/account").status_code == 200


def test_an_administrators_password_reset_ends_the_users_sessions(app, cast, browser):
    b = browser("zhang")
    admin_ops.reset_password(cast.db, cast.admin, cast.applicant.user_id, NEW_PASSWORD)
    assert _to_login(b.get("/account"))


def test_migration_0013_adds_the_generation_in_place(any_db):
    """Down to 0012 and back with accounts that other rows refer to: every account starts at generation 0."""
    from alembic import command

    from seed.cast import build_world

    world = build_world(any_db)
    admin_ops.end_sessions(any_db, world.applicant.user_id)
    cfg = migrate.alembic_config(any_db)
    with any_db.write() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0012")
    migrate.upgrade(any_db)
    assert migrate.current_revision(any_db) == migrate.head_revision(any_db)
    with any_db.read() as conn:
        generations = set(conn.execute(select(User.__table__.c.session_generation)).scalars())
    assert generations == {0}
