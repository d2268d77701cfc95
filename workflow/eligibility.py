"""The eligibility engine: does an applicant's profile meet an occupation standard, and why (or why not)?

:func:`evaluate` checks every criterion of a :class:`~workflow.standards.Standard` against an
:class:`~workflow.profiles.ApplicantProfile` for one route (normal, 破格 exceptional, or skill
bridging) under a session's :class:`Relaxations`, and returns an :class:`EligibilityReport`: each
criterion with a verdict (met / not met / needs expert judgement), a plain explanation in Chinese and
English that cites the numbers and dates, the profile entries used and the thresholds applied with their
provenance.

The evaluator is pure: the reference date ``as_of`` is an argument (there is no "today" in here), the inputs
are not modified, and the same inputs always give the same report. Durations are full calendar years (or
months) between dates, the way 周岁 and 任职年限 are counted: a title obtained on 2019-07-01 has been held
5 full years on 2024-07-01, not on 2024-06-30.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import WorkflowError
from .profiles import (
    Achievement,
    AchievementKind,
    ApplicantProfile,
    Education,
    ProfileInvalid,
    SkillCertificate,
    Text,
    TitleHeld,
    TitleLevel,
    Vocabulary,
    WorkKind,
    error_path,
    parse_profile,
    register_labels,
)
from .standards import (
    BridgingEntry,
    EducationRoute,
    Sourced,
    Standard,
    Tag,
    Threshold,
    standard_from_data,
)
from .yamlsource import DefinitionError

# ------------------------------------------------------------------------------------------------------------
# Vocabularies of the report
# ------------------------------------------------------------------------------------------------------------


class Verdict(Vocabulary):
    """The outcome of one criterion, and of the whole evaluation."""

    MET = "met"
    NOT_MET = "not_met"
    NEEDS_JUDGEMENT = "needs_judgement"


register_labels(Verdict, {
    "met": ("符合", "Met"),
    "not_met": ("不符合", "Not met"),
    "needs_judgement": ("待核实/专家评议", "Needs verification or expert judgement"),
})


class Route(Vocabulary):
    """How the applicant applies: the usual conditions, the 破格 route, or skilled-worker bridging."""

    NORMAL = "normal"
    EXCEPTIONAL = "exceptional"
    BRIDGING = "bridging"


register_labels(Route, {
    "normal": ("常规申报", "Normal route"),
    "exceptional": ("破格申报（特别优秀人才直接申报）", "Exceptional route (direct senior)"),
    "bridging": ("技能人才贯通申报", "Skilled-worker bridging"),
})


class Layer(Vocabulary):
    """The layer of the standard a criterion belongs to (rules.md §5), for grouping in the UI."""

    BASIC = "basic"
    EDUCATION = "education"
    LADDER = "ladder"
    EXPERIENCE = "experience"
    ACHIEVEMENTS = "achievements"
    WORKS = "works"
    BENEFITS = "benefits"
    EXCEPTIONAL = "exceptional"
    BRIDGING = "bridging"


register_labels(Layer, {
    "basic": ("基本条件", "Basic conditions"),
    "education": ("学历资历", "Education and years"),
    "ladder": ("台阶", "Ladder"),
    "experience": ("工作经历", "Work experience"),
    "achievements": ("业绩成果", "Achievements"),
    "works": ("代表作", "Representative works"),
    "benefits": ("经济社会效益", "Economic and social benefits"),
    "exceptional": ("破格条件", "Exceptional route"),
    "bridging": ("技能贯通", "Skill bridging"),
})

RelaxationName = Literal["waive_ladder", "waive_age", "waive_papers", "waive_foreign_language",
                         "allow_direct_senior", "bridging_waiting_years_override"]


class Relaxations(BaseModel):
    """What a session or pipeline relaxes compared with the standard (湘人社规〔2022〕22号 measure 4 and 5).

    The defaults relax nothing. ``allow_direct_senior`` opens the 破格 route (set it from the pipeline's
    ``allow_exceptional`` parameter). ``bridging_waiting_years_override`` replaces the national waiting years
    after a skill certificate (0 = Hunan's direct application after the unit's assessment). ``source`` cites
    the policy, and is quoted in the explanations of relaxed criteria.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    waive_ladder: bool = False
    waive_age: bool = False
    waive_papers: bool = False
    waive_foreign_language: bool = False
    allow_direct_senior: bool = False
    bridging_waiting_years_override: int | None = Field(default=None, ge=0, le=20)
    source: str = ""


# ------------------------------------------------------------------------------------------------------------
# The report
# ------------------------------------------------------------------------------------------------------------


class Evidence(BaseModel):
    """A profile entry a criterion relied on: its path in the profile (``titles[0]``) and a description."""

    model_config = ConfigDict(frozen=True)

    path: str
    summary: Text


class ThresholdUse(BaseModel):
    """A requirement of the standard a criterion applied, with its provenance; ``applied`` differs from
    ``value`` when a relaxation changed it."""

    model_config = ConfigDict(frozen=True)

    path: str
    value: int | None = None
    applied: int | None = None
    tag: Tag
    tag_label: Text
    source: str


class Criterion(BaseModel):
    """One checked condition: verdict, whether it blocks submission when not met, and the explanation.

    ``applies`` is False for a criterion the route does not enforce (the 破格 route bypasses education and
    the 台阶): it is still evaluated and shown, for the reviewers' information, but never affects the verdict.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    layer: Layer
    label: Text
    verdict: Verdict
    hard: bool
    explanation: Text
    evidence: list[Evidence] = []
    thresholds: list[ThresholdUse] = []
    relaxation: RelaxationName | None = None
    applies: bool = True

    @property
    def blocking(self) -> bool:
        """True when this criterion alone prevents submission."""
        return self.applies and self.hard and self.verdict == Verdict.NOT_MET


class RouteOutcome(BaseModel):
    """How the applicant fares on one education + years route of the standard (all routes are tried)."""

    model_config = ConfigDict(frozen=True)

    id: str
    label: Text
    verdict: Verdict
    details: list[Text]


class ExceptionalOutlook(BaseModel):
    """Whether the 破格 route could overcome a normal-route evaluation's hard failures, and what's missing."""

    model_config = ConfigDict(frozen=True)

    overcomes: list[str]
    ready: bool
    missing: list[Text]
    explanation: Text


class EligibilityReport(BaseModel):
    """The full result of :func:`evaluate`; ``model_dump(mode="json")`` is the body to store on a case."""

    model_config = ConfigDict(frozen=True)

    standard_id: str
    standard_version: int
    standard_name: Text
    title: str
    level: TitleLevel
    route: Route
    as_of: date
    relaxations: Relaxations
    education_route: str | None = None
    route_outcomes: list[RouteOutcome] = []
    criteria: list[Criterion]
    overall: Verdict
    summary: Text
    blocking_reasons: list[Text]
    allows_exceptional: bool = False
    exceptional_outlook: ExceptionalOutlook | None = None

    @property
    def can_submit(self) -> bool:
        """True when no hard criterion is unmet (criteria needing judgement go to the reviewers)."""
        return self.overall != Verdict.NOT_MET

    def criterion(self, criterion_id: str) -> Criterion:
        """The criterion with this id; KeyError naming the ids present when there is none."""
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(f"no criterion {criterion_id!r} in this report (present: {', '.join(self.ids())})")

    def ids(self) -> list[str]:
        """The criterion ids in report order."""
        return [c.id for c in self.criteria]


class EligibilityInputError(WorkflowError):
    """The evaluator was given something it cannot judge; ``problems`` lists (where, what) pairs."""

    status = 422

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        text = "；".join(f"{where}: {what}" if where else what for where, what in problems)
        super().__init__("无法进行资格审查：" + text, "Cannot evaluate eligibility: " + text)


# ------------------------------------------------------------------------------------------------------------
# Dates
# ------------------------------------------------------------------------------------------------------------


def anniversary(start: date, years: int) -> date:
    """The day ``years`` full years after ``start`` are complete (29 February rolls to 1 March)."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return date(start.year + years, 3, 1)


