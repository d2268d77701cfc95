"""Report figures against values worked out by hand from the demo's specification, and the percentile method.

The demo (seed/demo.py with seed/demo_applicants.yaml, demo_orgs.yaml, demo_sessions.yaml) is loaded with a
fixed ``now`` so that its simulated clock, and therefore every duration, is the same on every run:
NOW = Monday 2026-06-22 10:00 Beijing time. The 2026 State Council schedule matters in the window the demo
covers: Friday 2026-06-19 is the Dragon Boat Festival (a day off, no make-up working day), 06-20/21 is a
weekend.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime

import pytest
from sqlalchemy import func, insert, literal, select, union_all

from seed.demo import load_demo
from workflow.access.roles import Actor
from workflow.access.visibility import VisibleCases, visible_cases
from workflow.db import Database
from workflow.models import CalendarOverride, Case, Organisation, User
from workflow.records import reports
from workflow.time.calendar import CHINA_TZ

NOW = datetime(2026, 6, 22, 10, 0, tzinfo=CHINA_TZ)
DAY = 1440  # minutes in a day: durations below are written as whole working days + minutes / DAY

ALL = VisibleCases.all_cases()
NO_FILTER = reports.ReportFilter()


@pytest.fixture(scope="module")
def demo(sqlite_template, tmp_path_factory) -> Database:
    """The demo loaded at NOW into one SQLite database shared by this module's tests (read-only use)."""
    path = tmp_path_factory.mktemp("reports") / "demo.db"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    load_demo(db, now=NOW.astimezone(CHINA_TZ))
    reports.refresh_calendar(db, NOW)
    yield db
    db.dispose()


def _pipelines(db: Database, scope=ALL, filt=NO_FILTER):
    with db.read() as conn:
        return reports._pipelines(db, reports._versions(conn, scope, filt))


def _case_id(db: Database, username: str, pipeline_id: str) -> int:
    c, u = Case.__table__, User.__table__
    with db.read() as conn:
        return conn.execute(select(c.c.id).join(u, u.c.id == c.c.applicant_id)
                            .where(u.c.username == username, c.c.pipeline_id == pipeline_id)).scalar_one()


# --------------------------------------------------------------------------------------------- counts

# The 38 demo cases and the state each ends in (demo_applicants.yaml: ``goal`` then the ``then`` side steps;
# ``ballot: fail`` closes the vote against the case). Big stages follow the ``stage`` of each state in the
# pipeline YAML: submission = draft, correction, authority_correction; unit recommendation = unit_review,
# unit_notice(_objection), unit_recommendation, superior_review; panel review = formal_check,
# eligibility_recheck, pre_review, defence, committee_vote; result publication = result_notice(_objection),
# filing, certification; closed = certified, not_passed, withdrawn, revoked, rejected.
#   submission (5): zhangwei/industry (returned → correction), zhangwei/skill-bridging draft, liuqiang draft,
#     shilei draft, wulei (formal_check → returned → authority_correction)
#   unit recommendation (12): chenxm, xiejh, linjia, hejj, zouht (unit_review); wangli, fangyuan (unit_notice);
#     dujuan (objection → unit_notice_objection); zhaogang, tanggq, longxb (unit_recommendation);
#     sunhao (superior)
#   panel review (9): zhoumin, ouyangm, duanlx (formal_check); zhengjie (eligibility_recheck); fengjun, pengzy,
#     tiantian (pre_review); gongxue (defence); heping (committee_vote, ballot open)
#   result publication (4): jiangli, qinyue (result_notice); huanglei (objection → result_notice_objection);
#     xuwen (filing)
#   closed (8): lina, hanwg, zhonghua, yuanmeng (certified); luocheng (certified → revoked);
#     caoyang (vote failed → not_passed); dengchao (withdrawn); panwei (objection upheld → rejected)
# The Hunan route examples added last (hejj and zouht: industry session, unit_review; longxb and duanlx: skill
# bridging, unit_recommendation and formal_check) are the 4 cases above the earlier 34 (9 → 12, 8 → 9).
EXPECTED_STAGES = {"submission": 5, "unit_recommendation": 12, "panel_review": 9, "result_publication": 4,
                   "closed": 8}


