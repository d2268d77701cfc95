"""A sitting at real scale in a real browser: 31 cases, 9 seated members on ballot sheets.

The cases are brought to the committee vote through the core (pre-review opinions included); everything
from the opening of the sitting on goes through the pages: the chair opens the sitting and records eight of
the nine members present (one is absent), opens voting on the whole agenda in one action, votes on their own
sheet first (the agenda reminds them), the members mark and submit their sheets (one is recused on one case,
one changes a mark and first submits an incomplete sheet), the chair follows "已投 n / 出席 m", closes all
31 boxes at once after a confirmation page with both key shares, and reads every tally and the minutes. One
case fails the two-thirds. No page the chair sees before the count shows a choice.
"""

from __future__ import annotations

import re

import pytest
from driver import advance
from livehelpers import PASSWORD, case_state, live_world, read_key_shares
from panel_helpers import seat_members
from sqlalchemy import select, update

from workflow.access.passwords import hash_password
from workflow.engine import core as engine
from workflow.models import Case, User
from workflow.panel import ballots, conflicts, prereview

pytestmark = pytest.mark.browser

CASES = 31
CHOICE_WORDS = re.compile(r"同意|不同意|弃权")


def _agenda_of_31(world) -> list[int]:
    """31 cases at the committee vote, each with its review group's three opinions (through the core)."""
    actors = {a.user_id: a for a in [world.chair, *world.members]}
    ids = []
    for _ in range(CASES):
        case_id = world.open("industry-session")
        advance(world, case_id, "pre_review")
        for uid in prereview.assign_reviewers(world.db, case_id, world.chair)[:3]:
            ballots.submit_opinion(world.db, case_id, actors[uid], "yes", {"业绩": 88}, "业绩突出，同意推荐")
        engine.fire(world.db, case_id, "complete_pre_review", world.chair)
        ids.append(case_id)
    return ids


def _usernames(db, ids) -> dict[int, str]:
    with db.read() as conn:
        return dict(conn.execute(select(User.__table__.c.id, User.__table__.c.username)
                                 .where(User.__table__.c.id.in_(ids))).all())


def _references(db, ids) -> dict[int, str]:
    with db.read() as conn:
        return dict(conn.execute(select(Case.__table__.c.id, Case.__table__.c.reference)
                                 .where(Case.__table__.c.id.in_(ids))).all())


def _main_text(person) -> str:
    return person.page.locator("main").inner_text()


def _submit_refused(person, selector: str) -> None:
    """Press a submit button whose form the server refuses (HTTP 422 with the form kept): the browser logs
    the status itself as a console error, which is expected here and only here."""
    person.page.click(selector)
    person.page.wait_for_load_state()
    person.errors[:] = [e for e in person.errors if "status of 422" not in e]
    person.check()


