"""The access-control matrix: every route of ``app.url_map`` × every method × every kind of principal.

Each row names an endpoint, a method and a URL built from real objects (A's and B's cases, an attachment, a
case under public notice, a case before the committee), and the outcome each principal must get. Rows for the
same endpoint with objects of different owners exercise object-level checks (IDOR). A route that has no row
fails the test with its name, so a new route cannot ship without someone deciding who may use it.

Outcomes: an HTTP status, ``LOGIN`` (redirect to the sign-in page), ``PASS`` (got past the access checks: a
2xx/3xx that is not the sign-in redirect, or a 4xx that is about the input — 400/409/422 — never 401/403/404),
``DENY`` (403 or 404: refused without saying more). POSTs carry no input, so an allowed principal is refused
for missing input and nothing changes; state-changing routes are proven not to act for denied principals.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date

import pytest
from webhelpers import PASSWORD, Browser

from seed.cast import World, upload_required_materials
from web.standards_form import document_of
from workflow.access import api_tokens
from workflow.access.passwords import hash_password
from workflow.directory import actor_for, create_user
from workflow.eligibility import standards_drafts
from workflow.eligibility.standards import DEFINITIONS_DIR, STANDARDS_DIR, load_standard_yaml
from workflow.eligibility.standards_store import get_standard, latest_version
from workflow.engine import core as engine
from workflow.models import CommitteeSeat, Expert, User
from workflow.pipeline.schema import load_pipeline_dir
from workflow.records import attachments as attachment_store

LOGIN, PASS, DENY = "LOGIN", "PASS", "DENY"
PDF = b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

PRINCIPALS = ("anon", "A", "B", "hrA", "hrB", "agency", "officer", "seated", "unseated", "conflicted", "admin")
"""anonymous; applicant A (zhang) and B (li); A's unit HR and B's; the fallback agency; an authority officer;
a seated, an unseated and a conflicted (employed by A's employer) panel member; an administrator."""

USERNAMES = {"A": "zhang", "B": "li", "hrA": "unit_hr", "hrB": "other_hr", "agency": "agency", "officer": "officer",
             "seated": "expert1", "unseated": "loose_expert", "conflicted": "conflicted_expert", "admin": "admin"}

SKIP_ENDPOINTS = {"static", "bootstrap.static"}
"""Static files: public by design (no data), checked in test_static_files_are_public."""


def everyone(outcome, **overrides) -> dict[str, object]:
    """``outcome`` for every principal except those named."""
    table = {p: outcome for p in PRINCIPALS}
    table.update(overrides)
    return table


def only(allowed: tuple[str, ...], ok=PASS, other=403) -> dict[str, object]:
    """Signed-in principals in ``allowed`` get ``ok``, the others ``other``; anonymous is sent to sign in."""
    return {p: LOGIN if p == "anon" else ok if p in allowed else other for p in PRINCIPALS}


PANEL = ("seated", "unseated", "conflicted")
ADMIN_ONLY = only(("admin",))

# (endpoint, method, url template, outcomes). Templates use the objects of :func:`objects`.
MATRIX: list[tuple[str, str, str, dict[str, object]]] = [
    # public pages
    ("public.index", "GET", "/", everyone(200)),
    ("public.notices", "GET", "/notices", everyone(200)),
    ("public.verify", "GET", "/verify", everyone(200)),
    # an unknown number for everyone; who may fetch a real certificate: tests/web/test_web_certificate_pdf.py
    ("public.certificate_pdf", "GET", "/verify/HN0000000000/certificate.pdf", everyone(404)),
    ("public.audit_checkpoints", "GET", "/audit-checkpoints", everyone(200)),  # signed digests: public by design
    ("public.audit_checkpoints_file", "GET", "/audit-checkpoints.jsonl", everyone(200)),
    ("public.objection", "GET", "/notices/{notice}/objection",
     everyone(404, anon=LOGIN, A=200, hrA=200)),  # a unit notice: those its print page allows only
    ("public.objection", "GET", "/notices/{case_a}/objection", everyone(404, anon=LOGIN)),  # not under notice
    ("public.unit_notices", "GET", "/unit-notices", everyone(200, anon=LOGIN)),
    ("public.notice_print", "GET", "/notices/{notice}/print", everyone(404)),  # on the unit notice, not public
    ("public.unit_notice_print", "GET", "/unit-notices/{notice}/print",
     everyone(404, anon=LOGIN, A=200, hrA=200)),  # the staff of A's employer only
    ("public.unit_notice_print", "GET", "/unit-notices/{case_b}/print", everyone(404, anon=LOGIN)),
    # signing in, language, own account
    ("auth.login", "GET", "/login", everyone(302, anon=200)),
    ("auth.login", "POST", "/login", everyone(422)),
    ("auth.set_language", "GET", "/lang/en", everyone(303)),
    ("auth.account", "GET", "/account", everyone(200, anon=LOGIN)),
    ("auth.account", "POST", "/account", everyone(422, anon=LOGIN)),
    # areas
    ("applicant.home", "GET", "/applicant/", only(("A", "B"), 200)),
    ("applicant.profile", "GET", "/applicant/profile", only(("A", "B"), 200)),
    ("applicant.profile", "POST", "/applicant/profile", only(("A", "B"))),
    ("applicant.new_case", "GET", "/applicant/cases/new", only(("A", "B"), 200)),
    ("applicant.new_case", "POST", "/applicant/cases/new", only(("A", "B"))),
    ("applicant.edit_case", "GET", "/applicant/cases/{draft_a}/edit", only(("A",), 200, 403) | {"B": 403}),
    ("applicant.edit_case", "POST", "/applicant/cases/{draft_a}/edit", only(("A",), PASS, 403)),
    ("applicant.edit_case", "GET", "/applicant/cases/{case_b}/edit", only(("B",), PASS, 403)),
    ("applicant.upload", "POST", "/applicant/cases/{draft_a}/materials", only(("A",), 422, 403)),
    ("applicant.upload", "POST", "/applicant/cases/{case_b}/materials", only(("B",), PASS, 403)),
    ("applicant.remove_material", "POST", "/applicant/cases/{case_a}/materials/{att_a}/remove",
     only(("A",), 409, DENY)),
    ("applicant.remove_material", "POST", "/applicant/cases/{case_b}/materials/{att_a}/remove",
     only(("A", "B"), 404, 403)),
    ("unit.inbox", "GET", "/unit/", only(("hrA", "hrB", "agency"), 200)),
    ("unit.superior_inbox", "GET", "/unit/superior", only((), 200)),
    ("authority.inbox", "GET", "/authority/", only(("officer",), 200)),
    ("authority.certificates", "GET", "/authority/certificates", only(("officer",), 200)),
    ("reports.index", "GET", "/reports/", only(("officer", "admin"), 200)),
    ("reports.index", "GET", "/reports/?format=xlsx", only(("officer", "admin"), 200)),
    ("reports.index", "GET", "/reports/?from=2026-02-30", only(("officer", "admin"), 400)),
    ("reports.export_authority_inbox", "GET", "/reports/export/authority-inbox", only(("officer",), 200)),
    ("reports.export_certificates", "GET", "/reports/export/certificates", only(("officer",), 200)),
    ("reports.export_unit_inbox", "GET", "/reports/export/unit-inbox", only(("hrA", "hrB", "agency"), 200)),
    ("reports.export_my_cases", "GET", "/reports/export/my-cases", only(("A", "B"), 200)),
    ("reports.export_users", "GET", "/reports/export/users", only(("admin",), 200)),
    ("reports.export_orgs", "GET", "/reports/export/orgs", only(("admin",), 200)),
    ("reports.export_sessions", "GET", "/reports/export/sessions", only(("admin",), 200)),
    # live process view (officers see their authority's cases, administrators all)
    ("process.index", "GET", "/reports/process/", only(("officer", "admin"), 200)),
    ("process.version", "GET", "/reports/process/industry-session/{pipeline_version}", only(("officer", "admin"), 200)),
    ("process.version", "GET", "/reports/process/no-such-pipeline/1", only(("officer", "admin"), 404)),
    ("process.state_cases", "GET", "/reports/process/industry-session/{pipeline_version}/committee_vote",
     only(("officer", "admin"), 200)),
    ("process.state_cases", "GET", "/reports/process/industry-session/{pipeline_version}/committee_vote?format=xlsx",
     only(("officer", "admin"), 200)),
    ("process.state_cases", "GET", "/reports/process/industry-session/{pipeline_version}/no_such_state",
     only(("officer", "admin"), 404)),
    ("panel.home", "GET", "/panel/", only(PANEL, 200)),
    ("panel.session", "GET", "/panel/sessions/{session}", only(("seated", "conflicted", "officer", "admin"), 200)),
    ("panel.minutes", "GET", "/panel/sessions/{session}/minutes",
     only(("seated", "conflicted", "officer", "admin"), 200)),
    ("panel.open_sitting", "POST", "/panel/sessions/{session}/sitting/open", only(())),
    ("panel.close_sitting", "POST", "/panel/sessions/{session}/sitting/close", only(())),
    ("panel.attendance", "POST", "/panel/sessions/{session}/attendance", only(("seated", "conflicted"))),
    # ballot sheets (seated members only, no proxies) and the agenda (the chair and the session's organisers)
    ("ballot_sheets.sheet", "GET", "/panel/sessions/{session}/sheet", only(("seated", "conflicted"), 200)),
    ("ballot_sheets.submit", "POST", "/panel/sessions/{session}/sheet", only(("seated", "conflicted"))),
    ("ballot_sheets.agenda", "GET", "/panel/sessions/{session}/agenda", only(("officer", "admin"), 200)),
    ("ballot_sheets.open_ballots", "POST", "/panel/sessions/{session}/ballots/open", only(())),
    ("ballot_sheets.close_ballots", "POST", "/panel/sessions/{session}/ballots/close", only(())),
    ("panel.assign", "POST", "/panel/cases/{case_a}/reviewers", only(("officer", "admin"))),
    ("panel.schedule_defence", "POST", "/panel/cases/{case_a}/defence/schedule", only(("officer", "admin"))),
    ("panel.record_defence", "POST", "/panel/cases/{case_a}/defence/record", only(("officer", "admin"))),
    ("panel.opinion", "POST", "/panel/cases/{case_a}/opinion", only(("seated",), 422, 403)),
    ("panel.vote", "POST", "/panel/cases/{case_a}/vote", only(("seated",), 422, 403)),
    ("panel.vote", "POST", "/panel/cases/{case_b}/vote", only((), 403, 403)),
    # cases: page, actions, materials
    ("cases.show", "GET", "/cases/{case_a}", only(("A", "hrA", "officer", "seated", "admin"), 200)),
    ("cases.show", "GET", "/cases/{case_b}", only(("B", "hrB", "officer", "admin"), 200)),
    ("cases.show", "GET", "/cases/{draft_a}", only(("A", "admin"), 200)),
    ("cases.show", "GET", "/cases/{fallback}", only(("A", "agency", "officer", "admin"), 200)),
    ("cases.show", "GET", "/cases/999999", only((), 404, 404)),
    ("cases.act", "POST", "/cases/{case_a}/actions/close_ballot", only(())),  # the chair's, no one here
    ("cases.act", "POST", "/cases/{case_b}/actions/withdraw", only(("B",))),
    ("cases.act", "POST", "/cases/{case_b}/actions/start_unit_notice", only(("hrB",))),
    ("cases.act", "POST", "/cases/{draft_a}/actions/submit", only(("A",))),
    ("cases.download", "GET", "/cases/{case_a}/materials/{att_a}",
     only(("A", "hrA", "officer", "seated", "admin"), 200)),
    ("cases.download", "GET", "/cases/{case_b}/materials/{att_a}", only(("B", "hrB", "officer", "admin"), 404)),
    ("cases.messages", "GET", "/messages", everyone(200, anon=LOGIN)),
    ("cases.mark_messages_read", "POST", "/messages/read", everyone(303, anon=LOGIN)),
    ("todo.index", "GET", "/todo", everyone(200, anon=LOGIN)),  # each sees only their own (test_web_todo.py)
    # a display preference, for visitors too: an empty form changes nothing and says so (test_elder_mode_switch.py)
    ("display.switch_elder_mode", "POST", "/display/elder-mode", everyone(303)),
    # administration
    ("admin.home", "GET", "/admin/", only(("admin",), 200)),
    ("admin.users", "GET", "/admin/users", only(("admin",), 200)),
    ("admin.new_user", "GET", "/admin/users/new", only(("admin",), 200)),
    ("admin.new_user", "POST", "/admin/users/new", ADMIN_ONLY),
    ("admin.edit_user", "GET", "/admin/users/{user_a}", only(("admin",), 200)),
    ("admin.edit_user", "POST", "/admin/users/{user_a}", ADMIN_ONLY),
    ("admin.reset_password", "POST", "/admin/users/{user_a}/password", ADMIN_ONLY),
    ("admin.clear_sign_in_lock", "POST", "/admin/users/{user_a}/sign-in-lock/clear", ADMIN_ONLY),
    ("admin.orgs", "GET", "/admin/orgs", only(("admin",), 200)),
    ("admin.new_org", "GET", "/admin/orgs/new", only(("admin",), 200)),
    ("admin.new_org", "POST", "/admin/orgs/new", ADMIN_ONLY),
    ("admin.edit_org", "GET", "/admin/orgs/{org_a}", only(("admin",), 200)),
    ("admin.edit_org", "POST", "/admin/orgs/{org_a}", ADMIN_ONLY),
    ("admin.sessions", "GET", "/admin/sessions", only(("admin",), 200)),
    ("admin.new_session", "GET", "/admin/sessions/new", only(("admin",), 200)),
    ("admin.new_session", "POST", "/admin/sessions/new", ADMIN_ONLY),
    ("admin.edit_session", "GET", "/admin/sessions/{session}", only(("admin",), 200)),
    ("admin.edit_session", "POST", "/admin/sessions/{session}", ADMIN_ONLY),
    ("admin.add_seat", "POST", "/admin/sessions/{session}/seats", ADMIN_ONLY),
    ("admin.remove_seat", "POST", "/admin/sessions/{session}/seats/999999/remove", ADMIN_ONLY),
    ("calendar_admin.page", "GET", "/admin/calendar", only(("admin",), 200)),
    ("calendar_admin.add", "POST", "/admin/calendar/overrides", ADMIN_ONLY),
    ("calendar_admin.remove", "POST", "/admin/calendar/overrides/2026-10-01/remove", ADMIN_ONLY),
    ("calendar_admin.check", "GET", "/admin/calendar/check?start=2026-09-30&days=5", only(("admin",), 200)),
    # experts, committees, conflicts
    ("experts.index", "GET", "/admin/experts/", only(("admin",), 200)),
    ("experts.new", "GET", "/admin/experts/new", only(("admin",), 200)),
    ("experts.new", "POST", "/admin/experts/new", ADMIN_ONLY),
    ("experts.edit", "GET", "/admin/experts/{expert}", only(("admin",), 200)),
    ("experts.edit", "POST", "/admin/experts/{expert}", ADMIN_ONLY),
    ("experts.retire", "POST", "/admin/experts/999999/retire", ADMIN_ONLY),
    ("experts.import_", "GET", "/admin/experts/import", only(("admin",), 200)),
    ("experts.import_", "POST", "/admin/experts/import", ADMIN_ONLY),
    ("experts.template", "GET", "/admin/experts/template.csv", only(("admin",), 200)),
    ("experts.export", "GET", "/admin/experts/export.csv", only(("admin",), 200)),
    ("committee.index", "GET", "/admin/committees", only(("admin",), 200)),
    ("committee.show", "GET", "/admin/sessions/{session}/committee", only(("admin",), 200)),
    ("committee.draw", "POST", "/admin/sessions/{session}/committee/draw", ADMIN_ONLY),
    ("committee.replacement", "POST", "/admin/sessions/{session}/committee/replacement", ADMIN_ONLY),
    ("committee.chair", "POST", "/admin/sessions/{session}/committee/chair", ADMIN_ONLY),
    ("committee.declare", "GET", "/panel/cases/{case_a}/conflict", only(("seated", "conflicted"), 200)),
    ("committee.declare", "POST", "/panel/cases/{case_a}/conflict", only(("seated", "conflicted"), 422)),
    ("committee.declare", "GET", "/panel/cases/{case_b}/conflict", only(("seated", "conflicted"), 200)),
    ("committee.review", "GET", "/panel/cases/{case_a}/conflicts", only(("admin",), 200)),
    ("committee.decide", "POST", "/panel/cases/{case_a}/conflicts/{conflicted}", only(("admin",), 422)),
    # standards editor and the applicant's pre-check
    ("standards.index", "GET", "/admin/standards/", only(("admin",), 200)),
    ("standards.latest", "GET", "/admin/standards/{std}", only(("admin",), PASS)),
    ("standards.show", "GET", "/admin/standards/{std}/v{std_version}", only(("admin",), 200)),
    ("standards.export", "GET", "/admin/standards/{std}/v{std_version}/export", only(("admin",), 200)),
    ("standards.preview", "GET", "/admin/standards/{std}/v{std_version}/preview", only(("admin",), 200)),
    ("standards.preview", "POST", "/admin/standards/{std}/v{std_version}/preview", ADMIN_ONLY),
    ("standards.new", "GET", "/admin/standards/new", only(("admin",), 200)),
    ("standards.create_draft", "POST", "/admin/standards/new", ADMIN_ONLY),
    ("standards.draft", "GET", "/admin/standards/drafts/{std_draft}", only(("admin",), 200)),
    ("standards.draft", "POST", "/admin/standards/drafts/{std_draft}", ADMIN_ONLY),
    ("standards.edit", "GET", "/admin/standards/{std}/edit", only(("admin",), PASS)),  # → its open draft
    ("standards.edit", "POST", "/admin/standards/{std}/edit", ADMIN_ONLY),
    ("standards.import_yaml", "GET", "/admin/standards/import", only(("admin",), 200)),
    ("standards.import_yaml", "POST", "/admin/standards/import", ADMIN_ONLY),
    ("standards_versions.compare", "GET", "/admin/standards/compare?left={std}@{std_version}&right={std}",
     only(("admin",), 200)),
    ("standards.precheck", "GET", "/applicant/precheck", only(("A", "B"), 200)),
    # API tokens (cookie-authenticated pages) and the token-authenticated API: a session cookie is no token
    ("tokens.index", "GET", "/account/tokens", everyone(200, anon=LOGIN)),
    ("tokens.create", "POST", "/account/tokens", everyone(422, anon=LOGIN)),
    ("tokens.revoke", "POST", "/account/tokens/{token_a}/revoke", everyone(303, anon=LOGIN)),
    ("api_v1.list_cases", "GET", "/api/v1/cases", everyone(401)),
    ("api_v1.get_case", "GET", "/api/v1/cases/{case_a}", everyone(401)),
    ("api_v1.case_events", "GET", "/api/v1/cases/{case_a}/events", everyone(401)),
    ("api_v1.case_actions", "GET", "/api/v1/cases/{case_a}/actions", everyone(401)),
    ("api_v1.fire", "POST", "/api/v1/cases/{case_a}/actions/withdraw", everyone(401)),
    ("api_v1.notices", "GET", "/api/v1/notices", everyone(401)),
    ("api_v1.certificate", "GET", "/api/v1/certificates/NO-SUCH-1", everyone(404)),
    ("api_v1.sessions", "GET", "/api/v1/sessions", everyone(401)),
    ("api_v1.standards", "GET", "/api/v1/standards", everyone(401)),
    ("api_v1.standard", "GET", "/api/v1/standards/{std}", everyone(401)),
    ("api_v1.openapi", "GET", "/api/v1/openapi.json", everyone(200)),
    ("api_v1.openapi_apidoc", "GET", "/api/v1/apidoc/openapi.json", everyone(200)),
    # near the end: it ends every session of the unseated expert, whose only later row is the sign-out
    ("admin.sign_out_everywhere", "POST", "/admin/users/{loose}/sign-out", ADMIN_ONLY),
    # last: signing out ends the session used by the rows above
    ("auth.logout", "POST", "/logout", everyone(303)),
]


def objects(world: World, folder: str) -> dict[str, object]:
    """Real objects of known owners for the URL templates (files written under ``folder``)."""
    from driver import advance

    from web.uploads import path_of

    db = world.db
    with db.session(write=True) as s:
        loose = create_user(s, "loose_expert", "未聘专家", ["panel_member"]).id
        conflicted = create_user(s, "conflicted_expert", "同单位专家", ["panel_member"], org=None).id
        expert = Expert(code="conf-0001", user_id=conflicted, name="同单位专家", specialties=["轨道交通装备"],
                     series="工程", level="正高", employer_org_id=world.employer, term_start=date(2024, 1, 1),
                     term_end=date(2030, 12, 31))
        s.add(expert)
        s.add(CommitteeSeat(session_id=world.session_id, user_id=conflicted, seat_role="member"))
        s.flush()
        for uid in (loose, conflicted):
            s.get(User, uid).password_hash = hash_password(PASSWORD)
        world.members.append(actor_for(s, conflicted))
        expert_id = expert.id
    case_a = world.open("industry-session")
    stored_name = secrets.token_hex(16) + ".pdf"
    path = path_of(folder, stored_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PDF)
    att_a = attachment_store.add_attachment(db, case_a, world.applicant, category=next(iter(
        attachment_store.CATEGORIES)), original_name="证书.pdf", stored_name=stored_name,
        content_type="application/pdf", size=len(PDF), sha256=hashlib.sha256(PDF).hexdigest())
    advance(world, case_a, "committee_vote")
    draft_a = world.open("industry-session")
    notice = world.open("industry-session")
    advance(world, notice, "unit_notice")
    fallback = world.open("fallback-filing", data={"account_evidence": {
        "kind": "labour_contract", "contract_months": 12, "social_insurance": True}})
    engine.fire(db, fallback, "submit", world.applicant)
    case_b = engine.open_case(db, world.other_applicant, pipeline_id="industry-session",
                              unit_org_id=world.other_employer, employer_org_id=world.other_employer,
                              authority_org_id=world.authority, superior_org_ids=[], session_id=world.session_id,
                              series="工程", specialty="轨道交通装备", level="副高", target_title="高级工程师",
                              standard_id="hunan-sme-advanced-manufacturing-senior")
    upload_required_materials(db, case_b, world.other_applicant)
    engine.fire(db, case_b, "submit", world.other_applicant)
    token_a = api_tokens.create_token(db, world.applicant.user_id, "A's token", ["applicant"]).id
    with db.read() as conn:
        hunan = get_standard(conn, "hunan-sme-advanced-manufacturing-senior",
                             latest_version(conn, "hunan-sme-advanced-manufacturing-senior"))
    std_draft = standards_drafts.save_draft(db, draft_id=None, body=document_of(hunan),
                                            base=(hunan.id, hunan.version), by_user_id=world.admin.user_id,
                                            expected_lock=None).id
    return {"case_a": case_a, "att_a": att_a, "draft_a": draft_a, "notice": notice, "fallback": fallback,
            "case_b": case_b, "session": world.session_id, "user_a": world.applicant.user_id,
            "org_a": world.employer, "loose": loose, "conflicted": conflicted, "expert": expert_id,
            "std": "hunan-sme-advanced-manufacturing-senior", "token_a": token_a, "std_draft": std_draft,
            # the seeded versions, whatever number the definitions have reached
            "std_version": load_standard_yaml(STANDARDS_DIR / "hunan-sme-advanced-manufacturing-senior.yaml").version,
            "pipeline_version": load_pipeline_dir(DEFINITIONS_DIR / "pipelines")["industry-session"][0].version}


def classify(response) -> object:
    """The outcome a response stands for, in the terms of the table."""
    code = response.status_code
    if code in (301, 302, 303) and "/login" in response.headers.get("Location", ""):
        return LOGIN
    return code


def matches(expected: object, response) -> bool:
    """True when the response is the expected outcome."""
    got = classify(response)
    if expected == LOGIN:
        return got == LOGIN
    if expected == DENY:
        return got in (403, 404)
    if expected == PASS:
        return got != LOGIN and (got < 400 or got in (400, 409, 413, 422))
    return got == expected


def test_every_route_has_a_row(app):
    """A route (endpoint and method) missing from the table fails here, named."""
    covered = {(endpoint, method) for endpoint, method, _, _ in MATRIX}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) not in covered:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, "routes without a row in the access matrix (tests/web/test_access_matrix.py): " + \
        ", ".join(missing)


