"""Case materials: recording, listing and removing uploaded files (the bytes are stored by the caller).

Only the applicant adds or removes materials, and only while the case is with them (a state of the
``submission`` stage: draft or a correction request) — after submission the dossier is what the reviewers
saw. Removal is a mark, never a delete, for the same reason.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from .catalog import get_pipeline
from .db import Database
from .errors import CaseNotFound, InvalidAction, PermissionDenied
from .models import Case, User, as_utc, utcnow
from .models.attachments import Attachment
from .roles import Actor

_att = Attachment.__table__
_case = Case.__table__
_user = User.__table__

CATEGORIES: dict[str, dict[str, str]] = {
    "education": {"zh": "学历学位证明", "en": "Education certificates"},
    "title": {"zh": "现有职称证书", "en": "Titles held"},
    "skill": {"zh": "职业技能等级证书", "en": "Skill certificates"},
    "work": {"zh": "工作经历及劳动合同", "en": "Work history and labour contract"},
    "social_insurance": {"zh": "社保缴纳证明", "en": "Social insurance record"},
    "achievement": {"zh": "业绩成果证明", "en": "Achievement evidence"},
    "representative_work": {"zh": "代表作", "en": "Representative works"},
    "recommendation": {"zh": "专家推荐意见", "en": "Expert recommendations"},
    "assessment": {"zh": "单位考核材料", "en": "Unit assessment record"},
    "other": {"zh": "其他材料", "en": "Other"},
}
"""What an uploaded file is evidence of, with display labels."""


def _case_row(conn: Connection, case_id: int) -> dict[str, Any]:
    row = conn.execute(select(_case.c.id, _case.c.applicant_id, _case.c.state, _case.c.pipeline_id,
                              _case.c.pipeline_version).where(_case.c.id == case_id)).mappings().first()
    if row is None:
        raise CaseNotFound(f"案件 {case_id} 不存在", f"Case {case_id} does not exist")
    return dict(row)


def materials_editable(db: Database, case: dict[str, Any], actor: Actor) -> bool:
    """True when ``actor`` is the case's applicant and the case is with them (draft or correction)."""
    if "applicant" not in actor.roles or case["applicant_id"] != actor.user_id:
        return False
    pipeline = get_pipeline(db, case["pipeline_id"], case["pipeline_version"])
    state = pipeline.state_map.get(case["state"])
    return state is not None and state.stage == "submission" and not state.final


def _check_editable(db: Database, case: dict[str, Any], actor: Actor) -> None:
    if "applicant" not in actor.roles or case["applicant_id"] != actor.user_id:
        raise PermissionDenied("只有申报人本人可以上传或移除材料", "Only the applicant may change the materials")
    if not materials_editable(db, case, actor):
        raise InvalidAction("案件已提交审核，材料不能再修改；如需补正，请等待退回补正",
                            "The case has been submitted; materials can change only when it is returned to you")


def add_attachment(db: Database, case_id: int, actor: Actor, *, category: str, original_name: str,
                   stored_name: str, content_type: str, size: int, sha256: str) -> int:
    """Record a file the caller has already stored under ``stored_name``; return the attachment id."""
    if category not in CATEGORIES:
        raise InvalidAction("请选择材料类别", "Choose what the file is evidence of")
    with db.write() as conn:
        case = _case_row(conn, case_id)
        _check_editable(db, case, actor)
        return conn.execute(insert(_att).values(
            case_id=case_id, uploaded_by=actor.user_id, category=category, original_name=original_name[:255],
            stored_name=stored_name, content_type=content_type, size=size, sha256=sha256, uploaded_at=utcnow(),
            case_state=case["state"]).returning(_att.c.id)).scalar_one()


def remove_attachment(db: Database, attachment_id: int, actor: Actor) -> dict[str, Any]:
    """Mark an attachment removed (the file is kept); return the attachment as it was."""
    with db.write() as conn:
        row = conn.execute(select(_att).where(_att.c.id == attachment_id, _att.c.removed_at.is_(None))
                           ).mappings().first()
        if row is None:
            raise CaseNotFound("材料不存在或已移除", "No such attachment")
        case = _case_row(conn, row["case_id"])
        _check_editable(db, case, actor)
        conn.execute(update(_att).where(_att.c.id == attachment_id)
                     .values(removed_at=utcnow(), removed_by=actor.user_id))
        return dict(row)


def list_attachments(conn: Connection, case_id: int, *, include_removed: bool = False) -> list[dict[str, Any]]:
    """The case's materials in upload order, with the uploader's name."""
    stmt = (select(_att, _user.c.display_name.label("uploader_name"))
            .join(_user, _user.c.id == _att.c.uploaded_by).where(_att.c.case_id == case_id)
            .order_by(_att.c.id))
    if not include_removed:
        stmt = stmt.where(_att.c.removed_at.is_(None))
    rows = []
    for r in conn.execute(stmt).mappings():
        d = dict(r)
        d["uploaded_at"] = as_utc(d["uploaded_at"])
        d["removed_at"] = as_utc(d["removed_at"])
        rows.append(d)
    return rows


def get_attachment(conn: Connection, attachment_id: int) -> dict[str, Any] | None:
    """One attachment row (removed ones included: reviewers may need to see what was replaced)."""
    row = conn.execute(select(_att).where(_att.c.id == attachment_id)).mappings().first()
    return dict(row) if row else None
