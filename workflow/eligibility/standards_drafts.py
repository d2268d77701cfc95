"""Drafts of occupation standards: an administrator's work saved without publishing (issue #14, "Versions").

A draft holds the editor's JSON-shaped standard as it stands — possibly incomplete or invalid, since checking
happens when it is published — with the version it started from (``base``: the standard revised, or the one
copied; none when written from scratch). Saving never changes what judges cases; publishing turns the draft
into the next immutable version of its id and removes it, in one transaction.

Two administrators may open the same draft. Each save names the ``lock_version`` it read and bumps it; a save or
publish naming an older one is refused (:class:`~workflow.errors.StaleCase`) rather than overwriting the other's
work. A draft that revises a standard also refuses to publish when another version of that standard was
published after the draft started: publishing would silently drop that version's changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.orm import aliased

from workflow.db import Database
from workflow.eligibility.standards import Standard
from workflow.eligibility.standards_store import get_standard, insert_version, latest_version, lock_standard_id
from workflow.errors import MissingData, StaleCase
from workflow.models import StandardDraft, User, as_utc, utcnow

_draft = StandardDraft.__table__
_editor = aliased(User.__table__, name="editor")
_ID_LENGTH = 80
"""The length of ``standard_draft.standard_id`` (that of a standard id)."""


@dataclass(frozen=True)
class Draft:
    """One saved draft, as read back from the store."""

    id: int
    standard_id: str
    """The body's id, stripped (blank while the editor has none yet)."""
    body: dict[str, Any]
    """The editor's JSON-shaped standard, as saved (not checked)."""
    base_id: str | None
    base_version: int | None
    lock_version: int
    created_by: int | None
    updated_by: int | None
    created_at: datetime
    updated_at: datetime
    updated_by_name: str | None = None
    """The display name of whoever saved it last (None when unknown)."""

    @property
    def base(self) -> tuple[str, int] | None:
        """The (id, version) the draft started from, or None for a standard written from scratch."""
        if self.base_id is None or self.base_version is None:
            return None
        return self.base_id, self.base_version


def _json_default(value: Any) -> Any:
    # Form parsers may hand over dates; everything else that JSON cannot hold is a programming error.
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"a draft body holds JSON values only, not {type(value).__name__}")


