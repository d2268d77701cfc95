"""The eligibility engine against the seed standards: one table of applicants, every route and relaxation.

Each row names a standard, an applicant built by the small factories below, the route and relaxations, and
asserts the overall verdict, one criterion's verdict and a fragment of its Chinese explanation — the text the
applicant reads, so the numbers and dates in it are part of the contract.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest

from workflow.eligibility import (
    EligibilityInputError,
    EligibilityReport,
    Relaxations,
    Verdict,
    anniversary,
    evaluate,
    full_months,
    full_years,
)
from workflow.profiles import ApplicantProfile, ProfileInvalid, parse_profile
from workflow.standards import Standard, Threshold, load_standard_dir, parse_standard

AS_OF = date(2026, 11, 29)
"""The evaluation date of every row unless a row says otherwise (the evaluator has no clock of its own)."""

SEEDS = load_standard_dir()

# ------------------------------------------------------------------------------------------------------------
# Profile factories: plain dicts, validated as of AS_OF so that "no future dates" is deterministic
# ------------------------------------------------------------------------------------------------------------


def edu(level: str = "本科", graduated: str = "2007-07-01", major: str = "机械工程",
        related: bool = True) -> dict:
    return {"level": level, "graduated_on": graduated, "major": major, "major_related": related}


def title(name: str, level: str, on: str, series: str = "工程", specialty: str = "机械") -> dict:
    return {"series": series, "specialty": specialty, "level": level, "name": name, "obtained_on": on}


def assistant(on: str, **kw: str) -> dict:
    return title("助理工程师", "助理", on, **kw)


def engineer(on: str, **kw: str) -> dict:
    return title("工程师", "中级", on, **kw)


def senior_engineer(on: str) -> dict:
    return title("高级工程师", "副高", on)


def job(start: str = "2007-07-15", end: str | None = None, in_specialty: bool = True) -> dict:
    return {"employer": "湖南某装备制造有限公司", "start": start, "end": end, "post": "技术部",
            "in_specialty": in_specialty}


def cert(level: str, on: str, occupation: str = "数控车工") -> dict:
    return {"occupation": occupation, "level": level, "certificate_no": f"S43{on.replace('-', '')}",
            "obtained_on": on}


def ach(kind: str, year: int = 2023, verified: bool = True, evidence: str = "EV-001", desc: str = "") -> dict:
    return {"kind": kind, "description": desc or f"{kind} 成果", "year": year, "evidence": evidence,
            "verified": verified}


def work(kind: str = "technical_document", chars: int | None = 8000, verified: bool = True,
         year: int = 2024) -> dict:
    return {"kind": kind, "title": f"{kind} 代表作", "year": year, "character_count": chars,
            "unit_verified": verified}


def rec(level: str = "正高", series: str = "工程", specialty: str = "机械", name: str = "张教授") -> dict:
    return {"expert_name": name, "expert_title": "正高级工程师" if level == "正高" else "高级工程师",
            "expert_level": level, "series": series, "specialty": specialty}


def hr_rec(name: str = "陈教授") -> dict:
    return rec(series="经济", specialty="人力资源管理", name=name)


def ce(*hours: float, start: int = 2023) -> list[dict]:
    return [{"year": start + i, "hours": h} for i, h in enumerate(hours)]


FULL_CE = ce(96, 90, 120)


def person(**fields: Any) -> ApplicantProfile:
    """A working engineer born 1985 with a related bachelor's degree and full continuing education;
    ``fields`` replace the defaults (lists are replaced whole)."""
    data: dict[str, Any] = {
        "birth_date": "1985-03-02",
        "education": [edu()],
        "work_history": [job()],
        "continuing_education": FULL_CE,
    }
    data.update(fields)
    return ApplicantProfile.model_validate(data, context={"today": AS_OF})


def engineer_ready(**fields: Any) -> ApplicantProfile:
    """Meets the national 工程师 standard: 本科, 助理工程师 since 2020, a verified project, a document."""
    base = {"titles": [assistant("2020-07-01")], "achievements": [ach("key_project")],
            "works": [work()]}
    return person(**{**base, **fields})


def senior_ready(**fields: Any) -> ApplicantProfile:
    """Meets the national 高级工程师 standard: 工程师 since 2019-07-01, two achievements, one work."""
    base = {"titles": [assistant("2012-07-01"), engineer("2019-07-01")],
            "achievements": [ach("patent_invention", 2022), ach("key_project", 2023)], "works": [work()]}
    return person(**{**base, **fields})


def professor_ready(**fields: Any) -> ApplicantProfile:
    """Meets the national 正高级工程师 standard: 高级工程师 since 2020, benefits evidenced, two works."""
    base = {"titles": [engineer("2013-07-01"), senior_engineer("2020-01-01")],
            "achievements": [ach("patent_invention", 2022), ach("key_project", 2023),
                             ach("economic_benefit", 2024)],
            "works": [work(), work("patent", None, False, 2023)]}
    return person(**{**base, **fields})


def sme_ready(**fields: Any) -> ApplicantProfile:
    """Meets the Hunan SME senior standard's normal route: 工程师 since 2019-07-01 and one achievement."""
    base = {"titles": [engineer("2019-07-01")], "achievements": [ach("first_of_kind_equipment")],
            "works": [work("design_document", None, False, 2024)]}
    return person(**{**base, **fields})


