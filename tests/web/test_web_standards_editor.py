"""The structured standards editor as an administrator uses it: start from a copy (or from scratch, or as a
revision), change numbers in form fields, save a draft, see each problem beside its field, preview the draft on
saved profiles against the current version, publish a new version; two editors of one draft do not overwrite
each other."""

from __future__ import annotations

import re

import pytest
from webhelpers import form_fields, newest_standard_version, user_id

from workflow.eligibility.standards import STANDARDS_DIR, load_standard_yaml
from workflow.eligibility.standards_store import get_standard

HUNAN = "hunan-sme-advanced-manufacturing-senior"
SEEDED = load_standard_yaml(STANDARDS_DIR / f"{HUNAN}.yaml").version





def _copy(b, standard_id: str = HUNAN) -> str:
    """Start a draft as a copy of ``standard_id``; the draft's URL."""
    response = b.post("/admin/standards/new", data={"copy": standard_id, "start": "copy"})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert re.search(r"/admin/standards/drafts/\d+$", response.headers["Location"])
    return response.headers["Location"]


def _fields(b, url: str):
    page = b.get(url)
    assert page.status_code == 200
    return form_fields(page.get_data(as_text=True), "standard-form")


def _put(data, values: dict[str, str]) -> None:
    """Type ``values`` into the form (replacing what the inputs held; MultiDict.update would add)."""
    for name, value in values.items():
        data.setlist(name, [value])


def _error_beside(page: str, dom_id: str) -> str:
    m = re.search(rf'id="{dom_id}-error"[^>]*>(.*?)</div>\s*</div>', page, re.S)
    return re.sub(r"<[^>]+>", "", m.group(1)) if m else ""


def test_the_new_page_offers_a_copy_first_and_scratch_second(browser):
    page = browser("admin").get("/admin/standards/new").get_data(as_text=True)
    assert page.index("新建（复制现有标准）") < page.index("从空白开始")
    assert f'value="{HUNAN}"' in page
    assert browser("admin").get(f"/admin/standards/new?copy={HUNAN}").get_data(as_text=True).count(
        f'value="{HUNAN}" selected') == 1


def test_copy_rename_change_two_numbers_then_publish(browser, cast):
    b = browser("admin")
    url = _copy(b)
    data = _fields(b, url)
    assert data["f.id"] == f"{HUNAN}-copy" and data["f.direct.routes.1.industry_years.value"] == "13"
    _put(data, {"f.id": "smart-vehicle-senior", "f.name.zh": "智能网联汽车专业高级工程师评价标准",
                 "f.name.en": "", "f.specialty": "智能网联汽车",
                 "f.direct.routes.1.industry_years.value": "12", "f.achievements.k.value": "2",
                 "action": "save"})
    assert b.post(url, data=data).status_code == 303
    saved = _fields(b, url)
    assert saved["f.direct.routes.1.industry_years.value"] == "12" and saved["f.name.zh"].startswith("智能网联")
    assert newest_standard_version(cast.db, "smart-vehicle-senior") is None  # a draft publishes nothing

    # an impossible value: the message in Chinese beside the field; nothing published; the input kept
    _put(saved, {"f.achievements.k.value": "9", "action": "publish"})
    response = b.post(url, data=saved)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "要求具备9条，但只列出了8条" in _error_beside(page, "f-achievements-k")
    assert 'name="f.achievements.k.value" value="9"' in page and "Input should" not in page
    assert newest_standard_version(cast.db, "smart-vehicle-senior") is None

    again = form_fields(page, "standard-form")
    _put(again, {"f.achievements.k.value": "2", "action": "publish"})
    response = b.post(url, data=again)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    assert response.headers["Location"].endswith("/admin/standards/smart-vehicle-senior/v1")
    with cast.db.read() as conn:
        new = get_standard(conn, "smart-vehicle-senior", 1)
        original = get_standard(conn, HUNAN, SEEDED)
    assert new.achievements.k.value == 2 and new.direct.routes[1].industry_years.value == 12
    assert new.name.en == new.name.zh  # English left blank: the Chinese name everywhere
    assert new.education_routes == original.education_routes and new.bridging == original.bridging
    assert b.get(url).status_code == 404  # the draft is gone once published
    assert newest_standard_version(cast.db, HUNAN) == SEEDED


def test_errors_are_in_english_on_an_english_page(browser):
    b = browser("admin")
    url = _copy(b)
    b.get("/lang/en")
    data = _fields(b, url)
    _put(data, {"f.direct.routes.0.industry_years.value": "-2", "f.id": "Bad Id", "action": "publish"})
    page = b.post(url, data=data).get_data(as_text=True)
    assert "Must be at least 0" in _error_beside(page, "f-direct-routes-0-industry_years")
    assert "lower-case letters" in _error_beside(page, "f-id")
    assert "不能小于" not in page


