"""CSRF on every state-changing route, security headers on every kind of response (HSTS when configured), session
cookie flags, and a production configuration without debug pages or tracebacks."""

from __future__ import annotations

import re

import pytest
from webhelpers import PASSWORD, Browser, make_app

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
TOKEN_AUTHENTICATED = ("/api/",)
"""Path prefixes authenticated by a bearer token, never by the cookie: CSRF does not apply there."""


def _sample_url(rule) -> str:
    """The rule with every variable filled (CSRF is checked before the view looks at them)."""
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        values[name] = 1 if type(converter).__name__ in ("IntegerConverter", "FloatConverter") else "x"
    return rule.build(values, append_unknown=False)[1]


def test_every_state_changing_route_refuses_a_missing_csrf_token(cast_db, tmp_path):
    app = make_app(cast_db, tmp_path, WTF_CSRF_ENABLED=True)
    anon = Browser(app.test_client(), PASSWORD)
    admin = Browser(app.test_client(), PASSWORD).login("admin")
    checked = []
    for rule in app.url_map.iter_rules():
        methods = (rule.methods or set()) & STATE_CHANGING
        if not methods or rule.rule.startswith(TOKEN_AUTHENTICATED):
            continue
        url = _sample_url(rule)
        for method in sorted(methods):
            for who, b in (("anonymous", anon), ("admin", admin)):
                for data in ({}, {"csrf_token": "forged"}):
                    response = b.client.open(url, method=method, data=data)
                    assert response.status_code == 400, f"{method} {url} ({rule.endpoint}) as {who} with {data}"
                    assert "安全令牌" in response.get_data(as_text=True)
            checked.append(f"{method} {rule.rule}")
    assert len(checked) >= 30, checked
    # the admin is still signed in: the refused POST /logout did not sign them out
    assert admin.get("/admin/").status_code == 200


def test_a_token_from_another_session_is_refused(cast_db, tmp_path):
    app = make_app(cast_db, tmp_path, WTF_CSRF_ENABLED=True)
    a = Browser(app.test_client(), PASSWORD).login("zhang")
    b = Browser(app.test_client(), PASSWORD).login("li")
    token_of_a = a.token("/account")
    assert token_of_a
    response = b.post("/account", data={"csrf_token": token_of_a, "current": PASSWORD, "new": "x" * 12,
                                        "confirm": "x" * 12})
    assert response.status_code == 400


def test_the_api_is_exempt_but_takes_no_cookie(cast_db, tmp_path):
    app = make_app(cast_db, tmp_path, WTF_CSRF_ENABLED=True)
    b = Browser(app.test_client(), PASSWORD).login("admin")
    assert b.client.post("/api/v1/cases/1/actions/withdraw", json={}).status_code == 401


@pytest.mark.parametrize("url", ["/", "/login", "/no-such-page", "/cases/999999", "/static/app.css"])
def test_security_headers_on_pages_errors_and_files(browser, url):
    b = browser("zhang") if url.startswith("/cases") else browser()
    response = b.get(url)
    response.close()
    csp = response.headers["Content-Security-Policy"]
    directives = dict([*d.strip().split(" ", 1), ""][:2] for d in csp.split(";") if d.strip())
    assert directives["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] in ("same-origin", "strict-origin-when-cross-origin", "no-referrer")
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = dict(p.strip().split("=", 1) for p in response.headers["Permissions-Policy"].split(","))
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "serial", "hid", "display-capture"):
        assert policy[feature] == "()", feature
    assert "Strict-Transport-Security" not in response.headers  # off unless configured (plain-HTTP trials)


@pytest.mark.parametrize("url", ["/login", "/no-such-page", "/static/app.css", "/api/v1/openapi.json"])
def test_the_api_and_files_get_the_same_headers(app, url):
    response = app.test_client().get(url)
    response.close()
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]


@pytest.mark.parametrize(("config", "expected"), [
    ({"HSTS_SECONDS": 31536000}, "max-age=31536000"),
    ({"HSTS_SECONDS": "63072000", "HSTS_INCLUDE_SUBDOMAINS": True}, "max-age=63072000; includeSubDomains"),
    ({"HSTS_SECONDS": 0}, "max-age=0"),  # tells browsers to forget an earlier policy
    ({"HSTS_INCLUDE_SUBDOMAINS": True}, None),  # no max-age: no header
])
def test_hsts_is_sent_when_configured(cast_db, tmp_path, config, expected):
    app = make_app(cast_db, tmp_path, **config)
    for url in ("/login", "/no-such-page", "/static/app.css", "/api/v1/openapi.json"):
        response = app.test_client().get(url, base_url="https://titlereview.example")
        response.close()
        assert response.headers.get("Strict-Transport-Security") == expected, url


def test_hsts_comes_from_the_environment(cast_db, tmp_path, monkeypatch):
    monkeypatch.setenv("TITLEREVIEW_HSTS_SECONDS", "86400")
    monkeypatch.setenv("TITLEREVIEW_HSTS_INCLUDE_SUBDOMAINS", "1")
    response = make_app(cast_db, tmp_path).test_client().get("/login")
    assert response.headers["Strict-Transport-Security"] == "max-age=86400; includeSubDomains"
    monkeypatch.setenv("TITLEREVIEW_HSTS_SECONDS", "a year")
    with pytest.raises(ValueError, match="HSTS_SECONDS"):
        make_app(cast_db, tmp_path / "bad")


def test_pages_carry_no_inline_script(browser):
    """The CSP forbids inline script, so pages must not depend on any (it would silently not run)."""
    b = browser("admin")
    for url in ("/", "/login", "/admin/", "/admin/users", "/notices", "/account"):
        body = b.get(url).get_data(as_text=True)
        for tag in re.findall(r"<script\b[^>]*>", body):
            assert "src=" in tag, f"inline script on {url}: {tag}"
        assert not re.search(r"\son(click|load|error|submit|change)=", body), f"inline handler on {url}"


def test_session_cookie_flags_in_production(cast_db, tmp_path):
    app = make_app(cast_db, tmp_path, TESTING=False)
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["REMEMBER_COOKIE_SECURE"] is True
    c = app.test_client()
    c.get("/login", base_url="https://titlereview.example")
    response = c.post("/login", data={"username": "zhang", "password": PASSWORD},
                      base_url="https://titlereview.example")
    assert response.status_code == 303
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "samesite"} <= flags and "SameSite=Lax" in cookie


def test_the_secure_flag_is_configurable(cast_db, tmp_path):
    assert make_app(cast_db, tmp_path).config["SESSION_COOKIE_SECURE"] is False  # testing: plain http
    app = make_app(cast_db, tmp_path / "plain", TESTING=False, SESSION_COOKIE_SECURE=False)
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_production_shows_no_debugger_or_traceback(cast_db, tmp_path, caplog):
    app = make_app(cast_db, tmp_path, TESTING=False)
    assert not app.debug and not app.testing and not app.config["PROPAGATE_EXCEPTIONS"]

    def boom():
        raise RuntimeError("secret internals /etc/passwd")

    app.add_url_rule("/boom-prod", "boom_prod", boom)
    response = app.test_client().get("/boom-prod")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Traceback" not in body and "secret internals" not in body and "Werkzeug" not in body
    assert "Content-Security-Policy" in response.headers
