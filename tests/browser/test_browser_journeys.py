"""Whole journeys in a real browser, one per pipeline, plus the return-for-correction loop.

Everything a person does goes through the pages as they would do it (sign in, fill forms, press buttons,
upload a file); only the passing of time is simulated, by running the timer tick as ``titlereview tick``
would. Screenshots of the key pages of every role go to ``test-output/screenshots``.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from livehelpers import Person, case_state, close_ballot_confirmed, read_key_shares
from pdfs import make_pdf
from sqlalchemy import select

from workflow.engine import timers
from workflow.models import Case, CommitteeSeat, User, utcnow
from workflow.panel import prereview

PDF = make_pdf()
STANDARD_FOR = {
    "industry-session": "hunan-sme-advanced-manufacturing-senior",
    "exceptional-senior": "hunan-sme-advanced-manufacturing-senior",
    "skill-bridging": "national-engineering-engineer",
    "fallback-filing": "national-engineering-senior",
}


def _tick(db) -> None:
    """Let the deadlines pass (what the scheduled ``titlereview tick`` does)."""
    timers.tick(db, now=utcnow() + timedelta(days=60))


def _usernames(db) -> dict[int, str]:
    with db.read() as conn:
        return dict(conn.execute(select(User.__table__.c.id, User.__table__.c.username)).all())


def _new_case(applicant: Person, db, pipeline_id: str, tmp_path, *, level: str, title: str) -> int:
    """The applicant opens a draft through the form, uploads the required materials and submits it."""
    p = applicant.page
    applicant.go("/applicant/cases/new")
    p.select_option("#pipeline_id", pipeline_id)
    p.select_option("#session_id", label="2026年湘产专场·轨道交通装备")
    p.select_option("#level", level)
    p.fill("#target_title", title)
    p.select_option("#standard_id", STANDARD_FOR[pipeline_id])
    p.fill("#specialty", "轨道交通装备")
    if pipeline_id == "fallback-filing":
        p.select_option("#agency_org_id", label="长沙市人才服务中心")
        p.check("#evidence_kind-0")
        p.fill("#contract_months", "24")
        p.check("#social_insurance")
    p.click("main form button[type=submit]")
    p.wait_for_load_state()
    match = re.search(r"/cases/(\d+)", p.url)
    assert match, p.url
    case_id = int(match.group(1))
    # One file for every material the pipeline requires: a submission is refused while one is missing.
    applicant.upload_required(db, case_id, tmp_path, PDF)
    applicant.act(case_id, "submit")
    assert case_state(db, case_id) == "unit_review"
    return case_id


def _panel(people, db, case_id: int, *, exceptional: bool) -> None:
    """The committee: review group, opinions, (defence), the sitting, attendance, the secret ballot."""
    chair = people("chair")
    chair.go(f"/cases/{case_id}")
    chair.page.click("form[action$='/reviewers'] button")
    chair.page.wait_for_load_state()
    names = _usernames(db)
    for uid in prereview.assigned_reviewers(db, case_id):
        people(names[uid]).give_opinion(case_id)
    chair.act(case_id, "complete_pre_review")
    if exceptional:
        assert case_state(db, case_id) == "defence"
        chair.go(f"/cases/{case_id}")
        chair.page.fill("#def-at", "2026-09-10T09:30")
        chair.page.fill("#def-place", "湖南省人才发展大厦三楼答辩室")
        chair.page.click("#defence-schedule button")
        chair.page.wait_for_load_state()
        chair.page.check("#dr-pass")
        chair.page.fill("#defence-record textarea", "陈述清楚，回答准确，答辩合格。")
        chair.page.click("#defence-record button")
        chair.page.wait_for_load_state()
    assert case_state(db, case_id) == "committee_vote"

    with db.read() as conn:
        session_id = conn.execute(select(Case.__table__.c.session_id).where(Case.__table__.c.id == case_id)).scalar()
        seated = conn.execute(select(CommitteeSeat.__table__.c.user_id).where(
            CommitteeSeat.__table__.c.session_id == session_id).order_by(CommitteeSeat.__table__.c.id)).scalars().all()
    chair.go(f"/panel/sessions/{session_id}")
    if chair.page.locator("form[action$='/sitting/open'] button").count():
        chair.page.click("form[action$='/sitting/open'] button")
        chair.page.wait_for_load_state()
        read_key_shares(chair, db, session_id)
    voters = [names[uid] for uid in seated[:5]]
    for username in voters:
        chair.go(f"/panel/sessions/{session_id}")
        button = chair.page.locator(f"form:has(input[name=user_id][value='{_uid(names, username)}']) button")
        if button.count():
            button.click()
            chair.page.wait_for_load_state()
    chair.go(f"/panel/sessions/{session_id}")
    chair.shot("panel-chair-session")
    chair.page.click(f"form[action='/cases/{case_id}/actions/open_ballot'] button")
    chair.page.wait_for_load_state()
    for i, username in enumerate(voters):
        member = people(username)
        member.go(f"/cases/{case_id}")
        if i == 1:
            member.shot("panel-member-vote")
        member.page.check("#vote-yes" if i < 4 else "#vote-abstain")
        member.page.click("#vote-form button")
        member.page.wait_for_load_state()
        assert "投票成功" in member.page.content()
    chair.go(f"/panel/sessions/{session_id}")
    assert close_ballot_confirmed(chair, db, session_id, case_id).startswith(f"已投 {len(voters)} / 出席 ")
    assert case_state(db, case_id) == "result_notice"


def _uid(names: dict[int, str], username: str) -> int:
    return next(uid for uid, name in names.items() if name == username)


def _finish(people, db, case_id: int, shots: bool = False) -> str:
    """Result notice (public), its end by the tick, filing, the certificate, and its verification."""
    public = people("outsider")
    public.go("/notices")
    assert "张伟" in public.page.content()
    if shots:
        public.shot("public-result-notices")
    _tick(db)
    assert case_state(db, case_id) == "filing"
    officer = people("officer")
    officer.act(case_id, "file_result", comment="程序合规，予以备案。")
    officer.act(case_id, "issue_certificate")
    assert case_state(db, case_id) == "certified"
    number = officer.page.locator(".cert-number").first.inner_text().strip()
    applicant = people("zhang")
    applicant.go(f"/cases/{case_id}")
    assert number in applicant.page.content()
    if shots:
        applicant.shot("applicant-case-certified")
    public.go("/verify")
    public.page.fill("#number", number)
    public.page.click("form[role=search] button")
    public.page.wait_for_load_state()
    assert public.page.locator("[data-result=valid]").count() == 1
    if shots:
        public.shot("public-verify-valid")
    return number


@pytest.mark.parametrize("pipeline_id", ["industry-session", "skill-bridging", "exceptional-senior",
                                         "fallback-filing"])
def test_full_journey(pipeline_id, people, live_db, tmp_path):
    first = pipeline_id == "industry-session"
    level, title = {"skill-bridging": ("中级", "工程师")}.get(pipeline_id, ("副高", "高级工程师"))
    applicant = people("zhang")
    case_id = _new_case(applicant, live_db, pipeline_id, tmp_path, level=level, title=title)
    if first:
        applicant.go(f"/cases/{case_id}")
        applicant.shot("applicant-case-submitted")
        applicant.go("/applicant/")
        applicant.shot("applicant-home")

    unit = people("agency" if pipeline_id == "fallback-filing" else "unit_hr")
    unit.go("/unit/")
    assert "张伟" in unit.page.content()
    if first:
        unit.shot("unit-inbox")
    if pipeline_id == "fallback-filing":
        unit.shot("agency-inbox")
    unit.act(case_id, "start_unit_notice")
    _tick(live_db)
    assert case_state(live_db, case_id) == "unit_recommendation"
    if pipeline_id == "skill-bridging":
        unit.act(case_id, "recommend", comment="同意推荐", assessment_result="优秀",
                 assessment_summary="技能精湛，近三年考核优秀。")
    else:
        unit.act(case_id, "recommend", comment="经考核，同意推荐。")

    if pipeline_id != "fallback-filing":  # the employer sits under a superior department
        assert case_state(live_db, case_id) == "superior_review"
        superior = people("superior")
        superior.go("/unit/superior")
        if first:
            superior.shot("superior-inbox")
        superior.act(case_id, "superior_approve")
    assert case_state(live_db, case_id) == "formal_check"

    officer = people("officer")
    officer.go("/authority/")
    if first:
        officer.shot("authority-inbox")
    officer.act(case_id, "accept", comment="材料齐全，予以受理。")
    officer.act(case_id, "confirm_eligibility")
    if first:
        officer.go(f"/cases/{case_id}")
        officer.shot("authority-case-eligibility")
    assert case_state(live_db, case_id) == "pre_review"

    _panel(people, live_db, case_id, exceptional=pipeline_id == "exceptional-senior")
    number = _finish(people, live_db, case_id, shots=first)
    assert number.startswith("HN")


def test_return_for_correction_loop(people, live_db, tmp_path):
    applicant = people("zhang")
    case_id = _new_case(applicant, live_db, "industry-session", tmp_path, level="副高", title="高级工程师")
    unit = people("unit_hr")
    unit.act(case_id, "return_for_correction",
             corrections="1. 补充近三年社保缴纳证明\n2. 代表作需加盖单位公章\n3. 学历证书扫描件不清晰")
    assert case_state(live_db, case_id) == "correction"
    applicant.go(f"/cases/{case_id}")
    content = applicant.page.content()
    assert "请按以下清单一次性补正" in content and "学历证书扫描件不清晰" in content
    applicant.shot("applicant-correction")
    pdf = tmp_path / "社保缴纳证明.pdf"
    pdf.write_bytes(PDF)
    applicant.page.select_option("#category", "other")  # a category the pinned pipeline lists
    applicant.page.set_input_files("#file", str(pdf))
    applicant.page.click("#upload-form button[type=submit]")
    applicant.page.wait_for_load_state()
    applicant.act(case_id, "resubmit", comment="已按清单补正。")
    assert case_state(live_db, case_id) == "unit_review"
    # the authority's return comes with a deadline, shown on the case
    unit.act(case_id, "start_unit_notice")
    _tick(live_db)
    unit.act(case_id, "recommend", comment="同意推荐")
    people("superior").act(case_id, "superior_approve")
    officer = people("officer")
    officer.act(case_id, "return_for_correction", corrections="补充任现职以来年度考核结果")
    applicant.go(f"/cases/{case_id}")
    assert "补正截止" in applicant.page.content()
    applicant.act(case_id, "resubmit")
    assert case_state(live_db, case_id) == "formal_check"


def test_refusals_are_explained_on_the_page(people, live_db):
    officer = people("officer")
    with live_db.read() as conn:
        case_id = conn.execute(select(Case.__table__.c.id).where(Case.__table__.c.state == "formal_check")
                               .order_by(Case.__table__.c.id)).scalars().first()
    if case_id is None:
        pytest.skip("no case at the formal check in this module's database")
    officer.go(f"/cases/{case_id}")
    form = officer.page.locator("#action-return_for_correction")
    folded = officer.page.locator("details:has(#action-return_for_correction) > summary")
    if folded.count():
        folded.click()
    form.locator("[name=comment]").fill("保留我写的说明")
    form.locator("button[type=submit]").click()
    officer.page.wait_for_load_state()
    assert officer.page.locator("#action-error").count() == 1
    assert "补正清单" in officer.page.locator("#action-error").inner_text()
    assert officer.page.locator("#comment-return_for_correction").input_value() == "保留我写的说明"
    officer.shot("authority-refusal-422")


def test_every_role_main_page_in_both_languages(people, live_db):
    pages = {"admin": "/admin/users", "chair": "/panel/", "expert1": "/panel/", "zhang": "/applicant/profile"}
    for username, path in pages.items():
        person = people(username)
        person.go(path)
        person.shot(f"{username}-main")
    zhang = people("zhang")
    zhang.go("/lang/en?next=/applicant/")
    zhang.go("/applicant/")
    assert "My applications" in zhang.page.content()
    zhang.shot("applicant-home-english")
    zhang.go("/lang/zh_CN?next=/applicant/")
    public = people("outsider")
    public.go("/")
    public.shot("public-portal")
