"""A full sitting in a real browser: the administrator maintains the expert pool and draws a committee (seed
shown, re-checked); on the test cast's seated committee the chair opens the sitting and records attendance,
a member declares a conflict and is refused the dossier, the chair confirms it, the review group gives its
opinions, the chair opens the ballot, the members vote, the chair closes the ballot and signs the sitting
off, and the minutes are viewed and printed (screen, print-media screenshot and PDF). The case reaches the
result notice.

The case is brought to pre-review by the engine driver (the earlier steps have their own journeys in
test_browser_journeys.py); everything from there on goes through the pages.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from driver import advance
from livehelpers import Person, case_state, close_ballot_confirmed, live_world, read_key_shares
from panel_helpers import add_pool
from sqlalchemy import select

from workflow.models import CommitteeSeat, Conflict, ReviewSession, User
from workflow.panel import prereview

pytestmark = pytest.mark.browser


def _usernames(db) -> dict[int, str]:
    with db.read() as conn:
        return dict(conn.execute(select(User.__table__.c.id, User.__table__.c.username)).all())


def _submit(person: Person, selector: str) -> None:
    person.page.click(selector)
    person.page.wait_for_load_state()
    person.check()


def test_admin_maintains_the_pool_and_draws_a_committee(people, live_db, tmp_path):
    admin = people("admin")
    csv = tmp_path / "专家名单.csv"
    csv.write_text("专家编号,姓名,专业,职称级别,聘期开始,聘期结束\n"
                   "HN-ZJ-9001,周专家,新材料,正高,2025-01-01,2028-12-31\n"
                   "HN-ZJ-9002,吴专家,新材料,特级,2025-01-01,2028-12-31\n", encoding="utf-8-sig")
    admin.go("/admin/experts/import")
    admin.page.set_input_files("#import-file", str(csv))
    _submit(admin, "#import-form button[type=submit]")
    report = admin.page.locator("#import-report").inner_text()
    assert "新增 1 人" in report and "第 3 行" in report and "应为 副高 或 正高" in report
    admin.shot("experts-import-report")
    admin.go("/admin/experts/?specialty=新材料")
    assert "HN-ZJ-9001" in admin.page.content()
    admin.shot("experts-pool")

    add_pool(live_db, 6, prefix="xcl", specialties=("新材料",))
    with live_db.session(write=True) as s:
        world = live_world(live_db)
        session = ReviewSession(code="XCL-2026", name="2026年湘产专场·新材料", year=2026, series="工程",
                                industry="新材料", authority_org_id=world.authority,
                                pipeline_ids=["industry-session"],
                                parameters={"committee_size": 5, "committee_specialties": ["新材料"]},
                                sitting_on=date(2026, 6, 18))
        s.add(session)
        s.flush()
        session_id = session.id
    admin.go(f"/admin/sessions/{session_id}/committee")
    admin.page.fill("#draw-seed", "20260618")
    admin.page.check("#cm-drawn")
    _submit(admin, "#draw-form button[type=submit]")
    assert admin.page.locator("#seat-table tbody tr").count() == 5
    assert "20260618" in admin.page.locator(".draw-seed").first.inner_text()
    _submit(admin, "#verify-form button")
    assert "复核通过" in admin.page.locator("#verify-result").inner_text()
    admin.shot("committee-draw-verified")


def test_a_full_sitting(people, live_db, tmp_path):
    world = live_world(live_db)
    case_id = world.open("industry-session")
    advance(world, case_id, "pre_review")
    names = _usernames(live_db)
    session_url = f"/panel/sessions/{world.session_id}"
    with live_db.read() as conn:
        seated = conn.execute(select(CommitteeSeat.__table__.c.user_id).where(
            CommitteeSeat.__table__.c.session_id == world.session_id)).scalars().all()

    # the chair opens the sitting and records everyone present
    chair = people("chair")
    chair.go(session_url)
    _submit(chair, "form[action$='/sitting/open'] button")
    # the committee's ballot key is made: its two shares are shown once; the chair keeps share A (typed in at
    # the close), the officer downloads share B as a file
    assert "计票密钥份额" in chair.page.content() and "只显示这一次" in chair.page.content()
    chair.shot("sitting-key-shares")
    shares = read_key_shares(chair, live_db, world.session_id)
    chair.page.click("#share-officer summary")
    with chair.page.expect_download() as download:
        chair.page.click("#share-officer a[download]")
    officer_file = tmp_path / download.value.suggested_filename
    download.value.save_as(officer_file)
    assert officer_file.read_text().strip() == shares.officer and "share-B-officer" in officer_file.name
    for uid in seated:
        chair.go(session_url)
        button = chair.page.locator(f"form:has(input[name=user_id][value='{uid}']) button")
        if button.count():
            _submit(chair, f"form:has(input[name=user_id][value='{uid}']) button")
    chair.go(session_url)
    assert chair.page.locator("text=已出席").count() == len(seated)

    # a member declares a conflict before opening the dossier and is refused it
    conflicted = people("expert6")
    conflicted.go(session_url)
    _submit(conflicted, f"a[href$='/panel/cases/{case_id}/conflict']")
    conflicted.page.check("#kind-relative")
    conflicted.page.fill("#declare-note", "申报人系本人表弟")
    conflicted.shot("panel-declare-conflict")
    _submit(conflicted, "#declare-form button[type=submit]")
    response = conflicted.page.goto(conflicted.base + f"/cases/{case_id}")
    assert response.status == 403 and "利益冲突" in conflicted.page.content()
    conflicted.shot("panel-conflicted-dossier-403")
    conflicted.errors.clear()  # the browser logs the 403 itself as a console error

    # the chair confirms it
    chair.go(f"/panel/cases/{case_id}/conflicts")
    assert "申报人系本人表弟" in chair.page.content()
    chair.shot("panel-chair-conflicts")
    _submit(chair, "#conflict-table button[value=confirm]")
    with live_db.read() as conn:
        assert conn.execute(select(Conflict.__table__.c.status)
                            .where(Conflict.__table__.c.case_id == case_id)).scalar_one() == "confirmed"

    # the review group (drawn among the unconflicted) gives its opinions
    chair.go(f"/cases/{case_id}")
    _submit(chair, "form[action$='/reviewers'] button")
    group = prereview.assigned_reviewers(live_db, case_id)
    assert group and all(names[uid] != "expert6" for uid in group)
    for uid in group:
        people(names[uid]).give_opinion(case_id)
    chair.act(case_id, "complete_pre_review")
    assert case_state(live_db, case_id) == "committee_vote"

    # the ballot: opened by the chair, the unconflicted members vote, closed by the chair
    chair.go(session_url)
    _submit(chair, f"form[action='/cases/{case_id}/actions/open_ballot'] button")
    voters = [names[uid] for uid in seated if names[uid] != "expert6"]
    for i, username in enumerate(voters):
        member = people(username)
        member.go(f"/cases/{case_id}")
        member.page.check("#vote-yes" if i < len(voters) - 1 else "#vote-abstain")
        _submit(member, "#vote-form button")
        assert "投票成功" in member.page.content()
    chair.go(session_url)
    chair.shot("panel-sitting-before-close")
    # the close asks for confirmation with the count of votes cast against the members present (7 seated
    # members present, expert6 recused: 6 of the 7 could vote and did)
    progress = close_ballot_confirmed(chair, live_db, world.session_id, case_id, officer_file=str(officer_file))
    assert progress.startswith("已投 6 / 出席 7"), progress
    assert case_state(live_db, case_id) == "result_notice"

    # the chair signs the sitting off; the minutes: counts and results, never who voted how
    chair.go(session_url)
    _submit(chair, "form[action$='/sitting/close'] button")
    assert "会议已结束" in chair.page.content()
    chair.go(f"{session_url}/minutes")
    html = chair.page.content()
    assert "纪要校验码" in html and "出席 7 人" in html and "分别输入计票密钥份额后计票" in html
    cells = [c.strip() for c in chair.page.locator("table").nth(1).locator("tr").nth(1)
             .locator("td").all_inner_texts()]
    assert cells[6:12] == ["7", "1", "6", "5", "0", "1"] and cells[-1] == "通过"
    roll = chair.page.locator("table").first.inner_text()
    assert all(names[uid] for uid in seated) and not re.search(r"同意|弃权", roll)  # the roll carries no choices
    chair.shot("sitting-minutes")
    chair.page.emulate_media(media="print")
    chair.shot("sitting-minutes-print")
    chair.page.pdf(path=str(chair.shots / "sitting-minutes.pdf"), format="A4")
    chair.page.emulate_media(media="screen")

    # the case is at the result notice, published to the public
    public = people("outsider")
    public.go("/notices")
    assert "张伟" in public.page.content()
    public.shot("sitting-result-notice")
