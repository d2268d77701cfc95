"""Each route of the Hunan SME senior standard explained to the demo's route-example applicants, in a browser.

The module serves the demo data set (seed/demo.py): 贺建军 (hejj) has led a national 专精特新“小巨人” as 总经理
since 2017 with a 大专 and no title; 邹海涛 (zouht) has a 本科 and 助理工程师 since 2012 but no 工程师. Their
pre-check in the 湘产专场 (which waives the ladder) lists every route of the standard, marks the one that
decides (the ``table-active`` row) and says, in Chinese and after switching the language in English, why each
of the others does not apply. 龙小波 (longxb), a 技工院校 预备技师班 graduate holding 技师, bridges to 工程师:
his case shows 待单位考核 until 株洲智轨's HR records the unit assessment at the recommendation step; from then
on the case page shows the check taken at the recommendation, with the assessment met.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from livehelpers import PASSWORD, Person, case_state
from playwright.sync_api import expect
from sqlalchemy import inspect, select, update
from sqlmodel import SQLModel

from seed.demo import load_demo
from workflow.access.passwords import hash_password
from workflow.db import Database
from workflow.models import Case, ReviewSession, User
from workflow.models.attachments import Attachment

STANDARD = "hunan-sme-advanced-manufacturing-senior"
WAIT = 20_000
"""How long (ms) an expectation waits for the page: generous, for a busy two-core machine."""


@pytest.fixture(scope="module")
def live_db(sqlite_template: Path, tmp_path_factory) -> Iterator[Database]:
    """The demo data set in a fresh database, every account with the browser tests' password (overrides the
    cast-based fixture of conftest.py)."""
    directory = tmp_path_factory.mktemp("eligibility-routes")
    shutil.copyfile(sqlite_template, directory / "live.db")
    db = Database(f"sqlite:///{directory / 'live.db'}")
    if "attachment" not in inspect(db.engine).get_table_names():
        SQLModel.metadata.create_all(db.engine, tables=[Attachment.__table__])
    load_demo(db)
    with db.write() as conn:
        conn.execute(update(User.__table__).values(password_hash=hash_password(PASSWORD)))
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def shots(screenshot_dir: Path) -> Path:
    """This journey's screenshots."""
    path = screenshot_dir / "eligibility-routes"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def person(chromium, live_server, shots) -> Iterator:
    """``person("hejj")``: a signed-in person with their own browser context, closed after the test."""
    made: list[Person] = []

    def sign_in(username: str) -> Person:
        made.append(Person(chromium, live_server, username, shots))
        return made[-1]

    yield sign_in
    for p in made:
        p.close()


def _case_id(db: Database, username: str) -> int:
    c, u = Case.__table__, User.__table__
    with db.read() as conn:
        return conn.execute(select(c.c.id).join(u, u.c.id == c.c.applicant_id)
                            .where(u.c.username == username)).scalar_one()


def _rail_session(db: Database) -> int:
    s = ReviewSession.__table__
    with db.read() as conn:
        return conn.execute(select(s.c.id).where(s.c.code.like("%-RAIL"))).scalar_one()


def _in_english(p: Person, path: str) -> None:
    """Switch the interface to English and open ``path``."""
    p.go(f"/lang/en?next={quote(path, safe='/')}")
    expect(p.page.locator("html")).to_have_attribute("lang", "en", timeout=WAIT)


def _in_chinese(p: Person, path: str) -> None:
    """Switch the interface back to Chinese and open ``path``."""
    p.go(f"/lang/zh_CN?next={quote(path, safe='/')}")
    expect(p.page.locator("html")).to_have_attribute("lang", "zh-CN", timeout=WAIT)


def _routes(scope):
    """The route-by-route table inside ``scope`` (a page or a section)."""
    return scope.locator("#eligibility-routes")


def _deciding(scope, route_id: str):
    """The one highlighted (deciding) row of the routes table, checked to be ``route_id``'s."""
    active = _routes(scope).locator("tbody tr.table-active")
    expect(active).to_have_count(1, timeout=WAIT)
    expect(active).to_have_attribute("data-route", route_id)
    return active


def _why(scope, route_id: str):
    """What decided a route (the last cell of its row: the failing criterion and why, or why it is closed)."""
    return _routes(scope).locator(f"tbody tr[data-route='{route_id}'] td").last