def hr_ready(**fields: Any) -> ApplicantProfile:
    """Meets the HR senior-economist standard: 经济师 since 2018, a social benefit, a research report."""
    base = {"education": [edu("本科", major="人力资源管理")],
            "titles": [title("经济师", "中级", "2018-11-01", series="经济", specialty="人力资源管理")],
            "achievements": [ach("key_project", 2022), ach("social_benefit", 2024)],
            "works": [work("research_report", None, False, 2024)]}
    return person(**{**base, **fields})


def iie_ready(**fields: Any) -> ApplicantProfile:
    """Meets the industrial-internet 工程师 standard: 助理工程师 since 2021-06-30, a software copyright."""
    base = {"education": [edu("本科", "2016-06-30", "自动化")], "work_history": [job("2016-07-01")],
            "titles": [assistant("2021-06-30", specialty="工业互联网")],
            "achievements": [ach("software_copyright", 2024)], "works": [work("project_report", None, False)]}
    return person(**{**base, **fields})


def bridging_worker(level: str, on: str, **fields: Any) -> ApplicantProfile:
    """A front-line skilled worker: vocational school, no professional title, one skill certificate."""
    base = {"education": [edu("中专", "2006-07-01", "数控技术应用")], "work_history": [job("2006-08-01")],
            "skill_certificates": [cert(level, on)],
            "achievements": [ach("technical_breakthrough"), ach("new_product", 2024)],
            "works": [work()]}
    return person(**{**base, **fields})


# ------------------------------------------------------------------------------------------------------------
# Standards: the seeds, plus variants built from them for relaxations the seeds do not exercise
# ------------------------------------------------------------------------------------------------------------

ASSISTANT_YAML = """
id: test-assistant-engineer
version: 1
name: {zh: 测试用助理工程师标准, en: Test assistant engineer}
series: 工程
specialty: 工程技术（通用）
level: 助理
title: 助理工程师
effective_from: 2019-02-01
source: "测试数据"
basic:
  not_retired: {tag: R, source: "测试"}
ladder: {level: 初级, title: 技术员, tag: S, source: "测试"}
education_routes:
  - id: master
    label: {zh: 具备硕士学位, en: Master}
    min_education: 硕士
representative_works:
  kinds: [technical_document, patent]
  min_count: {value: 1, tag: C, source: "测试"}
  technical_document_min_chars: {value: 5000, tag: S, source: "测试"}
bridging:
  map:
    - {skill_level: 高级工, title: 助理工程师, title_level: 助理,
       waiting_years: {value: 2, tag: S, source: "国家贯通意见：高级工满2年"}}
  relaxed_waiting_years: {value: 0, tag: S, source: "湘人社规〔2022〕22号第5条"}
  unit_assessment: {tag: S, source: "国家贯通意见"}
"""


def variant(base: str, **update: Any) -> Standard:
    """A seed standard with some parts replaced, re-validated so the variant is itself a coherent standard."""
    data = SEEDS[base].model_dump(mode="json")
    data.update(update)
    return Standard.model_validate(data)


SENIOR = SEEDS["national-engineering-senior"]
STANDARDS: dict[str, Standard] = {
    **SEEDS,
    "assistant": parse_standard(ASSISTANT_YAML, "assistant.yaml"),
    "senior+age": variant("national-engineering-senior", basic={
        **SENIOR.basic.model_dump(mode="json"),
        "max_age": {"value": 45, "tag": "C", "source": "测试用年龄上限"}}),
    "senior+language": variant("national-engineering-senior", basic={
        **SENIOR.basic.model_dump(mode="json"),
        "foreign_language": {"tag": "R", "source": "旧版职称外语要求"}}),
    "senior+papers": variant("national-engineering-senior", representative_works={
        **SENIOR.representative_works.model_dump(mode="json"),
        "min_count": {"value": 2, "tag": "C", "source": "测试"},
        "min_papers": {"value": 1, "tag": "R", "source": "旧版论文要求"}}),
}

HUNAN = "湘人社规〔2022〕22号"
DIRECT = Relaxations(bridging_waiting_years_override=0, source=HUNAN)
SESSION = Relaxations(waive_ladder=True, waive_age=True, waive_papers=True, waive_foreign_language=True,
                      allow_direct_senior=True, source=HUNAN)
EXCEPTIONAL_OPEN = Relaxations(allow_direct_senior=True)

M, N, J = Verdict.MET, Verdict.NOT_MET, Verdict.NEEDS_JUDGEMENT


@dataclass
class Row:
    """One applicant against one standard, and what the report must say."""

    id: str
    standard: str
    profile: ApplicantProfile
    overall: Verdict
    criterion: str
    verdict: Verdict
    fragment: str
    route: str = "normal"
    relax: Relaxations = field(default_factory=Relaxations)
    as_of: date = AS_OF


ENG = "national-engineering-engineer"
SEN = "national-engineering-senior"
PRO = "national-engineering-professor"
SME = "hunan-sme-advanced-manufacturing-senior"
HR = "hunan-sme-hr-senior-economist"
IIE = "industrial-internet-engineer"

