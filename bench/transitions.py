"""Scenario "transitions": the engine's fire() against the raw-SQL floor on the same schema.

The floor does, per transition, exactly the database work that cannot be avoided — begin, lock the case
row, update its state and version, insert the event, commit — straight through the driver, with no ORM,
no state machine, no permission or guard checks. The engine advances the same number of cases through
the full happy path; only the fire() calls are timed (opinions and votes between them are set-up work).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from seed.cast import World, build_world
from workflow import ballots, engine, prereview, sitting
from workflow.catalog import get_pipeline
from workflow.db import Database
from workflow.models import utcnow
from workflow.roles import SYSTEM

PIPELINE = "industry-session"


@dataclass
class TransitionResult:
    """Throughput of both sides, in transitions per second."""

    transitions: int
    engine_tps: float
    raw_tps: float

    @property
    def ratio(self) -> float:
        """engine / floor (1.0 means the engine costs nothing above the unavoidable database work)."""
        return self.engine_tps / self.raw_tps


def _happy_path(db: Database) -> list[str]:
    p = get_pipeline(db, PIPELINE, 1)
    order = ["submit", "start_unit_notice", "close_unit_notice", "recommend", "accept", "confirm_eligibility",
             "complete_pre_review", "open_ballot", "close_ballot", "close_result_notice", "file_result",
             "issue_certificate"]
    known = {t.trigger for t in p.transitions}
    assert set(order) <= known, set(order) - known
    return order


def run_engine(db: Database, world: World, cases: int) -> tuple[int, float]:
    """Advance ``cases`` cases through the happy path; return (transitions fired, seconds spent in fire)."""
    ids = [world.open(PIPELINE) for _ in range(cases)]
    sitting.open_sitting(db, world.session_id, world.chair)
    for member in [world.chair, *world.members]:
        ballots.record_attendance(db, world.session_id, member.user_id)
    seated = {a.user_id: a for a in [world.chair, *world.members]}
    who = {"submit": world.applicant, "start_unit_notice": world.unit, "recommend": world.unit,
           "accept": world.officer, "confirm_eligibility": world.officer, "complete_pre_review": world.chair,
           "open_ballot": world.chair, "close_ballot": world.chair, "file_result": world.officer,
           "issue_certificate": world.officer, "close_unit_notice": SYSTEM, "close_result_notice": SYSTEM}
    comment = {"recommend": "同意推荐"}
    spent = 0.0
    fired = 0
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
            spent += time.perf_counter() - t0
            fired += 1
    return fired, spent


def run_floor(db: Database, world: World, cases: int, transitions_per_case: int) -> tuple[int, float]:
    """The same number of transitions as bare driver calls: lock, update, insert event, commit."""
    ids = [world.open(PIPELINE) for _ in range(cases)]
    raw = db.engine.raw_connection()
    driver = raw.driver_connection
    pg = db.is_postgres
    ph = "%s" if pg else "?"
    lock = f"SELECT state, version, last_event_hash FROM case_file WHERE id = {ph}" + (" FOR UPDATE" if pg else "")
    upd = f"UPDATE case_file SET state = {ph}, version = {ph}, last_event_hash = {ph} WHERE id = {ph}"
    ins = ("INSERT INTO case_event (case_id, seq, actor_id, actor_role, trigger, from_state, to_state, comment, "
           f"payload, created_at, prev_hash, hash) VALUES ({', '.join([ph] * 12)})")
    try:
        cur = driver.cursor()
        t0 = time.perf_counter()
        for step in range(transitions_per_case):
            for case_id in ids:
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
        spent = time.perf_counter() - t0
    finally:
        raw.close()
    return transitions_per_case * cases, spent


def run(db: Database, cases: int) -> TransitionResult:
    """Both sides on ``db``; the floor runs on its own cases so neither warms the other's rows."""
    world = build_world(db)
    fired, engine_s = run_engine(db, world, cases)
    per_case = fired // cases
    raw_n, raw_s = run_floor(db, world, cases, per_case)
    return TransitionResult(transitions=fired, engine_tps=fired / engine_s, raw_tps=raw_n / raw_s)

