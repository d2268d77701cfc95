"""One visibility rule, two forms: the SQL scope every listing uses (:func:`workflow.access.visibility.visible_cases`)
admits exactly the cases the case page's predicate (:func:`workflow.access.visibility.dossier_relations`) lets each
person
open — checked case by case for every account of the demo, which holds every role and every stage, on SQLite and
on PostgreSQL (whose superior-chain test is JSONB containment, SQLite's a search of ``json_each``).

Then the listings themselves: every inbox, report and process-view query, given a person's scope and nothing
else, lists exactly (queues: at most) the cases the predicate lets that person open."""

from __future__ import annotations

import shutil
from datetime import datetime

import pytest
from scratch_db import scratch_postgres
from sqlalchemy import select

from seed.demo import load_demo
from workflow.access.roles import Actor
from workflow.access.visibility import VisibleCases, dossier_relations, visible_case_condition, visible_cases
from workflow.bootstrap import open_database as make_database
from workflow.db import Database
from workflow.directory import actor_for
from workflow.errors import WorkflowError
from workflow.models import Case, CommitteeSeat, User
from workflow.panel.conflicts import PANEL_STAGE, declare_conflict
from workflow.pipeline.catalog import get_pipeline, state_names
from workflow.records import process_view, queries, reports
from workflow.time.calendar import CHINA_TZ

