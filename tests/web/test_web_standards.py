"""Occupation standards in the web UI: the administrators' editor (list, view, create, copy, edit, preview,
publish, export, import) and the applicants' pre-check."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from workflow.models import User
from workflow.standards import STANDARDS_DIR, load_standard_yaml
from workflow.standards_store import get_standard, latest_version

BASE = "industrial-internet-engineer"
SEEDED = load_standard_yaml(STANDARDS_DIR / f"{BASE}.yaml").version
"""The version of the seeded standard the tests start from."""


@pytest.fixture(autouse=True)
def _fresh_standard_cache():
    """Parsed versions are cached per process by (id, version); each test here has its own database."""
    from workflow import standards_store

    standards_store._cache.clear()
    yield
    standards_store._cache.clear()


def _form(b, url: str) -> dict[str, str]:
    """The editor's inputs as the page shows them (textareas and inputs by name)."""
    import html
    import re

    page = b.get(url).get_data(as_text=True)
    data = {m.group(1): html.unescape(m.group(2)) for m in re.finditer(
        r'<input class="form-control[^"]*" type="[a-z]+" id="f-[^"]+" name="([^"]+)" value="([^"]*)"', page)}
    data.update({m.group(1): html.unescape(m.group(2)) for m in re.finditer(
        r'<textarea [^>]*name="([a-z_]+)" rows="\d+">(.*?)</textarea>', page, re.S)})
    level = re.search(r'<option value="([^"]+)" selected>', page[page.index('name="level"'):])
    data["level"] = level.group(1)
    return data


def _version(db, sid: str) -> int | None:
    with db.read() as conn:
        return latest_version(conn, sid)


def _user_id(db, username: str) -> int:
    with db.read() as conn:
        return conn.execute(select(User.__table__.c.id).where(User.__table__.c.username == username)).scalar_one()


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
    assert _version(cast.db, BASE) == SEEDED


def test_list_and_view_show_versions_thresholds_and_provenance(browser):
    b = browser("admin")
    page = b.get("/admin/standards/").get_data(as_text=True)
    assert "工业互联网工程技术人员工程师评价标准" in page and "2022-06-16" in page and "工程师" in page
    page = b.get(f"/admin/standards/{BASE}/v{SEEDED}").get_data(as_text=True)
    assert "achievements.k" in page and "[C]" in page and "[S]" in page and "人社部令第25号" in page
    assert "版本历史" in page


