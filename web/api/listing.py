"""The API's case list: the cases an actor may see (workflow.access's rules) in a fixed number of queries.

The simple relations (own case; the case's unit, agency or authority; administrators) are SQL conditions.
The two that depend on JSON or on the pipeline (a superior department on the case's chain; a seated
committee member while the case is before the panel and they are not recused) are resolved by one query
each over their candidate cases, and enter the listing as an id list — never a query per case.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, false, func, or_, select, true

from workflow import queries
from workflow.catalog import get_pipeline
from workflow.conflicts import PANEL_STAGE, RECUSING
from workflow.db import Database
from workflow.models import Case, CommitteeSeat, Conflict
from workflow.roles import Actor

_case = Case.__table__
_seat = CommitteeSeat.__table__
_conflict = Conflict.__table__


def _visible_condition(conn, db: Database, actor: Actor):
    roles = actor.roles
    if actor.user_id is None:
        return false()
    if "administrator" in roles:
        return true()
    submitted = _case.c.submitted_at.is_not(None)
    conds = []
    if "applicant" in roles:
        conds.append(_case.c.applicant_id == actor.user_id)
    if actor.org_id is not None:
        if roles & {"unit_reviewer", "agency_reviewer"}:
            conds.append(and_(submitted, _case.c.unit_org_id == actor.org_id))
        if "authority_officer" in roles:
            conds.append(and_(submitted, _case.c.authority_org_id == actor.org_id))
    ids: set[int] = set()
    if "superior_reviewer" in roles and actor.org_id is not None:
        rows = conn.execute(select(_case.c.id, _case.c.superior_org_ids).where(submitted))
        ids.update(cid for cid, chain in rows if actor.org_id in (chain or []))
    if roles & {"panel_member", "panel_chair"}:
        seated = select(_seat.c.session_id).where(_seat.c.user_id == actor.user_id)
        recused = select(_conflict.c.case_id).where(_conflict.c.user_id == actor.user_id,
                                                    _conflict.c.status.in_(RECUSING))
        rows = conn.execute(select(_case.c.id, _case.c.pipeline_id, _case.c.pipeline_version, _case.c.state)
                            .where(_case.c.session_id.in_(seated), _case.c.id.not_in(recused)))
        for cid, pid, version, state in rows:
            st = get_pipeline(db, pid, version).state_map.get(state)
            if st is not None and st.stage == PANEL_STAGE:
                ids.add(cid)
    if ids:
        conds.append(_case.c.id.in_(sorted(ids)))
    return or_(*conds) if conds else false()


def visible_cases(db: Database, actor: Actor, *, state: str | None = None, pipeline: str | None = None,
                  session: int | None = None, search: str = "", limit: int = 20, offset: int = 0
                  ) -> tuple[list[dict[str, Any]], int]:
    """One page of the cases ``actor`` may see (most recently changed first) and how many there are."""
    columns, joined, applicant = queries._listing_select()
    with db.read() as conn:
        conditions = [_visible_condition(conn, db, actor)]
        if state:
            conditions.append(_case.c.state == state)
        if pipeline:
            conditions.append(_case.c.pipeline_id == pipeline)
        if session is not None:
            conditions.append(_case.c.session_id == session)
        search = search.strip()
        if search:
            like = f"%{search.replace('%', '').replace('_', '')}%"
            conditions.append(or_(_case.c.reference.ilike(like), applicant.c.display_name.ilike(like)))
        where = and_(*conditions)
        total = conn.execute(select(func.count()).select_from(joined).where(where)).scalar_one()
        rows = conn.execute(select(*columns).select_from(joined).where(where)
                            .order_by(_case.c.updated_at.desc(), _case.c.id.desc()).limit(limit).offset(offset))
        return [queries._plain(r) for r in rows.mappings()], int(total)
