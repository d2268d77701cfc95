"""Helpers shared by the web tests: a signed-in test client and small database look-ups."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import inspect, select
from sqlmodel import SQLModel
from werkzeug.datastructures import MultiDict

from workflow.db import Database
from workflow.models import Case, Certificate, User
from workflow.models.attachments import Attachment

PASSWORD = "pw-test-2026"
"""The password of every account of the test cast."""

STANDARD_FOR = {
    "industry-session": "hunan-sme-advanced-manufacturing-senior",
    "exceptional-senior": "hunan-sme-advanced-manufacturing-senior",
    "fallback-filing": "national-engineering-senior",
    "skill-bridging": "national-engineering-engineer",
}
"""The occupation standard each pipeline's test cases are judged by (as seed/cast.py chooses them)."""


def open_case(world, pipeline_id: str = "industry-session", **kw) -> int:
    """Open a case for the cast's applicant with the standard its pipeline is judged by."""
    data = kw.pop("data", None)
    if pipeline_id == "fallback-filing" and data is None and kw.pop("evidence", True):
        data = {"account_evidence": {"kind": "labour_contract", "contract_months": 12, "social_insurance": True}}
    return world.open(pipeline_id, standard_id=STANDARD_FOR[pipeline_id], data=data, **kw)


def certified_case(world) -> tuple[int, str]:
    """The cast applicant's case brought to its certificate, and the certificate's number."""
    from driver import advance

    case_id = open_case(world)
    advance(world, case_id, "certified")
    with world.db.read() as conn:
        number = conn.execute(select(Certificate.__table__.c.number)
                              .where(Certificate.__table__.c.case_id == case_id)).scalar_one()
    return case_id, number


def ensure_attachment_table(db: Database) -> None:
    """Create the attachment table when the migrations do not (yet) create it."""
    if "attachment" not in inspect(db.engine).get_table_names():
        SQLModel.metadata.create_all(db.engine, tables=[Attachment.__table__])


class Browser:
    """A test client that signs in by username and posts forms (with their CSRF token when enabled)."""

    def __init__(self, client, password: str) -> None:
        self.client = client
        self.password = password

    def login(self, username: str) -> Browser:
        """Sign in (fails the test when the sign-in is refused)."""
        self.client.post("/logout", data={"csrf_token": self.token("/login")})
        response = self.client.post("/login", data={"username": username, "password": self.password,
                                                    "csrf_token": self.token("/login")})
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return self

    def token(self, url: str) -> str:
        """The CSRF token from the form on ``url`` ('' when the page has none)."""
        page = self.client.get(url).get_data(as_text=True)
        m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page)
        return m.group(1) if m else ""

    def get(self, url: str, **kw):
        """GET ``url``."""
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict | None = None, **kw):
        """POST ``data`` to ``url``."""
        return self.client.post(url, data=data or {}, **kw)


def user_id(db: Database, username: str) -> int:
    """The id of the account ``username``."""
    with db.read() as conn:
        return conn.execute(select(User.__table__.c.id).where(User.__table__.c.username == username)).scalar_one()


def newest_standard_version(db: Database, standard_id: str) -> int | None:
    """The newest stored version of a standard (None when none is stored)."""
    from workflow.eligibility.standards_store import latest_version

    with db.read() as conn:
        return latest_version(conn, standard_id)


def case_state(db: Database, case_id: int) -> str:
    """The case's state as stored now."""
    with db.read() as conn:
        return conn.execute(select(Case.__table__.c.state).where(Case.__table__.c.id == case_id)).scalar_one()


def case_version(db: Database, case_id: int) -> int:
    """The case's version as stored now."""
    with db.read() as conn:
        return conn.execute(select(Case.__table__.c.version).where(Case.__table__.c.id == case_id)).scalar_one()


def case_reference(db: Database, case_id: int) -> str:
    """The case's reference number (as pages show it)."""
    with db.read() as conn:
        return conn.execute(select(Case.__table__.c.reference).where(Case.__table__.c.id == case_id)).scalar_one()


def demo_case(db: Database, username: str, index: int = 0) -> int:
    """The id of a demo applicant's case (their ``index``-th, in creation order)."""
    c, u = Case.__table__, User.__table__
    with db.read() as conn:
        return conn.execute(select(c.c.id).join(u, u.c.id == c.c.applicant_id).where(u.c.username == username)
                            .order_by(c.c.id)).scalars().all()[index]


def make_app(db: Database, tmp_path: Path, **config):
    """An app on ``db`` with its instance folder under ``tmp_path`` (CSRF off unless asked for)."""
    from web import create_app

    settings = {"DATABASE": db, "DATABASE_URL": db.url, "INSTANCE_PATH": str(tmp_path / "instance"),
                "SECRET_KEY": "test-secret", "TESTING": True, "WTF_CSRF_ENABLED": False}
    settings.update(config)
    return create_app(settings)


def form_fields(page: str, form_id: str) -> MultiDict:
    """What a browser would submit from the form ``form_id`` on ``page`` without touching it: text, hidden and
    date inputs, checked boxes, selected options and textareas (buttons are left out: the test adds the one it
    presses)."""
    from html.parser import HTMLParser

    class _Reader(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.data, self.inside, self.select, self.option, self.area = MultiDict(), False, None, None, None
            self.first_option: dict[str, str] = {}
            self.chosen: set[str] = set()

        def handle_starttag(self, tag, attrs):
            a = {k: (v or "") for k, v in attrs}
            if tag == "form":
                self.inside = a.get("id") == form_id
            if not self.inside:
                return
            name = a.get("name")
            if tag == "input" and name and a.get("type", "text") not in ("submit", "button", "file"):
                if a.get("type") in ("checkbox", "radio"):
                    if "checked" in a:
                        self.data.add(name, a.get("value", "on"))
                else:
                    self.data.add(name, a.get("value", ""))
            elif tag == "select" and name:
                self.select = name
            elif tag == "option" and self.select:
                self.first_option.setdefault(self.select, a.get("value", ""))
                if "selected" in a and self.select not in self.chosen:
                    self.chosen.add(self.select)
                    self.data.add(self.select, a.get("value", ""))
            elif tag == "textarea" and name:
                self.area, self.text = name, ""

        def handle_data(self, data):
            if self.area:
                self.text += data

        def handle_endtag(self, tag):
            if tag == "form":
                self.inside = False
            elif tag == "select" and self.select:
                if self.select not in self.chosen:
                    self.data.add(self.select, self.first_option.get(self.select, ""))
                self.select = None
            elif tag == "textarea" and self.area:
                self.data.add(self.area, self.text.removeprefix("\n"))
                self.area = None

    reader = _Reader()
    reader.feed(page)
    return reader.data
