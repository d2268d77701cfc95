"""The applicant's side of a dossier: the declared profile and the case's declared details.

The profile (education, titles held, skill certificates, work history, achievements, representative works…)
is stored as JSON in ``applicant_profile.body`` in the shape of :class:`workflow.eligibility.profiles.ApplicantProfile`,
which the eligibility engine reads. :data:`PROFILE_SECTIONS` describes how a form presents it, and
:func:`validate_profile` turns form input into that shape, reporting every problem by section, row and field
so a form can show them all at once (一次性告知 applies to our own forms too).

The case's declared details (target title, specialty, the fallback channel's account evidence) may change
only while the case is with the applicant; they are not state, so no event is written, but the update is
guarded by the case's version so a stale form cannot overwrite a newer one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlalchemy import insert, select, update

from workflow.access.identity import birth_date_mismatch, id_number_problem, normalise_id_number
from workflow.access.roles import Actor
from workflow.db import Database
from workflow.eligibility.profiles import (
    PROFILE_SCHEMA_VERSION,
    Achievement,
    AchievementKind,
    Degree,
    EducationLevel,
    FirmRecognition,
    FirmRole,
    ProfileInvalid,
    RecognitionLevel,
    RepresentativeWork,
    SanctionKind,
    SchoolType,
    SkillLevel,
    TechnicalClass,
    TitleLevel,
    Vocabulary,
    WorkKind,
    parse_profile,
    upgrade_profile_body,
)
from workflow.eligibility.standards_store import latest_version, level_mismatch, not_accepted
from workflow.errors import CaseNotFound, InvalidAction, MissingData, PermissionDenied, StaleCase
from workflow.models import ApplicantProfile, Case, CaseEvent, utcnow
from workflow.pipeline.catalog import get_pipeline
from workflow.records.audit import event_hash

_profile = ApplicantProfile.__table__
_case = Case.__table__
_event = CaseEvent.__table__


@dataclass(frozen=True)
class FieldDef:
    """One column of a profile form section: the model's field name, labels, input kind and choices.

    Kinds: ``text``, ``date`` (YYYY-MM-DD), ``year``, ``int``, ``number``, ``choice`` (values of ``vocab``),
    ``bool`` (a checkbox, never required) and ``id_number`` (a 居民身份证号码, :mod:`workflow.access.identity`).

    A field left blank takes ``default`` when it has one (a blank row shows it pre-filled, and a row holding
    only defaults still counts as blank); otherwise a blank text is ``""`` and any other blank is ``None``.
    So an optional choice (``required=False``, no default) offers "—" and stores ``None`` when left at it,
    while a choice with a default offers no "—" at all. ``min_value``/``max_value`` bound ``int`` fields;
    ``help_zh``/``help_en`` is a hint shown under the column's label.
    """

    key: str
    zh: str
    en: str
    kind: str = "text"
    required: bool = True
    vocab: type[Vocabulary] | None = None
    max_length: int = 200
    default: Any = None
    future_ok: bool = False
    min_value: int | None = None
    max_value: int | None = None
    help_zh: str = ""
    help_en: str = ""

    def choices(self, lang: str = "zh") -> list[tuple[str, str]]:
        """``[(value, label)]`` for a choice field."""
        return self.vocab.choices(lang) if self.vocab is not None else []

    @property
    def blank_choice(self) -> bool:
        """Whether a choice field offers "—" (nothing chosen): every choice without a default does."""
        return self.kind == "choice" and self.default is None

    def blank_value(self) -> Any:
        """What a blank input stores: the default, else ``""`` for text and ``None`` for everything else."""
        if self.default is not None:
            return self.default
        return "" if self.kind == "text" else None

    def prefilled(self, value: Any) -> bool:
        """True when a form value is empty or merely the pre-filled default (nothing the user typed)."""
        return not value or (self.default is not None and str(value) == str(self.default))


RowRule = Callable[[dict[str, Any]], list[tuple[str, str, str]]]
"""A check across the fields of one row: given the row's valid converted values, ``[(field, zh, en)]``."""


@dataclass(frozen=True)
class SectionDef:
    """A repeatable list of the profile (``key`` is the :class:`~workflow.eligibility.profiles.ApplicantProfile`
    field)."""

    key: str
    zh: str
    en: str
    fields: tuple[FieldDef, ...]
    max_rows: int = 20
    optional: bool = False
    rule: RowRule | None = None


