"""Crash consistency: workers firing thousands of transitions are SIGKILLed at random moments, repeatedly.

tests/crash_child.py runs under ``sys.executable``, warms up once, and forks two workers per round; each
round the workers fire for a random 0.2–2 s and are SIGKILLed, mid-transaction as often as not. After every
kill the history must still be whole: each case's state is the destination of its last event, its version
is its number of events, every hash chain verifies, derived counters (pending timers) match the rows they
count, no timer or message outlives a transition that never committed, and every vote is one participation
plus one ballot. Two workers run at once, so kills also land while one waits on the other's lock.

At least MIN_ITERATIONS rounds run, then more while fewer than TARGET_TRANSITIONS transitions exist and the
time budget lasts. The counts are printed (``pytest -s``). Set ``TITLEREVIEW_CRASH_SEED`` to replay a run's
random choices (kill timing still varies).
"""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from driver import advance, ballot_shares, open_sitting
from driver import prepare as driver_prepare
from sqlalchemy import delete, func, insert, select, text, update

from seed.cast import World, build_world
from workflow.access.roles import Actor
from workflow.db import Database
from workflow.models import Ballot, BallotBox, BallotParticipation, Case, CaseEvent, OutboxMessage, Timer
from workflow.panel import ballots
from workflow.records.audit import verify_chains

CHILD = Path(__file__).with_name("crash_child.py")
MIN_ITERATIONS = 16
TARGET_TRANSITIONS = 2000
BUDGET = 45
"""Seconds after which no new kill iteration starts once MIN_ITERATIONS are done."""
MIN_TRANSITIONS = 200
"""Below this the workers barely ran: the test would prove nothing."""
WORKERS = 2
KILL_AFTER = (0.2, 2.0)
"""Seconds between the workers starting to fire and the kill."""
LINE_TIMEOUT = 60
"""Seconds to wait for crash_child.py to answer a command."""

_case = Case.__table__
_event = CaseEvent.__table__
_timer = Timer.__table__
_outbox = OutboxMessage.__table__
_box = BallotBox.__table__
_part = BallotParticipation.__table__
_ballot = Ballot.__table__


def world_spec(world: World) -> dict:
    """The ids a worker needs to rebuild the cast (tests/crash_child.py's ``load_world``)."""
    spec: dict = {"actors": {}, "ids": {}, "members": [m.user_id for m in world.members]}
    for f in dataclasses.fields(world):
        value = getattr(world, f.name)
        if isinstance(value, Actor):
            spec["actors"][f.name] = value.user_id
        elif isinstance(value, int):
            spec["ids"][f.name] = value
    try:  # the committee key's shares, as the chair and the officer would bring them to every close
        shares = ballot_shares(world)
        spec["key_shares"] = {"chair": shares.chair, "officer": shares.officer}
    except KeyError:
        pass
    return spec


def counts(db: Database) -> tuple[int, int]:
    """(cases, transitions): events other than the ``create`` that opens each case."""
    with db.read() as conn:
        cases = conn.execute(select(func.count()).select_from(_case)).scalar_one()
        fired = conn.execute(select(func.count()).select_from(_event).where(_event.c.trigger != "create")).scalar_one()
    return cases, fired


def coverage(db: Database) -> str:
    """How far the walk got: certificates issued, ballots closed, deadlines fired by the tick."""
    with db.read() as conn:
        def n(*where) -> int:
            return conn.execute(select(func.count()).select_from(_event).where(*where)).scalar_one()

        return (f"{n(_event.c.trigger == 'issue_certificate')} certificates, {n(_event.c.trigger == 'close_ballot')} "
                f"ballots closed, {n(_event.c.actor_role == 'system')} deadlines fired")


