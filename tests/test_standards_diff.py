"""Two standards side by side: one row per requirement (its number, tag and source together), elements matched by
id, identity apart from criteria."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from workflow.eligibility.standards import STANDARDS_DIR, Standard, load_standard_dir, load_standard_yaml
from workflow.eligibility.standards_diff import diff_standards

SME = load_standard_yaml(STANDARDS_DIR / "hunan-sme-advanced-manufacturing-senior.yaml")
"""The richest seed: education and direct routes, numbered achievement items with branches, bridging."""


def _changed(change: Callable[[dict[str, Any]], None], base: Standard = SME) -> Standard:
    """``base`` with ``change`` applied to its JSON form (validated, as a published version would be)."""
    data = base.model_dump(mode="json")
    change(data)
    return Standard.model_validate(data)


def _route(data: dict[str, Any]) -> None:
    data["education_routes"].insert(1, {"id": "master", "label": {"zh": "硕士，满4年", "en": "Master's, 4 years"},
                                        "min_education": "硕士",
                                        "ladder_years": {"value": 4, "tag": "C", "source": "示例"}})


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change setting the value at dotted ``path`` (numbers index lists)."""
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value

    return change


# (what changes, the change, criteria rows changed, groups added, groups removed, identity rows changed)
CASES = [
    ("nothing", lambda d: None, [], 0, 0, []),
    ("one threshold's value", _set("direct.routes.1.industry_years.value", 14),
     ["direct.routes[bachelor-13].industry_years"], 0, 0, []),
    ("one threshold's source text only", _set("direct.routes.1.industry_years.source", "湘人社规〔2022〕22号 第4条"),
     ["direct.routes[bachelor-13].industry_years"], 0, 0, []),
    ("one threshold's tag only", _set("achievements.k.tag", "R"), ["achievements.k"], 0, 0, []),
    ("the k of achievements and one route's years",
     lambda d: (_set("achievements.k.value", 2)(d), _set("education_routes.1.ladder_years.value", 6)(d)),
     ["education_routes[master-or-bachelor].ladder_years", "achievements.k"], 0, 0, []),
    ("a route inserted in the middle", _route, [], 1, 0, []),
    ("a route removed", lambda d: d["direct"]["routes"].pop(2), [], 0, 1, []),
    ("routes reordered", lambda d: d["direct"]["routes"].reverse(), [], 0, 0, []),
    ("kinds reordered", lambda d: d["representative_works"]["kinds"].reverse(), [], 0, 0, []),
    ("a kind added", lambda d: d["achievements"]["items"][5]["kinds"].append("standard_drafted"),
     ["achievements.items[6].kinds"], 0, 0, []),
    ("a switch", _set("achievements.items.0.needs_appraisal", True), ["achievements.items[1].needs_appraisal"],
     0, 0, []),
    ("a route's label, English only", _set("education_routes.0.label.en", "Doctorate, 2 years after"),
     ["education_routes[doctorate].label"], 0, 0, []),
    ("an optional requirement added", _set("basic.max_age", {"value": 55, "tag": "C", "source": "示例"}), [], 1, 0,
     []),
    ("the 台阶 title", _set("ladder.title", "工程师（含助理研究员）"), ["ladder.title"], 0, 0, []),
    ("renamed for another occupation",
     lambda d: d.update(name={"zh": "智能网联汽车高级工程师评价标准", "en": "ICV: Senior engineer"},
                        specialty="智能网联汽车"), [], 0, 0, ["name", "specialty"]),
    ("a bridging entry's years", _set("bridging.map.0.waiting_years.value", 5),
     ["bridging.map[高级技师→高级工程师].waiting_years"], 0, 0, []),
]


@pytest.mark.parametrize(("what", "change", "changed", "added", "removed", "identity"), CASES,
                         ids=[c[0] for c in CASES])
def test_rows_that_differ(what, change, changed, added, removed, identity):
    diff = diff_standards(SME, _changed(change))
    assert [r.path for r in diff.criteria if r.status == "changed"] == changed, what
    assert len({r.group for r in diff.criteria if r.status == "added"}) == added
    assert len({r.group for r in diff.criteria if r.status == "removed"}) == removed
    assert [r.path for r in diff.identity if r.status != "same"] == identity
    assert diff.differences == len(changed) + added + removed
    assert diff.changed_rows() == [r for r in diff.criteria if r.status != "same"]


