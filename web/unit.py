"""The reviewing organisations below the authority: employer HR and agencies (fallback channel), and the
superior departments. They act on the case page (review, return with a complete list of corrections, start
the unit notice, assess and recommend); these pages are their work queues."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from workflow import queries

from .inbox import UNIT_TABS, pick_tab, tab_count
from .security import roles_required, small_int

bp = Blueprint("unit", __name__, url_prefix="/unit")


def _page_number() -> int:
    value = small_int(request.args.get("page", "1"), digits=6)
    return value if value else 1


@bp.get("/")
@roles_required("unit_reviewer", "agency_reviewer")
def inbox():
    """Cases of the reviewer's organisation, by tab (review, notice, recommendation, …)."""
    db = current_app.extensions["titlereview_db"]
    org_id = current_user.org_id
    with db.read() as conn:
        counts = queries.state_counts(conn, unit_org_id=org_id) if org_id else {}
        tab = pick_tab(UNIT_TABS, request.args.get("tab"), counts)
        page = queries.list_cases(conn, unit_org_id=org_id if org_id else -1, states=tab.states,
                                  submitted_only=True, search=request.args.get("q", ""), page=_page_number(),
                                  per_page=current_app.config["PER_PAGE"], oldest_first=tab.actionable)
        notices = queries.unit_notices(conn, org_id) if org_id else []
    tabs = [(t, tab_count(t, counts)) for t in UNIT_TABS]
    return render_template("unit/inbox.html", tabs=tabs, tab=tab, page=page, q=request.args.get("q", ""),
                           notices=notices, org_name=current_user.org_name)


@bp.get("/superior")
@roles_required("superior_reviewer")
def superior_inbox():
    """Cases waiting for this department's review at their current level, and cases it reviewed before."""
    db = current_app.extensions["titlereview_db"]
    org_id = current_user.org_id or -1
    with db.read() as conn:
        queue = queries.superior_queue(conn, org_id, ("superior_review",))
        history = queries.superior_history(conn, org_id)
    return render_template("unit/superior.html", queue=queue, history=history, org_name=current_user.org_name)
