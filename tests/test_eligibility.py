"""The eligibility evaluator's contract beyond the rules themselves: input errors listed together, purity and
determinism, the report's JSON round trip, bilingual explanations, every route of a standard reported with a
reason, provenance of the thresholds applied, evidence pointing into the profile, the basic conditions, the
session relaxations the seed standards do not carry, and the date routine.

The published rules (rules.md §7), each at its boundary, are in ``test_eligibility_rules.py``; the
monotonicity and order-independence properties in ``test_eligibility_properties.py``.
"""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from eligibility_factories import (
    ALLOW_DIRECT,
    AS_OF,
    ASSISTANT,
    ENGINEER,
    HUNAN,
    HUNAN_CHANNEL,
    PASSED,
    SENIOR,
    SESSION,
    STANDARDS,
    assistant,
    bridging_worker,
    ce,
    day_after,
    describe,
    edu,
    engineer,
    hunan_direct,
    hunan_normal,
    item2,
    item6,
    job,
    profile,
    rec,
    run,
    work,
)

from workflow.eligibility import (
    CRITERION_LABELS,
    EligibilityInputError,
    EligibilityReport,
    Relaxations,
    Route,
    Verdict,
    anniversary,
    block_in_force,
    evaluate,
    full_years,
    reached,
)
from workflow.eligibility.profiles import parse_profile
from workflow.eligibility.standards import Standard

M, N, J = Verdict.MET, Verdict.NOT_MET, Verdict.NEEDS_JUDGEMENT

ALL_ROUND = hunan_normal(achievements=[item2(), item6()])
"""本科, 助理工程师 2011, 工程师 2019, items 2 and 6, a verified document: eligible on the Hunan normal and
direct routes and on the national engineer and senior engineer standards."""

REPORTS = [
    # (id, profile, standard, keyword arguments): a spread of reports for the contract tests
    pytest.param(ALL_ROUND, HUNAN, {}, id="hunan-normal-met"),
    pytest.param(hunan_direct(), HUNAN, {"relaxations": SESSION}, id="hunan-session-direct"),
    pytest.param(hunan_direct(), HUNAN, {"route": "exceptional", "relaxations": ALLOW_DIRECT}, id="hunan-direct"),
    pytest.param(hunan_direct(), HUNAN, {}, id="hunan-normal-not-met"),
    pytest.param(hunan_direct(), HUNAN, {"route": "exceptional"}, id="hunan-exceptional-closed"),
    pytest.param(ALL_ROUND, SENIOR, {}, id="senior-normal"),
    pytest.param(profile(titles=[], recommendations=[rec()], achievements=[item2(), item6()], works=[work()]),
                 SENIOR, {"relaxations": ALLOW_DIRECT, "specialty": "机械"}, id="senior-with-outlook"),
    pytest.param({**ALL_ROUND, "recommendations": [rec(), rec(specialty="电气")]}, SENIOR,
                 {"route": "exceptional", "relaxations": ALLOW_DIRECT, "specialty": "机械"}, id="senior-exceptional"),
    pytest.param(bridging_worker("技师", "2024-01-01"), ENGINEER, {"route": "bridging"}, id="engineer-bridging"),
    pytest.param(bridging_worker("技师", "2026-01-01"), ENGINEER,
                 {"route": "bridging", "relaxations": HUNAN_CHANNEL, "stage": "recheck", "assessment": PASSED},
                 id="engineer-bridging-hunan-recheck"),
    pytest.param(bridging_worker("高级工", "2025-01-01"), ASSISTANT, {"route": "bridging", "stage": "recommendation"},
                 id="assistant-bridging-no-assessment"),
    pytest.param(profile(retired=True, integrity_record_until="2027-01-01"), ENGINEER, {}, id="engineer-blocked"),
]