def test_cases_per_stage_on_the_demo(demo):
    with demo.read() as conn:
        assert reports.cases_per_stage(conn, _pipelines(demo), ALL, NO_FILTER) == EXPECTED_STAGES


def test_cases_per_state_on_the_demo(demo):
    # Same listing as above, counted per state over all four pipelines (unit_review 3 + hejj, zouht;
    # unit_recommendation 2 + longxb; formal_check 2 + duanlx).
    expected = {"draft": 3, "correction": 1, "authority_correction": 1, "unit_review": 5, "unit_notice": 2,
                "unit_notice_objection": 1, "unit_recommendation": 3, "superior_review": 1, "formal_check": 3,
                "eligibility_recheck": 1, "pre_review": 3, "defence": 1, "committee_vote": 1, "result_notice": 2,
                "result_notice_objection": 1, "filing": 1, "certified": 4, "revoked": 1, "not_passed": 1,
                "withdrawn": 1, "rejected": 1}
    with demo.read() as conn:
        rows = reports.cases_per_state(conn, ALL, NO_FILTER)
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["state"]] = totals.get(r["state"], 0) + r["n"]
    assert totals == expected
    # The skill-bridging pipeline alone: zhangwei draft, xiejh unit_review, tanggq and longxb
    # unit_recommendation, duanlx formal_check, pengzy pre_review, hanwg certified, jiangli result_notice.
    assert {r["state"]: r["n"] for r in rows if r["pipeline_id"] == "skill-bridging"} == {
        "draft": 1, "unit_review": 1, "unit_recommendation": 2, "formal_check": 1, "pre_review": 1, "certified": 1,
        "result_notice": 1}


@pytest.mark.parametrize(("filt", "expected"), [
    # HRM session: qinyue result_notice, tiantian pre_review, dujuan unit_notice_objection, panwei rejected.
    ("HRM", {"submission": 0, "unit_recommendation": 1, "panel_review": 1, "result_publication": 1, "closed": 1}),
    # skill-bridging: see test_cases_per_state_on_the_demo (longxb adds to unit recommendation, duanlx to
    # panel review).
    (reports.ReportFilter(pipeline_id="skill-bridging"),
     {"submission": 1, "unit_recommendation": 3, "panel_review": 2, "result_publication": 1, "closed": 1}),
    # Opened on 2026-06-19 (start_days_ago: 3): chenxm unit_review, wangli unit_notice, dujuan objection.
    (reports.ReportFilter(date_from=date(2026, 6, 19), date_to=date(2026, 6, 19)),
     {"submission": 0, "unit_recommendation": 3, "panel_review": 0, "result_publication": 0, "closed": 0}),
    # Opened from 2026-06-20 on (start_days_ago 2: xiejh and linjia, both in unit review).
    (reports.ReportFilter(date_from=date(2026, 6, 20)),
     {"submission": 0, "unit_recommendation": 2, "panel_review": 0, "result_publication": 0, "closed": 0}),
])
def test_filters_narrow_the_stage_counts(demo, filt, expected):
    if filt == "HRM":
        from workflow.models import ReviewSession

        with demo.read() as conn:
            sid = conn.execute(select(ReviewSession.__table__.c.id)
                               .where(ReviewSession.__table__.c.code == "2026-HRM")).scalar_one()
        filt = reports.ReportFilter(session_id=sid)
    with demo.read() as conn:
        assert reports.cases_per_stage(conn, _pipelines(demo, ALL, filt), ALL, filt) == expected


def test_scope_limits_an_officer_to_their_authority(demo):
    o = Organisation.__table__
    with demo.read() as conn:
        authority = conn.execute(select(o.c.id).where(o.c.kind == "authority")).scalar_one()
        other = conn.execute(select(o.c.id).where(o.c.kind == "agency")).scalar_one()
        def officer(org_id):  # an authority officer's scope: their authority's submitted cases
            return visible_cases(conn, demo, Actor(user_id=-1, roles=frozenset({"authority_officer"}), org_id=org_id))

        mine = reports.cases_per_stage(conn, _pipelines(demo), officer(authority), NO_FILTER)
        none = reports.cases_per_stage(conn, _pipelines(demo), officer(other), NO_FILTER)
        empty = reports.cases_per_stage(conn, _pipelines(demo), officer(None), NO_FILTER)
    # The demo has one authority: every case is before it once submitted. Its three drafts (zhangwei's
    # skill-bridging, liuqiang's, shilei's) are their applicants' private working copies, outside an officer's scope.
    assert mine == {**EXPECTED_STAGES, "submission": EXPECTED_STAGES["submission"] - 3}
    assert sum(none.values()) == 0 and sum(empty.values()) == 0


