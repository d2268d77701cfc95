"""Reports for authority officers and administrators: cases per stage, pass rates, time in state, longest waits.

Every aggregate is computed by the database (SQLAlchemy Core, the same statements on SQLite and PostgreSQL);
Python only maps a handful of result rows (one per state, per session, …) to labels.

Definitions used throughout (they are shown on the reports page too):

* **Stages.** Every state of a pipeline carries a coarse ``stage`` in its definition (``definitions/pipelines``).
  The reports group those into the four big stages of a review plus "closed": submission (``submission``),
  unit recommendation (``unit``, ``superior``), panel review (``authority``, ``panel`` — the authority's formal
  check and eligibility re-check prepare the panel's work), result publication (``publication``, ``filing``) and
  closed (``closed``), as ``definitions/stages.yaml`` says. See :data:`BIG_STAGE_OF`.
* **Decided, passed, failed.** A case is *decided* once the committee's count has put it in a pass or a fail
  state. The pass and fail states are read from the definitions: the ``decided`` destinations of the
  transitions that leave a state whose committee step is the ballot (``panel_step: ballot``), one whose
  ``outcome`` is unfavourable meaning not passed, any other passed. When a case went through the vote more
  than once (an accepted appeal), its latest decision counts. Pass rate = passed / decided. ``certified``
  counts decided cases that ever entered a final state with a favourable outcome (the title conferred), even
  if the title was revoked later. Definitions written before states carried these attributes are read with
  the newest version's (:func:`workflow.pipeline.catalog.screen_pipeline`).
* **Firm type** is that of the applicant's employer: 专精特新“小巨人” when the employer is flagged as a little
  giant, else 专精特新 when it is flagged specialised, else other (including applicants without an employer).
* **Time in state** is measured in *working days* on the China calendar with the administrators' overrides.
  A stay in a state runs from the event that moved the case into it to the next event that moved it into a
  different state (self-loops such as a second superior level or opening the ballot do not end the stay).
  Each working day counts fully (24 h), other days count zero, and a partial day counts by its elapsed
  fraction in Beijing time: a stay from Friday 17:00 to Monday 09:00 lasts 7/24 + 9/24 working days when
  both are working days. Only completed stays enter the median and p90; stays still running are the subject
  of the "longest waits" report.
* **Percentiles** are linear interpolation between closest ranks, the definition of PostgreSQL's
  ``percentile_cont`` and of numpy's default: for n sorted values x₁…xₙ and fraction p, with h = (n−1)·p,
  the percentile is x⌊h⌋₊₁ + (h − ⌊h⌋)·(x⌊h⌋₊₂ − x⌊h⌋₊₁). It is computed with window functions
  (``row_number``, ``count``) so that SQLite, which has no ``percentile_cont``, gives the same result.
* **Date range** filters select cases by the Beijing-time date on which they were opened.
* **Scope.** Every figure counts the cases the reader may see (:class:`workflow.access.visibility.VisibleCases`, the one
  scope of every listing): an administrator every case, an authority officer their authority's submitted cases.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Float,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement, Select

from workflow.access.roles import OBJECTOR_ROLES
from workflow.access.visibility import VisibleCases
from workflow.db import Database
from workflow.models import Case, CaseEvent, Organisation, ReportCalendarDay, ReviewSession, User
from workflow.models._types import UTCDateTime
from workflow.pipeline.catalog import screen_pipeline
from workflow.pipeline.schema import Pipeline, TransitionDef
from workflow.pipeline.stages import stage_catalogue
from workflow.time.calendar import CHINA_TZ, WorkingCalendar
from workflow.time.workdays import calendar_from_db

__all__ = [
    "BIG_STAGES",
    "BIG_STAGE_OF",
    "DIMENSIONS",
    "FIRM_TYPES",
    "Report",
    "ReportFilter",
    "build_report",
    "cases_per_stage",
    "cases_per_state",
    "longest_waits",
    "pass_rates",
    "percentiles",
    "refresh_calendar",
    "report_sessions",
    "stay_durations",
    "time_in_state",
]

BIG_STAGES = stage_catalogue().report_keys
"""The big stages of a review, in order (the last one holds finished cases); ``definitions/stages.yaml``."""

BIG_STAGE_OF = stage_catalogue().report_of
"""Coarse stage of a state's definition → big stage of the reports (``report:`` in ``definitions/stages.yaml``)."""