ROWS = [
    # --- national 工程师: education + years routes and the 台阶
    Row("eng-bachelor-4y", ENG, engineer_ready(),
        M, "ladder", M, "取得助理工程师已满 4 年（2020-07-01 取得，至 2026-11-29 满 6 年）"),
    Row("eng-bachelor-3y", ENG, engineer_ready(titles=[assistant("2023-09-01")]),
        N, "ladder", N, "至 2026-11-29 满 3 年，将于 2027-09-01 满 4 年"),
    Row("eng-ladder-day-before", ENG, engineer_ready(titles=[assistant("2022-11-30")]),
        N, "ladder", N, "满 3 年，将于 2026-11-30 满 4 年"),
    Row("eng-ladder-exact-day", ENG, engineer_ready(titles=[assistant("2022-11-29")]),
        M, "ladder", M, "至 2026-11-29 满 4 年"),
    Row("eng-master-2y", ENG,
        engineer_ready(education=[edu("硕士", "2022-06-30")], titles=[assistant("2024-07-01")]),
        M, "ladder", M, "具备硕士学位，取得助理工程师后满2年"),
    Row("eng-doctorate-direct", ENG, engineer_ready(education=[edu("博士", "2023-06-30")], titles=[]),
        M, "ladder", M, "本路径无须先取得助理工程师，可直接申报"),
    Row("eng-secondary-vocational", ENG, engineer_ready(education=[edu("中专", "2003-07-01")]),
        N, "education", N, "最高学历为中专（中职）（机械工程），不符合任一申报路径的学历要求"),
    Row("eng-no-lower-title", ENG, engineer_ready(titles=[]),
        N, "ladder", N, "未取得工程系列初级（助理级）职称（助理工程师），本路径要求取得后满 4 年"),
    Row("eng-title-other-series", ENG,
        engineer_ready(titles=[title("助理经济师", "助理", "2015-01-01", series="经济")]),
        N, "ladder", N, "未取得工程系列初级（助理级）职称"),
    Row("eng-ladder-waived", ENG, engineer_ready(titles=[]),
        M, "ladder", M,
        "已按本场政策破除台阶限制（依据：湘人社规〔2022〕22号）（原要求取得助理工程师满 4 年）",
        relax=Relaxations(waive_ladder=True, source=HUNAN)),
    # --- basic conditions
    Row("eng-retired", ENG, engineer_ready(retired=True),
        N, "not_retired", N, "申报人已退休"),
    Row("eng-sanction-in-force", ENG,
        engineer_ready(sanctions=[{"kind": "demerit", "start": "2026-03-01", "end": "2027-03-01"}]),
        N, "no_sanction", N, "处于处分影响期内：记过（2026-03-01 至 2027-03-01）"),
    Row("eng-sanction-expired", ENG,
        engineer_ready(sanctions=[{"kind": "warning", "start": "2020-01-01", "end": "2020-07-01"}]),
        M, "no_sanction", M, "已过影响期的处分 1 项不影响申报"),
    Row("eng-integrity-in-force", ENG, engineer_ready(integrity_record_until="2027-05-01"),
        N, "no_integrity_record", N,
        "存在诚信记录，有效期至 2027-05-01，期间不得申报（2027-05-02 起可申报）"),
    Row("eng-integrity-ended", ENG, engineer_ready(integrity_record_until="2025-01-01"),
        M, "no_integrity_record", M, "诚信记录已于 2025-01-01 到期"),
    Row("eng-ce-short", ENG, engineer_ready(continuing_education=ce(96, 60, 120)),
        N, "continuing_education", N, "继续教育学时未达到每年 90 学时：2024 年 60 学时"),
    Row("eng-ce-missing-year", ENG, engineer_ready(continuing_education=ce(96, 90)),
        N, "continuing_education", N, "2025 年未填报"),
    Row("eng-ce-new-starter", ENG,
        engineer_ready(education=[edu("博士", "2026-06-30")], titles=[], work_history=[job("2026-07-01")],
                       continuing_education=[]),
        M, "continuing_education", M, "参加工作不足一个完整年度，无须核查继续教育学时"),
    # --- achievements, works, work experience
    Row("eng-no-achievement", ENG, engineer_ready(achievements=[]),
        N, "achievements", N, "符合条件的业绩成果 0 项，须至少 1 项"),
    Row("eng-achievement-unverified", ENG, engineer_ready(achievements=[ach("key_project", verified=False)]),
        J, "achievements", J, "其中 1 项待单位核实"),
    Row("eng-achievement-no-evidence", ENG, engineer_ready(achievements=[ach("key_project", evidence="")]),
        N, "achievements", N, "未提供证明材料"),
    Row("eng-techdoc-too-short", ENG, engineer_ready(works=[work(chars=3200)]),
        N, "representative_works", N, "共 3200 字，不足 5000 字"),
    Row("eng-techdoc-unverified", ENG, engineer_ready(works=[work(verified=False)]),
        J, "representative_works", J, "其中技术文档 1 件待单位认定"),
    Row("eng-patent-instead-of-paper", ENG, engineer_ready(works=[work("patent", None, False)]),
        M, "representative_works", M, "代表作 1 件，须 1 件：专利"),
    Row("eng-experience-by-experts", ENG, engineer_ready(achievements=[ach("award_municipal")]),
        J, "work_experience", J, "须由评审专家对照下列工作经历（具备其中 1 项）作出评议"),
    Row("eng-no-work-history", ENG, engineer_ready(work_history=[job(in_specialty=False)]),
        N, "work_experience", N, "未填报本专业工作经历"),
    # --- national 高级工程师
    Row("sen-bachelor-5y", SEN, senior_ready(),
        M, "ladder", M, "取得工程师已满 5 年（2019-07-01 取得，至 2026-11-29 满 7 年）"),
    Row("sen-bachelor-4y", SEN, senior_ready(titles=[engineer("2022-07-01")]),
        N, "ladder", N, "将于 2027-07-01 满 5 年"),
    Row("sen-doctorate-2y", SEN,
        senior_ready(education=[edu("博士", "2020-06-30")], titles=[engineer("2024-06-01")]),
        M, "ladder", M, "按「具备博士学位，取得工程师后满2年」路径：取得工程师已满 2 年"),
    Row("sen-college", SEN, senior_ready(education=[edu("大专", "2005-07-01")]),
        N, "education", N, "最高学历为大学专科（机械工程），不符合任一申报路径的学历要求"),
    Row("sen-one-achievement", SEN, senior_ready(achievements=[ach("patent_invention")]),
        N, "achievements", N, "符合条件的业绩成果 1 项，须至少 2 项"),
    Row("sen-session-waives-ladder", SEN, senior_ready(titles=[]),
        M, "ladder", M, "已按本场政策破除台阶限制", relax=SESSION),
    # --- 破格 with 正高 recommendations (national baseline)
    Row("sen-exceptional-2-recs", SEN, senior_ready(titles=[], recommendations=[rec(), rec(name="李研究员")]),
        M, "exceptional", M, "工程系列正高级专家书面推荐 2 名，现有 2 名（符合）",
        route="exceptional", relax=EXCEPTIONAL_OPEN),
    Row("sen-exceptional-1-rec", SEN, senior_ready(titles=[], recommendations=[rec()]),
        N, "exceptional", N, "正高级专家书面推荐 2 名，现有 1 名（不符合）",
        route="exceptional", relax=EXCEPTIONAL_OPEN),
    Row("sen-exceptional-recs-not-senior", SEN,
        senior_ready(titles=[], recommendations=[rec("副高"), rec("副高")]),
        N, "exceptional", N, "现有 0 名", route="exceptional", relax=EXCEPTIONAL_OPEN),
    Row("sen-exceptional-ladder-not-binding", SEN, senior_ready(titles=[], recommendations=[rec(), rec()]),
        M, "ladder", N, "破格申报不以此为硬性条件；", route="exceptional", relax=EXCEPTIONAL_OPEN),
    Row("sen-exceptional-closed", SEN, senior_ready(titles=[], recommendations=[rec(), rec()]),
        N, "exceptional", N, "本评审通道未开放破格", route="exceptional"),
    # --- bridging to 高级工程师 (高级技师 → 4 years nationally, direct in Hunan)
    Row("sen-bridging-4y", SEN, bridging_worker("高级技师", "2021-05-10"),
        J, "bridging_waiting_years", M, "取得高级技师已满 4 年（2021-05-10 取得，至 2026-11-29 满 5 年）",
        route="bridging"),
    Row("sen-bridging-1y", SEN, bridging_worker("高级技师", "2024-12-01"),
        N, "bridging_waiting_years", N, "将于 2028-12-01 满 4 年", route="bridging"),
    Row("sen-bridging-hunan-direct", SEN, bridging_worker("高级技师", "2025-03-01"),
        J, "bridging_waiting_years", M,
        "不受取得技能等级后年限限制（依据：湘人社规〔2022〕22号）（国家规定为 4 年）",
        route="bridging", relax=DIRECT),
    Row("sen-bridging-technician-too-low", SEN, bridging_worker("技师", "2015-01-01"),
        N, "skill_certificate", N, "贯通申报高级工程师须持有高级技师及以上职业技能等级证书，申报人持有：技师",
        route="bridging"),
    Row("sen-bridging-master-technician", SEN, bridging_worker("特级技师", "2020-01-01"),
        J, "skill_certificate", M, "持有特级技师（数控车工", route="bridging"),
    Row("sen-bridging-unit-assessment", SEN, bridging_worker("高级技师", "2020-01-01"),
        J, "unit_assessment", J, "须经用人单位考核合格并推荐", route="bridging"),
    # --- bridging to 工程师 (技师 → 3 years) and 助理工程师 (高级工 → 2 years)
    Row("eng-bridging-technician-3y", ENG, bridging_worker("技师", "2022-01-01"),
        J, "bridging_waiting_years", M, "取得技师已满 3 年", route="bridging"),
    Row("eng-bridging-technician-hunan", ENG, bridging_worker("技师", "2025-01-01"),
        J, "bridging_waiting_years", M, "（国家规定为 3 年）", route="bridging", relax=DIRECT),
    Row("eng-bridging-override-1y", ENG, bridging_worker("技师", "2026-01-01"),
        N, "bridging_waiting_years", N, "取得技能等级后年限由国家规定的 3 年调整为 1 年",
        route="bridging", relax=Relaxations(bridging_waiting_years_override=1)),
    Row("eng-bridging-senior-worker-too-low", ENG, bridging_worker("高级工", "2010-01-01"),
        N, "skill_certificate", N, "须持有技师及以上职业技能等级证书", route="bridging"),
    Row("asst-bridging-senior-worker-2y", "assistant", bridging_worker("高级工", "2024-06-01"),
        J, "bridging_waiting_years", M, "取得高级工已满 2 年（2024-06-01 取得，至 2026-11-29 满 2 年）",
        route="bridging"),
    Row("asst-bridging-senior-worker-1y", "assistant", bridging_worker("高级工", "2025-12-01"),
        N, "bridging_waiting_years", N, "将于 2027-12-01 满 2 年", route="bridging"),
    Row("asst-bridging-senior-worker-hunan", "assistant", bridging_worker("高级工", "2025-12-01"),
        J, "bridging_waiting_years", M, "可直接申报", route="bridging", relax=DIRECT),
    Row("prof-no-bridging-rule", PRO, bridging_worker("首席技师", "2015-01-01"),
        N, "skill_certificate", N, "本标准未规定技能人才贯通申报正高级工程师的条件", route="bridging"),
    # --- national 正高级工程师
    Row("prof-5y", PRO, professor_ready(),
        M, "ladder", M, "取得高级工程师已满 5 年（2020-01-01 取得，至 2026-11-29 满 6 年）"),
    Row("prof-4y", PRO, professor_ready(titles=[senior_engineer("2022-12-01")]),
        N, "ladder", N, "将于 2027-12-01 满 5 年"),
    Row("prof-benefit-without-evidence", PRO,
        professor_ready(
            achievements=[ach("patent_invention"), ach("key_project"), ach("economic_benefit", evidence="")]),
        N, "benefits", N, "经济效益「economic_benefit 成果」（2023）未提供证明材料"),
    Row("prof-one-work", PRO, professor_ready(works=[work()]),
        N, "representative_works", N, "论文不是唯一途径"),
    Row("prof-exceptional-recs", PRO, professor_ready(titles=[], recommendations=[rec(), rec()]),
        M, "exceptional", M, "破格条件（满足其一）", route="exceptional", relax=EXCEPTIONAL_OPEN),
    # --- Hunan SME advanced manufacturing 高级工程师: 1 achievement normally, 2 for 破格
    Row("sme-normal", SME, sme_ready(),
        M, "achievements", M, "符合条件的业绩成果 1 项（已核实 1 项），须 1 项"),
    Row("sme-exceptional-2", SME,
        sme_ready(titles=[], achievements=[ach("first_of_kind_equipment"), ach("patent_invention")]),
        M, "exceptional", M, "业绩成果 2 项，现有 2 项（已核实 2 项）（符合）",
        route="exceptional", relax=EXCEPTIONAL_OPEN),
    Row("sme-exceptional-1", SME, sme_ready(titles=[]),
        N, "exceptional", N, "业绩成果 2 项，现有 1 项", route="exceptional", relax=EXCEPTIONAL_OPEN),
    Row("sme-exceptional-unverified", SME,
        sme_ready(titles=[],
                  achievements=[ach("first_of_kind_equipment"), ach("patent_invention", verified=False)]),
        J, "exceptional", J, "现有 2 项（已核实 1 项）", route="exceptional", relax=EXCEPTIONAL_OPEN),
    Row("sme-kind-not-listed", SME, sme_ready(achievements=[ach("software_copyright")]),
        N, "achievements", N, "可计入：授权发明专利、主持或参与制定标准"),
    Row("sme-direct-bachelor-10y", SME, sme_ready(titles=[], work_history=[job("2012-03-01")]),
        M, "specialty_years", M, "从事本专业技术工作累计 14 年 8 个月（至 2026-11-29），满 10 年"),
    Row("sme-direct-too-short", SME, sme_ready(titles=[], work_history=[job("2019-09-01")]),
        N, "ladder", N, "未取得工程系列中级职称（工程师）"),
    Row("sme-direct-unrelated-major", SME,
        sme_ready(titles=[], education=[edu("本科", major="会计学", related=False)]),
        N, "ladder", N, "按「具备硕士学位或大学本科学历，取得工程师后满5年」路径"),
    Row("sme-bridging-hunan-direct", SME,
        bridging_worker("高级技师", "2025-06-01", achievements=[ach("key_project")]),
        J, "bridging_waiting_years", M, "可直接申报", route="bridging", relax=DIRECT),
    Row("sme-after-policy-expiry", SME, sme_ready(),
        N, "standard_in_force", N, "2027-07-01 不在有效期内", as_of=date(2027, 7, 1)),
    # --- HR-management 高级经济师
    Row("hr-economist-5y", HR, hr_ready(),
        M, "ladder", M, "取得经济师已满 5 年（2018-11-01 取得，至 2026-11-29 满 8 年）"),
    Row("hr-accountant-counts", HR, hr_ready(titles=[title("会计师", "中级", "2019-05-01", series="会计")]),
        M, "ladder", M, "取得会计师已满 5 年"),
    Row("hr-engineer-does-not-count", HR, hr_ready(titles=[engineer("2015-05-01")]),
        N, "ladder", N, "未取得经济、会计、统计、审计系列中级职称（经济师）"),
    Row("hr-college-10y", HR,
        hr_ready(education=[edu("大专", "2005-07-01", "人力资源管理")],
                 titles=[title("经济师", "中级", "2017-06-01", series="经济")]),
        N, "ladder", N, "按「具备大学专科学历，取得经济师后满10年」路径：取得经济师未满 10 年"),
    Row("hr-no-benefit", HR, hr_ready(achievements=[ach("key_project")]),
        N, "benefits", N, "有证明材料的经济效益、社会效益 0 项，须至少 1 项"),
    Row("hr-case-study-work", HR, hr_ready(works=[work("case_study", None, False)]),
        M, "representative_works", M, "管理案例"),
    Row("hr-exceptional-recs", HR, hr_ready(titles=[], recommendations=[hr_rec(), hr_rec("王教授")]),
        M, "exceptional", M,
        "经济系列（人力资源管理、人力资源专业）正高级专家书面推荐 2 名，现有 2 名（符合）",
        route="exceptional", relax=EXCEPTIONAL_OPEN),
    Row("hr-exceptional-wrong-specialty", HR,
        hr_ready(titles=[], achievements=[ach("social_benefit")],
                 recommendations=[rec(series="经济", specialty="金融")] * 2),
        N, "exceptional", N, "正高级专家书面推荐 2 名，现有 0 名（不符合）",
        route="exceptional", relax=EXCEPTIONAL_OPEN),
    # --- new occupation: 工业互联网工程技术人员 工程师
    Row("iie-normal", IIE, iie_ready(),
        M, "achievements", M, "软件著作权"),
    Row("iie-ladder-short", IIE, iie_ready(titles=[assistant("2023-06-30")]),
        N, "ladder", N, "将于 2027-06-30 满 4 年"),
    Row("iie-bridging-hunan", IIE,
        bridging_worker("技师", "2026-05-01", education=[edu("中专", "2008-07-01", "电气")]),
        J, "bridging_waiting_years", M, "技师证书于 2026-05-01 取得", route="bridging", relax=DIRECT),
    # --- relaxations the seeds do not carry: age, foreign language, a legacy paper mandate
    Row("age-over-limit", "senior+age", senior_ready(birth_date="1975-12-01"),
        N, "age", N, "至 2026-11-29 年满 50 周岁，超过 45 周岁的年龄上限"),
    Row("age-waived", "senior+age", senior_ready(birth_date="1975-12-01"),
        M, "age", M, "已按本场政策放宽年龄限制（依据：湘人社规〔2022〕22号）", relax=SESSION),
    Row("age-birthday-tomorrow", "senior+age", senior_ready(birth_date="1980-11-30"),
        M, "age", M, "至 2026-11-29 年满 45 周岁，不超过 45 周岁"),
    Row("language-missing", "senior+language", senior_ready(),
        N, "foreign_language", N, "本标准要求外语合格证明，申报人未填报"),
    Row("language-waived", "senior+language", senior_ready(),
        M, "foreign_language", M, "本场评审不作外语要求", relax=SESSION),
    Row("papers-missing", "senior+papers", senior_ready(works=[work(), work("patent", None, False)]),
        N, "representative_works", N, "至少有论文 1 篇，现有 0 篇"),
    Row("papers-waived", "senior+papers", senior_ready(works=[work(), work("patent", None, False)]),
        M, "representative_works", M,
        "本场评审不作论文硬性要求（依据：湘人社规〔2022〕22号）（标准原要求论文 1 篇）",
        relax=SESSION),
]


