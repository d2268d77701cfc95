"""Two ``titlereview tick`` OS processes on PostgreSQL fire every due deadline exactly once.

The threads in test_concurrency share one interpreter; here two separate processes with their own connection
pools race, as two cron hosts would. To make the overlap certain rather than hoped for, the test holds an
exclusive lock on the case table: the first process reads its due list and blocks on its first look at a
case; only then is the second started, so its due list (read after the first's committed) holds every due
deadline too; once it blocks at the same point, the test lets go and both work through the same deadlines
from the same instant. (Started at the same moment without this, the second process usually finds every row
locked by the first's ``SKIP LOCKED`` query and does nothing, which proves little.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from driver import advance
from sqlalchemy import create_engine, func, select, text

from seed.cast import build_world
from workflow.models import Case, CaseEvent, Timer, utcnow
from workflow.records.audit import verify_chains

pytestmark = pytest.mark.postgres

CASES = 48
"""Enough due deadlines that both processes are still firing when the other starts."""
TITLEREVIEW = Path(sys.executable).with_name("titlereview")
_REPORT = re.compile(r"fired (\d+), reminders (\d+), waiting (\d+), failed (\d+)")


def _blocked_on_case_read(admin_engine, database: str) -> int:
    """How many backends of ``database`` wait on a lock in the tick loop's read of a case's state."""
    with admin_engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = :db "
                                 "AND wait_event_type = 'Lock' AND query ILIKE 'SELECT case_file.state%'"),
                            {"db": database}).scalar_one()


def _start_tick(url: str, now: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([str(TITLEREVIEW), "--database-url", url, "tick", "--now", now],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _wait_until_blocked(admin_engine, database: str, count: int, procs: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + 60
    while _blocked_on_case_read(admin_engine, database) < count:
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        assert time.monotonic() < deadline, f"{count} tick process(es) never reached the firing loop"
        time.sleep(0.05)


def test_two_tick_processes_fire_each_due_timer_exactly_once(pg_db, pg_url):
    assert TITLEREVIEW.exists(), f"{TITLEREVIEW} is missing: install the project (pip install -e .)"
    world = build_world(pg_db)
    ids = [world.open("industry-session") for _ in range(CASES)]
    for case_id in ids:
        advance(world, case_id, "unit_notice")
    t = Timer.__table__
    with pg_db.read() as conn:
        due_ids = conn.execute(select(t.c.id).where(t.c.status == "pending", t.c.name == "unit_notice_end")
                               ).scalars().all()
    assert len(due_ids) == CASES
    later = utcnow().replace(year=utcnow().year + 1)

    env = {k: v for k, v in os.environ.items() if not k.startswith("TITLEREVIEW_SMTP")}
    database = pg_url.rsplit("/", 1)[1]
    gate = create_engine(pg_url)
    admin = create_engine(pg_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    procs: list[subprocess.Popen] = []
    try:
        with gate.connect() as lock_conn:
            lock_conn.execute(text(f"LOCK TABLE {Case.__tablename__} IN ACCESS EXCLUSIVE MODE"))
            procs.append(_start_tick(pg_url, later.isoformat(), env))
            _wait_until_blocked(admin, database, 1, procs)
            procs.append(_start_tick(pg_url, later.isoformat(), env))
            _wait_until_blocked(admin, database, 2, procs)
            lock_conn.rollback()  # both are queued on the lock: release them together
        outputs = [p.communicate(timeout=240) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        gate.dispose()
        admin.dispose()

    reports = []
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, (out, err)
        match = _REPORT.search(out)
        assert match, out
        reports.append(tuple(int(x) for x in match.groups()))
    fired = [r[0] for r in reports]
    print(f"\nfired per process: {fired} (waiting {[r[2] for r in reports]}, failed {[r[3] for r in reports]})")
    assert sum(fired) == CASES, reports
    # Which process wins each race is up to the scheduler, so the split is reported rather than asserted; that
    # both took part is certain: each was blocked in the firing loop with all the due deadlines in its list.
    assert all(r[3] == 0 for r in reports), reports

    e = CaseEvent.__table__
    with pg_db.read() as conn:
        per_case = dict(conn.execute(select(e.c.case_id, func.count()).where(e.c.trigger == "close_unit_notice")
                                     .group_by(e.c.case_id)).all())
        statuses = dict(conn.execute(select(t.c.id, t.c.status).where(t.c.id.in_(due_ids))).all())
        pending = conn.execute(select(func.count()).where(t.c.status == "pending", t.c.due_at <= later)
                               ).scalar_one()
    assert per_case == {case_id: 1 for case_id in ids}  # one event per timer, none missing, none twice
    assert set(statuses.values()) == {"fired"}
    assert pending == 0
    assert verify_chains(pg_db) == (CASES, [])