def _case_criterion(section, label: str):
    """A criterion row of the case page's eligibility table, found by its label cell."""
    return section.locator("table.eligibility tbody tr").filter(
        has=section.page.locator(f"td:first-child:text-is('{label}')"))


def _verdict(row):
    """The verdict badge of a criterion row of the case page (符合, 不符合, 待核实/专家评议 or English)."""
    return row.locator("td:nth-child(2)")


def test_leader_and_bachelor_routes_are_explained_route_by_route(person, live_db):
    rail = _rail_session(live_db)

    # 贺建军 fills in the pre-check form: the rail session, the Hunan standard, the normal channel.
    leader = person("hejj")
    page = leader.page
    leader.go("/applicant/precheck")
    page.select_option("#session_id", str(rail))
    page.select_option("#standard_id", STANDARD)
    page.select_option("#route", "normal")
    leader.click("#precheck-form button[type=submit]")
    expect(page.locator("#report-overall")).to_have_text("符合", timeout=WAIT)
    active = _deciding(page, "leader-giant-5")
    expect(active).to_contain_text("主要负责人满5年")
    expect(active).to_contain_text("判定依据")
    leading = page.locator("#precheck-report [data-criterion=enterprise_leader]")
    expect(leading).to_contain_text("主要负责人")
    expect(leading).to_contain_text(re.compile(r"满\s*5\s*年"))
    # Every other route says which criterion fails it: no 本科 for the 13-year route, no 初级 title to count
    # the 15 years from, and a 小巨人 that is not also a 单项冠军 for the 3-year leader route.
    for route_id in ("doctorate", "master-or-bachelor", "master-12", "bachelor-13"):
        expect(_why(page, route_id)).to_contain_text("学历不符合")
    expect(_why(page, "college-15")).to_contain_text("本行业技术工作年限不符合")
    expect(_why(page, "college-15")).to_contain_text("初级")  # the 15 years count from a 初级 title he lacks
    expect(_why(page, "leader-giant-champion-3")).to_contain_text("企业主要负责人任职不符合")
    leader.shot("01-leader-precheck-zh")
    precheck = page.url.removeprefix(leader.base)

    _in_english(leader, precheck)
    active = _deciding(page, "leader-giant-5")
    expect(active).to_contain_text("5 years as principal leader of a national little giant")
    expect(page.locator("#precheck-report [data-criterion=enterprise_leader]")).to_contain_text("5 years")
    expect(_why(page, "bachelor-13")).to_contain_text("Education not met")
    expect(_why(page, "college-15")).to_contain_text("Years of technical work in the industry not met")
    expect(_why(page, "leader-giant-champion-3")).to_contain_text("Enterprise leadership not met")
    leader.shot("02-leader-precheck-en")
    _in_chinese(leader, precheck)

    # His submitted case shows the same verdict, stored at submission with the session's waivers.
    leader.go(f"/cases/{_case_id(live_db, 'hejj')}")
    section = page.locator("section[aria-labelledby=elig-h]")
    expect(section).to_contain_text("提交时的核对结果", timeout=WAIT)
    expect(_deciding(section, "leader-giant-5")).to_contain_text("主要负责人满5年")
    leader.shot("03-leader-case")

    # 邹海涛: 本科 and 助理工程师 since 2012-12-20, no 工程师.
    bachelor = person("zouht")
    page = bachelor.page
    bachelor.go(f"/applicant/precheck?session_id={rail}&standard_id={STANDARD}&route=normal")
    expect(page.locator("#report-overall")).to_have_text("符合", timeout=WAIT)
    active = _deciding(page, "bachelor-13")
    expect(active).to_contain_text("满13年")
    years = page.locator("#precheck-report [data-criterion=industry_years]")
    expect(years).to_contain_text("助理工程师（2012-12-20）")  # counted from the junior title
    expect(years).to_contain_text(re.compile(r"满\s*13\s*年"))
    # The normal route needs 工程师 for 5 years: the session's waiver removes the title, never the years.
    normal = _why(page, "master-or-bachelor")
    expect(normal).to_contain_text("台阶（取得下一级职称年限）不符合")
    expect(normal).to_contain_text("工程师")
    expect(normal).to_contain_text(re.compile(r"5\s*年"))
    expect(_why(page, "master-12")).to_contain_text("学历不符合")
    expect(_why(page, "leader-giant-5")).to_contain_text("企业主要负责人任职不符合")
    bachelor.shot("04-bachelor-precheck-zh")

    precheck = page.url.removeprefix(bachelor.base)
    _in_english(bachelor, precheck)
    active = _deciding(page, "bachelor-13")
    expect(active).to_contain_text("13 years in the industry after the junior title")
    expect(page.locator("#precheck-report [data-criterion=industry_years]")).to_contain_text("13 years")
    expect(_why(page, "master-or-bachelor")).to_contain_text("Ladder (years with the lower title) not met")
    expect(_why(page, "master-12")).to_contain_text("Education not met")
    expect(_why(page, "leader-giant-5")).to_contain_text("Enterprise leadership not met")
    bachelor.shot("05-bachelor-precheck-en")
    _in_chinese(bachelor, precheck)


