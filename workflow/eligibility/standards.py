"""Occupation standards (评价标准) as versioned data: the schema, the YAML loader and the dumper.

A standard says who may apply for one title (series, specialty, level) through layers of criteria
(rules.md §5): basic conditions, education + years routes, the 台阶 (lower title held N years), work
experience, achievements k-of-n, representative works, economic/social benefits, an optional 破格 rule and
an optional skill→title bridging rule. Every number is a :class:`Threshold` carrying its provenance tag
([S] seen in a source, [R] reported national wording, [C] our configurable default) and source text, so the
UI can show where each requirement comes from.

Standards are written by administrators (seeded from ``definitions/standards/*.yaml``, later edited in the
web UI and stored as JSON per version). Loading checks everything — types, unknown fields, and the rules
between fields — and reports ``file:line: what is wrong``; a broken standard never half-loads.
:func:`dump_standard_yaml` writes a standard back so that ``load(dump(s)) == s``.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError, model_validator
from pydantic_core import ErrorDetails, PydanticCustomError

from workflow.eligibility.profiles import (
    AchievementKind,
    EducationLevel,
    FirmRecognition,
    RecognitionLevel,
    SkillLevel,
    Text,
    TitleLevel,
    Vocabulary,
    WorkKind,
    register_labels,
)
from workflow.pipeline.yamlsource import DefinitionError, LineDict, LineList, Problem, load_yaml

DEFINITIONS_DIR = Path(__file__).resolve().parents[2] / "definitions"
STANDARDS_DIR = DEFINITIONS_DIR / "standards"

_SLUG = r"^[a-z][a-z0-9-]*$"
_ITEM_ID = r"^[a-z0-9][a-z0-9-]*$"  # achievement items are numbered as in the text ("1" … "8")


class Tag(Vocabulary):
    """Provenance of a requirement: how sure we are that the number is the official one."""

    SEEN = "S"
    REPORTED = "R"
    CONFIGURED = "C"


register_labels(Tag, {
    "S": ("已见公开来源", "Seen in a published source"),
    "R": ("通行表述，待核对原文", "Widely cited wording, not yet checked against the official text"),
    "C": ("未见来源，系统默认值（可配置）", "No source found; a configurable default"),
})


class _Strict(BaseModel):
    """Base of every standard part: immutable, and unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Sourced(_Strict):
    """A requirement with its provenance but no number (e.g. "not retired")."""

    tag: Tag
    source: str = Field(min_length=1)


class Threshold(Sourced):
    """A number with its provenance: ``{value: 5, tag: S, source: "…"}``."""

    value: StrictInt = Field(ge=0)


# ------------------------------------------------------------------------------------------------------------
# Criteria layers
# ------------------------------------------------------------------------------------------------------------


class ContinuingEducationRule(_Strict):
    """Continuing education: at least ``hours_per_year`` in each of the last ``years_checked`` full years."""

    hours_per_year: Threshold
    years_checked: Threshold


class BasicConditions(_Strict):
    """Layer 1: conditions every applicant must meet. A missing entry means the standard does not ask it."""

    not_retired: Sourced | None = None
    no_sanction: Sourced | None = None
    no_integrity_record: Sourced | None = None
    continuing_education: ContinuingEducationRule | None = None
    max_age: Threshold | None = None
    foreign_language: Sourced | None = None


class LadderRule(Sourced):
    """Layer 3, the 台阶: the title one step below the target (e.g. 工程师 for 高级工程师).

    How long it must have been held depends on the education route (:attr:`EducationRoute.ladder_years`).
    ``accepted_series``: series whose titles of this level count (empty: only the standard's own series; the
    economics series, for one, also accepts accounting, statistics and audit titles). ``waivable``: sessions
    may waive it.
    """

    level: TitleLevel
    title: str = Field(min_length=1)
    accepted_series: list[str] = []
    waivable: StrictBool = True


class EducationRoute(_Strict):
    """Layer 2, one alternative: minimum education, then years with the ladder title and/or in the specialty.

    A route without ``ladder_years`` needs no lower title ("博士 direct", or a session's 直接申报 routes).
    """

    id: str = Field(pattern=_SLUG)
    label: Text
    min_education: EducationLevel
    related_major: StrictBool = False
    ladder_years: Threshold | None = None
    specialty_years: Threshold | None = None


