"""Stored versions of occupation standards: seeded from ``definitions/standards``, published by administrators.

A published (id, version) never changes, so parsed standards are cached per process; which version is the
newest is always read from the database, so a version published in one process is in force in every other
process on its next request without a restart.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from sqlalchemy import Connection, func, insert, select

from .db import Database
from .errors import MissingData
from .models import ReviewSession, StandardVersion, utcnow
from .standards import STANDARDS_DIR, Standard, load_standard_dir, standard_from_data
from .yamlsource import DefinitionError

_sv = StandardVersion.__table__
_rs = ReviewSession.__table__
_cache: dict[tuple[str, str, int], Standard] = {}
_lock = threading.Lock()


def _body(standard: Standard) -> dict:
    return json.loads(standard.model_dump_json())


def sync_standards(db: Database, directory: Path = STANDARDS_DIR) -> list[tuple[str, int]]:
    """Store each seed standard whose (id, version) is not stored yet; return what was added.

    A seed whose stored body differs under the same version is refused: cases pinned to that version
    would silently be judged by different rules.
    """
    found = load_standard_dir(directory)
    added: list[tuple[str, int]] = []
    with db.write() as conn:
        for sid, standard in sorted(found.items()):
            stored = conn.execute(select(_sv.c.body).where(_sv.c.standard_id == sid,
                                                           _sv.c.version == standard.version)).scalar()
            if stored is None:
                conn.execute(insert(_sv).values(standard_id=sid, version=standard.version, name=standard.name.zh,
                                                body=_body(standard), published_at=utcnow()))
                added.append((sid, standard.version))
            elif standard_from_data(stored, f"{sid}@{standard.version}") != standard:
                raise DefinitionError(f"standard {sid!r} version {standard.version} is already stored with "
                                      "different content; raise 'version' to publish a change", line=1,
                                      source=str(directory / f"{sid}.yaml"))
    return added


def latest_version(conn: Connection, standard_id: str) -> int | None:
    """The newest stored version of ``standard_id`` (None if there is none)."""
    return conn.execute(select(func.max(_sv.c.version)).where(_sv.c.standard_id == standard_id)).scalar()


def get_standard(conn: Connection, standard_id: str, version: int) -> Standard | None:
    """The parsed standard (id, version), or None when it is not stored."""
    # Keyed by database too: one process may talk to several databases (tests, tools), whose versions differ.
    key = (conn.engine.url.render_as_string(hide_password=True), standard_id, version)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    body = conn.execute(select(_sv.c.body).where(_sv.c.standard_id == standard_id,
                                                 _sv.c.version == version)).scalar()
    if body is None:
        return None
    standard = standard_from_data(body, f"{standard_id}@{version}")
    with _lock:
        _cache.setdefault(key, standard)
    return _cache[key]


def publish(db: Database, standard: Standard, *, by_user_id: int | None) -> Standard:
    """Store ``standard`` as the next version of its id (version numbers are assigned here, never reused)."""
    with db.write() as conn:
        if db.is_postgres:  # serialise publishers of one id; SQLite's BEGIN IMMEDIATE already does
            conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(standard.id))))
        version = (latest_version(conn, standard.id) or 0) + 1
        published = standard.model_copy(update={"version": version})
        conn.execute(insert(_sv).values(standard_id=published.id, version=version, name=published.name.zh,
                                        body=_body(published), published_at=utcnow(), published_by=by_user_id))
    return published


def latest_standards(db: Database) -> list[Standard]:
    """The newest version of every stored standard, ordered by id."""
    with db.read() as conn:
        rows = conn.execute(select(_sv.c.standard_id, func.max(_sv.c.version)).group_by(_sv.c.standard_id)
                            .order_by(_sv.c.standard_id)).all()
        return [s for sid, v in rows if (s := get_standard(conn, sid, v)) is not None]


def level_mismatch(conn: Connection, standard_id: str | None, level: str | None,
                   version: int | None = None) -> MissingData | None:
    """The error to raise when the case's ``level`` is not the level the standard judges, else None.

    A case for 中级 judged by a 副高 standard would be refused or passed against the wrong thresholds; the level
    is checked where either is chosen (opening a case, editing the draft). 初级's two grades (员级, 助理) both
    count as 初级, the level a case can target.
    """
    if not standard_id or not level:
        return None
    version = version or latest_version(conn, standard_id)
    standard = get_standard(conn, standard_id, version) if version else None
    if standard is None:
        return MissingData("评价标准不存在", "No such standard")
    judged = "初级" if standard.level.value in ("初级", "助理") else standard.level.value
    if judged == level:
        return None
    return MissingData(f"所选评价标准适用于{judged}职称，与申报级别“{level}”不一致，请改选标准或级别",
                       f"The chosen standard is for {judged} titles, not {level}; change the standard or the level")


def not_accepted(conn: Connection, session_id: int | None, standard_id: str | None) -> MissingData | None:
    """The error to raise when the case's session does not accept ``standard_id``, else None.

    A session lists the standards it accepts (``review_session.standard_ids``): an engineering session must not
    judge a case by an economics standard. Checked where the standard is chosen (opening a case, changing the
    draft's standard); a case without a session, or without a standard yet (the submission guard asks for
    one), is not concerned. The message names the standard and its series, so the applicant sees why.
    """
    if session_id is None or not standard_id:
        return None
    session = conn.execute(select(_rs.c.name, _rs.c.name_en, _rs.c.standard_ids)
                           .where(_rs.c.id == session_id)).first()
    if session is None:
        return MissingData("评审会不存在", "No such review session", field="session_id")
    accepted = session.standard_ids or []
    if standard_id in accepted:
        return None
    name_en = session.name_en or session.name
    if not accepted:
        return MissingData(f"评审会“{session.name}”尚未列明受理的评价标准，暂不受理申报，请联系组织单位",
                           f"The session “{name_en}” lists no occupation standard yet and takes no applications; "
                           "contact its organiser", field="standard_id")
    version = latest_version(conn, standard_id)
    standard = get_standard(conn, standard_id, version) if version else None
    if standard is None:
        return MissingData("评价标准不存在", "No such standard", field="standard_id")
    return MissingData(
        f"本评审会不受理该评价标准：“{standard.name.zh}”（{standard.series}系列·{standard.level.value}）"
        f"不在评审会“{session.name}”受理的评价标准之列，请改选",
        f"This session does not accept that standard: “{standard.name.en}” ({standard.series} series, "
        f"{standard.level.value}) is not among the standards “{name_en}” accepts; choose another",
        field="standard_id")