def report_for(row: Row) -> EligibilityReport:
    return evaluate(row.profile, STANDARDS[row.standard], route=row.route, relaxations=row.relax,
                    as_of=row.as_of)


def test_the_table_is_large_and_ids_are_unique():
    assert len(ROWS) >= 40
    assert len({r.id for r in ROWS}) == len(ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_eligibility_table(row: Row):
    report = report_for(row)
    criterion = report.criterion(row.criterion)
    explanation = criterion.explanation.zh
    assert criterion.verdict == row.verdict, explanation
    assert row.fragment in explanation, explanation
    assert report.overall == row.overall, report.summary.zh + " | " + "; ".join(
        f"{c.id}={c.verdict.value}" for c in report.criteria)
    assert criterion.explanation.en  # every explanation is available in English too
    # Consistency of the summary fields with the criteria, whatever the row.
    blocking = [c for c in report.criteria if c.hard and c.verdict == Verdict.NOT_MET]
    assert len(report.blocking_reasons) == len(blocking)
    assert report.can_submit == (not blocking)


# ------------------------------------------------------------------------------------------------------------
# Beyond the table: the outlook for 破格, determinism, provenance, input errors, durations
# ------------------------------------------------------------------------------------------------------------


def test_normal_route_failure_points_to_exceptional_route_with_missing_evidence():
    report = evaluate(senior_ready(titles=[], recommendations=[rec()]), SENIOR, relaxations=EXCEPTIONAL_OPEN,
                      as_of=AS_OF)
    assert report.overall == Verdict.NOT_MET
    assert report.allows_exceptional
    outlook = report.exceptional_outlook
    assert outlook is not None and not outlook.ready
    assert outlook.overcomes == ["ladder"]
    assert "还需 1 名工程系列正高级专家书面推荐（须 2 名，现有 1 名）" in outlook.missing[0].zh


def test_exceptional_outlook_ready_when_evidence_is_present():
    profile = sme_ready(titles=[], work_history=[job("2019-09-01")],
                        achievements=[ach("patent_invention"), ach("key_project")])
    report = evaluate(profile, SEEDS[SME], relaxations=EXCEPTIONAL_OPEN, as_of=AS_OF)
    assert report.overall == Verdict.NOT_MET and report.allows_exceptional
    assert report.exceptional_outlook is not None and report.exceptional_outlook.ready
    assert "破格条件已具备" in report.exceptional_outlook.explanation.zh


def test_no_exceptional_outlook_when_a_basic_condition_fails_or_the_route_is_closed():
    retired = evaluate(senior_ready(titles=[], retired=True), SENIOR, relaxations=EXCEPTIONAL_OPEN,
                       as_of=AS_OF)
    assert retired.overall == Verdict.NOT_MET and not retired.allows_exceptional
    closed = evaluate(senior_ready(titles=[]), SENIOR, as_of=AS_OF)
    assert closed.overall == Verdict.NOT_MET and not closed.allows_exceptional
    assert closed.exceptional_outlook is None


def test_every_threshold_used_carries_its_provenance():
    report = evaluate(senior_ready(), SENIOR, as_of=AS_OF)
    ladder = report.criterion("ladder")
    years = next(t for t in ladder.thresholds if t.path == "education_routes[1].ladder_years")
    assert (years.value, years.tag.value) == (5, "S")
    assert "取得工程师职称后" in years.source
    assert years.tag_label.zh == "已见公开来源"
    ce_use = report.criterion("continuing_education").thresholds[0]
    assert (ce_use.value, ce_use.tag.value) == (90, "R")


def test_bridging_override_records_national_and_applied_values():
    report = evaluate(bridging_worker("高级技师", "2025-03-01"), SENIOR, route="bridging", relaxations=DIRECT,
                      as_of=AS_OF)
    waiting = report.criterion("bridging_waiting_years")
    assert waiting.relaxation == "bridging_waiting_years_override"
    assert (waiting.thresholds[0].value, waiting.thresholds[0].applied) == (4, 0)
    assert waiting.evidence[0].path == "skill_certificates[0]"


def test_every_route_is_tried_and_reported():
    profile = sme_ready(titles=[], education=[edu("本科", major="会计学", related=False)])
    report = evaluate(profile, SEEDS[SME], as_of=AS_OF)
    outcomes = {o.id: o for o in report.route_outcomes}
    assert list(outcomes) == ["doctorate", "master-or-bachelor", "doctorate-direct", "master-direct",
                              "bachelor-direct"]
    assert all(o.verdict == Verdict.NOT_MET for o in outcomes.values())
    assert "所学专业（会计学）未申明与申报专业（先进制造）相关" in outcomes["bachelor-direct"].details[0].zh
    assert report.education_route == "master-or-bachelor"


def test_evidence_points_into_the_profile():
    report = evaluate(senior_ready(), SENIOR, as_of=AS_OF)
    assert [e.path for e in report.criterion("ladder").evidence] == ["titles[1]"]
    paths = [e.path for e in report.criterion("achievements").evidence]
    assert paths == ["achievements[0]", "achievements[1]"]
    assert report.education_route == "master-or-bachelor"


def test_evaluation_is_pure_and_deterministic():
    profile = senior_ready()
    before = profile.model_dump()
    first = evaluate(profile, SENIOR, as_of=AS_OF)
    second = evaluate(profile, SENIOR, as_of=AS_OF)
    assert first == second
    assert profile.model_dump() == before
    later = evaluate(profile, SENIOR, as_of=date(2030, 1, 1))
    assert "至 2030-01-01 满 10 年" in later.criterion("ladder").explanation.zh


def test_entries_dated_after_as_of_are_ignored_not_rejected():
    data = senior_ready().model_dump(mode="json")
    data["titles"] = [engineer("2027-03-01")]
    report = evaluate(data, SENIOR, as_of=AS_OF)
    assert "工程师于 2027-03-01 取得，晚于 2026-11-29" in report.criterion("ladder").explanation.zh


def test_report_is_json_serialisable_and_round_trips():
    report = evaluate(senior_ready(), SENIOR, route="bridging", as_of=AS_OF)
    body = json.loads(json.dumps(report.model_dump(mode="json"), ensure_ascii=False))
    assert EligibilityReport.model_validate(body) == report


def test_profile_and_standard_bodies_are_accepted_as_dicts():
    report = evaluate(senior_ready().model_dump(mode="json"), SENIOR.model_dump(mode="json"),
                      relaxations={"waive_ladder": True}, as_of=AS_OF)
    assert report.overall == Verdict.MET


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"route": "fast-track"}, "未知的申报通道 'fast-track'"),
    ({"as_of": "2026-11-29"}, "as_of: 须为日期（date），实际为 str"),
    ({"relaxations": {"waive_everything": True}}, "relaxations.waive_everything"),
    ({"relaxations": {"bridging_waiting_years_override": -1}}, "relaxations.bridging_waiting_years_override"),
    ({"profile": ["not", "a", "mapping"]}, "profile: 须为 ApplicantProfile 或键值结构，实际为 list"),
    ({"profile": {"birth_date": "1985-13-01"}}, "profile.birth_date"),
    ({"profile": {"birth_date": "1985-01-01", "titles": [{"level": "特高"}]}}, "profile.titles[0].level"),
    ({"standard": {"id": "x"}}, "standard: version: required field is missing"),
    ({"standard": 42}, "standard: 须为 Standard 或键值结构，实际为 int"),
])
def test_malformed_input_gives_clear_errors(kwargs: dict[str, Any], fragment: str):
    args: dict[str, Any] = {"profile": senior_ready(), "standard": SENIOR, "route": "normal", "as_of": AS_OF}
    args.update(kwargs)
    profile, standard = args.pop("profile"), args.pop("standard")
    with pytest.raises(EligibilityInputError) as caught:
        evaluate(profile, standard, **args)
    assert fragment in str(caught.value)
    assert caught.value.status == 422


