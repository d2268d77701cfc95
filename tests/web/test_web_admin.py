"""Administration pages: accounts and roles, organisations with firm flags, sessions and committee seats."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from webhelpers import Browser

from workflow.models import CommitteeSeat, Organisation, ReviewSession, User, UserRole


def _user(db, username: str) -> dict | None:
    with db.read() as conn:
        row = conn.execute(select(User.__table__).where(User.__table__.c.username == username)).mappings().first()
        if row is None:
            return None
        roles = set(conn.execute(select(UserRole.__table__.c.role)
                                 .where(UserRole.__table__.c.user_id == row["id"])).scalars())
    return {**row, "roles": roles}


def test_create_a_user_who_can_then_sign_in(cast, browser, app):
    b = browser("admin")
    response = b.post("/admin/users/new", data={
        "username": "hr_new", "display_name": "新经办人", "org_id": str(cast.employer),
        "roles": ["unit_reviewer"], "password": "start-2026-pass", "email": "", "phone": ""})
    assert response.status_code == 303
    user = _user(cast.db, "hr_new")
    assert user["roles"] == {"unit_reviewer"} and user["org_id"] == cast.employer
    fresh = Browser(app.test_client(), "start-2026-pass").login("hr_new")
    assert fresh.get("/unit/").status_code == 200


def test_refusals_keep_the_form(cast, browser):
    b = browser("admin")
    data = {"username": "zhang", "display_name": "重名", "org_id": "0", "roles": ["applicant"],
            "password": "start-2026-pass"}
    response = b.post("/admin/users/new", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 409 and "已被使用" in body and 'value="重名"' in body
    data.update(username="new_one", password="12345678")
    response = b.post("/admin/users/new", data=data)
    assert response.status_code == 422 and "不能全部是数字" in response.get_data(as_text=True)
    data.update(password="good-pass-2026", roles=["authority_officer"], org_id=str(cast.employer))
    response = b.post("/admin/users/new", data=data)
    assert response.status_code == 422 and "人社部门" in response.get_data(as_text=True)
    assert _user(cast.db, "new_one") is None


def test_change_roles_and_deactivate(cast, browser):
    b = browser("admin")
    target = _user(cast.db, "li")
    response = b.post(f"/admin/users/{target['id']}", data={
        "username": "li", "display_name": "李娜", "org_id": str(cast.other_employer),
        "roles": ["applicant", "panel_member"], "email": "", "phone": ""})  # is_active unticked
    assert response.status_code == 303
    user = _user(cast.db, "li")
    assert user["roles"] == {"applicant", "panel_member"} and not user["is_active"]


def test_an_administrator_cannot_lock_themselves_out(cast, browser):
    b = browser("admin")
    me = _user(cast.db, "admin")
    response = b.post(f"/admin/users/{me['id']}", data={
        "username": "admin", "display_name": "系统管理员", "org_id": str(cast.authority), "roles": ["administrator"],
        "email": "", "phone": ""})
    assert response.status_code == 409 and _user(cast.db, "admin")["is_active"]


def test_reset_password(cast, browser, app):
    b = browser("admin")
    target = _user(cast.db, "li")
    assert b.post(f"/admin/users/{target['id']}/password", data={"password": "reset-pass-2026"}).status_code == 303
    Browser(app.test_client(), "reset-pass-2026").login("li")


def test_organisations_with_sme_flags(cast, browser):
    b = browser("admin")
    response = b.post("/admin/orgs/new", data={
        "name": "湘潭新材科技有限公司", "kind": "employer", "region": "湘潭市", "credit_code": "91430300ma4y5c9r2j",
        "is_little_giant": "y", "has_hr_capacity": "y", "superior_org_id": str(cast.superior)})
    assert response.status_code == 303
    with cast.db.read() as conn:
        org = conn.execute(select(Organisation.__table__)
                           .where(Organisation.__table__.c.name == "湘潭新材科技有限公司")).mappings().one()
    assert org["is_little_giant"] and org["is_specialised"] and org["credit_code"] == "91430300MA4Y5C9R2J"
    assert "小巨人" in b.get("/admin/orgs").get_data(as_text=True)
    response = b.post("/admin/orgs/new", data={"name": "坏代码公司", "kind": "employer", "credit_code": "123",
                                               "superior_org_id": "0"})
    assert response.status_code == 422 and "18位" in response.get_data(as_text=True)


def test_sessions_and_seats(cast, browser):
    b = browser("admin")
    response = b.post("/admin/sessions/new", data={
        "code": "2026-hrm", "name": "2026年人力资源管理高级职称专场", "name_en": "", "series": "经济",
        "industry": "人力资源管理", "year": "2026", "pipeline_ids": ["industry-session", "fallback-filing"],
        "authority_org_id": str(cast.authority), "opens_on": "2026-03-01", "closes_on": "2026-06-30",
        "sitting_on": "2026-09-15", "status": "open", "standard_ids": ["hunan-sme-hr-senior-economist"]})
    assert response.status_code == 303
    with cast.db.read() as conn:
        session_id = conn.execute(select(ReviewSession.__table__.c.id)
                                  .where(ReviewSession.__table__.c.code == "2026-HRM")).scalar_one()
    expert = cast.members[0].user_id
    response = b.post(f"/admin/sessions/{session_id}/seats", data={"user_id": str(expert), "seat_role": "member"})
    assert response.status_code == 303
    response = b.post(f"/admin/sessions/{session_id}/seats", data={"user_id": str(cast.applicant.user_id),
                                                                  "seat_role": "member"})
    page = b.get(response.headers["Location"]).get_data(as_text=True)
    assert "没有“评审专家”角色" in page
    with cast.db.read() as conn:
        seats = conn.execute(select(CommitteeSeat.__table__).where(
            CommitteeSeat.__table__.c.session_id == session_id)).mappings().all()
    assert [s["user_id"] for s in seats] == [expert]
    assert b.post(f"/admin/sessions/{session_id}/seats/{seats[0]['id']}/remove").status_code == 303
    response = b.post("/admin/sessions/new", data={"code": "X", "name": "", "year": "2026", "authority_org_id": "0",
                                                   "status": "open"})
    assert response.status_code == 422


SESSION_FORM = {"code": "2026-XC-AI", "name": "2026年湘产专场·人工智能", "name_en": "", "series": "工程",
                "industry": "人工智能", "year": "2026", "pipeline_ids": ["industry-session"], "opens_on": "2026-03-01",
                "closes_on": "2026-06-30", "sitting_on": "2026-09-15", "status": "open",
                "standard_ids": ["hunan-sme-advanced-manufacturing-senior"]}


def _session_by_code(db, code: str) -> dict | None:
    with db.read() as conn:
        return conn.execute(select(ReviewSession.__table__)
                            .where(ReviewSession.__table__.c.code == code)).mappings().first()


def test_an_administrator_grants_session_waivers_with_their_policy_source(cast, browser):
    """A 湘产专场's waivers are set in the session form, stored for the evaluator, and shown when editing."""
    b = browser("admin")
    data = {**SESSION_FORM, "authority_org_id": str(cast.authority), "waive_papers": "y",
            "waive_foreign_language": "y", "relaxation_source": "湘人社规〔2022〕22号第4条"}
    assert b.post("/admin/sessions/new", data=data).status_code == 303
    row = _session_by_code(cast.db, "2026-XC-AI")
    assert row["relaxations"] == {"waive_papers": True, "waive_foreign_language": True,
                                  "source": "湘人社规〔2022〕22号第4条"}
    page = b.get(f"/admin/sessions/{row['id']}").get_data(as_text=True)
    ticked = set(re.findall(r'<input checked [^>]*id="(waive_\w+)"', page))
    assert ticked == {"waive_papers", "waive_foreign_language"} and "湘人社规〔2022〕22号第4条" in page
    # unticking everything clears the waivers
    data = {k: v for k, v in data.items() if not k.startswith("waive_")} | {"relaxation_source": ""}
    assert b.post(f"/admin/sessions/{row['id']}", data=data).status_code == 303
    assert _session_by_code(cast.db, "2026-XC-AI")["relaxations"] == {}


