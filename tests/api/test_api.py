"""The REST API: token lifecycle, a case walked to its certificate with the right roles' tokens, refusals
(401/403/404/409/422) as problem+json, listings scoped to what the token may see."""

from __future__ import annotations

import re

from driver import actor_for_role, ballot_shares, case_row, happy_path, prepare
from webhelpers import case_state, case_version, open_case

from workflow.engine import timers
from workflow.models import utcnow
from workflow.panel import ballots
from workflow.pipeline.catalog import get_pipeline

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type.startswith(PROBLEM)
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    return body


# --------------------------------------------------------------------------------------------- tokens


def test_token_lifecycle_through_the_pages(browser, api, cast):
    page = browser("unit_hr")
    created = page.post("/account/tokens", data={"name": "HR 系统对接", "scopes": ["unit_reviewer"]})
    assert created.status_code == 201
    secret = re.search(r'id="new-token">([^<]+)<', created.get_data(as_text=True)).group(1)
    assert secret.startswith("trk_")
    assert secret not in page.get("/account/tokens").get_data(as_text=True)  # shown once only

    client = api(secret)
    assert client.get("/api/v1/cases").status_code == 200
    listing = page.get("/account/tokens").get_data(as_text=True)
    assert "HR 系统对接" in listing and "—" not in listing.split("HR 系统对接")[1].split("</tr>")[0]

    from workflow.access import api_tokens

    with cast.db.read() as conn:
        (row,) = api_tokens.list_tokens(conn, cast.unit.user_id)
    assert row["last_used_at"] is not None and row["scopes"] == ["unit_reviewer"]
    # Another user cannot revoke it; its owner can, and it stops working at once.
    browser("officer").post(f"/account/tokens/{row['id']}/revoke")
    assert client.get("/api/v1/cases").status_code == 200
    assert page.post(f"/account/tokens/{row['id']}/revoke").status_code == 303
    body = assert_problem(client.get("/api/v1/cases"), 401)
    assert body["title"] == "未认证"
    assert client.get("/api/v1/cases").headers["WWW-Authenticate"].startswith("Bearer")


def test_tokens_only_carry_roles_the_owner_holds(browser, cast):
    page = browser("unit_hr")
    assert page.post("/account/tokens", data={"name": "x", "scopes": ["administrator"]}).status_code == 403
    assert page.post("/account/tokens", data={"name": "x"}).status_code == 422
    assert page.post("/account/tokens", data={"name": "", "scopes": ["unit_reviewer"]}).status_code == 422


def test_no_or_bad_token_is_401(api):
    assert_problem(api(None).get("/api/v1/cases"), 401)
    assert_problem(api("trk_not-a-real-token").get("/api/v1/sessions"), 401)
    assert_problem(api("trk_x").post("/api/v1/cases/1/actions/submit", json={}), 401)


def test_scopes_limit_the_actor(api, cast, token_for):
    case_id = open_case(cast)
    chair_as_member = api(token_for(cast.chair, ["panel_member"]))
    assert chair_as_member.get(f"/api/v1/cases/{case_id}").status_code == 403
    own = api(token_for(cast.applicant))
    assert own.get(f"/api/v1/cases/{case_id}").get_json()["relations"] == ["applicant"]


# --------------------------------------------------------------------------------------------- the walk


def _token_for_role(world, role, pipeline_id, tokens, token_for):
    actor = actor_for_role(world, role, pipeline_id)
    if actor.user_id not in tokens:
        tokens[actor.user_id] = token_for(actor)
    return tokens[actor.user_id]