# --------------------------------------------------------------------------------------------- pass rates

# Decided demo cases (the vote's result; later steps do not change it):
#   passed: huanglei (湘工: little giant, industry, 副高, RAIL), xuwen (湘电: specialised, industry, 中级, RAIL),
#           lina (麓谷: specialised, industry, 副高, RAIL, certified), luocheng (碳谷: specialised, industry, 副高,
#           RAIL, certified then revoked), hanwg (湘牵: little giant, skill-bridging, 中级, RAIL, certified),
#           jiangli (智轨: specialised, skill-bridging, 中级, RAIL), zhonghua (湘工: little giant, exceptional,
#           副高, RAIL, certified), yuanmeng (no employer: other, fallback, 副高, RAIL, certified),
#           qinyue (锐锋: specialised, industry, 副高, HRM, series 经济)
#   failed: caoyang (星沙: specialised, industry, 副高, RAIL)
EXPECTED_RATES = {
    "session": {"2026-RAIL": (9, 8, 1, 5), "2026-HRM": (1, 1, 0, 0)},
    "series": {"工程": (9, 8, 1, 5), "经济": (1, 1, 0, 0)},
    "level": {"副高": (7, 6, 1, 4), "中级": (3, 3, 0, 1)},
    "pipeline": {"industry-session": (6, 5, 1, 2), "skill-bridging": (2, 2, 0, 1), "exceptional-senior": (1, 1, 0, 1),
                 "fallback-filing": (1, 1, 0, 1)},
    "firm_type": {"little_giant": (3, 3, 0, 2), "specialised": (6, 5, 1, 2), "other": (1, 1, 0, 1)},
}
"""(decided, passed, failed, certified) per value of each dimension."""


@pytest.mark.parametrize("dimension", reports.DIMENSIONS)
def test_pass_rates_on_the_demo(demo, dimension):
    with demo.read() as conn:
        rows = reports.pass_rates(conn, _pipelines(demo), dimension, ALL, NO_FILTER)
    got = {(r["code"] if dimension == "session" else r["key"]):
           (r["decided"], r["passed"], r["failed"], r["certificates"]) for r in rows}
    assert got == EXPECTED_RATES[dimension]
    for r in rows:
        assert r["rate"] == pytest.approx(r["passed"] / r["decided"])


def test_outcome_states_come_from_the_definitions(demo):
    passed, failed, certified = reports.outcome_states(_pipelines(demo))
    assert (passed, failed, certified) == ({"result_notice"}, {"not_passed"}, {"certified"})


# --------------------------------------------------------------------------------------------- time in state

