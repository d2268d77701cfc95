"""The applicant's pre-check applies the chosen session's waivers and explains every route (rules.md §7.3)."""

from __future__ import annotations

import copy
import re

from sqlalchemy import update

from seed.cast import READY_PROFILE
from workflow.models import ApplicantProfile, ReviewSession

HUNAN = "hunan-sme-advanced-manufacturing-senior"


def _thirteen_years_after_the_junior_title(cast) -> None:
    """A 本科 engineer with 助理工程师 since 2007 and no 工程师 title."""
    body = copy.deepcopy(READY_PROFILE)
    body["titles"] = [t for t in body["titles"] if t["level"] == "助理"]
    table = ApplicantProfile.__table__
    with cast.db.write() as conn:
        conn.execute(update(table).where(table.c.user_id == cast.applicant.user_id).values(body=body))


def _waive_ladder(cast) -> None:
    table = ReviewSession.__table__
    with cast.db.write() as conn:
        conn.execute(update(table).where(table.c.id == cast.session_id)
                     .values(relaxations={"waive_ladder": True, "source": "湘人社规〔2022〕22号第4条"}))


def _route_row(page: str, route_id: str) -> str:
    match = re.search(rf'<tr data-route="{route_id}"[^>]*>.*?</tr>', page, re.S)
    assert match, f"no row for route {route_id}"
    return match.group(0)


def test_without_a_session_the_standard_applies_as_written(cast, browser):
    _thirteen_years_after_the_junior_title(cast)
    page = browser("zhang").get(f"/applicant/precheck?standard_id={HUNAN}&route=normal").get_data(as_text=True)
    assert 'id="report-overall">不符合' in page
    assert "未开放" in _route_row(page, "bachelor-13") and "未破除台阶" in _route_row(page, "bachelor-13")
    assert "工程师" in _route_row(page, "master-or-bachelor")


def test_a_session_that_waives_the_ladder_opens_the_direct_routes(cast, browser):
    _thirteen_years_after_the_junior_title(cast)
    _waive_ladder(cast)
    zhang = browser("zhang")
    url = f"/applicant/precheck?standard_id={HUNAN}&route=normal&session_id={cast.session_id}"
    page = zhang.get(url).get_data(as_text=True)
    chosen = _route_row(page, "bachelor-13")
    assert 'class="table-active"' in chosen and "符合" in chosen
    assert "学历不符合" in _route_row(page, "master-12")  # 本科 does not open the 12-year route
    assert "企业主要负责人任职不符合" in _route_row(page, "leader-giant-5")
    assert "13 年" in page and 'data-criterion="industry_years"' in page
    zhang.get("/lang/en")
    english = zhang.get(url).get_data(as_text=True)
    assert "Every route considered" in english and 'lang="en"' in english
    row = _route_row(english, "bachelor-13")
    assert "13 years in the industry after the junior title" in row and "Every condition of this route is met" in row


def test_a_session_without_the_channel_says_so(cast, browser):
    table = ReviewSession.__table__
    with cast.db.write() as conn:
        conn.execute(update(table).where(table.c.id == cast.session_id).values(pipeline_ids=["industry-session"]))
    url = f"/applicant/precheck?standard_id=national-engineering-engineer&route=bridging&session_id={cast.session_id}"
    page = browser("zhang").get(url).get_data(as_text=True)
    assert "所选评审会不受理该申报途径" in page


def test_applicants_see_the_policy_basis_never_the_administrators_tags(cast, browser):
    page = browser("zhang").get("/applicant/precheck?standard_id=national-engineering-senior&route=normal"
                                ).get_data(as_text=True)
    assert 'id="precheck-report"' in page
    assert "依据：专业技术人员继续教育规定" in page  # an [R] requirement with its source
    assert "本评价标准规定：业绩成果具备其中2项" in page  # a [C] default, said as the standard's own rule
    for admin_only in ("[C]", "[S]", "[R]", "本系统默认值", "请按政策修改", "待与基本标准原文核对", "rules.md"):
        assert admin_only not in page, admin_only

    # The administrators' preview of the same standard keeps the tags and their reminders.
    admin = browser("admin")
    preview = admin.post("/admin/standards/national-engineering-senior/v2/preview",
                         data={"profile_user": str(cast.applicant.user_id), "route": "normal",
                               "as_of": "2026-06-01"}).get_data(as_text=True)
    assert "[C]" in preview and "待与基本标准原文核对" in preview
