"""The storage contract: fire()'s driver-level statements (workflow.engine.storage) must write what reads back
through SQLAlchemy exactly as if SQLAlchemy had written it, on both databases — JSON, timestamps with
microseconds, dates, NULLs — and the case's ``data`` must merge and refuse a stale version as the engine relies
on."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from seed.cast import build_world
from workflow.engine import core as engine
from workflow.engine.context import CaseData
from workflow.engine.storage import CaseRow, Statement, driver_store
from workflow.models import Case, CaseEvent, OutboxMessage, Timer

_case = Case.__table__
_event = CaseEvent.__table__
_outbox = OutboxMessage.__table__
_timer = Timer.__table__

SHANGHAI = timezone(timedelta(hours=8))
NESTED = {"中文": ["评审", {"深": [1, 2.5, None, True]}], "quote\"back\\slash": "\u2028", "empty": {}, "n": None}


def _case_row(db, case_id: int) -> dict:
    with db.read() as conn:
        return dict(conn.execute(select(_case).where(_case.c.id == case_id)).mappings().one())


def test_event_outbox_and_timer_round_trip(any_db):
    """Rows written on the DBAPI cursor read back through SQLAlchemy's types unchanged."""
    world = build_world(any_db)
    case_id = world.open()
    hp = driver_store(any_db.engine.dialect.name)
    stamp = datetime(2026, 3, 4, 21, 5, 6, 789012, tzinfo=SHANGHAI)  # not UTC, with microseconds
    event = {"case_id": case_id, "seq": 2, "actor_id": None, "actor_role": "system", "trigger": "t",
             "from_state": None, "to_state": "draft", "comment": "评论 ' \" %s %(x)s", "payload": NESTED,
             "created_at": stamp, "prev_hash": "", "hash": "h" * 64}
    outbox = {"case_id": case_id, "event_seq": 2, "kind": "transition", "audience": {"roles": ["applicant"]},
              "payload": NESTED, "created_at": stamp, "dispatched_at": None, "attempts": 0, "last_error": ""}
    timer = {"case_id": case_id, "name": "n", "state": "draft", "trigger": "t", "paused_in": [],
             "due_at": stamp + timedelta(microseconds=1), "remind_at": None, "reminded_at": None,
             "status": "pending", "created_at": stamp, "created_by_seq": 2, "closed_at": None}
    with any_db.write() as conn:
        cur = hp.cursor(conn)
        hp.insert_event(cur, event)
        hp.insert_outbox(cur, outbox)
        hp.insert_timer(cur, timer)
    with any_db.read() as conn:
        ev = conn.execute(select(_event).where(_event.c.case_id == case_id, _event.c.seq == 2)).mappings().one()
        ob = conn.execute(select(_outbox).where(_outbox.c.case_id == case_id)).mappings().one()
        tm = conn.execute(select(_timer).where(_timer.c.case_id == case_id)).mappings().one()
    assert ev["payload"] == NESTED and ob["payload"] == NESTED and ob["audience"] == {"roles": ["applicant"]}
    assert ev["from_state"] is None and ev["actor_id"] is None and ob["dispatched_at"] is None
    assert ev["comment"] == event["comment"]
    for value in (ev["created_at"], ob["created_at"], tm["created_at"]):
        # SQLite hands back naive UTC (callers use as_utc); either way the instant and microseconds survive.
        assert (value if value.tzinfo else value.replace(tzinfo=UTC)) == stamp
    due = tm["due_at"] if tm["due_at"].tzinfo else tm["due_at"].replace(tzinfo=UTC)
    assert due == stamp + timedelta(microseconds=1) and tm["remind_at"] is None and tm["paused_in"] == []


def test_load_case_matches_sqlalchemy(any_db):
    """The cursor's case row equals SQLAlchemy's (aware UTC timestamps, decoded JSON, data included)."""
    world = build_world(any_db)
    case_id = world.open(superior=True)
    engine.fire(any_db, case_id, "submit", world.applicant)
    expected = _case_row(any_db, case_id)
    hp = driver_store(any_db.engine.dialect.name)
    with any_db.read() as conn:
        assert hp.load_case(hp.cursor(conn), -1, lock=False) is None
        case = hp.load_case(hp.cursor(conn), case_id, lock=False)
        assert isinstance(case, CaseRow)
        assert case.data_value("eligibility_basis") == expected["data"]["eligibility_basis"]
        assert case.data_value("missing", 7) == 7
    for name, value in expected.items():
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        assert case[name] == value, name
    assert case["submitted_at"].tzinfo is not None and case["superior_org_ids"] == [world.superior]


