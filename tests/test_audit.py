"""The audit chain: every kind of tampering is found and the first broken event is named."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from driver import advance
from sqlalchemy import delete, insert, select, update

from seed.cast import build_world
from web.cli import main
from workflow.models import Case, CaseEvent
from workflow.records.audit import event_hash, verify_chains

_ev = CaseEvent.__table__
_case = Case.__table__


def _chain(db, case_id: int) -> list[dict]:
    with db.read() as conn:
        return [dict(r) for r in conn.execute(select(_ev).where(_ev.c.case_id == case_id).order_by(_ev.c.seq))
                .mappings()]


def _modify(conn, ev):
    conn.execute(update(_ev).where(_ev.c.id == ev[3]["id"]).values(comment="篡改后的意见"))


def _modify_and_rehash(conn, ev):
    # A careful forger recomputes this event's hash; the next event's link then breaks.
    changed = {**ev[3], "actor_role": "authority_officer"}
    conn.execute(update(_ev).where(_ev.c.id == ev[3]["id"]).values(actor_role="authority_officer",
                                                                    hash=event_hash(changed)))


def _delete_middle(conn, ev):
    conn.execute(delete(_ev).where(_ev.c.id == ev[3]["id"]))
    for later in ev[4:]:
        conn.execute(update(_ev).where(_ev.c.id == later["id"]).values(seq=later["seq"] - 1))


def _delete_last(conn, ev):
    conn.execute(delete(_ev).where(_ev.c.id == ev[-1]["id"]))


def _insert(conn, ev):
    for later in reversed(ev[3:]):
        conn.execute(update(_ev).where(_ev.c.id == later["id"]).values(seq=later["seq"] + 1))
    fake = {k: v for k, v in ev[2].items() if k != "id"}
    fake.update(seq=ev[3]["seq"], trigger="forged", prev_hash=ev[2]["hash"])
    fake["hash"] = event_hash(fake)
    conn.execute(insert(_ev).values(**fake))


def _reorder(conn, ev):
    a, b = ev[3], ev[4]
    conn.execute(update(_ev).where(_ev.c.id == a["id"]).values(seq=-1))
    conn.execute(update(_ev).where(_ev.c.id == b["id"]).values(seq=a["seq"]))
    conn.execute(update(_ev).where(_ev.c.id == a["id"]).values(seq=b["seq"]))


def _state_forced(conn, ev):
    conn.execute(update(_case).where(_case.c.id == ev[0]["case_id"]).values(state="certified"))


TAMPERING = [
    ("modified", _modify, 4, "modified"),
    ("modified-and-rehashed", _modify_and_rehash, 5, "link broken"),
    ("deleted", _delete_middle, 4, "link broken"),
    ("deleted-last", _delete_last, None, "does not point at the last event"),
    ("inserted", _insert, 5, "link broken"),
    ("reordered", _reorder, 4, "link broken"),
    ("state-forced", _state_forced, None, "state differs"),
]


@pytest.mark.parametrize(("name", "tamper", "broken_seq", "problem"), TAMPERING, ids=[t[0] for t in TAMPERING])
def test_tampering_is_detected(any_db, name, tamper, broken_seq, problem):
    world = build_world(any_db)
    clean = world.open("industry-session")
    victim = world.open("industry-session")
    for case_id in (clean, victim):
        advance(world, case_id, "pre_review")
    assert verify_chains(any_db) == (2, [])
    with any_db.write() as conn:
        tamper(conn, _chain(any_db, victim))
    checked, breaks = verify_chains(any_db)
    assert checked == 2 and len(breaks) == 1
    found = breaks[0]
    assert found.case_id == victim and problem in found.problem, found
    if broken_seq is not None:
        assert found.seq == broken_seq, found


def test_cli_audit_verify_exit_codes(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["--database-url", url, "init-db"]).exit_code == 0
    from workflow.db import Database

    db = Database(url)
    world = build_world(db)
    case_id = world.open("industry-session")
    advance(world, case_id, "formal_check")
    ok = runner.invoke(main, ["--database-url", url, "audit", "verify"])
    assert ok.exit_code == 0 and "all 1 case chains verify" in ok.output
    with db.write() as conn:
        _modify(conn, _chain(db, case_id))
    bad = runner.invoke(main, ["--database-url", url, "audit", "verify"])
    assert bad.exit_code == 1
    event_id = _chain(db, case_id)[3]["id"]
    assert f"case {case_id}: event {event_id} (seq 4)" in bad.output
