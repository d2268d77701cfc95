"""The one generic transition view: success, and 404 / 403 / 409 / 422 with the message and the input kept."""

from __future__ import annotations

from datetime import date

import pytest
from driver import advance
from sqlalchemy import select
from webhelpers import case_state, case_version, open_case

from workflow.eligibility.gate import latest_reports
from workflow.engine import core as engine
from workflow.models import Case, CaseEvent

EVIDENCE = {"account_evidence": {"kind": "labour_contract", "contract_months": 12, "social_insurance": True}}


def _act(b, case_id: int, trigger: str, version: int | None, **fields):
    data = {"version": "" if version is None else str(version), **fields}
    return b.post(f"/cases/{case_id}/actions/{trigger}", data=data)


def test_submit_moves_the_case_and_redirects_to_it(cast, browser):
    case_id = open_case(cast)
    b = browser("zhang")
    response = _act(b, case_id, "submit", 1, comment="请审核")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/cases/{case_id}")
    assert case_state(cast.db, case_id) == "unit_review"
    page = b.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "已办理：提交申报" in page and "请审核" in page


def test_unknown_case_is_404(browser):
    response = _act(browser("zhang"), 424242, "submit", 1)
    assert response.status_code == 404 and "案件不存在" in response.get_data(as_text=True)


def test_people_without_a_relation_get_403_and_learn_nothing(cast, browser):
    case_id = open_case(cast)
    response = _act(browser("outsider"), case_id, "submit", 1)
    assert response.status_code == 403
    assert case_state(cast.db, case_id) == "draft"


def test_a_viewer_without_the_role_gets_403_on_the_case_page(cast, browser):
    case_id = open_case(cast)
    engine.fire(cast.db, case_id, "submit", cast.applicant)
    response = _act(browser("zhang"), case_id, "start_unit_notice", 2)
    body = response.get_data(as_text=True)
    assert response.status_code == 403 and "您无权执行" in body and "办理记录" in body  # the case page, re-rendered
    assert case_state(cast.db, case_id) == "unit_review"


def test_a_stale_form_is_409_and_changes_nothing(cast, browser):
    case_id = open_case(cast)
    engine.fire(cast.db, case_id, "submit", cast.applicant)
    b = browser("unit_hr")
    response = _act(b, case_id, "start_unit_notice", 1)  # the page was loaded before the submit
    assert response.status_code == 409 and "已被他人更新" in response.get_data(as_text=True)
    assert case_state(cast.db, case_id) == "unit_review"


def test_an_action_not_possible_in_this_state_is_409(cast, browser):
    case_id = open_case(cast)
    response = _act(browser("zhang"), case_id, "resubmit", case_version(cast.db, case_id))
    assert response.status_code in (403, 409)
    response = _act(browser("zhang"), case_id, "no_such_action", case_version(cast.db, case_id))
    assert response.status_code == 409 and "不存在" in response.get_data(as_text=True)


def test_a_rule_refusing_is_409_with_its_reason(cast, browser):
    case_id = open_case(cast, "fallback-filing", evidence=False)  # no account evidence declared
    response = _act(browser("zhang"), case_id, "submit", 1)
    assert response.status_code == 409 and "劳动合同" in response.get_data(as_text=True)
    assert case_state(cast.db, case_id) == "draft"


def test_missing_data_is_422_and_the_typed_input_is_kept(cast, browser):
    case_id = open_case(cast)
    engine.fire(cast.db, case_id, "submit", cast.applicant)
    b = browser("unit_hr")
    response = _act(b, case_id, "return_for_correction", 2, corrections="\n  \n", comment="请尽快补正（保留的说明）")
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "补正清单" in body
    assert "请尽快补正（保留的说明）" in body  # what the reviewer typed is back in the form
    assert case_state(cast.db, case_id) == "unit_review"


