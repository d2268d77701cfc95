"""Helpers shared by the web tests: a signed-in test client and small database look-ups."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import inspect, select
from sqlmodel import SQLModel

from workflow.db import Database
from workflow.models import Case, User
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


def case_state(db: Database, case_id: int) -> str:
    """The case's state as stored now."""
    with db.read() as conn:
        return conn.execute(select(Case.__table__.c.state).where(Case.__table__.c.id == case_id)).scalar_one()


def case_version(db: Database, case_id: int) -> int:
    """The case's version as stored now."""
    with db.read() as conn:
        return conn.execute(select(Case.__table__.c.version).where(Case.__table__.c.id == case_id)).scalar_one()


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
