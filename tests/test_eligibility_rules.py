"""Every rule of rules.md §7 (the published standards) at its boundary: exactly met against one day or one unit
short, with the criterion that decides it asserted on every route the rule applies to.

A route's ``decided_by`` is the first criterion that fails it (or, when it needs judgement, the first one
pending), so each "short" row also proves *why* the route fails. The profiles come from the small factories
in :mod:`eligibility_factories`: a dict per applicant, overridden per row.
"""

from __future__ import annotations

from datetime import date
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
    ach,
    assistant,
    bridging_worker,
    day_after,
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
    profile,
    rec,
    run,
    tech_edu,
    technician,
    title,
    work,
    years_before,
)

from workflow.eligibility import EligibilityReport, Relaxations, Verdict
from workflow.eligibility.standards import Standard

M, N, J = Verdict.MET, Verdict.NOT_MET, Verdict.NEEDS_JUDGEMENT

DIRECT_CHANNELS = [
    pytest.param("normal", SESSION, id="session-waives-ladder"),
    pytest.param("exceptional", ALLOW_DIRECT, id="exceptional-pipeline"),
]
"""The two ways the Hunan direct and leader routes open (§7.3)."""

NORMAL_CHANNELS = [
    pytest.param(None, id="plain"),
    pytest.param(SESSION, id="session-waives-ladder"),
]
"""The normal route is judged the same with or without a session's waivers (waiving never drops years)."""


def assert_route(report: EligibilityReport, route_id: str, verdict: Verdict, decided_by: str | None) -> None:
    """The route was considered, is open, and has ``verdict`` decided by ``decided_by``."""
    route = report.route_result(route_id)
    assert route.open, describe(report)
    assert (route.verdict, route.decided_by) == (verdict, decided_by), describe(report)
    assert route.reason.zh and route.reason.en


def route_criterion(report: EligibilityReport, route_id: str, criterion_id: str):
    """A criterion as judged on one route (routes carry their own criteria)."""
    return next(c for c in report.route_result(route_id).criteria if c.id == criterion_id)


# ------------------------------------------------------------------------------------------------------------
# §7.1 技工院校 graduates: 中级工班 = 中专, 高级工班 = 大专, 预备技师班 = 本科; 学位 raises the 学历
# ------------------------------------------------------------------------------------------------------------

EQUIVALENCES = [
    # (education, route, verdict, decided_by)
    pytest.param(tech_edu("预备技师班"), "bachelor-13", M, None, id="prep-technician-opens-13"),
    pytest.param(tech_edu("预备技师班"), "master-12", N, "education", id="prep-technician-not-12"),
    pytest.param(tech_edu("高级工班"), "college-15", M, None, id="senior-class-opens-15"),
    pytest.param(tech_edu("高级工班"), "bachelor-13", N, "education", id="senior-class-not-13"),
    pytest.param(tech_edu("中级工班"), "college-15", N, "education", id="intermediate-class-not-15"),
    pytest.param(edu("本科", degree="硕士"), "master-12", M, None, id="bachelor-with-master-degree-opens-12"),
    pytest.param(edu("本科", degree="学士"), "master-12", N, "education", id="bachelor-degree-not-12"),
    pytest.param(edu("本科"), "master-12", N, "education", id="bachelor-not-12"),
    pytest.param(edu("硕士"), "master-12", M, None, id="master-opens-12"),
    pytest.param(edu("大专"), "bachelor-13", N, "education", id="college-not-13"),
    pytest.param(edu("大专", degree="学士"), "bachelor-13", M, None, id="college-with-bachelor-degree-opens-13"),
]


@pytest.mark.parametrize(("route", "relax"), DIRECT_CHANNELS)
@pytest.mark.parametrize(("education", "route_id", "verdict", "decided_by"), EQUIVALENCES)
def test_technical_school_and_degree_equivalences_on_the_direct_routes(
        education: dict, route_id: str, verdict: Verdict, decided_by: str | None, route: str, relax: Relaxations):
    # 助理工程师 since 2011 and in the industry since 2007: 19 years in all, 15 after the junior title.
    report = run(hunan_direct(education=[education]), route=route, relaxations=relax)
    assert_route(report, route_id, verdict, decided_by)


@pytest.mark.parametrize(("technical_class", "counted_as"), [
    ("中级工班", "中专（中职）"), ("高级工班", "大学专科"), ("预备技师班", "大学本科")])
def test_the_equivalence_is_named_in_the_explanation(technical_class: str, counted_as: str):
    report = run(hunan_direct(education=[tech_edu(technical_class)]), route="exceptional", relaxations=ALLOW_DIRECT)
    explanations = [route_criterion(report, r, "education").explanation.zh for r in ("college-15", "bachelor-13")]
    assert all("技工院校" in e and f"按{counted_as}认定" in e for e in explanations), explanations


def test_intermediate_class_counts_as_secondary_on_the_assistant_standard():
    """中级工班 = 中专: it opens the assistant engineer's 中专 row (技术员 2 years), and no engineer row."""
    data = profile(education=[tech_edu("中级工班")], titles=[technician(years_before(2))])
    assert_route(run(data, ASSISTANT), "secondary", M, None)
    short = profile(education=[tech_edu("中级工班")], titles=[technician(day_after(years_before(2)))])
    assert_route(run(short, ASSISTANT), "secondary", N, "ladder")
    report = run(profile(education=[tech_edu("中级工班")], titles=[assistant("2010-01-01")]), ENGINEER)
    for route_id in ("doctorate", "master", "bachelor-or-college"):
        assert_route(report, route_id, N, "education")


# ------------------------------------------------------------------------------------------------------------
# §7.2 Bridging: waits 2/3/4 nationally; Hunan 22号: 0 for 技师 and above, still 2 for 高级工
# ------------------------------------------------------------------------------------------------------------

WAITS = [
    # (standard, certificate held, national wait, Hunan channel wait)
    pytest.param(ASSISTANT, "高级工", 2, 2, id="assistant-senior-worker"),
    pytest.param(ENGINEER, "技师", 3, 0, id="engineer-technician"),
    pytest.param(ENGINEER, "高级技师", 3, 0, id="engineer-higher-certificate"),
    pytest.param(SENIOR, "高级技师", 4, 0, id="senior-senior-technician"),
    pytest.param(SENIOR, "特级技师", 4, 0, id="senior-master-technician"),
    pytest.param(SENIOR, "首席技师", 4, 0, id="senior-chief-technician"),
    pytest.param(HUNAN, "高级技师", 4, 0, id="hunan-senior-technician"),
    pytest.param(HUNAN, "首席技师", 4, 0, id="hunan-chief-technician"),
]