def test_a_datetime_is_not_a_date():
    from datetime import datetime

    with pytest.raises(EligibilityInputError, match="as_of"):
        evaluate(senior_ready(), SENIOR, as_of=datetime(2026, 11, 29, 12, 0))


def test_every_input_problem_is_reported_at_once():
    with pytest.raises(EligibilityInputError) as caught:
        evaluate({"birth_date": "x"}, 42, route="nope", relaxations=3, as_of=None)
    assert {where.split(".")[0] for where, _ in caught.value.problems} == {
        "profile", "standard", "route", "relaxations", "as_of"}


# ------------------------------------------------------------------------------------------------------------
# The profile's own validation (what a web form shows)
# ------------------------------------------------------------------------------------------------------------


def test_profile_rejects_future_dates_with_a_clear_message():
    data = senior_ready().model_dump(mode="json")
    data["titles"][0]["obtained_on"] = "2027-01-01"
    with pytest.raises(ProfileInvalid) as caught:
        parse_profile(data, today=AS_OF)
    path, message = caught.value.problems[0]
    assert path == "titles[0].obtained_on"
    assert "日期 2027-01-01 晚于今天（2026-11-29），不能填写将来的日期" in message


@pytest.mark.parametrize(("change", "path", "fragment"), [
    (lambda d: d["work_history"].append(job("2020-01-01", "2019-01-01")), "work_history[1]",
     "结束日期 2019-01-01 早于开始日期"),
    (lambda d: d["education"].append(edu("硕士", "1980-07-01")), "",
     "education[1].graduated_on: 日期 1980-07-01 不晚于出生日期"),
    (lambda d: d["continuing_education"].append({"year": 2024, "hours": 10}), "", "2024 年重复填报"),
    (lambda d: d["achievements"].append(ach("time_machine")), "achievements[2].kind", "Input should be"),
    (lambda d: d["achievements"].append(ach("key_project", year=2031)), "achievements[2].year",
     "年份 2031 晚于今年"),
    (lambda d: d.update(nickname="x"), "nickname", "Extra inputs are not permitted"),
    (lambda d: d["skill_certificates"].append(cert("技师", "2020-01-01") | {"certificate_no": "  "}),
     "skill_certificates[0].certificate_no", "不能为空"),
    (lambda d: d["continuing_education"].append({"year": 2022, "hours": -5}), "continuing_education[3].hours",
     "greater than or equal to 0"),
])
def test_profile_validation_messages(change, path: str, fragment: str):
    data = senior_ready().model_dump(mode="json")
    change(data)
    with pytest.raises(ProfileInvalid) as caught:
        parse_profile(data, today=AS_OF)
    assert any(p == path and fragment in m for p, m in caught.value.problems), caught.value.problems


