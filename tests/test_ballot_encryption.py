"""Encrypted ballots (issue #15, item 1): no choice in clear in any database file or write-ahead log, the key
split between the chair and the officer, only box sums decrypted, recounts from the ciphertexts.

The storage tests play someone holding every database file: they read the SQLite database and its WAL as bytes,
and on PostgreSQL the WAL records of the vote transactions (found with ``pg_walinspect``, read raw from
``pg_wal`` with ``pg_read_binary_file``).
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections import Counter
from pathlib import Path

import pytest
from alembic import command
from driver import advance, ballot_shares, close_secrets, keep_shares, remember_shares
from panel_helpers import box_of, case_at_vote, seat_members
from phe import paillier
from sqlalchemy import inspect, select, text

from seed.cast import build_world
from workflow import migrate
from workflow.db import Database
from workflow.engine import core as engine
from workflow.errors import InvalidAction
from workflow.models import CaseEvent, PanelLog
from workflow.panel import ballot_keys, ballots, sitting
from workflow.panel.ballot_keys import BallotShares, rebuild_key

VOTES = 12
_CLEAR = (b"abstain", "同意".encode(), "不同意".encode(), "弃权".encode())
"""Markers a clear ballot would leave, long enough that random bytes never match them by chance."""
_SQLITE_ROW = re.compile(rb"[0-9a-f]{32}[\x00-\xff]{1,2}(?:yes|no|abstain)")
"""A clear ballot row as SQLite stores it (random hex id, box id, choice) — how the old design's WAL read."""
_PG_VALUE = (b"\x09yes", b"\x07no", b"\x11abstain")
""""yes", "no" and "abstain" as PostgreSQL stores a short text value (one-byte varlena header, then the text)."""


def _clear_hits(data: bytes, dialect: str) -> list[bytes]:
    """The clear-choice markers found in ``data`` (a 2- or 3-letter word alone would match random bytes)."""
    hits = [m for m in _CLEAR if m in data]
    if dialect == "sqlite":
        hits += [m.group(0) for m in _SQLITE_ROW.finditer(data)]
    else:
        hits += [m for m in _PG_VALUE if m in data]
    return hits


def test_the_detector_finds_what_a_clear_ballot_leaves():
    """The byte checks below would have caught the design before encryption (a clear row, a clear value)."""
    old_row = b"\x00\x05\x3d\x13" + b"0123456789abcdef0123456789abcdef" + b"\x01" + b"no"
    assert _clear_hits(old_row, "sqlite") and _clear_hits(b"..\x07no..", "postgresql")
    assert not _clear_hits(b"no yes " + b"0123456789abcdef" * 40, "sqlite")