@pytest.mark.parametrize(("channel", "relax"), [
    pytest.param("national", Relaxations(), id="national"),
    pytest.param("hunan", HUNAN_CHANNEL, id="hunan-22"),
])
@pytest.mark.parametrize(("standard", "level", "national", "hunan"), WAITS)
def test_bridging_wait_boundary(standard: Standard, level: str, national: int, hunan: int, channel: str,
                                relax: Relaxations):
    wait = hunan if channel == "hunan" else national
    exact = run(bridging_worker(level, years_before(wait)), standard, route="bridging", relaxations=relax,
                assessment=PASSED)
    assert exact.criterion("bridging_waiting_years").verdict == M, describe(exact)
    assert_route(exact, "bridging", M, None)
    assert exact.overall == M and exact.education_route == "bridging"
    explanation = exact.criterion("bridging_waiting_years").explanation.zh
    if wait:
        assert f"已满 {wait} 年" in explanation, explanation
    else:
        # The channel cites its own source (22号 measure 5), not the session's waivers (measure 4).
        assert "可直接申报，不受取得技能等级后年限限制（依据：湘人社规〔2022〕22号第5条：" in explanation, explanation
        assert f"（国家规定为 {national} 年）" in explanation, explanation
    if channel == "hunan" and wait == national:
        assert "本地直接申报政策不适用于高级工" in explanation, explanation

    short_on = day_after(years_before(wait))  # for a 0 wait: a certificate dated tomorrow is not held yet
    short = run(bridging_worker(level, short_on), standard, route="bridging", relaxations=relax, assessment=PASSED)
    decisive = "bridging_waiting_years" if wait else "skill_certificate"
    assert short.criterion(decisive).verdict == N, describe(short)
    assert_route(short, "bridging", N, decisive)
    assert short.overall == N
    if wait:
        explanation = short.criterion(decisive).explanation.zh
        assert f"未满 {wait} 年" in explanation and f"将于 {day_after(AS_OF)} 满 {wait} 年" in explanation


@pytest.mark.parametrize(("standard", "too_low"), [
    pytest.param(ASSISTANT, "中级工", id="assistant-needs-senior-worker"),
    pytest.param(ENGINEER, "高级工", id="engineer-needs-technician"),
    pytest.param(SENIOR, "技师", id="senior-needs-senior-technician"),
    pytest.param(HUNAN, "技师", id="hunan-needs-senior-technician"),
])
def test_bridging_needs_the_certificate_level_of_its_title(standard: Standard, too_low: str):
    report = run(bridging_worker(too_low, "2010-01-01"), standard, route="bridging", relaxations=HUNAN_CHANNEL,
                 assessment=PASSED)
    assert_route(report, "bridging", N, "skill_certificate")


ASSESSMENTS = [
    # (stage, assessment, verdict of unit_assessment)
    pytest.param("submission", None, J, id="missing-at-submission-pending"),
    pytest.param("recommendation", None, N, id="missing-at-recommendation"),
    pytest.param("recheck", None, N, id="missing-at-recheck"),
    pytest.param("submission", {"result": "不合格", "on": AS_OF}, N, id="failed-at-submission"),
    pytest.param("recommendation", {"result": "不合格", "on": AS_OF}, N, id="failed-at-recommendation"),
    pytest.param("recheck", {"result": "不合格", "on": AS_OF}, N, id="failed-at-recheck"),
    pytest.param("recommendation", {"result": "合格", "on": AS_OF}, M, id="passed-on-as-of"),
    pytest.param("recheck", {"result": "合格", "on": date(2026, 3, 1), "by": "HR"}, M, id="passed-earlier"),
    pytest.param("recheck", {"result": "优秀", "on": AS_OF}, M, id="excellent"),
    pytest.param("recommendation", {"result": "合格", "on": day_after(AS_OF)}, N, id="passed-after-as-of"),
    pytest.param("submission", {"result": "合格", "on": day_after(AS_OF)}, J, id="passed-after-as-of-submission"),
]

BRIDGING_CASES = [
    pytest.param(ASSISTANT, "高级工", id="assistant"),
    pytest.param(ENGINEER, "技师", id="engineer"),
    pytest.param(SENIOR, "高级技师", id="senior"),
    pytest.param(HUNAN, "高级技师", id="hunan"),
]


@pytest.mark.parametrize(("standard", "level"), BRIDGING_CASES)
@pytest.mark.parametrize(("stage", "assessment", "verdict"), ASSESSMENTS)
def test_unit_assessment_by_stage(standard: Standard, level: str, stage: str, assessment: dict | None,
                                  verdict: Verdict):
    report = run(bridging_worker(level, "2015-01-01"), standard, route="bridging", stage=stage,
                 assessment=assessment)
    criterion = report.criterion("unit_assessment")
    assert criterion.verdict == verdict and criterion.hard, describe(report)
    assert report.overall == verdict and report.can_submit == (verdict != N), describe(report)
    assert_route(report, "bridging", verdict, None if verdict == M else "unit_assessment")
    if verdict == J:
        assert "待单位考核" in criterion.explanation.zh


# ------------------------------------------------------------------------------------------------------------
# §7.3 / §7.4 Normal routes: education + 台阶 years (anniversary exact vs the day before)
# ------------------------------------------------------------------------------------------------------------

TWO_ITEMS = [item2(), item6()]
"""Items 2 and 6 of the Hunan standard; two distinct kinds (key project, invention) on the national ones."""

ALL_ROUND = hunan_normal(achievements=TWO_ITEMS)
"""本科, 助理工程师 2011, 工程师 2019, items 2 and 6: eligible on every normal and direct route."""

