"""The HTML form and the API are two faces of one command (workflow.engine.commands): the same bad request gets the
same refusal from both — the same status and the same words, in Chinese and in English."""

from __future__ import annotations

import pytest
from driver import advance
from markupsafe import escape
from webhelpers import case_state, case_version, open_case

from workflow.access import api_tokens
from workflow.engine import core as engine

REASON = "该申报人的业绩材料存在疑问，请核查。"


def _unknown(cast):
    return "zhang", cast.applicant, 999999, "submit", 1, {}


def _not_yours(cast):
    case_id = open_case(cast)
    return "li", cast.other_applicant, case_id, "submit", 1, {}


def _stale(cast):
    case_id = open_case(cast)
    engine.fire(cast.db, case_id, "submit", cast.applicant)
    return "unit_hr", cast.unit, case_id, "start_unit_notice", 1, {}


def _not_your_action(cast):
    case_id = open_case(cast)
    engine.fire(cast.db, case_id, "submit", cast.applicant)
    return "zhang", cast.applicant, case_id, "start_unit_notice", 2, {}


def _not_now(cast):
    case_id = open_case(cast)
    return "zhang", cast.applicant, case_id, "resubmit", 1, {}


def _unit_notice_of_another_unit(cast):
    case_id = open_case(cast)
    advance(cast, case_id, "unit_notice")
    return "li", cast.other_applicant, case_id, "file_objection", case_version(cast.db, case_id), {"reason": REASON}


def _objection_too_short(cast):
    case_id = open_case(cast)
    advance(cast, case_id, "result_notice")
    return "li", cast.other_applicant, case_id, "file_objection", case_version(cast.db, case_id), {"reason": "太短"}


def _missing_corrections(cast):
    case_id = open_case(cast)
    engine.fire(cast.db, case_id, "submit", cast.applicant)
    return "unit_hr", cast.unit, case_id, "return_for_correction", 2, {}


@pytest.mark.parametrize(("build", "status"), [
    (_unknown, 404), (_not_yours, 403), (_stale, 409), (_not_your_action, 403), (_not_now, 409),
    (_unit_notice_of_another_unit, 409), (_objection_too_short, 422), (_missing_corrections, 422),
], ids=lambda value: getattr(value, "__name__", str(value)).lstrip("_"))
def test_the_form_and_the_api_refuse_alike(app, cast, browser, build, status):
    username, actor, case_id, trigger, version, data = build(cast)
    before = case_state(cast.db, case_id) if case_id != 999999 else None
    token = api_tokens.create_token(cast.db, actor.user_id, "parity", sorted(actor.roles)).secret
    api = app.test_client()
    page = browser(username)
    for lang in ("zh", "en"):
        answer = api.post(f"/api/v1/cases/{case_id}/actions/{trigger}", json={"expected_version": version,
                                                                             "data": data},
                          headers={"Authorization": f"Bearer {token}", "Accept-Language": lang})
        page.client.set_cookie("lang", lang)
        form = page.post(f"/cases/{case_id}/actions/{trigger}", data={"version": str(version), **data})
        detail = answer.get_json()["detail"]
        assert (answer.status_code, form.status_code) == (status, status), (lang, detail)
        assert str(escape(detail)) in form.get_data(as_text=True), (lang, detail)
    if before is not None:
        assert case_state(cast.db, case_id) == before  # refused by both, changed by neither