def _vote(db: Database, world, case_id: int, votes: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    cast = []
    for member in [world.chair, *world.members][:votes]:
        choice = rng.choice(["yes", "no", "abstain"])
        ballots.cast_vote(db, case_id, member, choice)
        cast.append(choice)
    return cast


def _close_and_check(db: Database, world, case_id: int, cast: list[str]) -> None:
    """Close with both shares: the official tally is the plain count of what was cast, and the recount from the
    ciphertexts (homomorphic sums decrypted again) agrees."""
    engine.fire(db, case_id, "close_ballot", world.chair, secrets=close_secrets(world))
    box = box_of(db, case_id)
    plain = Counter(cast)
    assert (box["yes"], box["no"], box["abstain"]) == (plain["yes"], plain["no"], plain["abstain"])
    recount = sitting.recount_ballots(db, world.session_id, world.chair, shares=ballot_shares(world))
    assert recount.ok and recount.decrypted and recount.ballots == len(cast)


def test_ballot_rows_hold_only_ciphertexts(any_db: Database):
    world = build_world(any_db)
    case_id = case_at_vote(world)
    cast = _vote(any_db, world, case_id, 7, seed=1)
    box_id = box_of(any_db, case_id)["id"]
    with any_db.read() as conn:
        rows = conn.execute(text("SELECT * FROM ballot WHERE box_id = :b"), {"b": box_id}).mappings().all()
        n = int(conn.execute(text("SELECT n FROM committee_key WHERE session_id = :s"),
                             {"s": world.session_id}).scalar_one(), 16)
    assert len(rows) == 7
    for row in rows:
        assert set(row) == {"id", "box_id", "c_yes", "c_no", "c_abstain"}
        for column in ("c_yes", "c_no", "c_abstain"):
            value = int(row[column], 16)
            assert 0 < value < n * n and value.bit_length() > n.bit_length()  # a ciphertext mod n², not a count
    # Every ciphertext differs (phe obfuscates each encryption with a fresh random r): equal choices do not
    # give equal rows.
    assert len({row[c] for row in rows for c in ("c_yes", "c_no", "c_abstain")}) == 21
    _close_and_check(any_db, world, case_id, cast)


def test_sqlite_files_and_wal_hold_no_choice(db: Database):
    """Cast votes, then read the SQLite WAL (holding every page image the votes wrote) and the database file."""
    path = Path(db.engine.url.database)
    world = build_world(db)
    case_id = case_at_vote(world)
    with db.engine.connect() as conn:  # start from an empty WAL: what it holds afterwards is the votes' pages
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    main_before = path.read_bytes()
    cast = _vote(db, world, case_id, 7, seed=2)
    wal = Path(f"{path}-wal").read_bytes()
    assert len(wal) > 4096, "the votes must have written WAL frames"
    with db.read() as conn:
        stored = conn.execute(text("SELECT c_yes, c_no, c_abstain FROM ballot")).all()
    assert any(row[0].encode() in wal for row in stored), "the WAL holds the ballots (as ciphertexts)"
    assert _clear_hits(wal, "sqlite") == []
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    main_after = path.read_bytes()
    for marker in _CLEAR:  # the votes added no choice to the database file (other tables may name them)
        assert main_after.count(marker) <= main_before.count(marker), marker
    _close_and_check(db, world, case_id, cast)


def _lsn(value: str) -> int:
    high, low = value.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def _wal_bytes(conn, start: str, end: str) -> bytes:
    """The raw WAL between two LSNs, read from the server's pg_wal files (superuser)."""
    segment = int(conn.execute(text("SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'"))
                  .scalar_one())
    out = bytearray()
    at, stop = _lsn(start), _lsn(end)
    while at < stop:
        name, offset = conn.execute(text("SELECT file_name, file_offset FROM "
                                         "pg_walfile_name_offset(CAST(:l AS pg_lsn))"),
                                    {"l": f"{at >> 32:X}/{at & 0xFFFFFFFF:X}"}).one()
        length = min(stop - at, segment - offset)
        out += conn.execute(text("SELECT pg_read_binary_file(:f, :o, :n)"),
                            {"f": f"pg_wal/{name}", "o": offset, "n": length}).scalar_one()
        at += length
    return bytes(out)


@pytest.mark.postgres
def test_postgres_wal_of_the_votes_holds_no_choice(pg_db: Database):
    """pg_walinspect lists the WAL records of the vote transactions; their raw bytes carry no clear choice, and
    none of them touches ballot_box (no running tally is kept anywhere while the box is open)."""
    world = build_world(pg_db)
    case_id = case_at_vote(world)
    with pg_db.write() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_walinspect"))
    with pg_db.read() as conn:
        database_oid = conn.execute(text("SELECT oid FROM pg_database WHERE datname = current_database()")
                                    ).scalar_one()
        nodes = dict(conn.execute(text("SELECT relname, pg_relation_filenode(oid) FROM pg_class WHERE relname IN "
                                       "('ballot', 'ballot_participation', 'ballot_box')")).all())
        start = conn.execute(text("SELECT pg_current_wal_insert_lsn()::text")).scalar_one()
    cast = _vote(pg_db, world, case_id, 7, seed=3)
    with pg_db.read() as conn:
        end = conn.execute(text("SELECT pg_current_wal_flush_lsn()::text")).scalar_one()
        records = conn.execute(text(
            "SELECT start_lsn::text, end_lsn::text, xid::text, resource_manager, record_type, "
            "coalesce(block_ref, '') FROM pg_get_wal_records_info(CAST(:s AS pg_lsn), CAST(:e AS pg_lsn))"),
            {"s": start, "e": end}).all()
        stored = conn.execute(text("SELECT c_yes FROM ballot")).scalars().all()
        ours = f"/{database_oid}/"
        xids = {r[2] for r in records if ours in r[5] and r[2] != "0"}
        mine = [r for r in records if ours in r[5] or (r[2] in xids)]
        touched = " ".join(r[5] for r in mine)
        assert f"{ours}{nodes['ballot']} " in touched and f"{ours}{nodes['ballot_participation']} " in touched
        # No running tally: the only records on ballot_box are the row locks of the foreign-key checks
        # (Heap LOCK, FOR KEY SHARE), never an insert or update that could carry counts.
        box_records = {(r[3], r[4]) for r in mine if f"{ours}{nodes['ballot_box']} " in r[5]}
        assert box_records <= {("Heap", "LOCK")}, box_records
        raw = b"".join(_wal_bytes(conn, r[0], r[1]) for r in mine)
    assert any(c.encode() in raw for c in stored), "the vote records hold the ballots (as ciphertexts)"
    assert _clear_hits(raw, "postgresql") == [], "a vote transaction's WAL carries a clear choice"
    _close_and_check(pg_db, world, case_id, cast)


def test_shares_and_key_never_reach_storage_or_logs(db: Database, caplog):
    world = build_world(db)
    case_id = case_at_vote(world)
    cast = _vote(db, world, case_id, 7, seed=4)
    shares = ballot_shares(world)
    echo_db = Database(db.url, echo="debug")
    caplog.set_level(logging.DEBUG)
    try:
        engine.fire(echo_db, case_id, "close_ballot", world.chair, secrets=close_secrets(world))
        # The close's own statements all go to the DBAPI cursor (none is echoed); reading its panel-log row
        # back through SQLAlchemy proves that echo output is captured here (debug echo logs the rows).
        with echo_db.read() as conn:
            conn.execute(select(PanelLog.__table__.c.kind).where(
                PanelLog.__table__.c.session_id == world.session_id)).all()
    finally:
        echo_db.dispose()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "ballot_shares_entered" in logged, "echo logging was not captured"
    bodies = [s.split("-")[4] for s in (shares.chair, shares.officer)]
    assert not [b for b in bodies if b in logged or b[:40] in logged]
    with db.read() as conn:
        event = conn.execute(select(CaseEvent.__table__.c.payload).where(
            CaseEvent.__table__.c.case_id == case_id, CaseEvent.__table__.c.trigger == "close_ballot")).scalar_one()
        logs = conn.execute(select(PanelLog.__table__.c.kind, PanelLog.__table__.c.actor_id,
                                   PanelLog.__table__.c.payload)
                            .where(PanelLog.__table__.c.session_id == world.session_id)).all()
    assert set(event) == {"tally", "deadline"} and event["tally"]["yes"] == cast.count("yes")
    entered = [row for row in logs if row.kind == "ballot_shares_entered"]
    # The minutes' trail says both shares were entered, and by whom — not what they were.
    assert [(r.actor_id, r.payload["shares"], r.payload["box_id"]) for r in entered] == [
        (world.chair.user_id, ["chair", "officer"], box_of(db, case_id)["id"])]
    assert [r.kind for r in logs].count("ballot_key_created") == 1
    dump = json.dumps([event, *[r.payload for r in logs]], ensure_ascii=False)
    assert not [b for b in bodies if b[:40] in dump]
    path = Path(db.engine.url.database)
    files = path.read_bytes() + (Path(f"{path}-wal").read_bytes() if Path(f"{path}-wal").exists() else b"")
    assert not [b for b in bodies if b[:40].encode() in files]
    minutes = sitting.minutes_data(db, world.session_id, world.chair)
    assert minutes["cases"][0]["key_shares"] == {"shares": ["主任委员", "经办人"], "entered_by": world.chair.name}
    assert "分别输入计票密钥份额后计票" in sitting.render_minutes_html(minutes)


@pytest.mark.parametrize("how", ["missing", "one", "swapped", "other_key", "typo"])
def test_closing_with_wrong_shares_is_refused_and_changes_nothing(db: Database, how):
    world = build_world(db)
    case_id = case_at_vote(world)
    _vote(db, world, case_id, 7, seed=5)
    good = ballot_shares(world)
    if how == "other_key":
        # Share B of another key, made for this session and fingerprint: well-formed, but it rebuilds nothing.
        stranger = paillier.generate_paillier_keypair(n_length=ballot_keys.KEY_BITS)[1]
        wrong = BallotShares(good.chair, ballot_keys._split(stranger, world.session_id,
                                                            good.chair.split("-")[3].lower())[1])
    else:
        typo = good.officer[:30] + ("Q" if good.officer[30] != "Q" else "R") + good.officer[31:]
        wrong = {"missing": None, "one": BallotShares(good.chair, ""),
                 "swapped": BallotShares(good.officer, good.chair), "typo": BallotShares(good.chair, typo)}[how]
    message = {"missing": "分别输入", "one": "分别输入", "swapped": "应为A份额", "other_key": "不能还原",
               "typo": "校验码不符"}[how]
    version = box_of(db, case_id)
    with pytest.raises(InvalidAction, match=message):
        engine.fire(db, case_id, "close_ballot", world.chair,
                    secrets=None if wrong is None else {"ballot_shares": wrong})
    assert box_of(db, case_id) == version and box_of(db, case_id)["closed_at"] is None
    with db.read() as conn:
        assert conn.execute(select(PanelLog.__table__.c.id).where(
            PanelLog.__table__.c.kind == "ballot_shares_entered")).first() is None
    engine.fire(db, case_id, "close_ballot", world.chair, secrets=close_secrets(world))  # the right ones work


def test_a_production_size_key_splits_and_rebuilds(db: Database, monkeypatch):
    monkeypatch.setattr(ballot_keys, "KEY_BITS", 2048)
    world = build_world(db)
    opened = sitting.open_sitting(db, world.session_id, world.chair)
    keep_shares(world, opened)
    shares = opened.shares
    assert shares is not None and "chair" not in repr(shares) + repr(ballot_shares(world)).replace("chair=", "")
    assert shares.chair.startswith(f"TRBK1-A-{world.session_id}-{shares.fingerprint}-")
    assert shares.officer.startswith(f"TRBK1-B-{world.session_id}-{shares.fingerprint}-")
    with db.read() as conn:
        key = rebuild_key(conn, world.session_id, ballot_shares(world))
        assert key.public_key.n.bit_length() == 2048
        # A share shown with spaces and line breaks (printed, typed back) still works.
        spaced = BallotShares(" ".join(shares.chair[i:i + 8] for i in range(0, len(shares.chair), 8)).lower(),
                              shares.officer)
        assert rebuild_key(conn, world.session_id, spaced).p == key.p
    with pytest.raises(InvalidAction, match="已开始"):
        sitting.open_sitting(db, world.session_id, world.chair)
    with pytest.raises(InvalidAction, match="已生成计票密钥"):
        sitting.create_sitting_key(db, world.session_id, world.chair)


def test_a_sitting_opened_without_a_key_gets_one_before_voting(db: Database):
    """A sitting opened before keys existed (the upgrade): votes are refused until the chair makes its key."""
    world = build_world(db)
    opened = sitting.open_sitting(db, world.session_id, world.chair)
    with db.write() as conn:
        conn.execute(text("DELETE FROM committee_key"))
    case_id = case_at_vote(world)
    with pytest.raises(InvalidAction, match="尚未生成计票密钥"):
        ballots.cast_vote(db, case_id, world.chair, "yes")
    assert opened.shares is not None
    with pytest.raises(Exception):  # noqa: B017 - only the chair may
        sitting.create_sitting_key(db, world.session_id, world.officer)
    new = sitting.create_sitting_key(db, world.session_id, world.chair)
    remember_shares(db, world.session_id, BallotShares(new.chair, new.officer))
    cast = _vote(db, world, case_id, 7, seed=6)
    _close_and_check(db, world, case_id, cast)


def test_many_voters_sum_correctly(db: Database):
    world = build_world(db)
    seat_members(world, VOTES)
    case_id = case_at_vote(world)
    cast = _vote(db, world, case_id, VOTES + 7, seed=7)
    _close_and_check(db, world, case_id, cast)


def _migrate(db: Database, direction: str, revision: str) -> None:
    cfg = migrate.alembic_config(db)
    with db.write() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, direction)(cfg, revision)


