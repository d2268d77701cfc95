"""Uploading materials: type by content, size limit, stored outside static under random names, served only to
people who may see the case, frozen after submission; and the applicant's profile and case details forms."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pdfs import make_pdf
from sqlalchemy import select
from webhelpers import PASSWORD, Browser, case_version, make_app, open_case

from seed.cast import SAMPLE_PDF
from workflow.eligibility.dossier import PROFILE_SECTIONS, validate_profile
from workflow.eligibility.profiles import PROFILE_SCHEMA_VERSION, parse_profile
from workflow.engine import core as engine
from workflow.models import ApplicantProfile, Case
from workflow.models.attachments import Attachment

PDF = make_pdf()
ID_NUMBER = "430202198604120012"
"""A valid 居民身份证号码 of someone born 1986-04-12 (the birth date these forms give)."""
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _upload(b, case_id: int, content: bytes, name: str, category: str = "education"):
    return b.post(f"/applicant/cases/{case_id}/materials",
                  data={"category": category, "file": (io.BytesIO(content), name)},
                  content_type="multipart/form-data")


SEEDED = hashlib.sha256(SAMPLE_PDF).hexdigest()
"""The files the cast uploads for a case's required materials (so it can be submitted): not these tests' subject."""


def _attachments(db, case_id: int) -> list[dict]:
    """The files uploaded by the test itself, in upload order."""
    t = Attachment.__table__
    with db.read() as conn:
        return [dict(r) for r in conn.execute(select(t).where(t.c.case_id == case_id, t.c.sha256 != SEEDED)
                                              .order_by(t.c.id)).mappings()]


def test_a_pdf_is_stored_outside_static_under_a_random_name(app, cast, browser):
    case_id = open_case(cast)
    b = browser("zhang")
    response = _upload(b, case_id, PDF, "学历证书.pdf")
    assert response.status_code == 303
    [att] = _attachments(cast.db, case_id)
    assert att["content_type"] == "application/pdf" and att["original_name"] == "学历证书.pdf"
    assert att["size"] == len(PDF) and "学历" not in att["stored_name"]
    folder = Path(app.config["UPLOAD_FOLDER"])
    stored = folder / att["stored_name"][:2] / att["stored_name"]
    assert stored.read_bytes() == PDF
    assert Path(app.static_folder) not in stored.parents
    page = b.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "学历证书.pdf" in page


def test_downloads_are_attachments_for_people_who_may_see_the_case(cast, browser):
    case_id = open_case(cast)
    b = browser("zhang")
    _upload(b, case_id, PNG, "photo.png", "other")
    [att] = _attachments(cast.db, case_id)
    url = f"/cases/{case_id}/materials/{att['id']}"
    response = b.get(url)
    assert response.status_code == 200 and response.data == PNG
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Content-Type"] == "image/png"
    response.close()
    assert browser("unit_hr").get(url).status_code == 403  # a draft is the applicant's own
    assert browser("outsider").get(url).status_code == 403
    engine.fire(cast.db, case_id, "submit", cast.applicant)
    response = browser("unit_hr").get(url)
    assert response.status_code == 200
    response.close()
    assert browser("other_hr").get(url).status_code == 403
    assert b.get(f"/cases/{case_id}/materials/99999").status_code == 404


def test_the_type_is_decided_by_content_not_by_name(cast, browser):
    case_id = open_case(cast)
    b = browser("zhang")
    response = _upload(b, case_id, b"MZ\x90\x00 not a pdf at all", "report.pdf")
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "PDF、JPEG 或 PNG" in body
    response = _upload(b, case_id, PDF, "renamed.exe")
    assert response.status_code == 303  # a real PDF is accepted whatever it is called
    assert [a["content_type"] for a in _attachments(cast.db, case_id)] == ["application/pdf"]


def test_empty_and_missing_files_are_refused_with_the_category_kept(cast, browser):
    case_id = open_case(cast)
    b = browser("zhang")
    response = _upload(b, case_id, b"", "empty.pdf", "achievement")
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "文件为空" in body
    assert '<option value="achievement" selected>' in body
    response = b.post(f"/applicant/cases/{case_id}/materials", data={"category": "achievement"},
                      content_type="multipart/form-data")
    assert response.status_code == 422 and "请选择要上传的文件" in response.get_data(as_text=True)
    response = _upload(b, case_id, PDF, "a.pdf", "nonsense")
    assert response.status_code == 422 and _attachments(cast.db, case_id) == []


def test_files_over_the_limit_are_refused_and_nothing_is_left_on_disk(cast_db, tmp_path, cast):
    app = make_app(cast_db, tmp_path, MAX_UPLOAD_BYTES=1024, MAX_CONTENT_LENGTH=100_000)
    b = Browser(app.test_client(), PASSWORD).login("zhang")
    case_id = open_case(cast)
    response = _upload(b, case_id, PDF + b"x" * 2000, "big.pdf")
    assert response.status_code == 413 and "1024" not in response.get_data(as_text=True)
    assert "MB" in response.get_data(as_text=True)
    assert _attachments(cast.db, case_id) == []
    assert not any(p.is_file() for p in Path(app.config["UPLOAD_FOLDER"]).rglob("*"))
    response = _upload(b, case_id, PDF + b"x" * 200_000, "huge.pdf")  # beyond the whole request's limit
    body = response.get_data(as_text=True)
    assert response.status_code == 413 and "上传内容过大" in body and "申报材料" in body  # back on the case page


def test_materials_are_frozen_once_submitted_and_open_again_for_corrections(cast, browser):
    case_id = open_case(cast)
    b = browser("zhang")
    _upload(b, case_id, PDF, "first.pdf")
    engine.fire(cast.db, case_id, "submit", cast.applicant)
    response = _upload(b, case_id, PDF, "late.pdf")
    assert response.status_code == 409 and "不能再修改" in response.get_data(as_text=True)
    [att] = _attachments(cast.db, case_id)
    assert b.post(f"/applicant/cases/{case_id}/materials/{att['id']}/remove").status_code == 409
    engine.fire(cast.db, case_id, "return_for_correction", cast.unit, data={"corrections": ["重新上传学历证书"]})
    assert b.post(f"/applicant/cases/{case_id}/materials/{att['id']}/remove").status_code == 303
    assert _upload(b, case_id, PDF, "second.pdf").status_code == 303
    rows = _attachments(cast.db, case_id)
    assert rows[0]["removed_at"] is not None and rows[1]["case_state"] == "correction"
    # reviewers still see what was replaced
    engine.fire(cast.db, case_id, "resubmit", cast.applicant)
    page = browser("unit_hr").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "first.pdf" in page and "已移除" in page and "second.pdf" in page


def test_only_the_applicant_uploads(cast, browser):
    case_id = open_case(cast)
    engine.fire(cast.db, case_id, "submit", cast.applicant)
    assert _upload(browser("unit_hr"), case_id, PDF, "x.pdf").status_code == 403
    assert _upload(browser("li"), case_id, PDF, "x.pdf").status_code == 403


def test_the_profile_form_lists_every_problem_and_keeps_the_input(cast, browser):
    b = browser("zhang")
    form = {
        "birth_date": "1986-04-12", "id_number": ID_NUMBER,
        "education-count": "2", "education-0-level": "本科", "education-0-school": "中南大学",
        "education-0-major": "", "education-0-graduated_on": "2008-07-01",
        "titles-count": "1", "titles-0-name": "工程师", "titles-0-series": "工程", "titles-0-specialty": "机械",
        "titles-0-level": "中级", "titles-0-obtained_on": "2099-01-01",
        "work_history-count": "1", "work_history-0-employer": "株洲智轨", "work_history-0-start": "2008-07-15",
        "work_history-0-in_specialty": "on",
    }
    response = b.post("/applicant/profile", data=form)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请填写所学专业" in body and "晚于今天" in body  # both problems at once
    assert 'value="中南大学"' in body and 'value="株洲智轨"' in body
    form["education-0-major"] = "机械工程"
    form["titles-0-obtained_on"] = "2014-12-20"
    assert b.post("/applicant/profile", data=form).status_code == 303
    with cast.db.read() as conn:
        body = conn.execute(select(ApplicantProfile.__table__.c.body).where(
            ApplicantProfile.__table__.c.user_id == cast.applicant.user_id)).scalar_one()
    assert body["education"][0]["major"] == "机械工程" and body["work_history"][0]["end"] is None
    assert body["titles"][0]["obtained_on"] == "2014-12-20"


def test_add_a_row_works_without_javascript(browser):
    b = browser("zhang")
    response = b.post("/applicant/profile", data={"birth_date": "1986-04-12", "achievements-count": "1",
                                                  "achievements-0-description": "一项成果", "add": "achievements"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'value="一项成果"' in body and 'name="achievements-2-kind"' in body


# ----------------------------------------------------------------------------------------- profile v2 fields

TODAY = date(2026, 6, 1)

GENERAL = {"school_type": "general", "level": "本科", "technical_class": "", "degree": "", "school": "中南大学",
           "major": "机械工程", "graduated_on": "2008-07-01", "major_related": True}
TECHNICAL = {"school_type": "technical_school", "level": "", "technical_class": "高级工班", "degree": "",
             "school": "湖南工业技师学院", "major": "数控加工", "graduated_on": "2006-07-01", "major_related": True}
ACHIEVEMENT = {"kind": "patent_invention", "item": "6", "description": "一种转向架构架焊接工装", "year": "2019",
               "level": "", "rank": "2", "count": "3", "appraised_by": "", "appraisal_level": "", "evidence": ""}
FIRM_ROLE = {"employer": "株洲智轨", "role": "principal", "start": "2016-01-01", "end": "", "evidence": "任命文件"}


def _profile_form(**sections: list[dict[str, Any]]) -> dict[str, Any]:
    """A submitted profile form (as web/applicant.py's _posted_profile builds it) with these sections."""
    return {"birth_date": "1986-04-12", "id_number": ID_NUMBER, "retired": False, **sections}


def _stored(body: dict[str, Any]) -> dict[str, Any]:
    """The form a stored body is shown in: every field as its input's string (checkboxes as booleans)."""
    raw: dict[str, Any] = {"birth_date": body["birth_date"], "id_number": body["id_number"], "retired": body["retired"]}
    for section in PROFILE_SECTIONS:
        raw[section.key] = [
            {f.key: bool(row.get(f.key)) if f.kind == "bool" else ("" if row.get(f.key) is None else str(row[f.key]))
             for f in section.fields} for row in body.get(section.key) or []]
    return raw


@pytest.mark.parametrize(("sections", "problems", "stored"), [
    pytest.param({"education": [TECHNICAL]}, set(),
                 {("education", 0, "school_type"): "technical_school", ("education", 0, "technical_class"): "高级工班",
                  ("education", 0, "level"): None, ("education", 0, "degree"): None},
                 id="technical school with its class"),
    pytest.param({"education": [{**TECHNICAL, "level": "大专"}]}, {("education", 1, "level")}, {},
                 id="technical school with a 学历"),
    pytest.param({"education": [GENERAL, {**TECHNICAL, "degree": "学士"}]}, {("education", 2, "degree")}, {},
                 id="technical school with a 学位"),
    pytest.param({"education": [{**TECHNICAL, "technical_class": ""}]}, {("education", 1, "technical_class")}, {},
                 id="technical school without its class"),
    pytest.param({"education": [{**GENERAL, "level": ""}]}, {("education", 1, "level")}, {},
                 id="general school without a 学历"),
    pytest.param({"education": [{**GENERAL, "technical_class": "中级工班"}]}, {("education", 1, "technical_class")}, {},
                 id="general school with a class"),
    pytest.param({"education": [{**GENERAL, "school_type": ""}]}, set(),
                 {("education", 0, "school_type"): "general"}, id="school type left out is general"),
    pytest.param({"education": [{**GENERAL, "degree": "硕士"}]}, set(),
                 {("education", 0, "degree"): "硕士", ("education", 0, "level"): "本科"}, id="学历 with a 学位"),
    pytest.param({"education": [GENERAL], "achievements": [{**ACHIEVEMENT, "item": "", "rank": "", "count": ""}]},
                 set(), {("education", 0, "degree"): None, ("achievements", 0, "level"): None,
                         ("achievements", 0, "appraisal_level"): None, ("achievements", 0, "rank"): None,
                         ("achievements", 0, "count"): 1, ("achievements", 0, "item"): ""},
                 id="optional choices and numbers left blank"),
    pytest.param({"achievements": [{**ACHIEVEMENT, "level": "provincial", "appraised_by": "湖南省科技厅",
                                    "appraisal_level": "provincial"}]}, set(),
                 {("achievements", 0, "item"): "6", ("achievements", 0, "level"): "provincial",
                  ("achievements", 0, "rank"): 2, ("achievements", 0, "count"): 3,
                  ("achievements", 0, "appraised_by"): "湖南省科技厅",
                  ("achievements", 0, "appraisal_level"): "provincial"}, id="achievement with every fact"),
    pytest.param({"achievements": [{**ACHIEVEMENT, "rank": "0"}]}, {("achievements", 1, "rank")}, {},
                 id="rank 0"),
    pytest.param({"achievements": [{**ACHIEVEMENT, "rank": "-1", "count": "0"}]},
                 {("achievements", 1, "rank"), ("achievements", 1, "count")}, {}, id="negative rank, count 0"),
    pytest.param({"achievements": [{**ACHIEVEMENT, "rank": "²", "count": "9" * 5000}]},
                 {("achievements", 1, "rank"), ("achievements", 1, "count")}, {}, id="digits int() refuses"),
    pytest.param({"achievements": [{**ACHIEVEMENT, "level": "galactic"}]}, {("achievements", 1, "level")}, {},
                 id="unknown level"),
    pytest.param({"work_history": [{"employer": "株洲智轨", "post": "", "start": "2008-07-15", "end": "",
                                    "in_specialty": False, "in_industry": True}]}, set(),
                 {("work_history", 0, "in_industry"): True, ("work_history", 0, "in_specialty"): False},
                 id="industry work outside the specialty"),
    pytest.param({"firm_roles": [FIRM_ROLE]}, set(),
                 {("firm_roles", 0, "role"): "principal", ("firm_roles", 0, "end"): None}, id="current firm role"),
    pytest.param({"firm_roles": [{**FIRM_ROLE, "end": "2015-12-31"}]}, {("firm_roles", 1, "end")}, {},
                 id="firm role ending before it starts"),
    pytest.param({"firm_roles": [{**FIRM_ROLE, "role": ""}]}, {("firm_roles", 1, "role")}, {},
                 id="firm role without a role"),
    pytest.param({"firm_recognitions": [{"employer": "株洲智轨", "kind": "national_little_giant", "year": "2027",
                                         "evidence": ""}]}, {("firm_recognitions", 1, "year")}, {},
                 id="recognition in the future"),
    pytest.param({"experience_claims": [{"item": "2", "description": "", "evidence": "项目任务书"}]},
                 {("experience_claims", 1, "description")}, {}, id="claim without a description"),
    pytest.param({"education": [{k: "" for k in GENERAL} | {"school_type": "general", "major_related": True}],
                  "achievements": [{k: "" for k in ACHIEVEMENT} | {"count": "1"}]}, set(),
                 {}, id="rows holding only their defaults are blank"),
])
def test_profile_form_v2_fields(sections, problems, stored):
    body, found = validate_profile(_profile_form(**sections), today=TODAY)
    assert {(p.section, p.row, p.field) for p in found} == problems, found
    assert all(p.zh and p.zh != p.en for p in found)  # a Chinese message for every problem
    if not problems:
        assert body["schema_version"] == PROFILE_SCHEMA_VERSION == 2
        for (section, index, key), value in stored.items():
            assert body[section][index][key] == value, (section, index, key)
        if not stored:
            assert body["education"] == [] and body["achievements"] == []


def test_a_version_2_body_survives_the_form_unchanged():
    full = parse_profile(_profile_form(
        education=[{k: v or None for k, v in TECHNICAL.items() if k != "degree"},
                   {**GENERAL, "degree": "硕士", "technical_class": None}],
        work_history=[{"employer": "株洲智轨", "post": "工艺员", "start": "2008-07-15", "end": None,
                       "in_specialty": False, "in_industry": True}],
        achievements=[{**ACHIEVEMENT, "year": 2019, "rank": 2, "count": 3, "level": "provincial",
                       "appraised_by": "湖南省科技厅", "appraisal_level": "national"}],
        experience_claims=[{"item": "2", "description": "主持轨道车辆转向架工艺改进", "evidence": "项目任务书"}],
        firm_roles=[{**FIRM_ROLE, "end": "2020-12-31"}],
        firm_recognitions=[{"employer": "株洲智轨", "kind": "national_little_giant", "year": 2021, "evidence": ""}],
    ), today=TODAY).model_dump(mode="json")
    body, problems = validate_profile(_stored(full), previous=full, today=TODAY)
    assert problems == [] and body == full


def test_a_unit_verification_survives_only_an_unchanged_achievement():
    first, _ = validate_profile(_profile_form(achievements=[ACHIEVEMENT, {**ACHIEVEMENT, "item": "7"}]), today=TODAY)
    for entry in first["achievements"]:
        entry["verified"] = True  # what the unit does
    again, _ = validate_profile(_profile_form(achievements=[ACHIEVEMENT, {**ACHIEVEMENT, "item": "7", "rank": "1"}]),
                                previous=first, today=TODAY)
    assert [a["verified"] for a in again["achievements"]] == [True, False]
    for changed in ({"count": "2"}, {"level": "national"}, {"appraised_by": "某单位"}, {"appraisal_level": "municipal"},
                    {"evidence": "新编号"}, {"item": "5"}):
        body, _ = validate_profile(_profile_form(achievements=[{**ACHIEVEMENT, **changed}]), previous=first,
                                   today=TODAY)
        assert body["achievements"][0]["verified"] is False, changed
    # An entry stored before the new fields existed, re-saved as it was, stays verified.
    old = {"achievements": [{"kind": "patent_invention", "description": "一种转向架构架焊接工装", "year": 2019,
                             "evidence": "", "verified": True}]}
    plain = {**ACHIEVEMENT, "item": "", "rank": "", "count": ""}
    body, _ = validate_profile(_profile_form(achievements=[plain]), previous=old, today=TODAY)
    assert body["achievements"][0]["verified"] is True


def _select(page: str, name: str) -> tuple[list[str], list[str]]:
    """The option values of the select called ``name`` and which of them are selected."""
    m = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    assert m, name
    options = re.findall(r'<option value="([^"]*)"\s*(selected)?', m.group(1))
    return [v for v, _ in options], [v for v, sel in options if sel]


def test_the_profile_form_shows_v2_choices_and_blank_rows(cast, browser):
    b = browser("zhang")
    form = {"birth_date": "1986-04-12", "id_number": ID_NUMBER, "education-count": "1",
            **{f"education-0-{k}": v for k, v in TECHNICAL.items() if k != "major_related"},
            "achievements-count": "1", **{f"achievements-0-{k}": v for k, v in ACHIEVEMENT.items()},
            "work_history-count": "1", "work_history-0-employer": "株洲智轨", "work_history-0-start": "2008-07-15",
            "work_history-0-in_industry": "on",
            "firm_roles-count": "2", **{f"firm_roles-0-{k}": v for k, v in FIRM_ROLE.items()},
            "firm_roles-1-employer": "", "firm_roles-1-role": ""}
    assert b.post("/applicant/profile", data=form).status_code == 303
    with cast.db.read() as conn:
        body = conn.execute(select(ApplicantProfile.__table__.c.body).where(
            ApplicantProfile.__table__.c.user_id == cast.applicant.user_id)).scalar_one()
    assert body["schema_version"] == 2 and body["education"][0]["technical_class"] == "高级工班"
    assert body["work_history"][0] == {**body["work_history"][0], "in_specialty": False, "in_industry": True}
    assert body["firm_roles"][0]["evidence"] == "任命文件" and len(body["firm_roles"]) == 1
    page = b.get("/applicant/profile").get_data(as_text=True)
    # the stored row: its choices selected, "—" where a choice may stay empty, none where it has a default
    assert _select(page, "education-0-school_type") == (["general", "technical_school"], ["technical_school"])
    assert _select(page, "education-0-technical_class")[1] == ["高级工班"]
    assert _select(page, "education-0-level") == (["", "高中", "中专", "大专", "本科", "硕士", "博士"], [])
    assert _select(page, "firm_roles-0-role")[1] == ["principal"]
    assert 'name="achievements-0-item" id="achievements-0-item" value="6"' in page
    assert re.search(r'name="achievements-0-rank"[^>]*value="2"', page)
    assert re.search(r'name="work_history-0-in_industry"[^>]*checked', page)
    # the spare blank row: defaults pre-filled, optional choices at "—"
    assert _select(page, "education-1-school_type")[1] == ["general"]
    assert _select(page, "education-1-degree") == (["", "学士", "硕士", "博士"], [])
    assert re.search(r'name="achievements-1-count"[^>]*value="1"', page)
    assert not re.search(r'name="work_history-1-in_industry"[^>]*checked', page)
    assert "在发明人/完成人中的排名（第几名）" in page and "对应评价标准第八条的第几项（如 6）" in page
    assert "企业任职（主要负责人等）" in page and "企业资质（小巨人、单项冠军等）" in page and "工作经历佐证" in page
    # saving the page as shown (blank rows with their defaults) changes nothing
    shown = dict(re.findall(r'<input[^>]*type="(?:text|date|number)"[^>]*name="([^"]+-\d+-[a-z_]+)"[^>]*'
                            r'value="([^"]*)"', page))
    shown.update({name: sel[0] for name in re.findall(r'<select[^>]*name="([^"]+)"', page)
                  for sel in [_select(page, name)[1]] if sel})
    shown.update({n: "on" for n in re.findall(r'<input[^>]*type="checkbox"[^>]*name="([^"]+)"[^>]*checked', page)})
    shown.update(re.findall(r'<input type="hidden" name="([^"]+-count)" value="(\d+)"', page))
    shown["birth_date"] = "1986-04-12"
    shown["id_number"] = ID_NUMBER
    assert shown["achievements-0-item"] == "6" and shown["education-1-school_type"] == "general"
    assert b.post("/applicant/profile", data=shown).status_code == 303
    with cast.db.read() as conn:
        assert conn.execute(select(ApplicantProfile.__table__.c.body).where(
            ApplicantProfile.__table__.c.user_id == cast.applicant.user_id)).scalar_one() == body


def test_the_profile_form_puts_v2_errors_next_to_the_field_and_keeps_the_input(cast, browser):
    b = browser("zhang")
    form = {"birth_date": "1986-04-12", "education-count": "1",
            **{f"education-0-{k}": v for k, v in TECHNICAL.items() if k != "major_related"},
            "education-0-level": "大专",
            "achievements-count": "1", **{f"achievements-0-{k}": v for k, v in ACHIEVEMENT.items()},
            "achievements-0-rank": "0",
            "firm_roles-count": "1", **{f"firm_roles-0-{k}": v for k, v in FIRM_ROLE.items()},
            "firm_roles-0-end": "2015-12-31"}
    response = b.post("/applicant/profile", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for name, text in (("education-0-level", "技工院校毕业不填学历"),
                       ("achievements-0-rank", "本人排名须为1到1000之间的整数"), ("firm_roles-0-end", "早于开始日期")):
        m = re.search(rf'<div class="invalid-feedback d-block" id="{name}-error">([^<]*)</div>', page)
        assert m and text in m.group(1), name
        assert re.search(rf'id="{name}"[^>]*aria-describedby="[^"]*{name}-error"[^>]*aria-invalid="true"', page)
    assert _select(page, "education-0-school_type")[1] == ["technical_school"]
    assert _select(page, "education-0-level")[1] == ["大专"] and _select(page, "education-0-technical_class")[1] == [
        "高级工班"]
    assert re.search(r'name="achievements-0-rank"[^>]*value="0"', page)
    assert 'value="湖南工业技师学院"' in page and 'value="任命文件"' in page and 'value="2015-12-31"' in page


def test_the_profile_form_in_english(browser):
    b = browser("zhang")
    b.get("/lang/en")
    page = b.get("/applicant/profile").get_data(as_text=True)
    for text in ("School type", "Technical-school class", "Degree", "Senior-worker class",
                 "Technical work in the industry (another specialty)", "Your rank",
                 "Your place among the named inventors or contributors (1 = first)",
                 "The item of article 8 of the standard (e.g. 6); blank: matched by kind", "Appraisal level",
                 "Work experience claims", "Firm leadership roles", "Principal leader (chair, general manager)",
                 "Firm recognitions (little giant, single champion…)", "National specialised &#39;little giant&#39;"):
        assert text in page, text
    assert "技工院校班级" not in page and "在发明人/完成人中的排名" not in page
    response = b.post("/applicant/profile", data={"birth_date": "1986-04-12", "achievements-count": "1",
                                                  **{f"achievements-0-{k}": v for k, v in ACHIEVEMENT.items()},
                                                  "achievements-0-count": "0"})
    assert response.status_code == 422
    assert "Number: a whole number from 1 to 1000" in response.get_data(as_text=True)


def test_opening_a_case_from_the_form(cast, browser):
    b = browser("zhang")
    page = b.get("/applicant/cases/new").get_data(as_text=True)
    assert "2026年湘产专场·轨道交通装备" in page
    response = b.post("/applicant/cases/new", data={
        "pipeline_id": "industry-session", "session_id": str(cast.session_id), "level": "副高",
        "target_title": "高级工程师", "series": "工程", "specialty": "轨道交通车辆", "agency_org_id": "0"})
    assert response.status_code == 422 and "请选择评价标准" in response.get_data(as_text=True)
    response = b.post("/applicant/cases/new", data={
        "pipeline_id": "industry-session", "session_id": str(cast.session_id), "level": "副高",
        "target_title": "高级工程师", "series": "工程", "specialty": "轨道交通车辆", "agency_org_id": "0",
        "standard_id": "hunan-sme-advanced-manufacturing-senior"})
    assert response.status_code == 303
    with cast.db.read() as conn:
        case = conn.execute(select(Case.__table__)).mappings().one()
    assert case["unit_org_id"] == cast.employer and case["state"] == "draft"
    assert case["standard_id"] == "hunan-sme-advanced-manufacturing-senior"
    assert case["superior_org_ids"] == [cast.superior]  # the employer's superior department reviews it too


def test_fallback_filing_needs_an_agency_and_account_evidence(cast, browser):
    b = browser("zhang")
    data = {"pipeline_id": "fallback-filing", "session_id": str(cast.session_id), "level": "中级",
            "target_title": "工程师", "series": "工程", "specialty": "机械设计", "agency_org_id": "0",
            "standard_id": "national-engineering-engineer"}
    response = b.post("/applicant/cases/new", data=data)
    assert response.status_code == 422 and "人事代理机构" in response.get_data(as_text=True)
    data.update(agency_org_id=str(cast.agency), evidence_kind="freelancer_registration", registration_no="")
    response = b.post("/applicant/cases/new", data=data)
    assert response.status_code == 422 and "自由职业登记编号" in response.get_data(as_text=True)
    data.update(registration_no="CS-ZY-2020-001")
    assert b.post("/applicant/cases/new", data=data).status_code == 303
    with cast.db.read() as conn:
        case = conn.execute(select(Case.__table__)).mappings().one()
    assert case["unit_org_id"] == cast.agency
    assert case["data"]["account_evidence"] == {"kind": "freelancer_registration", "registration_no": "CS-ZY-2020-001"}


def test_case_details_change_only_while_the_case_is_with_the_applicant(cast, browser):
    case_id = open_case(cast)
    b = browser("zhang")
    data = {"version": str(case_version(cast.db, case_id)), "level": "正高", "target_title": "正高级工程师",
            "specialty": "轨道交通车辆"}
    response = b.post(f"/applicant/cases/{case_id}/edit", data=data)  # the 副高 standard does not judge 正高
    assert response.status_code == 422 and "适用于副高职称" in response.get_data(as_text=True)
    data["level"] = "副高"
    assert b.post(f"/applicant/cases/{case_id}/edit", data=data).status_code == 303
    engine.fire(cast.db, case_id, "submit", cast.applicant)
    data["version"] = str(case_version(cast.db, case_id))
    response = b.post(f"/applicant/cases/{case_id}/edit", data=data)
    assert response.status_code == 409 and "不能再修改" in response.get_data(as_text=True)
    assert browser("li").get(f"/applicant/cases/{case_id}/edit").status_code == 403