DIMENSIONS = ("session", "series", "level", "pipeline", "firm_type")
"""What pass rates can be broken down by."""

FIRM_TYPES = ("little_giant", "specialised", "other")
"""Firm types of the applicant's employer, from the organisation's flags (little giants are also specialised)."""

TOP_WAITS = 20
"""How many open cases the "longest waits" report lists."""

PERCENTS = (50, 90)
"""The percentiles the time-in-state report shows (median and p90)."""


_SHANGHAI_OFFSET = "+8 hours"  # China has had no daylight saving time since 1991: a fixed offset is exact.


# --------------------------------------------------------------------------------------------- SQL helpers


class china_date(FunctionElement):
    """The Beijing-time calendar date of a UTC timestamp column (portable SQL expression)."""

    type = Date()
    inherit_cache = True
    name = "china_date"


class china_day_fraction(FunctionElement):
    """The fraction of its Beijing-time day elapsed at a UTC timestamp (0 at midnight, 0.5 at noon)."""

    type = Float()
    inherit_cache = True
    name = "china_day_fraction"


def _argument(element, compiler, **kw) -> str:
    """The compiled SQL of the construct's single argument."""
    (arg,) = element.clauses
    return compiler.process(arg, **kw)


@compiles(china_date)
def _china_date_default(element, compiler, **kw):  # pragma: no cover - only SQLite and PostgreSQL are supported
    raise NotImplementedError(f"china_date is not implemented for {compiler.dialect.name}")


@compiles(china_date, "sqlite")
def _china_date_sqlite(element, compiler, **kw):
    arg = _argument(element, compiler, **kw)
    return f"date({arg}, '{_SHANGHAI_OFFSET}')"


@compiles(china_date, "postgresql")
def _china_date_pg(element, compiler, **kw):
    arg = _argument(element, compiler, **kw)
    return f"CAST(({arg} AT TIME ZONE 'Asia/Shanghai') AS DATE)"


@compiles(china_day_fraction)
def _fraction_default(element, compiler, **kw):  # pragma: no cover - only SQLite and PostgreSQL are supported
    raise NotImplementedError(f"china_day_fraction is not implemented for {compiler.dialect.name}")


@compiles(china_day_fraction, "sqlite")
def _fraction_sqlite(element, compiler, **kw):
    arg = _argument(element, compiler, **kw)
    return f"(julianday({arg}, '{_SHANGHAI_OFFSET}') - julianday(date({arg}, '{_SHANGHAI_OFFSET}')))"


@compiles(china_day_fraction, "postgresql")
def _fraction_pg(element, compiler, **kw):
    arg = _argument(element, compiler, **kw)
    local = f"({arg} AT TIME ZONE 'Asia/Shanghai')"
    return f"(EXTRACT(EPOCH FROM ({local} - date_trunc('day', {local}))) / 86400.0)"


