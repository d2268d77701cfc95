"""Read-side queries for the pages: inbox listings, a case with its people, its timeline and deadlines.

Everything here only reads, with SQLAlchemy Core on the SQLModel tables, and every listing is one statement
(joins and a grouped sub-query for the next deadline) whatever the number of rows, so a page never issues a
query per case. Results are plain dicts, so callers can render them after the transaction ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Integer,
    String,
    and_,
    bindparam,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy import case as sa_case
from sqlalchemy.orm import aliased

from workflow.access.identity import mask_id_number
from workflow.models import (
    ApplicantProfile,
    Attendance,
    BallotBox,
    BallotParticipation,
    Case,
    CaseEvent,
    Certificate,
    CommitteeSeat,
    Notification,
    Opinion,
    Organisation,
    ReviewAssignment,
    ReviewSession,
    Timer,
    User,
    UserRole,
    as_utc,
)

if TYPE_CHECKING:
    from workflow.access.visibility import VisibleCases

_case = Case.__table__
_event = CaseEvent.__table__
_timer = Timer.__table__
_user = User.__table__
_role = UserRole.__table__
_org = Organisation.__table__
_session = ReviewSession.__table__
_seat = CommitteeSeat.__table__
_att = Attendance.__table__
_opinion = Opinion.__table__
_box = BallotBox.__table__
_part = BallotParticipation.__table__
_cert = Certificate.__table__
_profile = ApplicantProfile.__table__
_note = Notification.__table__
_assignment = ReviewAssignment.__table__

_TIME_COLUMNS = ("created_at", "updated_at", "state_entered_at", "submitted_at", "due_at", "remind_at",
                 "next_due", "uploaded_at", "recorded_at", "submitted_at", "opened_at", "closed_at", "read_at")


def _plain(row: Any) -> dict[str, Any]:
    """A result row as a dict, with SQLite's naive timestamps made aware (UTC)."""
    d = dict(row)
    for key in _TIME_COLUMNS:
        if key in d and d[key] is not None:
            d[key] = as_utc(d[key])
    return d


# --------------------------------------------------------------------------------------------- one case


def _case_detail_parts():
    """The case row's columns with the names the pages show, and the joins they come from (shared by
    :func:`case_detail` and :func:`case_page`, which must return the same case row)."""
    applicant, unit, employer, authority = aliased(_user), aliased(_org), aliased(_org), aliased(_org)
    columns = (_case, applicant.c.display_name.label("applicant_name"),
               applicant.c.username.label("applicant_username"), unit.c.name.label("unit_name"),
               unit.c.kind.label("unit_kind"), employer.c.name.label("employer_name"),
               authority.c.name.label("authority_name"), _session.c.name.label("session_name"),
               _session.c.name_en.label("session_name_en"), _session.c.code.label("session_code"),
               _session.c.parameters.label("session_parameters"))
    joined = (_case.join(applicant, applicant.c.id == _case.c.applicant_id)
              .join(unit, unit.c.id == _case.c.unit_org_id)
              .join(authority, authority.c.id == _case.c.authority_org_id)
              .outerjoin(employer, employer.c.id == _case.c.employer_org_id)
              .outerjoin(_session, _session.c.id == _case.c.session_id))
    return columns, joined


def _case_detail_statement():
    columns, joined = _case_detail_parts()
    return select(*columns).select_from(joined).where(_case.c.id == bindparam("case_id"))


_CASE_DETAIL = _case_detail_statement()
"""Built once: constructing this five-table select cost more CPU than running it (every case page, every action)."""


# The statements of the case page (and the unread badge on every page), built once: constructing a select
# costs SQLAlchemy more CPU than a primary-key lookup costs the database.
_TIMELINE = (select(_event, _user.c.display_name.label("actor_name"))
             .select_from(_event.outerjoin(_user, _user.c.id == _event.c.actor_id))
             .where(_event.c.case_id == bindparam("case_id")).order_by(_event.c.seq))
_PENDING_TIMERS = (select(_timer.c.id, _timer.c.name, _timer.c.state, _timer.c.trigger, _timer.c.due_at,
                          _timer.c.remind_at, _timer.c.paused_in)
                   .where(_timer.c.case_id == bindparam("case_id"), _timer.c.status == "pending")
                   .order_by(_timer.c.due_at))
_PROFILE_BODY = select(_profile.c.body).where(_profile.c.user_id == bindparam("user_id"))
_BALLOT_BOX = select(_box, select(func.count()).select_from(_part).where(_part.c.box_id == _box.c.id)
                     .correlate(_box).scalar_subquery().label("voted")
                     ).where(_box.c.case_id == bindparam("case_id"), _box.c.round == bindparam("round"))
_CERTIFICATE = select(_cert).where(_cert.c.case_id == bindparam("case_id"))
_UNREAD = (select(func.count()).select_from(_note)
           .where(_note.c.user_id == bindparam("user_id"), _note.c.read_at.is_(None)))


def case_detail(conn: Connection, case_id: int) -> dict[str, Any] | None:
    """The case row with the names of its applicant, organisations and session (None if it does not exist)."""
    row = conn.execute(_CASE_DETAIL, {"case_id": case_id}).mappings().first()
    return _plain(row) if row else None


