"""Who may see a notice (公示): the one rule behind every page that shows a case on notice.

A result notice (评审结果公示) is public. A unit notice (单位内部公示) is internal to the applicant's unit: only
the staff of the organisation that employs the applicant or reviews the case see it — the same people the
pipelines let file a named objection to it (the derived role ``unit_member``). The printable notices and the
objection form both ask :func:`visible_notice`, so a page can never show a notice its printed sheet hides.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection

from workflow.db import Database
from workflow.pipeline.catalog import latest_pipelines, state_names
from workflow.records import queries

NOTICE_KINDS = ("result", "unit")
"""The kinds of notice: the public result notice and the unit-internal notice (``notice:`` on a state)."""


def notice_states(db: Database, kind: str) -> tuple[str, ...]:
    """The states whose cases are on the notice of ``kind``, as the current definitions say (``notice:``)."""
    return state_names(db, lambda s: s.notice == kind)


def notice_timers(db: Database, kind: str) -> tuple[str, ...]:
    """The names of the deadlines that run the notice of ``kind`` in the current definitions."""
    return tuple(sorted({d.name for p in latest_pipelines(db) if (d := p.notice_deadline(kind)) is not None}))


def paused_states(db: Database) -> frozenset[str]:
    """States in which a notice stands still while an objection is looked into (a deadline's ``paused_in``)."""
    return frozenset(name for p in latest_pipelines(db) for name in p.paused_states)


def result_notices(db: Database, conn: Connection, *, case_id: int | None = None) -> list[dict[str, Any]]:
    """Cases on the public result notice, each with ``notice_end`` and ``paused`` (an objection is being
    looked into: the notice stands still and takes no further objection)."""
    paused = paused_states(db)
    rows = queries.open_result_notices(conn, notice_states(db, "result"), notice_timers(db, "result"),
                                       case_id=case_id)
    return [{**r, "paused": r["state"] in paused} for r in rows]


def unit_notice_rows(db: Database, conn: Connection, org_id: int, *,
                     case_id: int | None = None) -> list[dict[str, Any]]:
    """Cases on the internal notice of organisation ``org_id``, each with ``notice_end`` and ``paused``."""
    paused = paused_states(db)
    rows = queries.unit_notices(conn, org_id, notice_states(db, "unit"), notice_timers(db, "unit"),
                                case_id=case_id)
    return [{**r, "paused": r["state"] in paused} for r in rows]


def visible_notice(db: Database, conn: Connection, case_id: int, viewer_org_id: int | None,
                   kinds: Iterable[str] = NOTICE_KINDS) -> tuple[str, dict[str, Any]] | None:
    """``(kind, notice row)`` of the notice of ``kinds`` that ``case_id`` is on now and that a person of
    organisation ``viewer_org_id`` (None: no organisation, or nobody signed in) may see, else None.

    The row is the case's line in the notice listing (:func:`result_notices` or :func:`unit_notice_rows`,
    with ``notice_end``). None means "no such notice" to everyone who may not see it, whatever the case's real
    state, so callers answer as for a case on no notice at all.
    """
    for kind in kinds:
        if kind == "result":
            rows = result_notices(db, conn, case_id=case_id)
        elif kind == "unit":
            # No organisation, no unit: an internal notice is never shown to people outside every unit.
            rows = unit_notice_rows(db, conn, viewer_org_id, case_id=case_id) if viewer_org_id else []
        else:
            raise ValueError(f"unknown notice kind {kind!r}")
        if rows:
            return kind, rows[0]
    return None