class WorkExperienceItem(_Strict):
    """One kind of work experience. A verified achievement proves it when it is of one of ``evidence_kinds``
    or counts for one of the achievement items ``evidence_items`` (Hunan 第七条: a verified item 2, 3 or 5)."""

    id: str = Field(pattern=_SLUG)
    text: Text
    evidence_kinds: list[AchievementKind] = []
    evidence_items: list[str] = []


class WorkExperienceRule(_Strict):
    """Layer 4: ``min_items`` of ``items``, judged by experts unless structured evidence suffices."""

    min_items: Threshold
    items: list[WorkExperienceItem] = Field(min_length=1)
    hard: StrictBool = True


class AchievementBranch(_Strict):
    """One way of meeting an item by number: entries of ``kinds`` adding up (by their ``count``) to
    ``min_count`` — e.g. ≥ 1 invention patent, or ≥ 3 utility-model patents or software copyrights."""

    kinds: list[AchievementKind] = Field(min_length=1)
    min_count: Threshold


class AchievementItem(_Strict):
    """One numbered achievement item of a standard (e.g. 第八条 item 6), as the text words it.

    An applicant's entry counts for the item when its kind is in ``kinds`` and it meets every restriction
    given: granted at ``min_level`` or above, appraised or accepted (``needs_appraisal``) at
    ``min_appraisal_level`` or above, the applicant among the first ``max_rank`` named. With ``branches`` the
    item is met when any branch's count is reached; without, one qualifying entry meets it. An item with
    ``expert_judgement`` is never met automatically: the experts decide.
    """

    id: str = Field(pattern=_ITEM_ID, max_length=40)
    text: Text
    kinds: list[AchievementKind] = Field(min_length=1)
    min_level: RecognitionLevel | None = None
    needs_appraisal: StrictBool = False
    min_appraisal_level: RecognitionLevel | None = None
    max_rank: Threshold | None = None
    branches: list[AchievementBranch] = []
    expert_judgement: StrictBool = False
    source: str = ""


class AchievementRule(_Strict):
    """Layer 5: at least ``k`` distinct achievement items (two patents are still one item).

    ``items`` lists the standard's numbered items. Older standards list only ``kinds``: each kind is then an
    item of its own (:meth:`effective_items`).
    """

    kinds: list[AchievementKind] = []
    items: list[AchievementItem] = []
    k: Threshold
    require_evidence: StrictBool = True
    hard: StrictBool = True

    def effective_items(self) -> list[AchievementItem]:
        """The items to count: the numbered ones, or one item per listed kind."""
        if self.items:
            return list(self.items)
        return [AchievementItem(id=kind.value.replace("_", "-"), text=kind.text, kinds=[kind])
                for kind in self.kinds]

    def all_kinds(self) -> list[AchievementKind]:
        """Every kind of entry some item accepts, in order of first mention."""
        return list(dict.fromkeys(k for item in self.effective_items() for k in item.kinds))


class WorksRule(_Strict):
    """Layer 6: representative works (代表作) instead of papers.

    ``technical_document_min_chars``: a unit-verified technical document of at least this length counts;
    ``document_kinds`` are the kinds judged as such documents (Hunan 第六条: project reports, design documents,
    patent results, standards … are technical documents that count once the unit verified them).
    ``min_papers`` encodes a legacy paper mandate; sessions waive it (waive_papers) and the kinds list must
    always offer alternatives, because papers are never the only way (rules.md §5).
    """

    kinds: list[WorkKind] = Field(min_length=1)
    min_count: Threshold
    technical_document_min_chars: Threshold | None = None
    document_kinds: list[WorkKind] = [WorkKind.TECHNICAL_DOCUMENT]
    min_papers: Threshold | None = None
    hard: StrictBool = True


class BenefitRule(_Strict):
    """Economic/social benefit items (经济社会效益) with evidence: at least ``min_items``."""

    kinds: list[AchievementKind] = Field(min_length=1)
    min_items: Threshold
    hard: StrictBool = True


