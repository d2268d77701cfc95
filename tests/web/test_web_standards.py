"""Occupation standards in the web UI: the administrators' pages (list, view, preview a stored version, export,
import) and the applicants' pre-check. The structured editor is tested in test_web_standards_editor.py."""

from __future__ import annotations

import io

import pytest
from webhelpers import newest_standard_version, user_id

from workflow.eligibility.standards import STANDARDS_DIR, load_standard_yaml
from workflow.eligibility.standards_store import get_standard

BASE = "industrial-internet-engineer"
SEEDED = load_standard_yaml(STANDARDS_DIR / f"{BASE}.yaml").version
"""The version of the seeded standard the tests start from."""





@pytest.mark.parametrize("url", ["/admin/standards/", f"/admin/standards/{BASE}", f"/admin/standards/{BASE}/v{SEEDED}",
                                 "/admin/standards/new", f"/admin/standards/{BASE}/edit", "/admin/standards/import",
                                 f"/admin/standards/{BASE}/v{SEEDED}/export",
                                 f"/admin/standards/{BASE}/v{SEEDED}/preview"])
def test_only_administrators_reach_the_editor(browser, url):
    assert browser("zhang").get(url).status_code == 403
    assert browser("officer").get(url).status_code == 403
    assert browser("admin").get(url).status_code == 200
    assert browser(None).get(url).status_code in (302, 303)


def test_posts_are_refused_to_non_admins(browser, cast):
    b = browser("zhang")
    assert b.post("/admin/standards/import", data={"yaml_text": "id: x"}).status_code == 403
    assert b.post(f"/admin/standards/{BASE}/edit", data={"action": "publish"}).status_code == 403
    assert b.post("/admin/standards/new", data={"copy": BASE}).status_code == 403
    assert newest_standard_version(cast.db, BASE) == SEEDED


def test_list_and_view_show_versions_thresholds_and_provenance(browser):
    b = browser("admin")
    page = b.get("/admin/standards/").get_data(as_text=True)
    assert "工业互联网工程技术人员工程师评价标准" in page and "2022-06-16" in page and "工程师" in page
    page = b.get(f"/admin/standards/{BASE}/v{SEEDED}").get_data(as_text=True)
    assert "achievements.k" in page and "[C]" in page and "[S]" in page and "人社部令第25号" in page
    assert "版本历史" in page


def test_preview_against_a_stored_or_pasted_profile(browser, cast):
    b = browser("admin")
    zhang = user_id(cast.db, "zhang")
    page = b.post(f"/admin/standards/{BASE}/v{SEEDED}/preview",
                  data={"profile_user": str(zhang), "route": "normal", "as_of": "2026-06-01"}).get_data(as_text=True)
    assert 'id="precheck-report"' in page and 'data-criterion="achievements"' in page
    response = b.post(f"/admin/standards/{BASE}/v{SEEDED}/preview", data={"profile_text": "{birth_date: 1990-01-01",
                                                                    "as_of": "2026-06-01"})
    assert response.status_code == 422 and "YAML syntax" in response.get_data(as_text=True)


def test_export_and_import_round_trip(browser, cast):
    b = browser("admin")
    response = b.get(f"/admin/standards/{BASE}/v{SEEDED}/export")
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert load_standard_yaml(text).id == BASE
    edited = text.replace("specialty: 工业互联网", "specialty: 工业互联网（导入）")
    response = b.post("/admin/standards/import", data={"file": (io.BytesIO(edited.encode()), "s.yaml")},
                      content_type="multipart/form-data")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/{BASE}/v{SEEDED + 1}")
    with cast.db.read() as conn:
        assert get_standard(conn, BASE, SEEDED + 1).specialty == "工业互联网（导入）"
    same = b.post("/admin/standards/import", data={"yaml_text": edited})
    assert same.status_code == 409 and newest_standard_version(cast.db, BASE) == SEEDED + 1
    bad = edited.replace("\nlevel: 中级", "\nlevel: 特级")
    response = b.post("/admin/standards/import", data={"yaml_text": bad})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "&lt;import&gt;:7: level: Input should be" in page
    assert newest_standard_version(cast.db, BASE) == SEEDED + 1


def test_applicant_precheck_sees_a_just_published_standard(browser, cast):
    admin = browser("admin")
    text = admin.get(f"/admin/standards/{BASE}/v{SEEDED}/export").get_data(as_text=True)
    text = text.replace(f"id: {BASE}", "id: industrial-internet-new").replace(f"version: {SEEDED}", "version: 1")
    assert admin.post("/admin/standards/import", data={"yaml_text": text}).status_code == 303
    zhang = browser("zhang")
    assert "industrial-internet-new" in zhang.get("/applicant/cases/new").get_data(as_text=True)
    page = zhang.get("/applicant/precheck?standard_id=industrial-internet-new&route=normal").get_data(as_text=True)
    assert 'id="precheck-report"' in page and 'data-criterion="education"' in page
    assert browser("admin").get("/applicant/precheck").status_code == 403