def test_the_unit_records_the_assessment_and_the_case_page_follows(person, live_db):
    case_id = _case_id(live_db, "longxb")
    assert case_state(live_db, case_id) == "unit_recommendation"

    # The applicant's case: bridging decides; the unit's assessment is pending and does not block.
    applicant = person("longxb")
    applicant.go(f"/cases/{case_id}")
    section = applicant.page.locator("section[aria-labelledby=elig-h]")
    expect(section).to_contain_text("提交时的核对结果", timeout=WAIT)
    _deciding(section, "bridging")
    pending = _case_criterion(section, "单位考核")
    expect(pending).to_have_count(1)
    expect(_verdict(pending)).to_have_text("待核实/专家评议")
    expect(pending).to_contain_text("待单位考核")
    # The Hunan channel: a 技师 applies right after the unit's assessment (nationally 3 years).
    waited = _case_criterion(section, "取得技能等级后年限")
    expect(_verdict(waited)).to_have_text("符合")
    expect(waited).to_contain_text(re.compile(r"3\s*年"))
    applicant.shot("06-bridging-case-pending")

    # 株洲智轨's HR records the assessment (合格) and recommends.
    unit = person("zhigui_hr")
    unit.go(f"/cases/{case_id}")
    section = unit.page.locator("section[aria-labelledby=elig-h]")
    expect(_case_criterion(section, "单位考核")).to_contain_text("待单位考核", timeout=WAIT)
    unit.shot("07-bridging-unit-before")
    unit.act(case_id, "recommend", assessment_result="合格",
             assessment_summary="该同志熟练掌握转向架装调技能，能解决现场装调技术难题，考核合格。",
             comment="经单位考核合格，同意推荐贯通申报工程师。")
    assert case_state(live_db, case_id) == "superior_review"  # 株洲智轨 reports to 株洲市工信局

    unit.go(f"/cases/{case_id}")
    section = unit.page.locator("section[aria-labelledby=elig-h]")
    expect(section).to_contain_text("单位考核推荐时的核对结果", timeout=WAIT)
    assessed = _case_criterion(section, "单位考核")
    expect(_verdict(assessed)).to_have_text("符合")
    expect(assessed).not_to_contain_text("待单位考核")
    expect(assessed).to_contain_text("合格")
    expect(assessed).to_contain_text("王芳")  # who assessed: the reviewer who recorded it
    unit.shot("08-bridging-unit-after")

    # The applicant sees it too, in English as well.
    applicant.go(f"/cases/{case_id}")
    section = applicant.page.locator("section[aria-labelledby=elig-h]")
    expect(_verdict(_case_criterion(section, "单位考核"))).to_have_text("符合", timeout=WAIT)
    _in_english(applicant, f"/cases/{case_id}")
    section = applicant.page.locator("section[aria-labelledby=elig-h]")
    assessed = _case_criterion(section, "Unit assessment")
    expect(_verdict(assessed)).to_have_text("Met", timeout=WAIT)
    expect(assessed).to_contain_text("合格")
    applicant.shot("09-bridging-applicant-after-en")
    _in_chinese(applicant, f"/cases/{case_id}")

    # 段立新's unit recorded the assessment when the demo was loaded: his case shows that check already.
    other = person("duanlx")
    other.go(f"/cases/{_case_id(live_db, 'duanlx')}")
    section = other.page.locator("section[aria-labelledby=elig-h]")
    expect(section).to_contain_text("单位考核推荐时的核对结果", timeout=WAIT)
    recorded = _case_criterion(section, "单位考核")
    expect(_verdict(recorded)).to_have_text("符合")
    expect(recorded).to_contain_text("优秀")
    other.shot("10-bridging-recorded")