NORMAL_RULES = [
    # (standard, education, lower title factory, years, route)
    pytest.param(HUNAN, edu("本科"), engineer, 5, "master-or-bachelor", id="hunan-bachelor-5"),
    pytest.param(HUNAN, edu("硕士"), engineer, 5, "master-or-bachelor", id="hunan-master-5"),
    pytest.param(HUNAN, edu("博士"), engineer, 2, "doctorate", id="hunan-doctorate-2"),
    pytest.param(HUNAN, edu("硕士", degree="博士"), engineer, 2, "doctorate", id="hunan-doctoral-degree-2"),
    pytest.param(SENIOR, edu("本科"), engineer, 5, "master-or-bachelor", id="senior-bachelor-5"),
    pytest.param(SENIOR, edu("硕士"), engineer, 5, "master-or-bachelor", id="senior-master-5"),
    pytest.param(SENIOR, edu("博士"), engineer, 2, "doctorate", id="senior-doctorate-2"),
    pytest.param(ENGINEER, edu("硕士"), assistant, 2, "master", id="engineer-master-2"),
    pytest.param(ENGINEER, edu("本科", degree="硕士"), assistant, 2, "master", id="engineer-master-degree-2"),
    pytest.param(ENGINEER, edu("本科"), assistant, 4, "bachelor-or-college", id="engineer-bachelor-4"),
    pytest.param(ENGINEER, edu("大专"), assistant, 4, "bachelor-or-college", id="engineer-college-4"),
    pytest.param(ENGINEER, tech_edu("高级工班"), assistant, 4, "bachelor-or-college", id="engineer-senior-class-4"),
]


@pytest.mark.parametrize("relax", NORMAL_CHANNELS)
@pytest.mark.parametrize(("standard", "education", "lower", "years", "route_id"), NORMAL_RULES)
def test_normal_route_ladder_years_boundary(standard: Standard, education: dict, lower: Any, years: int,
                                            route_id: str, relax: Relaxations | None):
    exact = run(profile(education=[education], titles=[lower(years_before(years))], achievements=TWO_ITEMS,
                        works=[work()]), standard, relaxations=relax)
    assert_route(exact, route_id, M, None)
    assert exact.overall == M
    ladder = route_criterion(exact, route_id, "ladder")
    assert f"已满 {years} 年" in ladder.explanation.zh and f"at least {years} years" in ladder.explanation.en

    short = run(profile(education=[education], titles=[lower(day_after(years_before(years)))],
                        achievements=TWO_ITEMS, works=[work()]), standard, relaxations=relax)
    assert_route(short, route_id, N, "ladder")
    ladder = route_criterion(short, route_id, "ladder")
    due = day_after(AS_OF).isoformat()
    assert f"未满 {years} 年" in ladder.explanation.zh and f"将于 {due} 满 {years} 年" in ladder.explanation.zh
    if standard is not HUNAN or relax is None:  # the Hunan session can still pass on a direct route
        assert short.overall == N


@pytest.mark.parametrize(("obtained", "verdict", "decided_by"), [
    pytest.param(years_before(5), M, None, id="5-years"),
    pytest.param(day_after(years_before(5)), N, "ladder", id="a-day-short"),
])
def test_professor_needs_5_years_as_senior_engineer(obtained: date, verdict: Verdict, decided_by: str | None):
    data = profile(titles=[engineer("2010-01-01"), title("高级工程师", "副高", obtained)])
    report = run(data, STANDARDS["national-engineering-professor"])
    assert route_criterion(report, "bachelor-and-above", "ladder").verdict == verdict, describe(report)
    if decided_by is not None:  # (met: other layers of the professor standard decide the route)
        assert report.route_result("bachelor-and-above").decided_by == decided_by, describe(report)


def test_engineer_doctorate_needs_no_lower_title():
    report = run(profile(education=[edu("博士", "2026-06-30")], achievements=TWO_ITEMS, works=[work()]), ENGINEER)
    assert_route(report, "doctorate", M, None)
    assert report.education_route == "doctorate" and report.overall == M


NO_ROW = [
    # (standard, education, lower title): education below every row of the standard
    pytest.param(ENGINEER, edu("中专"), assistant("2010-01-01"), id="engineer-no-secondary-row"),
    pytest.param(ENGINEER, tech_edu("中级工班"), assistant("2010-01-01"), id="engineer-no-intermediate-class-row"),
    pytest.param(SENIOR, edu("大专"), engineer("2010-01-01"), id="senior-no-college-row"),
    pytest.param(SENIOR, tech_edu("高级工班"), engineer("2010-01-01"), id="senior-no-senior-class-row"),
    pytest.param(HUNAN, edu("大专"), engineer("2010-01-01"), id="hunan-no-college-normal-row"),
]


@pytest.mark.parametrize(("standard", "education", "lower"), NO_ROW)
def test_no_normal_row_below_the_baseline(standard: Standard, education: dict, lower: dict):
    report = run(profile(education=[education], titles=[lower], achievements=TWO_ITEMS, works=[work()]), standard)
    for route in standard.education_routes:
        assert_route(report, route.id, N, "education")
    assert report.overall == N


# ------------------------------------------------------------------------------------------------------------
# §7.3 Direct routes: 12 / 13 / 15 years in the industry (13 and 15 after the first junior title)
# ------------------------------------------------------------------------------------------------------------


def direct_case(education: dict, *, title_on: date | None = None, job_start: date | str = "2000-07-01",
                in_specialty: bool = True, in_industry: bool = False) -> dict:
    """An applicant without the 工程师 title, items 2 and 6 verified, one job in the industry."""
    return hunan_direct(education=[education],
                        titles=[] if title_on is None else [assistant(title_on)],
                        work_history=[job(job_start, in_specialty=in_specialty, in_industry=in_industry)])


DIRECT_YEARS = [
    # (route, years, education, the boundary moves the title (True) or the job start (False))
    pytest.param("master-12", 12, edu("硕士", "1999-07-01"), False, id="master-12-job-start"),
    pytest.param("master-12", 12, edu("本科", "1999-07-01", degree="硕士"), False, id="master-degree-12"),
    pytest.param("bachelor-13", 13, edu("本科", "1999-07-01"), True, id="bachelor-13-after-title"),
    pytest.param("bachelor-13", 13, tech_edu("预备技师班", "1999-07-01"), True, id="prep-technician-13"),
    pytest.param("college-15", 15, edu("大专", "1999-07-01"), True, id="college-15-after-title"),
    pytest.param("college-15", 15, tech_edu("高级工班", "1999-07-01"), True, id="senior-class-15"),
]