def _period_rule(row: dict[str, Any]) -> list[tuple[str, str, str]]:
    """An end before the start, reported on the end date (the model's own check names no field)."""
    start, end = row.get("start"), row.get("end")
    if start and end and end < start:  # ISO dates compare as text
        return [("end", f"结束日期 {end} 早于开始日期 {start}", f"the end date {end} is before the start date {start}")]
    return []


def _education_rule(row: dict[str, Any]) -> list[tuple[str, str, str]]:
    """技工院校 entries give a class and no 学历/学位; other schools give a 学历 and no class.

    The profile model enforces the same, but on the whole entry; here each problem lands on its field.
    """
    if "school_type" not in row:  # the school type itself is wrong; that is reported already
        return []
    found = []
    if row["school_type"] == SchoolType.TECHNICAL.value:
        if not row.get("technical_class"):
            found.append(("technical_class", "技工院校毕业请选择班级（中级工班、高级工班或预备技师班）",
                          "Choose the class of the technical school"))
        if row.get("level"):
            found.append(("level", "技工院校毕业不填学历（按班级认定同等学历），请将学历改为“—”",
                          "Leave the education level blank for a technical school (the class counts)"))
        if row.get("degree"):
            found.append(("degree", "技工院校毕业不填学位，请将学位改为“—”",
                          "Leave the degree blank for a technical school"))
    else:
        if not row.get("level"):
            found.append(("level", "请选择学历", "Choose the education level"))
        if row.get("technical_class"):
            found.append(("technical_class", "只有技工院校毕业才选择班级，请将班级改为“—”或将院校类型改为技工院校",
                          "A class is only for technical schools: clear it or choose a technical school"))
    return found


LEVELS = ("初级", "中级", "副高", "正高")
"""Levels a case can target (the case's ``level``; 初级 covers both of its grades)."""

BASIC_FIELDS: tuple[FieldDef, ...] = (
    FieldDef("birth_date", "出生日期", "Date of birth", "date"),
    # Longer than 18 so that a pasted number with extra characters is reported, not silently cut by the input.
    FieldDef("id_number", "居民身份证号码", "Resident ID card number", "id_number", max_length=40,
             help_zh="18位，末位可能为X；仅本人可见完整号码，审核人员和证书查验只显示部分",
             help_en="18 characters, the last may be X; only you see it in full, reviewers and the "
                     "certificate check see part of it"),
    FieldDef("retired", "已退休", "Retired", "bool", required=False, default=False),
)
"""The profile's single-valued fields."""

_EVIDENCE = FieldDef("evidence", "证明材料/编号", "Evidence reference", required=False, max_length=500,
                     help_zh="证书、文件的编号或已上传材料的名称", help_en="A certificate or document number, "
                     "or the name of an uploaded file")

