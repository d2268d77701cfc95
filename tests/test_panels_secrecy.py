"""Unlinkable ballots: after 50 votes nothing in the tables, the logs or the orderings ties a member to a choice."""

from __future__ import annotations

import logging
import random
import re
import time

import pytest
from driver import ballot_shares, close_secrets
from panel_helpers import box_of, case_at_vote, seat_members
from phe import paillier
from sqlalchemy import inspect, select, text

from seed.cast import build_world
from workflow.db import Database
from workflow.engine import core as engine
from workflow.models import BallotParticipation
from workflow.panel import ballots
from workflow.panel.ballot_keys import COUNTERS, rebuild_key

VOTES = 50
_part = BallotParticipation.__table__
_CHOICE_PARAM = re.compile(r"'(yes|no|abstain)'")
_BALLOT_TABLE = re.compile(r"\bballot\b(?!_)", re.IGNORECASE)


def _physical_ballot_order(db: Database, box_id: int, world) -> list[tuple[str, str]]:
    """(id, choice) in storage order: PostgreSQL's ctid; SQLite's table b-tree (WITHOUT ROWID: the key).

    The choices are decrypted one ballot at a time with both shares: this test plays the strongest insider
    (both share holders with a copy of the database, docs/ballot-secrecy.md) to show that even they cannot
    tell the voting order from the storage order. The product never decrypts a single ballot.
    """
    order = "ORDER BY ctid" if db.is_postgres else ""
    with db.read() as conn:
        rows = conn.execute(text(f"SELECT id, c_yes, c_no, c_abstain FROM ballot WHERE box_id = :b {order}"),
                            {"b": box_id}).all()
        key = rebuild_key(conn, world.session_id, ballot_shares(world))
    out = []
    for ballot_id, *cts in rows:
        counts = [key.decrypt(paillier.EncryptedNumber(key.public_key, int(c, 16), 0)) for c in cts]
        assert sorted(counts) == [0, 0, 1]
        out.append((ballot_id, COUNTERS[counts.index(1)]))
    return out


def test_fifty_votes_leave_no_link_from_member_to_choice(any_db: Database, caplog):
    world = build_world(any_db)
    seat_members(world, VOTES - 6)  # chair + 6 + 44 = 51 seated
    case_id = case_at_vote(world)
    box_id = box_of(any_db, case_id)["id"]
    voters = [world.chair, *world.members][:VOTES]
    rng = random.Random(5150)
    cast = [(m, rng.choice(["yes", "no", "abstain"])) for m in voters]

    # Vote through a Database that echoes every statement, parameter and fetched row at DEBUG.
    echo_db = Database(any_db.url, echo="debug")
    caplog.set_level(logging.DEBUG)
    try:
        for member, choice in cast:
            ballots.cast_vote(echo_db, case_id, member, choice)
    finally:
        echo_db.dispose()
    records = [r.getMessage() for r in caplog.records]
    assert any("INSERT INTO ballot_participation" in msg for msg in records), "echo logging was not captured"
    assert not [msg for msg in records if _BALLOT_TABLE.search(msg)], "a log line touches the ballot table"
    # ("Col (...)" lines list column names — ballot_box has columns named yes/no/abstain — not values.)
    values = [msg for msg in records if not msg.startswith("Col (")]
    assert not [msg for msg in values if _CHOICE_PARAM.search(msg)], "a log line carries a choice"
    caplog.clear()

    # Tables: the ballot has no member and no time; participation has no choice.
    columns = {t: {c["name"] for c in inspect(any_db.engine).get_columns(t)}
               for t in ("ballot", "ballot_participation")}
    assert columns == {"ballot": {"id", "box_id", "c_yes", "c_no", "c_abstain"},
                       "ballot_participation": {"id", "box_id", "member_id"}}
    with any_db.read() as conn:
        participation = conn.execute(select(_part.c.id, _part.c.member_id).where(_part.c.box_id == box_id)
                                     .order_by(_part.c.id)).all()
    assert [m for _, m in participation] == [m.user_id for m, _ in cast]  # participation order = voting order
    voting_order = [c for _, c in cast]

    # Orderings: storage order and id order of the ballots are not the voting order (nor its reverse).
    stored = _physical_ballot_order(any_db, box_id, world)
    assert sorted(c for _, c in stored) == sorted(voting_order)
    assert [c for _, c in stored] not in (voting_order, voting_order[::-1])
    by_id = [c for _, c in sorted(stored)]
    assert by_id not in (voting_order, voting_order[::-1])
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i, _ in stored)

    if any_db.is_postgres:
        # Every live ballot carries one transaction id, which no participation row carries.
        with any_db.read() as conn:
            ballot_x = set(conn.execute(text("SELECT xmin::text FROM ballot WHERE box_id = :b"), {"b": box_id})
                           .scalars())
            part_x = conn.execute(text("SELECT xmin::text FROM ballot_participation WHERE box_id = :b "
                                       "ORDER BY id"), {"b": box_id}).scalars().all()
        # one value for all 50: the last voter's transaction rewrote the whole box, so it tells no choice apart
        assert len(ballot_x) == 1 and len(set(part_x)) == VOTES

    before_close = {i for i, _ in stored}
    engine.fire(any_db, case_id, "close_ballot", world.chair, secrets=close_secrets(world))
    after = _physical_ballot_order(any_db, box_id, world)
    assert sorted(c for _, c in after) == sorted(voting_order)
    assert not before_close & {i for i, _ in after}  # ids changed again at the close
    box = box_of(any_db, case_id)
    assert (box["yes"], box["no"], box["abstain"]) == tuple(voting_order.count(c) for c in ("yes", "no", "abstain"))
    if any_db.is_postgres:
        with any_db.read() as conn:
            ballot_x = set(conn.execute(text("SELECT xmin::text FROM ballot WHERE box_id = :b"), {"b": box_id})
                           .scalars())
        assert len(ballot_x) == 1 and not ballot_x & set(part_x)  # the close's own transaction


