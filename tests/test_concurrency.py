"""Races: many threads firing the same transition on one case; exactly one wins, exactly one event is written."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from driver import advance
from sqlalchemy import func, select

from seed.cast import build_world
from workflow.engine import core as engine
from workflow.engine import timers
from workflow.errors import InvalidAction, StaleCase, WorkflowError
from workflow.models import CaseEvent, Timer, utcnow
from workflow.records.audit import verify_chains

THREADS = 12


def race(n: int, fn) -> tuple[list, list[Exception]]:
    """Run ``fn`` in ``n`` threads released together; (results, errors)."""
    barrier = threading.Barrier(n)

    def go(_):
        barrier.wait()
        try:
            return fn(), None
        except Exception as err:  # collected and asserted on by the caller
            return None, err

    with ThreadPoolExecutor(n) as pool:
        outcomes = list(pool.map(go, range(n)))
    return [r for r, e in outcomes if e is None], [e for _, e in outcomes if e is not None]


def _events_for(db, case_id: int, trigger: str) -> int:
    with db.read() as conn:
        t = CaseEvent.__table__
        return conn.execute(select(func.count()).where(t.c.case_id == case_id, t.c.trigger == trigger)).scalar_one()


@pytest.mark.parametrize("use_version", [False, True], ids=["latest", "stale-form"])
def test_only_one_of_many_racing_fires_wins(any_db, use_version):
    world = build_world(any_db)
    case_id = world.open("industry-session")
    version = 1
    results, errors = race(THREADS, lambda: engine.fire(any_db, case_id, "submit", world.applicant,
                                                        expected_version=version if use_version else None))
    assert len(results) == 1, errors
    assert len(errors) == THREADS - 1
    assert all(isinstance(e, InvalidAction | StaleCase) for e in errors), errors
    assert all(e.status == 409 for e in errors)
    assert _events_for(any_db, case_id, "submit") == 1
    assert verify_chains(any_db) == (1, [])


def test_racing_different_actions_on_one_case(any_db):
    """Return-for-correction and start-notice race: one wins, the other is refused as no longer possible."""
    world = build_world(any_db)
    case_id = world.open("industry-session")
    advance(world, case_id, "unit_review")
    triggers = ["return_for_correction", "start_unit_notice"] * (THREADS // 2)
    it = iter(triggers)
    lock = threading.Lock()

    def one():
        with lock:
            trigger = next(it)
        return engine.fire(any_db, case_id, trigger, world.unit, data={"corrections": ["补充证明"]})

    results, errors = race(THREADS, one)
    assert len(results) == 1
    assert all(isinstance(e, WorkflowError) and e.status == 409 for e in errors)
    assert verify_chains(any_db) == (1, [])


def test_concurrent_ticks_fire_each_timer_once(any_db):
    world = build_world(any_db)
    ids = [world.open("industry-session") for _ in range(6)]
    for case_id in ids:
        advance(world, case_id, "unit_notice")
    later = utcnow().replace(year=utcnow().year + 1)
    results, errors = race(4, lambda: timers.tick(any_db, now=later))
    assert not errors, errors
    fired = [f for r in results for f in r.fired]
    assert sorted(c for c, _ in fired) == sorted(ids)
    for case_id in ids:
        assert _events_for(any_db, case_id, "close_unit_notice") == 1
    with any_db.read() as conn:
        t = Timer.__table__
        assert conn.execute(select(func.count()).where(t.c.status == "pending", t.c.name == "unit_notice_end")
                            ).scalar_one() == 0


def test_self_loop_deadline_fires_once_under_concurrent_ticks(any_db):
    """A deadline whose trigger keeps the case in place (filing overdue) must still fire exactly once."""
    world = build_world(any_db)
    case_id = world.open("industry-session")
    advance(world, case_id, "filing")
    much_later = utcnow().replace(year=utcnow().year + 2)
    _, errors = race(4, lambda: timers.tick(any_db, now=much_later))
    assert not errors, errors
    assert _events_for(any_db, case_id, "filing_overdue") == 1
