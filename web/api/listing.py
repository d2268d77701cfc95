"""The API's case list: the cases an actor may see, by the one SQL scope of every listing
(:func:`workflow.access.visibility.visible_cases`), in a fixed number of queries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, select

from workflow.access import visibility as access
from workflow.access.roles import Actor
from workflow.db import Database
from workflow.models import Case
from workflow.records import queries

_case = Case.__table__


def visible_cases(db: Database, actor: Actor, *, state: str | None = None, pipeline: str | None = None,
                  session: int | None = None, search: str = "", limit: int = 20, offset: int = 0
                  ) -> tuple[list[dict[str, Any]], int]:
    """One page of the cases ``actor`` may see (most recently changed first) and how many there are."""
    columns, joined, applicant = queries._listing_select()
    with db.read() as conn:
        conditions = [access.visible_cases(conn, db, actor).on(_case)]
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
