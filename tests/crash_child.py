"""The process ``test_crash.py`` crashes: it forks workers that fire transitions until they are SIGKILLed.

Run as ``python tests/crash_child.py URL WORLD_JSON``. The script imports everything, parses the stored
pipelines and warms the calendar once, prints ``ready``, then reads commands on stdin:

``fork SEED``  fork a worker; the worker opens its own connections, prints ``firing PID`` and never stops on
               its own: it opens cases, walks them at random over the actions the engine offers (favouring
               the happy path so cases reach the panel, the ballot and the certificate) and runs the
               deadline tick far in the future (as tests/driver.py does) so timers fire too;
``reap``       SIGKILL any worker still running (the test kills them itself first), wait for every one and
               print ``reaped PID:STATUS ...``.

Forking from a warmed-up parent is what makes the test affordable: a fresh interpreter spends seconds on
imports and YAML parsing before its first transition, and the kills are meant to land mid-transaction.
A worker ends on anything other than a domain refusal (a :class:`~workflow.errors.WorkflowError`, which
concurrent workers provoke in each other) with a traceback and exit status 1, which the test reports: a
worker that dies on its own is a failure, not a crash test.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sys
import traceback
from datetime import date
from typing import Any

from driver import DATA_FOR, FAR_FUTURE, actor_for_role, close_secrets, happy_path, open_sitting, remember_shares
from sqlalchemy import select

from seed.cast import STANDARD_FOR, World
from workflow.db import Database
from workflow.directory import actor_for
from workflow.engine import core as engine
from workflow.engine import timers
from workflow.engine.machines import machine_for
from workflow.errors import WorkflowError
from workflow.models import Case, utcnow
from workflow.panel import ballots, prereview
from workflow.panel.ballot_keys import BallotShares
from workflow.pipeline.catalog import get_pipeline, latest_pipelines
from workflow.time.calendar import WorkingCalendar

POOL = 12
"""Cases kept open at once (per database, shared by all workers)."""
FALLBACK_EVIDENCE = {"account_evidence": {"kind": "labour_contract", "contract_months": 12, "social_insurance": True}}
PIPELINES = {pid for pid, _ in STANDARD_FOR}

_case = Case.__table__


def say(line: str) -> None:
    """Write one protocol line with a single write(2): lines from concurrent workers must not interleave
    (print may write the text and the newline separately, e.g. under PYTHONUNBUFFERED)."""
    os.write(sys.stdout.fileno(), (line + "\n").encode())


def load_world(db: Database, spec: dict[str, Any]) -> World:
    """The test's cast (seed/cast.py's World), rebuilt from the ids the parent wrote."""
    with db.session() as s:
        actors = {name: actor_for(s, uid) for name, uid in spec["actors"].items()}
        members = [actor_for(s, uid) for uid in spec["members"]]
    world = World(db=db, members=members, **spec["ids"], **actors)
    if "key_shares" in spec:
        remember_shares(db, world.session_id, BallotShares(**spec["key_shares"]))
    return world


def open_cases(db: Database) -> list[int]:
    """Ids of the cases not yet in a final state (any worker's)."""
    with db.read() as conn:
        rows = conn.execute(select(_case.c.id, _case.c.pipeline_id, _case.c.pipeline_version, _case.c.state)).all()
    return [cid for cid, pid, version, state in rows if state not in get_pipeline(db, pid, version).finals]


def open_one(world: World, rng: random.Random) -> int:
    """Open a case in a random pipeline and level (one the cast has a standard for) for the main applicant."""
    pid, level = rng.choice(sorted(STANDARD_FOR))
    return world.open(pid, level=level, superior=rng.random() < 0.3,
                      data=dict(FALLBACK_EVIDENCE) if pid == "fallback-filing" else None)


def _quietly(fn, *args) -> None:
    """Run one preparatory write; a refusal (already done, done by the other worker) is expected."""
    with contextlib.suppress(WorkflowError):
        fn(*args)


def prepare(world: World, case_id: int, trigger: str, passing: bool) -> None:
    """What tests/driver.py's ``prepare`` does before a trigger, step by step and idempotent: a run killed
    half-way (some opinions or votes in) must be able to finish the job rather than fail on the first repeat."""
    db = world.db
    seated = [world.chair, *world.members]
    if trigger == "complete_pre_review":
        group = prereview.assigned_reviewers(db, case_id)
        if not group:
            _quietly(prereview.assign_reviewers, db, case_id, world.chair)
            group = prereview.assigned_reviewers(db, case_id)
        by_id = {a.user_id: a for a in seated}
        for uid in group[:3]:
            _quietly(ballots.submit_opinion, db, case_id, by_id[uid], "yes", {"业绩": 90}, "同意推荐")
        _quietly(open_sitting, world)
    elif trigger == "close_ballot":
        _quietly(open_sitting, world)
        for m in seated:
            _quietly(ballots.record_attendance, db, world.session_id, m.user_id)
        if engine.may_fire(db, case_id, "open_ballot", world.chair):
            _quietly(engine.fire, db, case_id, "open_ballot", world.chair)
        for i, m in enumerate(seated):
            _quietly(ballots.cast_vote, db, case_id, m, "yes" if passing or i == 0 else "no")


def step(world: World, rng: random.Random, case_id: int) -> str:
    """Take one action on the case: "fired", "tick" (waiting for a deadline is the move) or "done" (nothing left)."""
    db = world.db
    with db.read() as conn:
        row = conn.execute(select(_case.c.pipeline_id, _case.c.pipeline_version, _case.c.state)
                           .where(_case.c.id == case_id)).one()
    p = get_pipeline(db, row.pipeline_id, row.pipeline_version)
    if row.state in p.finals:
        return "done"
    options: list[tuple[str, Any]] = []
    waits_for_timer = False
    actors = {}
    for trigger in p.triggers_from[row.state]:
        role = p.by_trigger_source[(trigger, row.state)][0].roles[0]
        if role == "system":
            waits_for_timer = True
        else:
            actors.setdefault(role, actor_for_role(world, role, p.id))
    for actor in {a.user_id: a for a in actors.values()}.values():
        for opt in engine.available_actions(db, case_id, actor):
            if opt.allowed or opt.trigger in ("complete_pre_review", "close_ballot"):
                options.append((opt.trigger, actor))
    if waits_for_timer:
        options.append(("<tick>", None))
    if not options:
        return "done"
    try:
        forward = happy_path(p, "certified", row.state)[:1]
    except AssertionError:  # off the road to a certificate (e.g. not passed): any move will do
        forward = []
    preferred = [o for o in options if o[0] in forward or (o[0] == "<tick>" and not forward)]
    trigger, actor = rng.choice(preferred if preferred and rng.random() < 0.88 else options)
    if trigger == "<tick>":
        return "tick"
    prepare(world, case_id, trigger, rng.random() < 0.8)
    # The other worker may have moved the case since ``row`` was read: fire refuses then, which is fine.
    tdef = p.by_trigger_source.get((trigger, row.state), [None])[0] or next(
        t for t in p.transitions if t.trigger == trigger)
    data = {r: DATA_FOR[r] for r in tdef.requires if r in DATA_FOR}
    secrets = close_secrets(world) if trigger == "close_ballot" else None
    engine.fire(db, case_id, trigger, actor, comment="同意" if "comment" in tdef.requires else "", data=data,
                secrets=secrets)
    return "fired"


def work(url: str, spec: dict[str, Any], seed: int) -> None:
    """One worker: fire until killed."""
    db = Database(url, pool_size=2)
    world = load_world(db, spec)
    rng = random.Random(seed)
    pool = open_cases(db)
    say(f"firing {os.getpid()}")
    steps = 0
    while True:
        steps += 1
        if steps % 25 == 0:
            pool = open_cases(db)  # pick up the other worker's cases, drop finished ones
        try:
            if len(pool) < POOL and rng.random() < 0.3:
                pool.append(open_one(world, rng))
                continue
            if not pool:
                continue
            case_id = rng.choice(pool)
            outcome = step(world, rng, case_id)
            if outcome == "done":
                pool.remove(case_id)
            elif outcome == "tick":
                # People act now (eligibility is judged as of today); the tick looks far ahead so every
                # deadline a person started is due, like tests/driver.py's ``step``.
                timers.tick(db, now=utcnow() + FAR_FUTURE)
        except WorkflowError:
            # Another worker moved the case first, or a rule refused: both are normal under concurrency.
            continue


def warm_up(url: str) -> None:
    """Parse every stored pipeline, build its machine and load the coming years' holidays, once, before forking.

    The connections are closed afterwards: a forked child must never share a socket or SQLite handle.
    """
    db = Database(url, pool_size=1)
    pipelines = latest_pipelines(db)
    assert {p.id for p in pipelines} >= PIPELINES
    for p in pipelines:
        machine_for(p)
    cal = WorkingCalendar()
    year = utcnow().year
    for y in range(year, year + 3):
        cal.is_working_day(date(y, 1, 1))
    db.dispose()


def serve(url: str, spec: dict[str, Any]) -> None:
    """Warm up, then fork workers and reap them as the test commands on stdin."""
    warm_up(url)
    say("ready")
    children: list[int] = []
    for line in sys.stdin:
        command, *args = line.split()
        if command == "fork":
            pid = os.fork()
            if pid == 0:
                status = 1
                try:
                    work(url, spec, int(args[0]))
                except BaseException:
                    traceback.print_exc()
                    say(f"failed {os.getpid()}")  # so the test stops waiting for "firing"
                finally:
                    os._exit(status)  # never return into the parent's command loop
            children.append(pid)
        elif command == "reap":
            for pid in children:
                # Safety net for a test that failed before its kill: never leave a worker running. Killing a
                # worker the test already killed (a zombie now) does nothing, so its status stays telling.
                os.kill(pid, signal.SIGKILL)
            statuses = [f"{pid}:{os.waitpid(pid, 0)[1]}" for pid in children]
            children.clear()
            say("reaped " + " ".join(statuses))


if __name__ == "__main__":
    serve(sys.argv[1], json.loads(sys.argv[2]))
