"""The authority officer's (人社部门/职改办) work queues by stage, and the register of certificates.

Formal check, eligibility re-check, filing, certificates and revocation are actions on the case page; the
result notice opens and closes by itself (its end is shown in the queue and on the case).
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from workflow.records import queries

from .extensions import get_db
from .inbox import capped_badges, final_states, open_states, pick_tab, tabs_for
from .security import roles_required, visible_scope
from .unit import _page_number

bp = Blueprint("authority", __name__, url_prefix="/authority")

CLOSED_COUNT_CAP = 999
"""Closed cases are counted up to here ("999+" beyond): an authority's history grows without end, its queues
do not, so the badges cost the same after a million cases as after ten thousand."""

HISTORY_COUNT_LIMIT = 10_000
"""The tabs that list the closed history (closed cases, every case) count their pages no further than this."""

CERTIFICATE_LIMIT = 500
"""The register page lists the newest certificates up to here (the .xlsx export goes further)."""


@bp.get("/")
@roles_required("authority_officer")
def inbox():
    """Cases before this authority, one tab per stage; queues that wait for the officer come first."""
    db = get_db()
    org_id = current_user.org_id or -1
    states = open_states(db)
    tabs = tabs_for(db, "authority")
    with db.read() as conn:
        # Open states exactly, the closed history only up to a cap: counting every case the authority ever
        # handled made this page slower with every year of history (p95 ×4 from 10k to 100k cases).
        visible = visible_scope(conn)
        counts = queries.state_counts(conn, visible=visible, authority_org_id=org_id, states=states)
        closed = queries.count_upto(conn, CLOSED_COUNT_CAP + 1, visible=visible, authority_org_id=org_id,
                                    states=final_states(db))
        tab = pick_tab(tabs, request.args.get("tab"), counts)
        page = queries.list_cases(conn, visible=visible, authority_org_id=org_id, states=tab.states,
                                  submitted_only=True,
                                  search=request.args.get("q", ""), page=_page_number(),
                                  per_page=current_app.config["PER_PAGE"], oldest_first=tab.actionable,
                                  count_limit=HISTORY_COUNT_LIMIT if tab.final or tab.states is None else None)
    badges = capped_badges(tabs, counts, closed, CLOSED_COUNT_CAP)
    return render_template("authority/inbox.html", tabs=badges, tab=tab, page=page, q=request.args.get("q", ""),
                           org_name=current_user.org_name)


@bp.get("/certificates")
@roles_required("authority_officer")
def certificates():
    """Certificates issued on this authority's cases, newest first (revocation is done on the case)."""
    db = get_db()
    with db.read() as conn:
        rows = queries.certificate_register(conn, current_user.org_id or -1, visible=visible_scope(conn),
                                            limit=CERTIFICATE_LIMIT)
    return render_template("authority/certificates.html", rows=rows)