PROFILE_SECTIONS: tuple[SectionDef, ...] = (
    SectionDef("education", "学历学位", "Education", (
        FieldDef("school_type", "院校类型", "School type", "choice", vocab=SchoolType,
                 default=SchoolType.GENERAL.value),
        FieldDef("level", "学历", "Education level", "choice", required=False, vocab=EducationLevel,
                 help_zh="普通院校毕业必填；技工院校毕业不填", help_en="Required unless a technical school"),
        FieldDef("technical_class", "技工院校班级", "Technical-school class", "choice", required=False,
                 vocab=TechnicalClass, help_zh="仅技工院校毕业填写", help_en="Technical schools only"),
        FieldDef("degree", "学位", "Degree", "choice", required=False, vocab=Degree,
                 help_zh="取得学位的选择；没有学位或技工院校毕业留“—”",
                 help_en="Leave at “—” without a degree or for a technical school"),
        FieldDef("school", "毕业院校", "School", required=False),
        FieldDef("major", "所学专业", "Major"),
        FieldDef("graduated_on", "毕业日期", "Graduated", "date"),
        FieldDef("major_related", "与申报专业相关", "Related to the specialty", "bool", required=False, default=False),
    ), max_rows=6, rule=_education_rule),
    SectionDef("titles", "已取得职称", "Titles held", (
        FieldDef("name", "职称名称", "Title"),
        FieldDef("series", "系列", "Series"),
        FieldDef("specialty", "专业", "Specialty"),
        FieldDef("level", "级别", "Level", "choice", vocab=TitleLevel),
        FieldDef("obtained_on", "取得日期", "Obtained", "date"),
        FieldDef("certificate_no", "证书编号", "Certificate no.", required=False, max_length=100),
    ), max_rows=6),
    SectionDef("skill_certificates", "职业技能等级证书", "Skill certificates", (
        FieldDef("occupation", "职业（工种）", "Occupation"),
        FieldDef("level", "等级", "Level", "choice", vocab=SkillLevel),
        FieldDef("certificate_no", "证书编号", "Certificate no.", max_length=100),
        FieldDef("obtained_on", "取得日期", "Obtained", "date"),
        FieldDef("issuer", "发证机构", "Issuer", required=False),
    ), max_rows=6),
    SectionDef("work_history", "工作经历", "Work history", (
        FieldDef("employer", "工作单位", "Employer"),
        FieldDef("post", "岗位/职务", "Post", required=False),
        FieldDef("start", "起始日期", "From", "date"),
        FieldDef("end", "截止日期（在职不填）", "To (blank if current)", "date", required=False),
        FieldDef("in_specialty", "从事本专业", "In the specialty", "bool", required=False, default=True),
        FieldDef("in_industry", "从事本行业技术工作（非本专业）", "Technical work in the industry (another specialty)",
                 "bool", required=False, default=False,
                 help_zh="在申报行业内从事其他专业的技术工作时勾选", help_en="Tick for technical work in the "
                 "industry applied for, in another specialty"),
    ), max_rows=12, rule=_period_rule),
    SectionDef("experience_claims", "工作经历佐证", "Work experience claims", (
        FieldDef("item", "标准条目", "Standard item", required=False, max_length=40,
                 help_zh="对应评价标准第七条的第几项（如 2）",
                 help_en="The item of article 7 of the standard (e.g. 2)"),
        FieldDef("description", "经历说明（时间、单位、岗位、所做工作）",
                 "Description (when, where, post, what you did)", max_length=1000),
        _EVIDENCE,
    ), max_rows=10, optional=True),
    SectionDef("continuing_education", "继续教育", "Continuing education", (
        FieldDef("year", "年度", "Year", "year"),
        FieldDef("hours", "学时", "Hours", "number"),
    ), max_rows=10),
    SectionDef("achievements", "业绩成果", "Achievements", (
        FieldDef("kind", "类型", "Kind", "choice", vocab=AchievementKind),
        FieldDef("item", "标准条目", "Standard item", required=False, max_length=20,
                 help_zh="对应评价标准第八条的第几项（如 6）；不填则按类型匹配",
                 help_en="The item of article 8 of the standard (e.g. 6); blank: matched by kind"),
        FieldDef("description", "内容（名称、本人作用、效益）", "Description (name, your role, benefit)",
                 max_length=1000),
        FieldDef("year", "年份", "Year", "year"),
        FieldDef("level", "级别", "Level", "choice", required=False, vocab=RecognitionLevel,
                 help_zh="授予、立项或认定的级别", help_en="The level at which it was granted or recognised"),
        FieldDef("rank", "本人排名", "Your rank", "int", required=False, min_value=1, max_value=1000,
                 help_zh="在发明人/完成人中的排名（第几名）",
                 help_en="Your place among the named inventors or contributors (1 = first)"),
        FieldDef("count", "数量（件）", "Number", "int", required=False, default=1, min_value=1, max_value=1000,
                 help_zh="本条包含的专利或著作权件数", help_en="How many patents or copyrights this entry covers"),
        FieldDef("appraised_by", "鉴定/验收单位", "Appraised or accepted by", required=False,
                 help_zh="组织鉴定或验收的单位（如有）", help_en="Who appraised or accepted it, if anyone"),
        FieldDef("appraisal_level", "鉴定/验收级别", "Appraisal level", "choice", required=False,
                 vocab=RecognitionLevel),
        _EVIDENCE,
    ), max_rows=12),
    SectionDef("works", "代表作", "Representative works", (
        FieldDef("kind", "类型", "Kind", "choice", vocab=WorkKind),
        FieldDef("title", "名称", "Title", max_length=500),
        FieldDef("year", "年份", "Year", "year"),
        FieldDef("character_count", "字数（技术文档填写）", "Characters (technical documents)", "int",
                 required=False),
    ), max_rows=8),
    SectionDef("firm_roles", "企业任职（主要负责人等）", "Firm leadership roles", (
        FieldDef("employer", "企业名称", "Firm"),
        FieldDef("role", "职务", "Role", "choice", vocab=FirmRole),
        FieldDef("start", "起始日期", "From", "date"),
        FieldDef("end", "截止日期（在任不填）", "To (blank if current)", "date", required=False),
        FieldDef("evidence", "证明材料/编号", "Evidence reference", required=False, max_length=500,
                 help_zh="任职文件、营业执照等的编号或已上传材料的名称",
                 help_en="Appointment papers or business licence: number or uploaded file"),
    ), max_rows=6, optional=True, rule=_period_rule),
    SectionDef("firm_recognitions", "企业资质（小巨人、单项冠军等）",
               "Firm recognitions (little giant, single champion…)", (
        FieldDef("employer", "企业名称", "Firm"),
        FieldDef("kind", "资质类型", "Recognition", "choice", vocab=FirmRecognition),
        FieldDef("year", "认定年份", "Year recognised", "year"),
        FieldDef("evidence", "证明材料/编号", "Evidence reference", required=False, max_length=500,
                 help_zh="认定文件的文号或已上传材料的名称",
                 help_en="The recognition notice's number or an uploaded file"),
    ), max_rows=6, optional=True),
    SectionDef("recommendations", "专家推荐（破格申报）", "Expert recommendations (exceptional route)", (
        FieldDef("expert_name", "专家姓名", "Expert"),
        FieldDef("expert_title", "专家职称", "Expert's title"),
        FieldDef("expert_level", "职称级别", "Level", "choice", vocab=TitleLevel),
        FieldDef("series", "系列", "Series"),
        FieldDef("specialty", "专业", "Specialty"),
        FieldDef("employer", "工作单位", "Employer", required=False),
    ), max_rows=4, optional=True),
    SectionDef("foreign_language", "外语合格证明（如标准要求）", "Foreign-language qualification (if required)", (
        FieldDef("language", "语种", "Language"),
        FieldDef("name", "证书/考试名称", "Certificate"),
        FieldDef("passed_on", "通过日期", "Passed", "date"),
    ), max_rows=3, optional=True),
    SectionDef("sanctions", "处分情况（如有，须如实填报）", "Disciplinary sanctions (declare any)", (
        FieldDef("kind", "处分类型", "Kind", "choice", vocab=SanctionKind),
        FieldDef("start", "影响期开始", "From", "date"),
        FieldDef("end", "影响期满日期", "Effect ends on", "date", required=False, future_ok=True,
                 help_zh="影响期届满之日（当日起不再受影响），如记过12个月自2025-03-01起，填2026-03-01",
                 help_en="The day the effect period is over, e.g. 2026-03-01 for 12 months from 2025-03-01"),
        FieldDef("description", "说明", "Note", required=False, max_length=500),
    ), max_rows=5, optional=True, rule=_period_rule),
)
"""The profile's lists, in display order (the keys are :class:`~workflow.eligibility.profiles.ApplicantProfile`
fields)."""

