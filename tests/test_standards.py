"""Occupation standards as data: seeds load and round-trip through YAML; broken files name ``file:line``."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from workflow.eligibility.profiles import AchievementKind, EducationLevel, SkillLevel, TitleLevel, WorkKind
from workflow.eligibility.standards import (
    STANDARDS_DIR,
    Standard,
    Tag,
    Threshold,
    dump_standard_yaml,
    load_standard_dir,
    load_standard_yaml,
    parse_standard,
)
from workflow.pipeline.yamlsource import DefinitionError

SEED_FILES = sorted(STANDARDS_DIR.glob("*.yaml"))

EXPECTED_SEEDS = {
    "national-engineering-assistant": ("工程", "助理", "助理工程师"),
    "national-engineering-engineer": ("工程", "中级", "工程师"),
    "national-engineering-senior": ("工程", "副高", "高级工程师"),
    "national-engineering-professor": ("工程", "正高", "正高级工程师"),
    "hunan-sme-advanced-manufacturing-senior": ("工程", "副高", "高级工程师"),
    "hunan-sme-hr-senior-economist": ("经济", "副高", "高级经济师"),
    "industrial-internet-engineer": ("工程", "中级", "工程师"),
}


# ------------------------------------------------------------------------------------------------------------
# The seeds
# ------------------------------------------------------------------------------------------------------------


def test_the_seed_directory_holds_the_expected_standards():
    standards = load_standard_dir()
    assert {k: (s.series, s.level.value, s.title) for k, s in standards.items()} == EXPECTED_SEEDS


@pytest.mark.parametrize("path", SEED_FILES, ids=[p.stem for p in SEED_FILES])
def test_seed_loads_and_is_named_after_its_id(path: Path):
    standard = load_standard_yaml(path)
    assert standard.id == path.stem
    assert standard.version >= 1
    assert standard.basic.continuing_education is not None
    assert standard.basic.continuing_education.hours_per_year.value == 90


@pytest.mark.parametrize("path", SEED_FILES, ids=[p.stem for p in SEED_FILES])
def test_seed_round_trips_through_yaml(path: Path):
    standard = load_standard_yaml(path)
    text = dump_standard_yaml(standard)
    again = load_standard_yaml(text)
    assert again == standard
    assert dump_standard_yaml(again) == text  # the dump is stable, so diffs of edited standards stay small


@pytest.mark.parametrize("path", SEED_FILES, ids=[p.stem for p in SEED_FILES])
def test_seed_round_trips_through_json(path: Path):
    standard = load_standard_yaml(path)
    assert Standard.model_validate(standard.model_dump(mode="json")) == standard


@pytest.mark.parametrize("path", SEED_FILES, ids=[p.stem for p in SEED_FILES])
def test_every_requirement_of_a_seed_states_its_provenance(path: Path):
    standard = load_standard_yaml(path)
    entries = standard.thresholds()
    assert entries, "a standard without any sourced requirement"
    for where, sourced in entries:
        assert sourced.tag in (Tag.SEEN, Tag.REPORTED, Tag.CONFIGURED), where
        assert sourced.source.strip(), where
        # [C] means "no source found": it must say it is our default, never dress up as a citation.
        if sourced.tag == Tag.CONFIGURED:
            assert "默认" in sourced.source, (where, sourced.source)


def test_the_seeds_encode_the_numbers_of_the_rulebook():
    s = load_standard_dir()
    engineer, senior, professor = (s["national-engineering-engineer"], s["national-engineering-senior"],
                                   s["national-engineering-professor"])
    routes = [(r.min_education, r.ladder_years.value if r.ladder_years else None)
              for r in engineer.education_routes]
    assert routes == [(EducationLevel.DOCTORATE, None), (EducationLevel.MASTER, 2),
                      (EducationLevel.COLLEGE, 4)]
    assert [(r.min_education, r.ladder_years.value) for r in senior.education_routes if r.ladder_years] \
        == [(EducationLevel.DOCTORATE, 2), (EducationLevel.BACHELOR, 5)]
    assert professor.education_routes[0].ladder_years == Threshold(
        value=5, tag="R", source=professor.education_routes[0].ladder_years.source)
    # §7.2: national waits 2/3/4; the Hunan channel shortens 技师 and 高级技师 to 0, never 高级工.
    assert {(e.skill_level, e.title, e.waiting_years.value,
             e.relaxed_waiting_years.value if e.relaxed_waiting_years else None) for e in senior.bridging.map} == {
        (SkillLevel.GRADE_3, "助理工程师", 2, None), (SkillLevel.GRADE_2, "工程师", 3, 0),
        (SkillLevel.GRADE_1, "高级工程师", 4, 0)}
    assert senior.bridging.relaxed_waiting_years is None
    assistant = s["national-engineering-assistant"]
    assert [(e.skill_level, e.waiting_years.value, e.relaxed_waiting_years) for e in assistant.bridging.map] == [
        (SkillLevel.GRADE_3, 2, None)]
    # §7.4: 破格 by 2 正高级工程师 of the same specialty
    assert senior.exceptional.recommendations_by_senior_experts.value == 2
    assert senior.exceptional.recommenders_same_specialty

    # §7.3: the Hunan SME standard as published
    sme = s["hunan-sme-advanced-manufacturing-senior"]
    assert [item.id for item in sme.achievements.items] == [str(n) for n in range(1, 9)]
    assert (sme.achievements.k.value, sme.achievements.k.tag) == (1, Tag.SEEN)
    assert (sme.direct.achievements_k.value, sme.direct.achievements_k.tag) == (2, Tag.SEEN)
    assert sme.exceptional is None
    assert [(r.id, r.min_education, r.industry_years.value if r.industry_years else None, r.after_junior_title,
             r.leader_years.value if r.leader_years else None, [k.value for k in r.firm_recognitions])
            for r in sme.direct.routes] == [
        ("master-12", EducationLevel.MASTER, 12, False, None, []),
        ("bachelor-13", EducationLevel.BACHELOR, 13, True, None, []),
        ("college-15", EducationLevel.COLLEGE, 15, True, None, []),
        ("leader-giant-champion-3", None, None, False, 3, ["national_little_giant", "manufacturing_single_champion"]),
        ("leader-giant-5", None, None, False, 5, ["national_little_giant"])]
    assert [(r.min_education, r.ladder_years.value) for r in sme.education_routes] == [
        (EducationLevel.DOCTORATE, 2), (EducationLevel.BACHELOR, 5)]  # no invented direct rows
    item6 = sme.achievements.items[5]
    assert item6.max_rank.value == 3 and [b.min_count.value for b in item6.branches] == [1, 3]
    assert sme.achievements.items[0].min_level.value == "provincial" and sme.achievements.items[7].expert_judgement
    assert sme.representative_works.technical_document_min_chars.value == 5000
    assert sme.effective_until.isoformat() == "2027-06-22"

    hr = s["hunan-sme-hr-senior-economist"]
    assert (hr.series, hr.specialty, hr.ladder.title) == ("经济", "人力资源管理", "经济师")
    for standard in s.values():  # where a standard asks for 代表作, papers are never the only way
        works = standard.representative_works
        assert works is None or any(k != WorkKind.PAPER for k in works.kinds), standard.id


def test_load_accepts_text_a_path_or_a_path_string(tmp_path: Path):
    text = MINIMAL
    file = tmp_path / "demo.yaml"
    file.write_text(text, encoding="utf-8")
    assert load_standard_yaml(text) == load_standard_yaml(file) == load_standard_yaml(str(file))


# ------------------------------------------------------------------------------------------------------------
# Broken files: every mistake names file:line
# ------------------------------------------------------------------------------------------------------------

MINIMAL = """\
id: demo-senior
version: 1
name: {zh: 演示标准, en: Demo standard}
series: 工程
specialty: 演示
level: 副高
title: 高级工程师
effective_from: 2024-01-01
source: "测试用"
basic:
  not_retired: {tag: R, source: "在职"}
  continuing_education:
    hours_per_year: {value: 90, tag: R, source: "人社部令第25号"}
    years_checked: {value: 3, tag: C, source: "默认值"}
