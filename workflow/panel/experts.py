"""The expert pool (评审专家库): add, edit, retire; import from CSV or Excel; export and the blank template.

Imports validate every row completely before writing anything for it and report every problem with its
row number (as a spreadsheet shows it: the header is row 1), column and a message in Chinese. Valid rows
are written — each in its own savepoint, so a row the database refuses (say, a login already linked to
another expert) is reported and skipped without touching the others — and invalid rows are not written at
all: a row is never half-imported. A row whose 专家编号 exists updates that expert (re-importing the
roster edits it); a new 编号 adds one.

The 回避关系 column lists declared relations separated by “；”, each ``类型:对象[:备注]`` where 类型 is
亲属, 导师, 学生, 合作 or 其他, and 对象 is a person's name, ``账号=登录名`` (a person known to the system)
or ``单位=单位名称`` (an organisation).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from workflow import directory
from workflow.access.roles import Actor
from workflow.db import Database
from workflow.errors import InvalidAction, PermissionDenied, WorkflowError
from workflow.models import Expert, Organisation, User, utcnow

_expert = Expert.__table__
_org = Organisation.__table__
_user = User.__table__


@dataclass(frozen=True)
class Column:
    """One column of the import/export format: field key, Chinese header, whether required, and a hint."""

    key: str
    zh: str
    required: bool = False
    hint: str = ""


COLUMNS: tuple[Column, ...] = (
    Column("code", "专家编号", True, "唯一编号，如 HN-ZJ-0001；已存在的编号将更新该专家"),
    Column("name", "姓名", True),
    Column("username", "登录账号", False, "系统登录名；有账号的专家才能入选评委会"),
    Column("specialties", "专业", True, "多个专业用“；”分隔"),
    Column("series", "系列", False, "如 工程"),
    Column("level", "职称级别", True, "副高 或 正高"),
    Column("employer", "工作单位", False, "与系统中单位名称一致时自动关联"),
    Column("region", "地区"),
    Column("term_start", "聘期开始", False, "日期，如 2025-01-01"),
    Column("term_end", "聘期结束", False, "日期，如 2027-12-31"),
    Column("status", "状态", False, "在库 或 退出（默认在库）"),
    Column("relations", "回避关系", False, "如 亲属:张伟；合作:单位=长沙精密传感有限公司"),
    Column("phone", "电话"),
    Column("email", "邮箱"),
    Column("note", "备注"),
)
"""The columns, in template order."""

_BY_HEADER = {c.zh: c for c in COLUMNS} | {c.key: c for c in COLUMNS}
_LABEL = {c.key: c.zh for c in COLUMNS}

LEVELS = {"副高": "副高", "副高级": "副高", "正高": "正高", "正高级": "正高"}
STATUSES = {"在库": "active", "active": "active", "": "active", "退出": "retired", "retired": "retired",
            "已退出": "retired"}
STATUS_LABELS = {"active": "在库", "retired": "退出"}
RELATION_WORDS = {"亲属": "relative", "导师": "supervisor", "学生": "student", "合作": "collaborator",
                  "其他": "other", "relative": "relative", "supervisor": "supervisor", "student": "student",
                  "collaborator": "collaborator", "other": "other"}
RELATION_LABELS = {"relative": "亲属", "supervisor": "导师", "student": "学生", "collaborator": "合作",
                   "other": "其他"}
_SPLIT = re.compile(r"[；;、，,\n]+")


@dataclass(frozen=True)
class RowError:
    """One problem in an imported file: row number (header = 1), column header, message (Chinese)."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"第 {self.row} 行「{self.column}」" if self.column else f"第 {self.row} 行"
        return f"{where}：{self.message}"


@dataclass
class ImportReport:
    """What an import did: rows read, experts created and updated, and every row error."""

    rows: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def rejected_rows(self) -> list[int]:
        """Row numbers that were not imported."""
        return sorted({e.row for e in self.errors if e.row > 1})


class ExpertDataInvalid(WorkflowError):
    """Expert data that fails validation; ``problems`` lists (column, message) pairs."""

    status = 422

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("；".join(f"{c}：{m}" for c, m in problems), "Invalid expert data")