def inconsistencies(db: Database) -> list[str]:
    """Everything wrong with the stored history, checked directly in SQL and by the audit chain walk."""
    problems: list[str] = []
    with db.read() as conn:
        last = (select(_event.c.case_id, func.count().label("n"), func.max(_event.c.seq).label("top"))
                .group_by(_event.c.case_id).subquery())
        rows = conn.execute(
            select(_case.c.id, _case.c.state, _case.c.version, _case.c.pending_timers, last.c.n, last.c.top,
                   _event.c.to_state)
            .outerjoin(last, last.c.case_id == _case.c.id)
            .outerjoin(_event, (_event.c.case_id == _case.c.id) & (_event.c.seq == last.c.top))).all()
        pending = dict(conn.execute(select(_timer.c.case_id, func.count()).where(_timer.c.status == "pending")
                                    .group_by(_timer.c.case_id)).all())
        versions = {r.id: r.version for r in rows}
        for r in rows:
            if r.to_state != r.state:
                problems.append(f"case {r.id}: state {r.state!r} but last event goes to {r.to_state!r}")
            if not (r.version == r.n == r.top):
                problems.append(f"case {r.id}: version {r.version}, {r.n} events, last seq {r.top}")
            if r.pending_timers != pending.get(r.id, 0):
                problems.append(f"case {r.id}: pending_timers {r.pending_timers}, {pending.get(r.id, 0)} pending rows")
        # A timer or message belongs to the event that created it: none may outlive a rolled-back transition.
        for kind, table, col in (("timer", _timer, _timer.c.created_by_seq), ("outbox", _outbox, _outbox.c.event_seq)):
            for case_id, seq in conn.execute(select(table.c.case_id, col).where(col.is_not(None))).all():
                if case_id is not None and seq > versions[case_id]:
                    problems.append(f"case {case_id}: {kind} from event {seq} beyond version {versions[case_id]}")
        # A vote is a participation row and a ballot row written together; a closed box's tally counts them.
        parts = dict(conn.execute(select(_part.c.box_id, func.count()).group_by(_part.c.box_id)).all())
        votes = dict(conn.execute(select(_ballot.c.box_id, func.count()).group_by(_ballot.c.box_id)).all())
        for box in conn.execute(select(_box.c.id, _box.c.closed_at, _box.c.yes, _box.c.no, _box.c.abstain)).all():
            if parts.get(box.id, 0) != votes.get(box.id, 0):
                problems.append(f"ballot box {box.id}: {parts.get(box.id, 0)} voters, {votes.get(box.id, 0)} ballots")
            if box.closed_at is not None and box.yes + box.no + box.abstain != votes.get(box.id, 0):
                problems.append(f"ballot box {box.id}: tally {box.yes}+{box.no}+{box.abstain}, "
                                f"{votes.get(box.id, 0)} ballots")
        if db.is_sqlite:
            check = conn.execute(text("PRAGMA integrity_check")).scalar()
            if check != "ok":
                problems.append(f"SQLite integrity_check: {check}")
    checked, breaks = verify_chains(db)
    if checked != len(rows):
        problems.append(f"verify_chains checked {checked} of {len(rows)} cases")
    problems.extend(f"chain: {b}" for b in breaks)
    return problems


class Zygote:
    """tests/crash_child.py running under ``sys.executable``: forks warmed-up workers on command."""

    def __init__(self, url: str, spec: dict, log: Path) -> None:
        self.log = log
        with log.open("w") as err:
            self.proc = subprocess.Popen([sys.executable, str(CHILD), url, json.dumps(spec)], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=err, text=True)
        # Lines are read on a thread so that a silent child fails the test after a timeout instead of hanging it.
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.expect("ready")

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put("")  # EOF: the process is gone

    def expect(self, word: str) -> list[str]:
        """The next line from the process, which must start with ``word``; its remaining fields."""
        try:
            line = self.lines.get(timeout=LINE_TIMEOUT)
        except queue.Empty:
            line = f"<nothing for {LINE_TIMEOUT} s>"
        if not line.startswith(word):
            raise AssertionError(f"crash_child.py said {line!r}, expected {word!r}:\n{self.log.read_text()}")
        return line.split()[1:]

    def fork(self, seeds: list[int]) -> list[int]:
        """Fork one worker per seed; return their pids once every one of them has begun firing."""
        for seed in seeds:
            self.proc.stdin.write(f"fork {seed}\n")
        self.proc.stdin.flush()
        return [int(self.expect("firing")[0]) for _ in seeds]

    def reap(self) -> dict[int, int]:
        """Wait for every forked worker: {pid: wait status}."""
        self.proc.stdin.write("reap\n")
        self.proc.stdin.flush()
        return {int(pid): int(status) for pid, status in (f.split(":") for f in self.expect("reaped"))}

    def close(self) -> None:
        """End the process (EOF on its stdin; SIGKILL if it does not go) and release the pipes."""
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.reader.join(timeout=10)
        self.proc.stdout.close()