def test_a_sourced_requirement_is_one_row_with_its_provenance_on_each_side():
    diff = diff_standards(SME, _changed(_set("direct.routes.1.industry_years.source", "新的来源")))
    (row,) = diff.changed_rows()
    assert (row.left.zh, row.left.tag) == ("13", "S") and row.right.source == "新的来源"
    assert row.left.source != row.right.source and row.group == row.path
    assert not [r for r in diff.criteria if r.path.startswith(row.path + ".")]  # no separate tag/source rows


def test_an_inserted_route_shows_its_content_as_added_rows_of_one_group():
    diff = diff_standards(SME, _changed(_route))
    added = [r for r in diff.criteria if r.status == "added"]
    assert {r.group for r in added} == {"education_routes[master]"}
    assert {r.path for r in added} == {"education_routes[master].label", "education_routes[master].min_education",
                                       "education_routes[master].related_major",
                                       "education_routes[master].ladder_years"}
    assert all(r.left is None and r.right is not None for r in added)
    paths = [r.path for r in diff.criteria if r.path.startswith("education_routes")]
    assert paths.index("education_routes[master].label") < paths.index("education_routes[master-or-bachelor].label")
    # the other way round the same route is removed
    back = diff_standards(_changed(_route), SME)
    assert {r.group for r in back.criteria if r.status == "removed"} == {"education_routes[master]"}
    assert all(r.right is None for r in back.criteria if r.status == "removed")


def test_a_removed_optional_part_is_one_group_and_a_requirement_with_more_to_it_keeps_its_fields():
    diff = diff_standards(SME, _changed(lambda d: d.pop("bridging")))
    assert {r.group for r in diff.criteria if r.status == "removed"} == {"bridging"}
    no_ladder = _changed(lambda d: (d.pop("ladder"), [r.pop("ladder_years") for r in d["education_routes"]]))
    rows = {r.path: r for r in diff_standards(no_ladder, SME).criteria if r.path.startswith("ladder")}
    assert set(rows) == {"ladder", "ladder.level", "ladder.title", "ladder.waivable"}
    assert {r.status for r in rows.values()} == {"added"} and {r.group for r in rows.values()} == {"ladder"}
    assert rows["ladder"].right.tag == "S" and rows["ladder.title"].right.zh == "工程师"


def test_identity_rows_are_always_there_and_say_what_an_empty_value_means():
    diff = diff_standards(SME, _changed(lambda d: d.update(effective_until=None, version=3)))
    rows = {r.path: r for r in diff.identity}
    assert list(rows) == ["id", "version", "name", "series", "specialty", "level", "title", "effective_from",
                          "effective_until", "source", "notes"]
    assert rows["effective_until"].status == "changed" and rows["effective_until"].right.text("zh") == "长期"
    assert rows["effective_until"].right.text("en") == "No end date" and rows["version"].status == "changed"
    assert rows["level"].left.text("zh") == "副高级" and rows["level"].left.text("en") == "Associate senior"
    assert diff.differences == 0 and diff.identity_differences == 2


def test_a_text_that_differs_in_the_other_language_shows_that_language_too():
    diff = diff_standards(SME, _changed(_set("education_routes.0.label.en", "PhD")))
    (row,) = diff.changed_rows()
    assert row.right.text("zh").endswith("（英文：PhD）") and row.right.text("en") == "PhD"


def test_numbered_items_are_labelled_by_their_number_not_their_position():
    diff = diff_standards(SME, _changed(lambda d: d["achievements"]["items"].pop(0)))
    # only the removal: items 2 … 8 are matched by their numbers, not shifted by one
    assert {r.group for r in diff.changed_rows()} == {"achievements.items[1]"} and diff.differences == 1
    row = next(r for r in diff.criteria if r.path == "achievements.items[6].max_rank")
    assert row.status == "same" and "6" in row.label_zh


def test_different_standards_are_compared_too():
    seeds = load_standard_dir()
    diff = diff_standards(seeds["national-engineering-senior"], SME)
    assert next(r.path for r in diff.identity if r.status == "changed") == "id"
    assert diff.differences > 0 and diff.left.id == "national-engineering-senior"
    assert any(r.status == "added" and r.path.startswith("direct.routes[") for r in diff.criteria)
    assert diff.left.effective_from == date(2019, 2, 1)