# ------------------------------------------------------------------------------------------------------------
# Input errors: every problem at once, each naming where it is
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "where", "fragment"), [
    pytest.param({"route": "fast-track"}, "route", "未知的申报通道 'fast-track'", id="route"),
    pytest.param({"stage": "later"}, "stage", "未知的审查环节 'later'", id="stage"),
    pytest.param({"as_of": "2026-11-29"}, "as_of", "须为日期（date），实际为 str", id="as-of-text"),
    pytest.param({"as_of": datetime(2026, 11, 29, 12)}, "as_of", "实际为 datetime", id="as-of-datetime"),
    pytest.param({"relaxations": {"waive_everything": True}}, "relaxations.waive_everything", "Extra inputs",
                 id="relaxation-unknown"),
    pytest.param({"relaxations": {"bridging_waiting_years_override": 0}}, "relaxations.bridging_waiting_years_override",
                 "Extra inputs", id="relaxation-removed"),
    pytest.param({"relaxations": 3}, "relaxations", "须为 Relaxations 或键值结构", id="relaxations-type"),
    pytest.param({"assessment": {"result": "很好", "on": "2026-01-01"}}, "assessment.result", "合格",
                 id="assessment-result"),
    pytest.param({"assessment": {"result": "合格"}}, "assessment.on", "required", id="assessment-date-missing"),
    pytest.param({"assessment": 42}, "assessment", "须为单位考核记录", id="assessment-type"),
    pytest.param({"profile": ["not", "a", "mapping"]}, "profile", "实际为 list", id="profile-type"),
    pytest.param({"profile": {"birth_date": "1985-13-01"}}, "profile.birth_date", "date", id="profile-date"),
    pytest.param({"profile": {"birth_date": "1985-01-01", "titles": [{"level": "特高"}]}}, "profile.titles[0].level",
                 "Input should be", id="profile-title-level"),
    pytest.param({"profile": profile(education=[{"school_type": "technical_school", "level": "本科",
                                                 "graduated_on": "2007-07-01", "major": "数控"}])},
                 "profile.education[0]", "技工院校", id="profile-technical-school-without-class"),
    pytest.param({"standard": {"id": "x"}}, "standard", "version: required field is missing", id="standard-body"),
    pytest.param({"standard": 42}, "standard", "实际为 int", id="standard-type"),
])
def test_malformed_input_names_where_and_what(kwargs: dict[str, Any], where: str, fragment: str):
    args: dict[str, Any] = {"profile": ALL_ROUND, "standard": HUNAN, "as_of": AS_OF}
    args.update(kwargs)
    data, standard = args.pop("profile"), args.pop("standard")
    with pytest.raises(EligibilityInputError) as caught:
        evaluate(data, standard, **args)
    assert any(w == where and fragment in what for w, what in caught.value.problems), caught.value.problems
    assert caught.value.status == 422
    assert fragment in str(caught.value)


def test_every_input_problem_is_reported_at_once():
    with pytest.raises(EligibilityInputError) as caught:
        evaluate({"birth_date": "x"}, 42, route="nope", relaxations=3, as_of=None, stage="later", assessment=42)
    assert [where.split(".")[0] for where, _ in caught.value.problems] == [
        "profile", "standard", "route", "stage", "relaxations", "assessment", "as_of"]


def test_field_problems_of_several_arguments_are_listed_together():
    with pytest.raises(EligibilityInputError) as caught:
        evaluate(ALL_ROUND, HUNAN, as_of=AS_OF, relaxations={"waive_everything": True},
                 assessment={"result": "很好", "on": "soon"})
    assert [where for where, _ in caught.value.problems] == [
        "relaxations.waive_everything", "assessment.result", "assessment.on"]


def test_profile_and_standard_bodies_are_accepted_as_dicts():
    as_model = run(parse_profile(ALL_ROUND, check_future=False), HUNAN)
    as_dicts = evaluate(ALL_ROUND, HUNAN.model_dump(mode="json"), as_of=AS_OF,
                        relaxations=SESSION.model_dump(mode="json"), assessment=PASSED)
    assert as_model.overall == as_dicts.overall == M
    assert as_model.criteria == run(ALL_ROUND, HUNAN).criteria


def test_entries_dated_after_as_of_are_ignored_not_rejected():
    data = {**ALL_ROUND, "titles": [assistant("2011-07-01"), engineer(day_after(AS_OF))]}
    report = run(data)
    assert report.route_result("master-or-bachelor").decided_by == "ladder"
    assert "未取得工程系列中级职称（工程师）" in report.criterion("ladder").explanation.zh
    later = run(data, as_of=date(2032, 1, 1), relaxations=None)  # out of the standard's period, but judged
    assert later.criterion("standard_in_force").verdict == N