ladder:
  level: 中级
  title: 工程师
  tag: S
  source: "基本标准"
education_routes:
  - id: bachelor
    label: {zh: 本科, en: Bachelor}
    min_education: 本科
    ladder_years: {value: 5, tag: S, source: "基本标准"}
achievements:
  kinds: [patent_invention, key_project]
  k: {value: 1, tag: S, source: "测试"}
representative_works:
  kinds: [paper, patent, technical_document]
  min_count: {value: 1, tag: C, source: "默认值"}
  technical_document_min_chars: {value: 5000, tag: S, source: "rules.md"}
exceptional:
  achievements_k: {value: 2, tag: S, source: "测试"}
bridging:
  map:
    - {skill_level: 高级技师, title: 高级工程师, title_level: 副高,
       waiting_years: {value: 4, tag: S, source: "国家贯通意见"}}
"""


def broken(old: str, new: str) -> str:
    """MINIMAL with one exact piece of text replaced (it must occur exactly once)."""
    assert MINIMAL.count(old) == 1, old
    return MINIMAL.replace(old, new)


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line containing ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_minimal_fixture_is_valid():
    standard = parse_standard(MINIMAL, "minimal.yaml")
    assert standard.level == TitleLevel.DEPUTY_SENIOR
    assert standard.achievements.kinds == [AchievementKind.PATENT_INVENTION, AchievementKind.KEY_PROJECT]


BROKEN = [
    # (what is wrong, old text, new text, marker on the blamed line, message fragment)
    ("wrong type", "version: 1", "version: two", "version: two", "version: Input should be a valid integer"),
    ("wrong type, nested", "ladder_years: {value: 5,", "ladder_years: {value: five,", "value: five",
     "education_routes.0.ladder_years.value: Input should be a valid integer"),
    ("boolean for a number", "k: {value: 1,", "k: {value: true,", "k: {value: true", "achievements.k.value"),
    ("negative threshold", "min_count: {value: 1,", "min_count: {value: -1,", "min_count: {value: -1",
     "greater than or equal to 0"),
    ("unknown field", "    min_education: 本科\n", "    min_education: 本科\n    ladder_yaers: 5\n",
     "ladder_yaers", "education_routes.0.ladder_yaers: unknown field (did you mean 'ladder_years'?)"),
    ("unknown top-level field", "series: 工程", "series: 工程\nowner: bob", "owner: bob",
     "owner: unknown field (allowed: id, version, name"),
    ("missing field", "    min_education: 本科\n", "", "- id: bachelor",
     "education_routes.0.min_education: required field is missing"),
    ("label without Chinese", "{zh: 本科, en: Bachelor}", "{en: Bachelor}", "label: {en: Bachelor}",
     "education_routes.0.label.zh: required field is missing"),
    ("bad level", "\nlevel: 副高", "\nlevel: 特高", "level: 特高",
     "level: Input should be '初级', '助理', '中级', '副高' or '正高'"),
    ("bad education level", "min_education: 本科", "min_education: 学士", "min_education: 学士",
     "education_routes.0.min_education: Input should be"),
    ("bad provenance tag", "k: {value: 1, tag: S,", "k: {value: 1, tag: X,", "tag: X",
     "achievements.k.tag: Input should be 'S', 'R' or 'C'"),
    ("bad achievement kind", "kinds: [patent_invention, key_project]",
     "kinds: [patent_invention, moon_landing]", "moon_landing", "achievements.kinds.1: Input should be"),
    ("bad slug", "id: demo-senior", "id: Demo Senior", "id: Demo Senior", "id: String should match pattern"),
    ("impossible date", "effective_from: 2024-01-01", "effective_from: 2024-13-01", "effective_from",
     "impossible date '2024-13-01'"),
    ("date of the wrong form", "effective_from: 2024-01-01", "effective_from: next spring", "effective_from",
     "effective_from: Input should be a valid date"),
    ("exceptional below senior", "\nlevel: 副高", "\nlevel: 中级", "exceptional:",
     "exceptional: the 破格 route exists only for 副高 and 正高 standards, not 中级"),
    ("ladder not below the level", "  level: 中级\n  title: 工程师", "  level: 正高\n  title: 工程师",
     "  level: 正高", "ladder.level: the ladder title level 正高 must be below 副高"),
    ("papers as the only way", "kinds: [paper, patent, technical_document]", "kinds: [paper]",
     "kinds: [paper]", "must offer alternatives to papers"),
    ("technical document without its length",
     '  technical_document_min_chars: {value: 5000, tag: S, source: "rules.md"}\n', "",
     "representative_works:", "technical_document_min_chars: is required when technical_document"),
    ("weaker exceptional k", "achievements_k: {value: 2,", "achievements_k: {value: 0,", "achievements_k",
     "exceptional.achievements_k: must be at least the normal route's k (1)"),
    ("bridging leads elsewhere", "{skill_level: 高级技师, title: 高级工程师,",
     "{skill_level: 高级技师, title: 正高级工程师,", "  map:",
     "bridging.map: no entry leads to this standard's title '高级工程师'"),
    ("ends before it starts", "effective_from: 2024-01-01",
     "effective_from: 2024-01-01\neffective_until: 2023-01-01", "effective_until",
     "effective_until: must not be before effective_from"),
    ("duplicate key", "series: 工程", "series: 工程\nseries: 经济", "series: 经济", "duplicate key 'series'"),
    ("YAML syntax", "name: {zh: 演示标准, en: Demo standard}", "name: {zh: 演示标准, en: Demo standard",
     "series: 工程", "YAML syntax"),
]


@pytest.mark.parametrize(("what", "old", "new", "marker", "fragment"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_standard_names_file_and_line(tmp_path: Path, what: str, old: str, new: str, marker: str,
                                             fragment: str):
    text = broken(old, new)
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_standard_yaml(path)
    message = str(caught.value)
    expected = f"{path}:{line_of(text, marker)}: "
    matching = [line for line in message.splitlines() if fragment in line]
    assert matching, message
    assert matching[0].startswith(expected), f"{what}: expected {expected!r} in {message!r}"


def test_a_missing_top_level_field_points_at_the_start_of_the_file(tmp_path: Path):
    path = tmp_path / "no-title.yaml"
    path.write_text(broken("title: 高级工程师\n", ""), encoding="utf-8")
    with pytest.raises(DefinitionError, match=rf"{path}:1: title: required field is missing"):
        load_standard_yaml(path)


def test_all_problems_are_reported_at_once(tmp_path: Path):
    text = broken("version: 1", "version: two").replace("\nlevel: 副高", "\nlevel: 特高")
    with pytest.raises(DefinitionError) as caught:
        load_standard_yaml(text, source="many.yaml")
    lines = str(caught.value).splitlines()
    assert any(line.startswith("many.yaml:2: version") for line in lines)
    assert any(line.startswith("many.yaml:6: level") for line in lines)
    assert len(caught.value.problems) == 2


def test_a_list_is_not_a_standard():
    with pytest.raises(DefinitionError, match="<standard>:1: a standard must be a YAML mapping"):
        load_standard_yaml("- just\n- a list\n")


def test_unreadable_file_is_a_definition_error(tmp_path: Path):
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(DefinitionError, match=r"nowhere\.yaml: cannot read"):
        load_standard_yaml(missing)


def test_directory_loader_checks_file_names_and_reports_every_file(tmp_path: Path):
    (tmp_path / "demo-senior.yaml").write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "wrong-name.yaml").write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "broken.yaml").write_text(broken("version: 1", "version: two"), encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_standard_dir(tmp_path)
    message = str(caught.value)
    wrong = tmp_path / "wrong-name.yaml"
    assert f"{wrong}:1: file name must be the standard id (demo-senior.yaml)" in message
    assert f"{tmp_path / 'broken.yaml'}:2: version" in message


def test_incoherent_data_from_python_is_a_validation_error():
    data = parse_standard(MINIMAL).model_dump(mode="json")
    data["level"] = "中级"
    with pytest.raises(ValidationError, match="the 破格 route exists only for 副高 and 正高 standards"):
        Standard.model_validate(data)


def test_standards_are_immutable():
    standard = parse_standard(MINIMAL)
    with pytest.raises(ValidationError):
        standard.version = 2  # type: ignore[misc]


def test_labels_exist_for_every_vocabulary_used_by_standards():
    assert Tag.SEEN.zh == "已见公开来源" and Tag.CONFIGURED.en.startswith("No source found")
    assert TitleLevel.choices("en")[0] == ("初级", "Junior (technician grade)")
    assert SkillLevel.label_map()["首席技师"] == {"zh": "首席技师", "en": "Chief technician"}
    assert AchievementKind.FIRST_OF_KIND_EQUIPMENT.zh.startswith("首台（套）")
