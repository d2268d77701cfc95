"""The committee's pages end to end through the web (sitting, review group, opinions, secret ballot) and the
public pages (result notices with named objections, certificate verification)."""

from __future__ import annotations

import io
import re

from driver import advance
from sqlalchemy import func, select
from webhelpers import case_reference, case_state, case_version, demo_case, open_case

from workflow.engine import core as engine
from workflow.models import Attendance, BallotParticipation, Case, Certificate, Opinion, Organisation
from workflow.panel.prereview import assigned_reviewers


def test_the_committee_reviews_and_votes_through_the_web(cast, browser):
    case_id = open_case(cast)
    advance(cast, case_id, "pre_review")
    chair = browser("chair")
    page = chair.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "随机抽取评议专家" in page
    assert chair.post(f"/panel/cases/{case_id}/reviewers").status_code == 303
    group = assigned_reviewers(cast.db, case_id)
    assert len(group) == 3
    usernames = {a.user_id: name for name, a in
                 [("chair", cast.chair)] + [(f"expert{i}", m) for i, m in enumerate(cast.members, 1)]}
    for n, uid in enumerate(group):
        member = browser(usernames[uid])
        assert "提交评议意见" in member.get(f"/cases/{case_id}").get_data(as_text=True)
        if n == 0:
            bad = member.post(f"/panel/cases/{case_id}/opinion", data={"score_achievement": "180", "text": "好"})
            body = bad.get_data(as_text=True)
            assert bad.status_code == 422 and "0到100" in body and "请选择评议建议" in body and ">好</textarea>" in body
        response = member.post(f"/panel/cases/{case_id}/opinion", data={
            "recommendation": "yes", "score_achievement": "90", "score_ability": "88", "text": "同意推荐"})
        assert response.status_code == 303
    with cast.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(Opinion.__table__)).scalar_one() == 3
    response = chair.post(f"/cases/{case_id}/actions/complete_pre_review",
                          data={"version": str(case_version(cast.db, case_id))})
    assert response.status_code == 303 and case_state(cast.db, case_id) == "committee_vote"

    session_url = f"/panel/sessions/{cast.session_id}"
    assert "宣布开会" in chair.get(session_url).get_data(as_text=True)
    opened = chair.post(f"{session_url}/sitting/open")
    # The key's two shares are shown once (never cached), each with its own share file to download.
    assert opened.status_code == 200 and opened.headers["Cache-Control"] == "no-store"
    chair_share, officer_share = share_texts(opened.get_data(as_text=True))
    assert "宣布开会" not in chair.get(session_url).get_data(as_text=True)
    everyone = [cast.chair, *cast.members]
    for actor in everyone[:-1]:
        assert chair.post(f"{session_url}/attendance", data={"user_id": str(actor.user_id)}).status_code == 303
    last = browser("expert6")
    assert last.post(f"{session_url}/attendance", data={"user_id": str(cast.members[0].user_id)}).status_code == 403
    assert last.post(f"{session_url}/attendance", data={"user_id": str(cast.members[-1].user_id)}).status_code == 303
    with cast.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(Attendance.__table__)).scalar_one() == len(everyone)

    response = chair.post(f"/cases/{case_id}/actions/open_ballot", data={
        "version": str(case_version(cast.db, case_id)), "next": session_url})
    assert response.status_code == 303 and response.headers["Location"].endswith(session_url)
    for i, actor in enumerate(everyone):
        name = "chair" if actor == cast.chair else f"expert{cast.members.index(actor) + 1}"
        member = browser(name)
        assert "无记名投票" in member.get(f"/cases/{case_id}").get_data(as_text=True)
        response = member.post(f"/panel/cases/{case_id}/vote", data={"choice": "yes" if i < 6 else "abstain"})
        assert response.status_code == 303
        again = member.post(f"/panel/cases/{case_id}/vote", data={"choice": "no"})
        assert again.status_code == 409 and "已投过票" in again.get_data(as_text=True)
        assert "您已投票" in member.get(f"/cases/{case_id}").get_data(as_text=True)
    with cast.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(BallotParticipation.__table__)).scalar_one() == 7
    page = chair.get(session_url).get_data(as_text=True)
    # The row's close leads to the confirmation page: the count of votes cast against those present, the key
    # shares and a confirmation box; nothing is closed by the first step.
    assert f'action="{session_url}/ballots/close"' in page and 'name="chair_share"' not in page
    confirm = chair.post(f"{session_url}/ballots/close", data={"case": str(case_id)}).get_data(as_text=True)
    assert "已投 7 / 出席 7" in confirm
    assert 'name="chair_share"' in confirm and 'name="officer_share_file"' in confirm
    assert 'id="close-confirm"' in confirm and case_state(cast.db, case_id) == "committee_vote"
    version = str(case_version(cast.db, case_id))
    for wrong, message in (({}, "分别输入"), ({"chair_share": chair_share, "officer_share": chair_share}, "应为B份额"),
                           ({"chair_share": chair_share, "officer_share_file": (io.BytesIO(b"\xff\xfe"), "b.txt")},
                            "份额文件无效")):
        response = chair.post(f"/cases/{case_id}/actions/close_ballot", data={"version": version, **wrong},
                              content_type="multipart/form-data")
        body = response.get_data(as_text=True)
        assert response.status_code in (409, 422) and message in body, (wrong, body[-500:])
        assert case_state(cast.db, case_id) == "committee_vote" and chair_share not in body
    # The chair types share A; the officer uploads the share file B.
    response = chair.post(f"/cases/{case_id}/actions/close_ballot", data={
        "version": version, "chair_share": chair_share,
        "officer_share_file": (io.BytesIO(officer_share.encode() + b"\n"), "share-B.txt")},
        content_type="multipart/form-data")
    assert response.status_code == 303 and case_state(cast.db, case_id) == "result_notice"
    # the dossier closes to the committee once the case leaves it; the chair lands on the panel page
    assert response.headers["Location"].endswith("/panel/")
    page = browser("zhang").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "同意 6" in page and "弃权 1" in page  # the count, never who voted how
    assert "同意推荐" not in page  # pre-review opinions are for the committee only


