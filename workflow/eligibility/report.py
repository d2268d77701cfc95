"""What the evaluator says: verdicts, routes, criteria, and the report stored on a case.

Every text is bilingual (:class:`~workflow.eligibility.profiles.Text`); criterion ids are stable, because the UI, stored
reports and tests refer to them.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from workflow.eligibility.profiles import Text, TitleLevel, Vocabulary, register_labels
from workflow.eligibility.standards import Tag

from ..errors import WorkflowError


class Verdict(Vocabulary):
    """The outcome of one criterion, one route, and the whole evaluation."""

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


class Stage(Vocabulary):
    """The step the evaluation is for: what is still pending at submission is required later (§7.2)."""

    SUBMISSION = "submission"
    RECOMMENDATION = "recommendation"
    RECHECK = "recheck"


register_labels(Stage, {
    "submission": ("申报人提交", "Submission"),
    "recommendation": ("单位考核推荐", "Unit recommendation"),
    "recheck": ("资格复核", "Eligibility re-check"),
})


class RouteFamily(Vocabulary):
    """Kinds of route a standard offers, for grouping the routes considered."""

    STANDARD = "standard"
    DIRECT = "direct"
    LEADER = "leader"
    EXCEPTIONAL = "exceptional"
    BRIDGING = "bridging"


register_labels(RouteFamily, {
    "standard": ("学历资历+台阶", "Education, years and lower title"),
    "direct": ("直接申报（学历+本行业年限）", "Direct (education and years in the industry)"),
    "leader": ("企业主要负责人直接申报", "Direct (enterprise leader)"),
    "exceptional": ("破格（专家推荐/突出业绩）", "Exceptional (recommendations or achievements)"),
    "bridging": ("技能人才贯通", "Skill bridging"),
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
                         "allow_direct_senior", "local_bridging_channel"]


class Relaxations(BaseModel):
    """What a session or pipeline relaxes compared with the standard (湘人社规〔2022〕22号 measures 4 and 5).

    The defaults relax nothing. ``allow_direct_senior`` comes from the pipeline's ``allow_exceptional``: it
    opens the exceptional route, and with ``waive_ladder`` the direct routes on the normal route too.
    ``local_bridging_channel`` applies each bridging entry's local wait (Hunan: 0 for 技师 and 高级技师 after
    the unit's assessment). ``source`` cites the policy and is quoted in the explanations.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    waive_ladder: bool = False
    waive_age: bool = False
    waive_papers: bool = False
    waive_foreign_language: bool = False
    allow_direct_senior: bool = False
    local_bridging_channel: bool = False
    source: str = ""


AssessmentResult = Literal["优秀", "合格", "基本合格", "不合格"]
PASSING_RESULTS = ("优秀", "合格")


class UnitAssessment(BaseModel):
    """The unit's assessment (单位考核) recorded at its recommendation step: result, date, assessor."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    result: AssessmentResult
    on: date
    by: str = Field(default="", max_length=200)
    summary: str = Field(default="", max_length=2000)

    @property
    def passed(self) -> bool:
        """True for a result the bridging route accepts."""
        return self.result in PASSING_RESULTS


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
    """One checked condition: verdict, whether it blocks when not met, and the explanation.

    ``applies`` is False for a criterion shown for information that does not affect the verdict (the lower
    title on a direct route, for one).
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


class RouteConsidered(BaseModel):
    """One route the evaluator tried: whether it is open here, its verdict, and what decided it."""

    model_config = ConfigDict(frozen=True)

    id: str
    family: RouteFamily
    label: Text
    open: bool
    verdict: Verdict
    decided_by: str | None = None
    reason: Text
    criteria: list[Criterion] = []


class ExceptionalOutlook(BaseModel):
    """Whether the 破格 route could overcome a normal-route evaluation's hard failures, and what's missing."""

    model_config = ConfigDict(frozen=True)

    overcomes: list[str]
    ready: bool
    missing: list[Text]
    explanation: Text


class EligibilityReport(BaseModel):
    """The full result of :func:`~workflow.eligibility.evaluate`; ``model_dump(mode="json")`` is stored.

    ``routes`` lists every route considered with the criterion that decided it; ``criteria`` are the common
    criteria plus those of the route the verdict rests on (``education_route``).
    """

    model_config = ConfigDict(frozen=True)

    standard_id: str
    standard_version: int
    standard_name: Text
    title: str
    level: TitleLevel
    route: Route
    stage: Stage = Stage.SUBMISSION
    as_of: date
    relaxations: Relaxations
    education_route: str | None = None
    routes: list[RouteConsidered] = []
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

    def route_result(self, route_id: str) -> RouteConsidered:
        """The route considered with this id; KeyError naming those present when there is none."""
        for r in self.routes:
            if r.id == route_id:
                return r
        raise KeyError(f"no route {route_id!r} (present: {', '.join(r.id for r in self.routes)})")


class EligibilityInputError(WorkflowError):
    """The evaluator was given something it cannot judge; ``problems`` lists (where, what) pairs."""

    status = 422

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        text = "；".join(f"{where}: {what}" if where else what for where, what in problems)
        super().__init__("无法进行资格审查：" + text, "Cannot evaluate eligibility: " + text)


_LABELS: dict[str, tuple[str, str]] = {
    "standard_in_force": ("评价标准有效期", "Standard in force"),
    "not_retired": ("未退休", "Not retired"),
    "no_sanction": ("无影响期内的处分", "No sanction in force"),
    "no_integrity_record": ("无有效期内的诚信记录", "No integrity record in force"),
    "continuing_education": ("继续教育学时", "Continuing education"),
    "age": ("年龄", "Age"),
    "foreign_language": ("外语", "Foreign language"),
    "route": ("申报路径", "Route"),
    "education": ("学历", "Education"),
    "ladder": ("台阶（取得下一级职称年限）", "Ladder (years with the lower title)"),
    "specialty_years": ("从事本专业工作年限", "Years of work in the specialty"),
    "industry_years": ("本行业技术工作年限", "Years of technical work in the industry"),
    "enterprise_leader": ("企业主要负责人任职", "Enterprise leadership"),
    "work_experience": ("工作经历", "Work experience"),
    "achievements": ("业绩成果", "Achievements"),
    "representative_works": ("代表作", "Representative works"),
    "benefits": ("经济社会效益", "Economic and social benefits"),
    "exceptional": ("破格条件", "Exceptional-route evidence"),
    "skill_certificate": ("职业技能等级证书", "Skill certificate"),
    "bridging_waiting_years": ("取得技能等级后年限", "Years since the skill certificate"),
    "unit_assessment": ("单位考核", "Unit assessment"),
}

CRITERION_LABELS: dict[str, Text] = {k: Text(zh=zh, en=en) for k, (zh, en) in _LABELS.items()}
"""Criterion id → label."""
