"""Sign-in throttling (the ``limits`` library's storage), after NIST SP 800-63B §5.2.2: per (username, address)
so that an attacker cannot lock the real user out from elsewhere, a slow account-wide limit of 100 failures a
day that an administrator can clear, per address; no user enumeration, and counters shared through Redis when
several processes serve the site. Nothing here waits for a window to pass: every test counts requests, or
fills the counters directly."""

from __future__ import annotations

import os
import re
import uuid

import pytest
from webhelpers import PASSWORD, make_app

REDIS_URL = os.environ.get("TITLEREVIEW_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
MESSAGE = "用户名或密码错误"
THROTTLED = "登录失败次数过多，请 15 分钟后再试"
ACCOUNT_LOCKED = "请联系系统管理员解除登录限制"


def _post(client, username: str, password: str, ip: str = "198.51.100.7"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def test_five_failures_lock_the_name_at_that_address_even_with_the_right_password(app):
    c = app.test_client()
    for _ in range(5):
        assert _post(c, "zhang", "wrong-password").status_code == 401
    response = _post(c, "zhang", PASSWORD)
    body = response.get_data(as_text=True)
    assert response.status_code == 429 and THROTTLED in body and MESSAGE not in body
    assert "/applicant/" not in response.headers.get("Location", "")
    # another person's sign-in from another address is unaffected
    assert _post(c, "li", PASSWORD, ip="198.51.100.8").status_code == 303


def test_an_attacker_at_one_address_cannot_keep_the_user_at_another_out(app):
    """The finding: five wrong passwords from anywhere used to lock the account for everyone."""
    attacker, user = app.test_client(), app.test_client()
    for _ in range(5):
        assert _post(attacker, "chair", "wrong-password", ip="203.0.113.66").status_code == 401
    for password in ("wrong-password", PASSWORD):  # refused at the attacker's address, right password or not
        assert _post(attacker, "chair", password, ip="203.0.113.66").status_code == 429
    assert _post(user, "chair", PASSWORD, ip="198.51.100.20").status_code == 303
    # and the attacker goes on failing while the chair keeps signing in
    for _ in range(3):
        assert _post(attacker, "chair", "wrong-password", ip="203.0.113.66").status_code == 429
    user.post("/logout")
    assert _post(user, "chair", PASSWORD, ip="198.51.100.20").status_code == 303


def test_the_lock_is_per_name_case_and_space_insensitive(app):
    c = app.test_client()
    for name in ("Zhang", " zhang", "ZHANG ", "zhang", "zHang"):
        _post(c, name, "wrong-password")
    assert _post(c, "zhang", PASSWORD).status_code == 429
    assert _post(c, "zhang", PASSWORD, ip="203.0.113.1").status_code == 303


def test_signing_in_forgets_the_failures_from_that_address(app):
    """800-63B §5.2.2: after a successful sign-in, earlier failures from the same address are disregarded."""
    c = app.test_client()
    for _ in range(4):
        assert _post(c, "zhang", "wrong-password").status_code == 401
    assert _post(c, "zhang", PASSWORD).status_code == 303
    c.post("/logout")
    for _ in range(5):
        assert _post(c, "zhang", "wrong-password").status_code == 401
    assert _post(c, "zhang", PASSWORD).status_code == 429


def test_an_ipv6_client_counts_as_its_whole_64_network(app):
    """One IPv6 subscriber holds a /64: new addresses inside it buy no new guesses."""
    c = app.test_client()
    for i in range(1, 6):
        assert _post(c, "zhang", "wrong-password", ip=f"2001:db8:0:1::{i}").status_code == 401
    assert _post(c, "zhang", PASSWORD, ip="2001:db8:0:1:ffff::9").status_code == 429
    assert _post(c, "zhang", PASSWORD, ip="2001:db8:0:2::1").status_code == 303


_CSRF_VALUE = re.compile(r'name="csrf_token" value="[^"]*"')


def test_unknown_and_existing_names_get_the_same_answers(app):
    """Wrong password and unknown user: one message; the throttle comes as soon for both, with one message."""
    c = app.test_client()
    bodies = {}
    for name in ("zhang", "nobody-here"):
        statuses = [_post(c, name, "wrong-password", ip=f"192.0.2.{len(bodies) + 1}") for _ in range(6)]
        assert [r.status_code for r in statuses] == [401] * 5 + [429]
        # The pages' CSRF tokens carry the second they were made in: equal answers may differ only there.
        bodies[name] = [_CSRF_VALUE.sub("csrf", r.get_data(as_text=True).replace(name, "NAME")) for r in statuses]
    assert bodies["zhang"] == bodies["nobody-here"]
    assert MESSAGE in bodies["zhang"][0] and THROTTLED in bodies["zhang"][-1]


def test_many_names_from_one_address_are_limited(app):
    """Password spraying: 30 failures from one address, then that address is refused for any name."""
    c = app.test_client()
    for i in range(30):
        assert _post(c, f"user{i}", "wrong-password", ip="203.0.113.99").status_code == 401
    assert _post(c, "zhang", PASSWORD, ip="203.0.113.99").status_code == 429
    assert _post(c, "zhang", PASSWORD, ip="203.0.113.100").status_code == 303


def test_successful_sign_ins_are_not_counted(app):
    c = app.test_client()
    for _ in range(12):
        assert _post(c, "zhang", PASSWORD).status_code == 303
        c.post("/logout")


def test_limits_are_configurable_and_can_be_switched_off(cast_db, tmp_path):
    app = make_app(cast_db, tmp_path, LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS="2 per hour",
                   LOGIN_FAILURES_PER_ACCOUNT="3 per day")
    c = app.test_client()
    _post(c, "zhang", "x"), _post(c, "zhang", "x")
    assert _post(c, "zhang", PASSWORD).status_code == 429
    assert _post(c, "zhang", "x", ip="198.51.100.9").status_code == 401  # the third failure anywhere
    response = _post(c, "zhang", PASSWORD, ip="198.51.100.10")
    assert response.status_code == 429 and ACCOUNT_LOCKED in response.get_data(as_text=True)
    app = make_app(cast_db, tmp_path / "off", RATELIMIT_ENABLED=False)
    c = app.test_client()
    for _ in range(8):
        _post(c, "zhang", "x")
    assert _post(c, "zhang", PASSWORD).status_code == 303


def test_passwords_are_hashed_with_argon2(cast_db):
    from sqlalchemy import select

    from workflow.models import User

    with cast_db.read() as conn:
        hashes = conn.execute(select(User.__table__.c.password_hash)).scalars().all()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)


# ------------------------------------------------------------------------------ shared storage (Redis)


def _redis_reachable() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as err:  # any failure to connect means "not reachable" here
        return f"Redis not reachable at {REDIS_URL}: {type(err).__name__}"
    return None


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The URL of a reachable Redis; skip locally, fail under CI when it is missing."""
    why = _redis_reachable()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"CI requires Redis: {why}")
        pytest.skip(why)
    return REDIS_URL


def test_two_processes_share_the_counters_through_redis(cast_db, tmp_path, redis_url, monkeypatch):
    """Two apps (as two gunicorn workers would be) on one Redis: failures on one lock the name on the other."""
    prefix = f"titlereview-test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("TITLEREVIEW_RATELIMIT_STORAGE", redis_url)
    first = make_app(cast_db, tmp_path / "one", RATELIMIT_KEY_PREFIX=prefix)
    second = make_app(cast_db, tmp_path / "two", RATELIMIT_KEY_PREFIX=prefix)
    assert first.config["RATELIMIT_STORAGE_URI"] == redis_url
    try:
        c1, c2 = first.test_client(), second.test_client()
        for i in range(5):
            client = c1 if i % 2 else c2
            assert _post(client, "zhang", "wrong-password").status_code == 401
        assert _post(c1, "zhang", PASSWORD).status_code == 429
        assert _post(c2, "zhang", PASSWORD).status_code == 429
        assert _post(c2, "li", PASSWORD, ip="198.51.100.200").status_code == 303
    finally:
        _forget_redis_keys(redis_url, prefix)


def test_an_unreachable_store_does_not_lock_everyone_out(cast_db, tmp_path, caplog):
    app = make_app(cast_db, tmp_path, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    assert _post(app.test_client(), "zhang", PASSWORD).status_code == 303


def _via_proxy(client, username: str, password: str, client_ip: str):
    """A sign-in as the reverse proxy forwards it: the proxy's address, the client's in X-Forwarded-For."""
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": "10.0.0.2"}, headers={"X-Forwarded-For": client_ip})


def test_behind_a_trusted_proxy_addresses_come_from_x_forwarded_for(cast_db, tmp_path):
    """With TRUSTED_PROXIES=1 one sprayer behind the proxy is limited, not everybody who shares the proxy."""
    app = make_app(cast_db, tmp_path, TRUSTED_PROXIES=1)
    c = app.test_client()
    for i in range(30):
        assert _via_proxy(c, f"user{i}", "wrong-password", "203.0.113.50").status_code == 401
    assert _via_proxy(c, "zhang", PASSWORD, "203.0.113.50").status_code == 429
    assert _via_proxy(c, "zhang", PASSWORD, "203.0.113.51").status_code == 303


def test_without_trusted_proxies_the_forwarded_header_is_ignored(cast_db, tmp_path):
    """By default a client cannot dodge the per-address limit by inventing X-Forwarded-For values."""
    app = make_app(cast_db, tmp_path)
    c = app.test_client()
    for i in range(30):
        assert _via_proxy(c, f"user{i}", "wrong-password", f"198.51.100.{i}").status_code == 401
    assert _via_proxy(c, "zhang", PASSWORD, "198.51.100.200").status_code == 429


@pytest.mark.parametrize("value", ["two", -1, 9])
def test_a_bad_trusted_proxies_setting_is_refused_with_a_clear_message(cast_db, tmp_path, value):
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        make_app(cast_db, tmp_path, TRUSTED_PROXIES=value)


# ------------------------------------------------------------------------------ the account-wide limit


def _fail_from_elsewhere(app, username: str, times: int) -> None:
    """Count ``times`` failed sign-ins of ``username``, each from another address, straight into the throttle's
    storage: the counting is under test, not the password hashing a real request would spend time on."""
    from web.security import record_login_failure

    for i in range(times):
        with app.test_request_context("/login", method="POST",
                                      environ_base={"REMOTE_ADDR": f"10.{i // 250}.{i % 250}.1"}):
            record_login_failure(username)


def test_the_account_wide_limit_refuses_everyone_after_100_failures_until_an_administrator_clears_it(
        app, cast, browser):
    """800-63B §5.2.2: at most 100 failed attempts on one account; the lock then holds at every address."""
    c = app.test_client()
    _fail_from_elsewhere(app, "chair", 99)
    assert _post(c, "chair", "wrong-password", ip="192.0.2.50").status_code == 401  # the 100th is still checked
    response = _post(c, "chair", PASSWORD, ip="198.51.100.20")  # the real chair, never failed from here
    body = response.get_data(as_text=True)
    assert response.status_code == 429 and ACCOUNT_LOCKED in body and MESSAGE not in body

    page = f"/admin/users/{cast.chair.user_id}"
    clear = f"{page}/sign-in-lock/clear"
    admin = browser("admin")
    shown = admin.get(page).get_data(as_text=True)
    assert 'data-sign-in-locked="1"' in shown and "解除登录限制" in shown and clear in shown
    assert browser("unit_hr").post(clear).status_code == 403
    assert _post(c, "chair", PASSWORD, ip="198.51.100.20").status_code == 429
    response = admin.post(clear)
    assert response.status_code == 303 and response.headers["Location"].endswith(page)
    assert "已解除该用户的登录限制" in admin.get(page).get_data(as_text=True)
    assert 'data-sign-in-locked="1"' not in admin.get(page).get_data(as_text=True)
    assert _post(c, "chair", PASSWORD, ip="198.51.100.20").status_code == 303


def test_the_account_wide_lock_looks_the_same_for_unknown_names(app):
    c = app.test_client()
    bodies = {}
    for name in ("zhang", "nobody-here"):
        _fail_from_elsewhere(app, name, 100)
        response = _post(c, name, PASSWORD, ip="192.0.2.77")
        assert response.status_code == 429
        bodies[name] = response.get_data(as_text=True).replace(name, "NAME")
    assert bodies["zhang"] == bodies["nobody-here"] and ACCOUNT_LOCKED in bodies["zhang"]


def test_clearing_a_lock_takes_an_administrator_and_the_csrf_token(cast, tmp_path):
    from webhelpers import Browser

    app = make_app(cast.db, tmp_path, WTF_CSRF_ENABLED=True)
    _fail_from_elsewhere(app, "zhang", 100)
    page = f"/admin/users/{cast.applicant.user_id}"
    clear = f"{page}/sign-in-lock/clear"
    admin = Browser(app.test_client(), PASSWORD).login("admin")
    assert admin.post(clear).status_code == 400  # no token: another site cannot make an admin's browser do it
    hr = Browser(app.test_client(), PASSWORD).login("unit_hr")
    assert hr.post(clear, data={"csrf_token": hr.token("/account")}).status_code == 403
    assert 'data-sign-in-locked="1"' in admin.get(page).get_data(as_text=True)
    assert admin.post(clear, data={"csrf_token": admin.token(page)}).status_code == 303
    assert 'data-sign-in-locked="1"' not in admin.get(page).get_data(as_text=True)
    Browser(app.test_client(), PASSWORD).login("zhang")  # signs in again (fails the test if refused)
    assert admin.post("/admin/users/999999/sign-in-lock/clear",
                      data={"csrf_token": admin.token(page)}).status_code == 404


def test_the_account_wide_lock_is_shared_and_cleared_through_redis(cast_db, tmp_path, redis_url, monkeypatch):
    """Two processes on one Redis: the account-wide lock holds on both, and clearing it on one clears both."""
    prefix = f"titlereview-test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("TITLEREVIEW_RATELIMIT_STORAGE", redis_url)
    first = make_app(cast_db, tmp_path / "one", RATELIMIT_KEY_PREFIX=prefix, LOGIN_FAILURES_PER_ACCOUNT="6 per day")
    second = make_app(cast_db, tmp_path / "two", RATELIMIT_KEY_PREFIX=prefix, LOGIN_FAILURES_PER_ACCOUNT="6 per day")
    try:
        c1, c2 = first.test_client(), second.test_client()
        for i in range(6):  # from two addresses, under the per-address limit at each
            client = c1 if i % 2 else c2
            assert _post(client, "zhang", "wrong-password", ip=f"203.0.113.{i % 2 + 1}").status_code == 401
        assert _post(c1, "zhang", PASSWORD, ip="198.51.100.30").status_code == 429
        assert _post(c2, "zhang", PASSWORD, ip="198.51.100.30").status_code == 429
        from web.security import clear_account_lock

        with first.test_request_context("/"):
            assert clear_account_lock("zhang")
        assert _post(c2, "zhang", PASSWORD, ip="198.51.100.30").status_code == 303
    finally:
        _forget_redis_keys(redis_url, prefix)


def _forget_redis_keys(redis_url: str, prefix: str) -> None:
    """Remove the counters a Redis-backed test left (the server is shared with other tests)."""
    import redis

    r = redis.Redis.from_url(redis_url)
    keys = list(r.scan_iter(f"*{prefix}*"))
    if keys:
        r.delete(*keys)
    r.close()
