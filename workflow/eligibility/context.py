"""The inputs of one evaluation, the facts derived from them once, and the pieces rules build criteria from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

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


@dataclass
class Part:
    """A criterion's outcome under construction: verdict, explanation, evidence and thresholds."""

    verdict: Verdict
    zh: str
    en: str
    evidence: list[Evidence] = field(default_factory=list)
    thresholds: list[ThresholdUse] = field(default_factory=list)
    relaxation: RelaxationName | None = None


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
        p = self.part
        return Criterion(id=self.cid, layer=self.layer, label=CRITERION_LABELS[self.cid], verdict=p.verdict,
                         hard=self.hard, explanation=Text(zh=p.zh, en=p.en), evidence=p.evidence,
                         thresholds=p.thresholds, relaxation=p.relaxation, applies=self.applies)

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

    @property
    def day(self) -> str:
        """The reference date as text."""
        return self.as_of.isoformat()

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
        spans: list[Span] = []
        evidence: list[Evidence] = []
        for i, w in enumerate(self.profile.work_history):
            if not (w.industry_technical if industry else w.in_specialty):
                continue
            span = span_of(w.start, w.end, self.as_of, not_before=not_before)
            if span is not None:
                spans.append(span)
                evidence.append(Evidence(path=f"work_history[{i}]", summary=w.summary()))
        return spans, evidence
