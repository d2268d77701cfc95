"""Stored versions of occupation standards: seeded from ``definitions/standards``, published by administrators.

A published (id, version) never changes, so parsed standards are cached per process; which version is the
newest, and which is in force, is always read from the database, so a version published in one process is
seen by every other process on its next request without a restart.

The version *in force* on a day is the newest version (by number) whose ``effective_from`` is on or before
that day: publishing a version dated ahead waits for its date, and publishing a correction dated back takes
over at once. ``effective_until`` does not pick versions (a version ends when the next one takes effect); a
standard whose version in force has passed its ``effective_until`` is no longer offered for new choices
(:func:`standards_in_force`), while a case that already names it is still judged by it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, select

from workflow.db import Database
from workflow.eligibility.standards import STANDARDS_DIR, Standard, load_standard_dir, standard_from_data
from workflow.errors import MissingData
from workflow.models import Case, ReviewSession, StandardVersion, User, as_utc, utcnow
from workflow.pipeline.yamlsource import DefinitionError
from workflow.time.calendar import CHINA_TZ

_sv = StandardVersion.__table__
_rs = ReviewSession.__table__
_case = Case.__table__
_user = User.__table__
_cache: dict[tuple[str, str, int], Standard] = {}
_lock = threading.Lock()


def _body(standard: Standard) -> dict:
    return json.loads(standard.model_dump_json())


def china_today() -> date:
    """Today's date in China: the day effective dates are compared with (as the submission guard does)."""
    return utcnow().astimezone(CHINA_TZ).date()


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
                                                effective_from=standard.effective_from, body=_body(standard),
                                                published_at=utcnow()))
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


def lock_standard_id(conn: Connection, standard_id: str) -> None:
    """Serialise, until the transaction ends, the writers that number versions of ``standard_id``.

    On PostgreSQL a transaction-scoped advisory lock on the id; SQLite's write transactions (BEGIN IMMEDIATE)
    are serial already.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(standard_id))))


def insert_version(conn: Connection, standard: Standard, *, by_user_id: int | None,
                   based_on: tuple[str, int] | None = None) -> Standard:
    """Store ``standard`` as the next version of its id inside the caller's write transaction; return it as
    stored (with the version number assigned here; numbers are never reused).

    Shared by :func:`publish` and :func:`workflow.eligibility.standards_drafts.publish_draft`, whose transaction also
    removes the draft. ``based_on`` is the (id, version) the standard was revised or copied from.
    """
    lock_standard_id(conn, standard.id)
    version = (latest_version(conn, standard.id) or 0) + 1
    published = standard.model_copy(update={"version": version})
    base_id, base_version = based_on if based_on is not None else (None, None)
    conn.execute(insert(_sv).values(standard_id=published.id, version=version, name=published.name.zh,
                                    effective_from=published.effective_from, body=_body(published),
                                    published_at=utcnow(), published_by=by_user_id, based_on_id=base_id,
                                    based_on_version=base_version))
    return published


def publish(db: Database, standard: Standard, *, by_user_id: int | None,
            based_on: tuple[str, int] | None = None) -> Standard:
    """Store ``standard`` as the next version of its id (version numbers are assigned here, never reused).

    It decides cases from its ``effective_from`` on (see the module's docstring). ``based_on`` is the (id,
    version) it was revised or copied from, shown in the version history.
    """
    with db.write() as conn:
        return insert_version(conn, standard, by_user_id=by_user_id, based_on=based_on)


def version_in_force(conn: Connection, standard_id: str, on: date) -> int | None:
    """The version of ``standard_id`` in force on ``on``: the newest whose ``effective_from`` is on or before
    that day (None when no version has taken effect yet, or the id is unknown)."""
    return conn.execute(select(func.max(_sv.c.version)).where(_sv.c.standard_id == standard_id,
                                                              _sv.c.effective_from <= on)).scalar()


def next_effective(conn: Connection, standard_id: str, on: date) -> date | None:
    """The first day after ``on`` on which a version of ``standard_id`` takes effect (None if none is due)."""
    return conn.execute(select(func.min(_sv.c.effective_from)).where(_sv.c.standard_id == standard_id,
                                                                     _sv.c.effective_from > on)).scalar()


def standards_in_force(db: Database, on: date) -> list[Standard]:
    """Every standard that can be chosen on ``on``, in its version in force then, ordered by id.

    A standard whose version in force has passed its ``effective_until`` is left out (it has lapsed), and so
    is one none of whose versions has taken effect yet.
    """
    with db.read() as conn:
        rows = conn.execute(select(_sv.c.standard_id, func.max(_sv.c.version)).where(_sv.c.effective_from <= on)
                            .group_by(_sv.c.standard_id).order_by(_sv.c.standard_id)).all()
        found = [get_standard(conn, sid, v) for sid, v in rows]
    return [s for s in found if s is not None and s.in_force(on)]


@dataclass(frozen=True)
class VersionRecord:
    """One stored version as the history lists it."""

    version: int
    name: str
    effective_from: date
    published_at: datetime
    published_by: int | None
    published_by_name: str | None
    """The publisher's display name (None for versions stored from the seed files)."""
    based_on_id: str | None
    based_on_version: int | None

    @property
    def based_on(self) -> tuple[str, int] | None:
        """The (id, version) this version was revised or copied from, when recorded."""
        if self.based_on_id is None or self.based_on_version is None:
            return None
        return self.based_on_id, self.based_on_version