def percentiles(durations: Select, percents: Sequence[int] = PERCENTS) -> Select:
    """Per ``key``: the row count and the given percentiles of ``value``, by linear interpolation.

    ``durations`` must select two columns named ``key`` and ``value`` (NULL values are ignored). The result
    has columns ``key``, ``n`` and ``p<percent>`` for each percent (integers 0–100). Integer arithmetic keeps
    the interpolation position exact: with h = (n−1)·p/100, ``k = (n−1)·p // 100`` is ⌊h⌋ and
    ``r = (n−1)·p − 100·k`` is 100·(h − ⌊h⌋).
    """
    for p in percents:
        if not isinstance(p, int) or isinstance(p, bool) or not 0 <= p <= 100:
            raise ValueError(f"a percent must be an integer from 0 to 100, got {p!r}")
    src = durations.subquery("durations")
    ranked = (select(src.c.key, src.c.value,
                     func.row_number().over(partition_by=src.c.key, order_by=src.c.value).label("rn"),
                     func.count().over(partition_by=src.c.key).label("n"))
              .where(src.c.value.is_not(None)).subquery("ranked"))
    n1 = ranked.c.n - 1
    columns: list[ColumnElement[Any]] = [ranked.c.key, func.max(ranked.c.n).label("n")]
    for p in percents:
        k = (n1 * p) // 100
        r = n1 * p - k * 100
        lo = func.max(case((ranked.c.rn == k + 1, ranked.c.value)))
        hi = func.max(case((ranked.c.rn == k + 2, ranked.c.value)))
        frac = func.max(r)
        columns.append((lo + (func.coalesce(hi, lo) - lo) * frac / 100.0).label(f"p{p}"))
    return select(*columns).group_by(ranked.c.key)


# --------------------------------------------------------------------------------------------- the calendar


def _calendar_rows(calendar: WorkingCalendar, first_year: int, last_year: int) -> list[tuple[date, bool, int]]:
    rows: list[tuple[date, bool, int]] = []
    day, end, before = date(first_year, 1, 1), date(last_year, 12, 31), 0
    while day <= end:
        working = calendar.is_working_day(day)
        rows.append((day, working, before))
        before += int(working)
        day += timedelta(days=1)
    return rows


def refresh_calendar(db: Database, now: datetime) -> bool:
    """Make ``report_calendar_day`` cover every year with a case event and the year of ``now`` (and the next).

    The rows are recomputed from the current calendar (library plus overrides) and written only when they
    differ from what is stored, so an administrator's new override is picked up by the next report. Returns
    whether anything was written. A few hundred rows a year: comparing them costs a millisecond or two.
    """
    ev, cal = CaseEvent.__table__, ReportCalendarDay.__table__
    local_year = now.astimezone(CHINA_TZ).year
    with db.read() as conn:
        first, last = conn.execute(select(func.min(ev.c.created_at), func.max(ev.c.created_at))).one()
        calendar = calendar_from_db(conn)
        stored = [(d if isinstance(d, date) else date.fromisoformat(d), bool(w), int(b))
                  for d, w, b in conn.execute(select(cal.c.day, cal.c.is_working, cal.c.working_before)
                                              .order_by(cal.c.day)).all()]
    years = [local_year] + [_as_aware(t).astimezone(CHINA_TZ).year for t in (first, last) if t is not None]
    wanted = _calendar_rows(calendar, min(years), max(years) + 1)
    if stored == wanted:
        return False
    try:
        with db.write() as conn:
            conn.execute(delete(cal))
            conn.execute(insert(cal), [{"day": d, "is_working": w, "working_before": b} for d, w, b in wanted])
    except IntegrityError:
        # A concurrent report refreshed the same days first (PostgreSQL: our DELETE did not see its rows).
        return False
    return True


def _as_aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _working_position(timestamp: ColumnElement[Any], alias) -> ColumnElement[Any]:
    """Working days from the calendar's first day up to ``timestamp`` (fractional), given its calendar row."""
    return alias.c.working_before + case((alias.c.is_working == true(), china_day_fraction(timestamp)), else_=0.0)


# --------------------------------------------------------------------------------------------- scope, filters


@dataclass(frozen=True)
class ReportFilter:
    """Optional narrowing by review session, pipeline and the (Beijing) date on which cases were opened."""

    session_id: int | None = None
    pipeline_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from is after date_to")

    def condition(self, case_table) -> ColumnElement[bool]:
        """The WHERE condition for these filters on ``case_table``."""
        parts: list[ColumnElement[bool]] = []
        if self.session_id is not None:
            parts.append(case_table.c.session_id == self.session_id)
        if self.pipeline_id:
            parts.append(case_table.c.pipeline_id == self.pipeline_id)
        if self.date_from is not None:
            parts.append(case_table.c.created_at >= _china_midnight(self.date_from))
        if self.date_to is not None:
            parts.append(case_table.c.created_at < _china_midnight(self.date_to + timedelta(days=1)))
        return and_(true(), *parts)


