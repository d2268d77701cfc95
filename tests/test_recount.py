"""Recounting a sitting's closed ballots from the stored ballots (the tally of a whole sitting), and the
benchmark's voting scenario at a small size."""

from __future__ import annotations

import pytest
from driver import ballot_shares, close_secrets
from panel_helpers import box_of, case_at_vote
from phe import paillier
from sqlalchemy import text

from bench import voting
from seed.cast import build_world
from workflow.engine import core as engine
from workflow.errors import InvalidAction, PermissionDenied
from workflow.panel import ballots, sitting
from workflow.panel.ballot_keys import BallotShares, committee_public_key


def _closed_case(world, choices: list[str]) -> int:
    case_id = case_at_vote(world)
    for member, choice in zip([world.chair, *world.members], choices, strict=False):
        ballots.cast_vote(world.db, case_id, member, choice)
    engine.fire(world.db, case_id, "close_ballot", world.chair, secrets=close_secrets(world))
    return case_id


def test_recount_agrees_with_what_the_engine_closed(any_db):
    world = build_world(any_db)
    passed = _closed_case(world, ["yes", "no", "yes", "abstain", "yes", "yes", "yes"])  # 5 of 7 ≥ 2/3
    failed = _closed_case(world, ["no", "no", "yes", "abstain", "no", "yes", "no"])
    recount = sitting.recount_ballots(any_db, world.session_id, world.chair, shares=ballot_shares(world))
    assert recount.ok and recount.decrypted and recount.boxes == 2 and recount.ballots == 14
    assert box_of(any_db, passed)["passed"] and not box_of(any_db, failed)["passed"]
    assert sitting.recount_ballots(any_db, world.session_id, world.chair).ok  # the count-only pass agrees too


@pytest.mark.parametrize("tamper", ["change", "delete", "forge_result"])
def test_recount_finds_tampering(any_db, tamper):
    world = build_world(any_db)
    case_id = _closed_case(world, ["yes", "yes", "yes", "yes", "yes", "no", "abstain"])
    box_id = box_of(any_db, case_id)["id"]
    with any_db.write() as conn:
        if tamper == "change":
            # A database writer knows the public key: it can add an encrypted 1 to a ballot's yes counter without
            # knowing what the ballot says. The ballot count is unchanged; only the recount with both shares sees
            # the yes count move.
            one, c_yes = conn.execute(text("SELECT id, c_yes FROM ballot WHERE box_id = :b"), {"b": box_id}).first()
            public_key = committee_public_key(conn, world.session_id)
            forged = paillier.EncryptedNumber(public_key, int(c_yes, 16), 0) + 1
            conn.execute(text("UPDATE ballot SET c_yes = :y WHERE id = :i"),
                         {"y": format(forged.ciphertext(), "x"), "i": one})
        elif tamper == "delete":
            one = conn.execute(text("SELECT id FROM ballot WHERE box_id = :b"), {"b": box_id}).scalars().first()
            conn.execute(text("DELETE FROM ballot WHERE id = :i"), {"i": one})
        else:
            conn.execute(text("UPDATE ballot_box SET passed = :p WHERE id = :b"), {"p": False, "b": box_id})
    recount = sitting.recount_ballots(any_db, world.session_id, world.chair, shares=ballot_shares(world))
    assert not recount.ok and [d.box_id for d in recount.discrepancies] == [box_id]
    problem = recount.discrepancies[0].problem
    assert problem == {"change": "选票与记录的票数不符", "delete": "选票与记录的票数不符",
                       "forge_result": "表决结果与票数不符"}[tamper]


def test_recount_needs_both_right_shares(any_db):
    world = build_world(any_db)
    _closed_case(world, ["yes", "no", "yes", "abstain", "yes", "yes", "yes"])
    shares = ballot_shares(world)
    typo = shares.officer[:-1] + ("1" if shares.officer[-1] == "0" else "0")
    for wrong, message in ((BallotShares(shares.chair, ""), "分别输入"),
                           (BallotShares(shares.officer, shares.chair), "应为A份额"),
                           (BallotShares(shares.chair, typo), "校验码不符"),
                           (BallotShares(shares.chair, shares.chair.replace("-A-", "-B-", 1)), "校验码不符")):
        with pytest.raises(InvalidAction, match=message):
            sitting.recount_ballots(any_db, world.session_id, world.chair, shares=wrong)


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
