"""The inputs of one evaluation, the facts derived from them once, and the pieces rules build criteria from."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any, Protocol, TypeVar

from workflow.eligibility.profiles import ApplicantProfile, Education, Text, TitleHeld, TitleLevel, Vocabulary
from workflow.eligibility.standards import Sourced, Standard, Threshold

from .dates import Span, span_of
from .report import (
    CRITERION_LABELS,
    Criterion,
    Evidence,
    Layer,
    RelaxationName,
    Relaxations,
    RouteConsidered,
    RouteFamily,
    Stage,
    ThresholdUse,
    UnitAssessment,
    Verdict,
)

T = TypeVar("T")

_DERIVED: dict[tuple[int, Hashable], tuple[object, Any]] = {}
_DERIVED_MAX = 4096


def derived(source: object, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, remembered for the immutable ``source`` (a frozen part of a standard) and ``key``.

    Standards are frozen and cached by the store, so what the evaluator derives from one part of a standard
    is the same on every call. The entry keeps ``source`` alive, so its ``id`` cannot be reused by another
    object while the entry exists; the table is emptied when it grows past a bound, because draft standards
    previewed on the web are built afresh for each request.
    """
    slot = (id(source), key)
    hit = _DERIVED.get(slot)
    if hit is not None and hit[0] is source:
        value: T = hit[1]
        return value
    value = compute()
    if len(_DERIVED) >= _DERIVED_MAX:
        _DERIVED.clear()
    _DERIVED[slot] = (source, value)
    return value


@dataclass
class Part:
    """A criterion's outcome under construction: verdict, explanation, evidence and thresholds."""

    verdict: Verdict
    zh: str
    en: str
    evidence: list[Evidence] = field(default_factory=list)
    thresholds: list[ThresholdUse] = field(default_factory=list)
    relaxation: RelaxationName | None = None
    _criteria: dict[tuple[str, Layer, bool, bool], Criterion] = field(default_factory=dict, init=False,
                                                                        repr=False, compare=False)

    def criterion(self, cid: str, layer: Layer, hard: bool, applies: bool) -> Criterion:
        """The frozen criterion for the report, built once per part and shape.

        A part is finished before the report is built (rules only amend their own part before returning it),
        and the same part shows up several times: a route's findings appear under the route and again in the
        report's criteria, the blocking ones once more in the reasons, and routes share the achievements and
        education parts.
        """
        key = (cid, layer, hard, applies)
        built = self._criteria.get(key)
        if built is None:
            built = self._criteria[key] = Criterion(
                id=cid, layer=layer, label=CRITERION_LABELS[cid], verdict=self.verdict, hard=hard,
                explanation=Text(zh=self.zh, en=self.en), evidence=self.evidence, thresholds=self.thresholds,
                relaxation=self.relaxation, applies=applies)
        return built


def met(zh: str, en: str, evidence: list[Evidence] | None = None, uses: list[ThresholdUse] | None = None,
        relaxation: RelaxationName | None = None) -> Part:
    """A met part."""
    return Part(Verdict.MET, zh, en, evidence or [], uses or [], relaxation)


def not_met(zh: str, en: str, evidence: list[Evidence] | None = None, uses: list[ThresholdUse] | None = None,
            relaxation: RelaxationName | None = None) -> Part:
    """An unmet part."""
    return Part(Verdict.NOT_MET, zh, en, evidence or [], uses or [], relaxation)


def pending(zh: str, en: str, evidence: list[Evidence] | None = None, uses: list[ThresholdUse] | None = None,
            relaxation: RelaxationName | None = None) -> Part:
    """A part awaiting verification or the experts' judgement (never blocking)."""
    return Part(Verdict.NEEDS_JUDGEMENT, zh, en, evidence or [], uses or [], relaxation)


def use(path: str, sourced: Sourced, applied: int | None = None) -> ThresholdUse:
    """Record that the requirement at ``path`` of the standard was applied (``applied`` if relaxed)."""
    # The same requirement is cited ~20 times per evaluation; the frozen record can be shared.
    return derived(sourced, ("use", path, applied), lambda: _use(path, sourced, applied))