def test_corrections_are_one_complete_list_one_item_per_line(cast, browser):
    case_id = open_case(cast)
    engine.fire(cast.db, case_id, "submit", cast.applicant)
    text = "1. 补充近三年社保缴纳证明\n2、代表作需加盖单位公章\n\n（3）学历证书扫描件不清晰\n- 业绩证明须附验收报告"
    response = _act(browser("unit_hr"), case_id, "return_for_correction", 2, corrections=text)
    assert response.status_code == 303
    with cast.db.read() as conn:
        data = conn.execute(select(Case.__table__.c.data).where(Case.__table__.c.id == case_id)).scalar_one()
    assert data["corrections"] == ["补充近三年社保缴纳证明", "代表作需加盖单位公章", "学历证书扫描件不清晰",
                                   "业绩证明须附验收报告"]
    page = browser("zhang").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "请按以下清单一次性补正" in page and "学历证书扫描件不清晰" in page


def test_a_missing_version_is_422(cast, browser):
    case_id = open_case(cast)
    response = _act(browser("zhang"), case_id, "submit", None)
    assert response.status_code == 422 and "版本" in response.get_data(as_text=True)
    assert case_state(cast.db, case_id) == "draft"


def test_bridging_recommendation_records_the_unit_assessment(cast, browser):
    case_id = open_case(cast, "skill-bridging", level="中级")
    advance(cast, case_id, "unit_recommendation")
    b = browser("unit_hr")
    version = case_version(cast.db, case_id)
    response = _act(b, case_id, "recommend", version, comment="同意推荐", assessment_result="",
                    assessment_summary="技能突出")
    assert response.status_code == 422 and "单位考核结果" in response.get_data(as_text=True)
    response = _act(b, case_id, "recommend", version, comment="同意推荐", assessment_result="优秀",
                    assessment_summary="技能突出，近三年考核优秀")
    assert response.status_code == 303
    with cast.db.read() as conn:
        data = conn.execute(select(Case.__table__.c.data).where(Case.__table__.c.id == case_id)).scalar_one()
    assessment = data["assessment"]
    assert {k: assessment[k] for k in ("result", "summary", "by")} == {
        "result": "优秀", "summary": "技能突出，近三年考核优秀", "by": cast.unit.name}
    date.fromisoformat(assessment["on"])  # dated by the engine, not by the form
    # The recommendation re-judges the case with the assessment: no longer pending (rules.md §7.2).
    with cast.db.read() as conn:
        report = latest_reports(conn, case_id)["recommend"]["report"]
    checked = {c["id"]: c for c in report["criteria"]}["unit_assessment"]
    assert checked["verdict"] == "met" and "优秀" in checked["explanation"]["zh"]


def test_next_may_only_point_inside_the_site(cast, browser):
    case_id = open_case(cast)
    response = _act(browser("zhang"), case_id, "submit", 1, next="https://evil.example/")
    assert response.headers["Location"].endswith(f"/cases/{case_id}")


def test_withdraw_needs_a_reason_and_is_recorded(cast, browser):
    case_id = open_case(cast)
    b = browser("zhang")
    assert _act(b, case_id, "withdraw", 1).status_code == 422
    assert _act(b, case_id, "withdraw", 1, reason="个人原因").status_code == 303
    assert case_state(cast.db, case_id) == "withdrawn"
    with cast.db.read() as conn:
        last = conn.execute(select(CaseEvent.__table__.c.payload).where(CaseEvent.__table__.c.case_id == case_id)
                            .order_by(CaseEvent.__table__.c.seq.desc())).scalars().first()
    assert last["reason"] == "个人原因"


@pytest.mark.parametrize("status", [403, 404, 409, 422])
def test_error_pages_never_show_a_traceback(cast, browser, status):
    case_id = open_case(cast)
    b = browser("zhang" if status != 403 else "outsider")
    target = {404: (99999, "submit", 1), 403: (case_id, "submit", 1), 409: (case_id, "no_such", 1),
              422: (case_id, "withdraw", 1)}[status]
    response = _act(b, *target)
    body = response.get_data(as_text=True)
    assert response.status_code == status and "Traceback" not in body and "湖南省职称评审服务平台" in body


def test_a_missing_opinion_is_called_what_its_field_is_called(cast, browser):
    """The field is labelled 意见, so the refusal asks for 意见 (it said 说明, a word the page never shows)."""
    case_id = open_case(cast)
    advance(cast, case_id, "unit_recommendation")
    b = browser("unit_hr")
    page = b.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'for="comment-recommend">意见' in page
    response = _act(b, case_id, "recommend", case_version(cast.db, case_id), comment="")
    assert response.status_code == 422 and "请填写：意见" in response.get_data(as_text=True)