# ------------------------------------------------------------------------------------------------------------
# Purity, determinism, the stored report
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "standard", "kwargs"), REPORTS)
def test_evaluation_is_pure_and_deterministic(data: dict, standard: Standard, kwargs: dict[str, Any]):
    before = copy.deepcopy(data)
    model = parse_profile(copy.deepcopy(data), check_future=False)
    model_before = model.model_dump()
    relax_before = copy.deepcopy(kwargs)
    first = run(data, standard, **kwargs)
    second = run(data, standard, **kwargs)
    from_model = run(model, standard, **kwargs)
    assert first == second == from_model
    assert first.model_dump(mode="json") == second.model_dump(mode="json")
    assert data == before and kwargs == relax_before
    assert model.model_dump() == model_before


@pytest.mark.parametrize(("data", "standard", "kwargs"), REPORTS)
def test_report_round_trips_through_json(data: dict, standard: Standard, kwargs: dict[str, Any]):
    report = run(data, standard, **kwargs)
    body = json.loads(json.dumps(report.model_dump(mode="json"), ensure_ascii=False))
    again = EligibilityReport.model_validate(body)
    assert again == report
    assert again.can_submit == report.can_submit
    assert again.criterion(report.criteria[0].id) == report.criteria[0]


@pytest.mark.parametrize(("data", "standard", "kwargs"), REPORTS)
def test_every_text_is_bilingual_and_the_summary_is_consistent(data: dict, standard: Standard,
                                                               kwargs: dict[str, Any]):
    report = run(data, standard, **kwargs)
    assert report.summary.zh and report.summary.en
    for c in report.criteria:
        assert c.id in CRITERION_LABELS and c.label == CRITERION_LABELS[c.id]
        assert c.explanation.zh.strip() and c.explanation.en.strip(), c.id
        for t in c.thresholds:
            assert t.source and t.tag_label.zh and t.tag_label.en
    for r in report.routes:
        assert r.label.zh and r.label.en and r.reason.zh and r.reason.en
        for c in r.criteria:
            assert c.explanation.zh.strip() and c.explanation.en.strip(), (r.id, c.id)
    blocking = [c for c in report.criteria if c.blocking]
    assert len(report.blocking_reasons) == len(blocking)
    assert all(r.zh and r.en for r in report.blocking_reasons)
    assert report.can_submit == (not blocking) == (report.overall != N)
    if report.exceptional_outlook is not None:
        assert report.allows_exceptional
        assert report.exceptional_outlook.explanation.zh and report.exceptional_outlook.explanation.en


# ------------------------------------------------------------------------------------------------------------
# Every route of the standard is reported, open or not, with a reason
# ------------------------------------------------------------------------------------------------------------


def expected_routes(standard: Standard, route: str) -> list[str]:
    """The routes a standard offers for a channel, in the order the report lists them."""
    if route == "bridging":
        return ["bridging"]
    ids = [r.id for r in standard.education_routes]
    if standard.direct is not None:
        ids += [r.id for r in standard.direct.routes]
    if standard.exceptional is not None:
        ids.append("exceptional")
    return ids


@pytest.mark.parametrize("route", [r.value for r in Route])
@pytest.mark.parametrize("standard_id", sorted(STANDARDS))
def test_every_route_of_the_standard_is_reported_with_a_reason(standard_id: str, route: str):
    standard = STANDARDS[standard_id]
    for relax in (None, SESSION, ALLOW_DIRECT):
        report = run(ALL_ROUND, standard, route=route, relaxations=relax)
        assert [r.id for r in report.routes] == expected_routes(standard, route), describe(report)
        for r in report.routes:
            assert r.reason.zh and r.reason.en
            if not r.open:
                assert r.verdict == N and r.decided_by is None
            elif r.verdict == M:
                assert r.decided_by is None
            else:
                assert r.decided_by in {c.id for c in r.criteria}
        if report.education_route is not None:
            assert report.route_result(report.education_route).open
        else:
            assert report.criterion("route").verdict == N


def test_route_and_criterion_lookups_name_what_is_present():
    report = run(ALL_ROUND)
    with pytest.raises(KeyError, match="master-or-bachelor"):
        report.route_result("invented-10-year-route")
    with pytest.raises(KeyError, match="education"):
        report.criterion("bridging_waiting_years")


