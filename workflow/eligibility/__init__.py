"""The eligibility evaluator: does an applicant's profile meet an occupation standard, and why (or why not)?

:func:`evaluate` tries every route the standard offers for the applicant's channel — the education routes
with their 台阶, the direct and enterprise-leader routes, the 破格 rule, skill bridging — and returns an
:class:`EligibilityReport` listing each route considered, whether it is open here, and the criterion that
decided it, with the criteria of the route the verdict rests on, explained in Chinese and English with the
numbers, dates and sources applied. One small rule object per layer does the judging:

* :mod:`.basic` — basic conditions; :mod:`.education` — education routes, specialty years, 台阶;
* :mod:`.direct` — direct and enterprise-leader routes; :mod:`.exceptional` — 破格 by recommendations;
* :mod:`.bridging` — skill certificate, wait and unit assessment; :mod:`.achievements` — numbered items;
* :mod:`.evidence_layers` — work experience, 代表作, benefits; :mod:`.dates` — the one date routine;
* :mod:`.evaluator` — the orchestrator.

The evaluator is pure: the reference date and the stage are arguments, the inputs are not modified, and
the same inputs always give the same report, whatever the order of the profile's entries.
"""

from .dates import anniversary, block_in_force, full_years, reached
from .evaluator import evaluate
from .report import (
    CRITERION_LABELS,
    Criterion,
    EligibilityInputError,
    EligibilityReport,
    Evidence,
    ExceptionalOutlook,
    Layer,
    Relaxations,
    Route,
    RouteConsidered,
    RouteFamily,
    Stage,
    ThresholdUse,
    UnitAssessment,
    Verdict,
)

__all__ = [
    "CRITERION_LABELS", "Criterion", "EligibilityInputError", "EligibilityReport", "Evidence",
    "ExceptionalOutlook", "Layer", "Relaxations", "Route", "RouteConsidered", "RouteFamily", "Stage",
    "ThresholdUse", "UnitAssessment", "Verdict", "anniversary", "block_in_force", "evaluate", "full_years",
    "reached",
]
