"""Quorum and pass rules: a table of edge cases on the tally itself, then the same rules through the engine."""

from __future__ import annotations

from fractions import Fraction

import pytest
from driver import case_row, close_secrets
from panel_helpers import box_of, case_at_vote, seat_members

from workflow.engine import core as engine
from workflow.errors import GuardRefused
from workflow.panel import ballots, conflicts
from workflow.panel.ballots import Tally

TWO_THIRDS = Fraction(2, 3)

# seated, present, recused, yes, no, abstain -> quorate, passed
RULES = [
    # the brief's example: 6 of 9 is exactly 2/3 (quorate); 5 eligible, 4 yes >= 10/3
    (9, 6, 1, 4, 1, 0, True, True),
    (9, 6, 1, 3, 1, 1, True, False),   # 3 < 10/3
    (9, 5, 0, 5, 0, 0, False, False),  # 5 < 6: no quorum, unanimous yes does not help
    (9, 6, 0, 4, 2, 0, True, True),    # exactly 2/3 of eligible
    (9, 6, 0, 3, 0, 3, True, False),   # abstentions count as not-yes
    (9, 6, 0, 4, 0, 2, True, True),
    (9, 6, 3, 2, 1, 0, True, True),    # recused leave the denominator: 2 >= 2
    (9, 6, 3, 1, 1, 1, True, False),
    (9, 6, 6, 0, 0, 0, True, False),   # everyone recused: nobody can pass a case
    (9, 9, 0, 6, 3, 0, True, True),
    (9, 9, 0, 5, 0, 4, True, False),
    (7, 5, 1, 3, 1, 0, True, True),    # 5 >= 14/3; 3 >= 8/3
    (7, 4, 0, 4, 0, 0, False, False),  # 4 < 14/3
    (25, 17, 2, 10, 5, 0, True, True), # 17 >= 50/3; 10 >= 10
    (25, 17, 2, 9, 5, 1, True, False),
    (25, 16, 0, 16, 0, 0, False, False),
    (0, 0, 0, 0, 0, 0, False, False),  # no committee at all
    (9, 6, 1, 4, 0, 0, True, True),    # a present member who did not vote still counts in the denominator
    (9, 6, 0, 3, 0, 0, True, False),
]


@pytest.mark.parametrize(("seated", "present", "recused", "yes", "no", "abstain", "quorate", "passed"), RULES)
def test_quorum_and_pass_rule_table(seated, present, recused, yes, no, abstain, quorate, passed):
    tally = Tally(box_id=1, seated=seated, present=present, recused=recused, yes=yes, no=no, abstain=abstain,
                  quorum_fraction=TWO_THIRDS, pass_fraction=TWO_THIRDS)
    assert (tally.quorate, tally.passed) == (quorate, passed)
    assert tally.eligible == present - recused
    counts = tally.as_dict()
    assert counts["passed"] is passed and counts["eligible"] == present - recused


@pytest.mark.parametrize(("fraction", "yes", "passed"), [("1/2", 3, True), ("1/2", 2, False), ("3/4", 4, True),
                                                         ("3/4", 3, False), ("1", 5, True), ("1", 4, False)])
def test_pass_fraction_is_a_parameter(fraction, yes, passed):
    tally = Tally(box_id=1, seated=5, present=5, recused=0, yes=yes, no=5 - yes, abstain=0,
                  quorum_fraction=TWO_THIRDS, pass_fraction=Fraction(fraction))
    assert tally.passed is passed


# Through the engine, on a 9-seat committee: (present, recused, yes, no, abstain) -> state after close
ENGINE_RULES = [
    (6, 1, 4, 1, 0, "result_notice"),
    (6, 1, 3, 1, 1, "not_passed"),
    (6, 0, 4, 0, 2, "result_notice"),
    (6, 0, 3, 0, 3, "not_passed"),
    (6, 3, 2, 1, 0, "result_notice"),
]


@pytest.mark.parametrize(("present", "recused", "yes", "no", "abstain", "state"), ENGINE_RULES)
def test_rules_through_the_engine(world, present, recused, yes, no, abstain, state):
    seat_members(world, 2)  # chair + 8 members = 9 seated
    here = [world.chair, *world.members[: present - 1]]
    case_id = case_at_vote(world, present=here, open_box=False)
    for m in world.members[:recused]:  # declared (pending) conflicts recuse at once
        conflicts.declare_conflict(world.db, case_id, m, "collaborator", "曾合作科研项目")
    engine.fire(world.db, case_id, "open_ballot", world.chair)
    voters = [m for m in here if m.user_id not in {r.user_id for r in world.members[:recused]}]
    for m, choice in zip(voters, ["yes"] * yes + ["no"] * no + ["abstain"] * abstain, strict=False):
        ballots.cast_vote(world.db, case_id, m, choice)
    engine.fire(world.db, case_id, "close_ballot", world.chair, secrets=close_secrets(world))
    assert case_row(world.db, case_id).state == state
    box = box_of(world.db, case_id)
    assert (box["seated"], box["present"], box["eligible"]) == (9, present, present - recused)
    assert (box["yes"], box["no"], box["abstain"]) == (yes, no, abstain)


def test_no_ballot_opens_without_quorum(world):
    seat_members(world, 2)
    case_id = case_at_vote(world, present=[world.chair, *world.members[:4]], open_box=False)  # 5 of 9
    with pytest.raises(GuardRefused, match="未达到法定人数"):
        engine.fire(world.db, case_id, "open_ballot", world.chair)
    ballots.record_attendance(world.db, world.session_id, world.members[4].user_id)  # 6 of 9 = 2/3
    engine.fire(world.db, case_id, "open_ballot", world.chair)


def test_quorum_fraction_is_a_session_parameter(world):
    from workflow.models import ReviewSession

    with world.db.session(write=True) as s:
        s.get(ReviewSession, world.session_id).parameters = {"quorum_fraction": "6/7"}
    case_id = case_at_vote(world, present=[world.chair, *world.members[:4]], open_box=False)  # 5 of 7
    with pytest.raises(GuardRefused, match="6/7"):
        engine.fire(world.db, case_id, "open_ballot", world.chair)
