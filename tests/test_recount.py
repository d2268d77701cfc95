"""Recounting a sitting's closed ballots from the stored ballots (the tally of a whole sitting), and the
benchmark's voting scenario at a small size."""

from __future__ import annotations

import pytest
from panel_helpers import box_of, case_at_vote
from sqlalchemy import text

from bench import voting
from seed.cast import build_world
from workflow import ballots, engine, sitting
from workflow.errors import PermissionDenied


def _closed_case(world, choices: list[str]) -> int:
    case_id = case_at_vote(world)
    for member, choice in zip([world.chair, *world.members], choices, strict=False):
        ballots.cast_vote(world.db, case_id, member, choice)
    engine.fire(world.db, case_id, "close_ballot", world.chair)
    return case_id


def test_recount_agrees_with_what_the_engine_closed(any_db):
    world = build_world(any_db)
    passed = _closed_case(world, ["yes", "no", "yes", "abstain", "yes", "yes", "yes"])  # 5 of 7 ≥ 2/3
    failed = _closed_case(world, ["no", "no", "yes", "abstain", "no", "yes", "no"])
    recount = sitting.recount_ballots(any_db, world.session_id, world.chair)
    assert recount.ok and recount.boxes == 2 and recount.ballots == 14
    assert box_of(any_db, passed)["passed"] and not box_of(any_db, failed)["passed"]


@pytest.mark.parametrize("tamper", ["change", "delete", "forge_result"])
def test_recount_finds_tampering(any_db, tamper):
    world = build_world(any_db)
    case_id = _closed_case(world, ["yes", "yes", "yes", "yes", "yes", "no", "abstain"])
    box_id = box_of(any_db, case_id)["id"]
    with any_db.write() as conn:
        if tamper == "change":
            one = conn.execute(text("SELECT id FROM ballot WHERE box_id = :b AND choice = 'no'"),
                               {"b": box_id}).scalar()
            conn.execute(text("UPDATE ballot SET choice = 'yes' WHERE id = :i"), {"i": one})
        elif tamper == "delete":
            one = conn.execute(text("SELECT id FROM ballot WHERE box_id = :b AND choice = 'yes'"), {"b": box_id}
                               ).scalars().first()
            conn.execute(text("DELETE FROM ballot WHERE id = :i"), {"i": one})
        else:
            conn.execute(text("UPDATE ballot_box SET passed = :p WHERE id = :b"), {"p": False, "b": box_id})
    recount = sitting.recount_ballots(any_db, world.session_id, world.chair)
    assert not recount.ok and [d.box_id for d in recount.discrepancies] == [box_id]
    problem = recount.discrepancies[0].problem
    assert problem == {"change": "选票与记录的票数不符", "delete": "选票与记录的票数不符",
                       "forge_result": "表决结果与票数不符"}[tamper]


def test_recount_is_for_the_committee_and_organisers(world):
    with pytest.raises(PermissionDenied):
        sitting.recount_ballots(world.db, world.session_id, world.applicant)
    assert sitting.recount_ballots(world.db, world.session_id, world.officer).boxes == 0


def test_voting_scenario_small(any_db):
    """The benchmark's voting scenario end to end at a small size: nothing lost, nothing doubled."""
    result = voting.run(any_db, voters=12, cases=2, duplicates=4, tally_members=5, tally_cases=40)
    assert (result.votes_lost, result.votes_doubled) == (0, 0)
    assert result.accepted == 24 and result.refused_duplicates == 4
    assert (result.tally_cases, result.tally_ballots) == (40, 200)
