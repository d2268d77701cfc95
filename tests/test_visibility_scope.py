"""One visibility rule, two forms: the SQL scope every listing uses (:func:`workflow.access.visible_case_condition`)
admits exactly the cases the case page's predicate (:func:`workflow.access.dossier_relations`) lets each person
open — checked case by case for every account of the demo, which holds every role and every stage."""

from __future__ import annotations

import shutil
from datetime import datetime

import pytest
from sqlalchemy import select

from seed.demo import load_demo
from workflow import queries
from workflow.access import dossier_relations, visible_case_condition
from workflow.calendar import CHINA_TZ
from workflow.db import Database
from workflow.directory import actor_for
from workflow.models import Case, User
from workflow.roles import Actor

NOW = datetime(2026, 6, 22, 10, 0, tzinfo=CHINA_TZ)  # the moment the demo is written for


@pytest.fixture(scope="module")
def demo(sqlite_template, tmp_path_factory) -> Database:
    """The demo (every role, every stage) in a database of this module's own."""
    path = tmp_path_factory.mktemp("scope") / "demo.db"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    load_demo(db, now=NOW.astimezone(CHINA_TZ))
    yield db
    db.dispose()


def _actors(db: Database) -> list[Actor]:
    with db.session() as s:
        ids = sorted(s.exec(select(User.id)).scalars())
        return [actor_for(s, uid) for uid in ids]


def test_the_demo_covers_every_kind_of_viewer(demo):
    roles = set().union(*(a.roles for a in _actors(demo)))
    assert {"applicant", "unit_reviewer", "agency_reviewer", "superior_reviewer", "authority_officer",
            "panel_member", "panel_chair", "administrator"} <= roles


def test_the_sql_scope_admits_exactly_what_the_case_page_lets_each_person_open(demo):
    case_t = Case.__table__
    with demo.read() as conn:
        case_ids = sorted(conn.execute(select(case_t.c.id)).scalars())
    cases = {}
    with demo.read() as conn:
        for cid in case_ids:
            cases[cid] = queries.case_detail(conn, cid)
    checked = 0
    for actor in [*_actors(demo), Actor(user_id=None)]:
        with demo.read() as conn:
            in_scope = set(conn.execute(select(case_t.c.id).where(visible_case_condition(conn, demo, actor)))
                           .scalars())
        for cid, case in cases.items():
            allowed = bool(dossier_relations(demo, actor, case)[0]) if actor.user_id is not None else False
            assert (cid in in_scope) == allowed, (actor, cid, case["state"])
            checked += 1
    assert checked > 500  # every account against every case, not a sample
