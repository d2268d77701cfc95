"""Versions of standards: effective dates decide which version judges a new case, where a version came from, how
many cases each version judges, and migration 0014 that stores the dates as a column."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic import command
from driver import case_row
from sqlalchemy import inspect, select, update

from seed.cast import STANDARD_FOR, build_world
from workflow import migrate
from workflow.db import Database
from workflow.eligibility.standards import STANDARDS_DIR, Standard, load_standard_dir, load_standard_yaml
from workflow.eligibility.standards_store import (
    case_counts,
    china_today,
    get_standard,
    history,
    latest_version,
    next_effective,
    publish,
    standards_in_force,
    unsubmitted_case_count,
    version_in_force,
)
from workflow.engine import core as engine
from workflow.errors import GuardRefused
from workflow.models import ReviewSession, StandardVersion
from workflow.time.calendar import CHINA_TZ

_sv = StandardVersion.__table__
SENIOR = STANDARD_FOR[("industry-session", "副高")][0]
"""The standard the cast's industry-session cases are judged by."""
SENIOR_SEED = load_standard_yaml(STANDARDS_DIR / f"{SENIOR}.yaml")
ENGINEER = "industrial-internet-engineer"
ENGINEER_SEED = load_standard_yaml(STANDARDS_DIR / f"{ENGINEER}.yaml")
TODAY = china_today()



def _dated(standard: Standard, start: date, until: date | None = None, **changes) -> Standard:
    """``standard`` with another effective period (validated: the period must be coherent)."""
    data = {**standard.model_dump(mode="json"), "effective_from": start.isoformat(),
            "effective_until": until.isoformat() if until else None, **changes}
    return Standard.model_validate(data)