ExceptionalBypass = Literal["education", "ladder", "specialty_years"]
"""Criteria the 破格 route does not enforce."""


class ExceptionalRule(_Strict):
    """The 破格 (特别优秀, direct senior) route: stronger evidence instead of education, years and the 台阶.

    ``achievements_k``: achievement items of the standard's kinds needed instead of the normal k;
    ``recommendations_by_senior_experts``: written recommendations by 正高 experts of the series (and of
    ``recommender_specialties`` when given); with ``recommenders_same_specialty`` an expert counts only in
    the applicant's own specialty, and one of a related specialty is left to the experts' judgement.
    ``combine``: whether one option suffices or all are needed.
    """

    achievements_k: Threshold | None = None
    recommendations_by_senior_experts: Threshold | None = None
    combine: Literal["any", "all"] = "any"
    recommender_specialties: list[str] = []
    recommenders_same_specialty: StrictBool = False
    bypasses: list[ExceptionalBypass] = ["education", "ladder", "specialty_years"]


class DirectRoute(_Strict):
    """One direct (破格) route to a senior title without the lower title, as the Hunan SME standard words it.

    An education route sets ``min_education`` (the level after equivalences) and ``industry_years``, counted
    from the first title of junior grade or above when ``after_junior_title``. A leader route sets
    ``leader_years`` as 主要负责人 of a firm holding every one of ``firm_recognitions``.
    """

    id: str = Field(pattern=_SLUG)
    label: Text
    min_education: EducationLevel | None = None
    industry_years: Threshold | None = None
    after_junior_title: StrictBool = False
    leader_years: Threshold | None = None
    firm_recognitions: list[FirmRecognition] = []


class DirectRule(_Strict):
    """The direct routes and the achievement items they need (2 distinct items in the Hunan SME standard).

    They open on the exceptional pipeline, or in a session that waives the 台阶 and allows direct senior
    application; waiving the 台阶 removes the lower title, never the years.
    """

    routes: list[DirectRoute] = Field(min_length=1)
    achievements_k: Threshold


class BridgingEntry(_Strict):
    """One skill→title mapping: ``skill_level`` (or above) may apply for ``title`` after N years.

    ``relaxed_waiting_years``: the local channel's wait for this entry (Hunan 22号: 0 for 技师 and 高级技师,
    none for 高级工), applied when the pipeline opens that channel.
    """

    skill_level: SkillLevel
    title: str = Field(min_length=1)
    title_level: TitleLevel
    waiting_years: Threshold
    relaxed_waiting_years: Threshold | None = None


class BridgingRule(_Strict):
    """Skilled-worker bridging (技能→工程贯通): the national map, and the relaxation a session may apply.

    ``relaxed_waiting_years`` at this level is the older form of a local relaxation that applies to every
    entry without one of its own; new versions put it on the entries. ``unit_assessment``: the unit's
    assessment (单位考核) is required on this route.
    """

    map: list[BridgingEntry] = Field(min_length=1)
    relaxed_waiting_years: Threshold | None = None
    unit_assessment: Sourced | None = None


# ------------------------------------------------------------------------------------------------------------
# The standard
# ------------------------------------------------------------------------------------------------------------


class Standard(_Strict):
    """One version of an occupation standard: who may apply for ``title`` of ``series``/``level``."""

    id: str = Field(pattern=_SLUG, max_length=80)
    version: StrictInt = Field(ge=1)
    name: Text
    series: str = Field(min_length=1)
    specialty: str = Field(min_length=1)
    level: TitleLevel
    title: str = Field(min_length=1)
    effective_from: date
    effective_until: date | None = None
    source: str = Field(min_length=1)
    notes: Text | None = None
    basic: BasicConditions
    ladder: LadderRule | None = None
    education_routes: list[EducationRoute] = []
    work_experience: WorkExperienceRule | None = None
    achievements: AchievementRule | None = None
    representative_works: WorksRule | None = None
    benefits: BenefitRule | None = None
    exceptional: ExceptionalRule | None = None
    direct: DirectRule | None = None
    bridging: BridgingRule | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        problems = list(_coherence_problems(self))
        if problems:
            # The locations travel in the error context so that the YAML loader can point at each line.
            summary = "; ".join(f"{'.'.join(map(str, loc))}: {msg}" for loc, msg, _zh in problems)
            raise PydanticCustomError("standard_incoherent", "{summary}",
                                      {"summary": summary, "problems": problems})
        return self

    def in_force(self, on: date) -> bool:
        """True when ``on`` lies within the effective period (both ends inclusive)."""
        return self.effective_from <= on and (self.effective_until is None or on <= self.effective_until)

    def thresholds(self) -> list[tuple[str, Sourced]]:
        """Every sourced requirement with its dotted path, for a provenance table in the UI."""
        return list(_walk_sourced(self, ""))

    def bridging_entries(self) -> list[BridgingEntry]:
        """The bridging map entries that lead to this standard's own title."""
        if self.bridging is None:
            return []
        return [e for e in self.bridging.map if e.title == self.title]