def _require_admin(actor: Actor) -> None:
    if actor.user_id is None or "administrator" not in actor.roles:
        raise PermissionDenied("只有管理员可以维护专家库", "Only administrators manage the expert pool")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():  # Excel stores 编号 like 1001 as 1001.0
        value = int(value)
    return str(value).strip()


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    if not m:
        raise ValueError(f"日期格式应为 YYYY-MM-DD，实际为“{text}”")
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise ValueError(f"日期“{text}”不存在") from None


def _relations_from_text(conn: Connection, text: str) -> list[dict[str, Any]]:
    out = []
    for entry in [e.strip() for e in re.split(r"[；;\n]+", text) if e.strip()]:
        parts = [p.strip() for p in re.split(r"[:：]", entry, maxsplit=2)]
        if len(parts) < 2 or not parts[1]:
            raise ValueError(f"“{entry}”应写成 类型:对象，如 亲属:张伟")
        kind = RELATION_WORDS.get(parts[0])
        if kind is None:
            raise ValueError(f"关系类型“{parts[0]}”无效，应为 亲属、导师、学生、合作 或 其他")
        rel: dict[str, Any] = {"kind": kind, "note": parts[2] if len(parts) > 2 else ""}
        target = parts[1]
        if target.startswith(("单位=", "单位＝")):
            name = target[3:].strip()
            rel["org"] = name
            rel["org_id"] = conn.execute(select(_org.c.id).where(_org.c.name == name)).scalar()
        elif target.startswith(("账号=", "账号＝")):
            username = target[3:].strip()
            user = conn.execute(select(_user.c.id, _user.c.display_name).where(_user.c.username == username)).first()
            if user is None:
                raise ValueError(f"登录账号“{username}”不存在")
            rel["person_id"], rel["person"] = user.id, user.display_name
        else:
            rel["person"] = target
        out.append(rel)
    return out


def relations_to_text(relations: list[dict[str, Any]], usernames: dict[int, str] | None = None) -> str:
    """Declared relations in the import format (for export and forms); ``usernames`` resolves person ids."""
    parts = []
    usernames = usernames or {}
    for rel in relations:
        if rel.get("org"):
            target = f"单位={rel['org']}"
        elif rel.get("person_id") in usernames:
            target = f"账号={usernames[rel['person_id']]}"
        else:
            target = str(rel.get("person", ""))
        item = f"{RELATION_LABELS.get(rel.get('kind', 'other'), '其他')}:{target}"
        parts.append(f"{item}:{rel['note']}" if rel.get("note") else item)
    return "；".join(parts)


def _clean(conn: Connection, raw: dict[str, Any], *, partial: bool = False) -> tuple[dict[str, Any], list]:
    """Validate one expert's data (text from a file, or typed values from a form or API).

    Returns (column values, [(field key, message)]). With ``partial`` only the given keys are checked.
    """
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for col in COLUMNS:
        if partial and col.key not in raw:
            continue
        value = raw.get(col.key)
        empty = value is None or (isinstance(value, str | list) and not value) or _text(value) == ""
        if col.required and empty:
            problems.append((col.key, "必填"))
            continue
        try:
            if col.key in ("code", "name", "series", "region", "phone", "note"):
                values[col.key] = _text(value)
                limit = {"code": 40, "name": 100, "series": 40, "region": 100, "phone": 30}.get(col.key)
                if limit and len(values[col.key]) > limit:
                    raise ValueError(f"不能超过 {limit} 个字符")
            elif col.key == "email":
                email = _text(value)
                if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
                    raise ValueError(f"邮箱“{email}”格式不正确")
                values["email"] = email
            elif col.key == "username":
                username = _text(value)
                if username:
                    uid = conn.execute(select(_user.c.id).where(_user.c.username == username)).scalar()
                    if uid is None:
                        raise ValueError(f"登录账号“{username}”不存在")
                    values["user_id"] = uid
                else:
                    values["user_id"] = None
            elif col.key == "specialties":
                items = value if isinstance(value, list) else _SPLIT.split(_text(value))
                specialties = list(dict.fromkeys(_text(s) for s in items if _text(s)))
                if not specialties:
                    raise ValueError("至少填写一个专业")
                values["specialties"] = specialties
            elif col.key == "level":
                level = LEVELS.get(_text(value))
                if level is None:
                    raise ValueError(f"应为 副高 或 正高，实际为“{_text(value)}”")
                values["level"] = level
            elif col.key == "employer":
                name = _text(value)
                values["employer_name"] = name
                values["employer_org_id"] = (conn.execute(select(_org.c.id).where(_org.c.name == name)).scalar()
                                             if name else None)
            elif col.key in ("term_start", "term_end"):
                values[col.key] = _date(value)
            elif col.key == "status":
                status = STATUSES.get(_text(value))
                if status is None:
                    raise ValueError(f"应为 在库 或 退出，实际为“{_text(value)}”")
                values["status"] = status
            elif col.key == "relations":
                if isinstance(value, list):
                    values["relations"] = _typed_relations(value)
                else:
                    values["relations"] = _relations_from_text(conn, _text(value))
        except ValueError as err:
            problems.append((col.key, str(err)))
    start, end = values.get("term_start"), values.get("term_end")
    if start and end and end < start:
        problems.append(("term_end", "聘期结束日期早于开始日期"))
    return values, problems