@pytest.mark.parametrize("updates", [
    {"round": 2},
    {"eligibility_recheck": {"report": NESTED}, "superior_level": 1},
    {"account_evidence": {"kind": "labour_contract", "contract_months": 12}},  # replaces, never deep-merges
    {"odd key.with$path": [1, 2]},  # not mergeable by json_set: the engine writes the whole document
])
def test_data_updates_replace_top_level_keys(any_db, updates):
    """The database-side merge gives exactly {**data, **updates}, whatever the keys and values."""
    world = build_world(any_db)
    case_id = world.open(data={"account_evidence": {"kind": "freelancer_registration", "registration_no": "X"},
                               "round": 1, "keep": NESTED})
    before = _case_row(any_db, case_id)
    hp = driver_store(any_db.engine.dialect.name)
    with any_db.write() as conn:
        cur = hp.cursor(conn)
        case = hp.load_case(cur, case_id, lock=True)
        values = {name: case[name] for name in ("state", "version", "last_event_hash", "updated_at",
                                                "state_entered_at", "pending_timers", "submitted_at",
                                                "standard_version")}
        if not hp.mergeable(updates):
            values["data"] = dict(CaseData(case, updates))
        assert hp.update_case(cur, case_id, case["version"], values, updates)
    after = _case_row(any_db, case_id)
    assert after["data"] == {**before["data"], **updates}
    assert {k: v for k, v in after.items() if k != "data"} == {k: v for k, v in before.items() if k != "data"}


def test_stale_version_writes_nothing(any_db):
    """write_transition refuses a version that moved on, and then no event, outbox row or timer exists."""
    world = build_world(any_db)
    case_id = world.open()
    hp = driver_store(any_db.engine.dialect.name)
    now = datetime.now(UTC)
    with any_db.write() as conn:
        cur = hp.cursor(conn)
        case = hp.load_case(cur, case_id, lock=True)
        values = {name: case[name] for name in ("state", "version", "last_event_hash", "updated_at",
                                                "state_entered_at", "pending_timers", "submitted_at",
                                                "standard_version")}
        event = {"case_id": case_id, "seq": 9, "actor_id": None, "actor_role": "system", "trigger": "t",
                 "from_state": "draft", "to_state": "draft", "comment": "", "payload": {}, "created_at": now,
                 "prev_hash": "", "hash": "x"}
        outbox = {"case_id": case_id, "event_seq": 9, "kind": "k", "audience": {}, "payload": {}, "created_at": now}
        timer = {"case_id": case_id, "name": "n", "state": "draft", "trigger": "t", "paused_in": [], "due_at": now,
                 "status": "pending", "created_at": now, "created_by_seq": 9}
        assert not hp.write_transition(cur, case_id, case["version"] + 5, values, {"round": 3}, event, outbox, timer)
    with any_db.read() as conn:
        assert conn.execute(select(_event.c.id).where(_event.c.seq == 9)).first() is None
        assert conn.execute(select(_outbox.c.id).where(_outbox.c.case_id == case_id)).first() is None
        assert conn.execute(select(_timer.c.id).where(_timer.c.case_id == case_id)).first() is None
    assert "round" not in _case_row(any_db, case_id)["data"]


def test_statement_placeholders_and_dates(any_db):
    """Named placeholders work on both drivers (repeated names, :: casts untouched), dates as SQLAlchemy's."""
    hp = driver_store(any_db.engine.dialect.name)
    stmt = Statement("SELECT :a + :a, :d", postgresql="SELECT :a + :a, :d::date")
    with any_db.read() as conn:
        total, day = stmt.run(conn, {"a": 2, "d": hp.value(date(2026, 2, 28))}).fetchone()
    assert total == 4 and day == (date(2026, 2, 28) if any_db.is_postgres else "2026-02-28")
    assert hp.value(date(2026, 2, 28)) == (date(2026, 2, 28) if any_db.is_postgres else "2026-02-28")
    assert hp.value(None) is None


def test_case_data_view_reads_updates_first():
    """ctx.case_data: updates shadow the stored keys; a plain dict case works as before."""
    view = CaseData({"data": {"round": 1, "a": 1}}, {"round": 2})
    assert view["round"] == 2 and view.get("a") == 1 and view.get("missing", 7) == 7
    assert dict(view) == {"round": 2, "a": 1} and len(view) == 2


def test_sqlite_write_transactions_begin_immediate(db):
    """SQLite write transactions still take the write lock up front (BEGIN IMMEDIATE at the driver)."""
    with db.write() as conn:
        assert conn.connection.driver_connection.in_transaction
        other = db.engine.raw_connection()
        try:
            other.driver_connection.execute("PRAGMA busy_timeout = 0")
            with pytest.raises(Exception, match="locked"):
                other.driver_connection.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
    with db.read() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1


def test_lean_write_joins_core_statements_and_savepoints(any_db):
    """Inside lean_write, driver statements, Core statements and savepoints share one transaction."""
    world = build_world(any_db)
    case_id = world.open()
    hp = driver_store(any_db.engine.dialect.name)

    def write(comment: str, *, fail: bool) -> None:
        with any_db.lean_write() as conn:
            hp.cursor(conn).execute(hp.sql["claim_timer"], {"timer_id": -1, "case_id": case_id, "now": None})
            conn.execute(_case.update().where(_case.c.id == case_id).values(specialty=comment))
            with conn.begin_nested():  # a savepoint on the joined Connection, released
                conn.execute(_case.update().where(_case.c.id == case_id).values(level="savepoint"))
            with pytest.raises(ValueError), conn.begin_nested():  # and one rolled back on its own
                conn.execute(_case.update().where(_case.c.id == case_id).values(target_title="undone"))
                raise ValueError
            if fail:
                raise RuntimeError("refused")

    write("kept", fail=False)
    with pytest.raises(RuntimeError):
        write("discarded", fail=True)
    row = _case_row(any_db, case_id)
    assert row["specialty"] == "kept" and row["level"] == "savepoint" and row["target_title"] != "undone"
    # Nothing is left open: the pool hands out a clean connection that can take the write lock again.
    with any_db.lean_write() as conn:
        assert hp.load_case(hp.cursor(conn), case_id, lock=True)["specialty"] == "kept"