def history(conn: Connection, standard_id: str) -> list[VersionRecord]:
    """Every stored version of ``standard_id``, newest first, with who published it and where it came from."""
    rows = conn.execute(select(_sv.c.version, _sv.c.name, _sv.c.effective_from, _sv.c.published_at,
                               _sv.c.published_by, _user.c.display_name, _sv.c.based_on_id,
                               _sv.c.based_on_version)
                        .outerjoin(_user, _user.c.id == _sv.c.published_by)
                        .where(_sv.c.standard_id == standard_id).order_by(_sv.c.version.desc()))
    return [VersionRecord(version=r.version, name=r.name, effective_from=r.effective_from,
                          published_at=as_utc(r.published_at), published_by=r.published_by,
                          published_by_name=r.display_name, based_on_id=r.based_on_id,
                          based_on_version=r.based_on_version) for r in rows]


def case_counts(conn: Connection, standard_id: str) -> dict[int, int]:
    """How many cases each version of ``standard_id`` judges: {version: cases pinned to it}.

    A case is pinned to the version in force when it is first submitted, and every later check uses that
    version; versions that judge no case are absent.
    """
    rows = conn.execute(select(_case.c.standard_version, func.count())
                        .where(_case.c.standard_id == standard_id, _case.c.standard_version.is_not(None))
                        .group_by(_case.c.standard_version))
    return {int(version): int(n) for version, n in rows}


def unsubmitted_case_count(db: Database, standard_id: str) -> int:
    """How many cases name ``standard_id`` and have not been submitted yet (still in their pipeline's first
    state, nothing pinned): the cases the version in force will judge when they are submitted.

    Drafts withdrawn before submission are not counted: they will never be judged. The first state is each
    case's own pipeline version's, so the count holds whatever the pipelines call it.
    """
    from workflow.pipeline.catalog import get_pipeline

    with db.read() as conn:
        rows = conn.execute(select(_case.c.pipeline_id, _case.c.pipeline_version, _case.c.state, func.count())
                            .where(_case.c.standard_id == standard_id, _case.c.standard_version.is_(None),
                                   _case.c.submitted_at.is_(None))
                            .group_by(_case.c.pipeline_id, _case.c.pipeline_version, _case.c.state)).all()
    return sum(int(n) for pid, v, state, n in rows if state == get_pipeline(db, pid, v).initial)


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


def open_sessions(db: Database) -> list[dict[str, Any]]:
    """The review sessions open for applications, newest first, as ``{id, name, name_en, standard_ids}``: what
    an applicant's pre-check offers, each with the standards it accepts (see :func:`not_accepted`)."""
    with db.read() as conn:
        rows = conn.execute(select(_rs.c.id, _rs.c.name, _rs.c.name_en, _rs.c.standard_ids)
                            .where(_rs.c.status == "open").order_by(_rs.c.id.desc()))
        return [dict(row._mapping) for row in rows]


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
