"""The structured standards editor's form, without a web server: standards → inputs → standards, and every
problem beside its input in Chinese (or English), never in the validation library's words."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from web import standards_form as sf
from workflow.eligibility.standards import load_standard_dir
from workflow.eligibility.standards_validation import check_standard

SEEDS = load_standard_dir()
HUNAN = "hunan-sme-advanced-manufacturing-senior"


def posted(sections: list[sf.Node]) -> MultiDict:
    """What a browser posts for the rendered inputs, left as they are."""
    data = MultiDict()
    for section in sections:
        for n in section.walk():
            if n.kind == "group" and n.optional and n.enabled:
                data.add(n.name + ".__on", "1")
            if n.kind == "group" and n.path.rsplit(".", 1)[-1].isdigit():
                data.add(n.name + ".__row", "1")
            if n.kind in ("text", "textarea", "date", "select", "csv"):
                data.add(n.name, n.value)
            elif n.kind == "text2":
                data.add(n.name + ".zh", n.value["zh"])
                data.add(n.name + ".en", n.value["en"])
            elif n.kind == "switch" and n.value:
                data.add(n.name, "1")
            elif n.kind == "checks":
                for v in n.value:
                    data.add(n.name, v)
            elif n.kind == "threshold":
                for key in ("value", "tag", "source"):
                    data.add(f"{n.name}.{key}", n.value[key])
            elif n.kind == "sourced":
                if n.enabled:
                    data.add(n.name + ".__on", "1")
                for key in ("tag", "source"):
                    data.add(f"{n.name}.{key}", n.value[key])
    return data


def edited(standard_id: str, changes: dict[str, str], lang: str = "zh"):
    """Post the seed standard's form with ``changes`` (input name without the prefix → text); the check's result."""
    sections, _ = sf.build(sf.document_of(SEEDS[standard_id]), [], lang)
    data = posted(sections)
    for name, value in changes.items():
        data.setlist(sf.PREFIX + name, [value])
    doc = sf.parse(data)
    return doc, check_standard({**doc, "version": 1})


def errors_at(doc, problems, lang="zh") -> dict[str, list[str]]:
    sections, orphans = sf.build(doc, problems, lang)
    assert not orphans
    return {n.path: n.errors for s in sections for n in s.walk() if n.errors}


@pytest.mark.parametrize("standard_id", sorted(SEEDS))
def test_every_seed_standard_survives_the_form_unchanged(standard_id):
    standard = SEEDS[standard_id]
    sections, orphans = sf.build(sf.document_of(standard), [], "zh")
    assert not orphans
    doc = sf.parse(posted(sections))
    result, problems = check_standard({**doc, "version": standard.version})
    assert problems == []
    assert result == standard


def test_every_layer_has_its_section_and_every_number_its_source_beside_it():
    sections, _ = sf.build(sf.document_of(SEEDS[HUNAN]), [], "zh")
    titles = [s.label for s in sections]
    assert titles[0] == "基本信息"
    assert {"基本条件", "学历资历路径", "业绩成果", "代表作", "直接申报路径", "技能贯通"} <= set(titles)
    filled = {n.path for s in sections for n in s.walk() if n.kind == "threshold" and n.value["value"] != ""}
    numbers = {path.replace("[", ".").replace("]", "") for path, t in SEEDS[HUNAN].thresholds()
               if hasattr(t, "value")}
    assert filled == numbers
    shown = [n for s in sections for n in s.walk() if n.kind == "threshold"]
    assert all(set(n.value) == {"value", "tag", "source"} and n.options for n in shown)


@pytest.mark.parametrize(("change", "path", "zh", "en"), [
    ({"achievements.k.value": "9"}, "achievements.k", "要求具备9条，但只列出了8条", "asks for 9 of only 8 items"),
    ({"direct.routes.1.industry_years.value": "-1"}, "direct.routes.1.industry_years", "不能小于 0",
     "Must be at least 0"),
    ({"direct.routes.1.industry_years.value": "十二"}, "direct.routes.1.industry_years", "请填写整数",
     "Enter a whole number"),
    ({"name.zh": ""}, "name", "必填", "Required"),
    ({"id": "Smart Car"}, "id", "只能使用小写英文字母", "Use lower-case letters"),
    ({"effective_until": "2020-01-01"}, "effective_until", "失效日期不能早于生效日期",
     "must not be before effective_from"),
    ({"direct.achievements_k.value": "0"}, "direct.achievements_k", "不能少于正常申报须具备的条数",
     "must be at least the normal route's k"),
])
def test_each_problem_sits_beside_its_input_in_the_language_of_the_page(change, path, zh, en):
    doc, (result, problems) = edited(HUNAN, change)
    assert result is None
    assert any(zh in m for m in errors_at(doc, problems, "zh")[path])
    assert any(en in m for m in errors_at(doc, problems, "en")[path])


def test_an_english_name_is_optional():
    _doc, (result, problems) = edited(HUNAN, {"name.en": "", "notes.en": ""})
    assert problems == []
    assert result.name.en == result.name.zh
    assert result.notes.en == result.notes.zh


def test_an_optional_number_left_blank_is_not_required():
    doc, (result, problems) = edited(HUNAN, {"direct.routes.0.industry_years.value": ""})
    # The route then has neither years: the rule between fields says so, at the route.
    assert result is None
    assert "二者须且只能填一项" in " ".join(errors_at(doc, problems)["direct.routes.0"])
    doc, (result, problems) = edited("national-engineering-senior", {"basic.max_age.value": ""})
    assert problems == [] and result.basic.max_age is None


def test_switching_a_layer_off_removes_it_and_on_again_starts_it_sensibly():
    sections, _ = sf.build(sf.document_of(SEEDS[HUNAN]), [], "zh")
    data = posted(sections)
    data.pop(sf.PREFIX + "bridging.__on")
    doc = sf.parse(data)
    result, problems = check_standard({**doc, "version": 1})
    assert problems == [] and result.bridging is None
    sections, _ = sf.build(doc, [], "zh")
    bridging = next(s for s in sections if s.path == "bridging")
    assert not bridging.enabled and bridging.children  # shown, switched off, ready to fill in


@pytest.mark.parametrize("op", ["add:education_routes", "add:direct.routes", "add:achievements.items",
                                "add:achievements.items.5.branches", "add:bridging.map",
                                "add:work_experience.items"])
def test_adding_a_row_appends_a_blank_one_with_a_fresh_id(op):
    doc = sf.document_of(SEEDS[HUNAN])
    path = op.partition(":")[2]
    before = len(sf._container(doc, path)[0][sf._container(doc, path)[1]] or [])
    assert sf.apply_row_edit(doc, op)
    rows = sf._container(doc, path)[0][sf._container(doc, path)[1]]
    assert len(rows) == before + 1
    if "id" in rows[-1]:
        assert rows[-1]["id"] not in {r["id"] for r in rows[:-1]}


def test_removing_a_row_and_refusing_what_names_no_row():
    doc = sf.document_of(SEEDS[HUNAN])
    ids = [r["id"] for r in doc["direct"]["routes"]]
    assert sf.apply_row_edit(doc, "remove:direct.routes.1")
    assert [r["id"] for r in doc["direct"]["routes"]] == ids[:1] + ids[2:]
    for op in ("remove:direct.routes.99", "remove:direct", "add:name", "add:nothing.here", "explode:x",
               "remove:", "add:", "remove:basic.not_retired"):
        assert not sf.apply_row_edit(doc, op), op


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(["achievements.k.value", "direct.routes.0.leader_years.value", "id", "level",
                        "effective_from", "achievements.items.0.kinds", "bridging.map.0.skill_level",
                        "exceptional.combine", "name.zh", "representative_works.kinds"]),
       st.one_of(st.text(max_size=30), st.integers(-10**30, 10**30).map(str),
                 st.sampled_from(["２", "1e3", "NaN", "0x10", "", " ", "2026-02-30", "moon", "-0"])))
def test_no_input_ever_shows_the_libraries_words(name, value):
    doc, (_result, problems) = edited(HUNAN, {name: value})
    for lang in ("zh", "en"):
        sections, orphans = sf.build(doc, problems, lang)
        messages = orphans + [m for s in sections for n in s.walk() for m in n.errors]
        assert len(messages) == len(problems)
        for m in messages:
            assert "Input should" not in m and "String should" not in m and "pydantic" not in m, m