SECTION_MAP = {s.key: s for s in PROFILE_SECTIONS}

_PATH = re.compile(r"^(?P<section>[a-z_]+)(?:\[(?P<row>\d+)\])?(?:\.(?P<field>[a-z_]+))?$")


@dataclass(frozen=True)
class ProfileProblem:
    """One problem in a submitted profile: section (``basic`` for single fields), 1-based form row, field."""

    section: str
    row: int
    field: str
    zh: str
    en: str


def _bilingual(message: str) -> tuple[str, str]:
    """Split the profile model's "中文 / English" messages; other messages are shown as they are."""
    zh, sep, en = message.partition(" / ")
    return (zh.strip(), en.strip()) if sep else (message, message)


def _convert(f: FieldDef, value: str, today: date) -> tuple[Any, tuple[str, str] | None]:
    """The typed value of a form string, or why it is not valid (zh, en).

    Dates and years in the future are caught here too (the profile model checks them again), so that they
    are reported together with missing fields instead of after them.
    """
    if len(value) > f.max_length:
        return value, (f"{f.zh}不能超过{f.max_length}字", f"{f.en}: at most {f.max_length} characters")
    if f.kind == "choice":
        assert f.vocab is not None
        if value not in {m.value for m in f.vocab}:
            return value, (f"请从列表中选择{f.zh}", f"Choose {f.en.lower()} from the list")
        return value, None
    if f.kind == "date":
        try:
            day = date.fromisoformat(value.replace("/", "-").replace(".", "-"))
        except ValueError:
            return value, (f"{f.zh}请写成“年-月-日”，如 2019-07-01", f"{f.en}: use YYYY-MM-DD, e.g. 2019-07-01")
        if day > today and not f.future_ok:
            return value, (f"{f.zh} {day.isoformat()} 晚于今天，不能填写将来的日期", f"{f.en}: a date in the future")
        return day.isoformat(), None
    if f.kind in ("year", "int"):
        # isdecimal, not isdigit: "²" is a digit int() refuses, while full-width "２０１９" (typed with a
        # Chinese input method) is decimal and int() reads it. Ten digits or more are out of any range here
        # (and thousands would hit int()'s conversion limit).
        if not value.isdecimal():
            return value, ((f"{f.zh}请填写四位年份", f"{f.en}: a four-digit year") if f.kind == "year"
                           else (f"{f.zh}请填写整数", f"{f.en}: a whole number"))
        number = int(value) if len(value) < 10 else None
        if f.kind == "year":
            if number is None or not 1950 <= number <= today.year:
                return value, (f"{f.zh}须在1950年至今年之间", f"{f.en}: between 1950 and this year")
            return number, None
        low, high = f.min_value, f.max_value
        if number is None or (low is not None and number < low) or (high is not None and number > high):
            if low is not None and high is not None:
                return value, (f"{f.zh}须为{low}到{high}之间的整数", f"{f.en}: a whole number from {low} to {high}")
            if low is not None:
                return value, (f"{f.zh}须为不小于{low}的整数", f"{f.en}: a whole number of at least {low}")
            return value, (f"{f.zh}数值过大", f"{f.en}: too large")
        return number, None
    if f.kind == "id_number":
        id_number = normalise_id_number(value)
        problem = id_number_problem(id_number)
        return (value, problem) if problem else (id_number, None)
    if f.kind == "number":
        try:
            amount = float(value)
        except ValueError:
            return value, (f"{f.zh}请填写数字", f"{f.en}: a number")
        return (int(amount) if amount.is_integer() else amount), None
    return value, None


