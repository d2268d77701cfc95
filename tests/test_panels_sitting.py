"""The sitting: opened and signed off by the chair, attendance only while open, and the minutes."""

from __future__ import annotations

import re

import pytest
from driver import advance, close_secrets, keep_shares
from panel_helpers import case_at_vote

from workflow.engine import core as engine
from workflow.errors import GuardRefused, InvalidAction, PermissionDenied
from workflow.models import Sitting
from workflow.panel import ballots, sitting


def test_only_the_chair_opens_and_attendance_needs_an_open_sitting(world):
    with pytest.raises(InvalidAction, match="尚未由主任委员宣布开始"):
        ballots.record_attendance(world.db, world.session_id, world.members[0].user_id)
    for intruder in (world.members[0], world.admin, world.officer):
        with pytest.raises(PermissionDenied):
            sitting.open_sitting(world.db, world.session_id, intruder)
    keep_shares(world, sitting.open_sitting(world.db, world.session_id, world.chair))
    with pytest.raises(InvalidAction, match="已开始"):
        sitting.open_sitting(world.db, world.session_id, world.chair)
    ballots.record_attendance(world.db, world.session_id, world.members[0].user_id, world.members[0])
    ballots.record_attendance(world.db, world.session_id, world.members[1].user_id, world.chair)
    with pytest.raises(PermissionDenied, match="本人"):
        ballots.record_attendance(world.db, world.session_id, world.members[2].user_id, world.members[0])
    with pytest.raises(PermissionDenied):
        ballots.record_attendance(world.db, world.session_id, world.outsider.user_id)


def test_no_ballot_before_the_sitting_opens(world):
    case_id = world.open("industry-session")
    advance(world, case_id, "committee_vote")  # the test driver opens the sitting on the way
    with world.db.write() as conn:
        conn.execute(Sitting.__table__.delete())
    with pytest.raises(GuardRefused, match="尚未由主任委员宣布开始"):
        engine.fire(world.db, case_id, "open_ballot", world.chair)


def test_sign_off_waits_for_open_ballots_then_freezes_everything(world):
    case_id = case_at_vote(world)
    with pytest.raises(PermissionDenied):
        sitting.close_sitting(world.db, world.session_id, world.members[0])
    with pytest.raises(InvalidAction, match="投票尚未结束"):
        sitting.close_sitting(world.db, world.session_id, world.chair)
    for m in [world.chair, *world.members]:
        ballots.cast_vote(world.db, case_id, m, "yes")
    engine.fire(world.db, case_id, "close_ballot", world.chair, secrets=close_secrets(world))
    digest = sitting.close_sitting(world.db, world.session_id, world.chair)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert sitting.sitting_status(world.db, world.session_id)["minutes_hash"] == digest
    assert sitting.verify_minutes(world.db, world.session_id)
    with pytest.raises(InvalidAction, match="已结束"):
        ballots.record_attendance(world.db, world.session_id, world.members[0].user_id)
    other = world.open("industry-session")
    advance(world, other, "committee_vote")
    with pytest.raises(GuardRefused, match="已结束"):
        engine.fire(world.db, other, "open_ballot", world.chair)
    with pytest.raises(InvalidAction, match="已结束"):
        sitting.close_sitting(world.db, world.session_id, world.chair)
    # a changed tally behind the signed minutes is noticed
    from workflow.models import BallotBox

    with world.db.write() as conn:
        conn.execute(BallotBox.__table__.update().values(yes=1))
    assert not sitting.verify_minutes(world.db, world.session_id)


def test_minutes_give_counts_and_results_never_who_voted_how(world):
    passed = case_at_vote(world)
    failed = case_at_vote(world)
    from workflow.panel import conflicts

    voters = [world.chair, *world.members]
    choices_passed = ["yes", "yes", "yes", "yes", "yes", "no", "abstain"]
    for m, c in zip(voters, choices_passed, strict=True):
        ballots.cast_vote(world.db, passed, m, c)
    conflicts.declare_conflict(world.db, failed, world.members[5], "relative", "亲属")
    for m, c in zip(voters[:6], ["yes", "yes", "no", "no", "abstain", "yes"], strict=False):
        if m.user_id != world.members[5].user_id:
            ballots.cast_vote(world.db, failed, m, c)
    engine.fire(world.db, passed, "close_ballot", world.chair, secrets=close_secrets(world))
    engine.fire(world.db, failed, "close_ballot", world.chair, secrets=close_secrets(world))
    sitting.close_sitting(world.db, world.session_id, world.chair)
    with pytest.raises(PermissionDenied):
        sitting.minutes_data(world.db, world.session_id, world.applicant)
    m = sitting.minutes_data(world.db, world.session_id, world.members[0])
    assert m["counts"] == {"seated": 7, "present": 7, "absent": 0}
    assert m["seated"][0] == {"name": world.chair.name, "role": "主任委员"}
    rows = {c["reference"]: c for c in m["cases"]}
    assert len(rows) == 2 and m["totals"] == {"cases": 2, "passed": 1, "not_passed": 1}
    first = next(c for c in m["cases"] if c["passed"])
    assert (first["yes"], first["no"], first["abstain"], first["recused"], first["eligible"]) == (5, 1, 1, 0, 7)
    assert first["pass_fraction"] == "2/3" and first["result"] == "通过"
    second = next(c for c in m["cases"] if not c["passed"])
    assert (second["yes"], second["no"], second["abstain"], second["recused"], second["eligible"]) == (3, 2, 1, 1, 6)
    flat = repr(m)
    for member in world.members:  # names appear only as seated and present, never beside a choice
        assert flat.count(member.name) == 2
    html = sitting.render_minutes_html(m)
    assert "@media print" in html and "@page" in html and world.chair.name in html
    assert first["reference"] in html and "纪要校验码" in html and "<script" not in html


def test_minutes_html_escapes_names(world):
    data = {"session": {"name": "<b>评审会</b>", "sitting_on": None}, "sitting": None, "seated": [],
            "present": [], "absent": [], "counts": {"seated": 0, "present": 0, "absent": 0}, "cases": [],
            "totals": {"cases": 0, "passed": 0, "not_passed": 0}}
    html = sitting.render_minutes_html(data)
    assert "&lt;b&gt;评审会&lt;/b&gt;" in html and "<b>评审会</b>" not in html and "本次会议无表决事项" in html