# The simulated clock (seed/demo.py _CaseRun): a case with loader index i starts at 09:(10 + i % 40) Beijing
# time on the date ``start_days_ago`` days before NOW; each engine step (_advance, step number k) moves it
# 2 + (i + k) % 4 hours and (7·i) % 50 minutes later, or to 09:((11·i + 5·k) % 60) the next day when that
# would pass 18:00. A deadline fires 3 minutes after it ends (00:00 after its n-th working day).
# Working days: a working day counts 1 (24 h), a holiday or weekend 0; a partial day by its elapsed fraction.
#
# zhaogang (index 5, industry-session, start_days_ago 14 → Monday 2026-06-08):
#   draft        09:15 → submit (k=1: +4 h 35 min) 13:50 the same Monday           = 275 min        = 275/DAY
#   unit_review  13:50 → start_unit_notice (k=2: +5 h 35 → 18:25 ≥ 18:00, so 06-09 09:05)
#                = (1440 − 830) min of 06-08 + 545 min of 06-09                    = 1155/DAY
#   unit_notice  06-09 09:05 → 5 working days: 06-10, 11, 12, 15, 16 → ends 06-17 00:00, fires 00:03
#                = (1440 − 545)/DAY + 5 + 3/DAY                                    = 5 + 898/DAY
#   unit_recommendation (still open at NOW) since 06-17 00:03: 1437/DAY (Wed) + 1 (Thu 18) + 0 (Fri 19,
#                Dragon Boat) + 0 + 0 (weekend) + 600/DAY (Mon 22 until 10:00)     = 1 + 2037/DAY
# tanggq (index 19, skill-bridging, start 14 → 2026-06-08 09:29):
#   draft 09:29 → (k=1: +2 h 33) 12:02; unit_review 12:02 → (k=2: +3 h 33) 15:35 = 213/DAY
#   unit_notice  06-08 15:35 → 5 working days 06-09, 10, 11, 12, 15 → fires 06-16 00:03
#                = 505/DAY + 5 + 3/DAY                                             = 5 + 508/DAY
#   open since 06-16 00:03: 1437/DAY (Tue) + 1 + 1 (17, 18) + 0 (19–21) + 600/DAY  = 2 + 2037/DAY
# chenxm (index 3, start 3 → Friday 2026-06-19, the Dragon Boat holiday):
#   draft 09:13 → (k=1: +2 h 21) 11:34 on a holiday                                = 0
#   unit_review open since 06-19 11:34: 0 (19–21) + 600/DAY                        = 600/DAY
HAND_STAYS = [
    ("zhaogang", "industry-session", "draft", 275 / DAY),
    ("zhaogang", "industry-session", "unit_review", 1155 / DAY),
    ("zhaogang", "industry-session", "unit_notice", 5 + 898 / DAY),
    ("tanggq", "skill-bridging", "draft", 153 / DAY),
    ("tanggq", "skill-bridging", "unit_review", 213 / DAY),
    ("tanggq", "skill-bridging", "unit_notice", 5 + 508 / DAY),
    ("chenxm", "industry-session", "draft", 0.0),
]
HAND_WAITS = [
    ("zhaogang", "industry-session", "unit_recommendation", 1 + 2037 / DAY),
    ("tanggq", "skill-bridging", "unit_recommendation", 2 + 2037 / DAY),
    ("chenxm", "industry-session", "unit_review", 600 / DAY),
]


@pytest.mark.parametrize(("username", "pipeline_id", "state", "expected"), HAND_STAYS)
def test_single_stays_in_working_days(demo, username, pipeline_id, state, expected):
    case_id = _case_id(demo, username, pipeline_id)
    with demo.read() as conn:
        stays = [s for s in reports.stay_durations(conn, ALL, NO_FILTER) if s["case_id"] == case_id]
    assert [s["working_days"] for s in stays if s["state"] == state] == [pytest.approx(expected, abs=1e-6)]


def test_longest_waits_on_the_demo(demo):
    with demo.read() as conn:
        waits = reports.longest_waits(conn, _pipelines(demo), ALL, NO_FILTER, NOW)
    by_case = {w["id"]: w for w in waits}
    for username, pipeline_id, state, expected in HAND_WAITS:
        row = by_case[_case_id(demo, username, pipeline_id)]
        assert row["state"] == state
        assert row["working_days"] == pytest.approx(expected, abs=1e-6)
    assert by_case[_case_id(demo, "zhaogang", "industry-session")]["roles"] == ("unit_reviewer",)
    assert by_case[_case_id(demo, "chenxm", "industry-session")]["roles"] == ("unit_reviewer",)
    days = [w["working_days"] for w in waits]
    assert days == sorted(days, reverse=True)
    # Drafts are not waiting for anyone but their author, and finished cases wait for nobody.
    assert not {w["state"] for w in waits} & {"draft", "certified", "withdrawn", "revoked", "rejected"}