def _form_value(raw: dict[str, Any], f: FieldDef) -> Any:
    value = raw.get(f.key)
    if f.kind == "bool":
        return value in (True, "1", "on", "true", "yes") if value is not None else bool(f.default)
    return str(value if value is not None else "").strip()


def row_is_blank(section: SectionDef, row: dict[str, Any]) -> bool:
    """True when a form row holds nothing the applicant entered: only checkboxes and pre-filled defaults.

    Such rows are dropped (every form shows a spare blank row, pre-filled with the defaults).
    """
    return all(f.prefilled(_form_value(row, f)) for f in section.fields if f.kind != "bool")


_VERIFIED_KEYS: tuple[tuple[str, str, type[BaseModel], tuple[str, ...]], ...] = (
    ("achievements", "verified", Achievement,
     ("kind", "item", "description", "year", "level", "rank", "count", "appraised_by", "appraisal_level",
      "evidence")),
    ("works", "unit_verified", RepresentativeWork, ("kind", "title", "year", "character_count")),
)
"""Per verified section: the flag and every field the applicant edits; a change to any clears the flag."""


def _keep_verification(body: dict[str, Any], previous: dict[str, Any]) -> None:
    """Carry over what the unit verified (achievements, technical documents) for entries left unchanged.

    The applicant's form never shows these flags: an edited entry must be verified again. A key missing from
    a stored entry (saved before the field existed) reads as the model's default, which is what the form
    submits for a field left untouched — so an old entry re-saved as it was stays verified.
    """
    for section, flag, model, keys in _VERIFIED_KEYS:
        defaults = tuple(model.model_fields[k].default for k in keys)
        verified = {_identity(e, keys, defaults): e for e in previous.get(section) or [] if e.get(flag)}
        for entry in body.get(section) or []:
            kept = verified.get(_identity(entry, keys, defaults))
            if kept is not None:  # the flag with who verified it and when
                entry[flag] = True
                entry["verified_by"] = kept.get("verified_by", "")
                entry["verified_on"] = kept.get("verified_on")


