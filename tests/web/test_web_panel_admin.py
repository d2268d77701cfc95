"""The expert pool and committee pages (administrators), conflict declaration and the chair's decision
(panel), and the minutes — through the web."""

from __future__ import annotations

import io
import re
from datetime import date

from driver import close_secrets
from panel_helpers import add_pool, case_at_vote
from sqlalchemy import select

from workflow.engine import core as engine
from workflow.models import CommitteeSeat, Conflict, Expert, ReviewSession
from workflow.panel import ballots, committee

HEADER = "专家编号,姓名,登录账号,专业,系列,职称级别,工作单位,地区,聘期开始,聘期结束,状态,回避关系\n"


def _new_session(world, **parameters) -> int:
    with world.db.session(write=True) as s:
        session = ReviewSession(code="S-WEB-DRAW", name="2026年湘产专场·新材料", year=2026, series="工程",
                                industry="新材料", authority_org_id=world.authority, pipeline_ids=["industry-session"],
                                parameters=parameters, sitting_on=date(2026, 6, 18))
        s.add(session)
        s.flush()
        return session.id


def _experts(db) -> dict[str, dict]:
    with db.read() as conn:
        return {r["code"]: dict(r) for r in conn.execute(select(Expert.__table__)).mappings()}


# ------------------------------------------------------------------------------------------ permissions


def test_pool_and_committee_pages_are_for_administrators_only(cast, browser):
    session_id = _new_session(cast, committee_size=3)
    urls = ["/admin/experts/", "/admin/experts/new", "/admin/experts/import", "/admin/experts/export.xlsx",
            "/admin/experts/template.csv", f"/admin/sessions/{session_id}/committee", "/admin/committees"]
    for username in ("chair", "expert1", "officer", "zhang"):
        b = browser(username)
        for url in urls:
            assert b.get(url).status_code == 403, (username, url)
        assert b.post(f"/admin/sessions/{session_id}/committee/draw").status_code == 403
        assert b.post("/admin/experts/import").status_code == 403
    assert browser(None).get("/admin/experts/").status_code in (302, 303)
    admin = browser("admin")
    for url in urls:
        assert admin.get(url).status_code == 200, url
    assert "专家库" in admin.get("/admin/").get_data(as_text=True)


# ------------------------------------------------------------------------------------------ the pool


def test_add_edit_filter_and_retire_an_expert(cast, browser):
    admin = browser("admin")
    bad = admin.post("/admin/experts/new", data={"code": "HN-1", "name": "王五", "specialties": "", "level": "特级"})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "必填" in body and "应为 副高 或 正高" in body and 'value="王五"' in body
    ok = admin.post("/admin/experts/new", data={"code": "HN-1", "name": "王五", "specialties": "新材料；化工",
                                                "level": "正高", "employer": "长沙精密传感有限公司",
                                                "term_start": "2025-01-01", "term_end": "2027-12-31"})
    assert ok.status_code == 303
    expert = _experts(cast.db)["HN-1"]
    assert expert["specialties"] == ["新材料", "化工"] and expert["employer_org_id"] == cast.other_employer
    assert admin.post("/admin/experts/new", data={"code": "HN-1", "name": "x", "specialties": "a",
                                                  "level": "副高"}).status_code == 422
    page = admin.get(f"/admin/experts/{expert['id']}").get_data(as_text=True)
    assert 'value="新材料；化工"' in page and "退出专家库" in page
    assert admin.post(f"/admin/experts/{expert['id']}", data={
        "code": "HN-1", "name": "王五", "specialties": "新材料", "level": "副高"}).status_code == 303
    assert _experts(cast.db)["HN-1"]["level"] == "副高"
    listing = admin.get("/admin/experts/?specialty=新材料").get_data(as_text=True)
    assert "HN-1" in listing
    assert "HN-1" not in admin.get("/admin/experts/?q=不存在").get_data(as_text=True)
    assert "HN-1" not in admin.get("/admin/experts/?level=正高").get_data(as_text=True)
    # retiring needs a reason
    admin.post(f"/admin/experts/{expert['id']}/retire", data={"reason": ""})
    assert _experts(cast.db)["HN-1"]["status"] == "active"
    assert admin.post(f"/admin/experts/{expert['id']}/retire", data={"reason": "到龄"}).status_code == 303
    assert _experts(cast.db)["HN-1"]["status"] == "retired"
    assert "HN-1" not in admin.get("/admin/experts/").get_data(as_text=True)
    assert "HN-1" in admin.get("/admin/experts/?status=retired").get_data(as_text=True)
    assert "到龄" in admin.get(f"/admin/experts/{expert['id']}").get_data(as_text=True)


