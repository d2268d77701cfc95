"""The web-layer findings of issue 15 (items 3-5), each a test run on SQLite and on PostgreSQL.

The issue is done when "each finding above is a test that failed before and passes now, on SQLite and on
PostgreSQL". The tests written with the fixes mostly run on SQLite only; these run the same checks over the
``any_cast_db`` fixtures (tests/web/conftest.py), reusing the setup helpers of the tests that cover each finding
in depth: test_session_revocation.py, test_web_notice_print.py and tests/api/test_api_objector_privacy.py,
test_login_throttling.py, tests/api/test_api_media_types.py, test_upload_attacks.py,
test_headers_and_sessions.py and tests/test_cli.py.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import uuid
from pathlib import Path

from driver import advance
from test_login_throttling import ACCOUNT_LOCKED, MESSAGE, _fail_from_elsewhere, _forget_redis_keys, _post
from test_session_revocation import NEW_PASSWORD, _api_status, _copy, _mint, _to_login, _token_names
from test_upload_attacks import ACTIVE_PDF_TEXT, ACTIVE_PDFS, PDF_HTML_POLYGLOT, _files, _rows, _upload
from webhelpers import PASSWORD, Browser, case_state, case_version, make_app, open_case

from workflow.access import api_tokens


def _token(cast, actor) -> str:
    """A fresh API token for a cast actor with all their roles (as tests/api/conftest.py's ``token_for``)."""
    return api_tokens.create_token(cast.db, actor.user_id, "both databases", sorted(actor.roles)).secret


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ------------------------------------------------------------------------------------- item 3: sessions that end


def test_a_cookie_saved_before_logout_is_refused_after_it_and_mints_no_token(any_app, any_cast, any_browser):
    owner = any_browser("zhang")
    secret = _mint(owner, "before logout")
    saved = _copy(any_app, owner)
    assert saved.get("/account").status_code == 200  # the saved cookie works while the session lives
    form_token = saved.token("/account/tokens")
    assert owner.post("/logout").status_code == 303
    for url in ("/account", "/applicant/", "/account/tokens"):
        assert _to_login(saved.get(url)), url
    assert _to_login(saved.post("/account/tokens", data={"name": "stolen", "scopes": "applicant",
                                                         "csrf_token": form_token}))
    assert _token_names(any_cast.db, any_cast.applicant.user_id) == ["before logout"]
    assert _api_status(any_app, secret) == 200  # API tokens are no sessions: they last until revoked
    assert any_browser("zhang").get("/account").status_code == 200 and _to_login(saved.get("/account"))


def test_a_password_change_and_sign_out_everywhere_end_earlier_cookies(any_app, any_cast, any_browser):
    # a password change: the changer's own session goes on, every other one ends
    changer, other = any_browser("zhang"), any_browser("zhang")
    saved = _copy(any_app, changer)
    secret = _mint(changer, "before the change")
    response = changer.post("/account", data={"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 303
    assert changer.get("/account").status_code == 200
    assert _to_login(other.get("/account")) and _to_login(saved.get("/account"))
    assert _api_status(any_app, secret) == 200
    assert Browser(any_app.test_client(), NEW_PASSWORD).login("zhang").get("/account").status_code == 200

    # an administrator's "sign out everywhere"
    uid = any_cast.other_applicant.user_id
    laptop, phone, admin = any_browser("li"), any_browser("li"), any_browser("admin")
    saved = _copy(any_app, laptop)
    secret = _mint(laptop, "laptop")
    response = admin.post(f"/admin/users/{uid}/sign-out")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/admin/users/{uid}")
    for b in (laptop, phone, saved):
        assert _to_login(b.get("/account"))
    assert admin.get(f"/admin/users/{uid}").status_code == 200  # the administrator's own session is untouched
    assert _api_status(any_app, secret) == 200
    assert any_browser("li").get("/account").status_code == 200  # the password still works


# ------------------------------------------------------------------------- item 4: unit-internal notices, throttling


def test_a_unit_internal_notice_is_hidden_from_outsiders_and_open_to_the_unit(any_app, any_cast, any_browser):
    """The objection form, the printed sheet and the API follow one rule (``workflow.records.notices.visible_notice``).
    The pages answer an outsider 404; the API answers as for a case on no notice (tests/api/
    test_api_objector_privacy.py), so it does not even admit that a notice runs."""
    cast = any_cast
    case_id = cast.open("industry-session")
    advance(cast, case_id, "unit_notice")
    elsewhere = cast.open("industry-session")  # on no notice at all
    form, sheet = f"/notices/{case_id}/objection", f"/unit-notices/{case_id}/print"
    for username in ("outsider", "li", "other_hr", "officer"):
        b = any_browser(username)
        assert b.get(sheet).status_code == 404, username
        response = b.get(form)
        body = response.get_data(as_text=True)
        assert response.status_code == 404 and cast.applicant.name not in body and "副高" not in body, username
    for username in ("unit_hr", "colleague"):
        b = any_browser(username)
        assert b.get(sheet).status_code == 200, username
        page = b.get(form)
        assert page.status_code == 200 and "实名提交异议" in page.get_data(as_text=True), username

    client = any_app.test_client()
    outsider = _bearer(_token(cast, cast.other_applicant))
    body = {"data": {"reason": "该申报人的业绩材料存在疑问，请核查。"}}
    answers = []
    for cid in (case_id, elsewhere):
        listed = client.get(f"/api/v1/cases/{cid}/actions", headers=outsider)
        shown = client.get(f"/api/v1/cases/{cid}", headers=outsider)
        fired = client.post(f"/api/v1/cases/{cid}/actions/file_objection", json=body, headers=outsider)
        answers.append((listed.status_code, shown.status_code, fired.status_code, fired.get_json()["detail"]))
        assert cast.applicant.name not in listed.get_data(as_text=True) + fired.get_data(as_text=True)
    assert answers[0] == answers[1] and answers[0][:3] == (403, 403, 409)
    assert case_state(cast.db, case_id) == "unit_notice"

    # the unit's reviewer sees the case through the API; the unit's staff object by name on the form (an
    # account without roles, as the colleague is, can hold no API token)
    unit = _bearer(_token(cast, cast.unit))
    assert client.get(f"/api/v1/cases/{case_id}", headers=unit).status_code == 200
    assert client.get(f"/api/v1/cases/{case_id}/actions", headers=unit).status_code == 200
    response = any_browser("colleague").post(f"/cases/{case_id}/actions/file_objection", data={
        "reason": "申报人近三年年度考核结果与材料不符。", "return_to": "objection",
        "version": str(case_version(cast.db, case_id))})
    assert response.status_code == 303 and case_state(cast.db, case_id) == "unit_notice_objection"


def test_an_attacker_cannot_lock_the_user_out_yet_guessing_stays_bounded(any_cast_db, any_cast, tmp_path):
    """NIST SP 800-63B §5.2.2 as test_login_throttling.py checks it: per (account, address), plus at most 100
    failures on one account everywhere, which an administrator clears. Counters in memory, or in the shared
    store ``TITLEREVIEW_RATELIMIT_STORAGE`` names (then under a prefix of this test's own, removed after)."""
    prefix = f"titlereview-test-{uuid.uuid4().hex[:12]}"
    app = make_app(any_cast_db, tmp_path, RATELIMIT_KEY_PREFIX=prefix)
    storage = app.config["RATELIMIT_STORAGE_URI"]
    try:
        attacker, user = app.test_client(), app.test_client()
        for _ in range(5):
            assert _post(attacker, "chair", "wrong-password", ip="203.0.113.66").status_code == 401
        for password in ("wrong-password", PASSWORD):
            assert _post(attacker, "chair", password, ip="203.0.113.66").status_code == 429
        assert _post(user, "chair", PASSWORD, ip="198.51.100.20").status_code == 303
        user.post("/logout")

        _fail_from_elsewhere(app, "zhang", 99)
        c = app.test_client()
        assert _post(c, "zhang", "wrong-password", ip="192.0.2.50").status_code == 401  # the 100th is checked
        response = _post(c, "zhang", PASSWORD, ip="198.51.100.21")  # never failed from here, refused all the same
        body = response.get_data(as_text=True)
        assert response.status_code == 429 and ACCOUNT_LOCKED in body and MESSAGE not in body

        page = f"/admin/users/{any_cast.applicant.user_id}"
        admin = Browser(app.test_client(), PASSWORD).login("admin")
        assert 'data-sign-in-locked="1"' in admin.get(page).get_data(as_text=True)
        assert admin.post(f"{page}/sign-in-lock/clear").status_code == 303
        assert 'data-sign-in-locked="1"' not in admin.get(page).get_data(as_text=True)
        assert _post(c, "zhang", PASSWORD, ip="198.51.100.21").status_code == 303
    finally:
        if storage.startswith(("redis://", "rediss://")):
            _forget_redis_keys(storage, prefix)


# --------------------------------------------------------------------------------- item 5: inputs and outputs


def _media_types_module():
    """tests/api/test_api_media_types.py (its wrong bodies and sender), loaded from its file: tests/api is not
    on the import path when only tests/web runs."""
    name = "tests_api_media_types"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "api" / "test_api_media_types.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_the_api_answers_415_problem_json_to_form_and_multipart_bodies(any_app, any_cast):
    media = _media_types_module()
    cast = any_cast
    case_id = open_case(cast)
    token = _token(cast, cast.applicant)
    url = f"/api/v1/cases/{case_id}/actions/submit"
    before = case_version(cast.db, case_id)
    for kind in ("form-encoded", "multipart"):
        response = media._send(any_app, "POST", url, token, **media.WRONG_BODIES[kind]())
        assert response.status_code == 415, (kind, response.get_data(as_text=True))
        assert response.mimetype == media.PROBLEM and response.headers["Accept-Post"] == "application/json"
        problem = response.get_json(force=True)
        assert problem["status"] == 415 and problem["title"] == "不支持的内容类型" and "JSON" in problem["detail"]
    assert case_version(cast.db, case_id) == before and case_state(cast.db, case_id) == "draft"
    # the same action with a JSON body reaches the engine
    response = media._send(any_app, "POST", url, token, json={"expected_version": before})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert case_state(cast.db, case_id) != "draft"


def test_uploads_take_the_extension_of_their_content_and_scripted_pdfs_are_refused(any_app, any_cast, any_browser):
    case_id = open_case(any_cast, materials=False)  # the files this test uploads are the only ones
    b = any_browser("zhang")
    assert _upload(b, case_id, PDF_HTML_POLYGLOT, "x.html", "text/html").status_code == 303
    (row,) = _rows(any_cast.db, case_id)
    assert row["content_type"] == "application/pdf" and row["stored_name"].endswith(".pdf")
    assert row["original_name"] == "x.pdf"
    (stored,) = _files(any_app.config["UPLOAD_FOLDER"])
    assert stored.name == row["stored_name"]
    response = b.get(f"/cases/{case_id}/materials/{row['id']}")
    assert response.status_code == 200 and response.data == PDF_HTML_POLYGLOT
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=x.pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()

    response = _upload(b, case_id, ACTIVE_PDFS["open-action-javascript"], "材料.pdf", "application/pdf")
    assert response.status_code == 422 and ACTIVE_PDF_TEXT in response.get_data(as_text=True)
    assert [r["id"] for r in _rows(any_cast.db, case_id)] == [row["id"]]
    assert _files(any_app.config["UPLOAD_FOLDER"]) == [stored]


def test_headers_coop_permissions_policy_hsts_when_configured_and_no_server_banner(
        any_cast_db, any_cast, any_app, any_browser, tmp_path):
    from test_cli import served_headers  # tests/test_cli.py imports web at module level: not before conftest ran

    case_id = open_case(any_cast)
    urls = ["/", "/login", "/notices", "/no-such-page", "/static/app.css", "/api/v1/openapi.json",
            f"/cases/{case_id}"]
    b = any_browser("zhang")
    for url in urls:
        response = b.get(url)
        response.close()
        assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin", url
        policy = dict(p.strip().split("=", 1) for p in response.headers["Permissions-Policy"].split(","))
        for feature in ("camera", "microphone", "geolocation", "payment", "usb", "display-capture"):
            assert policy[feature] == "()", (url, feature)
        assert "Strict-Transport-Security" not in response.headers, url  # off unless configured
        assert "Server" not in response.headers, url

    app = make_app(any_cast_db, tmp_path / "hsts", HSTS_SECONDS=31536000, HSTS_INCLUDE_SUBDOMAINS=True)
    client = app.test_client()
    for url in urls[:-1]:
        response = client.get(url, base_url="https://titlereview.example")
        response.close()
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains", url

    # as deployed: gunicorn over this very database, with a page that reads it
    served = served_headers(any_cast_db.url, tmp_path / "served", ("/notices", "/static/favicon.svg", "/login"))
    for url, (status, headers) in served.items():
        assert status == 200, url
        assert not headers.get("Server"), (url, headers.get("Server"))
        assert all("gunicorn" not in value.lower() for _name, value in headers.items()), url
        assert headers.get("Cross-Origin-Opener-Policy") == "same-origin", url
        assert re.search(r"camera=\(\)", headers.get("Permissions-Policy", "")), url