def _plain_body(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` as plain JSON values (a copy: later changes by the caller do not reach the stored draft)."""
    if not isinstance(body, dict):
        raise TypeError("a draft body is a mapping (a JSON object)")
    return json.loads(json.dumps(body, ensure_ascii=False, default=_json_default))


def _standard_id_of(body: dict[str, Any]) -> str:
    """The body's id as the list shows it: stripped, blank when missing or not text, cut to the column."""
    raw = body.get("id")
    return raw.strip()[:_ID_LENGTH] if isinstance(raw, str) else ""


def _select():
    return (select(_draft, _editor.c.display_name.label("updated_by_name"))
            .outerjoin(_editor, _editor.c.id == _draft.c.updated_by))


def _from_row(row: Any) -> Draft:
    body = row.body
    if isinstance(body, str):  # JSON text where the driver hands it back unparsed
        body = json.loads(body)
    return Draft(id=row.id, standard_id=row.standard_id, body=dict(body or {}), base_id=row.base_id,
                 base_version=row.base_version, lock_version=row.lock_version, created_by=row.created_by,
                 updated_by=row.updated_by, created_at=as_utc(row.created_at), updated_at=as_utc(row.updated_at),
                 updated_by_name=row.updated_by_name)


def _read(conn: Connection, draft_id: int) -> Draft | None:
    row = conn.execute(_select().where(_draft.c.id == draft_id)).first()
    return _from_row(row) if row is not None else None


def _gone() -> StaleCase:
    return StaleCase("该草稿已不存在：可能已由他人发布或删除。请回到评价标准列表查看。",
                     "This draft no longer exists: someone may have published or discarded it. "
                     "See the list of standards.")


def _stale(draft: Draft) -> StaleCase:
    who = draft.updated_by_name or "其他管理员"
    who_en = draft.updated_by_name or "another administrator"
    return StaleCase(f"该草稿已被{who}修改（您打开的不是最新内容），为避免覆盖对方的修改，本次未保存。"
                     "请重新打开草稿，核对后再修改。",
                     f"This draft was changed by {who_en} since you opened it; to avoid overwriting those "
                     "changes nothing was saved. Open the draft again and redo your change.")


def _locked(conn: Connection, draft_id: int) -> Draft | None:
    """The draft, its row locked until the transaction ends (SQLite's write transaction is serial already)."""
    stmt = _select().where(_draft.c.id == draft_id)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=_draft)
    row = conn.execute(stmt).first()
    return _from_row(row) if row is not None else None


def save_draft(db: Database, *, draft_id: int | None, body: dict[str, Any], base: tuple[str, int] | None,
               by_user_id: int | None, expected_lock: int | None) -> Draft:
    """Create a draft (``draft_id`` None) or save over one; return it as stored.

    Saving over a draft needs ``expected_lock`` to equal its ``lock_version`` (what the editor read), which then
    goes up by one; otherwise, or when the draft is gone, :class:`~workflow.errors.StaleCase` is raised and
    nothing changes. On save ``base`` replaces the stored base when given (to continue from a newer version),
    and None keeps it. ``standard_id`` is taken from ``body["id"]``. The body is not checked.
    """
    plain = _plain_body(body)
    now = utcnow()
    values = {"standard_id": _standard_id_of(plain), "body": plain, "updated_by": by_user_id, "updated_at": now}
    if base is not None:
        values.update(base_id=base[0], base_version=base[1])
    with db.write() as conn:
        if draft_id is None:
            new_id = conn.execute(insert(_draft).values(**values, created_by=by_user_id, created_at=now,
                                                        lock_version=1).returning(_draft.c.id)).scalar_one()
            created = _read(conn, new_id)
            assert created is not None  # inserted just above, in this transaction
            return created
        current = _locked(conn, draft_id)
        if current is None:
            raise _gone()
        if expected_lock is None or current.lock_version != expected_lock:
            raise _stale(current)
        conn.execute(update(_draft).where(_draft.c.id == draft_id)
                     .values(**values, lock_version=current.lock_version + 1))
        saved = _read(conn, draft_id)
        assert saved is not None  # locked and updated just above, in this transaction
        return saved


def get_draft(db: Database, draft_id: int) -> Draft | None:
    """The draft ``draft_id``, or None when there is none (never saved, published or discarded)."""
    with db.read() as conn:
        return _read(conn, draft_id)


def list_drafts(db: Database) -> list[Draft]:
    """Every draft, the most recently saved first."""
    with db.read() as conn:
        rows = conn.execute(_select().order_by(_draft.c.updated_at.desc(), _draft.c.id.desc()))
        return [_from_row(row) for row in rows]


def delete_draft(db: Database, draft_id: int, *, expected_lock: int | None = None) -> bool:
    """Discard a draft; True when it existed. With ``expected_lock``, a draft saved since (another
    administrator's newer work) is kept and :class:`~workflow.errors.StaleCase` is raised."""
    with db.write() as conn:
        if expected_lock is not None:
            current = _locked(conn, draft_id)
            if current is not None and current.lock_version != expected_lock:
                raise _stale(current)
        return conn.execute(delete(_draft).where(_draft.c.id == draft_id)).rowcount > 0


def publish_draft(db: Database, draft_id: int, standard: Standard, *, by_user_id: int | None,
                  expected_lock: int | None) -> Standard:
    """Publish ``standard`` (the draft's body, checked by the caller) as the next version of its id and remove
    the draft, in one transaction; return the standard as stored.

    Refused, with nothing changed: when the draft is gone or was saved since ``expected_lock`` was read
    (:class:`~workflow.errors.StaleCase`); when the draft revises a standard (its base has the standard's id)
    and a version newer than its base has been published since (StaleCase: publishing would drop that
    version's changes); and when a new standard (a copy, or one written from scratch) takes an id already
    stored (:class:`~workflow.errors.MissingData` on ``id``). The version records the draft's base as what it
    was based on.
    """
    with db.write() as conn:
        draft = _locked(conn, draft_id)
        if draft is None:
            raise _gone()
        if expected_lock is None or draft.lock_version != expected_lock:
            raise _stale(draft)
        # Held until the end, so that no other publisher of this id slips in between the check and the insert.
        lock_standard_id(conn, standard.id)
        newest = latest_version(conn, standard.id)
        if draft.base_id == standard.id and draft.base_version is not None:
            if newest is not None and newest != draft.base_version:
                raise _superseded(conn, standard.id, draft.base_version, newest)
        elif newest is not None:
            taken = get_standard(conn, standard.id, newest)
            name = taken.name if taken is not None else None
            raise MissingData(
                f"标准编号 {standard.id} 已被“{name.zh if name else standard.id}”使用，请换一个编号",
                f"The id {standard.id} is taken by “{name.en if name else standard.id}”; choose another",
                field="id")
        published = insert_version(conn, standard, by_user_id=by_user_id, based_on=draft.base)
        conn.execute(delete(_draft).where(_draft.c.id == draft_id))
    return published


def _superseded(conn: Connection, standard_id: str, base_version: int, newest: int) -> StaleCase:
    """The refusal for a revision whose standard has moved on since the draft started."""
    standard = get_standard(conn, standard_id, newest)
    name = standard.name if standard is not None else None
    return StaleCase(
        f"本草稿修订的是“{name.zh if name else standard_id}”第 {base_version} 版，但此后已发布了第 {newest} 版。"
        f"为避免丢失第 {newest} 版的修改，本草稿未发布：请先比较两版的差异，在第 {newest} 版的基础上修订后再发布。",
        f"This draft revises version {base_version} of “{name.en if name else standard_id}”, but version "
        f"{newest} has been published since. To keep version {newest}'s changes the draft was not published: "
        f"compare the two versions and revise version {newest} instead.")