def test_the_standards_offer_only_the_published_routes():
    """No invented routes: the Hunan standard's direct routes are 12/13/15 years and the two leader routes."""
    assert HUNAN.direct is not None
    years = {r.id: (r.industry_years or r.leader_years).value for r in HUNAN.direct.routes}
    assert years == {"master-12": 12, "bachelor-13": 13, "college-15": 15, "leader-giant-champion-3": 3,
                     "leader-giant-5": 5}
    assert HUNAN.direct.achievements_k.value == 2 and HUNAN.achievements is not None
    assert HUNAN.achievements.k.value == 1
    assert [i.id for i in HUNAN.achievements.items] == [str(n) for n in range(1, 9)]


# ------------------------------------------------------------------------------------------------------------
# Provenance and evidence
# ------------------------------------------------------------------------------------------------------------


def test_every_threshold_applied_carries_its_provenance():
    report = run(ALL_ROUND, SENIOR)
    ladder = report.criterion("ladder")
    years = next(t for t in ladder.thresholds if t.path == "education_routes[1].ladder_years")
    assert (years.value, years.applied, years.tag.value) == (5, 5, "S")
    assert "取得工程师职称后" in years.source
    ce_use = report.criterion("continuing_education").thresholds[0]
    assert (ce_use.path, ce_use.value, ce_use.tag.value) == ("basic.continuing_education.hours_per_year", 90, "R")


def test_the_local_bridging_channel_records_national_and_applied_waits():
    report = run(bridging_worker("高级技师", "2025-03-01"), SENIOR, route="bridging", relaxations=HUNAN_CHANNEL)
    waiting = report.criterion("bridging_waiting_years")
    assert waiting.verdict == M and waiting.relaxation == "local_bridging_channel"
    national = waiting.thresholds[0]
    assert (national.value, national.applied) == (4, 0)
    assert waiting.evidence[0].path == "skill_certificates[0]"
    assert "湘人社规〔2022〕22号" in waiting.explanation.zh


def test_evidence_points_into_the_profile():
    report = run(ALL_ROUND, HUNAN)
    assert [e.path for e in report.criterion("ladder").evidence] == ["titles[1]"]
    assert [e.path for e in report.criterion("achievements").evidence] == ["achievements[0]", "achievements[1]"]
    assert [e.path for e in report.criterion("education").evidence] == ["education[0]"]
    direct = run(hunan_direct(), route="exceptional", relaxations=ALLOW_DIRECT)
    industry = direct.criterion("industry_years")
    assert [e.path for e in industry.evidence] == ["titles[0]", "work_history[0]"]


def test_a_normal_route_failure_points_to_the_exceptional_route():
    data = profile(titles=[], recommendations=[rec()], achievements=[item2(), item6()], works=[work()])
    report = run(data, SENIOR, relaxations=ALLOW_DIRECT, specialty="机械")
    assert report.overall == N and report.allows_exceptional
    outlook = report.exceptional_outlook
    assert outlook is not None and not outlook.ready and outlook.overcomes == ["ladder"]
    assert "还需 1 名工程系列机械专业正高级专家书面推荐（须 2 名）" in outlook.missing[0].zh
    ready = run({**data, "recommendations": [rec(), rec(name="李研究员")]}, SENIOR, relaxations=ALLOW_DIRECT,
                specialty="机械")
    assert ready.exceptional_outlook is not None and ready.exceptional_outlook.ready


def test_no_outlook_when_a_basic_condition_fails_or_exceptional_is_not_allowed():
    data = profile(titles=[], recommendations=[rec(), rec()], achievements=[item2(), item6()], works=[work()])
    retired = run({**data, "retired": True}, SENIOR, relaxations=ALLOW_DIRECT, specialty="机械")
    assert retired.overall == N and not retired.allows_exceptional and retired.exceptional_outlook is None
    closed = run(data, SENIOR, specialty="机械")
    assert closed.overall == N and closed.exceptional_outlook is None