def test_a_waiver_without_a_policy_source_is_refused_and_the_form_kept(cast, browser):
    b = browser("admin")
    response = b.post("/admin/sessions/new", data={**SESSION_FORM, "authority_org_id": str(cast.authority),
                                                   "waive_age": "y", "relaxation_source": "  "})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "须注明政策依据" in body and "2026年湘产专场·人工智能" in body
    assert _session_by_code(cast.db, "2026-XC-AI") is None


def test_a_file_posted_under_a_text_fields_name_is_ignored_not_a_crash(cast, browser):
    """Multipart requests hand files to WTForms with the fields; a file reaches file fields only."""
    import io

    b = browser("admin")
    data = {**SESSION_FORM, "authority_org_id": str(cast.authority), "series": (io.BytesIO(b"x" * 100), "a.txt")}
    response = b.post("/admin/sessions/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    assert _session_by_code(cast.db, "2026-XC-AI")["series"] == ""


def test_the_notice_restart_option_is_a_session_parameter_that_keeps_the_others(cast, browser):
    from sqlalchemy import update

    from workflow.engine.core import RESTART_PAUSED_DEADLINES

    b = browser("admin")
    data = {**SESSION_FORM, "authority_org_id": str(cast.authority), "restart_notice": "y"}
    assert b.post("/admin/sessions/new", data=data).status_code == 303
    row = _session_by_code(cast.db, "2026-XC-AI")
    assert row["parameters"] == {RESTART_PAUSED_DEADLINES: True}
    with cast.db.write() as conn:  # a committee parameter set elsewhere
        conn.execute(update(ReviewSession.__table__).where(ReviewSession.__table__.c.id == row["id"])
                     .values(parameters={RESTART_PAUSED_DEADLINES: True, "committee_size": 9}))
    page = b.get(f"/admin/sessions/{row['id']}").get_data(as_text=True)
    assert re.search(r'<input checked [^>]*id="restart_notice"', page)
    data.pop("restart_notice")
    assert b.post(f"/admin/sessions/{row['id']}", data=data).status_code == 303
    assert _session_by_code(cast.db, "2026-XC-AI")["parameters"] == {"committee_size": 9}


@pytest.mark.parametrize(("url", "area"), [
    ("/admin/", "概览"), ("/admin/users", "用户"), ("/admin/orgs", "单位"), ("/admin/sessions", "评审会"),
    ("/admin/standards/", "评价标准"), ("/admin/standards/new", "评价标准"), ("/admin/experts/", "专家库"),
    ("/admin/calendar", "工作日历")])
def test_every_admin_page_has_the_same_navigation_with_its_area_marked(browser, url, area):
    page = browser("admin").get(url).get_data(as_text=True)
    nav = page[page.index('<nav aria-label="系统管理">'):]
    nav = nav[:nav.index("</nav>")]
    for name in ("概览", "用户", "单位", "评审会", "评价标准", "专家库", "工作日历"):
        assert f">{name}</a>" in nav, (url, name)
    assert re.findall(r'aria-current="page">([^<]+)</a>', nav) == [area]
