"""Pages for everyone: the portal, result notices (公示) with named objections, certificate verification,
and — for signed-in staff of a unit — the unit's own internal notices."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user, login_required

from workflow import queries
from workflow.catalog import get_pipeline

from .forms import ObjectionForm

bp = Blueprint("public", __name__)

_CERT_NUMBER = re.compile(r"^[A-Z0-9]{6,40}$")


def _db():
    return current_app.extensions["titlereview_db"]


@bp.get("/")
def index():
    """The portal: what the service is, where to look, how to sign in."""
    with _db().read() as conn:
        notices = queries.open_result_notices(conn)
    return render_template("public/index.html", notice_count=len(notices))


@bp.get("/notices")
def notices():
    """Review results on public notice now, with the end of each notice period."""
    with _db().read() as conn:
        rows = queries.open_result_notices(conn)
    return render_template("public/notices.html", rows=rows)


def _objection_target(case: dict[str, Any]) -> str | None:
    """``result`` or ``unit`` when the case is on a notice that takes objections now, else None."""
    p = get_pipeline(_db(), case["pipeline_id"], case["pipeline_version"])
    cands = p.by_trigger_source.get(("file_objection", case["state"]))
    if not cands:
        return None
    return "unit" if "unit_member" in cands[0].roles else "result"


def render_objection(case_id: int, *, status: int = 200, error: str | None = None,
                     kept: dict[str, Any] | None = None):
    """The objection form for a case on notice (re-rendered with the error and typed text when refused)."""
    with _db().read() as conn:
        case = queries.case_detail(conn, case_id)
        if case is None:
            abort(404)
        notice = next((n for n in queries.open_result_notices(conn) if n["id"] == case_id), None)
        if notice is None and current_user.org_id:
            notice = next((n for n in queries.unit_notices(conn, current_user.org_id) if n["id"] == case_id), None)
    target = _objection_target(case)
    if target is None and error is None:
        abort(404)
    form = ObjectionForm()
    if kept:
        form.reason.data = kept.get("reason", "")
    return render_template("public/objection.html", case=case, notice=notice, target=target, form=form,
                           error=error), status


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
            rows = queries.unit_notices(conn, current_user.org_id)
    return render_template("public/unit_notices.html", rows=rows)


@bp.get("/verify")
def verify():
    """Certificate verification by number: valid, revoked, or unknown."""
    number = (request.args.get("number") or "").strip().upper().replace(" ", "")
    result = None
    problem = None
    if number:
        if not _CERT_NUMBER.match(number):
            problem = "format"
        else:
            with _db().read() as conn:
                result = queries.certificate_by_number(conn, number)
    return render_template("public/verify.html", number=number, result=result, problem=problem,
                           searched=bool(number))
