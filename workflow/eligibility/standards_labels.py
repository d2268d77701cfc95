"""What each part of an occupation standard is called, in Chinese and English.

The structured editor labels its inputs with these names, the comparison page names its rows with them and
the validation messages point at them, so an administrator reads "学历资历路径 › 第2条 › 取得下一级职称后年限"
instead of ``education_routes[1].ladder_years``. Labels follow the wording of the published standards
(rules.md §5): 台阶, 代表作, 破格, 贯通.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any

from pydantic import BaseModel

from workflow.eligibility import standards as s

Label = tuple[str, str]
"""(Chinese, English)."""

LAYERS: dict[str, Label] = {
    "basic": ("基本条件", "Basic conditions"),
    "ladder": ("台阶（下一级职称）", "Ladder (the title one step below)"),
    "education_routes": ("学历资历路径", "Education and years routes"),
    "work_experience": ("工作经历", "Work experience"),
    "achievements": ("业绩成果", "Achievements"),
    "representative_works": ("代表作", "Representative works"),
    "benefits": ("经济社会效益", "Economic and social benefits"),
    "exceptional": ("破格条件（专家推荐/业绩）", "Exceptional route (recommendations, achievements)"),
    "direct": ("直接申报路径", "Direct application routes"),
    "bridging": ("技能贯通", "Skill-to-title bridging"),
}
"""The criteria layers of a standard, in the order of rules.md §5."""

_FIELDS: dict[str, dict[str, Label]] = {
    "Standard": {
        "id": ("标准编号", "Standard id"),
        "version": ("版本", "Version"),
        "name": ("名称", "Name"),
        "series": ("职称系列", "Title series"),
        "specialty": ("专业", "Specialty"),
        "level": ("级别", "Level"),
        "title": ("职称名称", "Title"),
        "effective_from": ("生效日期", "Effective from"),
        "effective_until": ("失效日期", "Effective until"),
        "source": ("依据（政策文件）", "Policy basis"),
        "notes": ("说明", "Notes"),
        **LAYERS,
    },
    "Sourced": {"tag": ("来源标记", "Source tag"), "source": ("来源", "Source")},
    "Threshold": {"value": ("数值", "Value"), "tag": ("来源标记", "Source tag"), "source": ("来源", "Source")},
    "Text": {"zh": ("中文", "Chinese"), "en": ("英文", "English")},
    "ContinuingEducationRule": {
        "hours_per_year": ("每年学时", "Hours a year"),
        "years_checked": ("核查年数", "Years checked"),
    },
    "BasicConditions": {
        "not_retired": ("未退休", "Not retired"),
        "no_sanction": ("不在处分影响期内", "No sanction in force"),
        "no_integrity_record": ("无失信记录", "No integrity record"),
        "continuing_education": ("继续教育", "Continuing education"),
        "max_age": ("年龄上限", "Age limit"),
        "foreign_language": ("外语要求", "Foreign language"),
    },
    "LadderRule": {
        "level": ("下一级职称级别", "Level of the lower title"),
        "title": ("下一级职称名称", "Lower title"),
        "accepted_series": ("也认可的系列", "Other series accepted"),
        "waivable": ("评审会可免除台阶", "A session may waive it"),
    },
    "EducationRoute": {
        "id": ("路径编号", "Route id"),
        "label": ("路径说明", "Route label"),
        "min_education": ("最低学历", "Minimum education"),
        "related_major": ("须为相关专业", "Related major required"),
        "ladder_years": ("取得下一级职称后年限", "Years after the lower title"),
        "specialty_years": ("从事本专业工作年限", "Years in the specialty"),
    },
    "WorkExperienceItem": {
        "id": ("条目编号", "Item id"),
        "text": ("条目内容", "Item text"),
        "evidence_kinds": ("可作证明的业绩类型", "Achievement kinds that prove it"),
        "evidence_items": ("可作证明的业绩条目编号", "Achievement items that prove it"),
    },
    "WorkExperienceRule": {
        "min_items": ("至少具备条数", "Items needed"),
        "items": ("经历条目", "Items"),
        "hard": ("不满足即不得申报", "Required (not only advisory)"),
    },
    "AchievementBranch": {
        "kinds": ("计入的业绩类型", "Kinds counted"),
        "min_count": ("至少数量", "Count needed"),
    },
    "AchievementItem": {
        "id": ("条目编号", "Item number"),
        "text": ("条目内容", "Item text"),
        "kinds": ("可计入的业绩类型", "Kinds of evidence that count"),
        "min_level": ("最低级别", "Lowest level"),
        "needs_appraisal": ("须经鉴定或验收", "Appraisal or acceptance required"),
        "min_appraisal_level": ("鉴定最低级别", "Lowest appraisal level"),
        "max_rank": ("排名前几位", "Among the first N named"),
        "branches": ("计数规则（满足任一即可）", "Counting rules (any one suffices)"),
        "expert_judgement": ("由专家评议认定", "Judged by the experts"),
        "source": ("来源", "Source"),
    },
    "AchievementRule": {
        "kinds": ("业绩类型（旧式：每类一条）", "Kinds (older form: one item per kind)"),
        "items": ("业绩条目", "Numbered items"),
        "k": ("正常申报须具备条数", "Items needed (normal route)"),
        "require_evidence": ("须上传证明材料", "Evidence required"),
        "hard": ("不满足即不得申报", "Required (not only advisory)"),
    },
    "WorksRule": {
        "kinds": ("可作代表作的类型", "Kinds accepted"),
        "min_count": ("至少件数", "Works needed"),
        "technical_document_min_chars": ("技术文档最少字数", "Minimum length of a technical document"),
        "document_kinds": ("按技术文档认定的类型", "Kinds judged as technical documents"),
        "min_papers": ("至少论文篇数", "Papers needed"),
        "hard": ("不满足即不得申报", "Required (not only advisory)"),
    },
    "BenefitRule": {
        "kinds": ("效益类型", "Benefit kinds"),
        "min_items": ("至少项数", "Items needed"),
        "hard": ("不满足即不得申报", "Required (not only advisory)"),
    },
    "ExceptionalRule": {
        "achievements_k": ("破格须具备业绩条数", "Items needed (exceptional route)"),
        "recommendations_by_senior_experts": ("正高级专家推荐人数", "Recommendations by senior experts"),
        "combine": ("以上条件", "The conditions above"),
        "recommender_specialties": ("推荐专家的专业", "Recommenders' specialties"),
        "recommenders_same_specialty": ("推荐专家须为本专业", "Recommenders of the same specialty"),
        "bypasses": ("破格不再要求", "Not required on this route"),
    },
    "DirectRoute": {
        "id": ("路径编号", "Route id"),
        "label": ("路径说明", "Route label"),
        "min_education": ("最低学历（学历路径）", "Minimum education (education route)"),
        "industry_years": ("从事本行业技术工作年限（学历路径）", "Years in the industry (education route)"),
        "after_junior_title": ("年限自取得初级职称起算", "Years counted from the junior title"),
        "leader_years": ("任企业主要负责人年限（负责人路径）", "Years as the firm's head (leader route)"),
        "firm_recognitions": ("企业须获得的认定", "Recognitions the firm must hold"),
    },
    "DirectRule": {
        "routes": ("路径", "Routes"),
        "achievements_k": ("直接申报须具备业绩条数", "Items needed (direct routes)"),
    },
    "BridgingEntry": {
        "skill_level": ("技能等级（及以上）", "Skill level (or above)"),
        "title": ("可申报职称", "Title"),
        "title_level": ("职称级别", "Title level"),
        "waiting_years": ("取得技能等级后年限", "Years after the skill level"),
        "relaxed_waiting_years": ("本省通道年限", "Years on the local channel"),
    },
    "BridgingRule": {
        "map": ("贯通对应关系", "Bridging map"),
        "relaxed_waiting_years": ("统一放宽年限（旧式）", "Relaxed years for every entry (older form)"),
        "unit_assessment": ("须经单位考核", "Unit assessment required"),
    },
}

CHOICES: dict[str, dict[str, Label]] = {
    "combine": {"any": ("满足其一即可", "any one suffices"), "all": ("须全部满足", "all are needed")},
    "bypasses": {"education": ("学历", "education"), "ladder": ("台阶", "the lower title"),
                 "specialty_years": ("专业工作年限", "years in the specialty")},
}
"""Labels of the values of fields typed as a ``Literal`` (vocabularies label themselves)."""


def field_label(model: type[BaseModel] | str, name: str) -> Label:
    """The label of field ``name`` of ``model`` (the field name itself when none is written down)."""
    owner = model if isinstance(model, str) else model.__name__
    return _FIELDS.get(owner, {}).get(name) or _FIELDS["Standard"].get(name) or (name, name)


def model_of(annotation: Any) -> Any:
    """The model (or other type) inside ``X | None``, ``list[X]`` and ``Annotated[X, ...]``."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return model_of(typing.get_args(annotation)[0])
    if origin in (list, typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        return model_of(inner[0]) if len(inner) == 1 else annotation
    return annotation


_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[([^\]]*)\]|\.(\d+)(?=\.|$)")


def path_label(path: str) -> Label:
    """A readable name for a dotted path into a standard: ``education_routes[1].ladder_years`` →
    ("学历资历路径 › 第2条 › 取得下一级职称后年限", "Education and years routes › no. 2 › Years after the lower title").

    List positions may be numbers (``[1]`` or ``.1``, shown counted from 1) or element ids
    (``[bachelor]``, shown as they are); unknown names are kept as written.
    """
    zh: list[str] = []
    en: list[str] = []
    current: Any = s.Standard
    for name, bracket, dotted in _PART.findall(path):
        index = bracket if bracket else dotted
        if index:
            if index.isdigit():
                zh.append(f"第{int(index) + 1}条")
                en.append(f"no. {int(index) + 1}")
            else:
                zh.append(index)
                en.append(index)
            continue
        owner = current.__name__ if isinstance(current, type) else ""
        label = field_label(owner, name)
        zh.append(label[0])
        en.append(label[1])
        fields = getattr(current, "model_fields", {})
        current = model_of(fields[name].annotation) if name in fields else None
    return " › ".join(zh), " › ".join(en)
