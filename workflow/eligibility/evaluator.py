"""The thin orchestrator: try every route the standard offers, keep the one the verdict rests on, and write
the report (rules.md §5 and §7)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import ValidationError

from workflow.eligibility.profiles import ApplicantProfile, ProfileInvalid, Text, error_path, parse_profile
from workflow.eligibility.standards import Standard, standard_from_data
from workflow.pipeline.yamlsource import DefinitionError

from .achievements import AchievementTally
from .basic import BasicConditions
from .bridging import BridgingRoute
from .context import Context, Finding, RouteResult, combine, not_met
from .direct import DirectRoutes
from .education import StandardRoutes
from .evidence_layers import Benefits, RepresentativeWorks, WorkExperience
from .exceptional import ExceptionalRoute
from .report import (
    CRITERION_LABELS,
    EligibilityInputError,
    EligibilityReport,
    Layer,
    Relaxations,
    Route,
    RouteFamily,
    Stage,
    UnitAssessment,
    Verdict,
)

M = TypeVar("M", Relaxations, UnitAssessment)


def _routes(ctx: Context, tally: AchievementTally | None) -> list[RouteResult]:
    """Every route the standard offers for the applicant's channel, open or not."""
    s = ctx.standard
    if ctx.route == Route.BRIDGING:
        return [BridgingRoute().route(ctx, tally)]
    routes = StandardRoutes().routes(
        ctx, tally, open_=ctx.route == Route.NORMAL,
        closed_zh="破格申报通道不按常规学历资历路径核对（符合常规条件的请按常规通道申报）。",
        closed_en="The exceptional channel does not use the normal routes.")
    if s.direct is not None and tally is not None:
        routes += DirectRoutes().routes(ctx, s.direct, tally)
    if s.exceptional is not None:
        is_open = ctx.route == Route.EXCEPTIONAL and ctx.relax.allow_direct_senior
        closed = None
        if not is_open:
            closed = (Text(zh="本评审通道未开放破格（特别优秀人才直接申报高级职称）。",
                           en="This pipeline does not open the exceptional route.")
                      if ctx.route == Route.EXCEPTIONAL else
                      Text(zh="常规申报不适用破格条件（可按破格通道申报）。",
                           en="The normal channel does not use the exceptional rule."))
        routes.append(ExceptionalRoute().route(ctx, s.exceptional, tally, open_=is_open, closed=closed)[0])
    return routes


def _no_route(ctx: Context, routes: list[RouteResult]) -> Finding:
    """The finding when no route is open: why each is closed."""
    if not routes:
        zh = ("本标准未规定破格申报条件。" if ctx.route == Route.EXCEPTIONAL
              else "本标准未设学历资历申报路径（请选择破格或技能贯通通道）。")
        return Finding("route", Layer.EDUCATION, not_met(zh, "The standard has no route for this channel."))
    reasons = {r.closed.zh: r.closed.en for r in routes if r.closed is not None}
    return Finding("route", Layer.EDUCATION, not_met("没有可用的申报路径：" + "".join(reasons),
                                                     "No route is open: " + " ".join(reasons.values())))


def _summary(ctx: Context, findings: list[Finding], chosen: RouteResult | None) -> tuple[Verdict, Text]:
    s = ctx.standard
    overall = combine(findings)
    # A direct route can carry a case on the normal channel (a session that waives the 台阶): name the route.
    direct = chosen is not None and chosen.open and chosen.family in (RouteFamily.DIRECT, RouteFamily.LEADER)
    title = f"{s.title}（{'直接申报' if direct else Route(ctx.route).zh}）"
    via_zh = f"按「{chosen.label.zh}」路径，" if chosen is not None and chosen.open else ""
    via_en = f"On the route '{chosen.label.en}': " if chosen is not None and chosen.open else ""
    if overall == Verdict.NOT_MET:
        names = [CRITERION_LABELS[f.cid] for f in findings if f.blocking]
        return overall, Text(zh=f"{via_zh}不符合申报{title}的条件：{'、'.join(n.zh for n in names)}未满足。",
                             en=f"{via_en}does not meet the conditions for {s.title}: "
                                + ", ".join(n.en for n in names) + ".")
    if overall == Verdict.NEEDS_JUDGEMENT:
        waiting = [CRITERION_LABELS[f.cid].zh for f in findings if f.applies and f.part.verdict != Verdict.MET]
        return overall, Text(zh=f"{via_zh}硬性条件均已满足，{'、'.join(waiting)}待核实或由专家评议。",
                             en=f"{via_en}all hard conditions are met; some items await verification or judgement.")
    return overall, Text(zh=f"{via_zh}符合申报{title}的全部条件。", en=f"{via_en}meets every condition for {s.title}.")