def test_create_from_scratch_for_a_new_occupation_then_edit_to_v2(browser, cast):
    b = browser("admin")
    data = _form(b, "/admin/standards/new")
    data.update(id="industrial-internet-senior", name_zh="工业互联网工程技术人员高级工程师评价标准",
                name_en="Industrial internet: Senior engineer", specialty="工业互联网", level="副高",
                title="高级工程师",
                effective_from="2026-01-01", source="湘人社规〔2022〕22号第5条", action="publish")
    response = b.post("/admin/standards/new", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    assert response.headers["Location"].endswith("/admin/standards/industrial-internet-senior/v1")
    assert _version(cast.db, "industrial-internet-senior") == 1
    # the same id again is refused, the input kept
    again = b.post("/admin/standards/new", data=data)
    assert again.status_code == 409 and "已存在" in again.get_data(as_text=True)
    # edit: raise k to 2 → v2; v1 stays readable
    data = _form(b, "/admin/standards/industrial-internet-senior/edit")
    data["achievements"] = data["achievements"].replace("value: 1", "value: 2")
    data["action"] = "publish"
    assert b.post("/admin/standards/industrial-internet-senior/edit", data=data).status_code == 303
    with cast.db.read() as conn:
        v1 = get_standard(conn, "industrial-internet-senior", 1)
        v2 = get_standard(conn, "industrial-internet-senior", 2)
    assert v1.achievements.k.value == 1 and v2.achievements.k.value == 2
    assert b.get("/admin/standards/industrial-internet-senior/v1").status_code == 200
    # publishing unchanged content is refused
    data = _form(b, "/admin/standards/industrial-internet-senior/edit")
    data["action"] = "publish"
    assert b.post("/admin/standards/industrial-internet-senior/edit", data=data).status_code == 409


def test_copy_gets_a_new_id(browser, cast):
    b = browser("admin")
    data = _form(b, f"/admin/standards/new?copy={BASE}")
    assert data["id"] == f"{BASE}-copy" and "platform" in data["work_experience"]
    data.update(id="industrial-internet-changsha", action="publish")
    assert b.post(f"/admin/standards/new?copy={BASE}", data=data).status_code == 303
    with cast.db.read() as conn:
        copy = get_standard(conn, "industrial-internet-changsha", 1)
        original = get_standard(conn, BASE, SEEDED)
    assert copy.work_experience == original.work_experience and _version(cast.db, BASE) == SEEDED


def test_validation_errors_name_the_section_line_and_keep_the_input(browser, cast):
    b = browser("admin")
    data = _form(b, f"/admin/standards/{BASE}/edit")
    data["achievements"] = data["achievements"].replace("value: 1", "value: -3")
    data["representative_works"] = "kinds: [paper]\nmin_count: {value: 1, tag: C, source: x}\n"
    data["effective_from"] = "2026-13-01"
    data["action"] = "publish"
    response = b.post(f"/admin/standards/{BASE}/edit", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "YYYY-MM-DD" in page
    data["effective_from"] = "2022-06-16"
    response = b.post(f"/admin/standards/{BASE}/edit", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "achievements:2: achievements.k.value: Input should be greater than or equal to 0" in page, page
    assert "value: -3" in page  # kept
    # rules between fields are checked once every field is valid
    data["achievements"] = data["achievements"].replace("value: -3", "value: 1")
    page = b.post(f"/admin/standards/{BASE}/edit", data=data).get_data(as_text=True)
    assert "representative_works:1: representative_works.kinds: must offer alternatives to papers" in page
    data["benefits"] = "kinds: [economic_benefit\n"  # YAML syntax error
    page = b.post(f"/admin/standards/{BASE}/edit", data=data).get_data(as_text=True)
    assert "benefits:" in page and "YAML syntax" in page
    assert _version(cast.db, BASE) == SEEDED


def test_preview_against_a_stored_or_pasted_profile(browser, cast):
    b = browser("admin")
    zhang = _user_id(cast.db, "zhang")
    page = b.post(f"/admin/standards/{BASE}/v{SEEDED}/preview",
                  data={"profile_user": str(zhang), "route": "normal", "as_of": "2026-06-01"}).get_data(as_text=True)
    assert 'id="precheck-report"' in page and 'data-criterion="achievements"' in page
    response = b.post(f"/admin/standards/{BASE}/v{SEEDED}/preview", data={"profile_text": "{birth_date: 1990-01-01",
                                                                    "as_of": "2026-06-01"})
    assert response.status_code == 422 and "YAML syntax" in response.get_data(as_text=True)
    # in the editor: preview an unsaved change (k = 9 → not met) without publishing
    data = _form(b, f"/admin/standards/{BASE}/edit")
    data["achievements"] = data["achievements"].replace("value: 1", "value: 9")
    data.update(action="preview", profile_user=str(zhang), route="normal", as_of="2026-06-01")
    page = b.post(f"/admin/standards/{BASE}/edit", data=data).get_data(as_text=True)
    assert 'id="report-overall">不符合' in page and _version(cast.db, BASE) == SEEDED


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
    assert same.status_code == 409 and _version(cast.db, BASE) == SEEDED + 1
    bad = edited.replace("\nlevel: 中级", "\nlevel: 特级")
    response = b.post("/admin/standards/import", data={"yaml_text": bad})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "&lt;import&gt;:7: level: Input should be" in page
    assert _version(cast.db, BASE) == SEEDED + 1


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


def test_thresholds_are_edited_through_form_fields(browser, cast):
    import html
    import re

    b = browser("admin")
    url = f"/admin/standards/{BASE}/edit"
    data = _form(b, url)
    page = b.get(url).get_data(as_text=True)
    data.update({m.group(1): html.unescape(m.group(2))
                 for m in re.finditer(r'<input [^>]*name="(t-[^"]+)" value="([^"]*)"', page)})
    rows = {data[k]: k.split("-")[1] for k in data if k.endswith("-path") and k.startswith("t-")}
    for i in rows.values():
        data[f"t-{i}-tag"] = data[f"t-{i}-o_tag"]
    k = rows["achievements.k"]
    data.update({f"t-{k}-value": "2", f"t-{k}-tag": "S", f"t-{k}-source": "湘人社规〔2022〕22号", "action": "publish"})
    assert b.post(url, data=data).status_code == 303
    with cast.db.read() as conn:
        v2 = get_standard(conn, BASE, SEEDED + 1)
    assert (v2.achievements.k.value, v2.achievements.k.tag.value, v2.achievements.k.source) == \
        (2, "S", "湘人社规〔2022〕22号")
    # a bad number is reported next to its row and nothing is published
    data = _form(b, url)
    page = b.get(url).get_data(as_text=True)
    data.update({m.group(1): html.unescape(m.group(2))
                 for m in re.finditer(r'<input [^>]*name="(t-[^"]+)" value="([^"]*)"', page)})
    for i in rows.values():
        data[f"t-{i}-tag"] = data[f"t-{i}-o_tag"]
    data.update({f"t-{k}-value": "x", "action": "publish"})
    response = b.post(url, data=data)
    assert response.status_code == 422 and "数值须为非负整数" in response.get_data(as_text=True)
    assert _version(cast.db, BASE) == SEEDED + 1
