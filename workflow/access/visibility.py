"""Who may *see* a case (its page, dossier and materials), as opposed to who may act on it.

Acting is decided per transition by :mod:`workflow.access.permissions`; seeing is broader (a unit reviewer keeps
seeing a case after recommending it) but still deny by default and scoped by the same relationships:

* the applicant sees their own cases, drafts included;
* the reviewing unit or agency, every superior department on the case's chain and the case's authority see
  it once it has been submitted — a draft is the applicant's private working copy;
* a seated committee member sees it while it is before the panel, unless recused on it — that rule is the
  committee's own (:func:`workflow.panel.conflicts.can_open_dossier`, which also runs conflict detection), used
  here through :func:`dossier_relations`;
* administrators see every case (support), read only: they hold no case role.

The same rule in SQL, :func:`visible_cases`, is the one scope every listing, inbox, report and export takes
(:mod:`workflow.records.queries`, :mod:`workflow.records.reports`, :mod:`workflow.records.process_view`), so no page
lists a case
its reader could not open.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, cast, exists, false, func, literal, or_, select, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BooleanClauseList, ColumnElement
from sqlalchemy.sql.util import ClauseAdapter

from workflow.access.roles import Actor
from workflow.db import Database
from workflow.models import Case, CommitteeSeat, Conflict, PipelineVersion
from workflow.panel.conflicts import PANEL_STAGE, RECUSING, can_open_dossier
from workflow.pipeline.catalog import get_pipeline

_seat = CommitteeSeat.__table__
_case = Case.__table__
_conflict = Conflict.__table__
_pv = PipelineVersion.__table__

REVIEWER_ROLES = ("unit_reviewer", "agency_reviewer", "superior_reviewer", "authority_officer")
"""Roles that review a case on behalf of an organisation."""


def seat_role(conn: Connection, session_id: int | None, user_id: int | None) -> str | None:
    """``chair`` or ``member`` when the user is seated on the session's committee, else None."""
    if session_id is None or user_id is None:
        return None
    return conn.execute(select(_seat.c.seat_role).where(_seat.c.session_id == session_id,
                                                       _seat.c.user_id == user_id)).scalar()


def viewing_relations(conn: Connection, actor: Actor, case: dict[str, Any]) -> list[str]:
    """The roles in which ``actor`` may see ``case`` (empty: not at all), most specific first."""
    if actor.user_id is None:
        return []
    found: list[str] = []
    roles = actor.roles
    if "applicant" in roles and case["applicant_id"] == actor.user_id:
        found.append("applicant")
    submitted = case.get("submitted_at") is not None
    if submitted and actor.org_id is not None:
        if actor.org_id == case["unit_org_id"]:
            found.extend(r for r in ("unit_reviewer", "agency_reviewer") if r in roles)
        if "superior_reviewer" in roles and actor.org_id in (case.get("superior_org_ids") or []):
            found.append("superior_reviewer")
        if "authority_officer" in roles and actor.org_id == case["authority_org_id"]:
            found.append("authority_officer")
    if "administrator" in roles:
        found.append("administrator")
    return found


def can_view_case(conn: Connection, actor: Actor, case: dict[str, Any]) -> bool:
    """True when ``actor`` may open the case page through a non-panel relation (see :func:`dossier_relations`)."""
    return bool(viewing_relations(conn, actor, case))


def dossier_relations(db: Database, actor: Actor, case: dict[str, Any]) -> tuple[list[str], str]:
    """All roles in which ``actor`` may see the case, panel seats included, and — when there are none and the
    actor is on the committee — the committee's reason for refusing (e.g. a conflict of interest)."""
    with db.read() as conn:
        found = viewing_relations(conn, actor, case)
        seat = seat_role(conn, case.get("session_id"), actor.user_id)
    if seat is None or not actor.roles & {"panel_member", "panel_chair"}:
        return found, ""
    allowed, reason = can_open_dossier(db, case["id"], actor)
    if allowed:
        found.append("panel_chair" if seat == "chair" and "panel_chair" in actor.roles else "panel_member")
    return found, reason