def test_lean_write_without_core_commits_through_the_driver(any_db):
    world = build_world(any_db)
    case_id = world.open()
    hp = driver_store(any_db.engine.dialect.name)
    with any_db.lean_write() as conn:
        case = hp.load_case(hp.cursor(conn), case_id, lock=True)
        values = {k: case[k] for k in ("state", "version", "last_event_hash", "updated_at", "state_entered_at",
                                       "pending_timers", "submitted_at", "standard_version")}
        assert hp.update_case(hp.cursor(conn), case_id, case["version"], values, {"round": 5})
        assert conn.get_execution_options()["titlereview_write"] and conn.dialect.name == any_db.engine.dialect.name
    assert _case_row(any_db, case_id)["data"]["round"] == 5


def test_leaving_a_state_cancels_only_the_timers_left_behind(any_db):
    """A timer survives in its own state and in the states it waits through; every other one is cancelled."""
    world = build_world(any_db)
    case_id = world.open()
    hp = driver_store(any_db.engine.dialect.name)
    now = datetime.now(UTC)
    rows = [("notice", "unit_notice", ["unit_notice_objection"]), ("other", "formal_check", []),
            ("waits", "draft", ["unit_notice_objection", "x"]), ("null", "draft", None)]
    with any_db.write() as conn:
        cur = hp.cursor(conn)
        for name, state, paused in rows:
            hp.insert_timer(cur, {"case_id": case_id, "name": name, "state": state, "trigger": "t",
                                  "paused_in": paused, "due_at": now, "status": "pending", "created_at": now,
                                  "created_by_seq": 1})
    with any_db.write() as conn:
        kept, cancelled = hp.close_left_timers(hp.cursor(conn), case_id, "unit_notice_objection", now)
    assert sorted(t["name"] for t in kept) == ["notice", "waits"] and cancelled == 2
    with any_db.read() as conn:
        status = dict(conn.execute(select(_timer.c.name, _timer.c.status).where(_timer.c.case_id == case_id)).all())
    assert status == {"notice": "pending", "waits": "pending", "other": "cancelled", "null": "cancelled"}


def test_a_guard_shared_by_two_branches_runs_once_per_firing(world, monkeypatch):
    """complete_pre_review's two branches both check the opinions: counted once per firing."""
    from driver import advance

    from workflow.engine import guards
    from workflow.panel import ballots, prereview

    case_id = world.open("industry-session")
    advance(world, case_id, "pre_review")
    seated = {a.user_id: a for a in [world.chair, *world.members]}
    for uid in prereview.assign_reviewers(world.db, case_id, world.chair):
        ballots.submit_opinion(world.db, case_id, seated[uid], "yes")
    runs = []
    real = guards._OPINIONS

    class Counting:
        def run(self, conn, params):
            runs.append(params)
            return real.run(conn, params)

    monkeypatch.setattr(guards, "_OPINIONS", Counting())
    fired = engine.fire(world.db, case_id, "complete_pre_review", world.chair)
    assert fired.to_state == "committee_vote" and len(runs) == 1  # the defence branch was refused first


def test_case_row_with_calendar_matches_both_reads(any_db):
    """The case row read together with the calendar overrides equals the plain read, and its calendar
    equals the one built from the overrides table — with and without overrides stored."""
    from workflow.models import CalendarOverride
    from workflow.time.workdays import calendar_from_db

    world = build_world(any_db)
    case_id = world.open()
    hp = driver_store(any_db.engine.dialect.name)
    days = [date(2026, 11, 14), date(2026, 11, 16), date(2026, 11, 17)]  # a Saturday, a Monday, a Tuesday
    for overrides in ({}, {days[0]: True, days[1]: False}):
        with any_db.write() as conn:
            conn.execute(CalendarOverride.__table__.delete())
            for day, working in overrides.items():
                conn.execute(CalendarOverride.__table__.insert().values(day=day, is_working_day=working))
        with any_db.write() as conn:
            plain = hp.load_case(hp.cursor(conn), case_id, lock=True)
            case, calendar = hp.load_case_and_calendar(hp.cursor(conn), case_id)
            expected = calendar_from_db(conn)
        assert case == plain
        assert [calendar.is_working_day(d) for d in days] == [expected.is_working_day(d) for d in days]
        assert [calendar.is_working_day(d) for d in days] == [overrides.get(d, d != days[0]) for d in days]
        with any_db.write() as conn:
            assert hp.load_case_and_calendar(hp.cursor(conn), -1) == (None, None)
