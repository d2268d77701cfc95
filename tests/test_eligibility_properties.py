"""Properties of the eligibility evaluator over generated applicants (hypothesis).

* **Monotonicity**: more evidence never hurts. Adding a verified achievement or a title, raising a year's
  continuing-education hours, or moving a title's date earlier never makes the overall verdict worse in the
  order met > needs_judgement > not_met, nor any route's verdict. Moving a job's start earlier is the one
  legitimate exception: continuing education is checked for each full year *since the applicant started
  working*, so an earlier start can bring a year without enough hours into the check. For that mutation the
  routes must still never get worse, and the overall verdict may get worse only through the
  continuing-education criterion.
* **Order independence**: the profile's lists are unordered facts; shuffling them changes neither the overall
  verdict, nor the route the verdict rests on, nor any criterion's or route's verdict.

The generated applicants mix random profiles with perturbed copies of eligible ones (so that met and
needs-judgement verdicts are common), on the Hunan SME standard (normal route with and without the session's
waivers, the exceptional pipeline) and on bridging to the national engineer and assistant engineer standards.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any

from eligibility_factories import (
    ALLOW_DIRECT,
    AS_OF,
    ASSISTANT,
    ENGINEER,
    HUNAN,
    HUNAN_CHANNEL,
    SESSION,
    ach,
    assistant,
    bridging_worker,
    cert,
    describe,
    edu,
    engineer,
    firm_rec,
    firm_role,
    hunan_direct,
    hunan_normal,
    item1,
    item2,
    item3,
    item5,
    item6,
    item7,
    item8,
    job,
    rec,
    tech_edu,
    title,
    work,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflow.eligibility import EligibilityReport, Relaxations, Verdict, evaluate
from workflow.eligibility.profiles import (
    AchievementKind,
    Degree,
    EducationLevel,
    FirmRecognition,
    FirmRole,
    RecognitionLevel,
    SkillLevel,
    TechnicalClass,
    parse_profile,
)
from workflow.eligibility.standards import Standard

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

RANK = {Verdict.NOT_MET: 0, Verdict.NEEDS_JUDGEMENT: 1, Verdict.MET: 2}
"""Verdicts from worst to best."""

FIRST_DAY = date(1990, 1, 1)
"""Every generated date lies between this and AS_OF, so it is after every generated birth date."""

LIST_FIELDS = ("education", "titles", "skill_certificates", "work_history", "continuing_education", "achievements",
               "firm_roles", "firm_recognitions", "works", "recommendations")


# ------------------------------------------------------------------------------------------------------------
# Scenarios: the standard and channel an applicant is judged on
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """One standard and channel."""

    name: str
    standard: Standard
    route: str
    relax: Relaxations | None = None
    stage: str = "submission"
    assessment: dict | None = None

    def __repr__(self) -> str:  # hypothesis prints failing examples: the name, not the whole standard
        return f"Scenario({self.name!r})"

    def judge(self, data: dict) -> EligibilityReport:
        """The report for ``data`` (a dict, validated by the evaluator without the future-date check)."""
        return evaluate(data, self.standard, route=self.route, relaxations=self.relax, as_of=AS_OF,
                        stage=self.stage, assessment=self.assessment)


PASSED_IN_SEPTEMBER = {"result": "合格", "on": date(2026, 9, 1), "by": "人力资源部"}

SCENARIOS = [
    Scenario("hunan-normal", HUNAN, "normal"),
    Scenario("hunan-session", HUNAN, "normal", SESSION),
    Scenario("hunan-exceptional", HUNAN, "exceptional", ALLOW_DIRECT),
    Scenario("engineer-bridging", ENGINEER, "bridging"),
    Scenario("engineer-bridging-hunan-recheck", ENGINEER, "bridging", HUNAN_CHANNEL, "recheck", PASSED_IN_SEPTEMBER),
    Scenario("assistant-bridging", ASSISTANT, "bridging", None, "recommendation", PASSED_IN_SEPTEMBER),
    Scenario("hunan-bridging-hunan", HUNAN, "bridging", HUNAN_CHANNEL),
]
HUNAN_PLAIN, HUNAN_SESSION, HUNAN_PIPELINE = SCENARIOS[:3]
scenarios = st.sampled_from(SCENARIOS)


# ------------------------------------------------------------------------------------------------------------
# Strategies for profile entries
# ------------------------------------------------------------------------------------------------------------

dates = st.dates(FIRST_DAY, AS_OF)
years = st.integers(2008, AS_OF.year)


@st.composite
def educations(draw: st.DrawFn) -> dict:
    on = draw(dates)
    if draw(st.booleans()):
        return tech_edu(draw(st.sampled_from([c.value for c in TechnicalClass])), on)
    level = draw(st.sampled_from([e.value for e in EducationLevel]))
    degree = draw(st.none() | st.sampled_from([d.value for d in Degree]))
    return edu(level, on, degree=degree, related=draw(st.booleans()))


TITLE_KINDS = [("技术员", "初级"), ("助理工程师", "助理"), ("工程师", "中级"), ("高级工程师", "副高")]


@st.composite
def titles(draw: st.DrawFn) -> dict:
    name, level = draw(st.sampled_from(TITLE_KINDS))
    return title(name, level, draw(dates), series=draw(st.sampled_from(["工程", "工程", "工程", "经济"])))


@st.composite
def periods(draw: st.DrawFn) -> tuple[date, date | None]:
    start = draw(dates)
    end = draw(st.none() | st.dates(start, AS_OF))
    return start, end


@st.composite
def jobs(draw: st.DrawFn) -> dict:
    start, end = draw(periods())
    return job(start, end, in_specialty=draw(st.booleans()), in_industry=draw(st.booleans()))


ITEM_TEMPLATES = [item1, item2, item3, item5, item6, item7, item8]
levels = st.none() | st.sampled_from([r.value for r in RecognitionLevel])


@st.composite
def achievements(draw: st.DrawFn, verified: bool | None = None) -> dict:
    """An achievement: a numbered Hunan item with random tweaks, or an entry of any kind."""
    is_verified = draw(st.booleans()) if verified is None else verified
    if draw(st.integers(0, 3)):
        entry = draw(st.sampled_from(ITEM_TEMPLATES))(verified=is_verified)
        if draw(st.booleans()):
            entry["level"] = draw(levels)
        if draw(st.booleans()):
            entry["appraisal_level"] = draw(levels)
        if entry["item"] == "6":
            entry["rank"] = draw(st.integers(1, 5))
            entry["count"] = draw(st.integers(1, 4))
            entry["kind"] = draw(st.sampled_from(["patent_invention", "patent_utility", "software_copyright"]))
        entry = {k: v for k, v in entry.items() if v is not None}
    else:
        entry = ach(draw(st.sampled_from([k.value for k in AchievementKind])),
                    draw(st.sampled_from(["", "1", "2", "3", "4", "5", "6", "7", "8"])),
                    level=draw(levels), rank=draw(st.none() | st.integers(1, 5)), count=draw(st.integers(1, 4)),
                    appraisal_level=draw(levels), appraised_by=draw(st.sampled_from(["", "省科技厅"])),
                    verified=is_verified)
    entry["year"] = draw(years)
    entry["evidence"] = draw(st.sampled_from(["EV-001", "EV-001", "EV-001", ""]))
    return entry


FIRMS = ["长沙某精密机械有限公司", "株洲某轨道装备有限公司"]


@st.composite
def firm_roles(draw: st.DrawFn) -> dict:
    start, end = draw(periods())
    return firm_role(draw(st.sampled_from([r.value for r in FirmRole])), start, end,
                     employer=draw(st.sampled_from(FIRMS)))


@st.composite
def firm_recognitions(draw: st.DrawFn) -> dict:
    return firm_rec(draw(st.sampled_from([r.value for r in FirmRecognition])), draw(years),
                    employer=draw(st.sampled_from(FIRMS)))


@st.composite
def works(draw: st.DrawFn) -> dict:
    kind = draw(st.sampled_from(["technical_document", "technical_document", "paper", "monograph", "patent"]))
    return work(kind, chars=draw(st.sampled_from([None, 4999, 5000, 8000])), verified=draw(st.booleans()),
                year=draw(years))


@st.composite
def recommendations(draw: st.DrawFn) -> dict:
    return rec(draw(st.sampled_from(["正高", "副高"])), specialty=draw(st.sampled_from(["机械", "电气"])),
               series=draw(st.sampled_from(["工程", "经济"])), name=draw(st.sampled_from(["张", "李", "王"])))


@st.composite
def certificates(draw: st.DrawFn) -> dict:
    return cert(draw(st.sampled_from([s.value for s in SkillLevel])), draw(dates))


HOURS = [0, 45, 89, 90, 96, 120]


@st.composite
def training(draw: st.DrawFn) -> list[dict]:
    """Continuing-education hours for some of the years 2018–2026 (each year at most once)."""
    chosen = draw(st.dictionaries(st.integers(2018, AS_OF.year), st.sampled_from(HOURS), max_size=9))
    return [{"year": y, "hours": h} for y, h in chosen.items()]


def _lists(strategy: st.SearchStrategy, max_size: int) -> st.SearchStrategy:
    return st.lists(strategy, max_size=max_size)


RANDOM_FIELDS: dict[str, st.SearchStrategy] = {
    "education": _lists(educations(), 2),
    "titles": _lists(titles(), 3),
    "skill_certificates": _lists(certificates(), 2),
    "work_history": _lists(jobs(), 3),
    "continuing_education": training(),
    "achievements": _lists(achievements(), 4),
    "firm_roles": _lists(firm_roles(), 2),
    "firm_recognitions": _lists(firm_recognitions(), 3),
    "works": _lists(works(), 2),
    "recommendations": _lists(recommendations(), 2),
}

FULL_TRAINING = [{"year": y, "hours": 96} for y in range(2018, AS_OF.year + 1)]

HUNAN_BASES = [
    hunan_normal(achievements=[item2(), item6()]),
    hunan_direct(),
    hunan_direct(education=[edu("大专")], titles=[], firm_roles=[firm_role("principal", "2019-01-01")],
                 firm_recognitions=[firm_rec("national_little_giant", 2020),
                                    firm_rec("manufacturing_single_champion", 2021)]),
]
BRIDGING_BASES = [
    bridging_worker("技师", "2021-01-01"),
    bridging_worker("高级工", "2023-06-01", education=[tech_edu("高级工班", "2010-07-01")]),
    bridging_worker("高级技师", "2020-01-01", titles=[assistant("2012-01-01"), engineer("2018-01-01")]),
]
"""Eligible (or nearly eligible) applicants, perturbed by the strategy below."""


@st.composite
def cases(draw: st.DrawFn) -> tuple[Scenario, dict]:
    """A scenario and a profile body: mostly an eligible base with some lists replaced by random ones."""
    scenario = draw(scenarios)
    if draw(st.integers(0, 2)):
        data = copy.deepcopy(draw(st.sampled_from(BRIDGING_BASES if scenario.route == "bridging" else HUNAN_BASES)))
        data["continuing_education"] = copy.deepcopy(FULL_TRAINING)
        for name, strategy in RANDOM_FIELDS.items():
            if draw(st.integers(0, 7)) == 0:
                data[name] = draw(strategy)
    else:
        data = {"schema_version": 2, **{name: draw(strategy) for name, strategy in RANDOM_FIELDS.items()}}
    data["birth_date"] = draw(st.dates(date(1960, 1, 1), date(1975, 12, 31))).isoformat()
    if draw(st.integers(0, 9)) == 0:
        data["integrity_record_until"] = draw(st.dates(date(2025, 1, 1), date(2028, 1, 1))).isoformat()
    parse_profile(data, check_future=False)  # every generated body is a valid profile
    return scenario, data


# ------------------------------------------------------------------------------------------------------------
# Checks
# ------------------------------------------------------------------------------------------------------------


def never_worse(before: EligibilityReport, after: EligibilityReport, *, overall: bool = True) -> None:
    """``after`` is at least as good as ``before``: every route, and (with ``overall``) the overall verdict.

    The weaker form — an applicant who could submit still can — follows from the stronger one and is
    asserted on its own so that a failure says which form broke.
    """
    context = f"\nbefore: {describe(before)}\nafter:  {describe(after)}"
    if overall:
        assert not (before.can_submit and not after.can_submit), "eligible applicant became ineligible" + context
        assert RANK[after.overall] >= RANK[before.overall], "overall verdict got worse" + context
    assert [r.id for r in after.routes] == [r.id for r in before.routes]
    for b, a in zip(before.routes, after.routes, strict=True):
        assert a.open == b.open
        assert RANK[a.verdict] >= RANK[b.verdict], f"route {b.id} got worse" + context


def _reparse(data: dict) -> dict:
    """The body must stay a valid profile after a mutation."""
    parse_profile(data, check_future=False)
    return data


@PROPERTY_SETTINGS
@given(case=cases(), extra=achievements(verified=True))
def test_adding_a_verified_achievement_never_hurts(case: tuple[Scenario, dict], extra: dict):
    scenario, data = case
    more = _reparse({**data, "achievements": [*data.get("achievements", []), extra]})
    never_worse(scenario.judge(data), scenario.judge(more))


@PROPERTY_SETTINGS
@given(case=cases(), extra=titles())
def test_adding_a_title_never_hurts(case: tuple[Scenario, dict], extra: dict):
    scenario, data = case
    more = _reparse({**data, "titles": [*data.get("titles", []), extra]})
    never_worse(scenario.judge(data), scenario.judge(more))


@PROPERTY_SETTINGS
@given(case=cases(), year=st.integers(2018, AS_OF.year), extra=st.sampled_from([1, 30, 90]))
def test_more_training_hours_never_hurt(case: tuple[Scenario, dict], year: int, extra: int):
    scenario, data = case
    hours = [dict(c) for c in data.get("continuing_education", [])]
    entry = next((c for c in hours if c["year"] == year), None)
    if entry is None:
        hours.append({"year": year, "hours": extra})
    else:
        entry["hours"] = min(entry["hours"] + extra, 2000)
    more = _reparse({**data, "continuing_education": hours})
    never_worse(scenario.judge(data), scenario.judge(more))


@PROPERTY_SETTINGS
@given(case=cases(), pick=st.data())
def test_an_earlier_title_date_never_hurts(case: tuple[Scenario, dict], pick: st.DataObject):
    scenario, data = case
    held = [dict(t) for t in data.get("titles", [])]
    if held:
        i = pick.draw(st.integers(0, len(held) - 1))
        held[i]["obtained_on"] = pick.draw(st.dates(FIRST_DAY, date.fromisoformat(held[i]["obtained_on"])))
        held[i]["obtained_on"] = held[i]["obtained_on"].isoformat()
    earlier = _reparse({**data, "titles": held})
    never_worse(scenario.judge(data), scenario.judge(earlier))


@PROPERTY_SETTINGS
@given(case=cases(), pick=st.data())
def test_an_earlier_job_start_never_hurts_except_through_training_years(case: tuple[Scenario, dict],
                                                                         pick: st.DataObject):
    scenario, data = case
    history = [dict(w) for w in data.get("work_history", [])]
    if history:
        i = pick.draw(st.integers(0, len(history) - 1))
        history[i]["start"] = pick.draw(st.dates(FIRST_DAY, date.fromisoformat(history[i]["start"]))).isoformat()
    earlier = _reparse({**data, "work_history": history})
    before, after = scenario.judge(data), scenario.judge(earlier)
    never_worse(before, after, overall=False)
    # The property itself: an applicant who could submit still can.
    assert not (before.can_submit and not after.can_submit), f"\nbefore: {describe(before)}\nafter:  {describe(after)}"
    if RANK[after.overall] < RANK[before.overall]:
        # Only legitimate way: a year before the old start is now checked for continuing education.
        was, now = before.criterion("continuing_education"), after.criterion("continuing_education")
        assert RANK[now.verdict] < RANK[was.verdict], f"\nbefore: {describe(before)}\nafter:  {describe(after)}"
        others = {c.id: c.verdict for c in after.criteria if c.id != "continuing_education"}
        assert all(RANK[v] >= RANK[c.verdict] for c in before.criteria if c.id in others
                   for v in [others[c.id]]), f"\nbefore: {describe(before)}\nafter:  {describe(after)}"


def test_an_earlier_job_start_can_legitimately_bring_a_year_without_training_into_the_check():
    """The documented exception to the strong form, pinned with a concrete applicant: the year now checked
    awaits the unit's check, so the applicant can still submit (the issue's property holds)."""
    scenario = HUNAN_PLAIN
    data = hunan_normal(achievements=[item2()], work_history=[job("2025-01-01")],
                        continuing_education=[{"year": 2025, "hours": 96}])
    assert scenario.judge(data).criterion("continuing_education").verdict == Verdict.MET
    earlier = {**data, "work_history": [job("2007-07-15")]}
    report = scenario.judge(earlier)
    assert report.criterion("continuing_education").verdict == Verdict.NEEDS_JUDGEMENT and report.can_submit
    assert "2023 年、2024 年未填报" in report.criterion("continuing_education").explanation.zh


def _shuffled(data: dict, pick: st.DataObject) -> dict:
    out = dict(data)
    for name in LIST_FIELDS:
        if data.get(name):
            out[name] = pick.draw(st.permutations(data[name]), label=name)
    return out


def _verdicts(report: EligibilityReport) -> tuple[Any, ...]:
    return (report.overall, report.education_route, report.can_submit,
            [(c.id, c.verdict, c.applies) for c in report.criteria],
            [(r.id, r.open, r.verdict, r.decided_by) for r in report.routes])


@PROPERTY_SETTINGS
@given(case=cases(), pick=st.data())
def test_the_order_of_the_profile_lists_does_not_matter(case: tuple[Scenario, dict], pick: st.DataObject):
    scenario, data = case
    before = scenario.judge(data)
    after = scenario.judge(_shuffled(data, pick))
    assert _verdicts(after) == _verdicts(before), f"\nbefore: {describe(before)}\nafter:  {describe(after)}"


def _route_verdicts(report: EligibilityReport, ids: list[str]) -> list[tuple[str, Verdict, str | None]]:
    return [(r.id, r.verdict, r.decided_by) for r in report.routes if r.id in ids]


@PROPERTY_SETTINGS
@given(case=cases())
def test_a_session_changes_which_routes_open_not_how_they_are_judged(case: tuple[Scenario, dict]):
    """Waiving the 台阶 never drops years: the normal routes are judged alike with and without the session's
    waivers, and the direct routes alike in the session and on the exceptional pipeline (rules.md §7.3)."""
    _, data = case
    assert HUNAN.direct is not None
    normal_ids = [r.id for r in HUNAN.education_routes]
    direct_ids = [r.id for r in HUNAN.direct.routes]
    plain, session, pipeline = (s.judge(data) for s in (HUNAN_PLAIN, HUNAN_SESSION, HUNAN_PIPELINE))
    assert _route_verdicts(session, normal_ids) == _route_verdicts(plain, normal_ids)
    assert _route_verdicts(session, direct_ids) == _route_verdicts(pipeline, direct_ids)
    assert all(r.open for r in session.routes) and not any(r.open for r in plain.routes if r.id in direct_ids)
