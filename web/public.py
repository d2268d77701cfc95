"""Pages for everyone: the portal, result notices (公示) with named objections, certificate verification,
and — for signed-in staff of a unit — the unit's own internal notices."""

from __future__ import annotations

import os
import re
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user, login_required

from workflow.engine.core import effective_params
from workflow.pipeline.catalog import get_pipeline, screen_state
from workflow.records import queries
from workflow.records.attachments import objection_trigger
from workflow.records.certificate_pdf import (
    code_matches,
    find_cjk_font,
    may_fetch_without_code,
    normalise_number,
    render_certificate_pdf,
    verification_code,
)
from workflow.records.notices import result_notices, unit_notice_rows, visible_notice

from .extensions import get_db
from .forms import ObjectionForm

bp = Blueprint("public", __name__)

_CERT_NUMBER = re.compile(r"^[A-Z0-9]{6,40}$")


def _db():
    return get_db()


@bp.get("/")
def index():
    """The portal: what the service is, where to look, how to sign in."""
    with _db().read() as conn:
        notices = result_notices(_db(), conn)
    return render_template("public/index.html", notice_count=len(notices))


@bp.get("/notices")
def notices():
    """Review results on public notice now, with the end of each notice period."""
    with _db().read() as conn:
        rows = result_notices(_db(), conn)
    return render_template("public/notices.html", rows=rows)


def _objection_target(case: dict[str, Any]) -> str | None:
    """``result`` or ``unit`` when the case is on a notice that takes objections now (not paused while an
    earlier objection is looked into), else None — as the case's definition says."""
    db = _db()
    state = screen_state(db, case["pipeline_id"], case["pipeline_version"], case["state"])
    if state.notice is None or case["state"] in get_pipeline(db, case["pipeline_id"],
                                                             case["pipeline_version"]).paused_states:
        return None
    return state.notice


def render_objection(case_id: int, *, status: int = 200, error: str | None = None,
                     kept: dict[str, Any] | None = None):
    """The objection form for a case on notice (re-rendered with the error and typed text when refused).

    Only for people who may see the notice, by the rule the printable notices use
    (:func:`workflow.records.notices.visible_notice`): a unit-internal notice is for the unit's own staff. Everyone
    else gets the print page's answer (404) on opening the form; a refused submission is re-rendered without
    the case's details, the same whether the case is on a notice they may not see or on no notice at all.
    """
    with _db().read() as conn:
        case = queries.case_detail(conn, case_id)
        if case is None:
            abort(404)
        seen = visible_notice(_db(), conn, case_id, current_user.org_id)
    if seen is None:
        if error is None:
            abort(404)
        form = ObjectionForm()
        form.reason.data = (kept or {}).get("reason", "")  # what they typed is theirs to keep
        return render_template("public/objection.html", case=None, notice=None, target=None, form=form,
                               error=error), status
    notice = seen[1]
    target = _objection_target(case)
    if target is None and error is None:
        abort(404)
    form = ObjectionForm()
    if kept:
        form.reason.data = kept.get("reason", "")
    trigger = (objection_trigger(get_pipeline(_db(), case["pipeline_id"], case["pipeline_version"]), case["state"])
               if target else None)
    return render_template("public/objection.html", case=case, notice=notice, target=target, form=form,
                           trigger=trigger, error=error), status


@bp.get("/notices/<int:case_id>/objection")
@login_required
def objection(case_id: int):
    """The named objection form (the identity is the signed-in account)."""
    return render_objection(case_id)


@bp.get("/unit-notices")
@login_required
def unit_notices():
    """Internal notices of the signed-in person's own organisation (staff may object by name)."""
    rows = []
    if current_user.org_id:
        with _db().read() as conn:
            rows = unit_notice_rows(_db(), conn, current_user.org_id)
    return render_template("public/unit_notices.html", rows=rows)


CERTIFICATE_CODE_KEY_ENV = "TITLEREVIEW_CERTIFICATE_CODE_KEY"


