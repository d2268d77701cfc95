"""Every page of every role renders for the right person (200, in Chinese) and is refused to the wrong one."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from webhelpers import demo_case

from workflow.models import Organisation, ReviewSession, User

CJK = re.compile(r"[\u4e00-\u9fff]")


def _session_id(db, code_suffix: str) -> int:
    with db.read() as conn:
        t = ReviewSession.__table__
        return conn.execute(select(t.c.id).where(t.c.code.like(f"%-{code_suffix}"))).scalar_one()


def _user_id(db, username: str) -> int:
    with db.read() as conn:
        t = User.__table__
        return conn.execute(select(t.c.id).where(t.c.username == username)).scalar_one()


def _org_id(db, name: str) -> int:
    with db.read() as conn:
        t = Organisation.__table__
        return conn.execute(select(t.c.id).where(t.c.name == name)).scalar_one()


def _pages(db) -> dict[str | None, list[tuple[str, str]]]:
    """(url, a Chinese text the page must show) per account (None: anonymous)."""
    rail = _session_id(db, "RAIL")
    zhang_correction = demo_case(db, "zhangwei", 0)
    return {
        None: [("/", "湖南省职称评审服务平台"), ("/notices", "评审结果公示"), ("/verify", "电子职称证书查验"),
               ("/verify?number=HN0000000000", "查无此证"), ("/login", "登录")],
        "zhangwei": [("/applicant/", "我的申报"), ("/applicant/profile", "学历学位"),
                     ("/applicant/cases/new", "新建申报"), (f"/cases/{zhang_correction}", "请按以下清单一次性补正"),
                     (f"/applicant/cases/{zhang_correction}/edit", "修改申报信息"), ("/account", "修改密码"),
                     ("/messages", "消息"), ("/unit-notices", "本单位公示")],
        "zhigui_hr": [("/unit/", "单位审核"), ("/unit/?tab=recommend", "待考核推荐"), ("/unit/?tab=done", "已办结"),
                      (f"/cases/{demo_case(db, 'heping')}", "办理记录")],
        "rcfw": [("/unit/", "代理机构审核"), (f"/cases/{demo_case(db, 'linjia')}", "兜底申报账户证明")],
        "zz_gxj": [("/unit/superior", "待本部门审核"), (f"/cases/{demo_case(db, 'sunhao')}", "主管部门审核")],
        "rst_officer": [("/authority/", "职改办工作台"), ("/authority/?tab=filing", "确认备案"),
                        ("/authority/?tab=notice", "结果公示"), ("/authority/?tab=done", "已办结"),
                        ("/authority/certificates", "证书登记簿"),
                        (f"/cases/{demo_case(db, 'zhoumin')}", "受理"),
                        (f"/cases/{demo_case(db, 'xuwen')}", "确认备案"),
                        (f"/cases/{demo_case(db, 'lina')}", "电子职称证书"),
                        (f"/panel/sessions/{rail}", "委员出席登记")],
        "chair_zhou": [("/panel/", "评审委员会"), (f"/panel/sessions/{rail}", "委员出席登记"),
                       (f"/panel/sessions/{rail}/minutes", "纪要"),
                       (f"/cases/{demo_case(db, 'fengjun')}", "专业组评议"),
                       (f"/cases/{demo_case(db, 'heping')}", "评委会无记名投票"),
                       (f"/cases/{demo_case(db, 'gongxue')}", "答辩")],
        "expert_li": [("/panel/", "待评议"), (f"/panel/sessions/{rail}", "委员出席登记")],
        "rst_admin": [("/admin/", "系统管理"), ("/admin/users", "新建用户"), ("/admin/users/new", "初始密码"),
                      (f"/admin/users/{_user_id(db, 'zhangwei')}", "重置密码"), ("/admin/orgs", "专精特新"),
                      ("/admin/orgs/new", "统一社会信用代码"),
                      (f"/admin/orgs/{_org_id(db, '长沙湘工智能工程机械有限公司')}", "小巨人"),
                      ("/admin/sessions", "评审会"), ("/admin/sessions/new", "受理的评审流程"),
                      (f"/admin/sessions/{rail}", "评审委员会")],
        "wangjun": [("/unit-notices", "王丽"), (f"/notices/{demo_case(db, 'wangli')}/objection", "单位内部公示")],
        "zhengmin": [(f"/notices/{demo_case(db, 'jiangli')}/objection", "评审结果公示")],
    }


def test_every_page_renders_for_its_role(demo_db, demo_browser):
    for username, pages in _pages(demo_db).items():
        b = demo_browser(username)
        for url, text in pages:
            response = b.get(url)
            body = response.get_data(as_text=True)
            assert response.status_code == 200, f"{username} {url}: {response.status_code}\n{body[:800]}"
            assert text in body, f"{username} {url}: {text!r} missing"
            assert CJK.search(body), url


def test_the_default_language_is_chinese(demo_browser):
    body = demo_browser().get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in body and "评审结果公示" in body and "English" in body


@pytest.mark.parametrize(("username", "url"), [
    ("zhangwei", "/authority/"), ("zhangwei", "/unit/"), ("zhangwei", "/panel/"), ("zhangwei", "/admin/"),
    ("zhigui_hr", "/authority/"), ("zhigui_hr", "/applicant/"), ("zhigui_hr", "/admin/users"),
    ("rst_officer", "/admin/"), ("rst_officer", "/unit/superior"), ("expert_li", "/authority/certificates"),
    ("rst_admin", "/applicant/profile"), ("wangjun", "/unit/"), ("zhengmin", "/panel/"),
])
def test_areas_are_refused_to_other_roles(demo_browser, username, url):
    response = demo_browser(username).get(url)
    assert response.status_code == 403
    assert "无权访问" in response.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in(demo_browser):
    for url in ("/applicant/", "/unit/", "/authority/", "/panel/", "/admin/", "/messages", "/unit-notices"):
        response = demo_browser().get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_case_pages_are_refused_to_people_without_a_relation(demo_db, demo_browser):
    zhang = demo_case(demo_db, "zhangwei", 0)
    liu_draft = demo_case(demo_db, "liuqiang")
    refused = [
        ("liuqiang", zhang),        # another applicant
        ("xianggong_hr", zhang),    # the HR of another firm
        ("zhigui_hr", liu_draft),   # a draft is the applicant's own until submitted
        ("rst_officer", liu_draft),
        ("wangjun", zhang),         # staff without a role
        ("expert_li", zhang),       # the committee sees a dossier only while it is before them
    ]
    for username, case_id in refused:
        response = demo_browser(username).get(f"/cases/{case_id}")
        assert response.status_code == 403, (username, case_id)


def test_a_panel_member_is_told_why_a_dossier_is_closed(demo_db, demo_browser):
    body = demo_browser("expert_li").get(f"/cases/{demo_case(demo_db, 'lina')}").get_data(as_text=True)
    assert "不在评审阶段" in body


def test_unknown_pages_and_cases_are_404(demo_browser):
    b = demo_browser("rst_officer")
    assert b.get("/cases/999999").status_code == 404
    assert b.get("/no/such/page").status_code == 404
    assert "页面不存在" in b.get("/no/such/page").get_data(as_text=True)


def test_inboxes_list_only_the_organisations_cases(demo_db, demo_browser):
    body = demo_browser("zhigui_hr").get("/unit/?tab=all").get_data(as_text=True)
    assert "何平" in body and "王丽" not in body  # 王丽 is at 长沙湘工
    body = demo_browser("rcfw").get("/unit/?tab=all").get_data(as_text=True)
    assert "林佳" in body and "方圆" in body and "何平" not in body


def test_the_case_page_shows_timeline_deadline_diagram_and_actions(demo_db, demo_browser):
    case_id = demo_case(demo_db, "wulei")  # returned by the authority with a correction deadline
    body = demo_browser("wulei").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "补正截止" in body and "逾期未补正" in body  # the running deadline and what it will do
    assert "<svg" in body and 'data-current="true"' in body and 'data-state="authority_correction"' in body
    assert "退回补正（限期）" in body and "学历证书扫描件不清晰" in body  # the timeline entry with its list
    assert f'action="/cases/{case_id}/actions/resubmit"' in body


def test_refused_actions_are_shown_greyed_with_their_reasons(demo_db, demo_browser):
    # 石磊's fallback draft declares a 4-month contract: submitting is refused by the pipeline's rule.
    body = demo_browser("shilei").get(f"/cases/{demo_case(demo_db, 'shilei')}").get_data(as_text=True)
    assert "以下事项暂不能办理" in body and "不足 6 个月" in body and "disabled" in body


def test_the_public_notice_list_shows_the_notice_end(demo_db, demo_browser):
    body = demo_browser().get("/notices").get_data(as_text=True)
    assert "蒋立" in body and "秦悦" in body and "24:00" in body
    assert "异议核查中" in body  # 黄磊's notice is paused by an objection


def test_the_eligibility_check_is_shown_and_explained(demo_db, demo_browser):
    body = demo_browser("zhigui_hr").get(f"/cases/{demo_case(demo_db, 'heping')}").get_data(as_text=True)
    assert "申报条件核对" in body and "评价标准" in body and "继续教育学时" in body
    # a draft that does not meet its standard cannot be submitted, and says why before anyone tries
    body = demo_browser("zhangwei").get(f"/cases/{demo_case(demo_db, 'zhangwei', 1)}").get_data(as_text=True)
    assert "以下事项暂不能办理" in body and "高级技师" in body


def test_the_agency_reads_its_own_name_in_the_fallback_channel(cast, browser):
    """兜底: a personnel agency does the unit's steps; its pages and buttons say 代理机构, not 单位."""
    from driver import advance
    from webhelpers import open_case

    case_id = open_case(cast, "fallback-filing", data={"account_evidence": {
        "kind": "labour_contract", "contract_months": 12, "social_insurance": True}})
    advance(cast, case_id, "unit_review")
    agency = browser("agency")
    page = agency.get("/unit/").get_data(as_text=True)
    inbox = page[page.index('<main'):]
    assert "代理机构审核" in inbox and "代理机构公示不少于5个工作日" in inbox and "单位公示" not in inbox
    case_page = agency.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "开始代理机构公示" in case_page and "开始单位公示" not in case_page
    assert "单位审核" in browser("unit_hr").get("/unit/").get_data(as_text=True)