def _walk_sourced(obj: Any, path: str) -> Iterator[tuple[str, Sourced]]:
    if isinstance(obj, Sourced):
        yield path, obj
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _walk_sourced(getattr(obj, name), f"{path}.{name}" if path else name)
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            yield from _walk_sourced(item, f"{path}[{i}]")


def _coherence_problems(s: Standard) -> Iterator[tuple[tuple[str | int, ...], str, str]]:
    """Rules between fields that the field types cannot express: (location to blame, English, Chinese).

    The English message is the YAML author's (``file:line: path: message``); the Chinese one is shown next to
    the field in the structured editor.
    """
    if s.effective_until is not None and s.effective_until < s.effective_from:
        yield ("effective_until",), "must not be before effective_from", \
            "失效日期不能早于生效日期"
    if s.ladder is not None and not s.ladder.level.rank < s.level.rank:
        yield ("ladder", "level"), \
            f"the ladder title level {s.ladder.level.value} must be below {s.level.value}", \
            f"下一级职称的级别（{s.ladder.level.value}）须低于本标准的级别（{s.level.value}）"
    ids = [r.id for r in s.education_routes]
    for i, route in enumerate(s.education_routes):
        if ids.index(route.id) != i:
            yield ("education_routes", i, "id"), f"route id {route.id!r} is used twice", \
                f"路径编号“{route.id}”重复"
        if route.ladder_years is not None and s.ladder is None:
            yield ("education_routes", i, "ladder_years"), "needs a 'ladder' section naming the lower title", \
                "设置了“取得下一级职称后年限”，须先在“台阶”中写明下一级职称"
    if s.work_experience is not None:
        we = s.work_experience
        item_ids = [item.id for item in we.items]
        for i, item in enumerate(we.items):
            if item_ids.index(item.id) != i:
                yield ("work_experience", "items", i, "id"), f"item id {item.id!r} is used twice", \
                    f"条目编号“{item.id}”重复"
        if we.min_items.value > len(we.items):
            yield ("work_experience", "min_items"), \
                f"asks for {we.min_items.value} of only {len(we.items)} items", \
                f"要求具备{we.min_items.value}条，但只列出了{len(we.items)}条"
    if s.achievements is not None:
        ach = s.achievements
        if len(set(ach.kinds)) != len(ach.kinds):
            yield ("achievements", "kinds"), "lists a kind twice", \
                "业绩类型重复"
        if not ach.kinds and not ach.items:
            yield ("achievements",), "needs 'items' (or 'kinds')", \
                "须列出业绩条目"
        item_ids = [ach_item.id for ach_item in ach.items]
        for i, ach_item in enumerate(ach.items):
            if item_ids.index(ach_item.id) != i:
                yield ("achievements", "items", i, "id"), f"item id {ach_item.id!r} is used twice", \
                    f"条目编号“{ach_item.id}”重复"
            for j, branch in enumerate(ach_item.branches):
                stray = [k.value for k in branch.kinds if k not in ach_item.kinds]
                if stray:
                    yield ("achievements", "items", i, "branches", j, "kinds"), \
                        f"{', '.join(stray)} not among the item's kinds", \
                        f"{'、'.join(AchievementKind(k).zh for k in stray)}不在该条目可计入的业绩类型之中"
        if ach.k.value > len(ach.effective_items()):
            yield ("achievements", "k"), f"asks for {ach.k.value} of only {len(ach.effective_items())} items", \
                f"要求具备{ach.k.value}条，但只列出了{len(ach.effective_items())}条"
    direct = s.direct
    if direct is not None:
        if not s.level.at_least(TitleLevel.DEPUTY_SENIOR):
            yield ("direct",), f"direct routes exist only for 副高 and 正高 standards, not {s.level.value}", \
                f"直接申报路径只适用于副高级和正高级标准，本标准为{s.level.value}"
        if s.achievements is None:
            yield ("direct", "achievements_k"), "needs an 'achievements' section listing the items", \
                "须先在“业绩成果”中列出业绩条目"
        elif direct.achievements_k.value < s.achievements.k.value:
            yield ("direct", "achievements_k"), \
                f"must be at least the normal route's k ({s.achievements.k.value})", \
                f"不能少于正常申报须具备的条数（{s.achievements.k.value}条）"
        elif direct.achievements_k.value > len(s.achievements.effective_items()):
            count = len(s.achievements.effective_items())
            yield ("direct", "achievements_k"), f"asks for {direct.achievements_k.value} of only {count} items", \
                f"要求具备{direct.achievements_k.value}条，但只列出了{count}条"
        route_ids = [r.id for r in direct.routes]
        for i, direct_route in enumerate(direct.routes):
            if route_ids.index(direct_route.id) != i:
                yield ("direct", "routes", i, "id"), f"route id {direct_route.id!r} is used twice", \
                    f"路径编号“{direct_route.id}”重复"
            by_education = direct_route.industry_years is not None
            by_leading = direct_route.leader_years is not None
            if by_education == by_leading:
                yield ("direct", "routes", i), "needs industry_years (education route) or leader_years " \
                                               "(leader route), not both", \
                    "学历路径填写“本行业年限”，负责人路径填写“任主要负责人年限”，二者须且只能填一项"
            if by_leading and not direct_route.firm_recognitions:
                yield ("direct", "routes", i, "firm_recognitions"), "a leader route names the firm's recognitions", \
                    "负责人路径须选择企业须获得的认定"
            if by_education and direct_route.min_education is None:
                yield ("direct", "routes", i, "min_education"), "an education route names the education", \
                    "学历路径须选择最低学历"
    works = s.representative_works
    if works is not None:
        if all(k == WorkKind.PAPER for k in works.kinds):
            yield ("representative_works", "kinds"), \
                "must offer alternatives to papers (papers are never the only way)", \
                "须提供论文以外的代表作类型（论文不得作为唯一方式）"
        if set(works.document_kinds) & set(works.kinds) and works.technical_document_min_chars is None:
            yield ("representative_works", "technical_document_min_chars"), \
                "is required when technical_document is an accepted kind", \
                "认可技术文档时须填写技术文档最少字数"
        if works.min_papers is not None:
            if WorkKind.PAPER not in works.kinds:
                yield ("representative_works", "min_papers"), "requires 'paper' among the accepted kinds", \
                    "要求论文篇数时，须把论文列为可作代表作的类型"
            elif works.min_papers.value > works.min_count.value:
                yield ("representative_works", "min_papers"), "must not exceed min_count", \
                    "论文篇数不能超过代表作件数"
    if s.benefits is not None:
        for i, kind in enumerate(s.benefits.kinds):
            if kind not in (AchievementKind.ECONOMIC_BENEFIT, AchievementKind.SOCIAL_BENEFIT):
                yield ("benefits", "kinds", i), \
                    f"{kind.value!r} is not a benefit kind (economic_benefit, social_benefit)", \
                    f"“{kind.zh}”不是效益类型（只能选经济效益、社会效益）"
    ex = s.exceptional
    if ex is not None:
        if not s.level.at_least(TitleLevel.DEPUTY_SENIOR):
            yield ("exceptional",), \
                f"the 破格 route exists only for 副高 and 正高 standards, not {s.level.value}", \
                f"破格条件只适用于副高级和正高级标准，本标准为{s.level.value}"
        if ex.achievements_k is None and ex.recommendations_by_senior_experts is None:
            yield ("exceptional",), "needs achievements_k or recommendations_by_senior_experts", \
                "须填写破格业绩条数或正高级专家推荐人数"
        if ex.achievements_k is not None:
            if s.achievements is None:
                yield ("exceptional", "achievements_k"), "needs an 'achievements' section listing the kinds", \
                    "须先在“业绩成果”中列出业绩条目"
            elif ex.achievements_k.value < s.achievements.k.value:
                yield ("exceptional", "achievements_k"), \
                    f"must be at least the normal route's k ({s.achievements.k.value})", \
                    f"不能少于正常申报须具备的条数（{s.achievements.k.value}条）"
            elif ex.achievements_k.value > len(s.achievements.effective_items()):
                count = len(s.achievements.effective_items())
                yield ("exceptional", "achievements_k"), \
                    f"asks for {ex.achievements_k.value} of only {count} items", \
                    f"要求具备{ex.achievements_k.value}条，但只列出了{count}条"
    if s.bridging is not None:
        own = s.bridging_entries()
        if not own:
            yield ("bridging", "map"), f"no entry leads to this standard's title {s.title!r}", \
                f"没有一条对应关系指向本标准的职称“{s.title}”"
        for i, entry in enumerate(s.bridging.map):
            if entry.title == s.title and entry.title_level != s.level:
                yield ("bridging", "map", i, "title_level"), \
                    f"{entry.title} is a {s.level.value} title here, not {entry.title_level.value}", \
                    f"{entry.title}在本标准中是{s.level.value}职称，不是{entry.title_level.value}"


