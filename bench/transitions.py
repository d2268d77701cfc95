"""Scenario "transitions": the engine's fire() against the raw-SQL floor on the same schema.

The floor does, per transition, exactly the database work that cannot be avoided — begin, lock the case
row, update its state and version, insert the event, commit — straight through the driver, with no ORM,
no state machine, no permission or guard checks. On PostgreSQL the update and the insert travel as one
statement (a data-modifying CTE), as the engine's writes do: four round trips instead of five.

One step also has work that is not database work but that the rules demand of any implementation: ballots
are stored encrypted (docs/ballot-secrecy.md), so closing a ballot must rebuild the committee's private key
from the two shares and decrypt the three homomorphic sums of the box — eight 2048-bit modular
exponentiations, ~10 ms, far more than the rest of the path. Without it the floor would not be doing the
same work, so at the ``close_ballot`` step the floor does that too, through the same ``ballot_keys``
functions (key from the shares, sum, decrypt), on as many ballots as the engine's box holds — ciphertexts
it encrypted beforehand, untimed, and keeps in memory (the engine reads them from the database: the floor
stays the cheaper side). Its time for this is kept apart, so the ratio against the database work alone is
reported too (``ratio_db_floor``: comparable with the figures measured before ballots were encrypted).

The engine advances cases through the full happy path (12 transitions, draft to certificate); only the
fire() calls are timed (opinions and votes between them are set-up work). The floor makes the same
number of transitions on as many cases of its own, opened the same way.

Both sides run under the same conditions: the same database and connection settings, one untimed
warm-up round each (imports, the pipeline cache, the shared machine, prepared statements), a full garbage
collection before every round, and — because this shared machine's disk and CPU drift by a factor of
several within seconds — transitions interleaved one by one (engine, floor, floor, engine, …), each
timed on its own. A round's ratio is the floor's total time over the engine's; the result is the median
of the rounds.
"""

from __future__ import annotations

import gc
import hashlib
import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from seed.cast import World, build_world
from workflow.access.roles import SYSTEM
from workflow.db import Database
from workflow.engine import core as engine
from workflow.models import utcnow
from workflow.panel import ballot_keys, ballots, prereview, sitting
from workflow.panel.ballot_keys import BallotShares
from workflow.pipeline.catalog import get_pipeline, latest_versions

PIPELINE = "industry-session"
HAPPY_PATH = ("submit", "start_unit_notice", "close_unit_notice", "recommend", "accept", "confirm_eligibility",
              "complete_pre_review", "open_ballot", "close_ballot", "close_result_notice", "file_result",
              "issue_certificate")
"""The industry-session pipeline from draft to certificate, without detours (12 transitions)."""


@dataclass
class TransitionResult:
    """Throughput of both sides (medians over rounds), in transitions per second."""

    transitions: int
    rounds: int
    engine_tps: float
    raw_tps: float
    ratio: float
    engine_rounds: list[float] = field(default_factory=list)
    raw_rounds: list[float] = field(default_factory=list)
    per_trigger_us: dict[str, float] = field(default_factory=dict)
    floor_us: float = 0.0
    ratio_db_floor: float = 0.0
    """The median ratio against the floor's database work alone (without the ballot count's cryptography)."""
    count_us: float = 0.0
    """The floor's median time for the ballot count's cryptography at the close (key from shares, decrypt)."""


def _happy_path(db: Database) -> tuple[str, ...]:
    known = {t.trigger for t in get_pipeline(db, PIPELINE, latest_versions(db)[PIPELINE]).transitions}
    assert set(HAPPY_PATH) <= known, set(HAPPY_PATH) - known
    return HAPPY_PATH


def _prepare_world(db: Database) -> World:
    """The cast, with the sitting opened and the whole committee recorded present (once, untimed)."""
    world = build_world(db)
    opened = sitting.open_sitting(db, world.session_id, world.chair)
    # The chair's and the officer's key shares, as they would bring them to count each box.
    world.key_shares = {world.session_id: BallotShares(opened.shares.chair, opened.shares.officer)}
    for member in [world.chair, *world.members]:
        ballots.record_attendance(db, world.session_id, member.user_id)
    return world


