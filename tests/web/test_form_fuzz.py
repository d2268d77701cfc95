"""Fuzzing every form: random field values (unicode, huge strings, control characters, numbers where text is
expected and the reverse, repeated keys, files where text is expected) never produce a 500.

Each POST route of ``app.url_map`` (except the token-authenticated API, fuzzed through its OpenAPI schema
elsewhere) is posted to by a principal allowed to use it, with fields drawn from the names in the route's own
form (its GET page) and the names the web layer reads. Deterministic (derandomised, no example database) and
bounded: EXAMPLES per route.
"""

from __future__ import annotations

import io
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_access_matrix import objects
from webhelpers import PASSWORD, Browser
from werkzeug.datastructures import MultiDict

EXAMPLES = 15

_NAMES = (
    "username password current new confirm display_name email phone name name_en code kind region credit_code "
    "superior_org_id org_id roles is_active user_id seat_role replacing_user_id chair_mode seed decision note "
    "reason comment version next return_to corrections assessment_result assessment_summary category choice "
    "recommendation text score_performance score_ability scheduled_at place result record pipeline_id standard_id "
    "series specialty level target_title session_id evidence_kind contract_months social_insurance agency_org_id "
    "authority_org_id year opens_on closes_on sitting_on industry status scopes yaml_text add action "
    "registration_no contact birth_date education-0-level titles-0-name works-0-title achievements-0-year"
)
FIELDS = _NAMES.split()
"""Field names the forms and views read (a superset: unknown names must be ignored, not crash)."""

ROUTE_USER = {
    "applicant.": "zhang", "standards.precheck": "zhang", "panel.opinion": "expert1", "panel.vote": "expert1",
    "panel.attendance": "expert1", "committee.declare": "expert1", "panel.": "chair", "committee.decide": "chair",
    "cases.act": "unit_hr", "auth.login": None, "auth.logout": "zhang", "auth.account": "li", "tokens.": "officer",
}
"""Who posts to a route (the first matching prefix); administrators for the rest."""

SKIP = {"auth.logout"}
"""Routes with no input at all (a sign-out posts nothing)."""

_text = st.text(st.characters(codec="utf-8"), max_size=40)
_control = st.text(st.characters(min_codepoint=0, max_codepoint=0x1F), min_size=1, max_size=10)
_huge = st.sampled_from(["x" * 70_000, "测" * 20_000, "9" * 5_000, "\u202e" * 1_000, "<" * 10_000])
_numbers = st.one_of(st.integers(-(2**70), 2**70).map(str),
                     st.floats(allow_nan=True, allow_infinity=True).map(repr),
                     st.sampled_from(["0", "-1", "1e309", "NaN", "0x10", "１２３", "1_000", " 7 ", "", "null"]))
_shapes = st.sampled_from(["2026-02-30", "9999-99-99T99:99", "true", "on", "[]", "{}", "{{7*7}}", "'; drop table x--",
                           "../../etc/passwd", "%00", "\r\nSet-Cookie: a=b", "<script>alert(1)</script>",
                           "//evil.example/", "javascript:alert(1)", "yes", "no", "abstain", "confirm", "dismiss"])
VALUE = st.one_of(_text, _control, _huge, _numbers, _shapes)


@st.composite
def form_data(draw, names: list[str]) -> MultiDict:
    """Some of ``names`` (and stray ones), each once, twice or as a file."""
    data = MultiDict()
    for name in draw(st.lists(st.sampled_from(names), max_size=8, unique=True)) + draw(
            st.lists(_text, max_size=1)):
        how = draw(st.sampled_from(["one", "one", "one", "two", "file"]))
        if how == "file":
            data.add(name, (io.BytesIO(draw(st.binary(max_size=64))), draw(_text) or "f.pdf"))
            continue
        for _ in range(2 if how == "two" else 1):
            data.add(name, draw(VALUE))
    return data


def _user_for(endpoint: str) -> str | None:
    for prefix, user in ROUTE_USER.items():
        if endpoint == prefix or (prefix.endswith(".") and endpoint.startswith(prefix)):
            return user
    return "admin"


def _url_for_rule(rule, ids: dict) -> str:
    values = {}
    for name in rule.arguments:
        values[name] = {"case_id": ids["case_a"], "attachment_id": ids["att_a"], "session_id": ids["session"],
                        "user_id": ids["user_a"], "org_id": ids["org_a"], "expert_id": ids["expert"],
                        "standard_id": ids["std"], "version": 1, "token_id": ids["token_a"],
                        "member_id": ids["conflicted"], "seat_id": 1, "trigger": "start_unit_notice",
                        "draft_id": ids["std_draft"]}.get(name, 1)
    return rule.build(values, append_unknown=False)[1]


def _fuzz(endpoint: str, url: str, client, names: list[str], failures: list[str]) -> None:
    """Post EXAMPLES generated forms to ``url``; any 5xx is recorded in ``failures``."""
    count = 0

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(form_data(names))
    def post(data):
        nonlocal count
        count += 1
        response = client.post(url, data=data, content_type="multipart/form-data")
        response.close()
        if response.status_code >= 500:
            failures.append(f"{endpoint} {url}: {response.status_code} for {dict(data.lists())!r:.300}")

    post()
    failures.append(f"ran {count} on {endpoint}")


def test_no_form_answers_500(app, cast):
    ids = objects(cast, app.config["UPLOAD_FOLDER"])
    app.config["LOGIN_FAILURES_PER_IP"] = "100000 per minute"
    clients: dict[str | None, Browser] = {}
    routes = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "POST" not in (rule.methods or ()) or rule.rule.startswith("/api/") or rule.endpoint in SKIP:
            continue
        routes.append((rule.endpoint, _url_for_rule(rule, ids)))
    assert len(routes) >= 30
    failures: list[str] = []
    for endpoint, url in routes:
        user = _user_for(endpoint)
        if user not in clients:
            b = Browser(app.test_client(), PASSWORD)
            clients[user] = b.login(user) if user else b
        client = clients[user].client
        page = client.get(url)
        names = sorted(set(FIELDS) | set(re.findall(r'name="([^"]+)"', page.get_data(as_text=True))))
        page.close()

        _fuzz(endpoint, url, client, names, failures)
    assert sum(1 for f in failures if f.startswith("ran ")) >= len(routes)
    failures = [f for f in failures if not f.startswith("ran ")]
    assert not failures, "\n".join(failures[:20])


def test_numbers_that_isdigit_accepts_but_int_refuses(app, cast):
    """Found by the fuzz: ``"²".isdigit()`` is True and ``int("²")`` raises; 5000 digits exceed int()'s limit."""
    ids = objects(cast, app.config["UPLOAD_FOLDER"])
    seated = Browser(app.test_client(), PASSWORD).login("expert1").client
    hr = Browser(app.test_client(), PASSWORD).login("other_hr").client
    admin = Browser(app.test_client(), PASSWORD).login("admin").client
    for raw in ("²", "①", "１", "9" * 5000, "9" * 30, "-1", " "):
        assert seated.post(f"/panel/cases/{ids['case_a']}/opinion", data={
            "recommendation": "yes", "score_performance": raw}).status_code < 500, raw
        assert seated.post(f"/panel/sessions/{ids['session']}/attendance", data={"user_id": raw}).status_code < 500
        assert hr.post(f"/cases/{ids['case_b']}/actions/start_unit_notice", data={"version": raw}).status_code < 500
        assert hr.get("/unit/", query_string={"page": raw}).status_code == 200
        assert admin.post(f"/admin/sessions/{ids['session']}/seats", data={"user_id": raw}).status_code < 500