def _identity(entry: dict[str, Any], keys: tuple[str, ...], defaults: tuple[Any, ...]) -> tuple[Any, ...]:
    """What identifies an entry for its verification: its ``keys``, a missing one read as its default."""
    return tuple(entry.get(k, default) for k, default in zip(keys, defaults, strict=True))


def validate_profile(raw: dict[str, Any], previous: dict[str, Any] | None = None, today: date | None = None
                     ) -> tuple[dict[str, Any], list[ProfileProblem]]:
    """Check a submitted profile form and build the stored body; list every problem at once.

    ``raw`` has the basic fields at the top level and each section as a list of row dicts of strings (or
    booleans for checkboxes). Rows left blank (see :func:`row_is_blank`) are dropped; each row's fields are
    converted, then checked together by its section's ``rule``, so every problem is reported on its field.
    The result is validated by :func:`workflow.eligibility.profiles.parse_profile` (the shape the eligibility engine
    reads) and written at :data:`~workflow.eligibility.profiles.PROFILE_SCHEMA_VERSION`.
    """
    previous = previous or {}
    problems: list[ProfileProblem] = []
    body: dict[str, Any] = {"schema_version": PROFILE_SCHEMA_VERSION}
    for f in BASIC_FIELDS:
        value = _form_value(raw, f)
        if f.kind == "bool":
            body[f.key] = value
        elif not value:
            problems.append(ProfileProblem("basic", 0, f.key, f"请填写{f.zh}", f"{f.en} is required"))
        else:
            body[f.key], why = _convert(f, value, today or date.today())
            if why:
                problems.append(ProfileProblem("basic", 0, f.key, *why))
    # The ID number against the birth date, when both are valid: reported now, with every other problem,
    # rather than by the profile model once the rest is fixed.
    if not any(p.section == "basic" and p.field in ("birth_date", "id_number") for p in problems) \
            and body.get("id_number") and body.get("birth_date"):
        mismatch = birth_date_mismatch(body["id_number"], date.fromisoformat(body["birth_date"]))
        if mismatch is not None:
            problems.append(ProfileProblem("basic", 0, "id_number", *mismatch))
    row_of: dict[str, list[int]] = {}
    for section in PROFILE_SECTIONS:
        rows_out: list[dict[str, Any]] = []
        row_of[section.key] = []
        for i, row in enumerate(raw.get(section.key) or [], start=1):
            row = row or {}
            if row_is_blank(section, row):
                continue
            out: dict[str, Any] = {}
            wrong: set[str] = set()
            for f in section.fields:
                value = _form_value(row, f)
                if f.kind == "bool":
                    out[f.key] = value
                    continue
                if not value:
                    if f.required and f.default is None:
                        problems.append(ProfileProblem(section.key, i, f.key, f"请填写{f.zh}", f"{f.en} is required"))
                        wrong.add(f.key)
                    else:
                        out[f.key] = f.blank_value()
                    continue
                out[f.key], why = _convert(f, value, today or date.today())
                if why:
                    problems.append(ProfileProblem(section.key, i, f.key, *why))
                    wrong.add(f.key)
            if section.rule is not None:
                # Only valid values go to the rule, so that one mistake is not reported twice.
                for key, zh, en in section.rule({k: v for k, v in out.items() if k not in wrong}):
                    problems.append(ProfileProblem(section.key, i, key, zh, en))
            rows_out.append(out)
            row_of[section.key].append(i)
        if len(rows_out) > section.max_rows:
            problems.append(ProfileProblem(section.key, section.max_rows + 1, "",
                                           f"{section.zh}最多填写{section.max_rows}条",
                                           f"{section.en}: at most {section.max_rows} rows"))
        body[section.key] = rows_out
    if previous.get("integrity_record_until"):
        body["integrity_record_until"] = previous["integrity_record_until"]  # the authority's record, not ours
    if problems:
        return body, problems
    _keep_verification(body, previous)
    try:
        model = parse_profile(body, today=today)
    except ProfileInvalid as err:
        found = []
        for path, message in err.problems:
            # Model-level checks report several "path: message" parts in one message.
            parts = [(path, message)] if path else [
                (p.partition(": ")[0], p.partition(": ")[2]) if ": " in p else ("", p) for p in message.split("；")]
            for where, text in parts:
                zh, en = _bilingual(text)
                m = _PATH.match(where or "")
                if m and m.group("section") in SECTION_MAP and m.group("row") is not None:
                    sec = m.group("section")
                    idx = int(m.group("row"))
                    form_row = row_of[sec][idx] if idx < len(row_of[sec]) else idx + 1
                    found.append(ProfileProblem(sec, form_row, m.group("field") or "", zh, en))
                elif m and m.group("section") in {f.key for f in BASIC_FIELDS}:
                    found.append(ProfileProblem("basic", 0, m.group("section"), zh, en))
                else:
                    found.append(ProfileProblem("basic", 0, "", zh, en))
        return body, found
    return model.model_dump(mode="json"), []


