"""Sessions and standards on the web (issue 14, item 5): the administrator ticks the standards a session accepts,
refusals appear next to that field; the applicant is offered, per session, only the standards it accepts, and a
forged choice is refused with the form kept."""

from __future__ import annotations

import re

from sqlalchemy import select, update
from webhelpers import open_case

from workflow.models import Case, ReviewSession

SENIOR = "hunan-sme-advanced-manufacturing-senior"
HR = "hunan-sme-hr-senior-economist"
HR_NAME = "湖南省专精特新中小企业人力资源管理专场高级经济师评价标准"

_session = ReviewSession.__table__

SESSION_FORM = {"code": "2026-XC-AI", "name": "2026年湘产专场·人工智能", "name_en": "AI session", "series": "工程",
                "industry": "人工智能", "year": "2026", "pipeline_ids": ["industry-session"], "opens_on": "2026-03-01",
                "closes_on": "2026-06-30", "sitting_on": "2026-09-15", "status": "open"}


def _by_code(db, code: str) -> dict | None:
    with db.read() as conn:
        return conn.execute(select(_session).where(_session.c.code == code)).mappings().first()


def _standards_field(page: str) -> str:
    """The session form's block of standard checkboxes with its error messages."""
    match = re.search(r'<fieldset class="mb-3" id="standard_ids-group".*?</fieldset>', page, re.S)
    assert match, "no standards field"
    return match.group(0)


def _optgroups(page: str) -> dict[str, list[str]]:
    """The new-case form's standard options, per session group (label → option values)."""
    select_html = re.search(r'<select [^>]*id="standard_id".*?</select>', page, re.S).group(0)
    return {label: re.findall(r'<option value="([^"]+)"', body)
            for label, body in re.findall(r'<optgroup label="([^"]*)">(.*?)</optgroup>', select_html, re.S)}


def _add_hr_session(cast) -> int:
    with cast.db.write() as conn:
        return conn.execute(_session.insert().values(
            code="2026-HRM", name="2026年人力资源管理高级职称专场", name_en="2026 HR senior titles", series="经济",
            industry="人力资源管理", year=2026, pipeline_ids=["industry-session"], standard_ids=[HR],
            authority_org_id=cast.authority, parameters={}, relaxations={}, status="open")
        ).inserted_primary_key[0]


# --------------------------------------------------------------------------------------------- administrator


def test_the_administrator_ticks_the_standards_and_sees_them_listed(cast, browser):
    b = browser("admin")
    page = b.get("/admin/sessions/new").get_data(as_text=True)
    field = _standards_field(page)
    assert f"{HR_NAME}（经济·副高）" in field and "（工程·助理）" in field  # name, series and level
    data = {**SESSION_FORM, "authority_org_id": str(cast.authority),
            "standard_ids": [SENIOR, "national-engineering-engineer"]}
    assert b.post("/admin/sessions/new", data=data).status_code == 303
    row = _by_code(cast.db, "2026-XC-AI")
    assert row["standard_ids"] == [SENIOR, "national-engineering-engineer"]
    edit = b.get(f"/admin/sessions/{row['id']}").get_data(as_text=True)
    ticked = re.findall(r'<input checked [^>]*name="standard_ids"[^>]*value="([^"]+)"', edit)
    assert ticked == [SENIOR, "national-engineering-engineer"]
    listing = b.get("/admin/sessions").get_data(as_text=True)
    ai_row = re.search(r"<tr><td>2026-XC-AI</td>.*?</tr>", listing, re.S).group(0)
    assert "湖南省专精特新中小企业先进制造专业高级工程师评价标准" in ai_row and "（工程·中级）" in ai_row
    assert HR_NAME not in ai_row


