"""Scenario "transitions": the engine's fire() against the raw-SQL floor on the same schema.

The floor does, per transition, exactly the database work that cannot be avoided — begin, lock the case
row, update its state and version, insert the event, commit — straight through the driver, with no ORM,
no state machine, no permission or guard checks. The engine advances the same number of cases through
the full happy path; only the fire() calls are timed (opinions and votes between them are set-up work).

Both sides run under the same conditions: the same database and connection settings, the same number of
transitions per round, one untimed warm-up round each (imports, the pipeline cache, the shared machine,
prepared statements), a full garbage collection before every timed round, and rounds interleaved
(engine first in even rounds, floor first in odd ones) so that drift on this shared machine hits both.
The result is the median of the per-round figures.
"""

from __future__ import annotations

import gc
import hashlib
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field

from seed.cast import World, build_world
from workflow import ballots, engine, prereview, sitting
from workflow.catalog import get_pipeline, latest_versions
from workflow.db import Database
from workflow.models import utcnow
from workflow.roles import SYSTEM

PIPELINE = "industry-session"
HAPPY_PATH = ("submit", "start_unit_notice", "close_unit_notice", "recommend", "accept", "confirm_eligibility",
              "complete_pre_review", "open_ballot", "close_ballot", "close_result_notice", "file_result",
              "issue_certificate")
"""The industry-session pipeline from draft to certificate, without detours (12 transitions)."""


@dataclass
class TransitionResult:
    """Throughput of both sides (medians over interleaved rounds), in transitions per second."""

    transitions: int
    rounds: int
    engine_tps: float
    raw_tps: float
    ratio: float
    engine_rounds: list[float] = field(default_factory=list)
    raw_rounds: list[float] = field(default_factory=list)
    per_trigger_us: dict[str, float] = field(default_factory=dict)


def _happy_path(db: Database) -> tuple[str, ...]:
    known = {t.trigger for t in get_pipeline(db, PIPELINE, latest_versions(db)[PIPELINE]).transitions}
    assert set(HAPPY_PATH) <= known, set(HAPPY_PATH) - known
    return HAPPY_PATH


def _prepare_world(db: Database) -> World:
    """The cast, with the sitting opened and the whole committee recorded present (once, untimed)."""
    world = build_world(db)
    sitting.open_sitting(db, world.session_id, world.chair)
    for member in [world.chair, *world.members]:
        ballots.record_attendance(db, world.session_id, member.user_id)
    return world


def run_engine(db: Database, world: World, cases: int,
               per_trigger: dict[str, list[float]] | None = None) -> tuple[int, float]:
    """Advance ``cases`` new cases through the happy path; return (transitions fired, seconds spent in fire)."""
    ids = [world.open(PIPELINE) for _ in range(cases)]
    seated = {a.user_id: a for a in [world.chair, *world.members]}
    who = {"submit": world.applicant, "start_unit_notice": world.unit, "recommend": world.unit,
           "accept": world.officer, "confirm_eligibility": world.officer, "complete_pre_review": world.chair,
           "open_ballot": world.chair, "close_ballot": world.chair, "file_result": world.officer,
           "issue_certificate": world.officer, "close_unit_notice": SYSTEM, "close_result_notice": SYSTEM}
    comment = {"recommend": "同意推荐"}
    spent = 0.0
    fired = 0
    gc.collect()
    for trigger in _happy_path(db):
        for case_id in ids:
            if trigger == "complete_pre_review":
                for uid in prereview.assign_reviewers(db, case_id, world.chair):
                    ballots.submit_opinion(db, case_id, seated[uid], "yes")
            if trigger == "close_ballot":
                for m in [world.chair, *world.members]:
                    ballots.cast_vote(db, case_id, m, "yes")
            t0 = time.perf_counter()
            engine.fire(db, case_id, trigger, who[trigger], comment=comment.get(trigger, ""))
            took = time.perf_counter() - t0
            spent += took
            fired += 1
            if per_trigger is not None:
                per_trigger[trigger].append(took)
    return fired, spent


def run_floor(db: Database, world: World, cases: int, transitions_per_case: int) -> tuple[int, float]:
    """The same number of transitions as bare driver calls: lock, update, insert event, commit.

    Each transition is timed on its own, exactly as each fire() is, on new cases opened the same way.
    """
    ids = [world.open(PIPELINE) for _ in range(cases)]
    raw = db.engine.raw_connection()
    driver = raw.driver_connection
    pg = db.is_postgres
    ph = "%s" if pg else "?"
    lock = f"SELECT state, version, last_event_hash FROM case_file WHERE id = {ph}" + (" FOR UPDATE" if pg else "")
    upd = f"UPDATE case_file SET state = {ph}, version = {ph}, last_event_hash = {ph} WHERE id = {ph}"
    ins = ("INSERT INTO case_event (case_id, seq, actor_id, actor_role, trigger, from_state, to_state, comment, "
           f"payload, created_at, prev_hash, hash) VALUES ({', '.join([ph] * 12)})")
    spent = 0.0
    try:
        cur = driver.cursor()
        gc.collect()
        for step in range(transitions_per_case):
            for case_id in ids:
                t0 = time.perf_counter()
                if not pg:
                    cur.execute("BEGIN IMMEDIATE")
                cur.execute(lock, (case_id,))
                state, version, prev = cur.fetchone()
                new = f"s{step}"
                digest = hashlib.sha256(f"{prev}{case_id}{version}{new}".encode()).hexdigest()
                cur.execute(upd, (new, version + 1, digest, case_id))
                now = utcnow() if pg else utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
                cur.execute(ins, (case_id, version + 1, None, "bench", "go", state, new, "", "{}", now, prev, digest))
                driver.commit()
                spent += time.perf_counter() - t0
    finally:
        raw.close()
    return transitions_per_case * cases, spent


def run(db: Database, cases: int, rounds: int = 3) -> TransitionResult:
    """Both sides on ``db``, ``rounds`` interleaved timed rounds of ``cases`` cases each, after a warm-up."""
    world = _prepare_world(db)
    steps = len(_happy_path(db))
    run_engine(db, world, 2)  # warm-up: imports, caches, the shared machine, prepared statements
    run_floor(db, world, 2, steps)
    per_trigger: dict[str, list[float]] = defaultdict(list)
    engine_rounds: list[float] = []
    raw_rounds: list[float] = []
    fired = 0
    for r in range(rounds):
        sides = ["engine", "floor"] if r % 2 == 0 else ["floor", "engine"]
        for side in sides:
            if side == "engine":
                fired, spent = run_engine(db, world, cases, per_trigger)
                engine_rounds.append(fired / spent)
            else:
                n, spent = run_floor(db, world, cases, steps)
                raw_rounds.append(n / spent)
    ratios = [e / f for e, f in zip(engine_rounds, raw_rounds, strict=True)]
    return TransitionResult(
        transitions=fired, rounds=rounds, engine_tps=statistics.median(engine_rounds),
        raw_tps=statistics.median(raw_rounds), ratio=statistics.median(ratios), engine_rounds=engine_rounds,
        raw_rounds=raw_rounds,
        per_trigger_us={t: statistics.median(v) * 1e6 for t, v in per_trigger.items()})