def share_texts(page: str) -> tuple[str, str]:
    """The chair's and the officer's shares from the page shown once when the sitting opens."""
    found = re.findall(r'<pre class="share-text[^"]*">\s*(TRBK1-[AB]-[^<\s]+)\s*</pre>', page)
    assert len(found) == 2 and "-A-" in found[0] and "-B-" in found[1], page[-2000:]
    return found[0], found[1]


def _todo(page: str, reference: str) -> str:
    """The "to do" cell of the case's row on the member's panel page."""
    row = page[page.index(f">{reference}</a>"):]
    return row[:row.index("</tr>")].rsplit("<td", 1)[1]


def test_only_the_review_group_gives_opinions(cast, browser):
    case_id = open_case(cast)
    advance(cast, case_id, "pre_review")
    reference = case_reference(cast.db, case_id)
    # no review group yet: no member is asked for an opinion (the to-do led to a dead end)
    assert all("提交评议意见" not in _todo(browser(f"expert{i}").get("/panel/").get_data(as_text=True), reference)
               for i in range(1, len(cast.members) + 1))
    browser("chair").post(f"/panel/cases/{case_id}/reviewers")
    group = set(assigned_reviewers(cast.db, case_id))
    inside = next(i for i, m in enumerate(cast.members, 1) if m.user_id in group)
    assert "提交评议意见" in _todo(browser(f"expert{inside}").get("/panel/").get_data(as_text=True), reference)
    outside = next(i for i, m in enumerate(cast.members, 1) if m.user_id not in group)
    assert "提交评议意见" not in _todo(browser(f"expert{outside}").get("/panel/").get_data(as_text=True), reference)
    member = browser(f"expert{outside}")
    assert "不在本案本轮评议组" in member.get(f"/cases/{case_id}").get_data(as_text=True)
    response = member.post(f"/panel/cases/{case_id}/opinion", data={"recommendation": "yes"})
    assert response.status_code == 403


def test_votes_need_presence_and_an_open_sitting(cast, browser):
    case_id = open_case(cast)
    advance(cast, case_id, "committee_vote")
    chair = browser("chair")
    response = chair.post(f"/cases/{case_id}/actions/open_ballot", data={
        "version": str(case_version(cast.db, case_id))})
    assert response.status_code == 409 and "尚未" in response.get_data(as_text=True)
    response = browser("expert1").post(f"/panel/cases/{case_id}/vote", data={"choice": "yes"})
    assert response.status_code == 409


def test_the_minutes_are_for_the_committee_and_organisers(cast, browser):
    url = f"/panel/sessions/{cast.session_id}/minutes"
    browser("chair").post(f"/panel/sessions/{cast.session_id}/sitting/open")
    response = browser("expert1").get(url)
    assert response.status_code == 200 and "style-src 'unsafe-inline'" in response.headers["Content-Security-Policy"]
    assert browser("officer").get(url).status_code == 200
    assert browser("zhang").get(url).status_code == 403