def killed(status: int) -> bool:
    """True for the wait status of a process ended by SIGKILL."""
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def test_sigkill_at_random_moments_never_breaks_the_history(any_db: Database, tmp_path: Path):
    seed = int(os.environ.get("TITLEREVIEW_CRASH_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    world = build_world(any_db)
    # The sitting is opened and attendance recorded before the workers start: two workers recording the same
    # member at once hit a check-then-insert race in ballots.record_attendance on PostgreSQL (IntegrityError
    # instead of the documented idempotence; reported to the panel module's owner). This test is about
    # crashes, so it keeps that known race out of its way rather than fail on it.
    open_sitting(world)
    for member in [world.chair, *world.members]:
        ballots.record_attendance(any_db, world.session_id, member.user_id)
    backend = "sqlite" if any_db.is_sqlite else "postgresql"
    started = time.monotonic()
    zygote = Zygote(any_db.url, world_spec(world), tmp_path / "crash_child.log")
    fired = cases = iteration = 0
    try:
        # At least MIN_ITERATIONS kills; then more while the history is still short and time remains, so a busy
        # machine (slower workers) still accumulates thousands of transitions without blowing the budget.
        while iteration < MIN_ITERATIONS or (fired < TARGET_TRANSITIONS and time.monotonic() - started < BUDGET):
            iteration += 1
            pids = []
            try:
                pids = zygote.fork([seed * 1000 + iteration * WORKERS + i for i in range(WORKERS)])
                time.sleep(rng.uniform(*KILL_AFTER))
            finally:
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)  # a pid that already exited stays a zombie until reaped: safe
                statuses = zygote.reap()
            # A worker that ended any other way crashed on its own: a bug, not what this test simulates.
            assert all(killed(s) for s in statuses.values()), \
                f"worker exited early {statuses} (seed {seed}):\n{zygote.log.read_text()}"
            problems = inconsistencies(any_db)
            assert not problems, f"after kill {iteration} (seed {seed}):\n" + "\n".join(problems[:20])
            cases, fired = counts(any_db)
    finally:
        zygote.close()
    elapsed = time.monotonic() - started
    print(f"crash test [{backend}] seed {seed}: {iteration} SIGKILLs of {WORKERS} workers, {fired} transitions "
          f"completed on {cases} cases ({coverage(any_db)}), history consistent after every kill ({elapsed:.1f} s)")
    assert fired >= MIN_TRANSITIONS, f"only {fired} transitions: the test did not exercise enough history"


@pytest.mark.parametrize("tear", ["state", "lost event", "extra event", "timer count", "orphan outbox", "ballot"])
def test_the_consistency_check_sees_a_torn_transition(db: Database, tear: str):
    """The check the kills are judged by is not vacuous: each way a transition could be half-written is named."""
    world = build_world(db)
    case_id = world.open("industry-session")
    advance(world, case_id, "committee_vote")
    driver_prepare(world, case_id, "close_ballot")
    assert inconsistencies(db) == []
    with db.write() as conn:
        version = conn.execute(select(_case.c.version).where(_case.c.id == case_id)).scalar_one()
        if tear == "state":  # the case row moved, its event was never written
            conn.execute(update(_case).where(_case.c.id == case_id).values(state="result_notice"))
        elif tear == "lost event":
            conn.execute(delete(_event).where(_event.c.case_id == case_id, _event.c.seq == version))
        elif tear == "extra event":  # an event written, the case row not updated
            last = conn.execute(select(_event).where(_event.c.case_id == case_id, _event.c.seq == version)).one()
            conn.execute(insert(_event).values({**last._asdict(), "id": None, "seq": version + 1}))
        elif tear == "timer count":
            conn.execute(update(_case).where(_case.c.id == case_id).values(pending_timers=_case.c.pending_timers + 1))
        elif tear == "orphan outbox":  # a message from a transition that never committed
            conn.execute(insert(_outbox).values(case_id=case_id, event_seq=version + 1, kind="transition",
                                                audience={}, payload={}, attempts=0, last_error=""))
        else:  # a participation without its ballot
            box = conn.execute(select(_box.c.id)).scalar_one()
            conn.execute(delete(_ballot).where(_ballot.c.id == conn.execute(
                select(_ballot.c.id).where(_ballot.c.box_id == box).limit(1)).scalar_one()))
    assert inconsistencies(db), f"a torn {tear} went unnoticed"
