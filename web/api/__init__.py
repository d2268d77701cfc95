"""The REST API under ``/api/v1``: token-authenticated JSON over the same core as the pages.

Every request except certificate verification and the OpenAPI document carries ``Authorization: Bearer
<token>`` (see :mod:`workflow.access.api_tokens`); the token acts as its owner limited to its roles. Firing a
transition answers like the web's generic transition view: 404 (no such case) → 403 (not yours / not your
action) → 409 (stale version, not possible now, refused by a rule) → 422 (input missing or invalid). Every
error is ``application/problem+json`` with a Chinese ``title``/``detail`` (English with
``Accept-Language: en``). Requests and responses are validated by spectree, which also generates the
OpenAPI document served at ``/api/v1/openapi.json``. An endpoint that takes a body takes JSON only: any other
body answers 415 and JSON that does not parse 400, before the token is even looked at.
"""

from __future__ import annotations

import copy
import re
from functools import wraps
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, g, json, request
from spectree import Response as Resp
from spectree import SecurityScheme, SecuritySchemeData, SpecTree
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from workflow.access import api_tokens
from workflow.access.objector_privacy import is_objection_event, redact_objectors
from workflow.access.roles import Actor
from workflow.access.visibility import dossier_relations
from workflow.eligibility.standards_store import latest_standards, latest_version
from workflow.engine import commands
from workflow.errors import WorkflowError
from workflow.panel.ballot_keys import BallotShares
from workflow.pipeline.catalog import get_pipeline
from workflow.records import queries
from workflow.records.notices import result_notices

from ..extensions import get_db
from . import schemas as s
from .listing import visible_cases

PREFIX = "/api/v1"
_CERT_NUMBER = re.compile(r"^[A-Z0-9]{6,40}$")
PROBLEM = "application/problem+json"

bp = Blueprint("api_v1", __name__, url_prefix=PREFIX)

# (zh, en) titles per status and the fixed details the API itself gives.
TITLES = {
    400: ("请求无效", "Bad request"),
    401: ("未认证", "Unauthorized"),
    403: ("无权操作", "Forbidden"),
    404: ("不存在", "Not found"),
    405: ("不支持的请求方法", "Method not allowed"),
    409: ("操作无法完成", "Conflict"),
    415: ("不支持的内容类型", "Unsupported media type"),
    422: ("请求内容无效", "Unprocessable content"),
    500: ("系统出错", "Internal server error"),
}
TEXT = {
    "no_token": ("缺少或无效的 API 令牌（Authorization: Bearer <令牌>），或令牌已撤销。",
                 "Missing or invalid API token (Authorization: Bearer <token>), or the token was revoked."),
    "not_yours": commands.NOT_YOURS_TO_SEE,
    "no_certificate": ("未找到该编号的证书。", "No certificate with that number."),
    "no_standard": ("标准不存在。", "No such standard."),
    "no_route": ("接口不存在。", "No such endpoint."),
    "method": ("该接口不支持此请求方法。", "This endpoint does not support that method."),
    "invalid": ("请求参数或内容无效。", "The parameters or body are invalid."),
    "media_type": ("请求体须为 JSON（Content-Type: application/json）。",
                   "The request body must be JSON (Content-Type: application/json)."),
    "bad_json": ("请求体不是有效的 JSON。", "The request body is not valid JSON."),
}


def lang() -> str:
    """``en`` when the client prefers English, else ``zh`` (Chinese is the default)."""
    best = request.accept_languages.best_match(["zh", "zh-CN", "en"], default="zh")
    return "en" if best and best.startswith("en") else "zh"


def problem(status: int, detail: str | tuple[str, str] | None = None, *, reasons: list[str] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    """A problem+json response in the client's language."""
    en = lang() == "en"
    title = TITLES.get(status, ("出错了", "Error"))[1 if en else 0]
    if isinstance(detail, tuple):
        detail = detail[1 if en else 0]
    body = s.Problem(title=title, status=status, detail=detail or title, reasons=reasons or [])
    response = Response(body.model_dump_json(), status=status, mimetype=PROBLEM, headers=headers)
    response.headers["Content-Language"] = "en" if en else "zh-CN"
    return response


def fail(status: int, detail: str | tuple[str, str] | None = None, **kw) -> None:
    """Stop the request with a problem response (bypasses the page error handlers)."""
    abort(problem(status, detail, **kw))


def _before(req, resp, req_validation_error, instance, model_adapter) -> None:
    """Request validation errors become 422 problems that list the offending fields."""
    if req_validation_error is not None:
        reasons = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
                   for e in model_adapter.validation_errors(req_validation_error)]
        fail(422, TEXT["invalid"], reasons=reasons[:20])