def _china_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=CHINA_TZ).astimezone(UTC)


def _where(scope: VisibleCases, filt: ReportFilter, case_table=None) -> ColumnElement[bool]:
    """The reader's scope (the cases they may see, :func:`workflow.access.visibility.visible_cases`) and the filters."""
    c = case_table if case_table is not None else Case.__table__
    return and_(scope.on(c), filt.condition(c))


def report_sessions(conn: Connection, scope: VisibleCases, authority_org_id: int) -> list[dict[str, Any]]:
    """The review sessions a report may be narrowed to (``id``, ``code``, ``name``; newest year first): every
    one for an unrestricted ``scope`` (an administrator), else those of authority ``authority_org_id``."""
    s = ReviewSession.__table__
    stmt = select(s.c.id, s.c.code, s.c.name).order_by(s.c.year.desc(), s.c.id)
    if not scope.unrestricted:
        stmt = stmt.where(s.c.authority_org_id == authority_org_id)
    return [dict(r) for r in conn.execute(stmt).mappings()]


# --------------------------------------------------------------------------------------------- definitions


def _versions(conn: Connection, scope: VisibleCases, filt: ReportFilter) -> list[tuple[str, int]]:
    c = Case.__table__
    return [(pid, int(v)) for pid, v in conn.execute(
        select(c.c.pipeline_id, c.c.pipeline_version).where(_where(scope, filt)).distinct()
        .order_by(c.c.pipeline_id, c.c.pipeline_version)).all()]


def _pipelines(db: Database, versions: Iterable[tuple[str, int]]) -> list[Pipeline]:
    return [screen_pipeline(db, pid, v) for pid, v in versions]