def test_csv_import_writes_good_rows_and_reports_bad_ones_in_chinese(cast, browser):
    admin = browser("admin")
    content = (HEADER + "HN-A1,甲专家,,新材料,工程,正高,,长沙,2025-01-01,2027-12-31,在库,\n"
               "HN-A2,乙专家,,新材料,工程,特级,,长沙,2025-01-01,2027-12-31,在库,\n"
               "HN-A3,丙专家,nosuchuser,,工程,副高,,长沙,2025-01-01,2024-12-31,在库,\n"
               "HN-A4,丁专家,,新材料；化工,工程,副高,,,,,,\n").encode("utf-8-sig")
    response = admin.post("/admin/experts/import", data={"file": (io.BytesIO(content), "专家.csv")},
                          content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "新增 2 人" in page and "未导入 2 行" in page
    assert "第 3 行" in page and "应为 副高 或 正高，实际为“特级”" in page
    assert "第 4 行" in page and "登录账号“nosuchuser”不存在" in page and "聘期结束日期早于开始日期" in page
    assert set(_experts(cast.db)) >= {"HN-A1", "HN-A4"} and "HN-A2" not in _experts(cast.db)
    # a file of the wrong kind is refused with a message
    response = admin.post("/admin/experts/import", data={"file": (io.BytesIO(b"x"), "a.txt")},
                          content_type="multipart/form-data")
    assert response.status_code == 422 and "CSV 或 Excel" in response.get_data(as_text=True)


def test_xlsx_import_and_export_round_trip(cast, browser):
    from openpyxl import Workbook, load_workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["专家编号", "姓名", "专业", "职称级别", "聘期开始", "聘期结束", "邮箱"])
    ws.append(["HN-X1", "戊专家", "电气工程", "正高", date(2025, 1, 1), date(2028, 1, 1), "wu@example.cn"])
    ws.append(["HN-X2", "己专家", "电气工程", "正高", "2025-01-01", "2028-01-01", "bad-email"])
    ws.append([1001, "庚专家", "", "副高", None, None, None])
    buf = io.BytesIO()
    wb.save(buf)
    response = browser("admin").post("/admin/experts/import",
                                     data={"file": (io.BytesIO(buf.getvalue()), "roster.xlsx")},
                                     content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "新增 1 人" in page and "未导入 2 行" in page
    assert "邮箱“bad-email”格式不正确" in page and re.search(r"第 4 行.*?专业.*?必填", page, re.S)
    assert _experts(cast.db)["HN-X1"]["term_end"] == date(2028, 1, 1)

    export = browser("admin").get("/admin/experts/export.xlsx")
    assert export.status_code == 200 and "attachment" in export.headers["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(export.data)).worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "专家编号" and any(r[0] == "HN-X1" for r in rows[1:])
    template = browser("admin").get("/admin/experts/template.csv")
    assert template.status_code == 200 and template.data.decode("utf-8-sig").startswith("专家编号,姓名")
    assert browser("admin").get("/admin/experts/template.pdf").status_code == 404


# ------------------------------------------------------------------------------------------ the draw


def test_draw_shows_seed_and_verifies_then_replacement_and_chair(cast, browser):
    add_pool(cast.db, 8, specialties=("新材料",))
    session_id = _new_session(cast, committee_size=5)
    admin = browser("admin")
    url = f"/admin/sessions/{session_id}/committee"
    page = admin.get(url).get_data(as_text=True)
    assert "符合条件的在库专家 8 人" in page and "随机抽取评委会" in page
    assert admin.post(f"{url}/draw", data={"seed": "abc"}).status_code == 422
    response = admin.post(f"{url}/draw", data={"seed": "20260618", "chair_mode": "drawn"})
    assert response.status_code == 303
    page = admin.get(url).get_data(as_text=True)
    assert "20260618" in page and "评委会抽取" in page and "主任委员" in page
    record = committee.session_draws(cast.db, session_id)[0]
    assert record["seed"] == "20260618"
    assert committee.run_draw(20260618, record["candidates"], 5, draw_chair=True) == (record["result"],
                                                                                      record["chair_id"])
    verified = admin.get(f"{url}?verify=1").get_data(as_text=True)
    assert "复核通过" in verified and "复核一致" in verified
    # a second draw is refused; replacements are drawn the same way and recorded
    again = admin.post(f"{url}/draw", data={})
    assert again.status_code == 409 or again.status_code == 422
    assert "已组建评委会" in again.get_data(as_text=True)
    with cast.db.read() as conn:
        seats = dict(conn.execute(select(CommitteeSeat.__table__.c.user_id, CommitteeSeat.__table__.c.seat_role)
                                  .where(CommitteeSeat.__table__.c.session_id == session_id)).all())
    member = next(u for u, r in seats.items() if r == "member")
    assert admin.post(f"{url}/replacement", data={"replacing_user_id": str(member), "reason": ""}).status_code >= 400
    assert admin.post(f"{url}/replacement", data={"replacing_user_id": str(member),
                                                  "reason": "因病不能参会"}).status_code == 303
    page = admin.get(f"{url}?verify=1").get_data(as_text=True)
    assert "替补抽取" in page and "因病不能参会" in page and "复核通过" in page
    new_chair = next(u for u, r in seats.items() if r == "member" and u != member)
    assert admin.post(f"{url}/chair", data={"user_id": str(new_chair)}).status_code == 303
    with cast.db.read() as conn:
        chair = conn.execute(select(CommitteeSeat.__table__.c.user_id).where(
            CommitteeSeat.__table__.c.session_id == session_id,
            CommitteeSeat.__table__.c.seat_role == "chair")).scalar_one()
    assert chair == new_chair
    assert committee.verify_session(cast.db, session_id).ok


def test_verify_reports_a_tampered_draw(cast, browser):
    from sqlalchemy import update

    from workflow.models import CommitteeDraw

    add_pool(cast.db, 6, specialties=("新材料",))
    session_id = _new_session(cast, committee_size=3)
    admin = browser("admin")
    admin.post(f"/admin/sessions/{session_id}/committee/draw", data={"seed": "7"})
    with cast.db.write() as conn:
        conn.execute(update(CommitteeDraw.__table__).where(CommitteeDraw.__table__.c.session_id == session_id)
                     .values(seed="8"))
    page = admin.get(f"/admin/sessions/{session_id}/committee?verify=1").get_data(as_text=True)
    assert "复核发现问题" in page and "复核不一致" in page


# ------------------------------------------------------------------------------------------ conflicts


def test_a_conflicted_member_gets_403_on_dossier_and_vote_until_the_chair_dismisses(cast, browser):
    case_id = case_at_vote(cast)
    member = browser("expert1")
    assert member.get(f"/cases/{case_id}").status_code == 200
    page = browser("expert1").get(f"/panel/sessions/{cast.session_id}").get_data(as_text=True)
    assert f"/panel/cases/{case_id}/conflict" in page
    form = member.get(f"/panel/cases/{case_id}/conflict").get_data(as_text=True)
    assert "亲属关系" in form and "师生关系" in form
    bad = member.post(f"/panel/cases/{case_id}/conflict", data={"kind": "other", "note": ""})
    assert bad.status_code == 422 and "请说明利害关系" in bad.get_data(as_text=True)
    assert member.post(f"/panel/cases/{case_id}/conflict", data={"kind": "relative",
                                                                 "note": "申报人系本人表弟"}).status_code == 303
    dossier = member.get(f"/cases/{case_id}")
    assert dossier.status_code == 403 and "利益冲突" in dossier.get_data(as_text=True)
    vote = member.post(f"/panel/cases/{case_id}/vote", data={"choice": "yes"})
    assert vote.status_code == 403
    with cast.db.read() as conn:
        assert conn.execute(select(Conflict.__table__.c.status)).scalars().all() == ["pending"]
    # outsiders to the session cannot declare; members cannot decide
    assert browser("officer").get(f"/panel/cases/{case_id}/conflict").status_code == 403
    assert browser("expert2").get(f"/panel/cases/{case_id}/conflicts").status_code == 403
    assert browser("expert2").post(f"/panel/cases/{case_id}/conflicts/{cast.members[0].user_id}",
                                   data={"decision": "confirm"}).status_code == 403
    chair = browser("chair")
    listing = chair.get(f"/panel/cases/{case_id}/conflicts").get_data(as_text=True)
    assert "申报人系本人表弟" in listing and "待确认" in listing and "本人申报" in listing
    url = f"/panel/cases/{case_id}/conflicts/{cast.members[0].user_id}"
    refused = chair.post(url, data={"decision": "dismiss", "note": ""})
    assert refused.status_code == 422 and "须说明理由" in refused.get_data(as_text=True)
    assert chair.post(url, data={"decision": "dismiss", "note": "远亲，不影响公正"}).status_code == 303
    assert "已驳回" in chair.get(f"/panel/cases/{case_id}/conflicts").get_data(as_text=True)
    assert member.get(f"/cases/{case_id}").status_code == 200
    assert member.post(f"/panel/cases/{case_id}/vote", data={"choice": "yes"}).status_code == 303


def test_the_chair_confirms_a_declared_conflict(cast, browser):
    case_id = case_at_vote(cast)
    browser("expert2").post(f"/panel/cases/{case_id}/conflict", data={"kind": "collaborator", "note": "合作课题"})
    chair = browser("chair")
    assert chair.post(f"/panel/cases/{case_id}/conflicts/{cast.members[1].user_id}",
                      data={"decision": "confirm"}).status_code == 303
    with cast.db.read() as conn:
        assert conn.execute(select(Conflict.__table__.c.status)).scalar_one() == "confirmed"
    assert browser("expert2").get(f"/cases/{case_id}").status_code == 403
    assert browser("expert2").post(f"/panel/cases/{case_id}/vote", data={"choice": "no"}).status_code == 403
    with cast.db.read() as conn:
        assert cast.members[1].user_id in ballots.recused_ids(conn, case_id)


# ------------------------------------------------------------------------------------------ minutes


def test_minutes_show_counts_and_never_choices_by_member(cast, browser):
    case_id = case_at_vote(cast)
    everyone = [cast.chair, *cast.members]
    for i, actor in enumerate(everyone):
        ballots.cast_vote(cast.db, case_id, actor, "yes" if i < 5 else ("no" if i == 5 else "abstain"))
    engine.fire(cast.db, case_id, "close_ballot", cast.chair, secrets=close_secrets(cast))
    chair = browser("chair")
    session_url = f"/panel/sessions/{cast.session_id}"
    assert "会议纪要" in chair.get(session_url).get_data(as_text=True)
    assert chair.post(f"{session_url}/sitting/close").status_code == 303
    page = chair.get(f"{session_url}/minutes")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "@media print" in html
    assert "出席 7 人" in html and "<td>5</td><td>1</td><td>1</td>" in html and "纪要校验码" in html
    # no member's name sits next to a choice: the only per-person lists are the seated/present rolls
    for actor in everyone:
        assert actor.name and actor.name in html  # the roll names them ...
        assert not re.search(re.escape(actor.name) + r"[^<]{0,20}(同意|不同意|弃权)", html)  # ... never a choice
    assert "投票选择" in html  # the note that choices are never recorded
    assert browser("zhang").get(f"{session_url}/minutes").status_code == 403