def test_profile_json_round_trip_and_labels():
    profile = hr_ready(skill_certificates=[cert("技师", "2020-01-01")])
    body = json.loads(json.dumps(profile.model_dump(mode="json"), ensure_ascii=False))
    assert parse_profile(body, today=AS_OF) == profile
    assert body["titles"][0]["level"] == "中级"
    assert profile.titles[0].level.zh == "中级" and profile.titles[0].level.en == "Intermediate"
    assert profile.skill_certificates[0].level.zh == "二级/技师"
    assert profile.highest_education() is not None


# ------------------------------------------------------------------------------------------------------------
# Durations are full calendar years and months
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "end", "years"), [
    (date(2019, 7, 1), date(2026, 11, 29), 7),
    (date(2019, 7, 1), date(2024, 6, 30), 4),
    (date(2019, 7, 1), date(2024, 7, 1), 5),
    (date(2020, 2, 29), date(2021, 2, 28), 0),
    (date(2020, 2, 29), date(2021, 3, 1), 1),
    (date(2020, 2, 29), date(2024, 2, 29), 4),
    (date(2026, 1, 1), date(2025, 1, 1), 0),
])
def test_full_years(start: date, end: date, years: int):
    assert full_years(start, end) == years


def test_full_years_agrees_with_anniversary():
    for start in (date(2020, 2, 29), date(2019, 12, 31), date(2001, 1, 1)):
        for n in range(1, 9):
            due = anniversary(start, n)
            assert full_years(start, due) == n
            assert full_years(start, due - timedelta(days=1)) == n - 1


@pytest.mark.parametrize(("start", "end", "months"), [
    (date(2019, 7, 1), date(2019, 8, 1), 1),
    (date(2019, 7, 15), date(2019, 8, 14), 0),
    (date(2019, 1, 31), date(2019, 2, 28), 0),
    (date(2012, 3, 1), date(2026, 11, 29), 176),
])
def test_full_months(start: date, end: date, months: int):
    assert full_months(start, end) == months


def test_overlapping_jobs_count_once():
    profile = sme_ready(titles=[], work_history=[job("2012-03-01", "2020-02-29"), job("2018-01-01")])
    report = evaluate(profile, SEEDS[SME], as_of=AS_OF)
    assert "累计 14 年 8 个月" in report.criterion("specialty_years").explanation.zh


def test_standard_variants_used_by_the_table_are_coherent():
    assert STANDARDS["senior+age"].basic.max_age == Threshold(value=45, tag="C", source="测试用年龄上限")
    assert STANDARDS["assistant"].bridging_entries()[0].skill_level.value == "高级工"