def outcome_states(pipelines: Iterable[Pipeline]) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(passed, not passed, certificate) states, read from the definitions as the module docstring explains."""
    passed: set[str] = set()
    failed: set[str] = set()
    certified: set[str] = set()
    for p in pipelines:
        states = p.state_map
        for t in p.transitions:
            if any(states[src].panel_step == "ballot" for src in t.source) and states[t.dest].decided:
                (failed if states[t.dest].outcome == "unfavourable" else passed).add(t.dest)
        certified.update(s.name for s in p.states if s.final and s.outcome == "favourable")
    return frozenset(passed), frozenset(failed), frozenset(certified)


def state_labels(pipelines: Iterable[Pipeline]) -> dict[str, dict[str, str]]:
    """State name → {"zh", "en"} label (the newest definition given wins)."""
    labels: dict[str, dict[str, str]] = {}
    for p in pipelines:
        for s in p.states:
            labels[s.name] = {"zh": s.label.zh, "en": s.label.en}
    return labels


def _optional_exit(transition: TransitionDef) -> bool:
    """A way out that nobody is waited on to take, by what the definition says of it: a destructive step
    offered beside the real next step (the applicant's withdrawal) or an objection anyone entitled may file
    during a notice (its roles are all objectors')."""
    return transition.style == "danger" or (bool(transition.roles) and set(transition.roles) <= OBJECTOR_ROLES)


def waited_on(pipelines: Iterable[Pipeline]) -> dict[tuple[str, int, str], tuple[str, ...]]:
    """(pipeline, version, state) → roles a case in that state waits for (``system`` when only a deadline moves it)."""
    result: dict[tuple[str, int, str], tuple[str, ...]] = {}
    for p in pipelines:
        for s in p.states:
            roles: list[str] = []
            for t in p.transitions:
                if s.name in t.source and not _optional_exit(t):
                    roles.extend(r for r in t.roles if r not in roles)
            if len(roles) > 1 and "system" in roles:
                roles.remove("system")  # a person can act before the deadline: they are the one waited for
            result[(p.id, p.version, s.name)] = tuple(roles)
    return result


# --------------------------------------------------------------------------------------------- the reports


def cases_per_state(conn: Connection, scope: VisibleCases, filt: ReportFilter) -> list[dict[str, Any]]:
    """Case counts per (pipeline, version, state), ordered by pipeline, version and state."""
    c = Case.__table__
    rows = conn.execute(select(c.c.pipeline_id, c.c.pipeline_version, c.c.state, func.count().label("n"))
                        .where(_where(scope, filt))
                        .group_by(c.c.pipeline_id, c.c.pipeline_version, c.c.state)
                        .order_by(c.c.pipeline_id, c.c.pipeline_version, c.c.state)).mappings()
    return [{"pipeline_id": r["pipeline_id"], "version": int(r["pipeline_version"]), "state": r["state"],
             "n": int(r["n"])} for r in rows]


def _big_stage_expr(pipelines: Sequence[Pipeline]) -> ColumnElement[str]:
    c = Case.__table__
    whens = [(and_(c.c.pipeline_id == p.id, c.c.pipeline_version == p.version, c.c.state.in_(states)), big)
             for p in pipelines
             for big in BIG_STAGES
             if (states := [s.name for s in p.states if BIG_STAGE_OF[s.stage] == big])]
    return case(*whens, else_=literal(BIG_STAGES[-1])) if whens else literal(BIG_STAGES[-1])


def cases_per_stage(conn: Connection, pipelines: Sequence[Pipeline], scope: VisibleCases,
                    filt: ReportFilter) -> dict[str, int]:
    """Case counts per big stage (every stage of :data:`BIG_STAGES` present, zero when empty)."""
    stage = _big_stage_expr(pipelines).label("stage")
    counts = {big: 0 for big in BIG_STAGES}
    stmt = select(stage, func.count().label("n")).select_from(Case.__table__).where(_where(scope, filt))
    for big, n in conn.execute(stmt.group_by(stage)).all():
        counts[big] = int(n)
    return counts


def _dimension(name: str):
    c, s, org = Case.__table__, ReviewSession.__table__, Organisation.__table__
    if name == "session":
        return c.c.session_id, [s.c.code, s.c.name]
    if name == "series":
        return c.c.series, []
    if name == "level":
        return c.c.level, []
    if name == "pipeline":
        return c.c.pipeline_id, []
    if name == "firm_type":
        return case((org.c.is_little_giant == true(), "little_giant"), (org.c.is_specialised == true(), "specialised"),
                    else_="other"), []
    raise ValueError(f"unknown dimension {name!r}; expected one of {', '.join(DIMENSIONS)}")


def pass_rates(conn: Connection, pipelines: Sequence[Pipeline], dimension: str, scope: VisibleCases,
               filt: ReportFilter) -> list[dict[str, Any]]:
    """Decided, passed, failed and certified cases and the pass rate per value of ``dimension``.

    Rows with no decided case are left out. ``rate`` is passed / decided (a float 0–1).
    """
    passed, failed, certified = outcome_states(pipelines)
    c, ev, s, org = Case.__table__, CaseEvent.__table__, ReviewSession.__table__, Organisation.__table__
    if not passed and not failed:
        return []
    latest = (select(ev.c.case_id, ev.c.to_state,
                     func.row_number().over(partition_by=ev.c.case_id, order_by=ev.c.seq.desc()).label("rn"))
              .where(ev.c.to_state.in_(sorted(passed | failed))).subquery("decisions"))
    got_certificate = (select(ev.c.case_id).where(ev.c.to_state.in_(sorted(certified) or [""]))
                       .distinct().subquery("certificates"))
    key, extra = _dimension(dimension)
    key = key.label("key")
    is_pass = case((latest.c.to_state.in_(sorted(passed) or [""]), 1), else_=0)
    joined = (c.join(latest, and_(latest.c.case_id == c.c.id, latest.c.rn == 1))
              .outerjoin(got_certificate, got_certificate.c.case_id == c.c.id)
              .outerjoin(s, s.c.id == c.c.session_id)
              .outerjoin(org, org.c.id == c.c.employer_org_id))
    stmt = (select(key, *extra, func.count().label("decided"), func.sum(is_pass).label("passed"),
                   func.count(got_certificate.c.case_id).label("certificates"))
            .select_from(joined).where(_where(scope, filt)).group_by(key, *extra).order_by(key))
    rows = []
    for r in conn.execute(stmt).mappings():
        decided, n_pass = int(r["decided"]), int(r["passed"] or 0)
        row = {"key": r["key"], "decided": decided, "passed": n_pass, "failed": decided - n_pass,
               "certificates": int(r["certificates"]), "rate": n_pass / decided if decided else None}
        if dimension == "session":
            row["code"], row["name"] = r["code"], r["name"]
        rows.append(row)
    return rows


def _stays(scope: VisibleCases, filt: ReportFilter, *extra: ColumnElement[bool]):
    """One row per stay of a case in a state: case, state, entered, left (NULL while it lasts).

    ``extra`` conditions on ``case_file`` narrow the cases before any window is computed.
    """
    ev, c = CaseEvent.__table__, Case.__table__
    entry = case((or_(ev.c.from_state.is_(None), ev.c.from_state != ev.c.to_state), 1), else_=0)
    numbered = (select(ev.c.case_id, ev.c.to_state, ev.c.created_at,
                       func.sum(entry).over(partition_by=ev.c.case_id, order_by=ev.c.seq).label("stay_no"))
                .select_from(ev.join(c, c.c.id == ev.c.case_id)).where(_where(scope, filt), *extra)
                .subquery("numbered"))
    grouped = (select(numbered.c.case_id, numbered.c.stay_no, func.min(numbered.c.to_state).label("state"),
                      func.min(numbered.c.created_at).label("entered"))
               .group_by(numbered.c.case_id, numbered.c.stay_no).subquery("grouped"))
    return select(grouped.c.case_id, grouped.c.stay_no, grouped.c.state, grouped.c.entered,
                  func.lead(grouped.c.entered, type_=UTCDateTime).over(partition_by=grouped.c.case_id,
                                                    order_by=grouped.c.stay_no).label("left")
                  ).subquery("stays")


def _duration(start, end) -> tuple[ColumnElement[float], Any, Any]:
    cal_in = ReportCalendarDay.__table__.alias("cal_in")
    cal_out = ReportCalendarDay.__table__.alias("cal_out")
    value = _working_position(end, cal_out) - _working_position(start, cal_in)
    return value, cal_in, cal_out


def _completed_stays(scope: VisibleCases, filt: ReportFilter) -> Select:
    stays = _stays(scope, filt)
    value, cal_in, cal_out = _duration(stays.c.entered, stays.c.left)
    return (select(stays.c.case_id, stays.c.state, stays.c.entered, stays.c.left, value.label("working_days"))
            .select_from(stays.join(cal_in, cal_in.c.day == china_date(stays.c.entered))
                         .join(cal_out, cal_out.c.day == china_date(stays.c.left)))
            .where(stays.c.left.is_not(None)))


def stay_durations(conn: Connection, scope: VisibleCases, filt: ReportFilter) -> list[dict[str, Any]]:
    """Every completed stay: case id, state, entered, left and its length in working days (by case, time).

    This is the input of :func:`time_in_state`; it is exposed so that single stays can be checked by hand.
    Needs :func:`refresh_calendar` to have covered the events' years.
    """
    rows = conn.execute(_completed_stays(scope, filt).order_by("case_id", "entered")).mappings()
    return [{"case_id": r["case_id"], "state": r["state"], "entered": _as_aware(r["entered"]),
             "left": _as_aware(r["left"]), "working_days": float(r["working_days"])} for r in rows]


def time_in_state(conn: Connection, scope: VisibleCases, filt: ReportFilter,
                  percents: Sequence[int] = PERCENTS) -> list[dict[str, Any]]:
    """Completed stays per state: count, mean, and the percentiles of their length in working days.

    Needs :func:`refresh_calendar` to have covered the events' years.
    """
    stays = _completed_stays(scope, filt).subquery("completed")
    durations = select(stays.c.state.label("key"), stays.c.working_days.label("value"))
    pct = percentiles(durations, percents).subquery("pct")
    means = durations.subquery("d")
    mean = select(means.c.key, func.avg(means.c.value).label("mean")).group_by(means.c.key).subquery("means")
    stmt = select(pct, mean.c.mean).join(mean, mean.c.key == pct.c.key).order_by(pct.c.key)
    return [{"state": r["key"], "n": int(r["n"]), "mean": float(r["mean"]),
             **{f"p{p}": float(r[f"p{p}"]) for p in percents}} for r in conn.execute(stmt).mappings()]


def longest_waits(conn: Connection, pipelines: Sequence[Pipeline], scope: VisibleCases, filt: ReportFilter,
                  now: datetime, limit: int = TOP_WAITS) -> list[dict[str, Any]]:
    """Open cases (submitted, not in a final state) by working days in their current state, longest first."""
    c, u, org, s = Case.__table__, User.__table__, Organisation.__table__, ReviewSession.__table__
    finals = sorted({f for p in pipelines for f in p.finals} | {p.initial for p in pipelines}) or [""]
    open_case = (c.c.state.not_in(finals), c.c.submitted_at.is_not(None))
    stays = _stays(scope, filt, *open_case)
    at_now = bindparam("now", now.astimezone(UTC), type_=UTCDateTime)
    value, cal_in, cal_out = _duration(stays.c.entered, at_now)
    stmt = (select(c.c.id, c.c.reference, c.c.pipeline_id, c.c.pipeline_version, c.c.state, c.c.level,
                   c.c.target_title, u.c.display_name.label("applicant"), org.c.name.label("unit"),
                   s.c.code.label("session"), stays.c.entered, value.label("working_days"))
            .select_from(stays.join(c, c.c.id == stays.c.case_id)
                         .join(u, u.c.id == c.c.applicant_id)
                         .join(org, org.c.id == c.c.unit_org_id)
                         .outerjoin(s, s.c.id == c.c.session_id)
                         .join(cal_in, cal_in.c.day == china_date(stays.c.entered))
                         .join(cal_out, cal_out.c.day == china_date(at_now)))
            .where(stays.c.left.is_(None))
            .order_by(value.desc(), c.c.id).limit(limit))
    who = waited_on(pipelines)
    rows = []
    for r in conn.execute(stmt).mappings():
        row = dict(r)
        row["working_days"] = float(row["working_days"])
        row["entered"] = _as_aware(row["entered"])
        row["roles"] = who.get((r["pipeline_id"], int(r["pipeline_version"]), r["state"]), ())
        rows.append(row)
    return rows


# --------------------------------------------------------------------------------------------- all at once


@dataclass
class Report:
    """Everything the reports page shows, for one scope and filter, at one moment."""

    now: datetime
    stages: dict[str, int]
    states: list[dict[str, Any]]
    rates: dict[str, list[dict[str, Any]]]
    times: list[dict[str, Any]]
    waits: list[dict[str, Any]]
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    outcome: tuple[frozenset[str], frozenset[str], frozenset[str]] = field(
        default_factory=lambda: (frozenset(), frozenset(), frozenset()))


def build_report(db: Database, scope: VisibleCases, filt: ReportFilter, now: datetime) -> Report:
    """All reports for ``scope`` and ``filt``; ``now`` (aware) ends the stays that are still running."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    refresh_calendar(db, now)
    with db.read() as conn:
        versions = _versions(conn, scope, filt)
    pipelines = _pipelines(db, versions)
    with db.read() as conn:
        report = Report(
            now=now,
            stages=cases_per_stage(conn, pipelines, scope, filt),
            states=cases_per_state(conn, scope, filt),
            rates={d: pass_rates(conn, pipelines, d, scope, filt) for d in DIMENSIONS},
            times=time_in_state(conn, scope, filt),
            waits=longest_waits(conn, pipelines, scope, filt, now),
        )
    report.labels = state_labels(pipelines)
    report.outcome = outcome_states(pipelines)
    return report