NOW = datetime(2026, 6, 22, 10, 0, tzinfo=CHINA_TZ)  # the moment the demo is written for
seat = CommitteeSeat.__table__


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def demo(request, tmp_path_factory) -> Database:
    """The demo (every role, every stage) in a database of this module's own, on each engine."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("scope") / "demo.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        db = Database(f"sqlite:///{path}")
        load_demo(db, now=NOW.astimezone(CHINA_TZ))
        _recuse_one_member(db)
        yield db
        db.dispose()
        return
    with scratch_postgres(request.getfixturevalue("postgres_admin_url")) as url:
        db = make_database(url)
        load_demo(db, now=NOW.astimezone(CHINA_TZ))
        _recuse_one_member(db)
        yield db
        db.dispose()


def _recuse_one_member(db: Database) -> None:
    """The demo has no conflict of interest: one seated member declares one on a case before the panel, so that
    a recusal (which closes the dossier to that member alone) is among the cases checked."""
    with db.read() as conn:
        rows = conn.execute(select(Case.__table__.c.id, Case.__table__.c.pipeline_id,
                                   Case.__table__.c.pipeline_version, Case.__table__.c.state, seat.c.user_id)
                            .join(seat, seat.c.session_id == Case.__table__.c.session_id)
                            .order_by(Case.__table__.c.id, seat.c.user_id)).all()
    for case_id, pid, version, state, user_id in rows:
        if get_pipeline(db, pid, version).state_map[state].stage != PANEL_STAGE:
            continue
        with db.session() as s:
            member = actor_for(s, user_id)
        try:
            declare_conflict(db, case_id, member, "relative")
        except WorkflowError:  # e.g. already voted in an open ballot: try the next member
            continue
        return
    raise AssertionError("no seated member could declare a conflict on a case before the panel")


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
            assert in_scope == set(conn.execute(select(case_t.c.id).where(visible_cases(conn, demo, actor)
                                                                          .condition)).scalars())
        for cid, case in cases.items():
            allowed = bool(dossier_relations(demo, actor, case)[0]) if actor.user_id is not None else False
            assert (cid in in_scope) == allowed, (actor, cid, case["state"])
            checked += 1
    assert checked > 500  # every account against every case, not a sample


@pytest.fixture(scope="module")
def predicate(demo) -> dict[Actor, set[int]]:
    """For every account of the demo (and nobody signed in): the cases the case page lets them open."""
    with demo.read() as conn:
        ids = sorted(conn.execute(select(Case.__table__.c.id)).scalars())
        cases = [queries.case_detail(conn, cid) for cid in ids]
    allowed: dict[Actor, set[int]] = {Actor(user_id=None): set()}
    for actor in _actors(demo):
        allowed[actor] = {c["id"] for c in cases if c is not None and dossier_relations(demo, actor, c)[0]}
    return allowed


def _everything(demo: Database) -> set[int]:
    with demo.read() as conn:
        return set(conn.execute(select(Case.__table__.c.id)).scalars())


def test_the_scope_on_an_alias_of_the_case_table_admits_the_same_cases(demo, predicate):
    alias = Case.__table__.alias("other_case")
    for actor, allowed in predicate.items():
        with demo.read() as conn:
            got = set(conn.execute(select(alias.c.id).where(visible_cases(conn, demo, actor).on(alias))).scalars())
        assert got == allowed, actor


def test_every_listing_with_a_persons_scope_lists_only_what_they_may_open(demo, predicate):
    """Case by case and role by role: each listing, given only the scope, lists exactly the predicate's cases
    (the queues, which also filter by their department, a subset of them), and its counts agree."""
    every_state = tuple(sorted({r["state"] for r in _state_rows(demo)}))
    superior_states = state_names(demo, lambda s: s.stage == "superior")
    nothing = reports.ReportFilter()
    pipelines = sorted({(r["pipeline_id"], r["version"]) for r in _state_rows(demo)})
    assert len(predicate) > 20 and any(predicate.values())
    for actor, allowed in predicate.items():
        with demo.read() as conn:
            scope = visible_cases(conn, demo, actor)
            listed = queries.list_cases(conn, visible=scope, per_page=10_000)
            assert {r["id"] for r in listed.rows} == allowed and listed.total == len(allowed), actor
            counts = queries.state_counts(conn, visible=scope, submitted_only=False)
            assert sum(counts.values()) == len(allowed), actor
            assert queries.count_upto(conn, 10_000, visible=scope, submitted_only=False) == len(allowed), actor
            # The inboxes' own filters narrow the scope, never widen it.
            org = actor.org_id if actor.org_id is not None else -1
            for own in ({"unit_org_id": org}, {"authority_org_id": org}, {"applicant_id": actor.user_id or -1}):
                page = queries.list_cases(conn, visible=scope, per_page=10_000, **own)
                assert {r["id"] for r in page.rows} <= allowed, (actor, own)
            queue = queries.superior_queue(conn, org, superior_states or every_state, visible=scope)
            history = queries.superior_history(conn, org, limit=10_000, visible=scope)
            assert {r["id"] for r in queue} <= allowed and {r["id"] for r in history} <= allowed, actor
            # Reports and the process view count within the same scope.
            assert sum(r["n"] for r in reports.cases_per_state(conn, scope, nothing)) == len(allowed), actor
            in_process = 0
            for pid, version in pipelines:
                per_state = process_view.state_counts(conn, pid, version, scope)
                in_process += sum(per_state.values())
                for state in per_state:
                    page = process_view.cases_in_state(conn, pid, version, state, scope, per_page=None)
                    assert {r["id"] for r in page.rows} <= allowed, (actor, pid, state)
            assert in_process == len(allowed), actor
    with demo.read() as conn:
        everything = VisibleCases.all_cases()
        assert queries.list_cases(conn, visible=everything, per_page=10_000).total == len(_everything(demo))


def test_queues_keep_every_visible_case_of_their_department(demo, predicate):
    """The reverse of the subset checks: a scope never hides a case the department's own queue holds."""
    for actor in predicate:
        if actor.org_id is None:
            continue
        with demo.read() as conn:
            scope = visible_cases(conn, demo, actor)
            if actor.roles & {"unit_reviewer", "agency_reviewer"}:
                own = queries.list_cases(conn, unit_org_id=actor.org_id, submitted_only=True, per_page=10_000)
                scoped = queries.list_cases(conn, visible=scope, unit_org_id=actor.org_id, submitted_only=True,
                                            per_page=10_000)
                assert [r["id"] for r in scoped.rows] == [r["id"] for r in own.rows], actor
            if "authority_officer" in actor.roles:
                own = queries.list_cases(conn, authority_org_id=actor.org_id, submitted_only=True, per_page=10_000)
                scoped = queries.list_cases(conn, visible=scope, authority_org_id=actor.org_id,
                                            submitted_only=True, per_page=10_000)
                assert [r["id"] for r in scoped.rows] == [r["id"] for r in own.rows], actor
            if "superior_reviewer" in actor.roles:
                states = state_names(demo, lambda s: s.stage == "superior")
                own_queue = queries.superior_queue(conn, actor.org_id, states)
                assert queries.superior_queue(conn, actor.org_id, states, visible=scope) == own_queue, actor


def _state_rows(demo: Database) -> list[dict]:
    with demo.read() as conn:
        return reports.cases_per_state(conn, VisibleCases.all_cases(), reports.ReportFilter())