def full_years(start: date, end: date) -> int:
    """Full years from ``start`` to ``end`` (0 when ``end`` is not after ``start``)."""
    years = end.year - start.year
    if years > 0 and anniversary(start, years) > end:
        years -= 1
    return max(years, 0)


def full_months(start: date, end: date) -> int:
    """Full calendar months from ``start`` to ``end`` (0 when ``end`` is not after ``start``)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return max(months, 0)


def _ym(months: int) -> tuple[str, str]:
    years, rest = divmod(months, 12)
    zh = f"{years} 年" + (f" {rest} 个月" if rest else "")
    en = f"{years} year{'s' if years != 1 else ''}"
    if rest:
        en += f" {rest} month{'s' if rest != 1 else ''}"
    return zh, en


# ------------------------------------------------------------------------------------------------------------
# Evaluation
# ------------------------------------------------------------------------------------------------------------


@dataclass
class _Part:
    """A criterion under construction: verdict, explanation, evidence and thresholds."""

    verdict: Verdict
    zh: str
    en: str
    evidence: list[Evidence] = field(default_factory=list)
    thresholds: list[ThresholdUse] = field(default_factory=list)
    relaxation: RelaxationName | None = None


def _met(zh: str, en: str, evidence: list[Evidence] | None = None, uses: list[ThresholdUse] | None = None,
         relaxation: RelaxationName | None = None) -> _Part:
    return _Part(Verdict.MET, zh, en, evidence or [], uses or [], relaxation)


def _not_met(zh: str, en: str, evidence: list[Evidence] | None = None,
             uses: list[ThresholdUse] | None = None) -> _Part:
    return _Part(Verdict.NOT_MET, zh, en, evidence or [], uses or [])


def _pending(zh: str, en: str, evidence: list[Evidence] | None = None, uses: list[ThresholdUse] | None = None,
             relaxation: RelaxationName | None = None) -> _Part:
    return _Part(Verdict.NEEDS_JUDGEMENT, zh, en, evidence or [], uses or [], relaxation)


@dataclass
class _RouteCheck:
    """One education route evaluated part by part."""

    route: EducationRoute
    education: _Part
    ladder: _Part
    specialty: _Part | None

    def parts(self) -> list[_Part]:
        return [p for p in (self.education, self.ladder, self.specialty) if p is not None]

    @property
    def failures(self) -> int:
        return sum(p.verdict != Verdict.MET for p in self.parts())


@dataclass
class _Option:
    """One way of evidencing the 破格 route (achievements, or senior experts' recommendations)."""

    verdict: Verdict
    zh: str
    en: str
    missing: Text | None
    evidence: list[Evidence]
    threshold: ThresholdUse


_LABELS: dict[str, tuple[str, str]] = {
    "standard_in_force": ("评价标准有效期", "Standard in force"),
    "not_retired": ("未退休", "Not retired"),
    "no_sanction": ("无影响期内的处分", "No sanction in force"),
    "no_integrity_record": ("无有效期内的诚信记录", "No integrity record in force"),
    "continuing_education": ("继续教育学时", "Continuing education"),
    "age": ("年龄", "Age"),
    "foreign_language": ("外语", "Foreign language"),
    "education": ("学历", "Education"),
    "ladder": ("台阶（取得下一级职称年限）", "Ladder (years with the lower title)"),
    "specialty_years": ("从事本专业工作年限", "Years of work in the specialty"),
    "work_experience": ("工作经历", "Work experience"),
    "achievements": ("业绩成果", "Achievements"),
    "representative_works": ("代表作", "Representative works"),
    "benefits": ("经济社会效益", "Economic and social benefits"),
    "exceptional": ("破格条件", "Exceptional-route evidence"),
    "skill_certificate": ("职业技能等级证书", "Skill certificate"),
    "bridging_waiting_years": ("取得技能等级后年限", "Years since the skill certificate"),
    "unit_assessment": ("单位考核推荐", "Unit assessment and recommendation"),
}

CRITERION_LABELS: dict[str, Text] = {k: Text(zh=zh, en=en) for k, (zh, en) in _LABELS.items()}
"""Criterion id → label. The ids are stable: the UI, stored reports and tests refer to them."""


def _use(path: str, sourced: Sourced, applied: int | None = None) -> ThresholdUse:
    value = sourced.value if isinstance(sourced, Threshold) else None
    return ThresholdUse(path=path, value=value, applied=value if applied is None else applied,
                        tag=sourced.tag, tag_label=sourced.tag.text, source=sourced.source)


def _kinds_zh(kinds: Iterable[Vocabulary]) -> str:
    return "、".join(k.zh for k in kinds)


def _kinds_en(kinds: Iterable[Vocabulary]) -> str:
    return ", ".join(k.en for k in kinds)


_Indexed = tuple[int, Achievement]
"""An achievement with its index in the profile (the index becomes the evidence path)."""


def _skipped_zh(reasons: list[str]) -> str:
    return f"（不计入：{'；'.join(reasons)}）" if reasons else ""


class _Evaluation:
    """One evaluation run: the inputs, one method per layer, and the criteria produced so far."""

    def __init__(self, profile: ApplicantProfile, standard: Standard, route: Route, relax: Relaxations,
                 as_of: date) -> None:
        self.p = profile
        self.s = standard
        self.route = route
        self.relax = relax
        self.as_of = as_of
        self.day = as_of.isoformat()
        self.criteria: list[Criterion] = []
        self.chosen_route: str | None = None
        self.route_outcomes: list[RouteOutcome] = []
        self._specialty: tuple[int, list[Evidence]] | None = None
        self._graduated: list[tuple[int, Education]] | None = None

    # ---------------------------------------------------------------- assembling

    def add(self, cid: str, layer: Layer, part: _Part, *, hard: bool = True, bypassed: bool = False) -> None:
        zh, en = part.zh, part.en
        if bypassed:
            zh, en = f"破格申报不以此为硬性条件；{zh}", f"Not binding on the exceptional route; {en}"
        self.criteria.append(Criterion(
            id=cid, layer=layer, label=CRITERION_LABELS[cid], verdict=part.verdict,
            hard=hard and not bypassed, explanation=Text(zh=zh, en=en), evidence=part.evidence,
            thresholds=part.thresholds, relaxation=part.relaxation, applies=not bypassed))

    def policy(self, fallback: Sourced | None = None) -> tuple[str, str]:
        """How to cite the policy behind a relaxation: the session's source, else the standard's."""
        cited = self.relax.source or (fallback.source if fallback is not None else "")
        return (f"（依据：{cited}）", f" (per {cited})") if cited else ("", "")

    def run(self) -> None:
        self.basic()
        if self.route == Route.BRIDGING:
            self.bridging()
        else:
            self.education_and_ladder()
        self.work_experience()
        self.achievements()
        self.works()
        self.benefits()
        if self.route == Route.EXCEPTIONAL:
            self.exceptional()

    # ---------------------------------------------------------------- layer 1: basic conditions

    def basic(self) -> None:
        self.add("standard_in_force", Layer.BASIC, self.standard_in_force())
        b = self.s.basic
        if b.not_retired is not None:
            self.add("not_retired", Layer.BASIC, self.not_retired(b.not_retired))
        if b.no_sanction is not None:
            self.add("no_sanction", Layer.BASIC, self.no_sanction(b.no_sanction))
        if b.no_integrity_record is not None:
            self.add("no_integrity_record", Layer.BASIC, self.no_integrity_record(b.no_integrity_record))
        if b.continuing_education is not None:
            self.add("continuing_education", Layer.BASIC, self.continuing_education())
        if b.max_age is not None:
            self.add("age", Layer.BASIC, self.age(b.max_age))
        if b.foreign_language is not None:
            self.add("foreign_language", Layer.BASIC, self.foreign_language(b.foreign_language))

    def standard_in_force(self) -> _Part:
        s = self.s
        start = s.effective_from.isoformat()
        end = s.effective_until.isoformat() if s.effective_until else None
        period = f"{start} 至 {end}" if end else f"{start} 起长期有效"
        head_zh = f"《{s.name.zh}》第 {s.version} 版有效期为 {period}，"
        head_en = f"Version {s.version} is in force from {start} to {end or 'no end date'}"
        if s.in_force(self.as_of):
            return _met(f"{head_zh}{self.day} 在有效期内。", f"{head_en}.")
        return _not_met(f"{head_zh}{self.day} 不在有效期内，须按当时有效的标准版本申报。",
                        f"{head_en}, which does not cover {self.day}.")

    def not_retired(self, rule: Sourced) -> _Part:
        retired = self.p.retired
        ev = [Evidence(path="retired", summary=Text(zh="已退休" if retired else "未退休",
                                                     en="retired" if retired else "not retired"))]
        uses = [_use("basic.not_retired", rule)]
        if retired:
            return _not_met("申报人已退休，退休人员不得申报职称评审。",
                            "The applicant is retired; retired people may not apply.", ev, uses)
        return _met("申报人未退休。", "The applicant is not retired.", ev, uses)

    def no_sanction(self, rule: Sourced) -> _Part:
        uses = [_use("basic.no_sanction", rule)]
        active = [(i, x) for i, x in enumerate(self.p.sanctions) if x.in_force(self.as_of)]
        if not active:
            past = len(self.p.sanctions)
            extra = f"（已过影响期的处分 {past} 项不影响申报）" if past else ""
            return _met(f"无影响期内的处分{extra}。", "No sanction is in force.", [], uses)
        x = active[0][1]
        start = x.start.isoformat()
        end_zh = x.end.isoformat() if x.end else "未定"
        end_en = x.end.isoformat() if x.end else "open-ended"
        ev = [Evidence(path=f"sanctions[{i}]", summary=y.kind.text) for i, y in active]
        return _not_met(f"{self.day} 处于处分影响期内：{x.kind.zh}（{start} 至 {end_zh}），"
                        "影响期内不得申报。",
                        f"A sanction is in force on {self.day}: {x.kind.en} ({start} to {end_en}).", ev, uses)

    def no_integrity_record(self, rule: Sourced) -> _Part:
        uses = [_use("basic.no_integrity_record", rule)]
        until = self.p.integrity_record_until
        if until is None:
            return _met("无诚信记录。", "No integrity record.", [], uses)
        end = until.isoformat()
        if self.as_of > until:
            return _met(f"诚信记录已于 {end} 到期，不影响申报。", f"The integrity record ended on {end}.",
                        [], uses)
        ev = [Evidence(path="integrity_record_until",
                       summary=Text(zh=f"诚信记录至 {end}", en=f"record until {end}"))]
        free = (until + timedelta(days=1)).isoformat()
        return _not_met(f"存在诚信记录，有效期至 {end}，期间不得申报（{free} 起可申报）。",
                        f"An integrity record is in force until {end}; no application before {free}.",
                        ev, uses)

    def continuing_education(self) -> _Part:
        rule = self.s.basic.continuing_education
        assert rule is not None
        need, span = rule.hours_per_year.value, rule.years_checked.value
        uses = [_use("basic.continuing_education.hours_per_year", rule.hours_per_year),
                _use("basic.continuing_education.years_checked", rule.years_checked)]
        years = list(range(self.as_of.year - span, self.as_of.year))
        starts = [w.start for w in self.p.work_history if w.start <= self.as_of]
        if starts:  # only years since the applicant started working can be asked for
            years = [y for y in years if y >= min(starts).year]
        if not years:
            return _met("参加工作不足一个完整年度，无须核查继续教育学时。",
                        "Less than one full calendar year of work: nothing to check.", [], uses)
        hours = {c.year: (i, c.hours) for i, c in enumerate(self.p.continuing_education)}
        ev = [Evidence(path=f"continuing_education[{hours[y][0]}]",
                       summary=Text(zh=f"{y} 年 {hours[y][1]:g} 学时", en=f"{y}: {hours[y][1]:g} hours"))
              for y in years if y in hours]
        short = [y for y in years if y not in hours or hours[y][1] < need]
        span_zh = f"{years[0]}—{years[-1]} 年" if len(years) > 1 else f"{years[0]} 年"
        if not short:
            listed = "，".join(f"{y} 年 {hours[y][1]:g} 学时" for y in years)
            return _met(f"{span_zh}继续教育学时均达到每年 {need} 学时（{listed}）。",
                        f"At least {need} hours in each year {years[0]}–{years[-1]}.", ev, uses)
        gaps = "，".join(f"{y} 年 {hours[y][1]:g} 学时" if y in hours else f"{y} 年未填报" for y in short)
        gaps_en = ", ".join(f"{y}: {hours[y][1]:g} hours" if y in hours else f"{y}: none reported"
                            for y in short)
        return _not_met(f"继续教育学时未达到每年 {need} 学时：{gaps}（核查 {span_zh}）。",
                        f"Continuing education below {need} hours a year: {gaps_en}.", ev, uses)

    def age(self, limit: Threshold) -> _Part:
        age, cap = full_years(self.p.birth_date, self.as_of), limit.value
        uses = [_use("basic.max_age", limit)]
        born = self.p.birth_date.isoformat()
        ev = [Evidence(path="birth_date", summary=Text(zh=f"出生日期 {born}", en=f"born {born}"))]
        if age <= cap:
            return _met(f"至 {self.day} 年满 {age} 周岁，不超过 {cap} 周岁。",
                        f"Aged {age} on {self.day}, within the limit of {cap}.", ev, uses)
        if self.relax.waive_age:
            cite_zh, cite_en = self.policy()
            return _met(f"已按本场政策放宽年龄限制{cite_zh}：至 {self.day} 年满 {age} 周岁"
                        f"（标准上限 {cap} 周岁）。",
                        f"Age limit of {cap} waived by the session{cite_en}; the applicant is {age}.",
                        ev, uses, "waive_age")
        return _not_met(f"至 {self.day} 年满 {age} 周岁，超过 {cap} 周岁的年龄上限。",
                        f"Aged {age} on {self.day}, above the limit of {cap}.", ev, uses)

    def foreign_language(self, rule: Sourced) -> _Part:
        uses = [_use("basic.foreign_language", rule)]
        passed = [(i, c) for i, c in enumerate(self.p.foreign_language) if c.passed_on <= self.as_of]
        if passed:
            ev = [Evidence(path=f"foreign_language[{i}]",
                           summary=Text(zh=f"{c.language} {c.name}", en=f"{c.language} {c.name}"))
                  for i, c in passed]
            c = passed[0][1]
            return _met(f"已取得外语合格证明：{c.language} {c.name}（{c.passed_on.isoformat()}）。",
                        f"Foreign-language qualification: {c.language} {c.name}.", ev, uses)
        if self.relax.waive_foreign_language:
            cite_zh, cite_en = self.policy()
            return _met(f"本场评审不作外语要求{cite_zh}。", f"No foreign-language requirement here{cite_en}.",
                        [], uses, "waive_foreign_language")
        return _not_met("本标准要求外语合格证明，申报人未填报。",
                        "The standard asks for a foreign-language qualification; none is declared.", [], uses)

    # ---------------------------------------------------------------- layers 2 and 3: education, years, 台阶

    def education_and_ladder(self) -> None:
        s = self.s
        bypassed: set[str] = set()
        if self.route == Route.EXCEPTIONAL and s.exceptional is not None:
            bypassed = set(s.exceptional.bypasses)
        if not s.education_routes:
            self.add("education", Layer.EDUCATION, _not_met(
                "本标准未设常规的学历资历申报路径（请选择破格或技能贯通通道）。",
                "The standard has no education route; use the exceptional or bridging route."),
                bypassed="education" in bypassed)
            return
        checks = [self.check_route(i, r) for i, r in enumerate(s.education_routes)]
        self.route_outcomes = [
            RouteOutcome(id=c.route.id, label=c.route.label,
                         verdict=Verdict.MET if c.failures == 0 else Verdict.NOT_MET,
                         details=[Text(zh=p.zh, en=p.en) for p in c.parts()])
            for c in checks]
        # Report against the first route that is fully met; failing that, the route closest to being met among
        # those whose education fits (the one the applicant most plausibly aims at).
        chosen = next((c for c in checks if c.failures == 0), None)
        if chosen is None:
            edu_ok = [c for c in checks if c.education.verdict == Verdict.MET]
            chosen = min(edu_ok or checks, key=lambda c: c.failures)  # min() keeps the first of equals
        self.chosen_route = chosen.route.id
        label = chosen.route.label
        if any(c.education.verdict == Verdict.MET for c in checks):
            edu = self.prefixed(chosen.education, label)
        else:
            edu = self.no_education_route(checks)
        self.add("education", Layer.EDUCATION, edu, bypassed="education" in bypassed)
        self.add("ladder", Layer.LADDER, self.prefixed(chosen.ladder, label), bypassed="ladder" in bypassed)
        if chosen.specialty is not None:
            self.add("specialty_years", Layer.EDUCATION, self.prefixed(chosen.specialty, label),
                     bypassed="specialty_years" in bypassed)

    @staticmethod
    def prefixed(part: _Part, label: Text) -> _Part:
        return _Part(part.verdict, f"按「{label.zh}」路径：{part.zh}", f"Route '{label.en}': {part.en}",
                     part.evidence, part.thresholds, part.relaxation)

    def check_route(self, index: int, route: EducationRoute) -> _RouteCheck:
        specialty = None
        if route.specialty_years is not None:
            # The route's position is passed in: list.index() compared whole pydantic models (~60 µs a check).
            where = f"education_routes[{index}].specialty_years"
            specialty = self.specialty_years(route.specialty_years, where)
        return _RouteCheck(route, self.route_education(route), self.route_ladder(route, index), specialty)

    def graduated(self) -> list[tuple[int, Education]]:
        if self._graduated is None:  # asked once per education route and again for the summary
            self._graduated = [(i, e) for i, e in enumerate(self.p.education) if e.graduated_on <= self.as_of]
        return list(self._graduated)

    def route_education(self, route: EducationRoute) -> _Part:
        level_ok = [(i, e) for i, e in self.graduated() if e.level.at_least(route.min_education)]
        fitting = [(i, e) for i, e in level_ok if e.major_related or not route.related_major]
        need_zh = f"{route.min_education.zh}及以上学历"
        need_en = f"{route.min_education.en} or higher"
        if route.related_major:
            need_zh += "（所学专业须与申报专业相关）"
            need_en += " in a related major"
        if fitting:
            i, e = max(fitting, key=lambda ie: ie[1].level.rank)
            return _met(f"具备{need_zh}：{e.summary().zh}。", f"Has {need_en}: {e.summary().en}.",
                        [Evidence(path=f"education[{i}]", summary=e.summary())])
        if level_ok:
            i, e = level_ok[0]
            return _not_met(f"所学专业（{e.major}）未申明与申报专业（{self.s.specialty}）相关，"
                            f"本路径要求{need_zh}。",
                            f"The major ({e.major}) is not declared related to {self.s.specialty}; "
                            f"the route asks for {need_en}.",
                            [Evidence(path=f"education[{i}]", summary=e.summary())])
        return _not_met(f"{self.highest_zh()}，本路径要求{need_zh}。",
                        f"{self.highest_en()}; the route asks for {need_en}.")

    def highest(self) -> tuple[int, Education] | None:
        graduated = self.graduated()
        return max(graduated, key=lambda ie: ie[1].level.rank) if graduated else None

    def highest_zh(self) -> str:
        best = self.highest()
        return f"最高学历为{best[1].level.zh}（{best[1].major}）" if best else "未填报学历"

    def highest_en(self) -> str:
        best = self.highest()
        return f"highest education is {best[1].level.en}" if best else "no education declared"

    def no_education_route(self, checks: list[_RouteCheck]) -> _Part:
        best = self.highest()
        ev = [Evidence(path=f"education[{best[0]}]", summary=best[1].summary())] if best else []
        # Evidence on a failed education part means the level fits but the major does not: say so precisely.
        by_major = [c for c in checks if c.education.evidence]
        if by_major:
            return _not_met(by_major[0].education.zh, by_major[0].education.en, ev)
        options_zh = "；".join(f"{c.route.label.zh}（{c.route.min_education.zh}及以上）" for c in checks)
        options_en = "; ".join(f"{c.route.label.en} ({c.route.min_education.en} or higher)" for c in checks)
        return _not_met(f"{self.highest_zh()}，不符合任一申报路径的学历要求（{options_zh}）。",
                        f"{self.highest_en()}, which fits no route ({options_en}).", ev)

    def ladder_candidates(self) -> list[tuple[int, TitleHeld]]:
        """Titles counting as the 台阶: ladder level or above, below the target, in an accepted series."""
        ladder = self.s.ladder
        assert ladder is not None
        series = ladder.accepted_series or [self.s.series]
        return [(i, t) for i, t in enumerate(self.p.titles)
                if t.level.at_least(ladder.level) and t.level.rank < self.s.level.rank and t.series in series]

    def route_ladder(self, route: EducationRoute, index: int) -> _Part:
        ladder = self.s.ladder
        if route.ladder_years is None:
            if ladder is None:
                return _met("本标准无台阶要求。", "The standard has no ladder requirement.")
            return _met(f"本路径无须先取得{ladder.title}，可直接申报。",
                        f"This route does not require the {ladder.title} title first.")
        assert ladder is not None  # guaranteed by the standard's coherence check
        need = route.ladder_years.value
        where = f"education_routes[{index}].ladder_years"
        uses = [_use(where, route.ladder_years), _use("ladder", ladder)]
        asked = self.relax.waive_ladder
        if asked and ladder.waivable:
            cite_zh, cite_en = self.policy(ladder)
            return _met(f"已按本场政策破除台阶限制{cite_zh}（原要求取得{ladder.title}满 {need} 年）。",
                        f"The ladder is waived{cite_en} (normally {need} years as {ladder.title}).",
                        [], uses, "waive_ladder")
        refused_zh = "（本标准规定台阶不可豁免）" if asked else ""
        refused_en = " (this standard does not allow waiving the ladder)" if asked else ""
        candidates = self.ladder_candidates()
        held = [(i, t) for i, t in candidates if t.obtained_on <= self.as_of]
        if not held:
            later = [t for _, t in candidates if t.obtained_on > self.as_of]
            why = ""
            if later:
                why = f"（{later[0].name}于 {later[0].obtained_on.isoformat()} 取得，晚于 {self.day}）"
            series = "、".join(ladder.accepted_series or [self.s.series])
            return _not_met(f"未取得{series}系列{ladder.level.zh}职称（{ladder.title}）{why}，"
                            f"本路径要求取得后满 {need} 年{refused_zh}。",
                            f"No {ladder.level.en} title ({ladder.title}) in the accepted series; "
                            f"the route asks for {need} years with it{refused_en}.", [], uses)
        i, t = min(held, key=lambda it: it[1].obtained_on)
        years, on = full_years(t.obtained_on, self.as_of), t.obtained_on.isoformat()
        ev = [Evidence(path=f"titles[{i}]", summary=t.summary())]
        if years >= need:
            return _met(f"取得{t.name}已满 {need} 年（{on} 取得，至 {self.day} 满 {years} 年）。",
                        f"{t.name} held at least {need} years (obtained {on}, "
                        f"{years} full years on {self.day}).",
                        ev, uses)
        due = anniversary(t.obtained_on, need).isoformat()
        return _not_met(f"取得{t.name}未满 {need} 年（{on} 取得，至 {self.day} 满 {years} 年，"
                        f"将于 {due} 满 {need} 年）{refused_zh}。",
                        f"{t.name} held {years} full years on {self.day} (obtained {on}); "
                        f"{need} years are complete on {due}{refused_en}.", ev, uses)

    def specialty_months(self) -> tuple[int, list[Evidence]]:
        """Full months of work in the specialty up to ``as_of``, overlapping jobs counted once."""
        # Every education route with a years requirement asks again; the answer depends on the profile only.
        if self._specialty is None:
            self._specialty = self._count_specialty_months()
        months, ev = self._specialty
        return months, list(ev)

    def _count_specialty_months(self) -> tuple[int, list[Evidence]]:
        spans: list[tuple[date, date]] = []
        ev: list[Evidence] = []
        for i, w in enumerate(self.p.work_history):
            if not w.in_specialty or w.start >= self.as_of:
                continue
            # ``end`` is the last working day, so the span ends the day after it; never beyond as_of.
            stop = self.as_of if w.end is None else min(w.end + timedelta(days=1), self.as_of)
            spans.append((w.start, stop))
            ev.append(Evidence(path=f"work_history[{i}]", summary=w.summary()))
        merged: list[list[date]] = []
        for start, stop in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], stop)
            else:
                merged.append([start, stop])
        return sum(full_months(a, b) for a, b in merged), ev

    def specialty_years(self, need: Threshold, path: str) -> _Part:
        months, ev = self.specialty_months()
        have_zh, have_en = _ym(months)
        uses = [_use(path, need)]
        head_zh = f"从事本专业技术工作累计 {have_zh}（至 {self.day}），"
        head_en = f"{have_en} of work in the specialty by {self.day}, "
        if months >= need.value * 12:
            return _met(f"{head_zh}满 {need.value} 年。", f"{head_en}at least {need.value} years.", ev, uses)
        return _not_met(f"{head_zh}不满 {need.value} 年。", f"{head_en}less than {need.value} years.",
                        ev, uses)

    # ---------------------------------------------------------------- layer 4: work experience

    def work_experience(self) -> None:
        rule = self.s.work_experience
        if rule is None:
            return
        uses = [_use("work_experience.min_items", rule.min_items)]
        need = rule.min_items.value
        months, work_ev = self.specialty_months()
        listing_zh = "；".join(f"{n}. {item.text.zh}" for n, item in enumerate(rule.items, 1))
        listing_en = "; ".join(f"{n}. {item.text.en}" for n, item in enumerate(rule.items, 1))
        if not work_ev:
            part = _not_met(f"未填报本专业工作经历；本标准要求具备下列工作经历中的 {need} 项：{listing_zh}",
                            f"No work in the specialty is declared; {need} of these are required: "
                            f"{listing_en}",
                            [], uses)
            self.add("work_experience", Layer.EXPERIENCE, part, hard=rule.hard)
            return
        # Structured evidence: a verified achievement of a kind the item names proves that item.
        proven: list[tuple[Text, Evidence]] = []
        for item in rule.items:
            for i, a in enumerate(self.p.achievements):
                if a.kind in item.evidence_kinds and a.verified and a.year <= self.as_of.year:
                    proven.append((item.text, Evidence(path=f"achievements[{i}]", summary=a.summary())))
                    break
        if len(proven) >= need:
            shown = proven[:need]
            proofs_zh = "；".join(f"「{t.zh}」由{e.summary.zh}佐证" for t, e in shown)
            part = _met(f"已核实的业绩可证明工作经历：{proofs_zh}。",
                        "Verified achievements prove the work experience: "
                        + "; ".join(f"'{t.en}' by {e.summary.en}" for t, e in shown) + ".",
                        [e for _, e in shown] + work_ev, uses)
        else:
            have_zh, have_en = _ym(months)
            part = _pending(f"从事本专业技术工作累计 {have_zh}；须由评审专家对照下列工作经历"
                            f"（具备其中 {need} 项）作出评议：{listing_zh}",
                            f"{have_en} of work in the specialty; experts judge whether {need} of these "
                            f"apply: {listing_en}", work_ev, uses)
        self.add("work_experience", Layer.EXPERIENCE, part, hard=rule.hard)

    # ---------------------------------------------------------------- layer 5: achievements

    def count_achievements(self, kinds: list[AchievementKind], require_evidence: bool
                           ) -> tuple[list[_Indexed], list[_Indexed], list[str]]:
        """(verified, unverified, reasons for not counting others) among the achievements of ``kinds``."""
        verified, unverified, skipped = [], [], []
        for i, a in enumerate(self.p.achievements):
            if a.kind not in kinds:
                continue
            if a.year > self.as_of.year:
                skipped.append(f"{a.summary().zh}晚于评价年度")
            elif require_evidence and not a.evidence:
                skipped.append(f"{a.summary().zh}未提供证明材料")
            else:
                (verified if a.verified else unverified).append((i, a))
        return verified, unverified, skipped

    def achievements(self) -> None:
        rule = self.s.achievements
        if rule is None:
            return
        k = rule.k.value
        uses = [_use("achievements.k", rule.k)]
        verified, unverified, skipped = self.count_achievements(rule.kinds, rule.require_evidence)
        total, done = len(verified) + len(unverified), len(verified)
        ev = [Evidence(path=f"achievements[{i}]", summary=a.summary()) for i, a in verified + unverified]
        listed = "；".join(a.summary().zh for _, a in verified + unverified)
        tail = _skipped_zh(skipped)
        if done >= k:
            part = _met(f"符合条件的业绩成果 {total} 项（已核实 {done} 项），须 {k} 项：{listed}。{tail}",
                        f"{total} qualifying achievements ({done} verified); {k} required.", ev, uses)
        elif total >= k:
            part = _pending(f"符合条件的业绩成果 {total} 项，须 {k} 项，其中 {total - done} 项待单位核实："
                            f"{listed}。{tail}",
                            f"{total} qualifying achievements, {k} required; {total - done} await the unit's "
                            "verification.", ev, uses)
        else:
            part = _not_met(f"符合条件的业绩成果 {total} 项，须至少 {k} 项"
                            f"（可计入：{_kinds_zh(rule.kinds)}）。{tail}",
                            f"{total} qualifying achievements, at least {k} required "
                            f"(counted kinds: {_kinds_en(rule.kinds)}).", ev, uses)
        self.add("achievements", Layer.ACHIEVEMENTS, part, hard=rule.hard)

    # ---------------------------------------------------------------- layer 6: representative works

    def works(self) -> None:
        rule = self.s.representative_works
        if rule is None:
            return
        need = rule.min_count.value
        uses = [_use("representative_works.min_count", rule.min_count)]
        min_chars = 0
        if rule.technical_document_min_chars is not None:
            min_chars = rule.technical_document_min_chars.value
            uses.append(_use("representative_works.technical_document_min_chars",
                             rule.technical_document_min_chars))
        counted, pending, skipped = [], [], []
        for i, w in enumerate(self.p.works):
            is_document = w.kind == WorkKind.TECHNICAL_DOCUMENT
            if w.kind not in rule.kinds:
                skipped.append(f"{w.summary().zh}不属于可认定的代表作类型")
            elif w.year > self.as_of.year:
                skipped.append(f"{w.summary().zh}晚于评价年度")
            elif is_document and (w.character_count or 0) < min_chars:
                skipped.append(f"{w.summary().zh}共 {w.character_count or 0} 字，不足 {min_chars} 字")
            elif is_document and not w.unit_verified:
                pending.append((i, w))
            else:
                counted.append((i, w))
        ev = [Evidence(path=f"works[{i}]", summary=w.summary()) for i, w in counted + pending]
        tail = _skipped_zh(skipped)
        # A legacy paper mandate, if the standard keeps one: waived by the session, or checked here.
        relaxation: RelaxationName | None = None
        if rule.min_papers is not None and rule.min_papers.value > 0:
            uses.append(_use("representative_works.min_papers", rule.min_papers))
            need_papers = rule.min_papers.value
            papers = sum(1 for _, w in counted if w.kind == WorkKind.PAPER)
            if self.relax.waive_papers:
                tail = (f"本场评审不作论文硬性要求{self.policy()[0]}"
                        f"（标准原要求论文 {need_papers} 篇）。{tail}")
                relaxation = "waive_papers"
            elif papers < need_papers:
                part = _not_met(f"本标准要求代表作中至少有论文 {need_papers} 篇，现有 {papers} 篇。{tail}",
                                f"The standard asks for at least {need_papers} papers among the works; "
                                f"{papers} declared.", ev, uses)
                self.add("representative_works", Layer.WORKS, part, hard=rule.hard)
                return
        have = len(counted) + len(pending)
        if len(counted) >= need:
            listed = "；".join(w.summary().zh for _, w in counted)
            part = _met(f"代表作 {len(counted)} 件，须 {need} 件：{listed}。{tail}",
                        f"{len(counted)} representative works, {need} required.", ev, uses, relaxation)
        elif have >= need:
            part = _pending(f"代表作 {have} 件，须 {need} 件，其中技术文档 {len(pending)} 件待单位认定"
                            f"（须经单位认定方可计入）。{tail}",
                            f"{have} works, {need} required; {len(pending)} technical documents await "
                            "the unit's verification.", ev, uses, relaxation)
        else:
            length = f"（技术文档须经单位认定且不少于 {min_chars} 字）" if min_chars else ""
            part = _not_met(f"代表作 {len(counted)} 件，须至少 {need} 件。论文不是唯一途径，"
                            f"可认定的代表作：{_kinds_zh(rule.kinds)}{length}。{tail}",
                            f"{len(counted)} representative works, at least {need} required; papers are "
                            f"not the only way (accepted: {_kinds_en(rule.kinds)}).", ev, uses)
            part.relaxation = relaxation
        self.add("representative_works", Layer.WORKS, part, hard=rule.hard)

    # ---------------------------------------------------------------- economic and social benefits

    def benefits(self) -> None:
        rule = self.s.benefits
        if rule is None:
            return
        need = rule.min_items.value
        uses = [_use("benefits.min_items", rule.min_items)]
        verified, unverified, skipped = self.count_achievements(rule.kinds, require_evidence=True)
        total, done = len(verified) + len(unverified), len(verified)
        ev = [Evidence(path=f"achievements[{i}]", summary=a.summary()) for i, a in verified + unverified]
        head = f"有证明材料的{_kinds_zh(rule.kinds)} {total} 项"
        tail = _skipped_zh(skipped)
        if done >= need:
            part = _met(f"{head}（已核实 {done} 项），须 {need} 项。{tail}",
                        f"{total} evidenced benefit items ({done} verified), {need} required.", ev, uses)
        elif total >= need:
            part = _pending(f"{head}，须 {need} 项，其中 {total - done} 项待单位核实。{tail}",
                            f"{total} evidenced benefit items, {need} required; {total - done} await "
                            "verification.", ev, uses)
        else:
            part = _not_met(f"{head}，须至少 {need} 项。{tail}",
                            f"{total} evidenced benefit items, at least {need} required.", ev, uses)
        self.add("benefits", Layer.BENEFITS, part, hard=rule.hard)

    # ---------------------------------------------------------------- the 破格 route

    def achievement_option(self, k_rule: Threshold) -> _Option:
        achievements = self.s.achievements
        assert achievements is not None  # guaranteed by the standard's coherence check
        k = k_rule.value
        verified, unverified, _ = self.count_achievements(achievements.kinds, achievements.require_evidence)
        total, done = len(verified) + len(unverified), len(verified)
        ev = [Evidence(path=f"achievements[{i}]", summary=a.summary()) for i, a in verified + unverified]
        if done >= k:
            verdict, missing = Verdict.MET, None
        elif total >= k:
            verdict = Verdict.NEEDS_JUDGEMENT
            missing = Text(zh=f"{total - done} 项业绩待单位核实",
                           en=f"{total - done} achievements await verification")
        else:
            verdict = Verdict.NOT_MET
            missing = Text(zh=f"还需 {k - total} 项符合条件的业绩成果（破格须 {k} 项，现有 {total} 项）",
                           en=f"{k - total} more qualifying achievements ({k} needed, {total} declared)")
        return _Option(verdict, f"业绩成果 {k} 项，现有 {total} 项（已核实 {done} 项）",
                       f"{k} achievements, {total} declared ({done} verified)", missing, ev,
                       _use("exceptional.achievements_k", k_rule))

    def recommendation_option(self, k_rule: Threshold, specialties: list[str]) -> _Option:
        s, k = self.s, k_rule.value
        ok = [(i, r) for i, r in enumerate(self.p.recommendations)
              if r.expert_level == TitleLevel.SENIOR and r.series == s.series
              and (not specialties or r.specialty in specialties)]
        have = len(ok)
        ev = [Evidence(path=f"recommendations[{i}]", summary=r.summary()) for i, r in ok]
        scope = f"{s.series}系列" + (f"（{'、'.join(specialties)}专业）" if specialties else "")
        missing = None if have >= k else Text(
            zh=f"还需 {k - have} 名{scope}正高级专家书面推荐（须 {k} 名，现有 {have} 名）",
            en=f"{k - have} more written recommendations by full-senior experts ({k} needed, {have} given)")
        return _Option(Verdict.MET if have >= k else Verdict.NOT_MET,
                       f"{scope}正高级专家书面推荐 {k} 名，现有 {have} 名",
                       f"{k} recommendations by full-senior experts, {have} given", missing, ev,
                       _use("exceptional.recommendations_by_senior_experts", k_rule))

    def exceptional_options(self) -> list[_Option]:
        rule = self.s.exceptional
        assert rule is not None
        options: list[_Option] = []
        if rule.achievements_k is not None:
            options.append(self.achievement_option(rule.achievements_k))
        if rule.recommendations_by_senior_experts is not None:
            options.append(self.recommendation_option(rule.recommendations_by_senior_experts,
                                                      rule.recommender_specialties))
        return options

    def combined(self, options: list[_Option]) -> Verdict:
        """The verdict of the 破格 evidence: any one option, or all of them, as the standard says."""
        assert self.s.exceptional is not None
        verdicts = [o.verdict for o in options]
        if self.s.exceptional.combine == "any":
            if Verdict.MET in verdicts:
                return Verdict.MET
            return Verdict.NEEDS_JUDGEMENT if Verdict.NEEDS_JUDGEMENT in verdicts else Verdict.NOT_MET
        if Verdict.NOT_MET in verdicts or not verdicts:
            return Verdict.NOT_MET
        return Verdict.NEEDS_JUDGEMENT if Verdict.NEEDS_JUDGEMENT in verdicts else Verdict.MET

    def exceptional(self) -> None:
        s = self.s
        if not s.level.at_least(TitleLevel.DEPUTY_SENIOR):
            part = _not_met(f"破格申报仅适用于副高级、正高级职称，本标准为{s.level.zh}。",
                            f"The exceptional route exists only for senior titles, not {s.level.en}.")
        elif s.exceptional is None:
            part = _not_met("本标准未规定破格申报条件。", "The standard defines no exceptional route.")
        elif not self.relax.allow_direct_senior:
            part = _not_met("本评审通道未开放破格（特别优秀人才直接申报高级职称）。",
                            "This pipeline or session does not open the exceptional route.")
        else:
            options = self.exceptional_options()
            any_one = s.exceptional.combine == "any"
            details_zh = "；".join(f"{o.zh}（{o.verdict.zh}）" for o in options)
            details_en = "; ".join(f"{o.en} ({o.verdict.en})" for o in options)
            part = _Part(self.combined(options),
                         f"破格条件（{'满足其一' if any_one else '须全部满足'}）：{details_zh}。",
                         f"Exceptional route ({'any one' if any_one else 'all'}): {details_en}.",
                         [e for o in options for e in o.evidence], [o.threshold for o in options],
                         "allow_direct_senior")
        self.add("exceptional", Layer.EXCEPTIONAL, part)

    def outlook(self, overall: Verdict) -> ExceptionalOutlook | None:
        """For a failed normal-route evaluation: could the 破格 route overcome it, and what is missing?"""
        rule = self.s.exceptional
        if self.route != Route.NORMAL or overall != Verdict.NOT_MET or rule is None:
            return None
        blocking = [c.id for c in self.criteria if c.blocking]
        if not self.relax.allow_direct_senior or not set(blocking) <= set(rule.bypasses):
            return None
        options = self.exceptional_options()
        ready = self.combined(options) == Verdict.MET
        missing = [] if ready else [o.missing for o in options if o.missing is not None]
        names = "、".join(CRITERION_LABELS[c].zh for c in blocking)
        if ready:
            zh = f"未满足的{names}可通过破格申报突破，破格条件已具备。"
            en = "The exceptional route can overcome the unmet conditions, and its evidence is present."
        else:
            either = "（满足其一即可）" if rule.combine == "any" else ""
            gaps = "；".join(m.zh for m in missing)
            zh = f"未满足的{names}可通过破格申报突破，尚缺{either}：{gaps}。"
            en = "The exceptional route can overcome the unmet conditions; missing: " + "; ".join(
                m.en for m in missing)
        return ExceptionalOutlook(overcomes=blocking, ready=ready, missing=missing,
                                  explanation=Text(zh=zh, en=en))

    # ---------------------------------------------------------------- skilled-worker bridging

    def bridging(self) -> None:
        s = self.s
        entries = s.bridging_entries()
        if s.bridging is None or not entries:
            self.add("skill_certificate", Layer.BRIDGING, _not_met(
                f"本标准未规定技能人才贯通申报{s.title}的条件。",
                f"The standard defines no skill bridging to {s.title}."))
            return
        pairs: list[tuple[BridgingEntry, int, SkillCertificate]] = [
            (e, i, c) for e in entries for i, c in enumerate(self.p.skill_certificates)
            if c.level.at_least(e.skill_level) and c.obtained_on <= self.as_of]
        if not pairs:
            lowest = min(entries, key=lambda e: e.skill_level.rank)
            held = "、".join(c.level.value for c in self.p.skill_certificates) or "无"
            where = f"bridging.map[{s.bridging.map.index(lowest)}].waiting_years"
            self.add("skill_certificate", Layer.BRIDGING, _not_met(
                f"贯通申报{s.title}须持有{lowest.skill_level.value}及以上职业技能等级证书，申报人持有：{held}。",
                f"Bridging to {s.title} needs a {lowest.skill_level.en} certificate or higher; "
                "none is declared.",
                [], [_use(where, lowest.waiting_years)]))
        else:
            override = self.relax.bridging_waiting_years_override

            def rank(pair: tuple[BridgingEntry, int, SkillCertificate]) -> tuple[bool, int]:
                # Prefer a certificate that already meets its waiting years, then the longest-held one.
                entry, _, c = pair
                required = entry.waiting_years.value if override is None else override
                return full_years(c.obtained_on, self.as_of) >= required, -c.obtained_on.toordinal()

            entry, i, cert = max(pairs, key=rank)
            ev = [Evidence(path=f"skill_certificates[{i}]", summary=cert.summary())]
            self.add("skill_certificate", Layer.BRIDGING, _met(
                f"持有{cert.summary().zh}，可贯通申报{s.title}（须{entry.skill_level.value}及以上）。",
                f"Holds {cert.summary().en}; may bridge to {s.title}.", ev))
            self.add("bridging_waiting_years", Layer.BRIDGING, self.waiting_years(entry, cert, ev))
        if s.bridging.unit_assessment is not None:
            self.add("unit_assessment", Layer.BRIDGING, _pending(
                "须经用人单位考核合格并推荐（由单位在“单位考核推荐”环节记录考核结果）。",
                "Needs the unit's assessment and recommendation, recorded by the unit when it recommends.",
                [], [_use("bridging.unit_assessment", s.bridging.unit_assessment)]))

    def waiting_years(self, entry: BridgingEntry, cert: SkillCertificate, ev: list[Evidence]) -> _Part:
        bridging = self.s.bridging
        assert bridging is not None
        national = entry.waiting_years.value
        override = self.relax.bridging_waiting_years_override
        need = national if override is None else override
        uses = [_use(f"bridging.map[{bridging.map.index(entry)}].waiting_years", entry.waiting_years, need)]
        years = full_years(cert.obtained_on, self.as_of)
        on, level = cert.obtained_on.isoformat(), cert.level.value
        relaxation: RelaxationName | None = None
        lead_zh = lead_en = ""
        if override is not None and override != national:
            relaxation = "bridging_waiting_years_override"
            relaxed = bridging.relaxed_waiting_years
            if relaxed is not None:
                uses.append(_use("bridging.relaxed_waiting_years", relaxed))
            matching = relaxed if relaxed is not None and relaxed.value == override else None
            cite_zh, cite_en = self.policy(matching)
            if override == 0:
                return _met(f"按本场政策经单位考核推荐可直接申报，不受取得技能等级后年限限制{cite_zh}"
                            f"（国家规定为 {national} 年）。{level}证书于 {on} 取得。",
                            f"Direct application after the unit's assessment{cite_en} "
                            f"(nationally {national} years).", ev, uses, relaxation)
            lead_zh = f"按本场政策，取得技能等级后年限由国家规定的 {national} 年调整为 {need} 年{cite_zh}；"
            lead_en = f"Waiting years set to {need}{cite_en} (nationally {national}); "
        if years >= need:
            return _met(f"{lead_zh}取得{level}已满 {need} 年（{on} 取得，至 {self.day} 满 {years} 年）。",
                        f"{lead_en}{level} held at least {need} years ({years} full years on {self.day}).",
                        ev, uses, relaxation)
        due = anniversary(cert.obtained_on, need).isoformat()
        part = _not_met(f"{lead_zh}取得{level}未满 {need} 年（{on} 取得，至 {self.day} 满 {years} 年，"
                        f"将于 {due} 满 {need} 年）。",
                        f"{lead_en}{level} held {years} full years on {self.day}; {need} years are complete "
                        f"on {due}.", ev, uses)
        part.relaxation = relaxation
        return part

    # ---------------------------------------------------------------- the report

    def report(self) -> EligibilityReport:
        s = self.s
        blocking = [c for c in self.criteria if c.blocking]
        pending = [c for c in self.criteria if c.applies and c.verdict != Verdict.MET]
        title = f"{s.title}（{self.route.zh}）"
        if blocking:
            overall = Verdict.NOT_MET
            summary = Text(zh=f"不符合申报{title}的条件：{'、'.join(c.label.zh for c in blocking)}未满足。",
                           en=f"Does not meet the conditions for {s.title}: "
                              + ", ".join(c.label.en for c in blocking) + ".")
        elif pending:
            overall = Verdict.NEEDS_JUDGEMENT
            names = "、".join(c.label.zh for c in pending)
            summary = Text(zh=f"硬性条件均已满足，{names}待核实或由专家评议，可以提交。",
                           en="All hard conditions are met; some items await verification or judgement.")
        else:
            overall = Verdict.MET
            summary = Text(zh=f"符合申报{title}的全部条件。", en=f"Meets every condition for {s.title}.")
        outlook = self.outlook(overall)
        return EligibilityReport(
            standard_id=s.id, standard_version=s.version, standard_name=s.name, title=s.title, level=s.level,
            route=self.route, as_of=self.as_of, relaxations=self.relax, education_route=self.chosen_route,
            route_outcomes=self.route_outcomes, criteria=self.criteria, overall=overall, summary=summary,
            blocking_reasons=[Text(zh=f"{c.label.zh}：{c.explanation.zh}",
                                   en=f"{c.label.en}: {c.explanation.en}") for c in blocking],
            allows_exceptional=outlook is not None, exceptional_outlook=outlook)