def certificate_code_key() -> str:
    """The key of the certificates' verification codes: ``CERTIFICATE_CODE_KEY`` / ``$TITLEREVIEW_CERTIFICATE_
    CODE_KEY``, else the app's secret key. Codes are printed on paper, so the key must outlive a rotation of the
    secret key: docs/deployment.md asks for a dedicated one."""
    return (current_app.config.get("CERTIFICATE_CODE_KEY") or os.environ.get(CERTIFICATE_CODE_KEY_ENV)
            or current_app.config["SECRET_KEY"])


def certificate_code(number: str) -> str:
    """The verification code printed on the certificate ``number`` (shown to its holder and the authority)."""
    return verification_code(number, certificate_code_key())


def _holds_copy(conn, certificate: dict[str, Any]) -> bool:
    """True when the signed-in person may fetch the certificate's PDF without its code (holder or officer)."""
    if not current_user.is_authenticated:
        return False
    return may_fetch_without_code(conn, current_user.actor, queries.case_detail(conn, certificate["case_id"]))


def _render_verify(number: str, result: dict[str, Any] | None, *, problem: str | None = None,
                   holds_copy: bool = False, code: str = "", code_error: str | None = None, status: int = 200):
    """The verification page: the search form, the result, and the form to fetch the PDF with its code."""
    return render_template("public/verify.html", number=number, result=result, problem=problem,
                           searched=bool(number), holds_copy=holds_copy, code=code, code_error=code_error), status


@bp.get("/verify")
def verify():
    """Certificate verification by number: valid, revoked, or unknown (what the certificate's QR code opens)."""
    number = normalise_number(request.args.get("number") or "")
    result = None
    problem = None
    holds_copy = False
    if number:
        if not _CERT_NUMBER.match(number):
            problem = "format"
        else:
            with _db().read() as conn:
                result = queries.certificate_by_number(conn, number)
                holds_copy = result is not None and _holds_copy(conn, result)
    return _render_verify(number, result, problem=problem, holds_copy=holds_copy)


