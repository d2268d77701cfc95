"""Small profile factories and the seed standards shared by the eligibility tests.

Every factory returns a plain dict in the stored profile shape (schema v2), so a test can tweak any field and
hand the dict to :func:`workflow.eligibility.evaluate` (which validates it without the "no future dates"
check). ``profile(**overrides)`` builds a whole applicant: a working engineer who meets every basic
condition on :data:`AS_OF`; the overrides replace the defaults (lists are replaced whole).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from workflow.eligibility import EligibilityReport, Relaxations, evaluate
from workflow.eligibility.dates import anniversary
from workflow.eligibility.standards import Standard, load_standard_dir

AS_OF = date(2026, 11, 29)
"""The evaluation date unless a test says otherwise (the evaluator has no clock of its own)."""

STANDARDS: dict[str, Standard] = load_standard_dir()
HUNAN = STANDARDS["hunan-sme-advanced-manufacturing-senior"]
SENIOR = STANDARDS["national-engineering-senior"]
ENGINEER = STANDARDS["national-engineering-engineer"]
ASSISTANT = STANDARDS["national-engineering-assistant"]

POLICY = "湘人社规〔2022〕22号"
SESSION = Relaxations(waive_ladder=True, waive_age=True, waive_papers=True, waive_foreign_language=True,
                      allow_direct_senior=True, source=POLICY)
"""A 湘产专场 that waives the 台阶 and allows direct senior application: the direct routes are open."""
ALLOW_DIRECT = Relaxations(allow_direct_senior=True, source=POLICY)
"""The exceptional-senior pipeline's relaxation (allow_exceptional)."""
HUNAN_CHANNEL = Relaxations(local_bridging_channel=True, source=POLICY)
"""The Hunan 22号 bridging channel: each entry's local wait."""


# ------------------------------------------------------------------------------------------------------------
# Dates
# ------------------------------------------------------------------------------------------------------------


def years_before(n: int, on: date = AS_OF) -> date:
    """The start date whose Nth anniversary is ``on`` (so "N years" are reached exactly on ``on``)."""
    start = on.replace(year=on.year - n)
    assert anniversary(start, n) == on
    return start


def day_after(d: date) -> date:
    """One day later: a start one day later than :func:`years_before` falls one day short."""
    return d + timedelta(days=1)


def iso(d: date | str) -> str:
    """A date as ISO text (strings pass through)."""
    return d if isinstance(d, str) else d.isoformat()


# ------------------------------------------------------------------------------------------------------------
# Profile entries
# ------------------------------------------------------------------------------------------------------------


def edu(level: str = "本科", on: date | str = "2007-07-01", *, degree: str | None = None, major: str = "机械工程",
        related: bool = True) -> dict:
    """A general (non-技工院校) education: 学历 ``level`` and optional 学位 ``degree``."""
    out: dict[str, Any] = {"level": level, "graduated_on": iso(on), "major": major, "major_related": related}
    if degree is not None:
        out["degree"] = degree
    return out


def tech_edu(technical_class: str, on: date | str = "2007-07-01", *, major: str = "数控加工") -> dict:
    """A 技工院校 education, declared by its class (中级工班, 高级工班, 预备技师班)."""
    return {"school_type": "technical_school", "technical_class": technical_class, "graduated_on": iso(on),
            "major": major, "major_related": True}


def title(name: str, level: str, on: date | str, *, series: str = "工程", specialty: str = "机械") -> dict:
    """A professional title held."""
    return {"series": series, "specialty": specialty, "level": level, "name": name, "obtained_on": iso(on)}


def technician(on: date | str) -> dict:
    """技术员 (初级, 员级)."""
    return title("技术员", "初级", on)


def assistant(on: date | str) -> dict:
    """助理工程师 (初级, 助理级)."""
    return title("助理工程师", "助理", on)


def engineer(on: date | str) -> dict:
    """工程师 (中级)."""
    return title("工程师", "中级", on)


def job(start: date | str = "2007-07-15", end: date | str | None = None, *, in_specialty: bool = True,
        in_industry: bool = False, employer: str = "湖南某装备制造有限公司") -> dict:
    """One job; ``end`` is its last day (None while it goes on)."""
    return {"employer": employer, "start": iso(start), "end": None if end is None else iso(end), "post": "技术部",
            "in_specialty": in_specialty, "in_industry": in_industry}


def cert(level: str, on: date | str, *, occupation: str = "数控车工") -> dict:
    """A vocational skill certificate."""
    return {"occupation": occupation, "level": level, "certificate_no": f"S43{iso(on).replace('-', '')}",
            "obtained_on": iso(on)}


def ach(kind: str, item: str = "", *, year: int = 2024, level: str | None = None, rank: int | None = None,
        count: int = 1, appraisal_level: str | None = None, appraised_by: str = "", verified: bool = True,
        evidence: str = "EV-001", description: str = "") -> dict:
    """An achievement entry (typed to item ``item`` of the standard when given)."""
    out: dict[str, Any] = {"kind": kind, "item": item, "description": description or f"{kind} 成果", "year": year,
                           "count": count, "appraised_by": appraised_by, "evidence": evidence,
                           "verified": verified}
    if level is not None:
        out["level"] = level
    if rank is not None:
        out["rank"] = rank
    if appraisal_level is not None:
        out["appraisal_level"] = appraisal_level
    return out


# Hunan 第八条: one qualifying entry per item, verified.
def item1(level: str = "provincial", kind: str = "award_provincial", **kw: Any) -> dict:
    """Item 1: helped the firm win a national or provincial honour."""
    return ach(kind, "1", level=level, description="湖湘精品", **kw)