@pytest.mark.parametrize(("route", "relax"), DIRECT_CHANNELS)
@pytest.mark.parametrize(("route_id", "years", "education", "by_title"), DIRECT_YEARS)
def test_direct_route_industry_years_boundary(route_id: str, years: int, education: dict, by_title: bool,
                                              route: str, relax: Relaxations):
    def case(start: date) -> dict:
        if by_title:  # in the industry since 2000; the years count from the junior title
            return direct_case(education, title_on=start)
        return direct_case(education, title_on=date(2000, 1, 1), job_start=start)

    exact = run(case(years_before(years)), route=route, relaxations=relax)
    assert_route(exact, route_id, M, None)
    assert exact.overall == M
    assert f"满 {years} 年" in route_criterion(exact, route_id, "industry_years").explanation.zh

    short = run(case(day_after(years_before(years))), route=route, relaxations=relax)
    assert_route(short, route_id, N, "industry_years")
    explanation = route_criterion(short, route_id, "industry_years").explanation.zh
    assert f"不满 {years} 年" in explanation, explanation
    if by_title:
        assert "自取得助理工程师" in explanation, explanation


@pytest.mark.parametrize(("route", "relax"), DIRECT_CHANNELS)
@pytest.mark.parametrize(("route_id", "education"), [
    pytest.param("bachelor-13", edu("本科", "1999-07-01"), id="bachelor-13"),
    pytest.param("college-15", edu("大专", "1999-07-01"), id="college-15"),
])
def test_years_before_the_junior_title_do_not_count(route_id: str, education: dict, route: str,
                                                    relax: Relaxations):
    # 26 years in the industry, but the junior title only 12 years ago.
    report = run(direct_case(education, title_on=years_before(12)), route=route, relaxations=relax)
    assert_route(report, route_id, N, "industry_years")
    assert "累计 12 年" in route_criterion(report, route_id, "industry_years").explanation.zh
    untitled = run(direct_case(education), route=route, relaxations=relax)
    assert_route(untitled, route_id, N, "industry_years")
    assert "未填报初级及以上职称" in route_criterion(untitled, route_id, "industry_years").explanation.zh


@pytest.mark.parametrize(("route", "relax"), DIRECT_CHANNELS)
@pytest.mark.parametrize(("held", "verdict"), [
    pytest.param([technician(years_before(13))], M, id="technician-is-junior"),
    pytest.param([assistant(years_before(10)), technician(years_before(13))], M, id="the-first-junior-title-counts"),
    pytest.param([assistant(years_before(10)), technician(day_after(years_before(13)))], N,
                 id="first-junior-title-a-day-short"),
    pytest.param([engineer(years_before(13))], M, id="a-higher-title-implies-a-junior-one"),
    # 取得初级职称后 names no series: a junior title of another series starts the count too.
    pytest.param([title("助理经济师", "助理", years_before(13), series="经济")], M, id="another-series"),
])
def test_the_first_junior_title_starts_the_count(held: list[dict], verdict: Verdict, route: str, relax: Relaxations):
    data = {**direct_case(edu("本科", "1999-07-01")), "titles": held}
    assert_route(run(data, route=route, relaxations=relax), "bachelor-13", verdict,
                 None if verdict == M else "industry_years")


@pytest.mark.parametrize(("route", "relax"), DIRECT_CHANNELS)
@pytest.mark.parametrize(("in_specialty", "in_industry", "verdict", "decided_by"), [
    pytest.param(True, False, M, None, id="in-specialty"),
    pytest.param(False, True, M, None, id="in-industry-other-specialty"),
    pytest.param(False, False, N, "industry_years", id="outside-the-industry"),
])
def test_industry_work_counts_in_or_outside_the_specialty(in_specialty: bool, in_industry: bool, verdict: Verdict,
                                                          decided_by: str | None, route: str, relax: Relaxations):
    data = direct_case(edu("硕士", "1999-07-01"), job_start=years_before(12), in_specialty=in_specialty,
                       in_industry=in_industry)
    assert_route(run(data, route=route, relaxations=relax), "master-12", verdict, decided_by)


# ------------------------------------------------------------------------------------------------------------
# §7.3 Enterprise-leader routes: 3 years (小巨人 + 单项冠军) or 5 years (小巨人) as 主要负责人
# ------------------------------------------------------------------------------------------------------------

GIANT = [firm_rec("national_little_giant", 2020)]
GIANT_CHAMPION = [firm_rec("national_little_giant", 2020), firm_rec("manufacturing_single_champion", 2021)]


def leader(start: date | str, *, recognitions: list[dict], role: str = "principal") -> dict:
    """A 大专 without titles (no education route can decide) who leads a firm."""
    return hunan_direct(education=[edu("大专")], titles=[], firm_roles=[firm_role(role, start)],
                        firm_recognitions=recognitions)


LEADER_RULES = [
    # (route, years, recognitions)
    pytest.param("leader-giant-champion-3", 3, GIANT_CHAMPION, id="giant-and-champion-3"),
    pytest.param("leader-giant-5", 5, GIANT, id="giant-5"),
    pytest.param("leader-giant-5", 5, GIANT_CHAMPION, id="giant-and-champion-also-5"),
]


@pytest.mark.parametrize(("route", "relax"), DIRECT_CHANNELS)
@pytest.mark.parametrize(("route_id", "years", "recognitions"), LEADER_RULES)
def test_leader_years_boundary(route_id: str, years: int, recognitions: list[dict], route: str,
                               relax: Relaxations):
    exact = run(leader(years_before(years), recognitions=recognitions), route=route, relaxations=relax)
    assert_route(exact, route_id, M, None)
    assert exact.overall == M
    assert f"满 {years} 年" in route_criterion(exact, route_id, "enterprise_leader").explanation.zh
    short = run(leader(day_after(years_before(years)), recognitions=recognitions), route=route, relaxations=relax)
    assert_route(short, route_id, N, "enterprise_leader")
    assert f"不满 {years} 年" in route_criterion(short, route_id, "enterprise_leader").explanation.zh


LEADER_REFUSALS = [
    # (recognitions, role): ten years in the role, yet neither leader route opens
    pytest.param(GIANT_CHAMPION, "deputy", id="deputy-leader"),
    pytest.param(GIANT_CHAMPION, "other", id="other-post"),
    pytest.param([firm_rec("provincial_specialised")], "principal", id="provincial-specialised"),
    pytest.param([firm_rec("manufacturing_single_champion")], "principal", id="champion-without-giant"),
    pytest.param([firm_rec("national_little_giant", employer="另一家公司")], "principal", id="another-firm"),
    pytest.param([], "principal", id="no-recognition"),
]