# ------------------------------------------------------------------------------------------------------------
# Loading and dumping
# ------------------------------------------------------------------------------------------------------------


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class found by following ``loc`` from ``model`` through fields, lists and optionals."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        current = _unwrap(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """The model inside ``X | None``, ``list[X]`` or ``Annotated[X, ...]`` (or the annotation itself)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (list, typing.Union, types.UnionType):
        models = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(models[0]) if len(models) == 1 else annotation
    return annotation


def _message(err: ErrorDetails) -> str:
    """A pydantic error rewritten for the author of a YAML file."""
    loc = tuple(err["loc"])
    path = ".".join(str(p) for p in loc) or "standard"
    if err["type"] == "missing":
        return f"{path}: required field is missing"
    if err["type"] == "extra_forbidden":
        owner = _model_at(Standard, loc[:-1])
        known = list(owner.model_fields) if owner else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        if close:
            return f"{path}: unknown field (did you mean {close[0]!r}?)"
        return f"{path}: unknown field" + (f" (allowed: {', '.join(known)})" if known else "")
    return f"{path}: {err['msg']}"


def _line(raw: Any, loc: tuple[Any, ...] | list[Any]) -> int:
    """The line to blame for an error at ``loc``: the line of the deepest key (or list item) that exists.

    Unlike pointing at the start of a nested mapping, this names the key the author wrote ("exceptional:"),
    and for a missing field it names the mapping's key or the list item that lacks it. 0 when unknown.
    """
    line = getattr(raw, "line", 0)
    node = raw
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line, node = node.key_lines.get(part, line), node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line, node = node.item_lines[part], node[part]
        else:
            break
    return line


