"""Sign-in throttling (the ``limits`` library's storage): per username and per address, no user enumeration,
and counters shared through Redis when several processes serve the site."""

from __future__ import annotations

import os
import uuid

import pytest
from webhelpers import PASSWORD, make_app

REDIS_URL = os.environ.get("TITLEREVIEW_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
MESSAGE = "用户名或密码错误"


def _post(client, username: str, password: str, ip: str = "198.51.100.7"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def test_five_failures_lock_the_name_even_with_the_right_password(app):
    c = app.test_client()
    for _ in range(5):
        assert _post(c, "zhang", "wrong-password").status_code == 401
    response = _post(c, "zhang", PASSWORD)
    assert response.status_code == 429 and MESSAGE in response.get_data(as_text=True)
    assert "/applicant/" not in response.headers.get("Location", "")
    # another person's sign-in from another address is unaffected
    assert _post(c, "li", PASSWORD, ip="198.51.100.8").status_code == 303


def test_the_lock_is_per_name_case_and_space_insensitive(app):
    c = app.test_client()
    for name in ("Zhang", " zhang", "ZHANG ", "zhang", "zHang"):
        _post(c, name, "wrong-password")
    assert _post(c, "zhang", PASSWORD, ip="203.0.113.1").status_code == 429


def test_unknown_and_existing_names_get_the_same_answers(app):
    """Wrong password, unknown user, deactivated and locked: one message; the lock comes as soon for both."""
    c = app.test_client()
    bodies = {}
    for name in ("zhang", "nobody-here"):
        statuses = [_post(c, name, "wrong-password", ip=f"192.0.2.{len(bodies) + 1}") for _ in range(6)]
        assert [r.status_code for r in statuses] == [401] * 5 + [429]
        bodies[name] = [r.get_data(as_text=True).replace(name, "NAME") for r in statuses]
    assert bodies["zhang"] == bodies["nobody-here"]


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
    app = make_app(cast_db, tmp_path, LOGIN_FAILURES_PER_USERNAME="2 per hour")
    c = app.test_client()
    _post(c, "zhang", "x"), _post(c, "zhang", "x")
    assert _post(c, "zhang", PASSWORD).status_code == 429
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
        import redis

        r = redis.Redis.from_url(redis_url)
        keys = list(r.scan_iter(f"*{prefix}*"))
        if keys:
            r.delete(*keys)
        r.close()


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