def _use(path: str, sourced: Sourced, applied: int | None) -> ThresholdUse:
    value = sourced.value if isinstance(sourced, Threshold) else None
    return ThresholdUse(path=path, value=value, applied=value if applied is None else applied,
                        tag=sourced.tag, tag_label=sourced.tag.text, source=sourced.source)


def kinds_zh(kinds: Iterable[Vocabulary]) -> str:
    """Labels of vocabulary members joined for a Chinese sentence."""
    return "、".join(k.zh for k in kinds)


def kinds_en(kinds: Iterable[Vocabulary]) -> str:
    """Labels of vocabulary members joined for an English sentence."""
    return ", ".join(k.en for k in kinds)


@dataclass
class Finding:
    """A criterion of the report: its id and layer, the part, whether it is hard, whether it applies."""

    cid: str
    layer: Layer
    part: Part
    hard: bool = True
    applies: bool = True

    def criterion(self) -> Criterion:
        """The frozen criterion for the report."""
        return self.part.criterion(self.cid, self.layer, self.hard, self.applies)

    @property
    def blocking(self) -> bool:
        """True when this finding alone makes its route (or the whole evaluation) fail."""
        return self.applies and self.hard and self.part.verdict == Verdict.NOT_MET


def combine(findings: Iterable[Finding]) -> Verdict:
    """Not met if any finding blocks; else needs judgement if any applicable one is not met; else met."""
    found = [f for f in findings if f.applies]
    if any(f.blocking for f in found):
        return Verdict.NOT_MET
    if any(f.part.verdict != Verdict.MET for f in found):
        return Verdict.NEEDS_JUDGEMENT
    return Verdict.MET


@dataclass
class RouteResult:
    """One route evaluated: whether it is open here, and its route-specific findings."""

    id: str
    family: RouteFamily
    label: Text
    open: bool
    findings: list[Finding]
    closed: Text | None = None

    @property
    def verdict(self) -> Verdict:
        """The route's verdict: a closed route is not met."""
        return combine(self.findings) if self.open else Verdict.NOT_MET

    @property
    def blocking(self) -> list[Finding]:
        """The findings that make this route fail."""
        return [f for f in self.findings if f.blocking]

    def considered(self) -> RouteConsidered:
        """The route for the report, with the criterion that decided it."""
        verdict = self.verdict
        decided: Finding | None = None
        if not self.open:
            assert self.closed is not None
            reason = self.closed
        elif verdict == Verdict.NOT_MET:
            decided = self.blocking[0]
            reason = Text(zh=f"{CRITERION_LABELS[decided.cid].zh}不符合：{decided.part.zh}",
                          en=f"{CRITERION_LABELS[decided.cid].en} not met: {decided.part.en}")
        elif verdict == Verdict.NEEDS_JUDGEMENT:
            waiting = [f for f in self.findings if f.applies and f.part.verdict != Verdict.MET]
            decided = waiting[0]
            names = "、".join(CRITERION_LABELS[f.cid].zh for f in waiting)
            reason = Text(zh=f"硬性条件均符合，{names}待核实或由专家评议。",
                          en="Hard conditions met; " + ", ".join(CRITERION_LABELS[f.cid].en for f in waiting)
                             + " await verification or judgement.")
        else:
            reason = Text(zh="本路径全部条件符合。", en="Every condition of this route is met.")
        return RouteConsidered(id=self.id, family=self.family, label=self.label, open=self.open,
                               verdict=verdict, decided_by=decided.cid if decided else None, reason=reason,
                               criteria=[f.criterion() for f in self.findings])

    def rank(self) -> tuple[int, int]:
        """Sort key, best first: open before closed, then met, pending, not met; then fewest failures."""
        order = {Verdict.MET: 0, Verdict.NEEDS_JUDGEMENT: 1, Verdict.NOT_MET: 2}
        failures = sum(f.part.verdict != Verdict.MET for f in self.findings if f.applies)
        return (0 if self.open else 1) * 10 + order[self.verdict], failures


