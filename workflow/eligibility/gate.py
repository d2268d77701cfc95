"""Where the engine meets the eligibility evaluator: the submission guard, the pinned standard version,
and the authority's re-check.

A case is judged against the standard version in force when it was first submitted (the newest version whose
effective date has come, :func:`workflow.eligibility.standards_store.version_in_force`); that version is pinned on the
case
and every later check (a resubmission, the re-check) uses it, so a later edit of the standard never changes an
earlier applicant's verdict. A standard none of whose versions has taken effect yet judges nothing: the
submission is refused, saying from when it applies.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select, tuple_

from workflow.db import Database
from workflow.eligibility import EligibilityInputError, EligibilityReport, Relaxations, Stage, evaluate
from workflow.eligibility.standards_store import get_standard, latest_version, next_effective
from workflow.engine.context import TransitionContext
from workflow.engine.registry import fact
from workflow.engine.storage import Statement, driver_store
from workflow.models import ApplicantProfile, IntegrityRecord, ReviewSession, StandardVersion, as_utc
from workflow.models.cases import EligibilityRecord

_profile = ApplicantProfile.__table__
_session = ReviewSession.__table__
# Runs inside fire() on every submission and re-check: SQL text on the DBAPI cursor (see workflow.engine.storage). The
# integrity record in force rides along, so a submission's two guards cost one round trip, not two.
# The version is the one in force today (migration 0014): the newest whose effective_from has come. ``today``
# is a date on PostgreSQL and ISO text on SQLite, where dates are stored as ISO text and compare as such.
_APPLICANT_INPUTS = Statement(
    f"SELECT (SELECT MAX(version) FROM {StandardVersion.__tablename__} "
    "WHERE standard_id = :standard_id AND effective_from <= :today), "
    f"(SELECT body FROM {_profile.name} WHERE user_id = :user_id), "
    f"(SELECT MAX(ends_on) FROM {IntegrityRecord.__tablename__} "
    "WHERE user_id = :user_id AND starts_on <= :today AND ends_on > :today)")
_record = EligibilityRecord.__table__
_INSERT_RECORD = Statement(
    f"INSERT INTO {_record.name} (case_id, kind, event_seq, checked_at, checked_by, report, problem) "
    "VALUES (:case_id, :kind, :event_seq, :checked_at, :checked_by, :report, :problem)",
    postgresql=f"INSERT INTO {_record.name} (case_id, kind, event_seq, checked_at, checked_by, report, problem) "
    "VALUES (:case_id, :kind, :event_seq, :checked_at, :checked_by, CAST(:report AS jsonb), :problem)")
_RELAXATION_KEYS = set(Relaxations.model_fields) - {"allow_direct_senior", "local_bridging_channel"}


def relaxations_from(session_relaxations: dict[str, Any] | None, params: dict[str, Any]) -> Relaxations:
    """The waivers in force: a session's relaxations plus its pipeline's policy parameters."""
    fields = {k: v for k, v in (session_relaxations or {}).items() if k in _RELAXATION_KEYS}
    fields["allow_direct_senior"] = bool(params.get("allow_exceptional", False))
    if params.get("direct_after_assessment"):
        # Each bridging entry says how far the local channel shortens its wait (none for 高级工, §7.2).
        fields["local_bridging_channel"] = True
    return Relaxations(**fields)


def relaxations_for(ctx: TransitionContext) -> Relaxations:
    """The waivers in force for this case: the session's relaxations plus the pipeline's policy parameters."""
    session_relax: dict[str, Any] = {}
    if "session_relaxations" in ctx.case:  # the engine loads them with the case row
        session_relax = ctx.case["session_relaxations"] or {}
    elif ctx.case.get("session_id") is not None:
        session_relax = ctx.conn.execute(select(_session.c.relaxations)
                                         .where(_session.c.id == ctx.case["session_id"])).scalar() or {}
    return relaxations_from(session_relax, ctx.params)


def relaxations_for_channel(db: Database, session_id: int | None, route: str) -> tuple[Relaxations, str | None]:
    """The waivers a new case would get in ``session_id`` on ``route`` (for the applicant's pre-check), and the
    pipeline it would run on: the session's newest pipeline of that route (the first by id if several), or
    with no session the first pipeline of that route, without session waivers. No waivers and no pipeline
    when none fits."""
    from workflow.engine.core import effective_params
    from workflow.pipeline.catalog import get_pipeline, latest_versions

    session: dict[str, Any] = {}
    if session_id is not None:
        with db.read() as conn:
            row = conn.execute(select(_session.c.pipeline_ids, _session.c.parameters, _session.c.relaxations)
                               .where(_session.c.id == session_id)).first()
        if row is None:
            return Relaxations(), None
        session = dict(row._mapping)
    versions = latest_versions(db)
    allowed = session.get("pipeline_ids") if session_id is not None else sorted(versions)
    for pipeline_id in sorted(p for p in allowed or [] if p in versions):
        pipeline = get_pipeline(db, pipeline_id, versions[pipeline_id])
        if pipeline.route == route:
            params = effective_params(pipeline, session.get("parameters"))
            return relaxations_from(session.get("relaxations"), params), pipeline_id
    return Relaxations(), None


def stage_of(ctx: TransitionContext) -> Stage:
    """What the firing judges for: the applicant's submission, the unit's recommendation (which records the
    assessment), or the authority's re-check — where a missing unit assessment is no longer pending."""
    if evaluates_eligibility(ctx):
        return Stage.SUBMISSION
    return Stage.RECOMMENDATION if "assessment" in ctx.data else Stage.RECHECK


def assessment_of(ctx: TransitionContext) -> dict[str, Any] | None:
    """The unit's assessment record: the one this firing records, else the one on the case (dated ones only;
    records written before assessments were dated cannot say when, so they count as missing)."""
    record = ctx.data.get("assessment") or ctx.case_data.get("assessment")
    return record if isinstance(record, dict) and record.get("on") else None


def assess(ctx: TransitionContext) -> EligibilityReport | str:
    """The evaluator's report for this case now, or a reason why it cannot be evaluated (the ``eligibility``
    fact: evaluated once per firing)."""
    return ctx.fact("eligibility")


def evaluates_eligibility(ctx: TransitionContext) -> bool:
    """True when this firing's trigger runs the eligibility guard (a submission or resubmission)."""
    # No state is named "", so a case row without one (a bare probe context) matches nothing, as before.
    cands = ctx.pipeline.by_trigger_source.get((ctx.trigger, ctx.case.get("state", "")), ())
    return any("eligibility_met" in c.guards for c in cands)


def applicant_inputs(ctx: TransitionContext) -> tuple[int | None, Any, Any]:
    """(the version of the case's standard in force today, the applicant's profile body, the end of an integrity
    record in force or None) — one statement, once per firing (the ``applicant_inputs`` fact)."""
    return ctx.fact("applicant_inputs")


@fact("applicant_inputs", per_case=True)
def _applicant_inputs(ctx: TransitionContext) -> tuple[int | None, Any, Any]:
    """The case's standard version in force today, the applicant's profile and integrity record end."""
    today = driver_store(ctx.conn.dialect.name).value(ctx.today)
    return tuple(_APPLICANT_INPUTS.run(ctx.conn, {
        "standard_id": ctx.case.get("standard_id"), "user_id": ctx.case["applicant_id"],
        "today": today}).fetchone())


@fact("eligibility")
def _assess(ctx: TransitionContext) -> EligibilityReport | str:
    """The evaluator's report for this firing's stage, or why the case cannot be evaluated."""
    standard_id = ctx.case.get("standard_id")
    if not standard_id:
        return "尚未选择评价标准，请在申报信息中选择所申报职称对应的评价标准"
    # The version in force today (unless one is pinned) and the profile in one round trip.
    version, body, _ = applicant_inputs(ctx)
    version = ctx.case.get("standard_version") or version
    standard = get_standard(ctx.conn, standard_id, version) if version else None
    if standard is None:
        return _not_in_force(ctx.conn, standard_id, ctx.today)
    if isinstance(body, str):  # JSON text on SQLite
        body = json.loads(body)
    if not body:
        return "请先填写个人信息（学历、职称、工作经历、业绩成果等），系统据此核对申报条件"
    try:
        return evaluate(body, standard, route=ctx.case.get("route") or "normal",
                        relaxations=relaxations_for(ctx), as_of=ctx.today, stage=stage_of(ctx),
                        assessment=assessment_of(ctx), specialty=ctx.case.get("specialty"))
    except EligibilityInputError as err:
        return f"个人信息需修改后才能核对申报条件：{err.message_zh}"


def _not_in_force(conn: Connection, standard_id: str, today: date) -> str:
    """Why no version of ``standard_id`` can judge a case today: none has taken effect yet (with the date one
    does), or the id is not stored at all. Off the hot path: only a refused submission asks."""
    newest = latest_version(conn, standard_id)
    standard = get_standard(conn, standard_id, newest) if newest else None
    if standard is None:
        return f"评价标准“{standard_id}”不存在或已停用"
    starts = next_effective(conn, standard_id, today)
    when = f"，自{starts.year}年{starts.month}月{starts.day}日起施行" if starts else ""
    return f"评价标准“{standard.name.zh}”尚未生效{when}，生效前不能按该标准提交申报"


def refusal_for(ctx: TransitionContext) -> str | None:
    """None when the case may go forward; else the reasons, in Chinese, taken from the evaluator.

    A normal-route case that fails hard criteria still goes forward when the pipeline allows the 破格 route
    and the applicant's evidence for it is complete; the case records that it proceeds on that basis.
    """
    report = assess(ctx)
    if isinstance(report, str):
        return report
    if report.can_submit:
        return None
    outlook = report.exceptional_outlook
    if ctx.case.get("route") == "normal" and ctx.params.get("allow_exceptional") and outlook and outlook.ready:
        ctx.cache["basis"] = "exceptional"
        return None
    return "不符合申报条件：" + "；".join(reason.zh for reason in report.blocking_reasons)


def pin_standard_on_submit(ctx: TransitionContext) -> None:
    """Pin the standard version in force at first submission and keep the verdict given then."""
    report = assess(ctx)
    if not isinstance(report, EligibilityReport):
        return
    if ctx.case.get("standard_version") is None:
        ctx.case_updates["standard_version"] = report.standard_version
    _store(ctx, "submission", report, "")
    ctx.data_updates["eligibility_basis"] = ctx.cache.get("basis", "normal")
    ctx.payload["eligibility"] = {"standard": report.standard_id, "version": report.standard_version,
                                  "overall": report.overall.value}


def record_recheck(ctx: TransitionContext, kind: str = "recheck") -> None:
    """Store the evaluator's verdict now, against the pinned version, with who and when (or why the case
    could not be evaluated): the authority's re-check, or (``kind="recommend"``) the unit's
    recommendation, which records the unit assessment bridging depends on."""
    report = assess(ctx)
    if isinstance(report, EligibilityReport):
        _store(ctx, kind, report, "")
        ctx.payload["eligibility"] = {"standard": report.standard_id, "version": report.standard_version,
                                      "overall": report.overall.value}
    else:
        _store(ctx, kind, None, report)


def _store(ctx: TransitionContext, kind: str, report: EligibilityReport | None, problem: str) -> None:
    """Add an :class:`EligibilityRecord` in the transition's transaction, numbered by its event."""
    hp = driver_store(ctx.conn.dialect.name)
    # pydantic serialises straight to JSON text (~3x faster than model_dump + json.dumps); the database
    # parses it (CAST … AS jsonb on PostgreSQL, JSON text as SQLAlchemy would store it on SQLite).
    _INSERT_RECORD.run(ctx.conn, {
        "case_id": ctx.case["id"], "kind": kind, "event_seq": ctx.case["version"] + 1,
        "checked_at": hp.value(ctx.now), "checked_by": ctx.actor.user_id,
        "report": report.model_dump_json() if report is not None else None, "problem": problem})


def latest_reports(conn: Connection, case_id: int) -> dict[str, dict[str, Any]]:
    """The newest stored eligibility record of each kind (``submission``, ``recommend``, ``recheck``):
    ``{"report": dict | None, "problem": str, "checked_at": datetime, "by": user id | None}`` each."""
    newest = (select(_record.c.kind, func.max(_record.c.event_seq)).where(_record.c.case_id == case_id)
              .group_by(_record.c.kind))
    rows = conn.execute(select(_record.c.kind, _record.c.report, _record.c.problem, _record.c.checked_at,
                               _record.c.checked_by)
                        .where(_record.c.case_id == case_id,
                               tuple_(_record.c.kind, _record.c.event_seq).in_(newest)))
    return {row.kind: {"report": row.report, "problem": row.problem, "checked_at": as_utc(row.checked_at),
                       "by": row.checked_by} for row in rows}