def item2(appraisal_level: str = "provincial", **kw: Any) -> dict:
    """Item 2: a provincial key technology project appraised at provincial level."""
    return ach("key_project", "2", level="provincial", appraisal_level=appraisal_level, appraised_by="省科技厅",
               description="省重点研发项目", **kw)


def item3(**kw: Any) -> dict:
    """Item 3: a large or mid-size engineering project, accepted."""
    return ach("key_project", "3", appraisal_level="enterprise", appraised_by="业主单位", description="产线改造",
               **kw)


def item5(**kw: Any) -> dict:
    """Item 5: a provincial first-of-kind device, appraised."""
    return ach("first_of_kind_equipment", "5", level="provincial", appraisal_level="provincial",
               appraised_by="省工信厅", description="首台套盾构刀盘", **kw)


def item6(kind: str = "patent_invention", *, rank: int = 1, count: int = 1, **kw: Any) -> dict:
    """Item 6: patents or software copyrights among the first 3 named."""
    return ach(kind, "6", rank=rank, count=count, description=f"{kind} 专利", **kw)


def item7(level: str = "provincial", **kw: Any) -> dict:
    """Item 7: a provincial technical standard in use."""
    return ach("standard_drafted", "7", level=level, description="湖南省地方标准", **kw)


def item8(**kw: Any) -> dict:
    """Item 8: long front-line service (always the experts' judgement)."""
    return ach("frontline_service", "8", description="扎根一线二十年", **kw)


def firm_role(role: str = "principal", start: date | str = "2015-01-01", end: date | str | None = None, *,
              employer: str = "长沙某精密机械有限公司") -> dict:
    """A period leading a firm."""
    return {"employer": employer, "role": role, "start": iso(start), "end": None if end is None else iso(end)}


def firm_rec(kind: str = "national_little_giant", year: int = 2021, *,
             employer: str = "长沙某精密机械有限公司") -> dict:
    """A recognition the firm holds."""
    return {"employer": employer, "kind": kind, "year": year}


def work(kind: str = "technical_document", *, chars: int | None = 8000, verified: bool = True,
         year: int = 2024) -> dict:
    """A representative work (a unit-verified 8000-character technical document by default)."""
    return {"kind": kind, "title": f"{kind} 代表作", "year": year, "character_count": chars,
            "unit_verified": verified}


def rec(level: str = "正高", *, specialty: str = "机械", series: str = "工程", name: str = "张教授") -> dict:
    """A written recommendation by an expert."""
    return {"expert_name": name, "expert_title": "正高级工程师" if level == "正高" else "高级工程师",
            "expert_level": level, "series": series, "specialty": specialty}


def ce(*hours: float, start: int = AS_OF.year - 3) -> list[dict]:
    """Continuing-education hours for consecutive years from ``start``."""
    return [{"year": start + i, "hours": h} for i, h in enumerate(hours)]


FULL_CE = ce(*[96] * 12, start=2015)
"""96 hours in every year from 2015 to 2026 (the evaluator checks the last three full years before as_of)."""


def profile(**overrides: Any) -> dict:
    """A working engineer born 1985 with a related 本科, one job since 2007 and full continuing education."""
    data: dict[str, Any] = {
        "schema_version": 2,  # without it the body is read as version 1, whose upgrade resets in_industry
        "birth_date": "1985-03-02",
        "education": [edu()],
        "work_history": [job()],
        "continuing_education": FULL_CE,
    }
    data.update(overrides)
    return data


def hunan_normal(**overrides: Any) -> dict:
    """Meets the Hunan SME standard's normal route: 本科, 工程师 since 2019, verified item 2, a document."""
    base = {"titles": [assistant("2011-07-01"), engineer("2019-07-01")], "achievements": [item2()],
            "works": [work()]}
    return profile(**{**base, **overrides})


def hunan_direct(**overrides: Any) -> dict:
    """Meets the Hunan 13-year direct route (本科, 助理工程师 2011, in the industry since 2007), with items 2
    and 6 verified and no 工程师 title."""
    base = {"titles": [assistant("2011-07-01")], "achievements": [item2(), item6()], "works": [work()]}
    return profile(**{**base, **overrides})


def bridging_worker(level: str, on: date | str, **overrides: Any) -> dict:
    """A front-line skilled worker: 中专, no professional title, one skill certificate, three verified
    achievements (a breakthrough, a new product, a provincial key project: item 2 of the Hunan standard) and a
    unit-verified technical document."""
    base = {"education": [edu("中专", "2006-07-01", major="数控技术应用")], "work_history": [job("2006-08-01")],
            "skill_certificates": [cert(level, on)],
            "achievements": [ach("technical_breakthrough"), ach("new_product"), item2()], "works": [work()]}
    return profile(**{**base, **overrides})


PASSED = {"result": "合格", "on": AS_OF, "by": "人力资源部"}
"""A unit assessment passed on AS_OF."""


def run(data: Any, standard: Standard = HUNAN, **kwargs: Any) -> EligibilityReport:
    """Evaluate ``data`` on ``standard`` as of :data:`AS_OF` unless ``as_of`` is given."""
    kwargs.setdefault("as_of", AS_OF)
    return evaluate(data, standard, **kwargs)


def describe(report: EligibilityReport) -> str:
    """A one-line digest for assertion messages: overall, route verdicts and criterion verdicts."""
    routes = "; ".join(f"{r.id}:{'open' if r.open else 'closed'}:{r.verdict.value}:{r.decided_by}"
                       for r in report.routes)
    crit = "; ".join(f"{c.id}={c.verdict.value}" for c in report.criteria)
    return f"overall={report.overall.value} route={report.education_route} | {routes} | {crit}"
