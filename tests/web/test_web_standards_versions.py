"""Versions of standards in the web UI: two versions side by side, and the history's effective dates, origins and
case counts on the standard's page."""

from __future__ import annotations

import html
import re

import pytest

from workflow.eligibility.standards import STANDARDS_DIR, Standard, load_standard_yaml
from workflow.eligibility.standards_store import publish
from workflow.engine import core as engine

SENIOR = "hunan-sme-advanced-manufacturing-senior"
SEED = load_standard_yaml(STANDARDS_DIR / f"{SENIOR}.yaml")
V = SEED.version
"""The seeded version the tests start from."""



def _revised(**changes) -> Standard:
    """The seed with two numbers changed (the k of achievements, one route's years) and ``changes`` applied."""
    data = SEED.model_dump(mode="json")
    data["achievements"]["k"]["value"] = 2
    data["direct"]["achievements_k"]["value"] = 2
    data["education_routes"][1]["ladder_years"]["value"] = 6
    data.update(changes)
    return Standard.model_validate(data)


def _compare(b, left: str, right: str, **params):
    query = "&".join([f"left={left}", f"right={right}", *(f"{k}={v}" for k, v in params.items())])
    return b.get(f"/admin/standards/compare?{query}")


def _rows(page: str, table: str) -> list[tuple[str, str]]:
    """(class, data-path) of each row of the table ``table``."""
    body = page[page.index(f'id="{table}"'):]
    body = body[:body.index("</table>")]
    return re.findall(r'<tr class="(diff-[a-z]+)(?: diff-number)?" data-path="([^"]+)"', body)