def _typed_relations(items: list[Any]) -> list[dict[str, Any]]:
    out = []
    for item in items:
        if not isinstance(item, dict) or item.get("kind") not in RELATION_LABELS:
            raise ValueError("每项关系须有类型 kind：relative、supervisor、student、collaborator 或 other")
        if not any(item.get(k) not in (None, "") for k in ("person", "person_id", "org", "org_id")):
            raise ValueError("每项关系须写明所涉人员或单位")
        out.append({k: item.get(k) for k in ("kind", "person", "person_id", "org", "org_id", "note")
                    if item.get(k) not in (None, "")})
    return out


def _raise(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise ExpertDataInvalid([(_LABEL.get(k, k), m) for k, m in problems])


def _write(conn: Connection, values: dict[str, Any], now: datetime) -> tuple[int, bool]:
    """Insert or update by 编号; returns (id, created). Runs in a savepoint so a refusal leaves no trace."""
    existing = conn.execute(select(_expert.c.id).where(_expert.c.code == values["code"])).scalar()
    with conn.begin_nested():
        if existing is None:
            row = {"status": "active", "relations": [], "specialties": [], **values, "created_at": now,
                   "updated_at": now}
            row.setdefault("employer_name", "")
            if row["status"] == "retired":
                row["retired_at"] = now
            return conn.execute(insert(_expert).values(**row).returning(_expert.c.id)).scalar_one(), True
        changes = {**values, "updated_at": now}
        if values.get("status") == "retired":
            was = conn.execute(select(_expert.c.status).where(_expert.c.id == existing)).scalar()
            if was != "retired":
                changes["retired_at"] = now
        elif values.get("status") == "active":
            changes.update(retired_at=None, retire_reason="")
        conn.execute(update(_expert).where(_expert.c.id == existing).values(**changes))
        return existing, False


def _user_taken(conn: Connection, user_id: int | None, code: str) -> bool:
    if user_id is None:
        return False
    other = conn.execute(select(_expert.c.code).where(_expert.c.user_id == user_id)).scalar()
    return other is not None and other != code


def add_expert(db: Database, actor: Actor, data: dict[str, Any]) -> int:
    """Add an expert (``data`` keyed by :data:`COLUMNS` keys; lists allowed for specialties/relations)."""
    _require_admin(actor)
    now = utcnow()
    with db.write() as conn:
        values, problems = _clean(conn, data)
        if not problems and conn.execute(select(_expert.c.id).where(_expert.c.code == values["code"])).first():
            problems.append(("code", f"专家编号“{values['code']}”已存在"))
        if not problems and _user_taken(conn, values.get("user_id"), values["code"]):
            problems.append(("username", "该登录账号已关联其他专家"))
        _raise(problems)
        return _write(conn, values, now)[0]


def update_expert(db: Database, actor: Actor, expert_id: int, changes: dict[str, Any]) -> None:
    """Edit an expert: only the given keys change (same validation as :func:`add_expert`)."""
    _require_admin(actor)
    now = utcnow()
    with db.write() as conn:
        code = conn.execute(select(_expert.c.code).where(_expert.c.id == expert_id)).scalar()
        if code is None:
            raise InvalidAction("专家不存在", "No such expert")
        values, problems = _clean(conn, changes, partial=True)
        if "code" in values and values["code"] != code and conn.execute(
                select(_expert.c.id).where(_expert.c.code == values["code"])).first():
            problems.append(("code", f"专家编号“{values['code']}”已存在"))
        if not problems and _user_taken(conn, values.get("user_id"), values.get("code", code)):
            problems.append(("username", "该登录账号已关联其他专家"))
        _raise(problems)
        conn.execute(update(_expert).where(_expert.c.id == expert_id).values(**values, updated_at=now))


def retire_expert(db: Database, actor: Actor, expert_id: int, reason: str) -> None:
    """Retire an expert from the pool (no longer drawn); the reason is kept. Seats already held stay."""
    _require_admin(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ExpertDataInvalid([("退出原因", "必填")])
    now = utcnow()
    with db.write() as conn:
        done = conn.execute(update(_expert).where(_expert.c.id == expert_id, _expert.c.status == "active")
                            .values(status="retired", retired_at=now, retire_reason=reason, updated_at=now))
        if done.rowcount != 1:
            raise InvalidAction("专家不存在或已退出", "No such active expert")


def get_expert(db: Database, expert_id: int) -> dict[str, Any] | None:
    """One expert as a dict (None if unknown)."""
    with db.read() as conn:
        row = conn.execute(select(_expert).where(_expert.c.id == expert_id)).mappings().first()
        return dict(row) if row else None


def list_experts(db: Database, *, active_only: bool = False, specialty: str | None = None) -> list[dict[str, Any]]:
    """The pool in 编号 order, optionally only active experts and/or those with ``specialty``."""
    with db.read() as conn:
        stmt = select(_expert).order_by(_expert.c.code)
        if active_only:
            stmt = stmt.where(_expert.c.status == "active")
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
    return [r for r in rows if specialty is None or specialty in (r["specialties"] or [])]


def _read_rows(content: bytes | str, fmt: str) -> list[list[Any]]:
    if fmt == "csv":
        if isinstance(content, bytes):
            try:
                text = content.decode("utf-8-sig")
            except UnicodeDecodeError:  # Excel on Chinese Windows saves CSV as GB18030/GBK
                text = content.decode("gb18030")
        else:
            text = content.lstrip("\ufeff")
        return [list(r) for r in csv.reader(io.StringIO(text))]
    if fmt == "xlsx":
        from openpyxl import load_workbook

        data = content if isinstance(content, bytes) else content.encode("latin-1")
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as err:  # openpyxl raises several types for a file that is not a workbook
            raise InvalidAction(f"无法读取 Excel 文件：{type(err).__name__}", "Not a readable .xlsx file") from None
        try:
            ws = wb["专家"] if "专家" in wb.sheetnames else wb.worksheets[0]
            return [list(r) for r in ws.iter_rows(values_only=True)]
        finally:
            wb.close()
    raise InvalidAction("文件格式应为 CSV 或 Excel（.xlsx）", "Format must be csv or xlsx")


def import_experts(db: Database, actor: Actor, content: bytes | str, fmt: str) -> ImportReport:
    """Import a roster (``fmt`` ``csv`` or ``xlsx``): valid rows are written, the others reported."""
    _require_admin(actor)
    rows = _read_rows(content, fmt)
    report = ImportReport()
    if not rows:
        report.errors.append(RowError(1, "", "文件为空"))
        return report
    header = [_text(h) for h in rows[0]]
    columns: list[Column | None] = []
    for h in header:
        col = _BY_HEADER.get(h)
        if col is None and h:
            report.errors.append(RowError(1, h, "无法识别的列，已忽略"))
        columns.append(col)
    present = {c.key for c in columns if c}
    missing = [c.zh for c in COLUMNS if c.required and c.key not in present]
    if missing:
        report.errors.append(RowError(1, "", "缺少必填列：" + "、".join(missing)))
        return report
    now = utcnow()
    seen: dict[str, int] = {}
    with db.write() as conn:
        for number, raw_row in enumerate(rows[1:], start=2):
            if all(_text(v) == "" for v in raw_row):
                continue
            report.rows += 1
            raw = {col.key: raw_row[i] if i < len(raw_row) else None
                   for i, col in enumerate(columns) if col is not None}
            values, problems = _clean(conn, raw)
            # A required text column: absent only when the row already has a problem (then it is only tested).
            code: str = values.get("code", "")
            if code and code in seen:
                problems.append(("code", f"与第 {seen[code]} 行的专家编号重复"))
            if not problems and _user_taken(conn, values.get("user_id"), code):
                problems.append(("username", "该登录账号已关联其他专家"))
            if problems:
                report.errors.extend(RowError(number, _LABEL[k], m) for k, m in problems)
                continue
            seen[code] = number
            try:
                _, created = _write(conn, values, now)
            except IntegrityError as err:
                report.errors.append(RowError(number, "", f"数据库拒绝写入：{type(err.orig).__name__}"))
                continue
            (report.created if created else report.updated).append(code)
    return report


def _export_rows(experts: list[dict[str, Any]], usernames: dict[int, str]) -> list[list[Any]]:
    out = []
    for e in experts:
        out.append([e["code"], e["name"], usernames.get(e["user_id"], ""), "；".join(e["specialties"] or []),
                    e["series"], e["level"], e["employer_name"], e["region"],
                    e["term_start"].isoformat() if e["term_start"] else "",
                    e["term_end"].isoformat() if e["term_end"] else "", STATUS_LABELS.get(e["status"], e["status"]),
                    relations_to_text(e["relations"] or [], usernames), e["phone"], e["email"], e["note"]])
    return out


def _encode(rows: list[list[Any]], fmt: str) -> bytes:
    header = [c.zh for c in COLUMNS]
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
        return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel then reads the file as UTF-8
    if fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Font

        wb = Workbook()
        ws = wb.active
        ws.title = "专家"
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append(row)
        for i, col in enumerate(COLUMNS, start=1):
            ws.column_dimensions[ws.cell(1, i).column_letter].width = max(10, len(col.zh) * 3)
        help_ws = wb.create_sheet("填写说明")
        help_ws.append(["列名", "是否必填", "说明"])
        for col in COLUMNS:
            help_ws.append([col.zh, "必填" if col.required else "选填", col.hint])
        help_ws.append([])
        help_ws.append(["示例", "", "HN-ZJ-0001，李明，liming，轨道交通装备；电气工程，工程，正高，"
                                      "中车株洲电力机车有限公司，株洲，2025-01-01，2027-12-31，在库，亲属:张伟"])
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()
    raise InvalidAction("文件格式应为 CSV 或 Excel（.xlsx）", "Format must be csv or xlsx")


def export_template(fmt: str = "xlsx") -> bytes:
    """The blank import template (header row; the Excel one adds a 填写说明 sheet with hints and an example)."""
    return _encode([], fmt)


def export_experts(db: Database, actor: Actor, fmt: str = "xlsx") -> bytes:
    """The whole pool in the import format (re-importing the file changes nothing)."""
    _require_admin(actor)
    experts = list_experts(db)
    with db.read() as conn:
        ids = {e["user_id"] for e in experts if e["user_id"] is not None}
        ids |= {r["person_id"] for e in experts for r in (e["relations"] or []) if r.get("person_id") is not None}
        names = directory.usernames(conn, ids)
    return _encode(_export_rows(experts, names), fmt)


def names_and_codes(conn: Connection, ids: set[int]) -> dict[int, tuple[str, str]]:
    """(name, code) of the given experts of the pool (id → pair), in one statement; an unknown id is left out."""
    if not ids:
        return {}
    return {i: (name, code) for i, name, code in conn.execute(
        select(_expert.c.id, _expert.c.name, _expert.c.code).where(_expert.c.id.in_(ids))).all()}
