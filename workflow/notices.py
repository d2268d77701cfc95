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

from . import queries

NOTICE_KINDS = ("result", "unit")
"""The kinds of notice: the public result notice and the unit-internal notice."""


def visible_notice(conn: Connection, case_id: int, viewer_org_id: int | None,
                   kinds: Iterable[str] = NOTICE_KINDS) -> tuple[str, dict[str, Any]] | None:
    """``(kind, notice row)`` of the notice of ``kinds`` that ``case_id`` is on now and that a person of
    organisation ``viewer_org_id`` (None: no organisation, or nobody signed in) may see, else None.

    The row is the case's line in the notice listing (:func:`queries.open_result_notices` or
    :func:`queries.unit_notices`, with ``notice_end``). None means "no such notice" to everyone who may not
    see it, whatever the case's real state, so callers answer as for a case on no notice at all.
    """
    for kind in kinds:
        if kind == "result":
            rows = queries.open_result_notices(conn, case_id=case_id)
        elif kind == "unit":
            # No organisation, no unit: an internal notice is never shown to people outside every unit.
            rows = queries.unit_notices(conn, viewer_org_id, case_id=case_id) if viewer_org_id else []
        else:
            raise ValueError(f"unknown notice kind {kind!r}")
        if rows:
            return kind, rows[0]
    return None
