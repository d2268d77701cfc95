"""Bodies of the wrong type: every API endpoint that takes a body answers 415 problem+json to anything but JSON
(and 400 to JSON that does not parse); endpoints without a body ignore one.

The endpoints come from the app's URL map and the OpenAPI document, so a new endpoint is covered without
touching this file.
"""

from __future__ import annotations

import io
import re

import pytest
from webhelpers import open_case

from web.api import PREFIX, openapi_document
from workflow.access import api_tokens

PROBLEM = "application/problem+json"
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
WRONG_BODIES = {
    "form-encoded": lambda: {"data": {"comment": "x", "expected_version": "1"}},
    "multipart": lambda: {"data": {"comment": "x", "file": (io.BytesIO(b'{"comment": "x"}'), "body.json")},
                          "content_type": "multipart/form-data"},
    "text/plain": lambda: {"data": '{"comment": "x"}', "content_type": "text/plain"},
    "no content type": lambda: {"data": b'{"comment": "x"}'},  # the test client then sends no Content-Type
    "xml": lambda: {"data": b"<comment>x</comment>", "content_type": "application/xml"},
    "empty text/plain": lambda: {"data": b"", "content_type": "text/plain"},
}
"""Ways of sending a body that is not JSON: the Flask test client's keyword arguments (fresh each time, a file
part is read once)."""


def _openapi_path(rule: str) -> str:
    """``/cases/<int(signed=True):case_id>`` → ``/cases/{case_id}`` (how spectree names the path)."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def api_operations(app) -> list[tuple[str, str, str, bool]]:
    """(method, URL, OpenAPI path, takes a body) of every API endpoint, from the URL map and the document."""
    with app.app_context():
        paths = openapi_document()["paths"]
    ops = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        # Any value builds any argument here: the media type is checked before the arguments mean anything.
        url = app.url_map.bind("localhost").build(rule.endpoint, dict.fromkeys(rule.arguments, 1))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = _openapi_path(rule.rule)
            operation = paths.get(path, {}).get(method.lower(), {})
            ops.append((method, url, path, "requestBody" in operation))
    return ops


@pytest.fixture
def admin_token(cast):
    open_case(cast)
    return api_tokens.create_token(cast.db, cast.admin.user_id, "media types", ["administrator"]).secret


def _send(app, method: str, url: str, token: str, lang: str = "zh", **kw):
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": lang}
    return app.test_client().open(url, method=method, headers=headers, **kw)


def test_the_operations_are_derived_and_include_the_action_endpoint(app):
    ops = api_operations(app)
    with_body = [(m, p) for m, _u, p, body in ops if body]
    assert ("POST", f"{PREFIX}/cases/{{case_id}}/actions/{{trigger}}") in with_body
    # Every endpoint that can receive a body declares one in the document, so the table below checks them all.
    assert all(body for m, _u, _p, body in ops if m in BODY_METHODS), ops


@pytest.mark.parametrize("kind", sorted(WRONG_BODIES))
def test_every_endpoint_with_a_body_refuses_a_body_that_is_not_json(app, admin_token, kind):
    for method, url, path, body in api_operations(app):
        if not body:
            continue
        for lang, title, detail in (("zh", "不支持的内容类型", "请求体须为 JSON"),
                                    ("en", "Unsupported media type", "must be JSON")):
            response = _send(app, method, url, admin_token, lang, **WRONG_BODIES[kind]())
            assert response.status_code == 415, (kind, method, path, response.get_data(as_text=True))
            assert response.mimetype == PROBLEM and response.headers["Accept-Post"] == "application/json"
            problem = response.get_json(force=True)
            assert problem["status"] == 415 and problem["title"] == title and detail in problem["detail"]


@pytest.mark.parametrize("kind", sorted(WRONG_BODIES))
def test_endpoints_without_a_body_ignore_one(app, admin_token, kind):
    for method, url, path, body in api_operations(app):
        if body:
            continue
        response = _send(app, method, url, admin_token, **WRONG_BODIES[kind]())
        assert response.status_code < 500 and response.status_code != 415, (kind, method, path)
        no_body = _send(app, method, url, admin_token)
        assert response.status_code == no_body.status_code, (kind, method, path)


def test_json_that_does_not_parse_is_a_400_and_json_still_works(app, cast, admin_token):
    case_id = open_case(cast)
    url = f"{PREFIX}/cases/{case_id}/actions/submit"
    response = _send(app, "POST", url, admin_token, data=b'{"comment": ', content_type="application/json")
    assert response.status_code == 400 and response.mimetype == PROBLEM
    assert response.get_json(force=True)["title"] == "请求无效"
    # JSON, with or without a charset, and no body at all reach the endpoint (the administrator may not submit)
    for kw in ({"json": {"comment": "x"}}, {"data": b"{}", "content_type": "application/json; charset=utf-8"},
               {}):
        response = _send(app, "POST", url, admin_token, **kw)
        assert response.status_code == 403 and response.mimetype == PROBLEM, kw


def test_the_document_lists_415_and_400_for_endpoints_with_a_body(app):
    with app.app_context():
        paths = openapi_document()["paths"]
    operations = [op for item in paths.values() for op in item.values() if "requestBody" in op]
    assert operations
    for op in operations:
        for code in ("400", "415"):
            assert PROBLEM in op["responses"][code]["content"], (op["operationId"], code)