def test_a_sitting_of_31_cases_on_ballot_sheets(people, live_db):
    world = live_world(live_db)
    extra = seat_members(world, 2, prefix="sheet")
    with live_db.write() as conn:  # the two new members sign in with the browser tests' password
        conn.execute(update(User.__table__).where(User.__table__.c.id.in_([m.user_id for m in extra]))
                     .values(password_hash=hash_password(PASSWORD)))
    seated = [world.chair, *world.members]
    assert len(seated) == 9
    case_ids = _agenda_of_31(world)
    refs = _references(live_db, case_ids)
    names = _usernames(live_db, [m.user_id for m in seated])
    absent, recused_member = world.members[-1], world.members[0]
    present = [m for m in seated if m.user_id != absent.user_id]
    failing, recused_case = case_ids[4], case_ids[9]
    conflicts.declare_conflict(live_db, recused_case, recused_member, "relative", "申报人系本人亲属")
    session_url = f"/panel/sessions/{world.session_id}"

    # the chair opens the sitting (the key's shares are shown once) and records eight members present
    chair = people("chair")
    chair.go(session_url)
    chair.click("form[action$='/sitting/open'] button")
    shares = read_key_shares(chair, live_db, world.session_id)
    chair.go(session_url)
    for m in present:  # each recording answers with the session page again
        chair.click(f"form:has(input[name=user_id][value='{m.user_id}']) button")
    assert chair.page.locator("text=已出席").count() == 8

    # one action opens voting on the whole agenda
    chair.click("#agenda-link")
    assert "开启全部待表决案件的投票（31 件）" in _main_text(chair)
    chair.click("#open-all-form button")
    assert "已开启 31 件案件的无记名投票" in chair.page.content()
    counts = chair.page.locator("#agenda-table .progress-count").all_inner_texts()
    assert len(counts) == CASES and all(c.startswith("已投 0 / 出席 8") for c in counts)
    assert "回避 1 人，有效表决 7 人" in chair.page.locator(f"#agenda-{recused_case}").inner_text()
    assert chair.page.locator("text=已投 8 / 出席 8").count() == 0
    # the chair's own ballot comes before the close button, and says so
    reminder = chair.page.locator("#my-sheet-reminder")
    assert "您本人还有 31 件案件未投票" in reminder.inner_text()
    assert chair.page.evaluate(
        "document.querySelector('#my-sheet-reminder').compareDocumentPosition("
        "document.querySelector('#close-chosen')) & Node.DOCUMENT_POSITION_FOLLOWING") > 0
    assert not CHOICE_WORDS.search(chair.page.locator("#agenda-table").inner_text())
    chair.shot("sheet-agenda-opened")

    def plan(member_index: int, case_id: int) -> str:
        """What member ``member_index`` (0 = the chair) marks on the case."""
        if case_id == failing:  # 5 yes, 2 no, 1 abstain of 8: below two-thirds
            return ["yes", "yes", "yes", "yes", "yes", "no", "no", "abstain"][member_index]
        if member_index == 7:
            return "abstain"
        return "no" if member_index == 6 and case_id % 2 else "yes"

    for i, member in enumerate(present):
        person = chair if i == 0 else people(names[member.user_id])
        if i == 0:
            person.click("#my-sheet-reminder a")
        else:
            person.go(f"{session_url}/sheet")
        on_sheet = CASES - 1 if member.user_id == recused_member.user_id else CASES
        assert person.page.locator("#sheet-form fieldset").count() == on_sheet
        if member.user_id == recused_member.user_id:
            assert person.page.locator(f"#sheet-case-{recused_case}").count() == 0
            assert refs[recused_case] in person.page.locator("#sheet-recused").inner_text()
        assert "评议组意见（3 份）" in person.page.locator("#sheet-form").inner_text()
        mine = [c for c in case_ids if not (c == recused_case and member.user_id == recused_member.user_id)]
        if i == 2:
            # changes a mark before submitting, and first forgets one case: nothing is cast, marks are kept
            person.page.check(f"#sheet-{mine[0]}-no")
            for c in mine[:-1]:
                person.page.check(f"#sheet-{c}-{plan(i, c)}")
            _submit_refused(person, "#sheet-form button[type=submit]")
            assert "还有 1 件未选择" in person.page.locator("#sheet-error").inner_text()
            assert person.page.locator(f"#sheet-{mine[0]}-{plan(i, mine[0])}").is_checked()
            person.page.check(f"#sheet-{mine[-1]}-{plan(i, mine[-1])}")
        else:
            for c in mine:
                person.page.check(f"#sheet-{c}-{plan(i, c)}")
        if i == 1:
            person.shot("sheet-member-marked")
        person.click("#sheet-form button[type=submit]")
        assert f"共投出 {len(mine)} 票" in person.page.content()
        assert person.page.locator("#sheet-form").count() == 0  # nothing left to change
    people(names[absent.user_id]).go(f"{session_url}/sheet")
    assert "您未登记出席" in people(names[absent.user_id]).page.content()

    # the chair follows the counts, never the choices
    chair.go(f"{session_url}/agenda")
    assert chair.page.locator("#my-sheet-reminder").count() == 0
    rows = {cid: chair.page.locator(f"#agenda-{cid} .progress-count").inner_text() for cid in case_ids}
    assert all(rows[c].startswith("已投 8 / 出席 8") for c in case_ids if c != recused_case)
    assert rows[recused_case].startswith("已投 7 / 出席 8")
    assert not CHOICE_WORDS.search(chair.page.locator("#agenda-table").inner_text())
    chair.shot("sheet-agenda-all-voted")

    # closing every box at once: a confirmation page with the counts, both shares, the confirmation ticked
    for c in case_ids:
        chair.page.check(f"#pick-{c}")
    chair.click("#close-chosen")
    confirm = chair.page.locator("#close-table").inner_text()
    assert confirm.count("已投 8 / 出席 8") == CASES - 1 and "已投 7 / 出席 8（回避 1 人）" in confirm
    assert not CHOICE_WORDS.search(_main_text(chair))
    chair.page.fill("#batch-chair-share", shares.chair)
    chair.page.fill("#batch-officer-share", shares.officer)
    _submit_refused(chair, "#close-form button[type=submit]")  # not confirmed yet: refused, nothing closes
    assert "请勾选确认" in chair.page.locator("#close-error").inner_text()
    assert case_state(live_db, failing) == "committee_vote"
    chair.page.fill("#batch-chair-share", shares.chair)
    chair.page.fill("#batch-officer-share", shares.officer)
    chair.page.check("#close-confirm")
    chair.shot("sheet-close-confirm")
    chair.click("#close-form button[type=submit]")
    assert "本次结束 31 件案件的投票" in _main_text(chair)
    table = chair.page.locator("#tally-table")
    assert not any(m.name in table.inner_text() for m in seated)  # counts, never who
    for c in case_ids:
        cells = [t.strip() for t in table.locator(f"#tally-{c} td").all_inner_texts()]
        if c == failing:
            assert cells[1:] == ["8", "0", "8", "5", "2", "1", "未通过"]
        elif c == recused_case:
            assert cells[1:4] == ["8", "1", "7"] and cells[-1] == "通过"
            assert int(cells[4]) + int(cells[5]) == 6 and cells[6] == "1"
        else:
            assert cells[1:4] == ["8", "0", "8"] and cells[6] == "1" and cells[-1] == "通过"
            assert (cells[4], cells[5]) == (("6", "1") if c % 2 else ("7", "0"))
    assert "会议纪要现载 31 件：通过 30 件，未通过 1 件" in _main_text(chair)
    chair.shot("sheet-tallies")
    assert case_state(live_db, failing) == "not_passed" and case_state(live_db, case_ids[0]) == "result_notice"

    # the minutes: every case with its counts and result, no member beside a choice
    chair.click("#minutes-link")
    html = chair.page.content()
    assert "共表决 31 件，通过 30 件，未通过 1 件" in html and "出席 8 人，缺席 1 人" in html
    results = chair.page.locator("table").nth(1)
    failing_row = [t.strip() for t in results.locator(f"tr:has-text('{refs[failing]}') td").all_inner_texts()]
    assert failing_row[6:12] == ["8", "0", "8", "5", "2", "1"] and failing_row[-1] == "未通过"
    recused_row = [t.strip() for t in results.locator(f"tr:has-text('{refs[recused_case]}') td").all_inner_texts()]
    assert recused_row[6:9] == ["8", "1", "7"] and recused_row[-1] == "通过"
    assert not any(m.name in results.inner_text() for m in seated)
    chair.shot("sheet-minutes")
