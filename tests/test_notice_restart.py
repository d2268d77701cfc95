"""After a dismissed objection a notice continues where it paused — unless the session asks for a full period
again (``review_session.parameters["restart_notice_after_objection"]``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from driver import advance
from sqlalchemy import select, update

from seed.cast import build_world
from workflow.engine import core as engine
from workflow.engine import timers
from workflow.engine.core import RESTART_PAUSED_DEADLINES
from workflow.models import Case, ReviewSession, Timer, as_utc, utcnow
from workflow.records.audit import verify_chains
from workflow.time.workdays import calendar_from_db

NOTICES = {"unit_notice": ("unit_notice_end", "close_unit_notice"),
           "result_notice": ("result_notice_end", "close_result_notice")}


def _pending(db, case_id: int) -> list[dict]:
    t = Timer.__table__
    with db.read() as conn:
        rows = conn.execute(select(t).where(t.c.case_id == case_id, t.c.status == "pending")).mappings()
        return [{**r, "due_at": as_utc(r["due_at"])} for r in rows]  # SQLite hands back naive UTC


def _case(db, case_id: int) -> dict:
    with db.read() as conn:
        return dict(conn.execute(select(Case.__table__).where(Case.__table__.c.id == case_id)).mappings().one())


@pytest.mark.parametrize("notice", sorted(NOTICES))
@pytest.mark.parametrize("restart", [False, True])
def test_a_dismissed_objection_continues_or_restarts_the_notice(any_db, notice, restart):
    world = build_world(any_db)
    if restart:
        with any_db.write() as conn:
            conn.execute(update(ReviewSession.__table__).where(ReviewSession.__table__.c.id == world.session_id)
                         .values(parameters={RESTART_PAUSED_DEADLINES: True}))
    case_id = world.open("industry-session")
    advance(world, case_id, notice)
    timer_name, closing = NOTICES[notice]
    (before,) = _pending(any_db, case_id)
    assert before["name"] == timer_name
    objector = world.colleague if notice == "unit_notice" else world.outsider
    decider = world.unit if notice == "unit_notice" else world.officer
    filed_at = utcnow() + timedelta(days=1)
    dismissed_at = filed_at + timedelta(days=3)
    engine.fire(any_db, case_id, "file_objection", objector, data={"reason": "业绩材料与实际不符，请核实"},
                now=filed_at)
    fired = engine.fire(any_db, case_id, "dismiss_objection", decider, data={"reason": "经核查，异议不成立"},
                        now=dismissed_at)
    (after,) = _pending(any_db, case_id)
    assert _case(any_db, case_id)["pending_timers"] == 1
    if restart:
        with any_db.read() as conn:
            expected = calendar_from_db(conn).period_end(dismissed_at, 5)
        assert after["id"] != before["id"] and after["name"] == timer_name and after["due_at"] == expected
        assert after["due_at"] > before["due_at"]
        assert fired.payload["deadline_restarted"] == timer_name
        assert fired.payload["deadline"] == {"name": timer_name, "due_at": expected.isoformat()}
    else:
        assert after["id"] == before["id"] and after["due_at"] == before["due_at"]
        assert "deadline_restarted" not in fired.payload and "deadline" not in fired.payload
    # Just after the original end: the continued notice closes, the restarted one is still running.
    report = timers.tick(any_db, now=before["due_at"] + timedelta(minutes=1))
    assert ((case_id, closing) in report.fired) is not restart
    if restart:
        assert (case_id, closing) in timers.tick(any_db, now=after["due_at"] + timedelta(minutes=1)).fired
    left = _pending(any_db, case_id)  # closing the result notice starts the filing deadline
    assert timer_name not in [t["name"] for t in left] and _case(any_db, case_id)["pending_timers"] == len(left)
    assert verify_chains(any_db)[1] == []