@dataclass(frozen=True, eq=False)
class VisibleCases:
    """The cases one actor may see, as SQL: the one scope every listing, inbox, report and export takes, and
    ANDs with its own filter (a unit's queue, a tab's states, a report's session…). Built by
    :func:`visible_cases`; the same rule as :func:`dossier_relations`, which a property test checks case by
    case and role by role.

    ``eq=False``: a SQL condition has no useful equality (``==`` on it builds another condition).
    """

    condition: ColumnElement[bool]
    """The condition on ``case_file`` itself."""
    unrestricted: bool = False
    """Every case (administrators): listings may skip the condition altogether."""

    @classmethod
    def all_cases(cls) -> VisibleCases:
        """Every case, drafts included (administrators, and internal callers that mean no scope)."""
        return cls(true(), unrestricted=True)

    @classmethod
    def no_cases(cls) -> VisibleCases:
        """Nothing at all (nobody signed in, or a role without an organisation)."""
        return cls(false())

    def terms(self) -> tuple[ColumnElement[bool], ...]:
        """The condition's top-level AND terms (one relation: e.g. submitted, and this unit's), so that a listing
        can leave out the ones its own filter already has (see :func:`workflow.records.queries.list_cases`)."""
        cond = self.condition
        if isinstance(cond, BooleanClauseList) and cond.operator is operators.and_:
            return tuple(cond.clauses)
        return (cond,)

    def on(self, table: Any) -> ColumnElement[bool]:
        """The scope as a condition on ``table``: ``case_file`` itself or an alias of it (the condition's
        columns are rewritten onto the alias, so no sub-query over every visible case is added)."""
        if self.unrestricted:
            return true()
        if table is _case:
            return self.condition
        return ClauseAdapter(table).traverse(self.condition)


def _in_superior_chain(conn: Connection, org_id: int) -> ColumnElement[bool]:
    """SQL: ``org_id`` is one of the case's superior departments (``superior_org_ids``, a JSON list of ids).

    Evaluated per candidate row, never by loading the chains: JSONB containment on PostgreSQL (the column is
    JSONB there, see :data:`workflow.models._types.JSONType`), a search of ``json_each`` on SQLite.
    """
    if conn.dialect.name == "postgresql":
        return _case.c.superior_org_ids.op("@>")(cast(literal(json.dumps([org_id])), JSONB))
    chain = func.json_each(_case.c.superior_org_ids).table_valued("value")
    return exists(select(literal(1)).select_from(chain).where(chain.c.value == org_id))


def _panel_stage_condition(conn: Connection, db: Database) -> ColumnElement[bool] | None:
    """SQL: the case's state is in the committee's stage of its own pipeline version (None: no version has one).

    The stage is in the definitions, not in the table, so the condition spells out each stored version's panel
    states — a handful of versions, read once, instead of reading the cases to look their states up.
    """
    per_version = []
    for pid, version in conn.execute(select(_pv.c.pipeline_id, _pv.c.version)):
        names = sorted(s.name for s in get_pipeline(db, pid, int(version)).states if s.stage == PANEL_STAGE)
        if names:
            per_version.append(and_(_case.c.pipeline_id == pid, _case.c.pipeline_version == version,
                                    _case.c.state.in_(names)))
    return or_(*per_version) if per_version else None


def visible_cases(conn: Connection, db: Database, actor: Actor) -> VisibleCases:
    """The cases ``actor`` may see (:class:`VisibleCases`) — the same rule as :func:`dossier_relations`, for
    listings.

    Every relation is a SQL condition evaluated with the listing's own filter (its index does the narrowing;
    the scope only checks the rows it reaches), never a query per case nor a read of every case. A seated
    committee member's depends on the definitions (the case's state must be in the committee's stage): that
    costs one small query, of the stored pipeline versions.
    """
    roles = actor.roles
    if actor.user_id is None:
        return VisibleCases.no_cases()
    if "administrator" in roles:
        return VisibleCases.all_cases()
    submitted = _case.c.submitted_at.is_not(None)
    conds = []
    if "applicant" in roles:
        conds.append(_case.c.applicant_id == actor.user_id)
    if actor.org_id is not None:
        if roles & {"unit_reviewer", "agency_reviewer"}:
            conds.append(and_(submitted, _case.c.unit_org_id == actor.org_id))
        if "authority_officer" in roles:
            conds.append(and_(submitted, _case.c.authority_org_id == actor.org_id))
        if "superior_reviewer" in roles:
            conds.append(and_(submitted, _in_superior_chain(conn, actor.org_id)))
    if roles & {"panel_member", "panel_chair"}:
        before_panel = _panel_stage_condition(conn, db)
        if before_panel is not None:
            seated = select(_seat.c.session_id).where(_seat.c.user_id == actor.user_id)
            recused = select(_conflict.c.case_id).where(_conflict.c.user_id == actor.user_id,
                                                        _conflict.c.status.in_(RECUSING))
            conds.append(and_(_case.c.session_id.in_(seated), before_panel, _case.c.id.not_in(recused)))
    return VisibleCases(or_(*conds)) if conds else VisibleCases.no_cases()


def visible_case_condition(conn: Connection, db: Database, actor: Actor) -> ColumnElement[bool]:
    """The condition of :func:`visible_cases` on ``case_file`` (kept for callers that need only that)."""
    return visible_cases(conn, db, actor).condition
