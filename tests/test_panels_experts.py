"""The expert pool: add/edit/retire, CSV and Excel import with a per-row report, export and the template."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from panel_helpers import org_name

from workflow.errors import InvalidAction, PermissionDenied
from workflow.panel import experts

HEADER = ["专家编号", "姓名", "登录账号", "专业", "系列", "职称级别", "工作单位", "地区", "聘期开始", "聘期结束",
          "状态", "回避关系", "电话", "邮箱", "备注"]


def rows_good(world) -> list[list]:
    employer = org_name(world.db, world.employer)
    return [
        ["HN-ZJ-0001", "李明", "expert1", "轨道交通装备；电气工程", "工程", "正高", employer, "株洲", "2025-01-01",
         "2027-12-31", "在库", "亲属:张伟；合作:单位=长沙精密传感有限公司", "13800000001", "liming@example.cn", ""],
        ["HN-ZJ-0002", "王强", "", "新材料", "工程", "副高级", "中南大学", "长沙", "2025/3/1", "", "", "", "", "",
         "高校"],
        ["HN-ZJ-0003", "赵敏", "expert2", "轨道交通装备", "工程", "正高", "", "湘潭", "", "", "在库",
         "学生:账号=zhang:其硕士研究生", "", "", ""],
    ]


def rows_bad() -> list[list]:
    return [
        # no 编号
        ["", "无编号", "", "新材料", "工程", "正高", "", "", "", "", "", "", "", "", ""],
        # five errors: unknown login, no specialty, wrong level, impossible date, bad e-mail
        ["HN-ZJ-0004", "钱进", "nobody", "", "工程", "中级", "", "", "2025-13-01", "", "", "", "", "bad", ""],
        # three: end before start, unknown status, unknown relation kind
        ["HN-ZJ-0005", "孙丽", "", "新材料", "工程", "正高", "", "", "2026-01-01", "2025-01-01", "休假",
         "朋友:某人", "", "", ""],
        # the 编号 of row 2 again
        ["HN-ZJ-0001", "重复", "", "新材料", "工程", "正高", "", "", "", "", "", "", "", "", ""],
    ]


def as_csv(rows: list[list], *, encoding: str = "utf-8-sig") -> bytes:
    import csv

    buf = io.StringIO()
    csv.writer(buf).writerows([HEADER, *rows])
    return buf.getvalue().encode(encoding)


def as_xlsx(rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "专家"
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_import_good_and_bad_rows(world, fmt):
    rows = rows_good(world) + rows_bad()
    content = as_csv(rows) if fmt == "csv" else as_xlsx(rows)
    report = experts.import_experts(world.db, world.admin, content, fmt)
    assert report.rows == 7
    assert report.created == ["HN-ZJ-0001", "HN-ZJ-0002", "HN-ZJ-0003"] and report.updated == []
    assert report.rejected_rows == [5, 6, 7, 8]
    errors = {(e.row, e.column) for e in report.errors}
    assert errors == {(5, "专家编号"), (6, "登录账号"), (6, "专业"), (6, "职称级别"), (6, "聘期开始"), (6, "邮箱"),
                      (7, "状态"), (7, "回避关系"), (7, "聘期结束"), (8, "专家编号")}
    messages = {(e.row, e.column): e.message for e in report.errors}
    assert messages[(5, "专家编号")] == "必填"
    assert "不存在" in messages[(6, "登录账号")] and "副高 或 正高" in messages[(6, "职称级别")]
    assert "与第 2 行" in messages[(8, "专家编号")] and "早于" in messages[(7, "聘期结束")]
    assert str(report.errors[0]).startswith("第 5 行「专家编号」")
    pool = {e["code"]: e for e in experts.list_experts(world.db)}
    assert set(pool) == {"HN-ZJ-0001", "HN-ZJ-0002", "HN-ZJ-0003"}  # no bad row half-imported
    li = pool["HN-ZJ-0001"]
    assert li["specialties"] == ["轨道交通装备", "电气工程"] and li["level"] == "正高"
    assert li["employer_org_id"] == world.employer and li["term_end"] == date(2027, 12, 31)
    assert li["user_id"] == world.members[0].user_id
    assert li["relations"] == [{"kind": "relative", "note": "", "person": "张伟"},
                               {"kind": "collaborator", "note": "", "org": "长沙精密传感有限公司",
                                "org_id": world.other_employer}]
    assert pool["HN-ZJ-0002"]["level"] == "副高" and pool["HN-ZJ-0002"]["employer_org_id"] is None
    assert pool["HN-ZJ-0002"]["term_start"] == date(2025, 3, 1)
    assert pool["HN-ZJ-0003"]["relations"][0]["person_id"] == world.applicant.user_id


def test_reimport_updates_by_code_and_gbk_csv_is_read(world):
    experts.import_experts(world.db, world.admin, as_csv(rows_good(world)), "csv")
    changed = rows_good(world)[:1]
    changed[0][5] = "副高"
    changed[0][10] = "退出"
    report = experts.import_experts(world.db, world.admin, as_csv(changed, encoding="gb18030"), "csv")
    assert report.updated == ["HN-ZJ-0001"] and not report.errors
    li = next(e for e in experts.list_experts(world.db) if e["code"] == "HN-ZJ-0001")
    assert li["level"] == "副高" and li["status"] == "retired" and li["retired_at"] is not None


def test_excel_dates_and_numbers(world):
    row = ["1001", "周涛", "", "新材料", "工程", "正高", "", "", datetime(2025, 1, 1), datetime(2028, 1, 1),
           "在库", "", "", "", ""]
    report = experts.import_experts(world.db, world.admin, as_xlsx([row]), "xlsx")
    assert report.created == ["1001"], report.errors
    expert = experts.list_experts(world.db)[0]
    assert (expert["term_start"], expert["term_end"]) == (date(2025, 1, 1), date(2028, 1, 1))


def test_missing_required_columns_and_unknown_columns(world):
    content = "姓名,专业,爱好\n李明,新材料,钓鱼\n".encode()
    report = experts.import_experts(world.db, world.admin, content, "csv")
    assert report.rows == 0 and not report.created
    assert {(e.row, e.column) for e in report.errors} == {(1, "爱好"), (1, "")}
    assert "专家编号" in report.errors[-1].message and "职称级别" in report.errors[-1].message
    assert experts.import_experts(world.db, world.admin, b"", "csv").errors[0].message == "文件为空"
    with pytest.raises(InvalidAction, match="Excel"):
        experts.import_experts(world.db, world.admin, b"not a workbook", "xlsx")
    with pytest.raises(InvalidAction, match="CSV"):
        experts.import_experts(world.db, world.admin, b"x", "pdf")


def test_a_login_already_linked_is_reported_not_imported(world):
    experts.add_expert(world.db, world.admin, {"code": "A-1", "name": "甲", "username": "expert1",
                                               "specialties": ["新材料"], "level": "正高"})
    row = ["A-2", "乙", "expert1", "新材料", "工程", "正高", "", "", "", "", "", "", "", "", ""]
    report = experts.import_experts(world.db, world.admin, as_csv([row]), "csv")
    assert [(e.row, e.column) for e in report.errors] == [(2, "登录账号")] and not report.created


def test_only_administrators_manage_the_pool(world):
    for intruder in (world.officer, world.chair, world.applicant):
        with pytest.raises(PermissionDenied):
            experts.import_experts(world.db, intruder, as_csv([]), "csv")
        with pytest.raises(PermissionDenied):
            experts.add_expert(world.db, intruder, {"code": "X"})


def test_add_edit_retire(world):
    eid = experts.add_expert(world.db, world.admin, {
        "code": "HN-1", "name": "陈刚", "username": "expert3", "specialties": ["轨道交通装备"], "level": "正高",
        "series": "工程", "employer": org_name(world.db, world.other_employer), "term_start": date(2025, 1, 1),
        "relations": [{"kind": "supervisor", "person_id": world.applicant.user_id, "person": "张伟"}]})
    expert = experts.get_expert(world.db, eid)
    assert expert["employer_org_id"] == world.other_employer and expert["status"] == "active"
    with pytest.raises(experts.ExpertDataInvalid) as bad:
        experts.add_expert(world.db, world.admin, {"code": "HN-1", "name": "重复", "specialties": ["x"],
                                                   "level": "正高"})
    assert bad.value.status == 422 and bad.value.problems == [("专家编号", "专家编号“HN-1”已存在")]
    with pytest.raises(experts.ExpertDataInvalid, match="职称级别"):
        experts.update_expert(world.db, world.admin, eid, {"level": "中级"})
    with pytest.raises(experts.ExpertDataInvalid, match="回避关系"):
        experts.update_expert(world.db, world.admin, eid, {"relations": [{"kind": "friend", "person": "x"}]})
    experts.update_expert(world.db, world.admin, eid, {"specialties": "轨道交通装备；新材料", "region": "长沙"})
    expert = experts.get_expert(world.db, eid)
    assert expert["specialties"] == ["轨道交通装备", "新材料"] and expert["name"] == "陈刚"
    with pytest.raises(experts.ExpertDataInvalid, match="退出原因"):
        experts.retire_expert(world.db, world.admin, eid, "")
    experts.retire_expert(world.db, world.admin, eid, "年满七十周岁")
    assert experts.get_expert(world.db, eid)["retire_reason"] == "年满七十周岁"
    assert experts.list_experts(world.db, active_only=True) == []
    with pytest.raises(InvalidAction):
        experts.retire_expert(world.db, world.admin, eid, "again")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_template_and_export_round_trip(world, fmt):
    template = experts.export_template(fmt)
    if fmt == "csv":
        assert template.startswith("\ufeff".encode()) and template.decode("utf-8-sig").strip() == ",".join(HEADER)
    else:
        wb = load_workbook(io.BytesIO(template))
        assert wb.sheetnames == ["专家", "填写说明"]
        assert [c.value for c in wb["专家"][1]] == HEADER and wb["专家"].max_row == 1
    assert experts.import_experts(world.db, world.admin, template, fmt).rows == 0
    experts.import_experts(world.db, world.admin, as_csv(rows_good(world)), "csv")
    before = experts.list_experts(world.db)
    exported = experts.export_experts(world.db, world.admin, fmt)
    report = experts.import_experts(world.db, world.admin, exported, fmt)
    assert not report.errors and report.updated == ["HN-ZJ-0001", "HN-ZJ-0002", "HN-ZJ-0003"]
    after = experts.list_experts(world.db)
    strip = ("updated_at", "created_at")
    assert [{k: v for k, v in e.items() if k not in strip} for e in after] == [
        {k: v for k, v in e.items() if k not in strip} for e in before]