# ------------------------------------------------------------------------------------------------------------
# Entry point
# ------------------------------------------------------------------------------------------------------------


def _coerce_inputs(profile: Any, standard: Any, route: Any, relaxations: Any, as_of: Any
                   ) -> tuple[ApplicantProfile, Standard, Route, Relaxations, date]:
    """Validate the evaluator's inputs, collecting every problem into one EligibilityInputError."""
    problems: list[tuple[str, str]] = []
    prof: ApplicantProfile | None = None
    std: Standard | None = None
    rel: Relaxations | None = None
    rt: Route | None = None
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
    if relaxations is None:
        rel = Relaxations()
    elif isinstance(relaxations, Relaxations):
        rel = relaxations
    elif isinstance(relaxations, Mapping):
        try:
            rel = Relaxations.model_validate(dict(relaxations))
        except ValidationError as err:
            problems.extend((f"relaxations.{error_path(tuple(e['loc']))}", e["msg"]) for e in err.errors())
    else:
        problems.append(("relaxations", f"须为 Relaxations 或键值结构，实际为 {type(relaxations).__name__} / "
                                        "must be Relaxations or a mapping"))
    if isinstance(as_of, datetime) or not isinstance(as_of, date):
        problems.append(("as_of", f"须为日期（date），实际为 {type(as_of).__name__} / must be a date"))
    if problems or prof is None or std is None or rt is None or rel is None:
        raise EligibilityInputError(problems)
    return prof, std, rt, rel, as_of


def evaluate(profile: ApplicantProfile | Mapping[str, Any], standard: Standard | Mapping[str, Any], *,
             route: Route | str = Route.NORMAL, relaxations: Relaxations | Mapping[str, Any] | None = None,
             as_of: date) -> EligibilityReport:
    """Judge ``profile`` against ``standard`` for ``route`` under ``relaxations``, as of the date ``as_of``.

    ``profile`` and ``standard`` may be models or their JSON bodies; ``route`` is ``normal``, ``exceptional``
    (破格) or ``bridging``. Raises :class:`EligibilityInputError` (listing every problem) for malformed input;
    otherwise always returns a report. Pure: no clock, no I/O, inputs untouched.
    """
    prof, std, rt, rel, day = _coerce_inputs(profile, standard, route, relaxations, as_of)
    run = _Evaluation(prof, std, rt, rel, day)
    run.run()
    return run.report()