def parse_standard(text: str, source: str = "<standard>") -> Standard:
    """Parse and check one standard from YAML text; raise DefinitionError listing every problem by line."""
    raw = load_yaml(text, source)  # impossible dates such as 2024-13-01 are reported there, with their line
    if not isinstance(raw, dict):
        raise DefinitionError("a standard must be a YAML mapping", line=1, source=source)
    return standard_from_data(raw, source)


def standard_from_data(raw: Any, source: str = "<standard>") -> Standard:
    """Validate loaded data (from YAML with line numbers, or a JSON body from the database) into a Standard.

    Raises DefinitionError; lines are known only when ``raw`` came from :func:`workflow.pipeline.yamlsource.load_yaml`.
    """
    try:
        return Standard.model_validate(raw)
    except ValidationError as err:
        problems: list[Problem] = []
        for e in err.errors():
            ctx = e.get("ctx") or {}
            if e["type"] == "standard_incoherent":
                base = tuple(e["loc"])
                for loc, msg, _zh in ctx["problems"]:
                    full = base + tuple(loc)
                    problems.append(Problem(f"{'.'.join(map(str, full))}: {msg}", _line(raw, full)))
            else:
                problems.append(Problem(_message(e), _line(raw, e["loc"])))
        raise DefinitionError(source=source, problems=problems) from None


