"""The API's case list: the cases an actor may see, by the one SQL scope of every listing
(:func:`workflow.access.visibility.visible_cases`), in a fixed number of queries."""

from __future__ import annotations

from typing import Any

from workflow.access import visibility as access
from workflow.access.roles import Actor
from workflow.db import Database
from workflow.records import queries


def visible_cases(db: Database, actor: Actor, *, state: str | None = None, pipeline: str | None = None,
                  session: int | None = None, search: str = "", limit: int = 20, offset: int = 0
                  ) -> tuple[list[dict[str, Any]], int]:
    """One page of the cases ``actor`` may see (most recently changed first) and how many there are."""
    with db.read() as conn:
        return queries.case_window(conn, visible=access.visible_cases(conn, db, actor), state=state,
                                   pipeline_id=pipeline, session_id=session, search=search, limit=limit,
                                   offset=offset)
