"""The ballot sheet and the chair's agenda through the Flask client: one form per member, marks kept on a
refusal, counts only for the chair, and closing only after a confirmation with both key shares."""

from __future__ import annotations

import re

from driver import advance, ballot_shares, open_sitting
from webhelpers import case_reference

from workflow.panel import ballots
from workflow.panel.agenda import agenda


def _sitting(cast, n: int = 2) -> list[int]:
    ids = []
    for _ in range(n):
        case_id = cast.open("industry-session")
        advance(cast, case_id, "committee_vote")
        ids.append(case_id)
    open_sitting(cast)
    for m in [cast.chair, *cast.members[:-1]]:  # the last member is absent
        ballots.record_attendance(cast.db, cast.session_id, m.user_id)
    return ids


def test_chair_opens_all_then_members_vote_on_one_sheet(cast, browser):
    a, b = _sitting(cast)
    url = f"/panel/sessions/{cast.session_id}"
    chair = browser("chair")
    page = chair.get(f"{url}/agenda").get_data(as_text=True)
    assert "开启全部待表决案件的投票（2 件）" in page and "专家" in page  # the review group is named
    assert chair.post(f"{url}/ballots/open", {"all": "1"}).status_code == 303
    assert all(r.box == "open" for r in agenda(cast.db, cast.session_id, cast.chair))
    page = chair.get(f"{url}/agenda").get_data(as_text=True)
    assert page.count("已投 0 / 出席 6") == 2 and "您本人还有 2 件案件未投票" in page
    # on the case page too, the close button reminds the chair of their own vote and shows the count
    page = chair.get(f"/cases/{a}").get_data(as_text=True)
    assert 'id="close-own-vote-reminder"' in page and "已投 0 票" in page

    member = browser("expert1")
    assert f'href="{url}/sheet"' in member.get("/panel/").get_data(as_text=True)  # the to-do leads to the sheet
    page = member.get(f"{url}/sheet").get_data(as_text=True)
    assert f'name="choice-{a}"' in page and f'name="choice-{b}"' in page and "评议组意见（3 份）" in page
    # one case left unmarked: refused, nothing cast, the other mark kept in the form
    response = member.post(f"{url}/sheet", {"case": [str(a), str(b)], f"choice-{a}": "no"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "还有 1 件未选择" in page
    assert re.search(rf'id="sheet-{a}-no" value="no" checked', page)
    assert agenda(cast.db, cast.session_id, cast.chair)[0].voted == 0
    response = member.post(f"{url}/sheet", {"case": [str(a), str(b)], f"choice-{a}": "no", f"choice-{b}": "yes"})
    assert response.status_code == 303
    page = member.get(f"{url}/sheet").get_data(as_text=True)
    assert "表决票已提交：共投出 2 票" in page and "目前没有等待您投票的案件" in page
    # submitting the same sheet again is refused: a cast ballot cannot be changed
    response = member.post(f"{url}/sheet", {"case": [str(a)], f"choice-{a}": "yes"})
    assert response.status_code == 409 and "已投过票" in response.get_data(as_text=True)

    page = chair.get(f"{url}/agenda").get_data(as_text=True)
    assert page.count("已投 1 / 出席 6") == 2
    assert not re.search(r"同意|弃权", page.split('id="agenda-table"')[1])  # counts only, never a choice

    # the absent member and an outsider get no sheet
    page = browser("expert6").get(f"{url}/sheet").get_data(as_text=True)
    assert "您未登记出席" in page and 'name="choice-' not in page
    assert browser("officer").get(f"{url}/sheet").status_code == 403


def test_closing_asks_for_confirmation_then_gives_every_tally(cast, browser):
    a, b = _sitting(cast)
    url = f"/panel/sessions/{cast.session_id}"
    chair = browser("chair")
    chair.post(f"{url}/ballots/open", {"case": [str(a), str(b)]})
    for username in ("chair", "expert1", "expert2", "expert3", "expert4", "expert5"):
        person = chair if username == "chair" else browser(username)
        person.post(f"{url}/sheet", {"case": [str(a), str(b)], f"choice-{a}": "yes",
                                     f"choice-{b}": "yes" if username in ("chair", "expert1") else "no"})
    assert browser("expert1").post(f"{url}/ballots/close", {"case": [str(a)]}).status_code == 403
    page = chair.post(f"{url}/ballots/close", {"case": [str(a), str(b)]}).get_data(as_text=True)
    assert page.count("已投 6 / 出席 6") == 2 and "结束以上 2 件的投票并计票" in page
    shares = ballot_shares(cast)
    form = {"case": [str(a), str(b)], "step": "close", "chair_share": shares.chair,
            "officer_share": shares.officer}
    response = chair.post(f"{url}/ballots/close", form)  # not confirmed: nothing closes
    assert response.status_code == 422 and "请勾选确认" in response.get_data(as_text=True)
    assert all(r.box == "open" for r in agenda(cast.db, cast.session_id, cast.chair))
    response = chair.post(f"{url}/ballots/close", {**form, "confirm": "yes", "officer_share": "TRBK1-B-wrong"})
    assert response.status_code == 409 and all(r.box == "open" for r in agenda(cast.db, cast.session_id, cast.chair))
    response = chair.post(f"{url}/ballots/close", {**form, "confirm": "yes"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "本次结束 2 件案件的投票" in page
    rows = re.findall(r'<tr id="tally-(\d+)">(.*?)</tr>', page, re.S)
    cells = {int(cid): re.findall(r"<td>(.*?)</td>", html, re.S) for cid, html in rows}
    assert cells[a][1:7] == ["6", "0", "6", "6", "0", "0"] and "通过" in cells[a][7]
    assert cells[b][1:7] == ["6", "0", "6", "2", "4", "0"] and "未通过" in cells[b][7]
    assert case_reference(cast.db, a) in page and "会议纪要现载 2 件：通过 1 件，未通过 1 件" in page