def test_migration_0016_drops_closed_clear_ballots_and_stops_on_open_ones(any_db: Database):
    world = build_world(any_db)
    case_id = case_at_vote(world)
    box_id = box_of(any_db, case_id)["id"]
    _migrate(any_db, "downgrade", "0015")
    with any_db.write() as conn:
        assert [c["name"] for c in inspect(conn).get_columns("ballot")] == ["id", "box_id", "choice"]
        for i, choice in enumerate(["yes", "no", "yes"]):
            conn.execute(text("INSERT INTO ballot (id, box_id, choice) VALUES (:i, :b, :c)"),
                         {"i": f"{i:032x}", "b": box_id, "c": choice})
    # An open box holding clear ballots stops the upgrade, which changes nothing.
    with pytest.raises(RuntimeError, match=f"ballot boxes {box_id} are still open"):
        _migrate(any_db, "upgrade", "0016")
    assert migrate.current_revision(any_db) == "0015"
    with any_db.write() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM ballot")).scalar_one() == 3
        conn.execute(text("UPDATE ballot_box SET closed_at = opened_at, yes = 2, no = 1 WHERE id = :b"),
                     {"b": box_id})
    # Closed with its tally (the previous release's close): the clear ballots go, the tally stays.
    _migrate(any_db, "upgrade", "head")
    with any_db.read() as conn:
        assert {c["name"] for c in inspect(conn).get_columns("ballot")} == {"id", "box_id", "c_yes", "c_no",
                                                                            "c_abstain"}
        assert conn.execute(text("SELECT COUNT(*) FROM ballot")).scalar_one() == 0
        assert conn.execute(text("SELECT COUNT(*) FROM committee_key")).scalar_one() == 0
    assert (box_of(any_db, case_id)["yes"], box_of(any_db, case_id)["no"]) == (2, 1)
    # The sitting opened before the upgrade has no key: votes wait until the chair makes one.
    other = world.open("industry-session")
    advance(world, other, "committee_vote")
    engine.fire(any_db, other, "open_ballot", world.chair)
    with pytest.raises(InvalidAction, match="尚未生成计票密钥"):
        ballots.cast_vote(any_db, other, world.chair, "yes")
    new = sitting.create_sitting_key(any_db, world.session_id, world.chair)
    remember_shares(any_db, world.session_id, BallotShares(new.chair, new.officer))
    cast = _vote(any_db, world, other, 7, seed=8)
    engine.fire(any_db, other, "close_ballot", world.chair, secrets=close_secrets(world))
    assert box_of(any_db, other)["yes"] == cast.count("yes")
    recount = sitting.recount_ballots(any_db, world.session_id, world.chair, shares=ballot_shares(world))
    # The box closed by hand above has no close event (the engine would have written one); its purged
    # ballots are not held against it: it closed before the session had a key.
    assert recount.legacy == 1 and recount.ballots == 7
    assert [(d.box_id, d.problem) for d in recount.discrepancies] == [(box_id, "未找到该票箱的计票记录")]
