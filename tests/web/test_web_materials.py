"""Uploading materials: type by content, size limit, stored outside static under random names, served only to
people who may see the case, frozen after submission; and the applicant's profile and case details forms."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import select
from webhelpers import PASSWORD, Browser, case_version, make_app, open_case

from workflow import engine
from workflow.models import ApplicantProfile, Case
from workflow.models.attachments import Attachment

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _upload(b, case_id: int, content: bytes, name: str, category: str = "education"):
    return b.post(f"/applicant/cases/{case_id}/materials",
                  data={"category": category, "file": (io.BytesIO(content), name)},
                  content_type="multipart/form-data")


def _attachments(db, case_id: int) -> list[dict]:
    t = Attachment.__table__
    with db.read() as conn:
        return [dict(r) for r in conn.execute(select(t).where(t.c.case_id == case_id).order_by(t.c.id)).mappings()]


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
        "birth_date": "1986-04-12",
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
