"""Live counts for the process view: how many cases of each pipeline version sit in each state, and who they are.

Every count is one ``GROUP BY`` statement, whatever the number of cases; nothing here loops over cases in
Python. What a reader may count is the one visibility scope of every listing,
:class:`workflow.access.visibility.VisibleCases`: administrators see every case, an authority officer only the submitted
cases of their own authority (a draft is the applicant's private working copy), so the numbers on the page
always match the cases the reader can open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, false, func, or_, select
from sqlalchemy import case as sa_case
from sqlalchemy.orm import aliased

from workflow.access.visibility import VisibleCases
from workflow.db import Database
from workflow.models import Case, Organisation, PipelineVersion, ReviewSession, User, as_utc
from workflow.pipeline.catalog import get_pipeline
from workflow.time.calendar import CHINA_TZ, WorkingCalendar

_case = Case.__table__
_pv = PipelineVersion.__table__
_user = User.__table__
_org = Organisation.__table__
_session = ReviewSession.__table__

MAX_VERSION = 2**31 - 1
"""Largest version number a query is sent for (the column is a 32-bit integer on PostgreSQL)."""


@dataclass(frozen=True)
class VersionCounts:
    """One pipeline version with the number of its cases in the reader's scope.

    ``stored`` is False for a version that cases use but whose text is not in the catalogue (it cannot be
    drawn, and open/closed cannot be told apart, so both are None).
    """

    pipeline_id: str
    version: int
    stored: bool
    total: int
    open: int | None
    closed: int | None


def versions_overview(db: Database, scope: VisibleCases) -> list[VersionCounts]:
    """Every stored or used pipeline version with its open and closed case counts, ordered by id and version.

    "Closed" means the case is in a state its definition marks ``final``; the final states of each version are
    put into one ``CASE`` expression so that a single grouped statement counts both columns for all versions.
    """
    with db.read() as conn:
        stored = {(pid, int(v)) for pid, v in conn.execute(select(_pv.c.pipeline_id, _pv.c.version))}
        used = {(pid, int(v)) for pid, v in
                conn.execute(select(_case.c.pipeline_id, _case.c.pipeline_version).distinct())}
    # Stored texts are never deleted, so every stored version parses (and is cached after the first time).
    finals = {(pid, version): get_pipeline(db, pid, version).finals for pid, version in sorted(stored)}
    closed_when = [and_(_case.c.pipeline_id == pid, _case.c.pipeline_version == v, _case.c.state.in_(names))
                   for (pid, v), names in finals.items() if names]
    closed_expr = sa_case((or_(*closed_when), 1), else_=0) if closed_when else sa_case((false(), 1), else_=0)
    stmt = (select(_case.c.pipeline_id, _case.c.pipeline_version, func.count().label("total"),
                   func.sum(closed_expr).label("closed"))
            .where(scope.on(_case))
            .group_by(_case.c.pipeline_id, _case.c.pipeline_version))
    with db.read() as conn:
        counted = {(pid, int(v)): (int(total), int(closed or 0)) for pid, v, total, closed in conn.execute(stmt)}
    out = []
    for key in sorted(stored | used):
        total, closed = counted.get(key, (0, 0))
        known = key in finals
        out.append(VersionCounts(pipeline_id=key[0], version=key[1], stored=known, total=total,
                                 open=total - closed if known else None, closed=closed if known else None))
    return out


def state_counts(conn: Connection, pipeline_id: str, version: int, scope: VisibleCases) -> dict[str, int]:
    """How many cases of (pipeline, version) in the scope are in each state (states without cases are absent)."""
    stmt = (select(_case.c.state, func.count())
            .where(_case.c.pipeline_id == pipeline_id, _case.c.pipeline_version == version, scope.on(_case))
            .group_by(_case.c.state))
    return {state: int(n) for state, n in conn.execute(stmt)}


@dataclass(frozen=True)
class StateCasePage:
    """One page of the cases in a state, and how many there are in all."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, -(-self.total // self.per_page))


def cases_in_state(conn: Connection, pipeline_id: str, version: int, state: str, scope: VisibleCases, *,
                   page: int = 1, per_page: int | None = 50) -> StateCasePage:
    """The cases of (pipeline, version) in ``state`` within the scope, longest waiting first.

    Each row has the case id, reference, applicant, unit, session names and ``state_entered_at`` (aware UTC).
    ``per_page`` None returns every matching case on one page (exports).
    """
    applicant = aliased(_user)
    unit = aliased(_org)
    where = and_(_case.c.pipeline_id == pipeline_id, _case.c.pipeline_version == version, _case.c.state == state,
                 scope.on(_case))
    total = conn.execute(select(func.count()).select_from(_case).where(where)).scalar_one()
    stmt = (select(_case.c.id, _case.c.reference, _case.c.target_title, _case.c.level, _case.c.state_entered_at,
                   _case.c.submitted_at, applicant.c.display_name.label("applicant_name"),
                   unit.c.name.label("unit_name"), _session.c.name.label("session_name"),
                   _session.c.name_en.label("session_name_en"))
            .select_from(_case.join(applicant, applicant.c.id == _case.c.applicant_id)
                         .join(unit, unit.c.id == _case.c.unit_org_id)
                         .outerjoin(_session, _session.c.id == _case.c.session_id))
            .where(where)
            .order_by(_case.c.state_entered_at.asc(), _case.c.id.asc()))
    page = max(1, page)
    if per_page is not None:
        stmt = stmt.limit(per_page).offset((page - 1) * per_page)
    rows = []
    for r in conn.execute(stmt).mappings():
        row = dict(r)
        row["state_entered_at"] = as_utc(row["state_entered_at"])
        row["submitted_at"] = as_utc(row["submitted_at"])
        rows.append(row)
    return StateCasePage(rows=rows, total=int(total), page=page, per_page=per_page or max(1, int(total)))


def working_days_in_state(calendar: WorkingCalendar, entered_at: datetime | None, today: date) -> int | None:
    """Working days since the case entered its state, counted on Beijing dates (the entry day itself is not).

    A case that entered today has 0; the calendar's overrides (调休) are respected.
    """
    if entered_at is None:
        return None
    entered = as_utc(entered_at).astimezone(CHINA_TZ).date()
    return calendar.working_days_between(entered, today)