@pytest.mark.parametrize(("route", "relax"), DIRECT_CHANNELS)
@pytest.mark.parametrize(("recognitions", "role"), LEADER_REFUSALS)
def test_leader_routes_do_not_open_for(recognitions: list[dict], role: str, route: str, relax: Relaxations):
    report = run(leader("2015-01-01", recognitions=recognitions, role=role), route=route, relaxations=relax)
    for route_id in ("leader-giant-champion-3", "leader-giant-5"):
        assert_route(report, route_id, N, "enterprise_leader")
    assert report.overall == N


@pytest.mark.parametrize(("second_term_start", "verdict"), [
    pytest.param(years_before(2), M, id="terms-add-up-to-5"),
    pytest.param(day_after(years_before(2)), N, id="a-day-short"),
])
def test_leader_years_add_up_over_qualifying_firms(second_term_start: date, verdict: Verdict):
    # 3 years leading one 小巨人, then (after a gap) 2 years leading another: 5 years as a 小巨人's leader.
    # Years as its deputy do not count.
    first, second = "长沙某精密机械有限公司", "株洲某传动科技有限公司"
    data = hunan_direct(education=[edu("大专")], titles=[],
                        firm_roles=[firm_role("principal", "2010-01-01", "2012-12-31", employer=first),
                                    firm_role("principal", second_term_start, employer=second),
                                    firm_role("deputy", "2000-01-01", "2009-12-31", employer=first)],
                        firm_recognitions=[firm_rec(employer=first), firm_rec(employer=second)])
    report = run(data, route="exceptional", relaxations=ALLOW_DIRECT)
    assert_route(report, "leader-giant-5", verdict, None if verdict == M else "enterprise_leader")
    explanation = route_criterion(report, "leader-giant-5", "enterprise_leader").explanation.zh
    assert first in explanation and second in explanation


def test_giant_alone_does_not_open_the_3_year_route():
    report = run(leader(years_before(4), recognitions=GIANT), route="exceptional", relaxations=ALLOW_DIRECT)
    assert_route(report, "leader-giant-champion-3", N, "enterprise_leader")
    assert_route(report, "leader-giant-5", N, "enterprise_leader")


# ------------------------------------------------------------------------------------------------------------
# §7.3 Opening the direct routes, and waiving the 台阶 never drops years
# ------------------------------------------------------------------------------------------------------------

DIRECT_IDS = ["master-12", "bachelor-13", "college-15", "leader-giant-champion-3", "leader-giant-5"]


@pytest.mark.parametrize(("route", "relax", "is_open"), [
    pytest.param("normal", None, False, id="normal-plain"),
    pytest.param("normal", ALLOW_DIRECT, False, id="normal-allow-direct-without-ladder-waiver"),
    pytest.param("normal", Relaxations(waive_ladder=True), False, id="normal-ladder-waiver-only"),
    pytest.param("normal", SESSION, True, id="normal-session"),
    pytest.param("exceptional", None, False, id="exceptional-not-allowed"),
    pytest.param("exceptional", ALLOW_DIRECT, True, id="exceptional-pipeline"),
])
def test_when_the_direct_routes_are_open(route: str, relax: Relaxations | None, is_open: bool):
    report = run(hunan_direct(), route=route, relaxations=relax)
    routes = {r.id: r for r in report.routes}
    assert [r.id for r in HUNAN.education_routes] + DIRECT_IDS == list(routes)
    for route_id in DIRECT_IDS:
        assert routes[route_id].open is is_open
        if not is_open:
            assert routes[route_id].verdict == N and routes[route_id].decided_by is None
            assert routes[route_id].reason.zh
    # hunan_direct has no 工程师 title: only a direct route can carry it.
    assert report.overall == (M if is_open else N), describe(report)
    assert report.education_route == ("bachelor-13" if is_open else None if route == "exceptional"
                                      else "master-or-bachelor")
    if route == "exceptional" and not is_open:
        assert report.criterion("route").verdict == N


@pytest.mark.parametrize("relax", [SESSION, Relaxations(waive_ladder=True)])
def test_waiving_the_ladder_keeps_the_years_on_the_normal_route(relax: Relaxations):
    # Without the lower title: the normal route fails on the ladder and says the direct routes decide.
    report = run(hunan_direct(), relaxations=relax)
    assert_route(report, "master-or-bachelor", N, "ladder")
    assert "年限不能免除" in route_criterion(report, "master-or-bachelor", "ladder").explanation.zh
    # With the lower title held 3 years: still 5 are needed.
    held = run(hunan_normal(titles=[engineer(years_before(3))], achievements=[item2()]), relaxations=relax)
    assert_route(held, "master-or-bachelor", N, "ladder")
    assert held.overall == N  # one item only: the direct routes (2 items) cannot carry it either


def test_the_session_judges_an_untitled_applicant_on_the_direct_routes():
    report = run(hunan_direct(), relaxations=SESSION)
    assert report.overall == M
    assert report.education_route == "bachelor-13"
    ladder = report.criterion("ladder")
    assert not ladder.applies and "破除台阶不免除年限要求" in ladder.explanation.zh


# ------------------------------------------------------------------------------------------------------------
# §7.3 Achievement items (第八条): each item's conditions, and 2 distinct items on the direct routes
# ------------------------------------------------------------------------------------------------------------

ITEMS = [
    # (entries, verdict of the item alone)
    pytest.param([item1("provincial")], M, id="item1-provincial-honour"),
    pytest.param([item1("national", kind="award_national")], M, id="item1-national-honour"),
    pytest.param([item1("municipal", kind="award_municipal")], N, id="item1-municipal-honour"),
    pytest.param([item2("provincial")], M, id="item2-provincial-appraisal"),
    pytest.param([item2("national")], M, id="item2-national-appraisal"),
    pytest.param([item2("municipal")], N, id="item2-municipal-appraisal"),
    pytest.param([ach("key_project", "2", level="provincial")], N, id="item2-not-appraised"),
    pytest.param([item3()], M, id="item3-accepted"),
    pytest.param([ach("key_project", "3")], N, id="item3-not-accepted"),
    pytest.param([item5()], M, id="item5-provincial-first-of-kind"),
    pytest.param([item6(rank=3)], M, id="item6-invention-rank-3"),
    pytest.param([item6(rank=4)], N, id="item6-invention-rank-4"),
    pytest.param([item6("patent_utility", count=3)], M, id="item6-3-utility-in-one-entry"),
    pytest.param([item6("patent_utility", count=2)], N, id="item6-2-utility"),
    pytest.param([item6("patent_utility", count=2), item6("software_copyright")], M, id="item6-utility-plus-software"),
    pytest.param([item6("patent_utility"), item6("software_copyright")], N, id="item6-2-entries-of-one"),
    pytest.param([item6("software_copyright", count=3, rank=4)], N, id="item6-software-rank-4"),
    pytest.param([item7()], M, id="item7-provincial-standard"),
    pytest.param([item7(level="municipal")], N, id="item7-municipal-standard"),
    pytest.param([item8()], J, id="item8-always-experts"),
    pytest.param([item8(verified=False)], J, id="item8-unverified"),
    pytest.param([item2(verified=False)], J, id="item2-unverified-pending"),
    pytest.param([item6("patent_utility", count=3, verified=False)], J, id="item6-unverified-pending"),
    pytest.param([item6("patent_utility", count=2), item6("patent_utility", verified=False)], J,
                 id="item6-third-patent-unverified"),
    pytest.param([item2(evidence="")], N, id="item2-without-evidence"),
]