def test_certificate_verification(demo_db, demo_browser):
    b = demo_browser()
    with demo_db.read() as conn:
        certs = {r["holder_name"]: r for r in conn.execute(select(Certificate.__table__)).mappings()}
    valid, revoked = certs["李娜"], certs["罗成"]
    employers = {}
    with demo_db.read() as conn:
        for name, cert in (("valid", valid), ("revoked", revoked)):
            org_id = conn.execute(select(Case.__table__.c.employer_org_id)
                                  .where(Case.__table__.c.id == cert["case_id"])).scalar_one()
            employers[name] = conn.execute(select(Organisation.__table__.c.name)
                                           .where(Organisation.__table__.c.id == org_id)).scalar_one()
    body = b.get(f"/verify?number={valid['number'].lower()}").get_data(as_text=True)
    assert 'data-result="valid"' in body and "证书有效" in body and "李娜" in body
    # the status stands out, and the employer tells two holders of one name apart
    assert 'id="verify-status"' in body and f'id="verify-employer">{employers["valid"]}<' in body
    body = b.get(f"/verify?number={revoked['number']}").get_data(as_text=True)
    assert 'data-result="revoked"' in body and "已撤销" in body and employers["revoked"] in body
    body = b.get("/verify?number=HN20269999999").get_data(as_text=True)
    assert 'data-result="unknown"' in body and "查无此证" in body
    body = b.get("/verify?number=<script>").get_data(as_text=True)
    assert 'data-result="invalid"' in body and "<script>" not in body


def test_a_named_objection_pauses_the_result_notice(demo_db, demo_browser):
    case_id = demo_case(demo_db, "jiangli")
    url = f"/notices/{case_id}/objection"
    assert demo_browser().get(url).status_code == 302  # identity needed
    b = demo_browser("zhengmin")
    page = b.get(url).get_data(as_text=True)
    assert "实名提交异议" in page
    version = case_version(demo_db, case_id)
    response = b.post(f"/cases/{case_id}/actions/file_objection", data={
        "version": str(version), "reason": "太短", "return_to": "objection"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "实名提交异议" in body and "太短</textarea>" in body
    response = b.post(f"/cases/{case_id}/actions/file_objection", data={
        "version": str(version), "reason": "申报人代表作系他人完成，请核实相关证明材料。", "return_to": "objection",
        "next": "/notices"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/notices")
    assert case_state(demo_db, case_id) == "result_notice_objection"
    assert "异议核查中" in demo_browser().get("/notices").get_data(as_text=True)
    # the notice is closed for objections now; a second one is refused on the same page
    response = b.post(f"/cases/{case_id}/actions/file_objection", data={
        "version": str(version + 1), "reason": "再次提出异议，内容足够长。", "return_to": "objection"})
    assert response.status_code == 409 and "再次提出异议" in response.get_data(as_text=True)


def test_staff_object_to_their_own_units_notice(demo_db, demo_browser):
    case_id = demo_case(demo_db, "wangli")  # on 长沙湘工's internal notice
    # an outsider neither sees the internal notice nor learns from a refusal that it exists
    assert demo_browser("zhengmin").get(f"/notices/{case_id}/objection").status_code == 404
    response = demo_browser("zhengmin").post(f"/cases/{case_id}/actions/file_objection", data={
        "version": str(case_version(demo_db, case_id)), "reason": "我不是该单位职工，但想提异议。",
        "return_to": "objection"})
    assert response.status_code == 409 and "王丽" not in response.get_data(as_text=True)
    assert demo_browser("wangjun").get(f"/notices/{case_id}/objection").status_code == 200
    response = demo_browser("wangjun").post(f"/cases/{case_id}/actions/file_objection", data={
        "version": str(case_version(demo_db, case_id)), "reason": "申报人近三年年度考核结果与材料不符。",
        "return_to": "objection"})
    assert response.status_code == 303 and case_state(demo_db, case_id) == "unit_notice_objection"
    page = demo_browser("xianggong_hr").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "异议不成立，继续公示" in page and "异议成立，不予推荐" in page


def test_the_authority_revokes_with_a_reason(cast, browser):
    case_id = open_case(cast)
    advance(cast, case_id, "certified")
    # the new title holder reads that the process is over; revoking is the authority's, never their next step
    page = browser("zhang").get(f"/cases/{case_id}").get_data(as_text=True)
    next_steps = page[page.index('id="next-h"'):]
    next_steps = next_steps[:next_steps.index("</section>")]
    assert "流程已办结" in next_steps and "撤销职称" not in next_steps
    b = browser("officer")
    version = case_version(cast.db, case_id)
    assert b.post(f"/cases/{case_id}/actions/revoke", data={"version": str(version)}).status_code == 422
    response = b.post(f"/cases/{case_id}/actions/revoke", data={"version": str(version), "reason": "业绩材料造假"})
    assert response.status_code == 303 and case_state(cast.db, case_id) == "revoked"
    with cast.db.read() as conn:
        number = conn.execute(select(Certificate.__table__.c.number)).scalar_one()
    assert 'data-result="revoked"' in browser().get(f"/verify?number={number}").get_data(as_text=True)
    assert engine.available_actions(cast.db, case_id, cast.officer) == []
