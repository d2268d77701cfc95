"""Real-browser fixtures: Debian's Chromium driven by Playwright against the app served from a thread.

Every test here carries the ``browser`` marker. Without /usr/bin/chromium or the playwright package the tests
are skipped with the reason — except under ``CI=true``, where a missing browser must not pass silently and
the tests fail instead. Playwright never downloads a browser here (no ``playwright install``): it launches the
system Chromium through ``executable_path``.

Every page a test loads is checked with axe-core's WCAG 2.1 A and AA rules (``axe_audit.py``): a violation
fails the test at its teardown, with the rule, the element and the page, unless ``axe_exceptions.py`` excuses it.

Each test module gets a fresh SQLite database (the migrated template, the test cast with known passwords and
the shipped standards) and its own server on a free port of 127.0.0.1.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_audit import AuditedBrowser, AxeAudit, report
from livehelpers import CHROMIUM_ARGS, PASSWORD, Person
from sqlalchemy import inspect, update
from sqlmodel import SQLModel

from seed.cast import build_world
from workflow.access.passwords import hash_password
from workflow.db import Database
from workflow.eligibility.standards_store import sync_standards
from workflow.models import User
from workflow.models.attachments import Attachment

CHROMIUM = Path(os.environ.get("TITLEREVIEW_CHROMIUM", "/usr/bin/chromium"))
"""Debian's Chromium (TITLEREVIEW_CHROMIUM overrides the path, e.g. to check the skip behaviour)."""

# The project root first on sys.path: tests/web is also called "web" (see tests/web/conftest.py).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
if "web" in sys.modules and getattr(sys.modules["web"], "__file__", None) is None:
    del sys.modules["web"]


def pytest_collection_modifyitems(config, items) -> None:
    """Mark every test of this directory as a browser test."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install playwright==1.65.2; never `playwright install`)"
    if importlib.util.find_spec("axe_playwright_python") is None:
        return "the axe-playwright-python package is not installed (pip install axe-playwright-python==0.1.8)"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium fonts-wqy-zenhei)"
    return None


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """The system Chromium; skip (or fail under CI=true) when it or Playwright is missing."""
    why = _missing()
    if why:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests need Chromium and Playwright under CI: {why}")
        pytest.skip(why)
    return CHROMIUM


@pytest.fixture(scope="session")
def screenshot_dir(request) -> Path:
    """Where screenshots go (``test-output/screenshots`` under the repository root; git ignores it)."""
    path = Path(request.config.rootpath) / "test-output" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def live_db(sqlite_template: Path, tmp_path_factory) -> Iterator[Database]:
    """A fresh database for the module: migrated, the standards stored, the test cast (with profiles)."""
    directory = tmp_path_factory.mktemp("browser")
    shutil.copyfile(sqlite_template, directory / "live.db")
    db = Database(f"sqlite:///{directory / 'live.db'}")
    if "attachment" not in inspect(db.engine).get_table_names():
        SQLModel.metadata.create_all(db.engine, tables=[Attachment.__table__])
    sync_standards(db)  # already in the template; a no-op then, but the journeys depend on it
    build_world(db)  # the cast's applicants come with a profile that meets the seed standards
    with db.write() as conn:
        conn.execute(update(User.__table__).values(password_hash=hash_password(PASSWORD)))
    yield db
    db.dispose()


def _closing_bodies(app):
    """The app with every response body read and closed before werkzeug's development server writes it.

    When the browser drops a connection (a navigation cancels a stylesheet load), that server can skip closing
    the response, and the open static file surfaces later as a ResourceWarning in whichever test is running.
    """

    def wsgi(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


@pytest.fixture(scope="module")
def live_server(live_db: Database, tmp_path_factory, chromium_path) -> Iterator[str]:
    """The app served by werkzeug from a thread on 127.0.0.1 (free port); yields the base URL."""
    from werkzeug.serving import make_server

    from web import create_app

    app = create_app({"DATABASE": live_db, "DATABASE_URL": live_db.url, "SECRET_KEY": "browser-tests",
                      "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance"))})
    server = make_server("127.0.0.1", 0, _closing_bodies(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def axe_audit() -> AxeAudit:
    """What axe-core found on the pages loaded so far (one collector for the run; each test takes its own)."""
    return AxeAudit()


@pytest.fixture(autouse=True)
def no_axe_violations(axe_audit: AxeAudit) -> Iterator[None]:
    """Fail the test at teardown when a page it loaded broke a WCAG 2.1 A/AA rule that axe-core checks."""
    axe_audit.take()  # what an earlier test left behind is that test's, already reported
    yield
    findings = axe_audit.take()
    if findings:
        pytest.fail(report(findings), pytrace=False)


@pytest.fixture(scope="module")
def chromium(chromium_path: Path, axe_audit: AxeAudit):
    """One Chromium per module (each signed-in person gets their own context), every page of it audited by axe."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            yield AuditedBrowser(browser, axe_audit)
        finally:
            browser.close()


@pytest.fixture(scope="module")
def people(chromium, live_server, screenshot_dir):
    """``people("zhang")``: that person, signed in on first use (one browser context per person per module)."""
    made: dict[str, Person] = {}

    def get(username: str) -> Person:
        """The person, signed in on first use."""
        if username not in made:
            made[username] = Person(chromium, live_server, username, screenshot_dir)
        return made[username]

    yield get
    for person in made.values():
        person.close()