@pytest.mark.parametrize("relax", NORMAL_CHANNELS)
@pytest.mark.parametrize(("entries", "verdict"), ITEMS)
def test_item_on_the_normal_route(entries: list[dict], verdict: Verdict, relax: Relaxations | None):
    """The normal route needs 1 item: the item alone decides the achievements criterion."""
    report = run(hunan_normal(achievements=entries, works=[work()]), relaxations=relax)
    assert route_criterion(report, "master-or-bachelor", "achievements").verdict == verdict, describe(report)
    assert_route(report, "master-or-bachelor", verdict, None if verdict == M else "achievements")


def _partner(entries: list[dict]) -> dict:
    """A verified item distinct from the entries' item."""
    return item3() if entries[0]["item"] != "3" else item7()


@pytest.mark.parametrize(("route", "relax"), DIRECT_CHANNELS)
@pytest.mark.parametrize(("entries", "verdict"), ITEMS)
def test_item_on_the_direct_routes(entries: list[dict], verdict: Verdict, route: str, relax: Relaxations):
    """The direct routes need 2 distinct items: the item plus a verified partner item."""
    report = run(hunan_direct(achievements=[*entries, _partner(entries)]), route=route, relaxations=relax)
    assert_route(report, "bachelor-13", verdict, None if verdict == M else "achievements")
    assert "须具备业绩成果 2 项" in route_criterion(report, "bachelor-13", "achievements").explanation.zh


@pytest.mark.parametrize(("route", "relax"), DIRECT_CHANNELS)
@pytest.mark.parametrize(("entries", "verdict"), [
    pytest.param([item6(), item6()], N, id="two-inventions-are-one-item"),
    pytest.param([item6(), item6("patent_utility", count=3)], N, id="invention-and-utility-are-one-item"),
    pytest.param([item2(), item2()], N, id="two-projects-are-one-item"),
    pytest.param([item6()], N, id="one-item"),
    pytest.param([item2(), item6()], M, id="items-2-and-6"),
    pytest.param([item2(), item8()], J, id="item-8-as-second-needs-experts"),
    pytest.param([item2(), item6(verified=False)], J, id="second-item-unverified"),
])
def test_direct_routes_count_distinct_items(entries: list[dict], verdict: Verdict, route: str, relax: Relaxations):
    report = run(hunan_direct(achievements=entries), route=route, relaxations=relax)
    for route_id in ("master-12", "bachelor-13", "college-15"):
        assert route_criterion(report, route_id, "achievements").verdict == verdict, describe(report)
    assert_route(report, "bachelor-13", verdict, None if verdict == M else "achievements")
    assert report.overall == verdict


def test_two_inventions_are_one_item_in_the_explanation():
    report = run(hunan_direct(achievements=[item6(), item6()]), route="exceptional", relaxations=ALLOW_DIRECT)
    text = route_criterion(report, "bachelor-13", "achievements").explanation.zh
    assert "须具备业绩成果 2 项（按不同条目计）" in text and "现有 1 项" in text, text


# ------------------------------------------------------------------------------------------------------------
# §7.3 Work experience (第七条): a verified item 2, 3 or 5 shows it; otherwise the experts judge it
# ------------------------------------------------------------------------------------------------------------

NEUTRAL_ITEMS = [item6(), item7()]
"""Two verified items (patents, a standard) that meet the achievements but say nothing about 第七条."""

WORK_CHANNELS = [
    pytest.param("normal", None, id="normal"),
    *DIRECT_CHANNELS,
]

@pytest.mark.parametrize(("route", "relax"), WORK_CHANNELS)
@pytest.mark.parametrize(("extra", "verdict"), [
    pytest.param({"achievements": [*NEUTRAL_ITEMS, item2()]}, M, id="verified-item-2"),
    pytest.param({"achievements": [*NEUTRAL_ITEMS, item3()]}, M, id="verified-item-3"),
    pytest.param({"achievements": [*NEUTRAL_ITEMS, item5()]}, M, id="verified-item-5"),
    pytest.param({"achievements": [*NEUTRAL_ITEMS, item2(verified=False)]}, J, id="unverified-item-2"),
    pytest.param({"achievements": NEUTRAL_ITEMS}, J, id="patents-and-standard-only"),
    pytest.param({"achievements": NEUTRAL_ITEMS,
                  "experience_claims": [{"item": "key-projects", "description": "参与省重点项目", "evidence": "EV-9"}]},
                 J, id="declared-claim"),
    # Only a verified item 2, 3 or 5 proves 第七条; anything else goes to the experts.
    pytest.param({"achievements": [*NEUTRAL_ITEMS, ach("new_product", level="municipal")]}, J,
                 id="verified-municipal-new-product"),
    pytest.param({"achievements": [*NEUTRAL_ITEMS, item2("municipal")]}, J,
                 id="verified-item-2-appraised-municipally"),
])
def test_work_experience(extra: dict, verdict: Verdict, route: str, relax: Relaxations | None):
    data = {**ALL_ROUND, **extra}
    if route == "exceptional" or relax is not None:
        data["titles"] = [assistant("2011-07-01")]  # judged on the direct routes
    report = run(data, route=route, relaxations=relax)
    criterion = report.criterion("work_experience")
    assert criterion.verdict == verdict, criterion.explanation.zh
    assert not criterion.hard  # 第七条 never blocks on its own: the experts judge it
    assert report.overall == verdict, describe(report)