def test_preview_shows_each_profile_under_the_current_version_and_the_draft(browser, cast):
    b = browser("admin")
    b.post(f"/admin/standards/{HUNAN}/edit")
    url = _copy(b)  # a copy compares with the standard it was copied from
    data = _fields(b, url)
    zhang, li = user_id(cast.db, "zhang"), user_id(cast.db, "li")
    _put(data, {"f.achievements.k.value": "8", "f.direct.achievements_k.value": "8",
                 "f.exceptional.achievements_k.value": "8", "action": "preview", "route": "normal"})
    data.setlist("preview_user", [str(zhang), str(li)])
    response = b.post(url, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:3000]
    rows = re.findall(r'<tr data-user="(\w+)"', page)
    assert rows == ["zhang", "li"]
    assert 'class="preview-current"' in page and 'class="preview-draft"' in page
    assert newest_standard_version(cast.db, f"{HUNAN}-copy") is None
    data = form_fields(page, "standard-form")
    data["action"] = "preview"
    data.setlist("preview_user", [])
    assert "请至少选择一位申报人" in b.post(url, data=data).get_data(as_text=True)


def test_revision_is_one_draft_and_unchanged_content_is_not_published(browser, cast):
    b = browser("admin")
    assert "开始修订" in b.get(f"/admin/standards/{HUNAN}/edit").get_data(as_text=True)
    first = b.post(f"/admin/standards/{HUNAN}/edit")
    again = b.post(f"/admin/standards/{HUNAN}/edit")
    assert first.headers["Location"] == again.headers["Location"]  # the open draft is reused
    url = first.headers["Location"]
    data = _fields(b, url)
    assert "readonly" in b.get(url).get_data(as_text=True).split('name="f.id"')[1][:80]
    _put(data, {"f.id": "renamed", "action": "publish"})  # the id of a revision never changes
    response = b.post(url, data=data)
    assert response.status_code == 409 and "内容与当前版本相同" in response.get_data(as_text=True)
    data = form_fields(response.get_data(as_text=True), "standard-form")  # every press saves the draft
    data["f.basic.max_age.value"] = ""  # blank optional number: not asked (the seed has none either)
    data["f.bridging.map.0.waiting_years.value"] = "3"
    data["action"] = "publish"
    assert b.post(url, data=data).status_code == 303
    assert newest_standard_version(cast.db, HUNAN) == SEEDED + 1 and newest_standard_version(cast.db, "renamed") is None


def test_rows_are_added_and_removed_and_a_layer_switched_off(browser, cast):
    b = browser("admin")
    url = _copy(b)
    data = _fields(b, url)
    routes = len({k.split(".")[3] for k in data if k.startswith("f.direct.routes.")})
    data["action"] = "add:direct.routes"
    response = b.post(url, data=data)
    assert response.status_code == 303 and response.headers["Location"].endswith("#f-direct-routes")
    data = _fields(b, url)
    assert len({k.split(".")[3] for k in data if k.startswith("f.direct.routes.")}) == routes + 1
    data["action"] = f"remove:direct.routes.{routes}"
    b.post(url, data=data)
    data = _fields(b, url)
    assert len({k.split(".")[3] for k in data if k.startswith("f.direct.routes.")}) == routes
    data.pop("f.bridging.__on")
    _put(data, {"f.id": "no-bridging-senior", "action": "publish"})
    assert b.post(url, data=data).status_code == 303
    with cast.db.read() as conn:
        assert get_standard(conn, "no-bridging-senior", 1).bridging is None


def test_a_new_standard_from_scratch_and_an_id_already_taken(browser, cast):
    b = browser("admin")
    response = b.post("/admin/standards/new", data={"start": "blank"})
    url = response.headers["Location"]
    data = _fields(b, url)
    data["action"] = "publish"
    page = b.post(url, data=data).get_data(as_text=True)
    for dom_id in ("f-id", "f-name", "f-specialty", "f-title", "f-source"):
        assert "必填" in _error_beside(page, dom_id), dom_id
    data = form_fields(page, "standard-form")
    _put(data, {"action": "publish", "f.id": HUNAN, "f.name.zh": "数字孪生工程技术人员工程师评价标准",
                 "f.specialty": "数字孪生", "f.title": "工程师", "f.source": "人社部令第25号",
                 "f.achievements.items.0.text.zh": "主持项目"})
    response = b.post(url, data=data)
    assert response.status_code == 409 and "已被" in _error_beside(response.get_data(as_text=True), "f-id")
    data = form_fields(response.get_data(as_text=True), "standard-form")
    _put(data, {"f.id": "digital-twin-engineer", "action": "publish"})
    assert b.post(url, data=data).status_code == 303
    with cast.db.read() as conn:
        made = get_standard(conn, "digital-twin-engineer", 1)
    assert made.level.value == "中级" and made.name.en == "数字孪生工程技术人员工程师评价标准"