def test_a_standard_of_another_series_is_refused_next_to_the_field_in_chinese_and_english(cast, browser):
    b = browser("admin")
    data = {**SESSION_FORM, "authority_org_id": str(cast.authority), "standard_ids": [SENIOR, HR]}
    response = b.post("/admin/sessions/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and _by_code(cast.db, "2026-XC-AI") is None
    field = _standards_field(page)
    assert f"评价标准“{HR_NAME}”（经济系列·副高）与本评审会的“工程”系列不符" in field
    assert 'id="standard_ids-error"' in field and 'aria-describedby="standard_ids-error"' in field
    assert 'class="alert alert-danger"' not in page  # not a page-level error: it belongs to the field
    assert "2026年湘产专场·人工智能" in page  # the typed form is kept, the ticks too
    assert re.findall(r'<input checked [^>]*name="standard_ids"[^>]*value="([^"]+)"', page) == [SENIOR, HR]
    b.get("/lang/en")
    english = _standards_field(b.post("/admin/sessions/new", data=data).get_data(as_text=True))
    assert "Not of this session&#39;s series (工程)" in english and "Hunan SME HR-management session" in english
    assert "Accepted occupation standards" in english


def test_an_open_session_needs_a_standard_and_a_forged_id_is_named(cast, browser):
    b = browser("admin")
    base = {**SESSION_FORM, "authority_org_id": str(cast.authority)}
    none = b.post("/admin/sessions/new", data=base)
    assert none.status_code == 422
    assert "受理中的评审会须至少选择一个受理的评价标准" in _standards_field(none.get_data(as_text=True))
    forged = b.post("/admin/sessions/new", data={**base, "standard_ids": [SENIOR, "no-such-standard"]})
    assert forged.status_code == 422
    assert "评价标准不存在：no-such-standard" in _standards_field(forged.get_data(as_text=True))
    assert _by_code(cast.db, "2026-XC-AI") is None
    closed = b.post("/admin/sessions/new", data={**base, "status": "closed"})
    assert closed.status_code == 303 and _by_code(cast.db, "2026-XC-AI")["standard_ids"] == []
    listing = b.get("/admin/sessions").get_data(as_text=True)
    assert "未列明（不受理申报）" in re.search(r"<tr><td>2026-XC-AI</td>.*?</tr>", listing, re.S).group(0)


# --------------------------------------------------------------------------------------------- applicant

NEW_CASE = {"pipeline_id": "industry-session", "level": "副高", "target_title": "高级经济师（人力资源管理）",
            "series": "经济", "specialty": "人力资源管理", "agency_org_id": "0"}


def test_the_new_case_form_offers_each_session_only_its_standards(cast, browser):
    _add_hr_session(cast)
    page = browser("zhang").get("/applicant/cases/new").get_data(as_text=True)
    groups = _optgroups(page)
    with cast.db.read() as conn:
        rail = conn.execute(select(_session.c.standard_ids).where(_session.c.id == cast.session_id)).scalar_one()
    assert groups == {"2026年湘产专场·轨道交通装备": rail, "2026年人力资源管理高级职称专场": [HR]}
    assert HR not in rail
    assert f"{HR_NAME}（经济·副高）" in page  # series and level shown with the name
    assert "按评审会分组" in page


def test_a_session_without_a_standard_in_force_says_so(cast, browser):
    with cast.db.write() as conn:
        conn.execute(update(_session).where(_session.c.id == cast.session_id).values(standard_ids=[]))
    page = browser("zhang").get("/applicant/cases/new").get_data(as_text=True)
    assert "（本评审会暂无可选的评价标准）" in page and _optgroups(page) == {"2026年湘产专场·轨道交通装备": []}


def test_a_forged_standard_is_refused_with_a_clear_message_and_nothing_lost(cast, browser):
    _add_hr_session(cast)
    b = browser("zhang")
    data = {**NEW_CASE, "session_id": str(cast.session_id), "standard_id": HR}  # RAIL with the HR standard
    response = b.post("/applicant/cases/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(r'<div class="invalid-feedback d-block" id="standard_id-error">(.*?)</div>', page).group(1)
    assert error.startswith("本评审会不受理该评价标准") and "（经济系列·副高）" in error
    assert "2026年湘产专场·轨道交通装备" in error
    assert 'value="高级经济师（人力资源管理）"' in page and 'value="人力资源管理"' in page  # typed input kept
    assert re.search(rf'<option selected value="{cast.session_id}">', page)  # the chosen session too
    with cast.db.read() as conn:
        assert conn.execute(select(Case.__table__.c.id)).all() == []
    b.get("/lang/en")
    english = b.post("/applicant/cases/new", data=data).get_data(as_text=True)
    assert "This session does not accept that standard" in english
    # the same standard in the session that accepts it is fine
    hr_session = _by_code(cast.db, "2026-HRM")["id"]
    assert b.post("/applicant/cases/new", data={**data, "session_id": str(hr_session)}).status_code == 303


def test_the_chosen_sessions_option_is_the_selected_one(cast, browser):
    """A standard two sessions accept is listed in both groups; the chosen session's option is selected."""
    hr_session = _add_hr_session(cast)
    with cast.db.write() as conn:
        conn.execute(update(_session).where(_session.c.id == hr_session).values(standard_ids=[HR, SENIOR]))
    data = {**NEW_CASE, "session_id": str(hr_session), "standard_id": SENIOR, "target_title": ""}
    page = browser("zhang").post("/applicant/cases/new", data=data).get_data(as_text=True)
    select_html = re.search(r'<select [^>]*id="standard_id".*?</select>', page, re.S).group(0)
    hr_group = re.search(r'<optgroup label="2026年人力资源管理高级职称专场">(.*?)</optgroup>', select_html,
                         re.S).group(1)
    assert select_html.count(f'<option value="{SENIOR}"') == 2 and select_html.count(" selected>") == 1
    assert f'<option value="{SENIOR}" selected>' in hr_group


def test_the_drafts_edit_form_offers_only_its_sessions_standards(cast, browser):
    case_id = open_case(cast)
    b = browser("zhang")
    page = b.get(f"/applicant/cases/{case_id}/edit").get_data(as_text=True)
    assert SENIOR in page and HR not in page
    with cast.db.read() as conn:
        version = conn.execute(select(Case.__table__.c.version).where(Case.__table__.c.id == case_id)).scalar_one()
    response = b.post(f"/applicant/cases/{case_id}/edit", data={
        "version": str(version), "level": "副高", "target_title": "高级工程师", "specialty": "轨道交通车辆",
        "standard_id": HR})
    assert response.status_code == 422
    error = re.search(r'<div class="invalid-feedback d-block">(.*?)</div>', response.get_data(as_text=True)).group(1)
    assert error.startswith("本评审会不受理该评价标准") and HR_NAME in error
    with cast.db.read() as conn:
        assert conn.execute(select(Case.__table__.c.standard_id).where(Case.__table__.c.id == case_id)
                            ).scalar_one() == SENIOR


def test_the_precheck_lists_only_the_chosen_sessions_standards(cast, browser):
    zhang = browser("zhang")
    everything = zhang.get("/applicant/precheck").get_data(as_text=True)
    assert f'<option value="{HR}"' in everything  # without a session: every standard, as written
    page = zhang.get(f"/applicant/precheck?session_id={cast.session_id}").get_data(as_text=True)
    assert f'<option value="{HR}"' not in page and f'<option value="{SENIOR}"' in page
    assert "仅列出所选评审会受理的评价标准" in page
    refused = zhang.get(f"/applicant/precheck?session_id={cast.session_id}&standard_id={HR}&route=normal")
    body = refused.get_data(as_text=True)
    assert "所选评审会不受理该评价标准" in body and 'id="precheck-report"' not in body


def test_a_just_published_standard_is_offered_once_a_session_accepts_it(cast, browser):
    admin = browser("admin")
    text = admin.get("/admin/standards/industrial-internet-engineer/v2/export").get_data(as_text=True)
    text = text.replace("id: industrial-internet-engineer", "id: industrial-internet-new").replace(
        "version: 2", "version: 1")
    assert admin.post("/admin/standards/import", data={"yaml_text": text}).status_code == 303
    zhang = browser("zhang")
    assert "industrial-internet-new" not in _optgroups(zhang.get("/applicant/cases/new").get_data(as_text=True))[
        "2026年湘产专场·轨道交通装备"]
    row = _by_code(cast.db, "2026-RAIL")
    form = {k: row[k] for k in ("code", "name", "name_en", "series", "industry", "year", "status")}
    form.update(pipeline_ids=row["pipeline_ids"], standard_ids=[*row["standard_ids"], "industrial-internet-new"],
                authority_org_id=str(row["authority_org_id"]))
    assert admin.post(f"/admin/sessions/{row['id']}", data=form).status_code == 303
    assert "industrial-internet-new" in _optgroups(zhang.get("/applicant/cases/new").get_data(as_text=True))[
        "2026年湘产专场·轨道交通装备"]