# ------------------------------------------------------------------------------------------------------------
# §7.3 代表作: a unit-verified technical document of at least 5,000 characters
# ------------------------------------------------------------------------------------------------------------


WORKS_CHANNELS = [
    pytest.param(HUNAN, "normal", None, id="hunan-normal"),
    pytest.param(HUNAN, "normal", SESSION, id="hunan-session"),
    pytest.param(HUNAN, "exceptional", ALLOW_DIRECT, id="hunan-direct"),
    pytest.param(SENIOR, "normal", None, id="national-senior"),
    pytest.param(ENGINEER, "normal", None, id="national-engineer"),
]


@pytest.mark.parametrize(("standard", "route", "relax"), WORKS_CHANNELS)
@pytest.mark.parametrize(("works", "verdict", "fragment"), [
    pytest.param([work(chars=5000)], M, "代表作 1 件，须 1 件", id="5000-verified"),
    pytest.param([work(chars=4999)], N, "共 4999 字，不足 5000 字", id="4999-verified"),
    pytest.param([work(chars=None)], N, "共 0 字，不足 5000 字", id="length-unknown"),
    pytest.param([work("paper", chars=None, verified=False)], M, "论文", id="paper"),
    pytest.param([work("monograph", chars=None, verified=False)], M, "专著", id="monograph"),
    pytest.param([work(chars=4999), work("paper", year=AS_OF.year + 1)], N, "论文不是唯一途径", id="nothing-counts"),
    pytest.param([], N, "可计入的代表作 0 件", id="none"),
])
def test_representative_works(works: list[dict], verdict: Verdict, fragment: str, standard: Standard, route: str,
                              relax: Relaxations | None):
    report = run({**ALL_ROUND, "works": works}, standard, route=route, relaxations=relax)
    criterion = report.criterion("representative_works")
    assert criterion.verdict == verdict and criterion.hard, describe(report)
    assert fragment in criterion.explanation.zh, criterion.explanation.zh
    assert report.overall == verdict, describe(report)


@pytest.mark.parametrize(("route", "relax"), [pytest.param("normal", None, id="normal"), *DIRECT_CHANNELS])
@pytest.mark.parametrize("kind", ["technical_document", "project_report", "design_document", "patent", "standard"])
def test_hunan_technical_documents_of_every_kind_need_5000_verified_characters(kind: str, route: str,
                                                                              relax: Relaxations | None):
    """第六条 lists patent results, project reports, design documents, standards … as technical documents."""
    data = ALL_ROUND if route == "normal" and relax is None else {**ALL_ROUND, "titles": [assistant("2011-07-01")]}
    counted = run({**data, "works": [work(kind, chars=5000)]}, route=route, relaxations=relax)
    assert counted.criterion("representative_works").verdict == M and counted.overall == M, describe(counted)
    short = run({**data, "works": [work(kind, chars=4999)]}, route=route, relaxations=relax)
    assert short.criterion("representative_works").verdict == N and short.overall == N, describe(short)
    assert "不足 5000 字" in short.criterion("representative_works").explanation.zh


@pytest.mark.parametrize(("standard", "route", "relax"), WORKS_CHANNELS)
@pytest.mark.parametrize("stage", ["submission", "recommendation", "recheck"])
def test_an_unverified_document_does_not_count_yet(standard: Standard, route: str, relax: Relaxations | None,
                                                   stage: str):
    """Long enough but not verified by the unit: it does not count. At submission that does not block (the unit
    verifies documents in its review); from the unit's recommendation on it is simply not met."""
    report = run({**ALL_ROUND, "works": [work(chars=5000, verified=False)]}, standard, route=route,
                 relaxations=relax, stage=stage, assessment=PASSED)
    criterion = report.criterion("representative_works")
    assert criterion.verdict == N, describe(report)
    assert "尚未经单位认定" in criterion.explanation.zh and "可计入的代表作 0 件" in criterion.explanation.zh
    if stage == "submission":
        assert not criterion.hard and report.overall == J and report.can_submit, describe(report)
    else:
        assert criterion.hard and report.overall == N, describe(report)
    verified = run({**ALL_ROUND, "works": [work(chars=5000)]}, standard, route=route, relaxations=relax,
                   stage=stage, assessment=PASSED)
    assert verified.criterion("representative_works").verdict == M and verified.overall == M


# ------------------------------------------------------------------------------------------------------------
# §7.4 National 破格: 2 正高级工程师 recommenders of the same specialty
# ------------------------------------------------------------------------------------------------------------

RECOMMENDATIONS = [
    # (recommendations, specialty applied for, verdict)
    pytest.param([rec(), rec(name="李研究员")], "机械", M, id="two-full-senior-same-specialty"),
    pytest.param([rec(), rec(specialty="电气", name="李研究员")], "机械", J, id="one-of-another-specialty"),
    pytest.param([rec(specialty="电气"), rec(specialty="电气", name="李")], "机械", J, id="both-another-specialty"),
    pytest.param([rec(), rec("副高", name="李高工")], "机械", N, id="deputy-senior-does-not-count"),
    pytest.param([rec()], "机械", N, id="one-recommender"),
    pytest.param([rec(), rec(series="经济", name="李")], "机械", N, id="another-series"),
    pytest.param([rec(), rec(name="李研究员")], None, J, id="specialty-not-given-judged-as-related"),
]


@pytest.mark.parametrize(("recs", "specialty", "verdict"), RECOMMENDATIONS)
def test_national_exceptional_route_by_recommendations(recs: list[dict], specialty: str | None, verdict: Verdict):
    data = profile(education=[edu("大专")], titles=[], recommendations=recs, achievements=TWO_ITEMS, works=[work()])
    report = run(data, SENIOR, route="exceptional", relaxations=ALLOW_DIRECT, specialty=specialty)
    assert report.criterion("exceptional").verdict == verdict, describe(report)
    assert_route(report, "exceptional", verdict, None if verdict == M else "exceptional")
    assert report.overall == verdict
    assert report.education_route == "exceptional"
    assert "正高级专家书面推荐 2 名" in report.criterion("exceptional").explanation.zh


@pytest.mark.parametrize(("route", "relax"), [
    pytest.param("exceptional", None, id="pipeline-without-exceptional"),
    pytest.param("normal", ALLOW_DIRECT, id="normal-channel"),
])
def test_national_exceptional_route_closed(route: str, relax: Relaxations | None):
    data = profile(education=[edu("大专")], titles=[], recommendations=[rec(), rec(name="李")],
                   achievements=TWO_ITEMS, works=[work()])
    report = run(data, SENIOR, route=route, relaxations=relax, specialty="机械")
    assert not report.route_result("exceptional").open
    assert report.overall == N