def test_walk_a_case_from_submission_to_certificate(api, cast, token_for):
    """Every transition by people goes through the API with the token of the role the pipeline names
    (panel work that is not a transition — opinions, defence record, attendance, votes — uses the core;
    deadlines fire through the timer, as in production)."""
    world = cast
    case_id = open_case(world, superior=True)
    pipeline = get_pipeline(world.db, "industry-session", case_row(world.db, case_id).pipeline_version)
    tokens: dict[int, str] = {}
    fired_roles = []
    for _ in range(60):
        case = case_row(world.db, case_id)
        if case.state == "certified":
            break
        trigger = happy_path(pipeline, "certified", case.state)[0]
        cand = pipeline.by_trigger_source[(trigger, case.state)][0]
        if cand.roles == ["system"]:
            report = timers.tick(world.db, now=utcnow() + __import__("datetime").timedelta(days=400))
            assert (case_id, trigger) in report.fired
            continue
        if trigger == "close_ballot":
            _ballot(world, case_id, api(_token_for_role(world, "panel_chair", pipeline.id, tokens, token_for)))
        else:
            prepare(world, case_id, trigger)
        client = api(_token_for_role(world, cand.roles[0], pipeline.id, tokens, token_for))
        options = client.get(f"/api/v1/cases/{case_id}/actions").get_json()
        assert trigger in {o["trigger"] for o in options["items"] if o["allowed"]}, (trigger, options)
        # A token of a role the step does not name is refused with 403, and nothing happens.
        wrong = "applicant" if "applicant" not in cand.roles else "authority_officer"
        refused = api(_token_for_role(world, wrong, pipeline.id, tokens, token_for)).post(
            f"/api/v1/cases/{case_id}/actions/{trigger}", json={"expected_version": options["case_version"]})
        assert_problem(refused, 403)
        body = {"expected_version": options["case_version"], "comment": "同意" if "comment" in cand.requires else ""}
        if trigger == "close_ballot":
            shares = ballot_shares(world)
            body["ballot_shares"] = {"chair": shares.chair, "officer": shares.officer}
        data = {"corrections": ["补充材料"], "assessment": {"result": "合格", "summary": "年度考核合格"},
                "reason": "测试理由，足够长的说明"}
        body["data"] = {k: v for k, v in data.items() if k in cand.requires}
        response = client.post(f"/api/v1/cases/{case_id}/actions/{trigger}", json=body)
        assert response.status_code == 200, (trigger, response.get_data(as_text=True))
        assert response.get_json()["trigger"] == trigger
        fired_roles.append(response.get_json()["role"])
    assert case_state(world.db, case_id) == "certified"
    assert {"applicant", "unit_reviewer", "superior_reviewer", "authority_officer", "panel_chair"} <= set(fired_roles)

    applicant = api(tokens[world.applicant.user_id])
    detail = applicant.get(f"/api/v1/cases/{case_id}").get_json()
    assert detail["state"] == "certified" and detail["certificate_number"]
    events = applicant.get(f"/api/v1/cases/{case_id}/events").get_json()["items"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    text = str(events)
    assert "ballot" not in text.lower() or "open_ballot" in text  # triggers only, never ballots
    assert all("tally" not in e["details"] and "votes" not in e["details"] for e in events)
    cert = api(None).get(f"/api/v1/certificates/{detail['certificate_number']}")
    assert cert.status_code == 200 and cert.get_json()["status"] == "valid"
    assert cert.get_json()["holder_name"] == "张伟"


def _ballot(world, case_id, chair_client):
    """Attendance and votes (not transitions) through the core; opening the ballot through the API."""
    from driver import open_sitting

    open_sitting(world)
    seated = [world.chair, *world.members]
    for m in seated:
        ballots.record_attendance(world.db, world.session_id, m.user_id)
    options = chair_client.get(f"/api/v1/cases/{case_id}/actions").get_json()
    if any(o["trigger"] == "open_ballot" and o["allowed"] for o in options["items"]):
        r = chair_client.post(f"/api/v1/cases/{case_id}/actions/open_ballot",
                              json={"expected_version": options["case_version"]})
        assert r.status_code == 200, r.get_data(as_text=True)
    for m in seated:
        ballots.cast_vote(world.db, case_id, m, "yes")


# --------------------------------------------------------------------------------------------- refusals


def test_unknown_case_404_wrong_role_403_stale_409_missing_422(api, cast, token_for):
    case_id = open_case(cast)
    applicant = api(token_for(cast.applicant))
    assert_problem(applicant.get("/api/v1/cases/999999"), 404)
    assert_problem(applicant.post("/api/v1/cases/999999/actions/submit", json={}), 404)
    # Another applicant's token: the case is not theirs.
    other = api(token_for(cast.other_applicant))
    assert_problem(other.get(f"/api/v1/cases/{case_id}"), 403)
    assert_problem(other.get(f"/api/v1/cases/{case_id}/events"), 403)
    assert_problem(other.post(f"/api/v1/cases/{case_id}/actions/submit", json={}), 403)
    # Stale version.
    version = case_version(cast.db, case_id)
    body = assert_problem(applicant.post(f"/api/v1/cases/{case_id}/actions/submit",
                                         json={"expected_version": version - 1}), 409)
    assert "更新" in body["detail"]
    en = applicant.post(f"/api/v1/cases/{case_id}/actions/submit", json={"expected_version": version - 1},
                        headers={"Accept-Language": "en"})
    assert assert_problem(en, 409)["title"] == "Conflict"
    # Not possible in this state.
    assert_problem(applicant.post(f"/api/v1/cases/{case_id}/actions/certify", json={}), 409)
    # Invalid body: 422 listing the field.
    body = assert_problem(applicant.post(f"/api/v1/cases/{case_id}/actions/submit", json={"bogus": 1}), 422)
    assert any("bogus" in r for r in body["reasons"])
    assert case_state(cast.db, case_id) == "draft"
    ok = applicant.post(f"/api/v1/cases/{case_id}/actions/submit", json={"expected_version": version})
    assert ok.status_code == 200, ok.get_data(as_text=True)
    # Returning for correction without the list of corrections: 422 from the engine.
    unit = api(token_for(cast.unit))
    v = case_version(cast.db, case_id)
    r = unit.post(f"/api/v1/cases/{case_id}/actions/return_for_correction", json={"expected_version": v})
    assert r.status_code in (409, 422)
    assert r.content_type.startswith(PROBLEM)


def test_submission_without_the_required_materials_is_refused_with_what_is_missing(api, cast, token_for):
    case_id = open_case(cast, materials=False)
    case = case_row(cast.db, case_id)
    required = get_pipeline(cast.db, case.pipeline_id, case.pipeline_version).required_materials
    applicant = api(token_for(cast.applicant))
    body = assert_problem(applicant.post(f"/api/v1/cases/{case_id}/actions/submit", json={}), 409)
    assert all(m.label.zh in " ".join(body["reasons"]) for m in required)
    assert case_state(cast.db, case_id) == case.state  # nothing changed
    actions = applicant.get(f"/api/v1/cases/{case_id}/actions").get_json()
    submit = next(a for a in actions["items"] if a["trigger"] == "submit")
    assert not submit["allowed"] and required[0].label.zh in " ".join(submit["reasons"])


def test_listing_is_scoped_filtered_and_paged(api, cast, token_for):
    ids = [open_case(cast) for _ in range(3)]
    other_id = open_case(cast, applicant=cast.other_applicant)
    applicant = api(token_for(cast.applicant))
    page = applicant.get("/api/v1/cases?limit=2&offset=0").get_json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["limit"] == 2
    rest = applicant.get("/api/v1/cases?limit=2&offset=2").get_json()
    assert {c["id"] for c in page["items"] + rest["items"]} == set(ids)
    assert other_id not in {c["id"] for c in page["items"] + rest["items"]}
    # Drafts are the applicant's own: the unit sees nothing until a submission.
    unit = api(token_for(cast.unit))
    assert unit.get("/api/v1/cases").get_json()["total"] == 0
    applicant.post(f"/api/v1/cases/{ids[0]}/actions/submit", json={})
    listed = unit.get("/api/v1/cases?state=" + case_state(cast.db, ids[0])).get_json()
    assert [c["id"] for c in listed["items"]] == [ids[0]]
    assert unit.get("/api/v1/cases?pipeline=skill-bridging").get_json()["total"] == 0
    ref = listed["items"][0]["reference"]
    assert applicant.get(f"/api/v1/cases?q={ref}").get_json()["total"] == 1
    admin = api(token_for(cast.admin))
    assert admin.get("/api/v1/cases").get_json()["total"] == 4
    assert_problem(applicant.get("/api/v1/cases?limit=0"), 422)


def test_reference_endpoints(api, cast, token_for):
    client = api(token_for(cast.officer))
    sessions = client.get("/api/v1/sessions").get_json()["items"]
    assert sessions[0]["code"] == "2026-RAIL"
    assert "hunan-sme-advanced-manufacturing-senior" in sessions[0]["standard_ids"]  # what the session accepts
    standards = client.get("/api/v1/standards").get_json()["items"]
    assert standards
    one = client.get(f"/api/v1/standards/{standards[0]['id']}").get_json()
    assert one["body"]["id"] == standards[0]["id"]
    assert_problem(client.get("/api/v1/standards/no-such-standard"), 404)
    assert client.get("/api/v1/notices").get_json() == {"items": []}
    assert_problem(api(None).get("/api/v1/certificates/NOPE123"), 404)
    assert_problem(api(None).get("/api/v1/no/such/thing"), 404)
    r = api(None).client.delete("/api/v1/cases")
    assert_problem(r, 405)
    assert "GET" in r.headers["Allow"]


def test_openapi_document(api):
    doc = api(None).get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/cases/{case_id}/actions/{trigger}" in doc["paths"]
    fire = doc["paths"]["/api/v1/cases/{case_id}/actions/{trigger}"]["post"]
    assert set(fire["responses"]) >= {"200", "401", "403", "404", "409", "422"}
    assert PROBLEM in fire["responses"]["409"]["content"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert doc["paths"]["/api/v1/certificates/{number}"]["get"]["security"] == []