spec = SpecTree(
    "flask", mode="strict", title="titlereview API", version="1.0.0", path="apidoc", page_templates={},
    openapi_version="3.0.3", before=_before, annotations=True,
    description="职称评审工作流 REST API。错误均为 application/problem+json；中文为默认语言，"
                "Accept-Language: en 返回英文。",
    security_schemes=[SecurityScheme(name="bearer", data=SecuritySchemeData(type="http", scheme="bearer"))],
    security={"bearer": []},
)

AUTH = {"HTTP_401": s.Problem, "HTTP_422": s.Problem}
"""Responses every token-protected endpoint may give."""

BODY_ERRORS = {"HTTP_400": s.Problem, "HTTP_415": s.Problem}
"""Responses every endpoint with a request body may give (see :func:`_json_bodies_only`)."""

JSON_TYPE = "application/json"


# --------------------------------------------------------------------------------------------- plumbing


def _db():
    return get_db()


def token_required(func):
    """Authenticate the bearer token into ``g.api_actor`` (401 problem otherwise)."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        actor = api_tokens.authenticate(_db(), secret.strip()) if scheme.lower() == "bearer" else None
        if actor is None:
            fail(401, TEXT["no_token"], headers={"WWW-Authenticate": 'Bearer realm="titlereview"'})
        g.api_actor = actor
        return func(*args, **kwargs)

    return wrapper


def _actor() -> Actor:
    return g.api_actor


@bp.before_app_request
def _routing_errors():
    """Unknown paths and wrong methods under /api/v1 answer with problems, not HTML pages."""
    err = request.routing_exception
    if err is None or (not request.path.startswith(PREFIX + "/") and request.path != PREFIX):
        return None
    if isinstance(err, MethodNotAllowed):
        return problem(405, TEXT["method"], headers={"Allow": ", ".join(err.valid_methods or [])})
    if isinstance(err, HTTPException) and err.code == 404:
        return problem(404, TEXT["no_route"])
    return None


def takes_body(endpoint: str | None) -> bool:
    """True when the view of ``endpoint`` reads a request body (a spectree ``json`` or ``form`` model)."""
    view = current_app.view_functions.get(endpoint) if endpoint else None
    meta = spec.get_function_metadata(view) if view is not None else None
    return meta is not None and (getattr(meta, "json", None) or getattr(meta, "form", None)) is not None


@bp.before_request
def _json_bodies_only():
    """A body that is not JSON answers 415, JSON that does not parse 400 — for endpoints that take a body.

    spectree reads a form-encoded or multipart body as no JSON at all (the view then fails on ``None``) and any
    other type, or JSON that does not parse, as an empty object — which would fire an action without the comment
    or version the client sent. An empty body without a type is no body: the endpoint's defaults apply.
    """
    if not takes_body(request.endpoint):
        return None  # endpoints without a body ignore one, as before
    has_body = bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if request.mimetype == JSON_TYPE:
        if has_body:
            try:
                json.loads(request.get_data(cache=True))
            except ValueError:
                return problem(400, TEXT["bad_json"])
        return None
    if has_body or request.mimetype:
        return problem(415, TEXT["media_type"], headers={"Accept-Post": JSON_TYPE})
    return None


@bp.errorhandler(WorkflowError)
def _workflow_error(err: WorkflowError):
    reasons = list(getattr(err, "reasons", []) or [])
    return problem(err.status, (err.message_zh, err.message_en), reasons=reasons)


@bp.errorhandler(HTTPException)
def _http_error(err: HTTPException):
    if err.response is not None:
        return err.response
    return problem(err.code or 500, (err.description or "", err.description or ""))


@bp.errorhandler(Exception)
def _unexpected(err: Exception):
    """A bug answers with a 500 problem (logged with its traceback), never an HTML page or internals."""
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return problem(500, ("服务器处理时出错，已记录。请稍后重试。",
                         "The server failed to handle the request; it was logged."))


def _label(pipeline, state: str) -> dict[str, str]:
    st = pipeline.state_map.get(state)
    return {"zh": st.label.zh, "en": st.label.en} if st else {"zh": state, "en": state}


def _summary(db, row: dict[str, Any]) -> dict[str, Any]:
    pipeline = get_pipeline(db, row["pipeline_id"], row["pipeline_version"])
    return {**row, "state_label": _label(pipeline, row["state"])}


def _load_case(case_id: int) -> dict[str, Any]:
    """The case with its names; a 404 problem when there is none (CaseNotFound, as for firing)."""
    return commands.load_case(_db(), case_id)


def _visible_case(case_id: int) -> tuple[dict[str, Any], list[str]]:
    """The case and the token's viewing relations; 404 when it does not exist, 403 when not visible."""
    db = _db()
    case = _load_case(case_id)
    relations = dossier_relations(db, _actor(), case)[0]
    if not relations:
        fail(403, TEXT["not_yours"])
    return case, relations