def load_profile(db: Database, user_id: int) -> dict[str, Any]:
    """The stored profile body of ``user_id`` (empty lists for sections never filled)."""
    with db.read() as conn:
        body = conn.execute(select(_profile.c.body).where(_profile.c.user_id == user_id)).scalar()
    # A body stored in an older shape is shown as the evaluator reads it (e.g. v1 work in the specialty is
    # work in the industry too), so saving the form unchanged changes nothing the evaluator sees.
    body = upgrade_profile_body(body) if body else {}
    for section in PROFILE_SECTIONS:
        body.setdefault(section.key, [])
    return body


def save_profile(db: Database, actor: Actor, raw: dict[str, Any]) -> list[ProfileProblem]:
    """Validate and store the actor's own profile; nothing is stored when there are problems."""
    if "applicant" not in actor.roles or actor.user_id is None:
        raise PermissionDenied("只有申报人可以填写个人信息", "Only applicants keep a profile")
    body, problems = validate_profile(raw, load_profile(db, actor.user_id))
    if problems:
        return problems
    store_profile(db, actor.user_id, body)
    return []


def store_profile(db: Database, user_id: int, body: dict[str, Any]) -> None:
    """Insert or replace a validated profile body (used by :func:`save_profile` and the demo loader)."""
    with db.write() as conn:
        exists = conn.execute(select(_profile.c.id).where(_profile.c.user_id == user_id)).scalar()
        if exists is None:
            conn.execute(insert(_profile).values(user_id=user_id, body=body, updated_at=utcnow()))
        else:
            conn.execute(update(_profile).where(_profile.c.id == exists).values(body=body, updated_at=utcnow()))


# --------------------------------------------------------------------------------------------- case details

ACCOUNT_EVIDENCE_KINDS = {
    "labour_contract": {"zh": "劳动合同及社保缴纳", "en": "Labour contract with social insurance"},
    "freelancer_registration": {"zh": "自由职业登记", "en": "Freelancer registration"},
}
"""The fallback channel's evidence that the agency is the right channel."""


def account_evidence(kind: str, *, contract_months: str | int | None = None, social_insurance: bool = False,
                     registration_no: str = "") -> dict[str, Any]:
    """The ``account_evidence`` dict the fallback guard reads, checked for shape (not for sufficiency).

    Sufficiency (e.g. at least 6 months) is the pipeline's rule and is explained when submitting.
    """
    if kind == "labour_contract":
        try:
            months = int(str(contract_months or "0").strip() or 0)
        except ValueError:
            raise MissingData("劳动合同期限请填写月数（整数）", "Contract length: a whole number of months") from None
        if months < 0 or months > 600:
            raise MissingData("劳动合同期限请填写0到600之间的月数", "Contract length must be 0–600 months")
        return {"kind": kind, "contract_months": months, "social_insurance": bool(social_insurance)}
    if kind == "freelancer_registration":
        number = registration_no.strip()
        if not number:
            raise MissingData("请填写自由职业登记编号", "Enter the freelancer registration number")
        return {"kind": kind, "registration_no": number[:60]}
    raise MissingData("请选择账户证明类型", "Choose the kind of account evidence")


