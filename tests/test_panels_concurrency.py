"""Many simultaneous votes, and votes racing the close: every ballot counted once, no member twice."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from driver import ballot_shares, close_secrets
from panel_helpers import box_of, case_at_vote, seat_members
from sqlalchemy import func, select, text

from seed.cast import build_world
from workflow.db import Database
from workflow.engine import core as engine
from workflow.errors import InvalidAction, WorkflowError
from workflow.models import BallotParticipation
from workflow.panel import ballots

_part = BallotParticipation.__table__
VOTERS = 200
DUPLICATES = 40


def _stored(db: Database, world, box_id: int) -> dict[str, int]:
    """The ballots in the box by choice: the decrypted sums of its ciphertexts (what the tally will count)."""
    with db.read() as conn:
        stored = conn.execute(text("SELECT COUNT(*) FROM ballot WHERE box_id = :b"), {"b": box_id}).scalar_one()
        counts = ballots.count_box(conn, world.session_id, box_id, ballot_shares(world))
    assert sum(counts) == stored
    return dict(zip(("yes", "no", "abstain"), counts, strict=True))


@pytest.mark.postgres
@pytest.mark.slow
def test_200_concurrent_votes_on_postgresql(pg_db: Database):
    db = Database(pg_db.url, pool_size=40)  # + 20 overflow: enough connections that threads queue on the lock
    try:
        world = build_world(db)
        seat_members(world, VOTERS - 6)  # chair + 199 members = 200 seated
        case_id = case_at_vote(world)
        box_id = box_of(db, case_id)["id"]
        voters = [world.chair, *world.members][:VOTERS]
        rng = random.Random(200)
        jobs = [(m, rng.choice(["yes", "no", "abstain"])) for m in voters]
        jobs += [(m, "yes") for m in rng.sample(voters, DUPLICATES)]  # the same member trying twice at once
        rng.shuffle(jobs)
        start = threading.Barrier(len(jobs))
        outcomes: list[tuple[int, str, str]] = []
        lock = threading.Lock()

        def vote(member, choice):
            start.wait()
            try:
                ballots.cast_vote(db, case_id, member, choice)
                result = "ok"
            except WorkflowError as err:
                result = err.message_zh
            with lock:
                outcomes.append((member.user_id, choice, result))

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            list(pool.map(lambda j: vote(*j), jobs))
        wall = time.perf_counter() - t0

        accepted = [o for o in outcomes if o[2] == "ok"]
        refused = [o for o in outcomes if o[2] != "ok"]
        with db.read() as conn:
            members = conn.execute(select(_part.c.member_id).where(_part.c.box_id == box_id)).scalars().all()
        stored = _stored(db, world, box_id)
        counted = sum(stored.values())
        assert len(members) == len(set(members)) == VOTERS  # no member twice, every member once
        assert len(accepted) == VOTERS and counted == VOTERS  # none lost
        assert {r for *_, r in refused} == {"您已投过票"} and len(refused) == DUPLICATES
        first_choice = {uid: choice for uid, choice, _ in accepted}
        expected = {c: list(first_choice.values()).count(c) for c in ("yes", "no", "abstain")}
        assert {c: stored.get(c, 0) for c in expected} == expected

        t1 = time.perf_counter()
        engine.fire(db, case_id, "close_ballot", world.chair, secrets=close_secrets(world))
        close_ms = (time.perf_counter() - t1) * 1000
        box = box_of(db, case_id)
        assert (box["yes"], box["no"], box["abstain"]) == (expected["yes"], expected["no"], expected["abstain"])
        print(f"\n200 concurrent votes (+{DUPLICATES} duplicate attempts) on PostgreSQL: counted {counted}, "
              f"lost {VOTERS - counted}, doubled {len(members) - len(set(members))}, refused duplicates "
              f"{len(refused)}, wall {wall:.2f} s; close + tally of the box {close_ms:.1f} ms")
    finally:
        db.dispose()


@pytest.mark.parametrize("trial", range(4))
def test_a_vote_racing_the_close_is_counted_or_refused(any_db: Database, trial):
    world = build_world(any_db)
    case_id = case_at_vote(world)
    box_id = box_of(any_db, case_id)["id"]
    for m in [world.chair, *world.members[:4]]:
        ballots.cast_vote(any_db, case_id, m, "yes")
    late = world.members[4 + trial % 2]
    start = threading.Barrier(2)
    result: dict[str, object] = {}

    def close():
        start.wait()
        if trial >= 2:
            time.sleep(0.01)  # let the vote win sometimes
        result["close"] = engine.fire(any_db, case_id, "close_ballot", world.chair, secrets=close_secrets(world))

    def vote():
        start.wait()
        if trial < 2:
            time.sleep(0.01)  # and the close win other times
        try:
            ballots.cast_vote(any_db, case_id, late, "no")
            result["vote"] = "counted"
        except InvalidAction as err:
            result["vote"] = err.message_zh

    threads = [threading.Thread(target=close), threading.Thread(target=vote)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    box = box_of(any_db, case_id)
    with any_db.read() as conn:
        voted = conn.execute(select(func.count()).select_from(_part).where(_part.c.box_id == box_id)).scalar_one()
    assert box["closed_at"] is not None
    if result["vote"] == "counted":
        assert (voted, box["yes"], box["no"]) == (6, 5, 1)
    else:
        assert result["vote"] == "投票已结束，不再接受投票"
        assert (voted, box["yes"], box["no"]) == (5, 5, 0)
    assert box["yes"] + box["no"] + box["abstain"] == voted


def test_concurrent_sign_ins_of_one_member_are_idempotent(any_db):
    """Four requests recording the same member present at once: no error, one attendance row."""
    import threading

    from sqlalchemy import func, select

    from seed.cast import build_world
    from workflow.models import Attendance
    from workflow.panel import ballots, sitting

    world = build_world(any_db)
    sitting.open_sitting(any_db, world.session_id, world.chair)
    barrier = threading.Barrier(4)
    errors: list[Exception] = []

    def sign_in():
        barrier.wait()
        try:
            ballots.record_attendance(any_db, world.session_id, world.members[0].user_id, actor=world.members[0])
        except Exception as err:  # collected for the assertion below
            errors.append(err)

    threads = [threading.Thread(target=sign_in) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with any_db.read() as conn:
        table = Attendance.__table__
        assert conn.execute(select(func.count()).select_from(table)
                            .where(table.c.user_id == world.members[0].user_id)).scalar_one() == 1
