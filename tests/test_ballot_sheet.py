"""The ballot sheet and the chair's agenda: many cases voted and closed at once under the single-case rules."""

from __future__ import annotations

import pytest
from driver import advance, ballot_shares, case_row, open_sitting
from panel_helpers import box_of

from workflow.errors import InvalidAction, PermissionDenied
from workflow.models import CaseEvent
from workflow.panel import ballots, conflicts, sitting
from workflow.panel.agenda import agenda, close_ballots, open_ballots
from workflow.panel.ballot_keys import BallotShares
from workflow.panel.ballot_sheet import ballot_sheet, submit_sheet


def _cases_at_vote(world, n: int) -> list[int]:
    ids = []
    for _ in range(n):
        case_id = world.open("industry-session")
        advance(world, case_id, "committee_vote")
        ids.append(case_id)
    return ids


def _present(world, members) -> None:
    open_sitting(world)
    for m in members:
        ballots.record_attendance(world.db, world.session_id, m.user_id)


@pytest.fixture
def sitting_of_three(world):
    """Three cases at the vote, the sitting open, everyone present but the last member, ballots not open."""
    case_ids = _cases_at_vote(world, 3)
    _present(world, [world.chair, *world.members[:-1]])
    return case_ids


def _events(db, case_id: int, trigger: str) -> int:
    with db.read() as conn:
        t = CaseEvent.__table__
        return conn.execute(t.select().where(t.c.case_id == case_id, t.c.trigger == trigger)).all().__len__()


def test_chair_opens_the_whole_agenda_in_one_command_each_case_audited(world, sitting_of_three):
    with pytest.raises(PermissionDenied):
        open_ballots(world.db, world.session_id, world.members[0])
    outcome = open_ballots(world.db, world.session_id, world.chair)
    assert sorted(d["case_id"] for d in outcome.done) == sorted(sitting_of_three) and not outcome.refused
    assert all(_events(world.db, cid, "open_ballot") == 1 for cid in sitting_of_three)
    again = open_ballots(world.db, world.session_id, world.chair, sitting_of_three[:1])
    assert not again.done and "已开启过" in again.refused[0]["reason"]
    rows = {r.case_id: r for r in agenda(world.db, world.session_id, world.chair)}
    assert all(rows[c].box == "open" and (rows[c].voted, rows[c].present) == (0, 6) for c in sitting_of_three)


def test_a_chosen_batch_opens_only_those(world, sitting_of_three):
    first, *rest = sitting_of_three
    outcome = open_ballots(world.db, world.session_id, world.chair, [first, 999_999])
    assert [d["case_id"] for d in outcome.done] == [first]
    assert [r["case_id"] for r in outcome.refused] == [999_999]
    assert all(box_of(world.db, c)["closed_at"] is None for c in [first])
    rows = {r.case_id: r for r in agenda(world.db, world.session_id, world.chair)}
    assert [rows[c].box for c in rest] == [None, None]


def test_sheet_lists_open_cases_with_opinions_and_omits_recused(world, sitting_of_three):
    a, b, c = sitting_of_three
    member = world.members[0]
    conflicts.declare_conflict(world.db, b, member, "relative", "亲属")
    open_ballots(world.db, world.session_id, world.chair)
    sheet = ballot_sheet(world.db, world.session_id, member)
    assert [e.case_id for e in sheet.entries] == [a, c]
    assert sheet.recused == [case_row(world.db, b).reference]
    assert len(sheet.entries[0].opinions) == 3 and sheet.entries[0].opinions[0]["label"] == "同意"
    with pytest.raises(InvalidAction, match="须回避"):
        submit_sheet(world.db, world.session_id, member, {a: "yes", b: "yes", c: "no"})
    rows = {r.case_id: r for r in agenda(world.db, world.session_id, world.chair)}
    assert rows[a].voted == 0  # the refused sheet cast nothing
    assert rows[b].recused == 1 and rows[b].eligible == 5


def test_absent_member_and_non_member_get_no_ballots(world, sitting_of_three):
    open_ballots(world.db, world.session_id, world.chair)
    absent = world.members[-1]
    sheet = ballot_sheet(world.db, world.session_id, absent)
    assert not sheet.present and sheet.entries == []
    with pytest.raises(PermissionDenied, match="未登记出席"):
        submit_sheet(world.db, world.session_id, absent, dict.fromkeys(sitting_of_three, "yes"))
    for outsider in (world.officer, world.applicant, world.outsider):
        with pytest.raises(PermissionDenied, match="不是本评审会委员"):
            ballot_sheet(world.db, world.session_id, outsider)
        with pytest.raises(PermissionDenied):
            submit_sheet(world.db, world.session_id, outsider, dict.fromkeys(sitting_of_three, "yes"))
    # no proxy: the core takes no other member's id; casting through the ballots module refuses a stranger too
    with pytest.raises(PermissionDenied, match="委托"):
        ballots.cast_votes(world.db, world.officer, dict.fromkeys(sitting_of_three, "yes"))


