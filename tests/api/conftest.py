"""Fixtures for the API tests: the web tests' cast database and app (tests/web/conftest.py), and tokens."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_WEB_TESTS = Path(__file__).resolve().parents[1] / "web"
if str(_WEB_TESTS) not in sys.path:
    sys.path.insert(0, str(_WEB_TESTS))  # webhelpers, as tests/web/conftest.py imports it


def _load_web_fixtures():
    name = "tests_web_fixtures"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, _WEB_TESTS / "conftest.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_web = _load_web_fixtures()
cast_template = _web.cast_template
cast_db = _web.cast_db
cast = _web.cast
app = _web.app
browser = _web.browser


@pytest.fixture
def token_for(cast_db):
    """``token_for(actor)``: a fresh API token for that cast actor with all their roles."""
    from workflow.access import api_tokens

    def make(actor, roles=None) -> str:
        return api_tokens.create_token(cast_db, actor.user_id, "test", roles or sorted(actor.roles)).secret

    return make


@pytest.fixture
def api(app):
    """``api(token).get(url)``: a test client sending ``Authorization: Bearer <token>``."""

    class Client:
        def __init__(self, token: str | None) -> None:
            self.client = app.test_client()
            self.headers = {"Authorization": f"Bearer {token}"} if token else {}

        def get(self, url: str, **kw):
            return self.client.get(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

        def post(self, url: str, json=None, **kw):
            return self.client.post(url, json=json if json is not None else {},
                                    headers={**self.headers, **kw.pop("headers", {})}, **kw)

    return Client