def test_an_override_changes_the_working_days(demo, tmp_path):
    # Declaring the Dragon Boat Friday a working day adds (1440 − 694)/DAY to chenxm's wait (11:34 → midnight).
    copy = tmp_path / "override.db"
    shutil.copyfile(demo.engine.url.database, copy)
    db = Database(f"sqlite:///{copy}")
    try:
        with db.write() as conn:
            conn.execute(insert(CalendarOverride.__table__).values(day=date(2026, 6, 19), is_working_day=True,
                                                                   note="test"))
        assert reports.refresh_calendar(db, NOW) is True
        assert reports.refresh_calendar(db, NOW) is False  # unchanged calendar: nothing rewritten
        with db.read() as conn:
            waits = reports.longest_waits(conn, _pipelines(db), ALL, NO_FILTER, NOW)
        row = next(w for w in waits if w["id"] == _case_id(db, "chenxm", "industry-session"))
        assert row["working_days"] == pytest.approx((1440 - 694 + 600) / DAY, abs=1e-6)
    finally:
        db.dispose()


def test_time_in_state_aggregates_match_the_stays(demo):
    # The aggregate is the percentile method applied to stay_durations: recompute one state by hand here.
    with demo.read() as conn:
        stays = reports.stay_durations(conn, ALL, NO_FILTER)
        rows = {r["state"]: r for r in reports.time_in_state(conn, ALL, NO_FILTER)}
    values = sorted(s["working_days"] for s in stays if s["state"] == "unit_notice")
    n = len(values)
    assert rows["unit_notice"]["n"] == n
    assert rows["unit_notice"]["p50"] == pytest.approx(_linear(values, 50), abs=1e-6)
    assert rows["unit_notice"]["p90"] == pytest.approx(_linear(values, 90), abs=1e-6)
    assert rows["unit_notice"]["mean"] == pytest.approx(sum(values) / n, abs=1e-6)


def test_time_in_state_for_the_cases_opened_on_8_june(demo):
    # Only zhaogang and tanggq were opened on 2026-06-08 (start_days_ago: 14); their completed stays are
    # HAND_STAYS above. With two values a and b (a ≤ b): median = (a + b)/2, p90 = a + 0.9·(b − a).
    #   draft:       153, 275 min        → median 214/DAY,     p90 (153 + 0.9·122)/DAY = 262.8/DAY
    #   unit_review: 213, 1155 min       → median 684/DAY,     p90 (213 + 0.9·942)/DAY = 1060.8/DAY
    #   unit_notice: 5 + 508, 5 + 898    → median 5 + 703/DAY, p90 5 + (508 + 0.9·390)/DAY = 5 + 859/DAY
    filt = reports.ReportFilter(date_from=date(2026, 6, 8), date_to=date(2026, 6, 8))
    with demo.read() as conn:
        rows = {r["state"]: (r["n"], r["p50"], r["p90"]) for r in reports.time_in_state(conn, ALL, filt)}
    assert rows == {
        "draft": (2, pytest.approx(214 / DAY), pytest.approx(262.8 / DAY)),
        "unit_review": (2, pytest.approx(684 / DAY), pytest.approx(1060.8 / DAY)),
        "unit_notice": (2, pytest.approx(5 + 703 / DAY), pytest.approx(5 + 859 / DAY)),
    }


def test_build_report_needs_an_aware_now(demo):
    with pytest.raises(ValueError, match="aware"):
        reports.build_report(demo, ALL, NO_FILTER, datetime(2026, 6, 22, 10, 0))


def test_filter_rejects_a_reversed_range():
    with pytest.raises(ValueError, match="after"):
        reports.ReportFilter(date_from=date(2026, 6, 2), date_to=date(2026, 6, 1))


# --------------------------------------------------------------------------------------------- percentiles


def _linear(sorted_values: list[float], percent: int) -> float:
    """Reference implementation (percentile_cont / numpy 'linear'), written independently of the SQL."""
    h = (len(sorted_values) - 1) * percent / 100
    lo = int(h)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (h - lo) * (sorted_values[hi] - sorted_values[lo])


def _table(data: dict[str, list[float]]):
    parts = [select(literal(key).label("key"), literal(v).label("value")) for key, vs in data.items() for v in vs]
    return select(union_all(*parts).subquery("t"))