class EngineSide:
    """Fires the happy path on one case at a time through the engine; set-up work between steps is untimed."""

    def __init__(self, db: Database, world: World) -> None:
        self.db = db
        self.world = world
        self.seated = {a.user_id: a for a in [world.chair, *world.members]}
        self.who = {"submit": world.applicant, "start_unit_notice": world.unit, "recommend": world.unit,
                    "accept": world.officer, "confirm_eligibility": world.officer,
                    "complete_pre_review": world.chair, "open_ballot": world.chair, "close_ballot": world.chair,
                    "file_result": world.officer, "issue_certificate": world.officer,
                    "close_unit_notice": SYSTEM, "close_result_notice": SYSTEM}

    def open(self, cases: int) -> list[int]:
        """New cases in the pipeline's initial state."""
        return [self.world.open(PIPELINE) for _ in range(cases)]

    def step(self, case_id: int, trigger: str) -> float:
        """Do the set-up ``trigger`` needs, then fire it; return the seconds spent in fire()."""
        world = self.world
        if trigger == "complete_pre_review":
            for uid in prereview.assign_reviewers(self.db, case_id, world.chair):
                ballots.submit_opinion(self.db, case_id, self.seated[uid], "yes")
        if trigger == "close_ballot":
            for m in [world.chair, *world.members]:
                ballots.cast_vote(self.db, case_id, m, "yes")
        comment = "同意推荐" if trigger == "recommend" else ""
        secrets = {"ballot_shares": world.key_shares[world.session_id]} if trigger == "close_ballot" else None
        t0 = time.perf_counter()
        engine.fire(self.db, case_id, trigger, self.who[trigger], comment=comment, secrets=secrets)
        return time.perf_counter() - t0


class FloorSide:
    """The same transitions as bare driver calls on a connection of its own: lock, update, insert event, commit."""

    def __init__(self, db: Database, world: World) -> None:
        self.db = db
        self.world = world
        self.pg = db.is_postgres
        ph = "%s" if self.pg else "?"
        self.lock = (f"SELECT state, version, last_event_hash FROM case_file WHERE id = {ph}"
                     + (" FOR UPDATE" if self.pg else ""))
        self.upd = f"UPDATE case_file SET state = {ph}, version = {ph}, last_event_hash = {ph} WHERE id = {ph}"
        self.ins = ("INSERT INTO case_event (case_id, seq, actor_id, actor_role, trigger, from_state, to_state, "
                    f"comment, payload, created_at, prev_hash, hash) VALUES ({', '.join([ph] * 12)})")
        # On PostgreSQL the engine writes its update and inserts as one statement (a data-modifying CTE) to
        # save round trips; the floor does the same, so that it stays the cheapest way to do this work.
        self.both = f"WITH u AS ({self.upd}) {self.ins}"
        self.raw = db.engine.raw_connection()
        self.driver = self.raw.driver_connection
        self.cur = self.driver.cursor()
        # The close's required cryptography (module doc): the key, the shares, and one ballot per member who
        # votes on the engine's side, encrypted here, untimed.
        self.count_step = HAPPY_PATH.index("close_ballot")
        self.session_id = world.session_id
        self.shares = world.key_shares[world.session_id]
        with db.read() as conn:
            self.public_key = ballot_keys.committee_public_key(conn, world.session_id)
        assert self.public_key is not None
        self.box = [ballot_keys.encrypt_choice(self.public_key, "yes") for _ in [world.chair, *world.members]]
        self.count_s: list[float] = []

    def open(self, cases: int) -> list[int]:
        """New cases opened exactly as the engine's are."""
        return [self.world.open(PIPELINE) for _ in range(cases)]

    def step(self, case_id: int, step: int) -> float:
        """One transition to state ``s<step>``; return its seconds."""
        cur = self.cur
        t0 = time.perf_counter()
        if not self.pg:
            cur.execute("BEGIN IMMEDIATE")
        cur.execute(self.lock, (case_id,))
        state, version, prev = cur.fetchone()
        new = f"s{step}"
        digest = hashlib.sha256(f"{prev}{case_id}{version}{new}".encode()).hexdigest()
        payload = "{}"
        if step == self.count_step:
            c0 = time.perf_counter()
            key = ballot_keys.key_from_shares(self.public_key, self.session_id, self.shares)
            counts = ballot_keys.decrypt_counts(key, ballot_keys.sum_box(key.public_key, self.box))
            del key
            payload = json.dumps({"tally": counts})
            self.count_s.append(time.perf_counter() - c0)
        now = utcnow() if self.pg else utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
        event = (case_id, version + 1, None, "bench", "go", state, new, "", payload, now, prev, digest)
        if self.pg:
            cur.execute(self.both, (new, version + 1, digest, case_id, *event))
        else:
            cur.execute(self.upd, (new, version + 1, digest, case_id))
            cur.execute(self.ins, event)
        self.driver.commit()
        return time.perf_counter() - t0

    def close(self) -> None:
        """Return the connection to the pool."""
        self.raw.close()