class _Summarised(Protocol):
    def summary(self) -> Text: ...


@dataclass
class Context:
    """One evaluation's inputs, and the facts derived from them (each computed once, on first use)."""

    profile: ApplicantProfile
    standard: Standard
    route: str
    relax: Relaxations
    as_of: date
    stage: Stage
    assessment: UnitAssessment | None
    specialty: str

    @cached_property
    def day(self) -> str:
        """The reference date as text."""
        return self.as_of.isoformat()

    @cached_property
    def _remembered(self) -> dict[Hashable, Any]:
        return {}

    def remember(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per evaluation for ``key`` (a question several routes ask alike); what is
        remembered is shared, so it must not be changed afterwards."""
        if key in self._remembered:
            value: T = self._remembered[key]
            return value
        value = self._remembered[key] = compute()
        return value

    @cached_property
    def _summaries(self) -> dict[int, tuple[_Summarised, Text]]:
        return {}

    def summary(self, entry: _Summarised) -> Text:
        """``entry.summary()`` for an entry of the profile, built once per evaluation (rules cite the same
        education or achievement several times, and each summary formats dates and labels)."""
        hit = self._summaries.get(id(entry))
        if hit is not None and hit[0] is entry:
            return hit[1]
        text = entry.summary()
        self._summaries[id(entry)] = (entry, text)
        return text

    def policy(self) -> tuple[str, str]:
        """How to cite the policy behind a session's waiver (its cited source), or nothing when none is given."""
        cited = self.relax.source
        return (f"（依据：{cited}）", f" (per {cited})") if cited else ("", "")

    @cached_property
    def educations(self) -> list[tuple[int, Education]]:
        """Educations completed by the reference date, with their index in the profile."""
        return [(i, e) for i, e in enumerate(self.profile.education) if e.graduated_on <= self.as_of]

    def best_education(self) -> tuple[int, Education] | None:
        """The completed education counting as the highest level (the equivalences applied)."""
        if not self.educations:
            return None
        return max(self.educations, key=lambda ie: (ie[1].equivalent_level().rank, -ie[0]))

    @cached_property
    def titles(self) -> list[tuple[int, TitleHeld]]:
        """Titles held by the reference date, with their index in the profile."""
        return [(i, t) for i, t in enumerate(self.profile.titles) if t.obtained_on <= self.as_of]

    @cached_property
    def first_junior_title(self) -> tuple[int, TitleHeld] | None:
        """The earliest title of junior grade or above, in any series.

        "Years after the 初级 title" (取得初级职称后, §7.3) count from it: the text names no series, and what it
        counts is technical work in the industry after that date. A higher title held proves a junior one
        before it, so its date is a safe (later) start when the junior title itself is not declared.
        """
        held = [(i, t) for i, t in self.titles if t.level.at_least(TitleLevel.JUNIOR)]
        return min(held, key=lambda it: (it[1].obtained_on, it[0])) if held else None

    def work_spans(self, *, industry: bool, not_before: date | None = None) -> tuple[list[Span], list[Evidence]]:
        """Spans of technical work in the specialty (or, with ``industry``, in the industry) before the
        reference date, starting no earlier than ``not_before``, with the jobs as evidence."""
        key = (industry, not_before)
        hit = self._spans.get(key)
        if hit is None:
            hit = self._spans[key] = self._work_spans(industry, not_before)
        return list(hit[0]), list(hit[1])  # copies: callers may extend what they are given

    @cached_property
    def _spans(self) -> dict[tuple[bool, date | None], tuple[list[Span], list[Evidence]]]:
        return {}

    def _work_spans(self, industry: bool, not_before: date | None) -> tuple[list[Span], list[Evidence]]:
        spans: list[Span] = []
        evidence: list[Evidence] = []
        for i, w in enumerate(self.profile.work_history):
            if not (w.industry_technical if industry else w.in_specialty):
                continue
            span = span_of(w.start, w.end, self.as_of, not_before=not_before)
            if span is not None:
                spans.append(span)
                evidence.append(Evidence(path=f"work_history[{i}]", summary=self.summary(w)))
        return spans, evidence