@bp.get("/verify/<number>/certificate.pdf")
def certificate_pdf(number: str):
    """The printable electronic certificate (PDF): for its holder and the issuing authority's officers, and for
    anyone who gives the verification code printed on it (``?code=``). A missing or wrong code re-renders the
    verification page with the reason and what was typed (403); an unknown number is 404."""
    number = normalise_number(number)
    if not _CERT_NUMBER.match(number):
        abort(404)
    with _db().read() as conn:
        certificate = queries.certificate_by_number(conn, number)
        if certificate is None:
            abort(404)
        holds_copy = _holds_copy(conn, certificate)
    typed = (request.args.get("code") or "").strip()[:40]
    if not holds_copy and not code_matches(number, typed, certificate_code_key()):
        return _render_verify(number, certificate, code=typed, code_error="wrong" if typed else "missing",
                              status=403)
    pdf = render_certificate_pdf(certificate, verify_url=url_for("public.verify", number=number, _external=True),
                                 code=certificate_code(number),
                                 font=find_cjk_font(current_app.config.get("CERTIFICATE_FONT")))
    response = current_app.response_class(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="certificate-{number}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"  # it carries the code that unlocks it
    return response


# --------------------------------------------------------------------------------------------- printable notices

def _notice_period(conn, case: dict[str, Any], kind: str) -> dict[str, Any]:
    """Start, end and length (working days) of the case's running notice of ``kind`` (``result``/``unit``)."""
    pipeline = get_pipeline(_db(), case["pipeline_id"], case["pipeline_version"])
    deadline = pipeline.notice_deadline(kind)
    if deadline is None:
        return {"start": None, "end": None, "days": None}
    timer = queries.running_timer(conn, case["id"], deadline.name)
    # The notice's length is the deadline's own ``days``: a number, or the parameter (a session may override).
    days = (effective_params(pipeline, case.get("session_parameters")).get(deadline.days)
            if isinstance(deadline.days, str) else deadline.days)
    return {"start": timer["created_at"] if timer else None, "end": timer["due_at"] if timer else None,
            "days": days}


def _render_print(case_id: int, kind: str, notice: dict[str, Any] | None):
    """The A4 page of one notice; 404 when the case is not on that notice now (or not visible to this person)."""
    if notice is None:
        abort(404)
    with _db().read() as conn:
        case = queries.case_detail(conn, case_id)
        if case is None:
            abort(404)
        period = _notice_period(conn, case, kind)
    return render_template("public/notice_print.html", case=case, notice=notice, period=period, kind=kind,
                           objection_url=url_for("public.objection", case_id=case_id, _external=True),
                           list_url=url_for("public.unit_notices" if kind == "unit" else "public.notices",
                                            _external=True))


@bp.get("/notices/<int:case_id>/print")
def notice_print(case_id: int):
    """The printable result notice of one case (public, no sign-in), while it is on notice."""
    with _db().read() as conn:
        seen = visible_notice(_db(), conn, case_id, None, kinds=("result",))
    return _render_print(case_id, "result", seen and seen[1])


@bp.get("/unit-notices/<int:case_id>/print")
@login_required
def unit_notice_print(case_id: int):
    """The printable unit notice: only for the staff of the notice's organisation, like the unit notice list."""
    with _db().read() as conn:
        seen = visible_notice(_db(), conn, case_id, current_user.org_id, kinds=("unit",))
    return _render_print(case_id, "unit", seen and seen[1])


# --------------------------------------------------------------------------------------------- audit checkpoints

CHECKPOINTS_SHOWN = 100
"""Newest checkpoints listed on the page; the download holds every one."""


def _published_keys() -> dict:
    """The checkpoint public keys to publish: ``CHECKPOINT_PUBLIC_KEYS`` / ``TITLEREVIEW_CHECKPOINT_PUBLIC_KEYS``.

    Only public keys: the web processes never need (and should never be given) the signing key. A key that
    cannot be parsed is left out and logged, so a typo in the setting does not take the page down.
    """
    from workflow.records.checkpoints import PUBLIC_KEYS_ENV, CheckpointError, parse_public_keys

    raw = current_app.config.get("CHECKPOINT_PUBLIC_KEYS") or os.environ.get(PUBLIC_KEYS_ENV, "")
    try:
        return parse_public_keys([raw])
    except CheckpointError as err:
        current_app.logger.warning("checkpoint public keys not published: %s", err)
        return {}


@bp.get("/audit-checkpoints")
def audit_checkpoints():
    """The signed audit checkpoints (digests and counts only) and the keys that verify them, for everyone."""
    from workflow.records.checkpoints import checkpoint_count, fingerprint, load_checkpoints, public_key_text

    keys = _published_keys()
    rows = [cp.statement(keys) for cp in load_checkpoints(_db(), newest_first=True, limit=CHECKPOINTS_SHOWN)]
    for row in rows:
        row["created_at"] = datetime.fromisoformat(row["statement"]["created_at"])
    published = [{"key_id": kid, "fingerprint": fingerprint(k), "public_key": public_key_text(k)}
                 for kid, k in sorted(keys.items())]
    return render_template("public/audit_checkpoints.html", rows=rows, keys=published,
                           total=checkpoint_count(_db()), shown=CHECKPOINTS_SHOWN)


@bp.get("/audit-checkpoints.jsonl")
def audit_checkpoints_file():
    """Every signed checkpoint as JSON lines, to keep outside (``titlereview audit verify --against FILE``)."""
    from workflow.records.checkpoints import export_checkpoints

    body = "".join(export_checkpoints(_db(), _published_keys()))
    response = current_app.response_class(body, mimetype="application/x-ndjson")
    response.headers["Content-Disposition"] = "attachment; filename=audit-checkpoints.jsonl"
    return response