def _round(engine_side: EngineSide, floor_side: FloorSide, steps: tuple[str, ...], cases: int,
           per_trigger: dict[str, list[float]] | None) -> tuple[int, float, float, float]:
    """One round: ``cases`` cases each side, transitions interleaved; (transitions, engine s, floor s, of which
    the floor's ballot-count cryptography s)."""
    counted_before = len(floor_side.count_s)
    engine_ids = engine_side.open(cases)
    floor_ids = floor_side.open(cases)
    gc.collect()
    engine_s = floor_s = 0.0
    n = 0
    for step, trigger in enumerate(steps):
        for i, (engine_id, floor_id) in enumerate(zip(engine_ids, floor_ids, strict=True)):
            sides: list[Callable[[], None]] = []

            def run_engine(case_id: int = engine_id, trigger: str = trigger) -> None:
                """The engine's transition of this step on its case, timed."""
                nonlocal engine_s
                took = engine_side.step(case_id, trigger)
                engine_s += took
                if per_trigger is not None:
                    per_trigger[trigger].append(took)

            def run_floor(case_id: int = floor_id, step: int = step) -> None:
                """The floor's transition of this step on its case, timed."""
                nonlocal floor_s
                floor_s += floor_side.step(case_id, step)

            sides = [run_engine, run_floor] if (i + step) % 2 == 0 else [run_floor, run_engine]
            for side in sides:
                side()
            n += 1
    return n, engine_s, floor_s, sum(floor_side.count_s[counted_before:])


def run(db: Database, cases: int, rounds: int = 3) -> TransitionResult:
    """Both sides on ``db``: an untimed warm-up round, then ``rounds`` rounds of ``cases`` cases each side."""
    world = _prepare_world(db)
    steps = _happy_path(db)
    engine_side = EngineSide(db, world)
    floor_side = FloorSide(db, world)
    try:
        _round(engine_side, floor_side, steps, 2, None)  # warm-up: imports, caches, prepared statements
        per_trigger: dict[str, list[float]] = defaultdict(list)
        engine_rounds: list[float] = []
        raw_rounds: list[float] = []
        ratios: list[float] = []
        db_ratios: list[float] = []
        floor_total = 0.0
        total = 0
        floor_side.count_s.clear()  # the warm-up's
        for _ in range(rounds):
            n, engine_s, floor_s, count_s = _round(engine_side, floor_side, steps, cases, per_trigger)
            engine_rounds.append(n / engine_s)
            raw_rounds.append(n / floor_s)
            ratios.append(floor_s / engine_s)
            db_ratios.append((floor_s - count_s) / engine_s)
            floor_total += floor_s
            total += n
    finally:
        floor_side.close()
    return TransitionResult(
        transitions=total, rounds=rounds, engine_tps=statistics.median(engine_rounds),
        raw_tps=statistics.median(raw_rounds), ratio=statistics.median(ratios), engine_rounds=engine_rounds,
        raw_rounds=raw_rounds, per_trigger_us={t: statistics.median(v) * 1e6 for t, v in per_trigger.items()},
        floor_us=floor_total / total * 1e6, ratio_db_floor=statistics.median(db_ratios),
        count_us=statistics.median(floor_side.count_s) * 1e6)