# --------------------------------------------------------------------------------------------- cases


@bp.get("/cases")
@token_required
@spec.validate(query=s.CaseQuery, resp=Resp(HTTP_200=s.CaseList, **AUTH), tags=["cases"])
def list_cases(query: s.CaseQuery):
    """Cases the token may see, most recently changed first, filtered and paged (``total`` counts all)."""
    db = _db()
    rows, total = visible_cases(db, _actor(), state=query.state, pipeline=query.pipeline, session=query.session,
                                search=query.q or "", limit=query.limit, offset=query.offset)
    items = [_summary(db, r) for r in rows]
    return s.CaseList(items=items, total=total, limit=query.limit, offset=query.offset)


CASE_ERRORS = {"HTTP_403": s.Problem, "HTTP_404": s.Problem, **AUTH}


@bp.get("/cases/<int(signed=True):case_id>")
@token_required
@spec.validate(resp=Resp(HTTP_200=s.CaseDetail, **CASE_ERRORS), tags=["cases"])
def get_case(case_id: int):
    """One case with its people and organisations."""
    case, relations = _visible_case(case_id)
    db = _db()
    with db.read() as conn:
        cert = queries.certificate_for_case(conn, case_id)
    return s.CaseDetail(**_summary(db, case), relations=relations,
                        certificate_number=cert["number"] if cert else None)


_EVENT_DETAILS = ("reason", "corrections", "assessment", "deadline", "certificate_number", "round")
"""Payload keys shown to viewers. Tallies stay out (the page shows them; the API keeps ballots out)."""


@bp.get("/cases/<int(signed=True):case_id>/events")
@token_required
@spec.validate(resp=Resp(HTTP_200=s.EventList, **CASE_ERRORS), tags=["cases"])
def case_events(case_id: int):
    """The case's history, oldest first."""
    case, _relations = _visible_case(case_id)
    db = _db()
    with db.read() as conn:
        rows = queries.timeline(conn, case_id)
        if any(is_objection_event(r) for r in rows):
            pipeline = get_pipeline(db, case["pipeline_id"], case["pipeline_version"])
            rows = redact_objectors(conn, pipeline, _actor(), case, rows)
    items = [s.Event(**{**r, "details": {k: r["payload"][k] for k in _EVENT_DETAILS if k in (r["payload"] or {})}})
             for r in rows]
    return s.EventList(items=items)


@bp.get("/cases/<int(signed=True):case_id>/actions")
@token_required
@spec.validate(resp=Resp(HTTP_200=s.ActionList, **CASE_ERRORS), tags=["actions"])
def case_actions(case_id: int):
    """What the token may do on the case now (and permitted actions a rule refuses, with the reasons).

    Outsiders see only the named objection open during a notice they may see (:func:`workflow.engine.commands.
    offered_actions`, the same rule as firing)."""
    case, options = commands.offered_actions(_db(), _actor(), case_id)
    return s.ActionList(case_version=case["version"], items=[
        s.ActionOption(trigger=o.trigger, label=o.label, style=o.style, requires=list(o.requires),
                       allowed=o.allowed, reasons=list(o.reasons)) for o in options])


@bp.post("/cases/<int(signed=True):case_id>/actions/<trigger>")
@token_required
@spec.validate(json=s.FireRequest, resp=Resp(HTTP_200=s.Fired, HTTP_409=s.Problem, **CASE_ERRORS, **BODY_ERRORS),
               tags=["actions"])