# ------------------------------------------------------------------------------------------------------------
# Basic conditions
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "criterion", "verdict", "fragment"), [
    pytest.param({}, "standard_in_force", M, "2026-11-29 在有效期内", id="in-force"),
    pytest.param({"retired": True}, "not_retired", N, "申报人已退休", id="retired"),
    pytest.param({"sanctions": [{"kind": "demerit", "start": "2026-03-01", "end": "2027-03-01"}]}, "no_sanction", N,
                 "处于处分影响期内：记过（2026-03-01 至 2027-03-01）", id="sanction-in-force"),
    pytest.param({"sanctions": [{"kind": "warning", "start": "2020-01-01", "end": "2020-07-01"}]}, "no_sanction", M,
                 "已过影响期的处分 1 项不影响申报", id="sanction-over"),
    pytest.param({"continuing_education": ce(96, 60, 120)}, "continuing_education", N,
                 "继续教育学时未达到每年 90 学时：2024 年 60 学时", id="training-short"),
    # A year not filled in awaits the unit's check at submission (it is no year below the hours) …
    pytest.param({"continuing_education": ce(96, 90)}, "continuing_education", J, "2025 年未填报",
                 id="training-year-missing"),
    pytest.param({"continuing_education": ce(96, 90, 90)}, "continuing_education", M, "2023—2025 年",
                 id="training-exactly-90"),
    pytest.param({"continuing_education": ce(96, 90, 89)}, "continuing_education", N, "2025 年 89 学时",
                 id="training-89"),
    pytest.param({"continuing_education": [], "work_history": [job("2026-07-01")]}, "continuing_education", M,
                 "参加工作不足一个完整年度", id="training-new-starter"),
])
def test_basic_conditions(change: dict, criterion: str, verdict: Verdict, fragment: str):
    report = run({**ALL_ROUND, **change})
    c = report.criterion(criterion)
    assert c.verdict == verdict, c.explanation.zh
    assert fragment in c.explanation.zh, c.explanation.zh
    if verdict == N:
        assert report.overall == N and c.blocking
    elif verdict == J:
        assert report.overall == J and report.can_submit
    elif criterion != "continuing_education" or "work_history" not in change:
        assert report.overall == M, describe(report)


def test_a_training_year_not_filled_in_must_be_shown_from_the_recommendation_on():
    # … and from the unit's recommendation on, an unreported year is not met.
    for stage in ("recommendation", "recheck"):
        report = run({**ALL_ROUND, "continuing_education": ce(96, 90)}, stage=stage, assessment=None)
        assert report.criterion("continuing_education").verdict == N and report.overall == N


@pytest.mark.parametrize(("as_of", "verdict"), [
    pytest.param(date(2022, 6, 16), M, id="first-day"),
    pytest.param(date(2022, 6, 15), N, id="day-before"),
    pytest.param(date(2027, 6, 22), M, id="last-day"),
    pytest.param(date(2027, 6, 23), N, id="day-after"),
])
def test_the_standard_must_be_in_force(as_of: date, verdict: Verdict):
    report = run(ALL_ROUND, as_of=as_of)
    assert report.criterion("standard_in_force").verdict == verdict
    if verdict == N:
        assert report.overall == N


# ------------------------------------------------------------------------------------------------------------
# Relaxations the seed standards do not carry: an age limit, a foreign language, a paper mandate
# ------------------------------------------------------------------------------------------------------------


def variant(base: Standard, **update: Any) -> Standard:
    """A seed standard with some parts replaced, re-validated so that the variant is itself coherent."""
    data = base.model_dump(mode="json")
    data.update(update)
    return Standard.model_validate(data)


WITH_AGE = variant(SENIOR, basic={**SENIOR.basic.model_dump(mode="json"),
                                  "max_age": {"value": 45, "tag": "C", "source": "测试用年龄上限"}})
WITH_LANGUAGE = variant(SENIOR, basic={**SENIOR.basic.model_dump(mode="json"),
                                       "foreign_language": {"tag": "R", "source": "旧版职称外语要求"}})
assert SENIOR.representative_works is not None
WITH_PAPERS = variant(SENIOR, representative_works={
    **SENIOR.representative_works.model_dump(mode="json"),
    "min_count": {"value": 2, "tag": "C", "source": "测试"},
    "min_papers": {"value": 1, "tag": "R", "source": "旧版论文要求"}})
TWO_WORKS = [work(), work("patent", chars=None, verified=False)]