def test_two_versions_side_by_side_show_exactly_the_changed_numbers(browser, cast):
    revised = publish(cast.db, _revised(), by_user_id=None, based_on=(SENIOR, V))
    response = _compare(browser("admin"), f"{SENIOR}@{V}", f"{SENIOR}@{revised.version}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "条件有 2 处不同，其中数值 2 处。" in page
    assert page.count('class="diff-changed diff-number"') == 2
    assert _rows(page, "diff-criteria") == [("diff-changed", "education_routes[master-or-bachelor].ladder_years"),
                                            ("diff-changed", "achievements.k")]
    criteria = page[page.index('id="diff-criteria"'):]
    assert criteria.count("已修改") == 2  # in words too, not by colour alone
    assert "diff-same" not in criteria.split("</table>")[0]  # only the differences by default
    identity = dict((path, cls) for cls, path in _rows(page, "diff-identity"))
    assert identity["version"] == "diff-changed" and identity["name"] == "diff-same" and len(identity) == 11
    everything = _compare(browser("admin"), f"{SENIOR}@{V}", f"{SENIOR}@{revised.version}", only=0)
    rows = _rows(everything.get_data(as_text=True), "diff-criteria")
    assert len(rows) > 50 and sum(cls == "diff-changed" for cls, _path in rows) == 2
    assert 'aria-current="true" id="all-criteria"' in everything.get_data(as_text=True)


def test_an_added_route_is_marked_added_in_words(browser, cast):
    data = SEED.model_dump(mode="json")
    data["education_routes"].insert(1, {"id": "master", "label": {"zh": "硕士，取得工程师后满4年"},
                                        "min_education": "硕士",
                                        "ladder_years": {"value": 4, "tag": "C", "source": "示例来源"}})
    revised = publish(cast.db, Standard.model_validate(data), by_user_id=None)
    page = _compare(browser("admin"), f"{SENIOR}@{V}", f"{SENIOR}@{revised.version}").get_data(as_text=True)
    rows = _rows(page, "diff-criteria")
    assert {cls for cls, _path in rows} == {"diff-added"} and all(p.startswith("education_routes[master].")
                                                                   for _cls, p in rows)
    assert "条件有 1 处不同。" in page and "新增" in page and "示例来源" in page and "[C]" in page
    back = _compare(browser("admin"), f"{SENIOR}@{revised.version}", f"{SENIOR}@{V}").get_data(as_text=True)
    assert {cls for cls, _path in _rows(back, "diff-criteria")} == {"diff-removed"} and "删除" in back


def test_different_standards_and_the_newest_version_by_id_alone(browser):
    page = _compare(browser("admin"), "national-engineering-senior", f"{SENIOR}@{V}").get_data(as_text=True)
    assert "national-engineering-senior</code> v" in page and "diff-added" in page
    same = _compare(browser("admin"), f"{SENIOR}@{V}", SENIOR).get_data(as_text=True)
    assert "条件完全相同。" in same and 'id="no-differences"' in same


def test_the_page_speaks_english_in_an_english_session(browser, cast):
    revised = publish(cast.db, _revised(), by_user_id=None)
    b = browser("admin")
    b.get("/lang/en")
    page = _compare(b, f"{SENIOR}@{V}", f"{SENIOR}@{revised.version}").get_data(as_text=True)
    assert "The criteria differ in 2 places, 2 of them numbers." in page
    assert "Changed" in page and "Only differences" in page
    assert "Achievements" in page  # the rows' labels too


@pytest.mark.parametrize(("query", "status", "message"), [
    ("", 400, "请指定要比较的两个版本"),
    (f"left={SENIOR}@{V}", 400, "请指定要比较的两个版本"),
    (f"left={SENIOR}@{V}&right=", 400, "请指定要比较的两个版本"),
    (f"left={SENIOR}@{V}&right=Not%20An%20Id", 400, "无法识别要比较的版本“Not An Id”"),
    (f"left={SENIOR}@v2&right={SENIOR}", 400, "无法识别要比较的版本"),
    (f"left={SENIOR}@1@2&right={SENIOR}", 400, "无法识别要比较的版本"),
    (f"left={SENIOR}@{'9' * 40}&right={SENIOR}", 400, "无法识别要比较的版本"),
    (f"left={SENIOR}@%C2%B2&right={SENIOR}", 400, "无法识别要比较的版本"),
    (f"left={'a' * 500}&right={SENIOR}", 400, "无法识别要比较的版本"),
    (f"left=%00&right={SENIOR}", 400, "无法识别要比较的版本"),
    (f"left=no-such-standard@1&right={SENIOR}", 404, "评价标准“no-such-standard”没有第 1 版"),
    (f"left=no-such-standard&right={SENIOR}", 404, "评价标准“no-such-standard”不存在"),
    (f"left={SENIOR}@0&right={SENIOR}", 404, f"评价标准“{SENIOR}”没有第 0 版"),
    (f"left={SENIOR}&right={SENIOR}@{V + 7}", 404, f"没有第 {V + 7} 版"),
])
def test_bad_parameters_get_a_clear_page_never_a_500(browser, query, status, message):
    response = browser("admin").get(f"/admin/standards/compare?{query}")
    assert response.status_code == status
    assert message in html.unescape(response.get_data(as_text=True))


def test_only_administrators_compare(browser):
    url = f"/admin/standards/compare?left={SENIOR}@{V}&right={SENIOR}"
    assert browser("zhang").get(url).status_code == 403
    assert browser(None).get(url).status_code in (302, 303)


# --------------------------------------------------------------------------------------------- the history


def _history(page: str) -> dict[int, str]:
    """Each history row's HTML by version."""
    table = page[page.index('id="version-history"'):]
    table = table[:table.index("</table>")]
    return {int(m.group(1)): m.group(2) for m in re.finditer(r'<tr data-version="(\d+)"[^>]*>(.*?)</tr>', table, re.S)}


def test_the_history_shows_dates_origins_and_the_cases_each_version_judges(browser, cast):
    submitted = cast.open("industry-session")
    engine.fire(cast.db, submitted, "submit", cast.applicant)
    cast.open("industry-session")  # a draft naming the standard: the version in force will judge it
    withdrawn = cast.open("industry-session")
    engine.fire(cast.db, withdrawn, "withdraw", cast.applicant, data={"reason": "改投其他评审会"})
    ahead = publish(cast.db, _revised(effective_from="2099-01-01", effective_until=None), by_user_id=cast.admin.user_id,
                    based_on=(SENIOR, V))
    b = browser("admin")
    page = b.get(f"/admin/standards/{SENIOR}/v{ahead.version}").get_data(as_text=True)
    for header in ("生效日期", "依据来源（复制/修订自）", "判定的申报数"):
        assert header in page
    rows = _history(page)
    assert set(rows) == {V, ahead.version}
    assert "现行" in rows[V] and 'data-cases="1"' in rows[V] and 'data-pending="1"' in rows[V]
    assert "另有 1 件尚未提交的申报选择了本标准" in rows[V] and SEED.effective_from.isoformat() in rows[V]
    assert "待生效" in rows[ahead.version] and 'data-cases="0"' in rows[ahead.version]
    assert "data-pending" not in rows[ahead.version] and "2099-01-01" in rows[ahead.version]
    assert f"修订自 v{V}" in rows[ahead.version] and "系统管理员" in rows[ahead.version]
    compare = re.search(r'class="compare-previous" href="([^"]+)"', rows[ahead.version]).group(1)
    assert "compare-origin" not in rows[ahead.version]  # the same comparison as with the previous version
    assert "compare-previous" not in rows[V]  # the first version has none before it
    diff = b.get(html.unescape(compare)).get_data(as_text=True)
    assert "条件有 2 处不同，其中数值 2 处。" in diff


def test_a_copy_links_the_comparison_with_its_original(browser, cast):
    copy = publish(cast.db, _revised(id="smart-vehicle-senior", effective_until=None), by_user_id=None,
                   based_on=(SENIOR, V))
    page = browser("admin").get(f"/admin/standards/{copy.id}/v1").get_data(as_text=True)
    row = _history(page)[1]
    assert f"复制自 {SENIOR} v{V}" in row and 'data-pending="0"' in row
    origin = re.search(r'class="compare-origin" href="([^"]+)"', row).group(1)
    diff = browser("admin").get(html.unescape(origin)).get_data(as_text=True)
    assert "条件有 2 处不同，其中数值 2 处。" in diff and "smart-vehicle-senior" in diff