def test_rows_name_only_existing_routes(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    stale = sorted({endpoint for endpoint, _, _, _ in MATRIX} - endpoints)
    assert not stale, f"rows for routes that no longer exist: {stale}"


def test_the_matrix(app, cast):
    ids = objects(cast, app.config["UPLOAD_FOLDER"])
    clients = {"anon": Browser(app.test_client(), PASSWORD)}
    for principal, username in USERNAMES.items():
        clients[principal] = Browser(app.test_client(), PASSWORD).login(username)
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    failures, checked = [], 0
    for endpoint, method, template, outcomes in MATRIX:
        if endpoint not in endpoints:
            continue  # reported by test_rows_name_only_existing_routes
        url = template.format(**ids)
        for principal in PRINCIPALS:
            response = clients[principal].client.open(url, method=method, data={})
            response.close()
            checked += 1
            expected = outcomes[principal]
            if not matches(expected, response):
                failures.append(f"{method} {url} ({endpoint}) as {principal}: expected {expected}, "
                                f"got {classify(response)}")
            assert response.status_code != 500, f"{method} {url} as {principal}: 500"
    assert not failures, f"{len(failures)} of {checked} checks failed:\n" + "\n".join(failures)


def test_methods_not_in_the_map_are_405(browser):
    b = browser("zhang")
    assert b.client.delete("/cases/1").status_code == 405
    assert b.client.put("/account").status_code == 405
    assert b.get("/logout").status_code == 405


def test_static_files_are_public(browser):
    response = browser().get("/bootstrap/static/css/bootstrap.min.css")
    response.close()
    assert response.status_code == 200


@pytest.mark.parametrize("principal", ["B", "hrB", "unseated", "conflicted"])
def test_denied_principals_change_nothing(app, cast, principal):
    """Forbidden actions on A's case leave it exactly as it was."""
    from webhelpers import case_state, case_version

    ids = objects(cast, app.config["UPLOAD_FOLDER"])
    b = Browser(app.test_client(), PASSWORD).login(USERNAMES[principal])
    before = case_state(cast.db, ids["case_a"]), case_version(cast.db, ids["case_a"])
    for trigger in ("withdraw", "open_ballot", "close_ballot"):
        b.post(f"/cases/{ids['case_a']}/actions/{trigger}", data={"version": str(before[1]), "reason": "x" * 20})
    b.post(f"/panel/cases/{ids['case_a']}/vote", data={"choice": "yes"})
    b.post(f"/applicant/cases/{ids['case_a']}/materials/{ids['att_a']}/remove")
    assert (case_state(cast.db, ids["case_a"]), case_version(cast.db, ids["case_a"])) == before


def test_a_token_is_revoked_only_by_its_owner(app, cast):
    """Revoking someone else's token id (IDOR) does nothing; the API keeps accepting it."""
    token = api_tokens.create_token(cast.db, cast.applicant.user_id, "A's token", ["applicant"])
    b = Browser(app.test_client(), PASSWORD).login("li")
    b.post(f"/account/tokens/{token.id}/revoke")
    assert api_tokens.authenticate(cast.db, token.secret) is not None
    api = app.test_client()
    assert api.get("/api/v1/cases", headers={"Authorization": f"Bearer {token.secret}"}).status_code == 200
    Browser(app.test_client(), PASSWORD).login("zhang").post(f"/account/tokens/{token.id}/revoke")
    assert api.get("/api/v1/cases", headers={"Authorization": f"Bearer {token.secret}"}).status_code == 401


def test_the_api_ignores_the_session_cookie(app, cast):
    """A signed-in browser gets no API access from its cookie (the API is token-only, hence no CSRF)."""
    b = Browser(app.test_client(), PASSWORD).login("admin")
    assert b.get("/api/v1/cases").status_code == 401
