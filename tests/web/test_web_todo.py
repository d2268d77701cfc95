"""我的待办 (/todo): what waits for the signed-in user, across roles and inbox tabs, each with a link to the case;
and the required-materials checklist that decides whether an applicant's draft can be submitted."""

from __future__ import annotations

import io
import re

from driver import advance
from pdfs import make_pdf
from webhelpers import case_reference, case_state, open_case

from workflow.engine import core as engine
from workflow.panel import ballots, prereview
from workflow.pipeline.catalog import get_pipeline
from workflow.pipeline.inboxes import inboxes


def cast_pipeline(world, case_id: int):
    """The pipeline version the case is pinned to."""
    from driver import case_row

    case = case_row(world.db, case_id)
    return get_pipeline(world.db, case.pipeline_id, case.pipeline_version)


def _tab_label(inbox: str, key: str) -> str:
    """The Chinese label of inbox tab ``key``, as definitions/inboxes.yaml words it."""
    return next(t.label.zh for t in inboxes()[inbox].tabs if t.key == key)


def _rows(page: str) -> dict[str, str]:
    """The to-do table's rows by case reference: the row's text with tags stripped."""
    rows = {}
    for body in re.findall(r'<tr data-case="\d+">(.*?)</tr>', page, re.S):
        ref = re.search(r'href="/cases/\d+">([^<]+)</a>', body).group(1)
        rows[ref] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))
    return rows


def _todo(browser, username: str) -> str:
    response = browser(username).get("/todo")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_every_signed_in_user_has_the_link_and_an_empty_list_says_so(cast, browser):
    page = _todo(browser, "admin")
    assert 'id="nav-todo"' in page and 'href="/todo"' in page
    assert "目前没有等待您办理的事项" in page and "<tr data-case" not in page
    assert browser(None).get("/todo").status_code in (302, 303)  # signed out: to the login page


def test_applicant_sees_the_draft_to_submit_with_what_is_missing_and_never_withdrawal(cast, browser):
    case_id = open_case(cast, materials=False)
    ref = case_reference(cast.db, case_id)
    row = _rows(_todo(browser, "zhang"))[ref]
    assert "提交申报" in row and "尚缺必需材料" in row and "学历学位证明" in row
    assert "撤回申报" not in row
    assert f'href="/cases/{case_id}"' in _todo(browser, "zhang")


def test_applicant_sees_a_case_returned_for_correction(cast, browser):
    case_id = open_case(cast)
    engine.fire(cast.db, case_id, "submit", cast.applicant)
    ref = case_reference(cast.db, case_id)
    assert ref not in _rows(_todo(browser, "zhang"))  # with the unit now: nothing for the applicant to do
    engine.fire(cast.db, case_id, "return_for_correction", cast.unit, data={"corrections": ["补充社保缴纳证明"]})
    row = _rows(_todo(browser, "zhang"))[ref]
    assert "补正后重新提交" in row and "撤回" not in row


def test_unit_reviewer_sees_submitted_cases_under_the_inbox_tab_and_another_unit_does_not(cast, browser):
    case_id = open_case(cast)
    engine.fire(cast.db, case_id, "submit", cast.applicant)
    ref = case_reference(cast.db, case_id)
    page = _todo(browser, "unit_hr")
    row = _rows(page)[ref]
    assert _tab_label("unit", "review") in row and "张伟" in row and "单位审核" in row
    assert 'href="/unit/?tab=review"' in page
    assert "目前没有等待您办理的事项" in _todo(browser, "other_hr")


def test_authority_officer_sees_the_formal_check_with_its_tab_label(cast, browser):
    case_id = open_case(cast)
    advance(cast, case_id, "formal_check")
    ref = case_reference(cast.db, case_id)
    row = _rows(_todo(browser, "officer"))[ref]
    assert _tab_label("authority", "formal_check") in row and "职改办工作台" in row
    assert ref not in _rows(_todo(browser, "unit_hr"))  # the unit's part is done


def test_panel_member_sees_the_opinion_they_owe_until_it_is_given(cast, browser):
    case_id = open_case(cast)
    advance(cast, case_id, "pre_review")
    ref = case_reference(cast.db, case_id)
    group = prereview.assign_reviewers(cast.db, case_id, cast.chair)
    by_id = {a.user_id: a for a in [cast.chair, *cast.members]}
    usernames = {m.user_id: f"expert{i}" for i, m in enumerate(cast.members, start=1)}
    member_id = next(uid for uid in group if uid in usernames)
    outside = next(uid for uid in usernames if uid not in group)
    assert "提交评议意见" in _rows(_todo(browser, usernames[member_id]))[ref]
    assert ref not in _rows(_todo(browser, usernames[outside]))  # not in the review group: nothing to do
    ballots.submit_opinion(cast.db, case_id, by_id[member_id], "yes", {"业绩": 90}, "同意推荐")
    assert ref not in _rows(_todo(browser, usernames[member_id]))


def test_the_chair_sees_what_the_engine_lets_them_do_once_the_opinions_are_in(cast, browser):
    case_id = open_case(cast)
    advance(cast, case_id, "pre_review")
    ref = case_reference(cast.db, case_id)
    group = prereview.assign_reviewers(cast.db, case_id, cast.chair)
    by_id = {a.user_id: a for a in [cast.chair, *cast.members]}
    assert "评议完成" not in _rows(_todo(browser, "chair")).get(ref, "")  # opinions missing: not yet possible
    for uid in group[:3]:
        ballots.submit_opinion(cast.db, case_id, by_id[uid], "yes", {"业绩": 90}, "同意推荐")
    assert "评议完成" in _rows(_todo(browser, "chair"))[ref]


def test_required_materials_checklist_and_refused_submission_keep_everything(cast, browser):
    case_id = open_case(cast, materials=False)
    b = browser("zhang")
    page = b.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "材料清单" in page and 'id="materials-missing"' in page and "学历学位证明" in page
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    response = b.post(f"/cases/{case_id}/actions/submit", data={"version": version, "csrf_token": b.token(
        f"/cases/{case_id}")})
    body = response.get_data(as_text=True)
    assert response.status_code == 409 and "请在“申报材料”中上传后再提交" in body and "业绩成果证明" in body
    edit = b.get(f"/applicant/cases/{case_id}/edit").get_data(as_text=True)
    assert 'id="materials-missing"' in edit and "学历学位证明" in edit
    assert case_state(cast.db, case_id) == cast_pipeline(cast, case_id).initial  # nothing happened
    for material in cast_pipeline(cast, case_id).required_materials:
        response = b.post(f"/applicant/cases/{case_id}/materials", content_type="multipart/form-data",
                          data={"category": material.code, "file": (io.BytesIO(make_pdf()), "scan.pdf"),
                                "csrf_token": b.token(f"/cases/{case_id}")})
        assert response.status_code == 303
    page = b.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="materials-complete"' in page and 'id="materials-missing"' not in page
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    response = b.post(f"/cases/{case_id}/actions/submit", data={"version": version, "csrf_token": b.token(
        f"/cases/{case_id}")})
    assert response.status_code == 303 and case_state(cast.db, case_id) != cast_pipeline(cast, case_id).initial