def test_two_editors_of_one_draft_do_not_overwrite_each_other(browser, cast):
    first, second = browser("admin"), browser("admin")
    url = _copy(first)
    mine, theirs = _fields(first, url), _fields(second, url)
    _put(mine, {"f.specialty": "甲", "action": "save"})
    assert first.post(url, data=mine).status_code == 303
    _put(theirs, {"f.specialty": "乙", "action": "save"})
    response = second.post(url, data=theirs)
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and 'value="乙"' in page  # refused, their input still on the page
    assert _fields(first, url)["f.specialty"] == "甲"


def test_discarding_a_draft(browser, cast):
    b = browser("admin")
    url = _copy(b)
    listing = b.get("/admin/standards/").get_data(as_text=True)
    assert "data-draft" in listing.split('id="drafts-table"')[1] and "未发布的草稿" not in listing.split("</title>")[0]
    data = _fields(b, url)
    data["action"] = "discard"
    assert b.post(url, data=data).status_code == 303
    assert b.get(url).status_code == 404
    assert 'id="drafts-table"' not in b.get("/admin/standards/").get_data(as_text=True)


@pytest.mark.parametrize("who", ["zhang", "officer", "unit_hr", None])
def test_drafts_are_for_administrators_only(browser, who):
    url = _copy(browser("admin"))
    b = browser(who)
    assert b.get(url).status_code in ((302, 303) if who is None else (403,))
    assert b.post(url, data={"action": "discard"}).status_code in ((302, 303) if who is None else (403,))
    assert browser("admin").get(url).status_code == 200


def test_every_editor_form_needs_its_csrf_token(cast, cast_db, tmp_path):
    from webhelpers import PASSWORD, Browser, make_app

    app = make_app(cast_db, tmp_path, WTF_CSRF_ENABLED=True)
    b = Browser(app.test_client(), PASSWORD).login("admin")
    refused = b.post("/admin/standards/new", data={"copy": HUNAN, "start": "copy"})
    assert refused.status_code == 400 and "安全令牌" in refused.get_data(as_text=True)
    assert b.post(f"/admin/standards/{HUNAN}/edit").status_code == 400
    token = b.token("/admin/standards/new")
    url = b.post("/admin/standards/new", data={"copy": HUNAN, "start": "copy", "csrf_token": token}
                 ).headers["Location"]
    data = _fields(b, url)
    assert data["csrf_token"]
    for action in ("save", "preview", "publish", "add:direct.routes", "remove:direct.routes.0", "discard"):
        forged = data.copy()
        forged.setlist("action", [action])
        forged.setlist("csrf_token", ["forged"])
        assert b.post(url, data=forged).status_code == 400, action
        forged.pop("csrf_token")
        assert b.post(url, data=forged).status_code == 400, action
    after = _fields(b, url)
    # The token carries a timestamp, so a page rendered a second later holds another one: compare the rest.
    after.pop("csrf_token")
    data.pop("csrf_token")
    assert after == data  # nothing saved, nothing discarded
    data["csrf_token"] = token
    data["action"] = "save"
    assert b.post(url, data=data).status_code == 303


def test_the_preview_list_is_searched_not_dumped(browser, cast, monkeypatch):
    from web import standards as views

    monkeypatch.setattr(views, "APPLICANTS_SHOWN", 1)
    b = browser("admin")
    url = _copy(b)
    page = b.get(url).get_data(as_text=True)
    assert len(re.findall(r'name="preview_user"', page)) == 1  # a province has too many to list
    data = _fields(b, url)
    _put(data, {"action": "find", "preview_find": "李"})
    page = b.post(url, data=data).get_data(as_text=True)
    listed = re.findall(r'<label class="form-check-label" for="preview-user-\d+">([^<]+)</label>', page)
    assert listed == ["李娜（li）"]
    data = form_fields(page, "standard-form")
    data.setlist("preview_user", [str(user_id(cast.db, "li"))])
    _put(data, {"action": "find", "preview_find": "zhang"})
    page = b.post(url, data=data).get_data(as_text=True)  # a chosen applicant stays listed and ticked
    listed = re.findall(r'<label class="form-check-label" for="preview-user-\d+">([^<]+)</label>', page)
    assert listed == ["李娜（li）", "张伟（zhang）"]
    assert f'value="{user_id(cast.db, "li")}" checked' in page