PERCENTILE_CASES = [
    # values, percent → expected (worked out by hand: h = (n − 1)·p; x⌊h⌋+1 + frac(h)·(next − it), 1-based)
    ([5.0], 50, 5.0),
    ([5.0], 90, 5.0),
    ([1.0, 2.0], 50, 1.5),  # h = 0.5
    ([1.0, 2.0], 90, 1.9),  # h = 0.9
    ([3.0, 1.0, 2.0], 50, 2.0),  # sorted 1, 2, 3; h = 1
    ([3.0, 1.0, 2.0], 90, 2.8),  # h = 1.8 → 2 + 0.8
    ([1.0, 2.0, 3.0, 4.0], 50, 2.5),  # h = 1.5
    ([1.0, 2.0, 3.0, 4.0], 90, 3.7),  # h = 2.7
    ([10.0] + [0.0] * 9, 90, 1.0),  # h = 8.1 → 0 + 0.1·10
    ([4.0, 8.0, 15.0, 16.0, 23.0, 42.0], 0, 4.0),  # the minimum
    ([4.0, 8.0, 15.0, 16.0, 23.0, 42.0], 100, 42.0),  # the maximum
    ([4.0, 8.0, 15.0, 16.0, 23.0, 42.0], 25, 9.75),  # h = 1.25 → 8 + 0.25·7
]


@pytest.mark.parametrize(("values", "percent", "expected"), PERCENTILE_CASES)
def test_percentile_method(any_db, values, percent, expected):
    stmt = reports.percentiles(_table({"a": values, "b": [100.0, 200.0]}), (percent,))
    with any_db.read() as conn:
        got = {r["key"]: (int(r["n"]), float(r[f"p{percent}"])) for r in conn.execute(stmt).mappings()}
    assert got["a"] == (len(values), pytest.approx(expected))
    assert got["a"][1] == pytest.approx(_linear(sorted(values), percent))
    assert got["b"] == (2, pytest.approx(100.0 + percent))  # the other key is interpolated separately


@pytest.mark.postgres
@pytest.mark.parametrize(("values", "percent", "expected"), PERCENTILE_CASES)
def test_percentile_method_equals_percentile_cont(pg_db, values, percent, expected):
    source = _table({"a": values}).subquery("s")
    builtin = select(func.percentile_cont(percent / 100).within_group(source.c.value))
    with pg_db.read() as conn:
        ours = conn.execute(reports.percentiles(_table({"a": values}), (percent,))).mappings().one()
        theirs = conn.execute(builtin).scalar_one()
    assert float(ours[f"p{percent}"]) == pytest.approx(float(theirs)) == pytest.approx(expected)


def test_percentiles_ignore_nulls_and_reject_bad_percents(db):
    parts = [select(literal("a").label("key"), literal(v).label("value")) for v in (1.0, 3.0)]
    parts.append(select(literal("a").label("key"), literal(None).label("value")))
    with db.read() as conn:
        row = conn.execute(reports.percentiles(select(union_all(*parts).subquery("t")), (50,))).mappings().one()
    assert (row["n"], row["p50"]) == (2, 2.0)
    for bad in (-1, 101, 50.5, True):
        with pytest.raises(ValueError):
            reports.percentiles(_table({"a": [1.0]}), (bad,))


@pytest.mark.postgres
def test_demo_report_is_the_same_on_postgresql(pg_db):
    load_demo(pg_db, now=NOW)
    report = reports.build_report(pg_db, ALL, NO_FILTER, NOW)
    assert report.stages == EXPECTED_STAGES
    got = {r["key"]: (r["decided"], r["passed"], r["failed"], r["certificates"]) for r in report.rates["firm_type"]}
    assert got == EXPECTED_RATES["firm_type"]
    waits = {w["id"]: w["working_days"] for w in report.waits}
    for username, pipeline_id, _state, expected in HAND_WAITS:
        assert waits[_case_id(pg_db, username, pipeline_id)] == pytest.approx(expected, abs=1e-6)
    with pg_db.read() as conn:
        stays = reports.stay_durations(conn, ALL, NO_FILTER)
    for username, pipeline_id, state, expected in HAND_STAYS:
        case_id = _case_id(pg_db, username, pipeline_id)
        assert [s["working_days"] for s in stays if s["case_id"] == case_id and s["state"] == state] == [
            pytest.approx(expected, abs=1e-6)]