# ------------------------------------------------------------------------------------------------------------
# §7.5 Counting: integrity records end on their anniversary; 29 February rolls to 1 March
# ------------------------------------------------------------------------------------------------------------

EVERY_CHANNEL = [
    pytest.param(HUNAN, ALL_ROUND, "normal", None, id="hunan-normal"),
    pytest.param(HUNAN, ALL_ROUND, "exceptional", ALLOW_DIRECT, id="hunan-direct"),
    pytest.param(SENIOR, ALL_ROUND, "normal", None, id="national-senior"),
    pytest.param(SENIOR, {**ALL_ROUND, "recommendations": [rec(), rec(name="李")]}, "exceptional", ALLOW_DIRECT,
                 id="national-exceptional"),
    pytest.param(ENGINEER, bridging_worker("技师", "2015-01-01"), "bridging", None, id="engineer-bridging"),
]


@pytest.mark.parametrize(("standard", "data", "route", "relax"), EVERY_CHANNEL)
def test_integrity_record_blocks_until_the_day_before_it_ends(standard: Standard, data: dict, route: str,
                                                              relax: Relaxations | None):
    kwargs: dict[str, Any] = {"route": route, "relaxations": relax, "specialty": "机械", "assessment": PASSED}
    clean = run(data, standard, **kwargs)
    assert clean.overall == M, describe(clean)
    ends_today = run({**data, "integrity_record_until": AS_OF.isoformat()}, standard, **kwargs)
    assert ends_today.criterion("no_integrity_record").verdict == M
    assert ends_today.overall == M
    assert f"诚信记录已于 {AS_OF.isoformat()} 期满" in ends_today.criterion("no_integrity_record").explanation.zh
    tomorrow = day_after(AS_OF).isoformat()
    ends_tomorrow = run({**data, "integrity_record_until": tomorrow}, standard, **kwargs)
    criterion = ends_tomorrow.criterion("no_integrity_record")
    assert criterion.verdict == N and ends_tomorrow.overall == N and not ends_tomorrow.can_submit
    assert f"（{tomorrow} 起可申报）" in criterion.explanation.zh
    assert any("诚信记录" in r.zh for r in ends_tomorrow.blocking_reasons)


@pytest.mark.parametrize(("standard", "data", "route", "relax"), EVERY_CHANNEL)
def test_a_sanction_blocks_until_the_day_its_effect_period_is_over(standard: Standard, data: dict, route: str,
                                                                   relax: Relaxations | None):
    kwargs: dict[str, Any] = {"route": route, "relaxations": relax, "specialty": "机械", "assessment": PASSED}
    over_today = {"kind": "demerit", "start": years_before(1).isoformat(), "end": AS_OF.isoformat()}
    assert run({**data, "sanctions": [over_today]}, standard, **kwargs).criterion("no_sanction").verdict == M
    over_tomorrow = {**over_today, "end": day_after(AS_OF).isoformat()}
    blocked = run({**data, "sanctions": [over_tomorrow]}, standard, **kwargs)
    assert blocked.criterion("no_sanction").verdict == N and not blocked.can_submit


LEAP = date(2012, 2, 29)
EARLY = {"achievements": [ach("technical_breakthrough", year=2020), ach("new_product", year=2020)],
         "works": [work(year=2020)]}

FEB_29 = [
    # (standard, profile, route, relaxations, route id, decisive criterion, the day the years are complete)
    pytest.param(HUNAN, hunan_normal(titles=[engineer(date(2020, 2, 29))]), "normal", None,
                 "master-or-bachelor", "ladder", date(2025, 3, 1), id="ladder-5"),
    pytest.param(HUNAN, direct_case(edu("本科", "1999-07-01"), title_on=LEAP), "exceptional", ALLOW_DIRECT,
                 "bachelor-13", "industry_years", date(2025, 3, 1), id="direct-13-after-title"),
    pytest.param(HUNAN, direct_case(edu("本科", "1999-07-01"), title_on=date(2000, 1, 1), job_start=LEAP),
                 "exceptional", ALLOW_DIRECT, "bachelor-13", "industry_years", date(2025, 3, 1),
                 id="direct-13-job-start"),
    pytest.param(HUNAN, leader(date(2020, 2, 29), recognitions=GIANT), "exceptional", ALLOW_DIRECT,
                 "leader-giant-5", "enterprise_leader", date(2025, 3, 1), id="leader-5"),
    pytest.param(ENGINEER, bridging_worker("技师", date(2020, 2, 29), **EARLY), "bridging", None,
                 "bridging", "bridging_waiting_years", date(2023, 3, 1), id="bridging-3"),
    pytest.param(ENGINEER, profile(titles=[assistant(date(2020, 2, 29))], achievements=TWO_ITEMS, works=[work()]),
                 "normal", None, "bachelor-or-college", "ladder", date(2024, 3, 1), id="engineer-ladder-4"),
]


@pytest.mark.parametrize(("standard", "data", "route", "relax", "route_id", "criterion", "due"), FEB_29)
def test_29_february_starts_roll_to_1_march(standard: Standard, data: dict, route: str, relax: Relaxations | None,
                                           route_id: str, criterion: str, due: date):
    kwargs: dict[str, Any] = {"route": route, "relaxations": relax, "assessment": {**PASSED, "on": "2020-01-01"}}
    on_28 = run(data, standard, as_of=date(due.year, 2, 28), **kwargs)
    assert_route(on_28, route_id, N, criterion)
    on_1 = run(data, standard, as_of=due, **kwargs)
    assert_route(on_1, route_id, M, None)
    assert on_1.overall == M, describe(on_1)


@pytest.mark.parametrize("kind", ["economic_benefit", "social_benefit"])
def test_a_benefit_claim_is_no_achievement_item_of_the_hunan_standard(kind: str):
    # §7.3: economic benefit has no threshold and is evidence for the items, not an item of its own; item 8
    # is long front-line or remote-area service.
    report = run(hunan_normal(achievements=[ach(kind, description="年节约成本800万元")]))
    criterion = report.criterion("achievements")
    assert criterion.verdict == N and "不属于本标准可认定的业绩类型" in criterion.explanation.zh
    assert_route(report, "master-or-bachelor", N, "achievements")