def org_names(conn: Connection, ids: Iterable[int]) -> dict[int, str]:
    """Names of the given organisations."""
    ids = list(ids)
    if not ids:
        return {}
    return dict(conn.execute(select(_org.c.id, _org.c.name).where(_org.c.id.in_(ids))).all())


def timeline(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    """Every event of the case in order, with the acting person's name (None for the system)."""
    return [_plain(r) for r in conn.execute(_TIMELINE, {"case_id": case_id}).mappings()]


def pending_timers(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    """The case's running deadlines, soonest first."""
    return [_plain(r) for r in conn.execute(_PENDING_TIMERS, {"case_id": case_id}).mappings()]


def running_timer(conn: Connection, case_id: int, name: str) -> dict[str, Any] | None:
    """``created_at`` and ``due_at`` of the case's pending deadline ``name`` (the latest one, should a
    deadline have been set again), or None when that deadline is not running."""
    row = conn.execute(select(_timer.c.created_at, _timer.c.due_at)
                       .where(_timer.c.case_id == case_id, _timer.c.name == name, _timer.c.status == "pending")
                       .order_by(_timer.c.id.desc()).limit(1)).mappings().first()
    return _plain(row) if row else None


def profile_body(conn: Connection, user_id: int) -> dict[str, Any]:
    """The applicant's declared profile (empty when none was saved yet)."""
    body = conn.execute(_PROFILE_BODY, {"user_id": user_id}).scalar()
    return dict(body or {})


def opinions(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    """Pre-review opinions of every round with the reviewers' names, newest round first."""
    stmt = (select(_opinion, _user.c.display_name.label("reviewer_name"))
            .select_from(_opinion.join(_user, _user.c.id == _opinion.c.reviewer_id))
            .where(_opinion.c.case_id == case_id).order_by(_opinion.c.round.desc(), _opinion.c.submitted_at))
    return [_plain(r) for r in conn.execute(stmt).mappings()]


def ballot_box(conn: Connection, case_id: int, round_: int) -> dict[str, Any] | None:
    """The ballot box of the round with the number of members who have voted (never who chose what)."""
    row = conn.execute(_BALLOT_BOX, {"case_id": case_id, "round": round_}).mappings().first()
    return _plain(row) if row else None


@dataclass(frozen=True)
class MemberStatus:
    """One committee member's standing on one case: seated, present, recused, opinion given, voted."""

    seat: str | None
    present: bool
    recused: bool
    opinion_given: bool
    voted: bool


def member_status(conn: Connection, case: dict[str, Any], user_id: int) -> MemberStatus:
    """What one member has done on the case this round (drives the opinion and vote forms)."""
    from workflow.panel.ballots import recused_ids

    session_id = case.get("session_id")
    round_ = (case.get("data") or {}).get("round", 1)
    seat = None
    present = False
    if session_id is not None:
        seat = conn.execute(select(_seat.c.seat_role).where(_seat.c.session_id == session_id,
                                                           _seat.c.user_id == user_id)).scalar()
        present = conn.execute(select(_att.c.id).where(_att.c.session_id == session_id,
                                                       _att.c.user_id == user_id)).scalar() is not None
    opinion = conn.execute(select(_opinion.c.id).where(_opinion.c.case_id == case["id"],
                                                       _opinion.c.reviewer_id == user_id,
                                                       _opinion.c.round == round_)).scalar()
    voted = conn.execute(select(_part.c.id).join(_box, _box.c.id == _part.c.box_id)
                         .where(_box.c.case_id == case["id"], _box.c.round == round_,
                                _part.c.member_id == user_id)).scalar()
    return MemberStatus(seat=seat, present=present, recused=user_id in recused_ids(conn, case["id"]),
                        opinion_given=opinion is not None, voted=voted is not None)


def certificate_for_case(conn: Connection, case_id: int) -> dict[str, Any] | None:
    """The certificate issued on the case, if any."""
    row = conn.execute(_CERTIFICATE, {"case_id": case_id}).mappings().first()
    return _plain(row) if row else None


def certificate_by_number(conn: Connection, number: str) -> dict[str, Any] | None:
    """A certificate by its number (what the public verification page looks up), with the holder's employer
    as the case declared it (``employer_name``; None for a 兜底 case without one) and the holder's ID number
    masked (``id_masked``; None when their profile has none), so that two holders of one name can be told
    apart. The full ID number is read only to mask it: it never leaves this function."""
    row = conn.execute(select(_cert, _org.c.name.label("employer_name"),
                              _profile.c.body["id_number"].as_string().label("holder_id_number"))
                       .select_from(_cert.join(_case, _case.c.id == _cert.c.case_id)
                                    .outerjoin(_org, _org.c.id == _case.c.employer_org_id)
                                    .outerjoin(_profile, _profile.c.user_id == _cert.c.holder_id))
                       .where(_cert.c.number == number.strip().upper())).mappings().first()
    if row is None:
        return None
    found = _plain(row)
    found["id_masked"] = mask_id_number(found.pop("holder_id_number"))
    return found


def certificate_register(conn: Connection, authority_org_id: int, *, visible: VisibleCases,
                         limit: int) -> list[dict[str, Any]]:
    """The certificates issued on cases of authority ``authority_org_id`` that the reader may see
    (``visible``), newest first, at most ``limit``: each certificate row with its case's ``reference``.

    The register page and its spreadsheet export both read this, so they list the same certificates.
    """
    stmt = (select(_cert, _case.c.reference).join(_case, _case.c.id == _cert.c.case_id)
            .where(_case.c.authority_org_id == authority_org_id, visible.on(_case))
            .order_by(_cert.c.issued_on.desc(), _cert.c.id.desc()).limit(limit))
    return [_plain(r) for r in conn.execute(stmt).mappings()]


# --------------------------------------------------------------------------------------------- listings


@dataclass(frozen=True)
class CasePage:
    """One page of a case listing and the total number of matching cases."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, -(-self.total // self.per_page))


def _listing_select():
    applicant = aliased(_user)
    unit = aliased(_org)
    # The next deadline per listed row, as a correlated sub-query: a grouped sub-query over every pending
    # timer was computed whole for each page (it grew with the history; the page shows 50 rows).
    next_due = (select(func.min(_timer.c.due_at)).where(_timer.c.case_id == _case.c.id, _timer.c.status == "pending")
                .scalar_subquery().label("next_due"))
    columns = [_case.c.id, _case.c.reference, _case.c.pipeline_id, _case.c.pipeline_version, _case.c.state,
               _case.c.version, _case.c.level, _case.c.target_title, _case.c.specialty, _case.c.series,
               _case.c.created_at, _case.c.updated_at, _case.c.state_entered_at, _case.c.submitted_at,
               _case.c.session_id, _case.c.unit_org_id, _case.c.applicant_id, _case.c.data,
               applicant.c.display_name.label("applicant_name"), unit.c.name.label("unit_name"),
               _session.c.name.label("session_name"), _session.c.name_en.label("session_name_en"),
               next_due]
    joined = (_case.join(applicant, applicant.c.id == _case.c.applicant_id)
              .join(unit, unit.c.id == _case.c.unit_org_id)
              .outerjoin(_session, _session.c.id == _case.c.session_id))
    return columns, joined, applicant


def _scoped(visible: VisibleCases | None) -> list[ColumnElement[bool]]:
    """The visibility scope as a list of conditions to AND in (none for no scope or an unrestricted one)."""
    return [] if visible is None or visible.unrestricted else list(visible.terms())


def _within(visible: VisibleCases | None, own: list[ColumnElement[bool]]) -> list[ColumnElement[bool]]:
    """A listing's own conditions, then the terms of the reader's scope it does not already have.

    For a reader with one relation the scope repeats the listing's own filter (submitted, and this unit's or
    authority's cases). A repeated term, or the same terms in another order, changed SQLite's plan: it counted
    an authority's cases by scanning the whole table instead of reading its index. So the statement stays the
    one it was before the scope, plus whatever the scope really adds.
    """
    kept = list(own)
    for term in _scoped(visible):
        if not any(term.compare(k) for k in kept):
            kept.append(term)
    return kept


def list_cases(conn: Connection, *, visible: VisibleCases | None = None, applicant_id: int | None = None,
               unit_org_id: int | None = None, authority_org_id: int | None = None,
               session_ids: Iterable[int] | None = None, states: Iterable[str] | None = None,
               exclude_states: Iterable[str] | None = None, submitted_only: bool = False, search: str = "",
               page: int = 1, per_page: int = 50, oldest_first: bool = False,
               count_limit: int | None = None) -> CasePage:
    """Cases matching every given filter, with applicant, unit, session and next deadline.

    ``visible`` is the reader's scope (:func:`workflow.access.visibility.visible_cases`): every page passes it, and the
    listing's own filters narrow it further; None (internal callers) means no scope.

    ``search`` matches the reference or the applicant's name. Work queues list the longest-waiting case
    first (``oldest_first``); personal lists the most recently changed first. ``count_limit`` stops counting
    there (``total`` is then at most that), for listings that may reach a whole history.
    """
    columns, joined, applicant = _listing_select()
    conditions: list[ColumnElement[bool]] = []
    if applicant_id is not None:
        conditions.append(_case.c.applicant_id == applicant_id)
    if unit_org_id is not None:
        conditions.append(_case.c.unit_org_id == unit_org_id)
    if authority_org_id is not None:
        conditions.append(_case.c.authority_org_id == authority_org_id)
    if session_ids is not None:
        conditions.append(_case.c.session_id.in_(list(session_ids)))
    if states is not None:
        conditions.append(_case.c.state.in_(list(states)))
    if exclude_states:
        conditions.append(_case.c.state.not_in(list(exclude_states)))
    if submitted_only:
        conditions.append(_case.c.submitted_at.is_not(None))
    search = search.strip()
    if search:
        conditions.append(_matches_search(applicant, search))
    # The same SQL as a bare True, which where() coerces, when there is no condition.
    conditions = _within(visible, conditions)
    where = and_(*conditions) if conditions else true()
    # Counting needs the applicant only to search by name; every other join is one row per case.
    counted = _case.join(applicant, applicant.c.id == _case.c.applicant_id) if search else _case
    if count_limit is None:
        total = conn.execute(select(func.count()).select_from(counted).where(where)).scalar_one()
    else:
        upto = select(_case.c.id).select_from(counted).where(where).limit(count_limit).subquery()
        total = conn.execute(select(func.count()).select_from(upto)).scalar_one()
    page = max(1, page)
    # Each order is one of the authority indexes read forwards or backwards (ties: lower id first when
    # oldest first, higher id first when newest first), so a page never sorts the whole history.
    order = ([_case.c.state_entered_at.asc(), _case.c.id.asc()] if oldest_first
             else [_case.c.updated_at.desc(), _case.c.id.desc()])
    # The page's ids first (a narrow scan of the case table, by index where one fits), then the joins for
    # those rows only: joining every matching case before the sort grew with the size of the queue.
    ids = (select(_case.c.id).select_from(counted).where(where).order_by(*order)
           .limit(per_page).offset((page - 1) * per_page).subquery())
    rows = conn.execute(select(*columns).select_from(joined.join(ids, ids.c.id == _case.c.id))
                        .order_by(*order)).mappings()
    return CasePage([_plain(r) for r in rows], total, page, per_page)


def _matches_search(applicant: Any, search: str) -> ColumnElement[bool]:
    """The case's reference or its applicant's name contains ``search`` (wildcards typed are taken literally
    by dropping them)."""
    like = f"%{search.replace('%', '').replace('_', '')}%"
    return or_(_case.c.reference.ilike(like), applicant.c.display_name.ilike(like))


def case_window(conn: Connection, *, visible: VisibleCases, state: str | None = None,
                pipeline_id: str | None = None, session_id: int | None = None, search: str = "",
                limit: int = 20, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """``limit`` cases from ``offset`` on, most recently changed first, with the columns of :func:`list_cases`,
    and how many cases match: the listing the API pages through by offset (two queries whatever the limit).

    ``visible`` is the reader's scope; ``state``, ``pipeline_id`` and ``session_id`` narrow it when given, and
    ``search`` matches the reference or the applicant's name as in :func:`list_cases`.
    """
    columns, joined, applicant = _listing_select()
    conditions = [visible.on(_case)]
    if state:
        conditions.append(_case.c.state == state)
    if pipeline_id:
        conditions.append(_case.c.pipeline_id == pipeline_id)
    if session_id is not None:
        conditions.append(_case.c.session_id == session_id)
    search = search.strip()
    if search:
        conditions.append(_matches_search(applicant, search))
    where = and_(*conditions)
    total = conn.execute(select(func.count()).select_from(joined).where(where)).scalar_one()
    rows = conn.execute(select(*columns).select_from(joined).where(where)
                        .order_by(_case.c.updated_at.desc(), _case.c.id.desc()).limit(limit).offset(offset))
    return [_plain(r) for r in rows.mappings()], int(total)


def state_counts(conn: Connection, *, visible: VisibleCases | None = None, unit_org_id: int | None = None,
                 authority_org_id: int | None = None, session_ids: Iterable[int] | None = None,
                 submitted_only: bool = True, states: Iterable[str] | None = None) -> dict[str, int]:
    """How many cases are in each state, for the same scope and filters as :func:`list_cases` (inbox tab badges).

    ``states`` restricts the count to those states (the open ones, say, when a history is long).
    """
    conditions: list[ColumnElement[bool]] = []
    if states is not None:
        conditions.append(_case.c.state.in_(list(states)))
    if unit_org_id is not None:
        conditions.append(_case.c.unit_org_id == unit_org_id)
    if authority_org_id is not None:
        conditions.append(_case.c.authority_org_id == authority_org_id)
    if session_ids is not None:
        conditions.append(_case.c.session_id.in_(list(session_ids)))
    if submitted_only:
        conditions.append(_case.c.submitted_at.is_not(None))
    stmt = select(_case.c.state, func.count()).where(*_within(visible, conditions)).group_by(_case.c.state)
    return {state: int(n) for state, n in conn.execute(stmt).all()}


def count_upto(conn: Connection, limit: int, *, visible: VisibleCases | None = None,
               authority_org_id: int | None = None, unit_org_id: int | None = None,
               states: Iterable[str] | None = None, submitted_only: bool = True) -> int:
    """How many cases match (within the ``visible`` scope, as :func:`list_cases`), counting no further than
    ``limit`` (for badges such as "999+").

    Bounded work however long the history: the scan stops after ``limit`` index entries.
    """
    conditions: list[ColumnElement[bool]] = []
    if authority_org_id is not None:
        conditions.append(_case.c.authority_org_id == authority_org_id)
    if unit_org_id is not None:
        conditions.append(_case.c.unit_org_id == unit_org_id)
    if states is not None:
        conditions.append(_case.c.state.in_(list(states)))
    if submitted_only:
        conditions.append(_case.c.submitted_at.is_not(None))
    stmt = select(_case.c.id).where(*_within(visible, conditions))
    return conn.execute(select(func.count()).select_from(stmt.limit(limit).subquery())).scalar_one()


def _current_superior(conn: Connection):
    """SQL for the organisation at the case's current superior level (``superior_org_ids[superior_level]``).

    NULL when the level is past the end of the chain. The chain and the level are JSON, which the two
    databases read with different functions: ``->>`` on PostgreSQL's JSONB, ``json_extract`` on SQLite.
    """
    if conn.dialect.name == "sqlite":
        level = func.coalesce(func.json_extract(_case.c.data, "$.superior_level"), 0)
        return func.json_extract(_case.c.superior_org_ids, literal("$[") + level.cast(String) + literal("]"))
    level = func.coalesce(_case.c.data.op("->>")(literal_column("'superior_level'")).cast(Integer), 0)
    return _case.c.superior_org_ids.op("->>")(level).cast(Integer)


def superior_queue(conn: Connection, org_id: int, states: Iterable[str], *,
                   visible: VisibleCases | None = None) -> list[dict[str, Any]]:
    """Cases waiting in superior review whose *current* superior level is ``org_id``, longest waiting first
    (within the ``visible`` scope, as :func:`list_cases`).

    The level is matched in SQL and the page's rows joined afterwards, so the work is one pass over the
    cases in ``states`` (by the state index) plus the joins for this department's own cases only: matching
    in Python loaded and joined every department's waiting cases on each request.
    """
    columns, joined, _ = _listing_select()
    order = [_case.c.state_entered_at.asc(), _case.c.id.asc()]
    ids = (select(_case.c.id).where(_case.c.state.in_(list(states)), _current_superior(conn) == org_id,
                                    *_scoped(visible))
           .subquery())
    rows = conn.execute(select(*columns, _case.c.superior_org_ids)
                        .select_from(joined.join(ids, ids.c.id == _case.c.id)).order_by(*order)).mappings()
    return [_plain(r) for r in rows]


def superior_history(conn: Connection, org_id: int, limit: int = 100, *,
                     visible: VisibleCases | None = None) -> list[dict[str, Any]]:
    """Cases a superior department of ``org_id`` has acted on, most recently changed first (within the
    ``visible`` scope, as :func:`list_cases`).

    The role is a literal, not a parameter, so that both databases can use the partial index of superior
    reviewers' events (``ix_event_superior_actor``): from a parameter SQLite never proves the index's
    condition, nor does PostgreSQL in a prepared statement's generic plan, and without the index this read
    every event ever recorded.
    """
    columns, joined, _ = _listing_select()
    acted = (select(_event.c.case_id).join(_user, _user.c.id == _event.c.actor_id)
             .where(_event.c.actor_role == literal_column("'superior_reviewer'"), _user.c.org_id == org_id))
    ids = (select(_case.c.id).where(_case.c.id.in_(acted), *_scoped(visible))
           .order_by(_case.c.updated_at.desc(), _case.c.id.desc()).limit(limit).subquery())
    rows = conn.execute(select(*columns).select_from(joined.join(ids, ids.c.id == _case.c.id))
                        .order_by(_case.c.updated_at.desc(), _case.c.id.desc())).mappings()
    return [_plain(r) for r in rows]


def open_result_notices(conn: Connection, states: Iterable[str], timers: Iterable[str], *,
                        case_id: int | None = None) -> list[dict[str, Any]]:
    """Cases in ``states`` (those on the public result notice), with the notice's end: the pending timer among
    ``timers`` (the notice deadlines' names). :mod:`workflow.records.notices` reads both from the definitions.

    ``case_id`` narrows the listing to that one case (empty when it is not on notice).
    """
    columns, joined, _ = _listing_select()
    notice_end = (select(_timer.c.case_id, func.max(_timer.c.due_at).label("notice_end"))
                  .where(_timer.c.name.in_(list(timers)), _timer.c.status == "pending")
                  .group_by(_timer.c.case_id).subquery())
    wanted: list[ColumnElement[bool]] = [_case.c.state.in_(list(states))]
    if case_id is not None:
        wanted.append(_case.c.id == case_id)
    rows = conn.execute(select(*columns, notice_end.c.notice_end)
                        .select_from(joined.outerjoin(notice_end, notice_end.c.case_id == _case.c.id))
                        .where(*wanted)
                        .order_by(notice_end.c.notice_end, _case.c.id)).mappings()
    out = []
    for r in rows:
        d = _plain(r)
        d["notice_end"] = as_utc(d["notice_end"])
        out.append(d)
    return out


def unit_notices(conn: Connection, org_id: int, states: Iterable[str], timers: Iterable[str], *,
                 case_id: int | None = None) -> list[dict[str, Any]]:
    """Cases in ``states`` on the internal notice of organisation ``org_id`` (as employer or as reviewing
    unit), with the end of the pending notice timer among ``timers``; :mod:`workflow.records.notices` reads both from
    the definitions.

    ``case_id`` narrows the listing to that one case (empty when it is not on this organisation's notice).
    """
    columns, joined, _ = _listing_select()
    # Per listed case (by the timer's case index), not grouped over every pending notice in the installation.
    notice_end = (select(func.max(_timer.c.due_at))
                  .where(_timer.c.case_id == _case.c.id, _timer.c.name.in_(list(timers)),
                         _timer.c.status == "pending")
                  .scalar_subquery().label("notice_end"))
    wanted = [_case.c.state.in_(list(states)),
              or_(_case.c.unit_org_id == org_id, _case.c.employer_org_id == org_id)]
    if case_id is not None:
        wanted.append(_case.c.id == case_id)
    rows = conn.execute(select(*columns, notice_end)
                        .select_from(joined)
                        .where(*wanted)
                        .order_by(_case.c.id)).mappings()
    return [{**_plain(r), "notice_end": as_utc(r["notice_end"])} for r in rows]


# --------------------------------------------------------------------------------------------- panels


def seated_sessions(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    """Sessions on whose committee the user sits, with the seat role."""
    stmt = (select(_session, _seat.c.seat_role).join(_seat, _seat.c.session_id == _session.c.id)
            .where(_seat.c.user_id == user_id).order_by(_session.c.year.desc(), _session.c.id))
    return [_plain(r) for r in conn.execute(stmt).mappings()]


def panel_progress(conn: Connection, case_ids: list[int], user_id: int) -> dict[int, dict[str, Any]]:
    """Per case: opinions this round, whether the user is in this round's review group and gave one, ballot
    open/closed, votes cast, user voted.

    Four grouped queries for any number of cases.
    """
    if not case_ids:
        return {}
    rounds = dict(conn.execute(select(_case.c.id, _case.c.data).where(_case.c.id.in_(case_ids))).all())
    progress: dict[int, dict[str, Any]] = {
        cid: {"opinions": 0, "my_opinion": False, "in_group": False, "box": None, "voted": 0, "i_voted": False}
        for cid in case_ids}
    for cid, round_ in conn.execute(select(_assignment.c.case_id, _assignment.c.round).where(
            _assignment.c.case_id.in_(case_ids), _assignment.c.reviewer_id == user_id)):
        if round_ == (rounds[cid] or {}).get("round", 1):
            progress[cid]["in_group"] = True
    for cid, reviewer, round_ in conn.execute(select(_opinion.c.case_id, _opinion.c.reviewer_id, _opinion.c.round)
                                              .where(_opinion.c.case_id.in_(case_ids))):
        if round_ == (rounds[cid] or {}).get("round", 1):
            progress[cid]["opinions"] += 1
            progress[cid]["my_opinion"] |= reviewer == user_id
    voted = (select(_part.c.box_id, func.count().label("n"),
                    func.sum(sa_case((_part.c.member_id == user_id, 1), else_=0)).label("mine"))
             .group_by(_part.c.box_id).subquery())
    for box in conn.execute(select(_box, voted.c.n, voted.c.mine)
                            .select_from(_box.outerjoin(voted, voted.c.box_id == _box.c.id))
                            .where(_box.c.case_id.in_(case_ids))).mappings():
        if box["round"] == (rounds[box["case_id"]] or {}).get("round", 1):
            p = progress[box["case_id"]]
            p["box"] = "closed" if box["closed_at"] is not None else "open"
            p["voted"] = int(box["n"] or 0)
            p["i_voted"] = bool(box["mine"])
            p["tally"] = {k: box[k] for k in ("yes", "no", "abstain", "present", "eligible", "passed")}
    return progress


def session_seats(conn: Connection, session_id: int) -> list[dict[str, Any]]:
    """The committee of a session (chair first) with each member's attendance."""
    present = (select(_att.c.user_id, _att.c.recorded_at).where(_att.c.session_id == session_id).subquery())
    stmt = (select(_seat.c.id.label("seat_id"), _seat.c.seat_role, _user.c.id.label("user_id"),
                   _user.c.display_name, _user.c.username, _org.c.name.label("org_name"), present.c.recorded_at)
            .select_from(_seat.join(_user, _user.c.id == _seat.c.user_id)
                         .outerjoin(_org, _org.c.id == _user.c.org_id)
                         .outerjoin(present, present.c.user_id == _seat.c.user_id))
            .where(_seat.c.session_id == session_id)
            .order_by((_seat.c.seat_role != "chair"), _user.c.display_name))
    return [_plain(r) for r in conn.execute(stmt).mappings()]


def session_row(conn: Connection, session_id: int) -> dict[str, Any] | None:
    """One review session with its authority's name."""
    row = conn.execute(select(_session, _org.c.name.label("authority_name"))
                       .join(_org, _org.c.id == _session.c.authority_org_id)
                       .where(_session.c.id == session_id)).mappings().first()
    return _plain(row) if row else None


def sessions(conn: Connection, *, open_only: bool = False) -> list[dict[str, Any]]:
    """Every review session (newest year first) with its seat count."""
    seats = (select(_seat.c.session_id, func.count().label("seats")).group_by(_seat.c.session_id).subquery())
    stmt = (select(_session, func.coalesce(seats.c.seats, 0).label("seats"), _org.c.name.label("authority_name"))
            .select_from(_session.join(_org, _org.c.id == _session.c.authority_org_id)
                         .outerjoin(seats, seats.c.session_id == _session.c.id))
            .order_by(_session.c.year.desc(), _session.c.id))
    if open_only:
        stmt = stmt.where(_session.c.status == "open")
    return [_plain(r) for r in conn.execute(stmt).mappings()]


# --------------------------------------------------------------------------------------------- people


def users(conn: Connection, *, search: str = "", role: str = "") -> list[dict[str, Any]]:
    """Accounts with their organisation and roles (two queries: users, then all their roles)."""
    stmt = (select(_user.c.id, _user.c.username, _user.c.display_name, _user.c.is_active, _user.c.org_id,
                   _user.c.email, _user.c.phone, _user.c.created_at, _org.c.name.label("org_name"))
            .select_from(_user.outerjoin(_org, _org.c.id == _user.c.org_id)).order_by(_user.c.id))
    search = search.strip()
    if search:
        like = f"%{search}%"
        stmt = stmt.where(or_(_user.c.username.ilike(like), _user.c.display_name.ilike(like)))
    if role:
        stmt = stmt.where(_user.c.id.in_(select(_role.c.user_id).where(_role.c.role == role)))
    rows = [_plain(r) for r in conn.execute(stmt).mappings()]
    roles: dict[int, list[str]] = {}
    ids = [r["id"] for r in rows]
    if ids:
        for uid, r in conn.execute(select(_role.c.user_id, _role.c.role).where(_role.c.user_id.in_(ids))
                                   .order_by(_role.c.id)):
            roles.setdefault(uid, []).append(r)
    for r in rows:
        r["roles"] = roles.get(r["id"], [])
    return rows


def organisation(conn: Connection, org_id: int) -> dict[str, Any] | None:
    """The organisation ``org_id`` (every column), or None when there is none."""
    row = conn.execute(_org.select().where(_org.c.id == org_id)).mappings().first()
    return _plain(row) if row else None


def organisations(conn: Connection, kinds: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Organisations (optionally of some kinds) with their superior's name and user count."""
    superior = aliased(_org)
    members = select(_user.c.org_id, func.count().label("users")).group_by(_user.c.org_id).subquery()
    stmt = (select(_org, superior.c.name.label("superior_name"), func.coalesce(members.c.users, 0).label("users"))
            .select_from(_org.outerjoin(superior, superior.c.id == _org.c.superior_org_id)
                         .outerjoin(members, members.c.org_id == _org.c.id))
            .order_by(_org.c.kind, _org.c.id))
    if kinds is not None:
        stmt = stmt.where(_org.c.kind.in_(list(kinds)))
    return [_plain(r) for r in conn.execute(stmt).mappings()]


def superior_chain(conn: Connection, org_id: int | None, max_levels: int = 5) -> list[int]:
    """The superior departments above an employer, nearest first (only organisations of kind ``superior``)."""
    chain: list[int] = []
    rows = {r["id"]: r for r in conn.execute(select(_org.c.id, _org.c.kind, _org.c.superior_org_id)).mappings()}
    current = rows.get(org_id)
    while current is not None and current["superior_org_id"] and len(chain) < max_levels:
        parent = rows.get(current["superior_org_id"])
        if parent is None or parent["kind"] != "superior" or parent["id"] in chain:
            break
        chain.append(parent["id"])
        current = parent
    return chain


def user_names(conn: Connection, ids: Iterable[int]) -> dict[int, str]:
    """Display names of the given users."""
    ids = list(ids)
    if not ids:
        return {}
    return dict(conn.execute(select(_user.c.id, _user.c.display_name).where(_user.c.id.in_(ids))).all())


def notifications(conn: Connection, user_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """The user's in-app messages, newest first."""
    stmt = (select(_note, _case.c.reference).select_from(_note.outerjoin(_case, _case.c.id == _note.c.case_id))
            .where(_note.c.user_id == user_id).order_by(_note.c.created_at.desc(), _note.c.id.desc()).limit(limit))
    return [_plain(r) for r in conn.execute(stmt).mappings()]


def unread_count(conn: Connection, user_id: int) -> int:
    """How many in-app messages the user has not opened."""
    return conn.execute(_UNREAD, {"user_id": user_id}).scalar_one()


# --------------------------------------------------------------------------------------------- the case page


@dataclass(frozen=True)
class CasePageRow:
    """What the case page reads with its case row in one statement (each of these was its own query)."""

    case: dict[str, Any]
    """The row :func:`case_detail` returns."""
    session_relaxations: dict[str, Any] | None
    """The session's waivers: with ``case`` the row the engine's guards see (``engine.case_row``)."""
    profile: dict[str, Any]
    """The applicant's declared profile, as :func:`profile_body`."""
    certificate: dict[str, Any] | None
    """As :func:`certificate_for_case`."""
    unread: int
    """The viewer's unopened messages, as :func:`unread_count`."""
    ballot_boxes: int
    """How many ballot boxes the case has (rounds): none means :func:`ballot_box` has nothing to find."""
    pending_timers: int
    """How many deadlines are running: none means :func:`pending_timers` has nothing to find."""
    standard_version_in_force: int | None
    """The version of the case's standard in force on the page's day (what judges a case that pins none yet,
    :func:`workflow.eligibility.standards_store.version_in_force`)."""
    eligibility: dict[str, dict[str, Any] | None]
    """The newest stored eligibility report of each kind (``submission``, ``recommend``, ``recheck``), None when
    absent."""


_REPORT_KINDS = ("submission", "recommend", "recheck")
"""The kinds of stored eligibility report the case page reads (see :mod:`workflow.eligibility.gate`)."""


def _case_page_statement():
    from workflow.models import StandardVersion
    from workflow.models.cases import EligibilityRecord

    record, versions = EligibilityRecord.__table__, StandardVersion.__table__
    columns, joined = _case_detail_parts()

    def newest_report(kind: str):
        # The row with the highest event_seq of this kind, as eligibility_gate.latest_reports picks it.
        return (select(record.c.report).where(record.c.case_id == _case.c.id, record.c.kind == kind)
                .order_by(record.c.event_seq.desc()).limit(1).scalar_subquery().label(f"eligibility_{kind}"))

    return (
        select(*columns,
               _session.c.relaxations.label("page_session_relaxations"),
               select(_profile.c.body).where(_profile.c.user_id == _case.c.applicant_id)
               .scalar_subquery().label("page_profile"),
               select(func.count()).select_from(_note)
               .where(_note.c.user_id == bindparam("user_id"), _note.c.read_at.is_(None))
               .scalar_subquery().label("page_unread"),
               select(func.count()).select_from(_box).where(_box.c.case_id == _case.c.id)
               .scalar_subquery().label("page_boxes"),
               select(func.count()).select_from(_timer).where(_timer.c.case_id == _case.c.id,
                                                              _timer.c.status == "pending")
               .scalar_subquery().label("page_timers"),
               select(func.max(versions.c.version)).where(versions.c.standard_id == _case.c.standard_id,
                                                          versions.c.effective_from <= bindparam("today", type_=Date))
               .scalar_subquery().label("page_standard_in_force"),
               *(newest_report(kind) for kind in _REPORT_KINDS),
               *(c.label(f"page_certificate_{c.name}") for c in _cert.c))
        .select_from(joined.outerjoin(_cert, _cert.c.case_id == _case.c.id))
        .where(_case.c.id == bindparam("case_id"))
    )


_CASE_PAGE = _case_page_statement()
_CERT_PREFIX = "page_certificate_"


def case_page(conn: Connection, case_id: int, viewer_id: int, today: date | None = None) -> CasePageRow | None:
    """The case row and the small reads of its page in one statement (None if the case does not exist).

    The case row is exactly :func:`case_detail`'s; the rest replaces :func:`profile_body`,
    :func:`certificate_for_case`, :func:`unread_count` (for ``viewer_id``), the newest eligibility reports and
    the version of the standard in force on ``today`` (China's today by default, as the submission guard
    counts), and tells whether the ballot-box and deadline queries can find anything.
    """
    if today is None:
        from workflow.eligibility.standards_store import china_today

        today = china_today()
    row = conn.execute(_CASE_PAGE, {"case_id": case_id, "user_id": viewer_id, "today": today}).mappings().first()
    if row is None:
        return None
    case: dict[str, Any] = {}
    certificate: dict[str, Any] = {}
    for key, value in row.items():
        if key.startswith(_CERT_PREFIX):
            certificate[key[len(_CERT_PREFIX):]] = value
        elif not key.startswith(("page_", "eligibility_")):
            case[key] = value
    return CasePageRow(
        case=_plain(case), session_relaxations=row["page_session_relaxations"],
        profile=dict(row["page_profile"] or {}),
        certificate=_plain(certificate) if certificate["id"] is not None else None,
        unread=int(row["page_unread"]), ballot_boxes=int(row["page_boxes"]), pending_timers=int(row["page_timers"]),
        standard_version_in_force=row["page_standard_in_force"],
        eligibility={kind: row[f"eligibility_{kind}"] for kind in _REPORT_KINDS})


def _case_materials_statements():
    from workflow.models.attachments import Attachment
    from workflow.records.attachments import OBJECTION_EVIDENCE

    att = Attachment.__table__
    listed = (select(att, _user.c.display_name.label("uploader_name"))
              .join(_user, _user.c.id == att.c.uploaded_by)
              .where(att.c.case_id == bindparam("case_id"), att.c.category != OBJECTION_EVIDENCE)
              .order_by(att.c.id))
    return listed, listed.where(att.c.removed_at.is_(None))


_MATERIALS_ALL, _MATERIALS_CURRENT = _case_materials_statements()
_ORG_NAMES = select(_org.c.id, _org.c.name).where(_org.c.id.in_(bindparam("ids", expanding=True)))


def case_materials(conn: Connection, case_id: int, *, include_removed: bool = False) -> list[dict[str, Any]]:
    """What :func:`workflow.records.attachments.list_attachments` returns, from statements built once (the case page
    runs it on every view; building the select cost more than running it)."""
    rows = []
    for r in conn.execute(_MATERIALS_ALL if include_removed else _MATERIALS_CURRENT, {"case_id": case_id}).mappings():
        d = dict(r)
        d["uploaded_at"] = as_utc(d["uploaded_at"])
        d["removed_at"] = as_utc(d["removed_at"])
        rows.append(d)
    return rows


def organisation_names(conn: Connection, ids: Iterable[int]) -> dict[int, str]:
    """What :func:`org_names` returns, from a statement built once (the case page's superior departments)."""
    ids = list(ids)
    if not ids:
        return {}
    return dict(conn.execute(_ORG_NAMES, {"ids": ids}).all())