def update_declaration(db: Database, case_id: int, actor: Actor, *, expected_version: int,
                       target_title: str | None = None, specialty: str | None = None, level: str | None = None,
                       evidence: dict[str, Any] | None = None, standard_id: str | None = None) -> None:
    """Change the case's declared details while it is with the applicant (draft or correction).

    The occupation standard can change only in the draft: the first submission pins its version. A new
    standard must be one the case's session accepts. A change raises the case's version (so an edit made
    from the same page twice, or racing another, is refused rather than silently overwriting) and appends
    an ``update_declaration`` event with each changed field's old and new value to the case's hash-chained
    history; saving without a change writes nothing.
    """
    with db.write() as conn:
        case = conn.execute(select(_case.c.id, _case.c.applicant_id, _case.c.state, _case.c.version,
                                   _case.c.pipeline_id, _case.c.pipeline_version, _case.c.data, _case.c.level,
                                   _case.c.standard_id, _case.c.standard_version, _case.c.session_id,
                                   _case.c.target_title, _case.c.specialty, _case.c.last_event_hash)
                            .where(_case.c.id == case_id)).mappings().first()
        if case is None:
            raise CaseNotFound(f"案件 {case_id} 不存在", f"Case {case_id} does not exist")
        if "applicant" not in actor.roles or case["applicant_id"] != actor.user_id:
            raise PermissionDenied("只有申报人本人可以修改申报信息", "Only the applicant may change these details")
        pipeline = get_pipeline(db, case["pipeline_id"], case["pipeline_version"])
        state = pipeline.state_map[case["state"]]
        if state.stage != "submission" or state.final:
            raise InvalidAction("案件已提交审核，申报信息不能再修改", "The case is under review; details are fixed")
        if case["version"] != expected_version:
            raise StaleCase("案件已被他人更新，请刷新页面后重试", "The case changed meanwhile; reload and try again")
        now = utcnow()
        values: dict[str, Any] = {}
        if target_title is not None:
            if not target_title.strip():
                raise MissingData("请填写申报职称", "Enter the title applied for")
            values["target_title"] = target_title.strip()[:60]
        if specialty is not None:
            values["specialty"] = specialty.strip()[:80]
        if level is not None:
            if level not in LEVELS:
                raise MissingData("请选择申报级别", "Choose the level")
            values["level"] = level
        if evidence is not None:
            values["data"] = {**(case["data"] or {}), "account_evidence": evidence}
        if standard_id is not None:
            if case["state"] != pipeline.initial:
                raise InvalidAction("评价标准已在首次提交时确定，不能更改",
                                    "The standard was fixed at the first submission")
            if latest_version(conn, standard_id) is None:
                raise MissingData("评价标准不存在", "No such standard", field="standard_id")
            # Only a new choice is checked: re-saving the draft keeps its standard if the session's list changed.
            refused = None if standard_id == case["standard_id"] else not_accepted(conn, case["session_id"],
                                                                                    standard_id)
            if refused is not None:
                raise refused
            values["standard_id"] = standard_id
        if "level" in values or "standard_id" in values:
            # Checked against the version the case will be judged by: the pinned one once submitted.
            mismatch = level_mismatch(conn, values.get("standard_id", case["standard_id"]),
                                      values.get("level", case["level"]),
                                      None if "standard_id" in values else case["standard_version"])
            if mismatch is not None:
                raise mismatch
        changes = _declared_changes(case, values)
        if not changes:
            return
        event = {"case_id": case_id, "seq": case["version"] + 1, "actor_id": actor.user_id, "actor_role": "applicant",
                 "trigger": "update_declaration", "from_state": case["state"], "to_state": case["state"],
                 "comment": "", "payload": {"changed": changes}, "created_at": now,
                 "prev_hash": case["last_event_hash"]}
        event["hash"] = event_hash(event)
        changed = conn.execute(update(_case).where(_case.c.id == case_id, _case.c.version == expected_version,
                                                   _case.c.state == case["state"]).values(
            **values, version=event["seq"], last_event_hash=event["hash"], updated_at=now)).rowcount
        if changed != 1:
            raise StaleCase("案件已被他人更新，请刷新页面后重试", "The case changed meanwhile; reload and try again")
        conn.execute(insert(_event).values(**event))


def _declared_changes(case: Any, values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each declared field whose new value differs from the stored one: {field: {"from": old, "to": new}}.

    The account evidence of a fallback (兜底) case is compared as such, not the whole case document.
    """
    changes: dict[str, dict[str, Any]] = {}
    for name, new in values.items():
        if name == "data":
            old = (case["data"] or {}).get("account_evidence")
            if old != new["account_evidence"]:
                changes["account_evidence"] = {"from": old, "to": new["account_evidence"]}
        elif case[name] != new:
            changes[name] = {"from": case[name], "to": new}
    return changes