def test_marks_can_change_until_submitted_then_never(world, sitting_of_three):
    open_ballots(world.db, world.session_id, world.chair)
    member = world.members[1]
    a, b, c = sitting_of_three
    # a refused sheet (one invalid mark) casts nothing: the member corrects the marks and submits again
    with pytest.raises(InvalidAction, match="无效"):
        submit_sheet(world.db, world.session_id, member, {a: "yes", b: "maybe", c: "yes"})
    assert agenda(world.db, world.session_id, world.chair)[0].voted == 0
    assert submit_sheet(world.db, world.session_id, member, {a: "no", b: "abstain", c: "yes"}) == 3
    sheet = ballot_sheet(world.db, world.session_id, member)
    assert sheet.entries == [] and len(sheet.voted) == 3
    with pytest.raises(InvalidAction, match="已投过票"):
        submit_sheet(world.db, world.session_id, member, {a: "yes"})
    with pytest.raises(InvalidAction, match="已投过票"):
        ballots.cast_vote(world.db, a, member, "yes")


def test_a_ballot_closed_meanwhile_refuses_the_whole_sheet(world, sitting_of_three):
    open_ballots(world.db, world.session_id, world.chair)
    a, b, c = sitting_of_three
    close_ballots(world.db, world.session_id, world.chair, [b], ballot_shares(world))
    member = world.members[2]
    with pytest.raises(InvalidAction, match="不在您的表决票上"):
        submit_sheet(world.db, world.session_id, member, {a: "yes", b: "yes", c: "yes"})
    # the late ballot is refused by the single-case rules too, and nothing of the sheet was cast
    with pytest.raises(InvalidAction, match="投票已结束"):
        ballots.cast_votes(world.db, member, {a: "yes", b: "yes"})
    rows = {r.case_id: r for r in agenda(world.db, world.session_id, world.chair)}
    assert rows[a].voted == 0 and rows[c].voted == 0
    assert submit_sheet(world.db, world.session_id, member, {a: "yes", c: "yes"}) == 2


def test_counts_never_choices_then_batch_close_gives_every_tally_and_the_minutes(world, sitting_of_three):
    a, b, c = sitting_of_three
    conflicts.declare_conflict(world.db, b, world.members[0], "relative", "亲属")
    open_ballots(world.db, world.session_id, world.chair)
    present = [world.chair, *world.members[:-1]]
    plan = {a: ["yes"] * 6, b: ["yes", "no", "no", "yes", "abstain"], c: ["yes", "yes", "yes", "yes", "no", "no"]}
    for i, m in enumerate(present):
        marks = {cid: votes[i if cid != b else i - (i > 1)] for cid, votes in plan.items()
                 if not (cid == b and m.user_id == world.members[0].user_id)}
        submit_sheet(world.db, world.session_id, m, marks)
        row = next(r for r in agenda(world.db, world.session_id, world.chair) if r.case_id == a)
        assert row.voted == i + 1
    rows = agenda(world.db, world.session_id, world.officer)  # the officer sees the same counts
    flat = repr(rows)
    assert all(word not in flat for word in ("yes", "'no'", "abstain"))  # counts only: no choice anywhere
    with pytest.raises(InvalidAction):
        close_ballots(world.db, world.session_id, world.chair, None, BallotShares("x", "y"))
    assert all(r.box == "open" for r in agenda(world.db, world.session_id, world.chair))
    with pytest.raises(PermissionDenied):
        close_ballots(world.db, world.session_id, world.members[1], None, ballot_shares(world))
    outcome = close_ballots(world.db, world.session_id, world.chair, None, ballot_shares(world))
    tallies = {d["case_id"]: d["tally"] for d in outcome.done}
    assert (tallies[a]["yes"], tallies[a]["passed"]) == (6, True)
    assert (tallies[b]["yes"], tallies[b]["no"], tallies[b]["abstain"], tallies[b]["eligible"]) == (2, 2, 1, 5)
    assert tallies[b]["passed"] is False
    assert (tallies[c]["yes"], tallies[c]["no"], tallies[c]["passed"]) == (4, 2, True)
    assert all(_events(world.db, cid, "close_ballot") == 1 for cid in sitting_of_three)
    assert outcome.minutes["totals"] == {"cases": 3, "passed": 2, "not_passed": 1}
    # no late votes after the close
    with pytest.raises(InvalidAction, match="投票已结束"):
        ballots.cast_votes(world.db, world.members[-2], {a: "yes"})
    sitting.close_sitting(world.db, world.session_id, world.chair)
    assert sitting.recount_ballots(world.db, world.session_id, world.chair, shares=ballot_shares(world)).ok


def test_sheet_and_batch_close_on_both_databases(any_db):
    from seed.cast import build_world

    world = build_world(any_db)
    a, b = _cases_at_vote(world, 2)
    _present(world, [world.chair, *world.members])
    assert len(open_ballots(any_db, world.session_id, world.chair).done) == 2
    for i, m in enumerate([world.chair, *world.members]):
        assert submit_sheet(any_db, world.session_id, m, {a: "yes", b: "yes" if i < 4 else "no"}) == 2
    outcome = close_ballots(any_db, world.session_id, world.chair, [a, b], ballot_shares(world))
    tallies = {d["case_id"]: d["tally"] for d in outcome.done}
    assert (tallies[a]["yes"], tallies[a]["passed"]) == (7, True)
    assert (tallies[b]["yes"], tallies[b]["no"], tallies[b]["passed"]) == (4, 3, False)
    assert sitting.recount_ballots(any_db, world.session_id, world.chair, shares=ballot_shares(world)).ok