def run(ctx: Context) -> EligibilityReport:
    """Evaluate validated inputs."""
    s = ctx.standard
    tally = AchievementTally(ctx, s.achievements) if s.achievements is not None else None
    head = BasicConditions().check(ctx)
    routes = _routes(ctx, tally)
    tail = WorkExperience().check(ctx, tally) + RepresentativeWorks().check(ctx) + Benefits().check(ctx)
    chosen = min(routes, key=RouteResult.rank) if routes else None  # min() keeps the first of equals
    middle = chosen.findings if chosen is not None and chosen.open else [_no_route(ctx, routes)]
    findings = head + middle + tail
    overall, summary = _summary(ctx, findings, chosen)
    outlook = None
    if ctx.route == Route.NORMAL and overall == Verdict.NOT_MET and s.exceptional is not None:
        blocking = list(dict.fromkeys(f.cid for f in findings if f.blocking))
        outlook = ExceptionalRoute().outlook(ctx, s.exceptional, tally, blocking)
    return EligibilityReport(
        standard_id=s.id, standard_version=s.version, standard_name=s.name, title=s.title, level=s.level,
        route=Route(ctx.route), stage=ctx.stage, as_of=ctx.as_of, relaxations=ctx.relax,
        education_route=chosen.id if chosen is not None and chosen.open else None,
        routes=[r.considered() for r in routes], criteria=[f.criterion() for f in findings], overall=overall,
        summary=summary,
        blocking_reasons=[Text(zh=f"{c.label.zh}：{c.explanation.zh}", en=f"{c.label.en}: {c.explanation.en}")
                          for c in (f.criterion() for f in findings if f.blocking)],
        allows_exceptional=outlook is not None, exceptional_outlook=outlook)


def _model(value: Any, cls: type[M], name: str, problems: list[tuple[str, str]], *, default: M | None,
           must_be: str) -> M | None:
    """``value`` as a ``cls`` (given as one or as a mapping; None gives ``default``), or None with the
    problems added (``must_be`` says in words what was expected)."""
    if value is None:
        return default
    if isinstance(value, cls):
        return value
    if isinstance(value, Mapping):
        try:
            return cls.model_validate(dict(value))
        except ValidationError as err:
            problems.extend((f"{name}.{error_path(tuple(e['loc']))}", e["msg"]) for e in err.errors())
            return None
    problems.append((name, f"{must_be}，实际为 {type(value).__name__} / must be {cls.__name__} or a mapping"))
    return None


def _coerce(profile: Any, standard: Any, route: Any, relaxations: Any, as_of: Any, stage: Any, assessment: Any
            ) -> tuple[ApplicantProfile, Standard, Route, Relaxations, date, Stage, UnitAssessment | None]:
    """Validate the evaluator's inputs, collecting every problem into one EligibilityInputError."""
    problems: list[tuple[str, str]] = []
    prof = std = rt = st = None
    if isinstance(profile, ApplicantProfile):
        prof = profile
    elif isinstance(profile, Mapping):
        try:
            # Entries dated after as_of are legitimate here (re-evaluating history); the evaluator skips them.
            prof = parse_profile(dict(profile), check_future=False)
        except ProfileInvalid as err:
            problems.extend((f"profile.{path}" if path else "profile", msg) for path, msg in err.problems)
    else:
        problems.append(("profile", f"须为 ApplicantProfile 或键值结构，实际为 {type(profile).__name__} / "
                                    "must be an ApplicantProfile or a mapping"))
    if isinstance(standard, Standard):
        std = standard
    elif isinstance(standard, Mapping):
        try:
            std = standard_from_data(dict(standard), "standard")
        except DefinitionError as err:
            problems.extend(("standard", p.message) for p in err.problems)
    else:
        problems.append(("standard", f"须为 Standard 或键值结构，实际为 {type(standard).__name__} / "
                                     "must be a Standard or a mapping"))
    try:
        rt = Route(route)
    except (ValueError, TypeError):
        choices = ", ".join(r.value for r in Route)
        problems.append(("route", f"未知的申报通道 {route!r}，可选：{choices} / unknown route"))
    try:
        st = Stage(stage)
    except (ValueError, TypeError):
        choices = ", ".join(s.value for s in Stage)
        problems.append(("stage", f"未知的审查环节 {stage!r}，可选：{choices} / unknown stage"))
    rel = _model(relaxations, Relaxations, "relaxations", problems, default=Relaxations(),
                 must_be="须为 Relaxations 或键值结构")
    unit = _model(assessment, UnitAssessment, "assessment", problems, default=None,
                  must_be="须为单位考核记录（结果、日期、考核人）")
    if isinstance(as_of, datetime) or not isinstance(as_of, date):
        problems.append(("as_of", f"须为日期（date），实际为 {type(as_of).__name__} / must be a date"))
    if problems or prof is None or std is None or rt is None or rel is None or st is None:
        raise EligibilityInputError(problems)
    return prof, std, rt, rel, as_of, st, unit


def evaluate(profile: ApplicantProfile | Mapping[str, Any], standard: Standard | Mapping[str, Any], *,
             route: Route | str = Route.NORMAL, relaxations: Relaxations | Mapping[str, Any] | None = None,
             as_of: date, stage: Stage | str = Stage.SUBMISSION,
             assessment: UnitAssessment | Mapping[str, Any] | None = None,
             specialty: str | None = None) -> EligibilityReport:
    """Judge ``profile`` against ``standard`` for ``route`` under ``relaxations``, as of ``as_of``.

    ``stage`` is the step judged for (what is pending at ``submission`` is required at ``recommendation``
    and ``recheck``); ``assessment`` is the unit's assessment record when one exists; ``specialty`` is the
    specialty applied for (default: the standard's), which the 破格 recommenders must share. Raises
    :class:`EligibilityInputError` listing every problem of malformed input; otherwise always returns a
    report. Pure: no clock, no I/O, inputs untouched.
    """
    prof, std, rt, rel, day, st, unit = _coerce(profile, standard, route, relaxations, as_of, stage, assessment)
    ctx = Context(profile=prof, standard=std, route=rt, relax=rel, as_of=day, stage=st, assessment=unit,
                  specialty=(specialty or "").strip() or std.specialty)
    return run(ctx)