def _at(day: date) -> datetime:
    """Noon in China on ``day``, as the engine's ``now``."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=CHINA_TZ).astimezone(UTC)


# --------------------------------------------------------------------------------------------- the store


def test_seeded_versions_store_their_effective_date(any_db):
    with any_db.read() as conn:
        stored = dict(conn.execute(select(_sv.c.standard_id, _sv.c.effective_from)).all())
    assert stored == {sid: s.effective_from for sid, s in load_standard_dir().items()}


def test_the_version_in_force_is_the_newest_that_has_taken_effect(any_db):
    seeded = ENGINEER_SEED.version
    ahead = publish(any_db, _dated(ENGINEER_SEED, date(2031, 1, 1)), by_user_id=None)
    with any_db.read() as conn:
        assert latest_version(conn, ENGINEER) == ahead.version == seeded + 1
        assert version_in_force(conn, ENGINEER, TODAY) == seeded  # published, not in force before its date
        assert version_in_force(conn, ENGINEER, date(2030, 12, 31)) == seeded
        assert version_in_force(conn, ENGINEER, date(2031, 1, 1)) == ahead.version
        assert version_in_force(conn, ENGINEER, date(2000, 1, 1)) is None  # before any version
        assert version_in_force(conn, "no-such-standard", TODAY) is None
        assert next_effective(conn, ENGINEER, TODAY) == date(2031, 1, 1)
        assert next_effective(conn, ENGINEER, date(2031, 1, 1)) is None
    # a correction dated back is newer and in force at once; the version dated ahead still takes over later
    fixed = publish(any_db, _dated(ENGINEER_SEED, date(2022, 6, 16)), by_user_id=None)
    with any_db.read() as conn:
        assert version_in_force(conn, ENGINEER, TODAY) == fixed.version
        assert version_in_force(conn, ENGINEER, date(2031, 6, 1)) == fixed.version  # the newest number wins


def test_standards_in_force_offer_the_version_in_force_and_leave_out_lapsed_and_future_ones(any_db):
    publish(any_db, _dated(ENGINEER_SEED, date(2031, 1, 1), title=ENGINEER_SEED.title), by_user_id=None)
    future = _dated(ENGINEER_SEED, date(2031, 1, 1), id="future-engineer")
    publish(any_db, future, by_user_id=None)
    offered = {s.id: s for s in standards_in_force(any_db, TODAY)}
    assert offered[ENGINEER].version == ENGINEER_SEED.version and "future-engineer" not in offered
    assert list(offered) == sorted(offered)
    assert SENIOR in offered  # in force until 2027-06-22
    later = {s.id: s for s in standards_in_force(any_db, date(2031, 1, 1))}
    assert later[ENGINEER].version == ENGINEER_SEED.version + 1 and "future-engineer" in later
    assert SENIOR not in later  # lapsed: its version in force ended on 2027-06-22


def test_publish_records_where_a_version_came_from(any_db):
    world = build_world(any_db)
    copy = publish(any_db, _dated(ENGINEER_SEED, date(2026, 1, 1), id="smart-vehicle-engineer"),
                   by_user_id=world.admin.user_id, based_on=(ENGINEER, ENGINEER_SEED.version))
    revised = publish(any_db, _dated(copy, date(2026, 7, 1)), by_user_id=None, based_on=(copy.id, 1))
    with any_db.read() as conn:
        rows = history(conn, "smart-vehicle-engineer")
        seeded = history(conn, ENGINEER)
    assert [r.version for r in rows] == [revised.version, 1] == [2, 1]
    assert rows[0].based_on == ("smart-vehicle-engineer", 1) and rows[0].published_by_name is None
    assert rows[0].effective_from == date(2026, 7, 1) and rows[0].published_at.tzinfo is not None
    assert rows[1].based_on == (ENGINEER, ENGINEER_SEED.version) and rows[1].published_by_name == "系统管理员"
    assert [r.based_on for r in seeded] == [None]  # the seed came from no stored version


# --------------------------------------------------------------------------------------------- the gate


def test_a_new_case_is_judged_by_the_version_in_force_and_pinned_cases_keep_theirs(world):
    seeded = SENIOR_SEED.version
    pinned = world.open("industry-session")
    engine.fire(world.db, pinned, "submit", world.applicant)
    ahead = publish(world.db, _dated(SENIOR_SEED, date(2027, 1, 1), date(2027, 6, 22)), by_user_id=None)
    waiting = world.open("industry-session")
    engine.fire(world.db, waiting, "submit", world.applicant)
    assert case_row(world.db, waiting).standard_version == seeded  # published, but not in force yet
    later = world.open("industry-session")
    engine.fire(world.db, later, "submit", world.applicant, now=_at(date(2027, 1, 4)))
    assert case_row(world.db, later).standard_version == ahead.version  # in force on the day of submission
    assert case_row(world.db, pinned).standard_version == seeded
    with world.db.read() as conn:
        assert case_counts(conn, SENIOR) == {seeded: 2, ahead.version: 1}
        assert case_counts(conn, "no-such-standard") == {}


def test_a_standard_not_yet_in_force_refuses_the_submission_saying_from_when(world):
    future = _dated(SENIOR_SEED, date(2031, 3, 1), id="future-senior")
    publish(world.db, future, by_user_id=None)
    session = ReviewSession.__table__
    with world.db.write() as conn:
        accepted = conn.execute(select(session.c.standard_ids).where(session.c.id == world.session_id)).scalar()
        conn.execute(update(session).where(session.c.id == world.session_id)
                     .values(standard_ids=[*accepted, "future-senior"]))
    case_id = world.open("industry-session", standard_id="future-senior")
    with pytest.raises(GuardRefused, match=r"评价标准“.+”尚未生效，自2031年3月1日起施行"):
        engine.fire(world.db, case_id, "submit", world.applicant)
    assert case_row(world.db, case_id).state == "draft"
    engine.fire(world.db, case_id, "submit", world.applicant, now=_at(date(2031, 3, 1)))
    assert case_row(world.db, case_id).standard_version == 1


def test_an_unknown_standard_is_still_reported_as_missing(world):
    case_id = world.open("industry-session")
    with world.db.write() as conn:  # a standard id no version has (only hand-edited data could hold one)
        from workflow.models import Case

        conn.execute(update(Case.__table__).where(Case.__table__.c.id == case_id).values(standard_id="gone"))
    with pytest.raises(GuardRefused, match="评价标准“gone”不存在或已停用"):
        engine.fire(world.db, case_id, "submit", world.applicant)


def test_unsubmitted_cases_are_those_still_in_their_first_state(world):
    drafts = [world.open("industry-session") for _ in range(3)]
    engine.fire(world.db, drafts[0], "submit", world.applicant)
    engine.fire(world.db, drafts[1], "withdraw", world.applicant, data={"reason": "改投其他评审会"})
    world.open("industry-session", level="正高")  # another standard
    assert unsubmitted_case_count(world.db, SENIOR) == 1
    assert unsubmitted_case_count(world.db, "no-such-standard") == 0


# --------------------------------------------------------------------------------------------- migration 0014


def _run(db: Database, direction: str, revision: str) -> None:
    cfg = migrate.alembic_config(db)
    with db.write() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, direction)(cfg, revision)


def _columns(db: Database, table: str) -> set[str]:
    with db.read() as conn:
        return {c["name"] for c in inspect(conn).get_columns(table)}


def test_the_migration_fills_the_dates_from_the_bodies_and_back(any_db):
    world = build_world(any_db)
    world.open("industry-session")  # a case naming the standard: the rebuild must keep working with it
    revised = publish(any_db, _dated(ENGINEER_SEED, date(2030, 5, 20)), by_user_id=world.admin.user_id,
                      based_on=(ENGINEER, ENGINEER_SEED.version))
    _run(any_db, "downgrade", "0013")
    assert not {"effective_from", "based_on_id", "based_on_version"} & _columns(any_db, "standard_version")
    with any_db.read() as conn:
        assert "standard_draft" not in inspect(conn).get_table_names()
    migrate.upgrade(any_db)
    assert migrate.current_revision(any_db) == migrate.head_revision(any_db)
    with any_db.read() as conn:
        dates = {(sid, v): d for sid, v, d in conn.execute(select(_sv.c.standard_id, _sv.c.version,
                                                                  _sv.c.effective_from))}
        assert version_in_force(conn, ENGINEER, TODAY) == ENGINEER_SEED.version
        assert history(conn, ENGINEER)[0].based_on is None  # the origin was not kept by the downgrade
        assert get_standard(conn, ENGINEER, revised.version) == revised
        columns = {c["name"]: c for c in inspect(conn).get_columns("standard_version")}
        indexes = {i["name"] for i in inspect(conn).get_indexes("standard_version")}
        uniques = [u["column_names"] for u in inspect(conn).get_unique_constraints("standard_version")]
    assert dates[(ENGINEER, revised.version)] == date(2030, 5, 20)
    assert dates[(SENIOR, SENIOR_SEED.version)] == SENIOR_SEED.effective_from
    assert columns["effective_from"]["nullable"] is False
    assert "ix_standard_version_standard_id" in indexes and uniques == [["standard_id", "version"]]  # kept