@pytest.mark.parametrize(("standard", "change", "relax", "criterion", "verdict", "fragment"), [
    pytest.param(WITH_AGE, {"birth_date": "1975-12-01"}, None, "age", N, "年满 50 周岁，超过 45 周岁的年龄上限",
                 id="over-age"),
    pytest.param(WITH_AGE, {"birth_date": "1975-12-01"}, SESSION, "age", M,
                 "已按本场政策放宽年龄限制（依据：湘人社规〔2022〕22号）", id="age-waived"),
    pytest.param(WITH_AGE, {"birth_date": "1981-11-29"}, None, "age", M, "年满 45 周岁，不超过 45 周岁",
                 id="age-45-today"),
    pytest.param(WITH_AGE, {"birth_date": "1980-11-29"}, None, "age", N, "年满 46 周岁", id="age-46-today"),
    pytest.param(WITH_LANGUAGE, {}, None, "foreign_language", N, "本标准要求外语合格证明，申报人未填报",
                 id="language-missing"),
    pytest.param(WITH_LANGUAGE, {}, SESSION, "foreign_language", M, "本场评审不作外语要求", id="language-waived"),
    pytest.param(WITH_PAPERS, {"works": TWO_WORKS}, None, "representative_works", N, "至少有论文 1 篇，现有 0 篇",
                 id="paper-missing"),
    pytest.param(WITH_PAPERS, {"works": TWO_WORKS}, SESSION, "representative_works", M,
                 "本场评审不作论文硬性要求（依据：湘人社规〔2022〕22号）（标准原要求论文 1 篇）", id="papers-waived"),
])
def test_session_relaxations(standard: Standard, change: dict, relax: Relaxations | None, criterion: str,
                             verdict: Verdict, fragment: str):
    report = run({**ALL_ROUND, **change}, standard, relaxations=relax)
    c = report.criterion(criterion)
    assert c.verdict == verdict and fragment in c.explanation.zh, c.explanation.zh
    if relax is not None and verdict == M:
        assert c.relaxation is not None


# ------------------------------------------------------------------------------------------------------------
# The date routine (rules.md §7.5)
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "years", "due"), [
    (date(2019, 7, 1), 5, date(2024, 7, 1)),
    (date(2020, 2, 29), 1, date(2021, 3, 1)),
    (date(2020, 2, 29), 4, date(2024, 2, 29)),
    (date(2020, 2, 29), 5, date(2025, 3, 1)),
    (date(2019, 12, 31), 3, date(2022, 12, 31)),
])
def test_anniversary(start: date, years: int, due: date):
    assert anniversary(start, years) == due
    assert reached(start, years, due) and not reached(start, years, due - timedelta(days=1))
    assert full_years(start, due) == years and full_years(start, due - timedelta(days=1)) == years - 1


@pytest.mark.parametrize(("start", "end", "years"), [
    (date(2019, 7, 1), date(2026, 11, 29), 7),
    (date(2019, 7, 1), date(2024, 6, 30), 4),
    (date(2020, 2, 29), date(2021, 2, 28), 0),
    (date(2026, 1, 1), date(2025, 1, 1), 0),
])
def test_full_years(start: date, end: date, years: int):
    assert full_years(start, end) == years


def test_a_block_is_over_on_its_end_day():
    ends = date(2027, 3, 1)
    assert block_in_force(None, ends, date(2027, 2, 28))
    assert not block_in_force(None, ends, ends)
    assert not block_in_force(date(2026, 1, 1), ends, date(2025, 12, 31))  # not started yet


def test_overlapping_jobs_count_once():
    data = hunan_direct(work_history=[job("2005-03-01", "2015-02-28"), job("2010-01-01", "2012-12-31"),
                                      job("2015-03-01")])
    report = run(data, route="exceptional", relaxations=ALLOW_DIRECT)
    # Since the 助理工程师 (2011-07-01): one continuous period of 15 years 4 months.
    assert "累计 15 年 4 个月" in report.criterion("industry_years").explanation.zh


def test_old_evaluator_relaxation_names_are_gone():
    assert "bridging_waiting_years_override" not in Relaxations.model_fields
    assert set(Relaxations.model_fields) == {"waive_ladder", "waive_age", "waive_papers", "waive_foreign_language",
                                             "allow_direct_senior", "local_bridging_channel", "source"}


def test_the_assistant_standard_keeps_its_own_rows():
    """The assistant engineer standard (for 高级工 bridging) also judges graduates: 本科 + 1 year in the specialty."""
    data = profile(education=[edu("本科", "2024-07-01")], work_history=[job("2025-11-29")],
                   continuing_education=[])
    report = run(data, ASSISTANT)
    assert report.route_result("bachelor").verdict == M, describe(report)
    short = run({**data, "work_history": [job("2025-11-30")]}, ASSISTANT)
    assert short.route_result("bachelor").decided_by == "specialty_years"
