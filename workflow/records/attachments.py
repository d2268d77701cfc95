"""Case materials: recording, listing and removing uploaded files (the bytes are stored by the caller).

Only the applicant adds or removes materials, and only while the case is with them (a state of the
``submission`` stage: draft or a correction request) — after submission the dossier is what the reviewers
saw. Removal is a mark, never a delete, for the same reason.

A named objection to a notice may carry one evidence file (category :data:`OBJECTION_EVIDENCE`). It is not
one of the applicant's materials: it never appears in their list or the dossier, and only the objector, the
people who decide the objection, the case's authority and administrators may download it
(:func:`may_see_evidence`). The row is written just before the objection is fired, the objection's event
records it (:func:`evidence_payload`, called by the engine in the same transaction), and a refused objection
deletes the row again (:func:`drop_evidence`) — no event ever referenced it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from workflow.access.permissions import relation_holds
from workflow.access.roles import OBJECTOR_ROLES, Actor
from workflow.db import Database
from workflow.errors import CaseNotFound, InvalidAction, PermissionDenied
from workflow.models import Case, User, as_utc, utcnow
from workflow.models.attachments import Attachment
from workflow.pipeline.catalog import get_pipeline
from workflow.pipeline.schema import Pipeline

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
"""What an uploaded file is evidence of, with display labels: the fixed set of pipeline versions written before
pipelines listed their own materials (none of these is required). Newer versions list theirs
(:func:`categories_for`)."""

OBJECTION_EVIDENCE = "objection_evidence"
"""Category of a file attached to a named objection (deliberately not in :data:`CATEGORIES`: the applicant
can neither upload nor see one)."""


_NOT_DECIDERS = frozenset({"system", "public", "unit_member", "applicant", "panel_member", "panel_chair"})
"""Roles that never see objection evidence even where a pipeline lets them act on the objection's state."""

EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
"""The file name extension of each accepted content type (the content type is decided by the file's bytes)."""

UNKNOWN_EXTENSION = ".bin"
"""Extension for bytes of no accepted type (a stored file that no longer is one): nothing opens it by name."""


def categories_for(pipeline: Pipeline) -> dict[str, dict[str, Any]]:
    """The categories an applicant of ``pipeline`` may upload, in checklist order: code → ``{zh, en, required,
    hint}`` (hint None or ``{zh, en}``). A version that lists no materials takes :data:`CATEGORIES`, none
    required, as it did when it was written."""
    if not pipeline.materials:
        return {code: {**labels, "required": False, "hint": None} for code, labels in CATEGORIES.items()}
    return {m.code: {"zh": m.label.zh, "en": m.label.en, "required": m.required,
                     "hint": m.hint.model_dump() if m.hint else None} for m in pipeline.materials}


