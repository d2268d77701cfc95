"""The API's case history hides a named objector from tokens that may not know who objected."""

from __future__ import annotations

from driver import advance
from webhelpers import open_case

from workflow.engine import core as engine


def _objection(api, token: str, case_id: int) -> dict:
    response = api(token).get(f"/api/v1/cases/{case_id}/events")
    assert response.status_code == 200, response.get_data(as_text=True)
    (event,) = [e for e in response.get_json()["items"] if e["trigger"] == "file_objection"]
    return event


def test_the_applicant_token_sees_an_objection_without_its_author(cast, api, token_for):
    case_id = open_case(cast)
    advance(cast, case_id, "result_notice")
    engine.fire(cast.db, case_id, "file_objection", cast.outsider, data={"reason": "材料存疑，请核实相关业绩。"})
    hidden = _objection(api, token_for(cast.applicant), case_id)
    assert hidden["actor_name"] is None and hidden["objector_hidden"] is True
    assert hidden["comment"] == "" and hidden["details"]["reason"] == "材料存疑，请核实相关业绩。"
    shown = _objection(api, token_for(cast.officer), case_id)
    assert shown["actor_name"] == "郑敏" and shown["objector_hidden"] is False


def test_a_unit_internal_notice_is_not_admitted_to_outsiders(cast, api, token_for):
    """The print page's rule (workflow.records.notices): an applicant of another unit learns nothing of a unit-internal
    notice through the API, not even that one is running — the answers are those for a case on no notice."""
    on_notice, elsewhere = open_case(cast), open_case(cast)
    advance(cast, on_notice, "unit_notice")
    advance(cast, elsewhere, "unit_review")
    outsider = api(token_for(cast.other_applicant))
    body = {"data": {"reason": "该申报人的业绩材料存在疑问，请核查。"}}
    answers = []
    for case_id in (on_notice, elsewhere):
        listed = outsider.get(f"/api/v1/cases/{case_id}/actions")
        fired = outsider.post(f"/api/v1/cases/{case_id}/actions/file_objection", json=body)
        answers.append((listed.status_code, fired.status_code, fired.get_json()["detail"]))
    assert answers[0] == answers[1] and answers[0][:2] == (403, 409)
