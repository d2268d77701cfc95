"""The reviewing organisations below the authority: employer HR and agencies (fallback channel), and the
superior departments. They act on the case page (review, return with a complete list of corrections, start
the unit notice, assess and recommend); these pages are their work queues."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from workflow.pipeline.catalog import states_acted_on_by
from workflow.records import queries
from workflow.records.notices import unit_notice_rows

from .extensions import get_db
from .inbox import capped_badges, final_states, open_states, pick_tab, tabs_for
from .security import roles_required, small_int, visible_scope

bp = Blueprint("unit", __name__, url_prefix="/unit")

CLOSED_COUNT_CAP = 999
"""Closed cases are counted up to here ("999+" beyond): a unit's history grows every year, its queues do not,
so the badges cost the same for a unit with ten years of cases as for a new one (the authority inbox does
the same)."""

HISTORY_COUNT_LIMIT = 10_000
"""The tabs that list the closed history (closed cases, every case) count their pages no further than this."""


def _page_number() -> int:
    value = small_int(request.args.get("page", "1"), digits=6)
    return value if value else 1


@bp.get("/")
@roles_required("unit_reviewer", "agency_reviewer")
def inbox():
    """Cases of the reviewer's organisation, by tab (review, notice, recommendation, …)."""
    db = get_db()
    org_id = current_user.org_id or -1
    states = open_states(db)
    tabs = tabs_for(db, "unit")
    with db.read() as conn:
        # Open states exactly, the closed history only up to a cap, both from ix_case_unit_queue: counting
        # every case the unit ever handled made each visit slower with every year of history.
        visible = visible_scope(conn)
        counts = queries.state_counts(conn, visible=visible, unit_org_id=org_id, states=states)
        closed = queries.count_upto(conn, CLOSED_COUNT_CAP + 1, visible=visible, unit_org_id=org_id,
                                    states=final_states(db))
        tab = pick_tab(tabs, request.args.get("tab"), counts)
        page = queries.list_cases(conn, visible=visible, unit_org_id=org_id, states=tab.states,
                                  submitted_only=True,
                                  search=request.args.get("q", ""), page=_page_number(),
                                  per_page=current_app.config["PER_PAGE"], oldest_first=tab.actionable,
                                  count_limit=HISTORY_COUNT_LIMIT if tab.final or tab.states is None else None)
        notices = unit_notice_rows(db, conn, org_id) if current_user.org_id else []
    badges = capped_badges(tabs, counts, closed, CLOSED_COUNT_CAP)
    return render_template("unit/inbox.html", tabs=badges, tab=tab, page=page, q=request.args.get("q", ""),
                           notices=notices, org_name=current_user.org_name)


@bp.get("/superior")
@roles_required("superior_reviewer")
def superior_inbox():
    """Cases waiting for this department's review at their current level, and cases it reviewed before."""
    db = get_db()
    org_id = current_user.org_id or -1
    with db.read() as conn:
        visible = visible_scope(conn)
        queue = queries.superior_queue(conn, org_id, states_acted_on_by(db, "superior_reviewer"), visible=visible)
        history = queries.superior_history(conn, org_id, visible=visible)
    return render_template("unit/superior.html", queue=queue, history=history, org_name=current_user.org_name)