def checklist(pipeline: Pipeline, materials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each category of ``pipeline`` with the case's current files in it: ``{code, zh, en, required, hint, files}``
    (``materials``: the case's rows; removed ones are not counted). Files of a code the pipeline does not list
    are left out (the materials table still shows them)."""
    files: dict[str, list[dict[str, Any]]] = {}
    for row in materials:
        if row.get("removed_at") is None:
            files.setdefault(row["category"], []).append(row)
    return [{"code": code, **info, "files": files.get(code, [])} for code, info in categories_for(pipeline).items()]


def missing_required(pipeline: Pipeline, materials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The required categories of ``pipeline`` with no current file among ``materials`` (the same rule as the
    ``required_materials`` guard, for pages that show it before the applicant presses submit)."""
    return [item for item in checklist(pipeline, materials) if item["required"] and not item["files"]]


def file_name_for(name: str, content_type: str) -> str:
    """``name`` with its extension replaced by the one of ``content_type`` (``x.html`` holding a PDF → ``x.pdf``).

    The uploader chooses the name, so its extension says nothing: a PDF/HTML polyglot named ``x.html`` would be
    saved as a web page by the reviewer's browser and opened as one. The base name stays for recognition; leading
    and trailing dots and spaces go (a leading dot hides a file, Windows drops trailing ones).
    """
    base = (name or "").strip().strip(". ")
    stem, dot, ext = base.rpartition(".")
    if dot and stem.strip(". ") and ext.isascii() and ext.isalnum() and len(ext) <= 10:  # "Dr. Li CV" has none
        base = stem.strip(". ")
    return (base[:200] or "file") + EXTENSIONS.get(content_type, UNKNOWN_EXTENSION)


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
                   stored_name: str, content_type: str, size: int, sha256: str, now: datetime | None = None) -> int:
    """Record a file the caller has already stored under ``stored_name``; return the attachment id.

    The recorded name keeps the uploader's base name with the extension of ``content_type`` (:func:`file_name_for`).
    ``now``: the upload time (the demo's simulated clock); the present when not given.
    """
    with db.write() as conn:
        case = _case_row(conn, case_id)
        _check_editable(db, case, actor)
        if category not in categories_for(get_pipeline(db, case["pipeline_id"], case["pipeline_version"])):
            raise InvalidAction("请选择材料类别", "Choose what the file is evidence of")
        return conn.execute(insert(_att).values(
            case_id=case_id, uploaded_by=actor.user_id, category=category,
            original_name=file_name_for(original_name, content_type),
            stored_name=stored_name, content_type=content_type, size=size, sha256=sha256,
            uploaded_at=as_utc(now) if now is not None else utcnow(),
            case_state=case["state"]).returning(_att.c.id)).scalar_one()


def remove_attachment(db: Database, attachment_id: int, actor: Actor) -> dict[str, Any]:
    """Mark an attachment removed (the file is kept); return the attachment as it was."""
    with db.write() as conn:
        row = conn.execute(select(_att).where(_att.c.id == attachment_id, _att.c.removed_at.is_(None),
                                              _att.c.category != OBJECTION_EVIDENCE)).mappings().first()
        if row is None:
            raise CaseNotFound("材料不存在或已移除", "No such attachment")
        case = _case_row(conn, row["case_id"])
        _check_editable(db, case, actor)
        conn.execute(update(_att).where(_att.c.id == attachment_id)
                     .values(removed_at=utcnow(), removed_by=actor.user_id))
        return dict(row)


def list_attachments(conn: Connection, case_id: int, *, include_removed: bool = False) -> list[dict[str, Any]]:
    """The case's materials in upload order, with the uploader's name (objection evidence is never listed)."""
    stmt = (select(_att, _user.c.display_name.label("uploader_name"))
            .join(_user, _user.c.id == _att.c.uploaded_by)
            .where(_att.c.case_id == case_id, _att.c.category != OBJECTION_EVIDENCE)
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


# --------------------------------------------------------------------------------------------- objection evidence


def add_objection_evidence(db: Database, case_id: int, actor: Actor, *, original_name: str, stored_name: str,
                           content_type: str, size: int, sha256: str) -> int:
    """Record the evidence file of an objection about to be filed by ``actor``; return the attachment id.

    Whether ``actor`` may object at all is the engine's decision when the objection is fired; a refused
    objection must be followed by :func:`drop_evidence`.
    """
    if actor.user_id is None:
        raise PermissionDenied("请先登录后再提出异议", "Sign in to file an objection")
    with db.write() as conn:
        case = _case_row(conn, case_id)
        return conn.execute(insert(_att).values(
            case_id=case_id, uploaded_by=actor.user_id, category=OBJECTION_EVIDENCE,
            original_name=file_name_for(original_name, content_type), stored_name=stored_name,
            content_type=content_type, size=size,
            sha256=sha256, uploaded_at=utcnow(), case_state=case["state"]).returning(_att.c.id)).scalar_one()


def drop_evidence(db: Database, attachment_id: int) -> None:
    """Delete the row of an objection's evidence when the objection was refused (no event references it)."""
    with db.write() as conn:
        conn.execute(delete(_att).where(_att.c.id == attachment_id, _att.c.category == OBJECTION_EVIDENCE))


def evidence_payload(conn: Connection, case: dict[str, Any], actor: Actor, attachment_id: Any) -> dict[str, Any]:
    """What the objection's event records about its evidence, read from the row in the firing transaction.

    The row must be objection evidence of this case, uploaded by the objector in the state being left, so a
    caller can only ever reference the file that came with this very objection.
    """
    row = None
    if isinstance(attachment_id, int) and not isinstance(attachment_id, bool):
        row = conn.execute(select(_att).where(_att.c.id == attachment_id)).mappings().first()
    if (row is None or row["case_id"] != case["id"] or row["category"] != OBJECTION_EVIDENCE
            or row["uploaded_by"] != actor.user_id or row["case_state"] != case["state"]
            or row["removed_at"] is not None):
        raise InvalidAction("异议所附证据材料无效，请重新选择文件后提交",
                            "The objection's evidence file is not valid; choose the file again")
    return {"attachment_id": row["id"], "name": row["original_name"], "sha256": row["sha256"],
            "size": row["size"], "content_type": row["content_type"]}


def objection_trigger(pipeline: Pipeline, notice_state: str) -> str | None:
    """The trigger by which a named objection is filed in ``notice_state`` (the transition whose roles are all
    objectors' — :data:`workflow.access.roles.OBJECTOR_ROLES`), or None when that state takes no objection."""
    return next((t.trigger for t in pipeline.transitions
                 if notice_state in t.source and t.roles and set(t.roles) <= OBJECTOR_ROLES), None)


def objection_deciders(pipeline: Pipeline, notice_state: str) -> set[str]:
    """The roles that decide an objection filed in ``notice_state`` (uphold or dismiss it)."""
    trigger = objection_trigger(pipeline, notice_state)
    cands = pipeline.by_trigger_source.get((trigger, notice_state), []) if trigger else []
    roles: set[str] = set()
    for cand in cands:
        for trigger in pipeline.triggers_from.get(cand.dest, []):
            for t in pipeline.by_trigger_source[(trigger, cand.dest)]:
                roles.update(r for r in t.roles if r not in _NOT_DECIDERS)
    return roles


def may_see_evidence(conn: Connection, pipeline: Pipeline, actor: Actor, case: dict[str, Any],
                     row: dict[str, Any]) -> bool:
    """True when ``actor`` may download the objection evidence ``row`` of ``case``.

    The objector, administrators, the case's authority and whoever decides that objection (the unit's
    reviewer for a unit notice) may; the applicant, other staff of the unit, the committee and the public may
    not — the evidence may name the objector or third parties.
    """
    if row["category"] != OBJECTION_EVIDENCE or row["case_id"] != case["id"] or actor.user_id is None:
        return False
    if row["uploaded_by"] == actor.user_id or "administrator" in actor.roles:
        return True
    if case["applicant_id"] == actor.user_id:
        return False  # even an applicant who also holds a reviewer role never sees objections to their own case
    roles = {"authority_officer"} | objection_deciders(pipeline, row["case_state"])
    return any(relation_holds(role, actor, case, conn) for role in sorted(roles))


def visible_evidence(db: Database, pipeline: Pipeline, actor: Actor, case: dict[str, Any],
                     events: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The evidence ``actor`` may download, by the sequence number of the objection event that records it
    (no query at all for the many cases without any)."""
    wanted = {}
    for ev in events:
        ref = (ev.get("payload") or {}).get("evidence")
        if isinstance(ref, dict) and isinstance(ref.get("attachment_id"), int):
            wanted[ref["attachment_id"]] = ev["seq"]
    if not wanted:
        return {}
    with db.read() as conn:
        rows = [dict(r) for r in conn.execute(select(_att).where(_att.c.id.in_(list(wanted)),
                                                                 _att.c.case_id == case["id"])).mappings()]
        return {wanted[r["id"]]: r for r in rows if may_see_evidence(conn, pipeline, actor, case, r)}