def _looks_like_path(value: str) -> bool:
    # One line, no "key: value" shape, ending in a YAML extension: a file name rather than a document.
    return "\n" not in value and ": " not in value and value.rstrip().lower().endswith((".yaml", ".yml"))


def load_standard_yaml(text_or_path: str | Path, *, source: str | None = None) -> Standard:
    """Load a standard from a file (a :class:`~pathlib.Path`, or a one-line string ending in .yaml/.yml) or
    from YAML text; errors are :class:`~workflow.pipeline.yamlsource.DefinitionError` naming ``file:line``.

    ``source`` overrides the name used in errors (defaults to the path, or ``<standard>`` for text).
    """
    if isinstance(text_or_path, Path) or _looks_like_path(text_or_path):
        path = Path(text_or_path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise DefinitionError(f"cannot read: {err}", source=source or str(path)) from None
        return parse_standard(text, source or str(path))
    return parse_standard(text_or_path, source or "<standard>")


def load_standard_dir(directory: Path = STANDARDS_DIR) -> dict[str, Standard]:
    """Load every ``*.yaml`` in ``directory`` as {id: standard}, reporting the problems of all files at once.

    A file must be named after its standard's id, and each id may appear once.
    """
    found: dict[str, Standard] = {}
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            standard = load_standard_yaml(path)
        except DefinitionError as err:
            problems.extend(err.attributed())
            continue
        if path.stem != standard.id:
            problems.append(Problem(f"file name must be the standard id ({standard.id}.yaml)", 1, str(path)))
        elif standard.id in found:
            problems.append(Problem(f"standard id {standard.id!r} is defined twice", 1, str(path)))
        else:
            found[standard.id] = standard
    if problems:
        raise DefinitionError(source=str(directory), problems=problems)
    return found


class _Dumper(yaml.SafeDumper):
    """Block style for structure, flow style for small leaf mappings such as thresholds and labels."""


def _represent_dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.MappingNode:
    # Provenance reads best after what it qualifies: {value: 5, tag: S, source: …}.
    items = sorted(data.items(), key=lambda kv: kv[0] in ("tag", "source")) if "tag" in data else data.items()
    leaf = all(not isinstance(v, dict | list) for v in data.values())
    return dumper.represent_mapping("tag:yaml.org,2002:map", items, flow_style=leaf and len(data) <= 4)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.SequenceNode:
    leaf = all(not isinstance(v, dict | list) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=leaf)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    # PyYAML writes NEL (U+0085) raw inside single quotes without the extra line break it adds for "\n", so the
    # loader folds it into a space (or a "\n"): the text would change on every round trip. Double quotes escape
    # it as \N. Every other string keeps PyYAML's choice of style.
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"' if "\x85" in data else None)


_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(str, _represent_str)


def _comment_text(text: str) -> str:
    """``text`` made safe for a one-line YAML comment: line breaks (which would end the comment and leave the
    rest to be read as YAML) and characters YAML refuses anywhere in a stream become spaces."""
    return "".join(ch if ch.isprintable() else " " for ch in text)


def dump_standard_yaml(standard: Standard) -> str:
    """Write ``standard`` as YAML that :func:`load_standard_yaml` reads back to an equal standard.

    Defaults are left out so the file shows only what the author decided. The text is the canonical form of
    the standard: dumping what it reads back to gives the same bytes again (comments and layout of a
    hand-written file are not kept; docs/standards.md describes the form).
    """
    data = standard.model_dump(mode="json", exclude_defaults=True)
    header = f"# {_comment_text(standard.name.zh)} — version {standard.version}\n"
    return header + yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100_000)


def dump_standard_part(value: Any) -> str:
    """One part of a standard's data (a section of ``model_dump(mode="json")``) as YAML in the style of
    :func:`dump_standard_yaml`, so a page showing a section reads like the file; empty for None."""
    if value is None:
        return ""
    return yaml.dump(value, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100_000)