def test_no_api_returns_a_members_choice():
    """The public surface of the ballot module offers nothing keyed by member that yields a choice."""
    import inspect as pyinspect

    names = {n for n, obj in vars(ballots).items() if pyinspect.isfunction(obj) and not n.startswith("_")
             and (obj.__module__ == ballots.__name__ or n in ballots.__all__)}
    assert names == {"cast_vote", "cast_votes", "close_box", "compute_tally", "count_box", "current_box", "open_box",
                     "quorum_refusal", "quorum_verdict", "record_attendance", "record_shares_entered", "recused_ids",
                     "scrub_storage", "sitting_count", "sitting_refusal", "submit_opinion", "tally_for"}
    assert set(ballots.__all__) >= names


def test_the_tally_is_counts_only(world):
    case_id = case_at_vote(world)
    for m, c in zip([world.chair, *world.members], ["yes", "no", "yes", "abstain", "yes", "yes", "no"], strict=True):
        ballots.cast_vote(world.db, case_id, m, c)
    fired = engine.fire(world.db, case_id, "close_ballot", world.chair, secrets=close_secrets(world))
    assert set(fired.payload["tally"]) == {"box_id", "seated", "present", "recused", "yes", "no", "abstain",
                                           "quorum_fraction", "pass_fraction", "eligible", "quorate", "passed"}


@pytest.mark.postgres
def test_scrub_rewrites_the_ballot_table(pg_db):
    world = build_world(pg_db)
    case_id = case_at_vote(world)
    for m in [world.chair, *world.members]:
        ballots.cast_vote(pg_db, case_id, m, "yes")
    engine.fire(pg_db, case_id, "close_ballot", world.chair, secrets=close_secrets(world))
    with pg_db.read() as conn:
        before = conn.execute(text("SELECT pg_relation_filenode('ballot')")).scalar()
    ballots.scrub_storage(pg_db)
    with pg_db.read() as conn:
        after = conn.execute(text("SELECT pg_relation_filenode('ballot')")).scalar()
    assert before != after
    # The dead row versions themselves, counted in the table file (pg_stat_user_tables.n_dead_tup is no proof
    # either way: backends flush their counts up to a second late). VACUUM FULL must keep versions that a
    # snapshot older than the deletes may still see — on a shared server another session's DROP DATABASE or
    # an autovacuum worker holds one for a moment — so the scrub is repeated once the server is quiet.
    with pg_db.write() as conn:
        if conn.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'pgstattuple'")).first() is None:
            return
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pgstattuple"))
    for _ in range(5):
        with pg_db.read() as conn:
            dead = conn.execute(text("SELECT dead_tuple_count FROM pgstattuple('ballot')")).scalar()
        if not dead:
            break
        _wait_for_no_older_snapshot(pg_db)
        ballots.scrub_storage(pg_db)
    assert dead == 0


def _wait_for_no_older_snapshot(db: Database, timeout: float = 10.0) -> None:
    """Wait (bounded) until no other session on the server holds a snapshot or a transaction id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.read() as conn:
            busy = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                                     "AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL)")).scalar()
        if not busy:
            return
        time.sleep(0.05)