def fire(case_id: int, trigger: str, json: s.FireRequest):
    """Fire ``trigger`` on the case: the web page's command (:mod:`workflow.engine.commands`), 404 → 403 → 409 → 422."""
    secrets = None
    if json.ballot_shares is not None:
        # Beside the data, never in it: the engine records data and must not record the key shares.
        secrets = {"ballot_shares": BallotShares(json.ballot_shares.chair, json.ballot_shares.officer)}
    submission = commands.Submission(comment=json.comment, data=json.data.model_dump(exclude_none=True),
                                     expected_version=json.expected_version, secrets=secrets)
    fired = commands.act(_db(), _actor(), case_id, trigger, submission).fired
    return s.Fired(case_id=fired.case_id, trigger=fired.trigger, from_state=fired.from_state,
                   to_state=fired.to_state, version=fired.version, role=fired.role)


# --------------------------------------------------------------------------------------------- reference data


@bp.get("/notices")
@token_required
@spec.validate(resp=Resp(HTTP_200=s.NoticeList, **AUTH), tags=["public"])
def notices():
    """Review results currently on public notice (公示), with the end of each notice."""
    with _db().read() as conn:
        rows = result_notices(_db(), conn)
    return s.NoticeList(items=[s.Notice(case_id=r["id"], **r) for r in rows])


@bp.get("/certificates/<number>")
@spec.validate(resp=Resp(HTTP_200=s.CertificateOut, HTTP_404=s.Problem), tags=["public"], security={})
def certificate(number: str):
    """Verify a certificate by its number (public: no token needed); a malformed number is simply unknown."""
    number = number.strip().upper().replace(" ", "")
    row = None
    if _CERT_NUMBER.match(number):
        with _db().read() as conn:
            row = queries.certificate_by_number(conn, number)
    if row is None:
        fail(404, TEXT["no_certificate"])
    return s.CertificateOut(**row)


@bp.get("/sessions")
@token_required
@spec.validate(resp=Resp(HTTP_200=s.SessionList, **AUTH), tags=["reference"])
def sessions():
    """Review sessions, newest year first."""
    with _db().read() as conn:
        rows = queries.sessions(conn)
    return s.SessionList(items=[s.SessionOut(**r) for r in rows])


def _standard_summary(std) -> dict[str, Any]:
    return {"id": std.id, "version": std.version, "name": {"zh": std.name.zh, "en": std.name.en},
            "series": std.series, "specialty": std.specialty, "level": str(std.level), "title": std.title,
            "effective_from": std.effective_from, "effective_until": std.effective_until}


@bp.get("/standards")
@token_required
@spec.validate(resp=Resp(HTTP_200=s.StandardList, **AUTH), tags=["reference"])
def standards():
    """The newest published version of every occupation standard."""
    return s.StandardList(items=[s.StandardSummary(**_standard_summary(x)) for x in latest_standards(_db())])


@bp.get("/standards/<standard_id>")
@token_required
@spec.validate(resp=Resp(HTTP_200=s.StandardOut, HTTP_404=s.Problem, **AUTH), tags=["reference"])
def standard(standard_id: str):
    """One standard (newest version) in full."""
    from workflow.eligibility.standards_store import get_standard

    with _db().read() as conn:
        version = latest_version(conn, standard_id)
        std = get_standard(conn, standard_id, version) if version is not None else None
    if std is None:
        fail(404, TEXT["no_standard"])
    return s.StandardOut(**_standard_summary(std), body=std.model_dump(mode="json"))


# --------------------------------------------------------------------------------------------- the document


def openapi_document() -> dict[str, Any]:
    """spectree's generated document, with error responses typed ``application/problem+json``."""
    doc = copy.deepcopy(spec.spec)
    for item in doc.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for code, response in operation.get("responses", {}).items():
                content = response.get("content")
                if code[:1] in "45" and content and "application/json" in content:
                    response["content"] = {PROBLEM: content.pop("application/json")}
    return doc


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 document of this API (generated from the code by spectree)."""
    return Response(json.dumps(openapi_document(), ensure_ascii=False), mimetype="application/json")


spec.register(bp)


def init_api(app: Flask) -> None:
    """Register the API on ``app``: the blueprint, spectree, and no CSRF (token-authenticated, no cookies)."""
    from ..extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
