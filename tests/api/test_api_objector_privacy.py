"""The API's case history hides a named objector from tokens that may not know who objected."""

from __future__ import annotations

from driver import advance
from webhelpers import open_case

from workflow import engine


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
