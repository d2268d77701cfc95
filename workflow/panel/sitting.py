"""The committee sitting: the chair opens it, presence is recorded, ballots run, the chair signs it off.

Opening the sitting also makes the committee's ballot key (:mod:`workflow.panel.ballot_keys`): the public key is
stored, the two shares of the private key are handed to the chair and the session's officer once, and every
box is counted — and recounted (:func:`recount_ballots`) — from its ciphertexts with both shares.

Ballots can only be opened while the sitting is open (:func:`workflow.panel.ballots.quorum_refusal`), attendance
can only be recorded while it is open, and the chair cannot sign it off while any ballot of the session is
still open. Sign-off freezes the minutes: their SHA-256 is stored on the sitting and in the panel log, so
:func:`verify_minutes` shows whether the record behind them was changed afterwards.

The minutes (:func:`minutes_data`, rendered by :func:`render_minutes_html` without Flask) list the session,
the seated committee, who was present, and per case the counts and the result with the number of recusals
— never who voted how, which nothing in the system can tell.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any

from jinja2 import Environment
from sqlalchemy import Connection, func, insert, literal_column, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from workflow.access.roles import Actor
from workflow.db import Database
from workflow.engine.storage import Statement
from workflow.errors import InvalidAction, PermissionDenied
from workflow.models import (
    Attendance,
    BallotBox,
    BallotParticipation,
    Case,
    CaseEvent,
    CommitteeSeat,
    ReviewSession,
    Sitting,
    User,
    as_utc,
    utcnow,
)
from workflow.models.committee import PanelLog
from workflow.models.panels import CommitteeKey
from workflow.panel.audit import append_log
from workflow.panel.ballot_keys import (
    BallotShares,
    KeyShares,
    create_committee_key,
    decrypt_counts,
    has_committee_key,
    new_keypair,
    rebuild_key,
    sum_box,
)
from workflow.panel.ballots import scrub_storage

log = logging.getLogger(__name__)

_sitting = Sitting.__table__
_seat = CommitteeSeat.__table__
_att = Attendance.__table__
_box = BallotBox.__table__
_case = Case.__table__
_event = CaseEvent.__table__
_session = ReviewSession.__table__
_user = User.__table__
_committee_key = CommitteeKey.__table__
_log = PanelLog.__table__


def _require_chair(conn: Connection, session_id: int, actor: Actor) -> None:
    seat = None
    if actor.user_id is not None:
        seat = conn.execute(select(_seat.c.seat_role).where(_seat.c.session_id == session_id,
                                                           _seat.c.user_id == actor.user_id)).scalar()
    if seat != "chair" or "panel_chair" not in actor.roles:
        raise PermissionDenied("只有本评审会主任委员可以主持会议", "Only the session's chair may do this")


@dataclass(frozen=True)
class SittingOpened:
    """The opened sitting and the shares of the committee's new ballot key, to hand out once (never stored)."""

    sitting_id: int
    shares: KeyShares | None = field(default=None, repr=False)


def open_sitting(db: Database, session_id: int, actor: Actor, *, now: datetime | None = None) -> SittingOpened:
    """The chair opens the session's sitting, once per session, and the committee's ballot key is made.

    Returns the sitting's id and the two key shares (chair: share A, officer: share B), which the caller shows
    once to their holders; only the public key is stored (:mod:`workflow.panel.ballot_keys`). A session whose key
    was made earlier keeps it (``shares`` is then None).
    """
    now = now or utcnow()
    keypair = new_keypair()  # before the transaction: making a 2048-bit key takes a while
    try:
        with db.write() as conn:
            _require_chair(conn, session_id, actor)
            closed = conn.execute(select(_sitting.c.closed_at).where(_sitting.c.session_id == session_id)).first()
            if closed is not None:
                raise InvalidAction("评审会议已结束" if closed[0] else "评审会议已开始",
                                    "The sitting was already opened")
            sitting_id = conn.execute(insert(_sitting).values(session_id=session_id, opened_at=now,
                                                              opened_by=actor.user_id, minutes_hash="")
                                      .returning(_sitting.c.id)).scalar_one()
            append_log(conn, session_id, "sitting_opened", actor, role="panel_chair", now=now)
            shares = None
            if not has_committee_key(conn, session_id):
                shares = _make_key(conn, session_id, actor, now, keypair)
            return SittingOpened(sitting_id, shares)
    except IntegrityError:  # another request opened it at the same moment
        raise InvalidAction("评审会议已开始", "The sitting was already opened") from None


def _make_key(conn: Connection, session_id: int, actor: Actor, now: datetime, keypair) -> KeyShares:
    shares = create_committee_key(conn, session_id, actor.user_id, now, keypair)
    append_log(conn, session_id, "ballot_key_created", actor, role="panel_chair",
               payload={"key_fingerprint": shares.fingerprint, "share_holders": ["chair", "officer"]}, now=now)
    return shares


def create_sitting_key(db: Database, session_id: int, actor: Actor, *, now: datetime | None = None) -> KeyShares:
    """The chair makes the ballot key of an open sitting that has none (one opened before keys existed).

    Refused once a key exists: a second key would leave ballots that its shares cannot count.
    """
    now = now or utcnow()
    keypair = new_keypair()
    with db.write() as conn:
        _require_chair(conn, session_id, actor)
        closed = conn.execute(select(_sitting.c.closed_at).where(_sitting.c.session_id == session_id)).first()
        if closed is None or closed[0] is not None:
            raise InvalidAction("评审会议未在进行中", "The sitting is not open")
        if has_committee_key(conn, session_id):
            raise InvalidAction("本评审会已生成计票密钥", "This committee already has a ballot key")
        return _make_key(conn, session_id, actor, now, keypair)


def sitting_status(db: Database, session_id: int) -> dict[str, Any] | None:
    """The sitting row (opened/closed times and by whom, minutes hash), or None before it is opened."""
    with db.read() as conn:
        row = conn.execute(select(_sitting).where(_sitting.c.session_id == session_id)).mappings().first()
        return dict(row) if row else None


def close_sitting(db: Database, session_id: int, actor: Actor, *, now: datetime | None = None) -> str:
    """The chair signs the sitting off: no open ballot may remain; the minutes are frozen by their hash.

    Returns the minutes hash. Afterwards no attendance is recorded and no ballot opens. Storage left behind
    by deleted ballot versions is scrubbed after the commit (:func:`workflow.panel.ballots.scrub_storage`).
    """
    now = now or utcnow()
    with db.write() as conn:
        stmt = select(_sitting.c.id, _sitting.c.closed_at).where(_sitting.c.session_id == session_id)
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        row = conn.execute(stmt).first()
        _require_chair(conn, session_id, actor)
        if row is None:
            raise InvalidAction("评审会议尚未开始", "The sitting has not been opened")
        if row.closed_at is not None:
            raise InvalidAction("评审会议已结束", "The sitting is already closed")
        open_boxes = conn.execute(select(_case.c.reference).join(_box, _box.c.case_id == _case.c.id).where(
            _case.c.session_id == session_id, _box.c.closed_at.is_(None))).scalars().all()
        if open_boxes:
            raise InvalidAction(f"以下案件的投票尚未结束：{'、'.join(open_boxes)}", "Some ballots are still open")
        digest = minutes_hash(_minutes(conn, session_id))
        conn.execute(update(_sitting).where(_sitting.c.id == row.id).values(
            closed_at=now, closed_by=actor.user_id, minutes_hash=digest))
        append_log(conn, session_id, "sitting_closed", actor, role="panel_chair",
                   payload={"minutes_hash": digest}, now=now)
    try:
        scrub_storage(db)
    except SQLAlchemyError as err:  # e.g. the role may not VACUUM; sign-off stands, an operator must scrub
        log.warning("ballot storage scrub failed after sign-off of session %s: %s", session_id, err)
    return digest


_BODY_EXCLUDES = ("closed_at", "closed_by", "minutes_hash")


def minutes_hash(minutes: dict[str, Any]) -> str:
    """SHA-256 of the minutes' body (everything except the sign-off fields themselves)."""
    body = {**minutes, "sitting": {k: v for k, v in (minutes.get("sitting") or {}).items()
                                   if k not in _BODY_EXCLUDES}}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _names(conn: Connection, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(conn.execute(select(_user.c.id, _user.c.display_name).where(_user.c.id.in_(ids))).all())


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat(timespec="seconds") if value is not None else None


def _tally_recorded(conn: Connection) -> ColumnElement[bool]:
    """SQL: the event recorded a ballot tally (``payload.tally.box_id``), i.e. it is a close."""
    if conn.dialect.name == "sqlite":
        return func.json_extract(_event.c.payload, "$.tally.box_id").is_not(None)
    return (_event.c.payload.op("->")(literal_column("'tally'")).op("->>")(literal_column("'box_id'"))
            .is_not(None))


def _minutes(conn: Connection, session_id: int) -> dict[str, Any]:
    session = conn.execute(select(_session).where(_session.c.id == session_id)).mappings().first()
    if session is None:
        raise InvalidAction("评审会不存在", "No such review session")
    sitting = conn.execute(select(_sitting).where(_sitting.c.session_id == session_id)).mappings().first()
    seats = conn.execute(select(_seat.c.user_id, _seat.c.seat_role).where(_seat.c.session_id == session_id)).all()
    present_ids = set(conn.execute(select(_att.c.user_id).where(_att.c.session_id == session_id)).scalars())
    seat_ids = {uid for uid, _ in seats}
    people = _names(conn, seat_ids | present_ids | ({sitting["opened_by"], sitting["closed_by"]} - {None}
                                                    if sitting else set()))
    seated = sorted(({"name": people[uid], "role": "主任委员" if role == "chair" else "委员"} for uid, role in seats),
                    key=lambda s: (s["role"] != "主任委员", s["name"]))
    present = sorted(people[uid] for uid in present_ids & seat_ids)
    absent = sorted(people[uid] for uid in seat_ids - present_ids)
    boxes = conn.execute(
        select(_box, _case.c.reference, _case.c.target_title, _case.c.level, _case.c.specialty,
               _user.c.display_name.label("applicant"))
        .join(_case, _case.c.id == _box.c.case_id).join(_user, _user.c.id == _case.c.applicant_id)
        .where(_case.c.session_id == session_id, _box.c.closed_at.is_not(None))
        .order_by(_box.c.closed_at, _box.c.id)).mappings().all()
    rules = {}
    # The closes are the events that recorded a tally (the close action writes it), whatever the pipeline
    # calls the trigger.
    for payload in conn.execute(select(_event.c.payload).join(_case, _case.c.id == _event.c.case_id).where(
            _case.c.session_id == session_id, _tally_recorded(conn))).scalars():
        tally = (payload or {}).get("tally") or {}
        if "box_id" in tally:
            rules[tally["box_id"]] = (tally.get("quorum_fraction"), tally.get("pass_fraction"))
    # Who entered both key shares to count each box (the panel log's record; never the shares themselves).
    entered: dict[int | None, int | None] = {}
    for row in conn.execute(select(_log.c.payload, _log.c.actor_id).where(
            _log.c.session_id == session_id, _log.c.kind == "ballot_shares_entered")).all():
        entered[(row.payload or {}).get("box_id")] = row.actor_id
    entered_names = _names(conn, {uid for uid in entered.values() if uid is not None})
    cases = []
    for b in boxes:
        quorum, pass_ = rules.get(b["id"], (None, None))
        extra = {}
        if b["id"] in entered:
            # Only boxes counted from ciphertexts carry it, so minutes signed before keys existed hash as before.
            by = entered[b["id"]]
            extra["key_shares"] = {"shares": ["主任委员", "经办人"],
                                   "entered_by": entered_names.get(by) if by is not None else None}
        cases.append({**extra,
            "reference": b["reference"], "applicant": b["applicant"], "target_title": b["target_title"],
            "level": b["level"], "specialty": b["specialty"], "round": b["round"], "seated": b["seated"],
            "present": b["present"], "recused": b["present"] - b["eligible"], "eligible": b["eligible"],
            "yes": b["yes"], "no": b["no"], "abstain": b["abstain"], "passed": bool(b["passed"]),
            "result": "通过" if b["passed"] else "未通过", "quorum_fraction": quorum, "pass_fraction": pass_,
            "closed_at": _iso(b["closed_at"])})
    return {
        "session": {"code": session["code"], "name": session["name"], "series": session["series"],
                    "industry": session["industry"], "year": session["year"],
                    "sitting_on": session["sitting_on"].isoformat() if session["sitting_on"] else None},
        "sitting": ({"opened_at": _iso(sitting["opened_at"]), "opened_by": people.get(sitting["opened_by"]),
                     "closed_at": _iso(sitting["closed_at"]), "closed_by": people.get(sitting["closed_by"]),
                     "minutes_hash": sitting["minutes_hash"]} if sitting else None),
        "seated": seated, "present": present, "absent": absent,
        "counts": {"seated": len(seat_ids), "present": len(present), "absent": len(absent)},
        "cases": cases,
        "totals": {"cases": len(cases), "passed": sum(c["passed"] for c in cases),
                   "not_passed": sum(not c["passed"] for c in cases)},
    }


def _require_minutes_access(conn: Connection, session_id: int, actor: Actor) -> None:
    """Refuse unless ``actor`` is seated on the session's committee or administers the session."""
    from workflow.panel.committee import administering_role

    session = conn.execute(select(_session.c.authority_org_id).where(_session.c.id == session_id)).first()
    if session is None:
        raise InvalidAction("评审会不存在", "No such review session")
    seated = actor.user_id is not None and conn.execute(select(_seat.c.id).where(
        _seat.c.session_id == session_id, _seat.c.user_id == actor.user_id)).first() is not None
    if not seated and administering_role({"authority_org_id": session[0]}, actor) is None:
        raise PermissionDenied("只有评审会委员和组织者可以查阅会议纪要",
                               "Minutes are for the committee and organisers")


def minutes_data(db: Database, session_id: int, actor: Actor) -> dict[str, Any]:
    """The minutes of the session's sitting (counts and results only) for the committee or the organisers."""
    with db.read() as conn:
        _require_minutes_access(conn, session_id, actor)
        return _minutes(conn, session_id)


def verify_minutes(db: Database, session_id: int) -> bool:
    """True when the signed-off minutes still hash to what the chair signed (False if unsigned or changed)."""
    with db.read() as conn:
        minutes = _minutes(conn, session_id)
    stored = (minutes.get("sitting") or {}).get("minutes_hash")
    return bool(stored) and minutes_hash(minutes) == stored


_SESSION_BOXES = (f"SELECT b2.id FROM {_box.name} b2 JOIN {_case.name} c2 ON c2.id = b2.case_id "
                  "WHERE c2.session_id = :session_id AND b2.closed_at IS NOT NULL")
_RECOUNT = Statement(
    "SELECT b.id, b.case_id, b.seated, b.present, b.eligible, b.yes, b.no, b.abstain, b.passed, "
    "b.closed_at, COALESCE(v.total, 0), COALESCE(p.voted, 0) "
    f"FROM {_box.name} b "
    "LEFT JOIN (SELECT box_id, COUNT(*) AS total "
    f"FROM ballot WHERE box_id IN ({_SESSION_BOXES}) GROUP BY box_id) v ON v.box_id = b.id "
    f"LEFT JOIN (SELECT box_id, COUNT(*) AS voted FROM {BallotParticipation.__tablename__} "
    f"WHERE box_id IN ({_SESSION_BOXES}) GROUP BY box_id) p ON p.box_id = b.id "
    f"WHERE b.id IN ({_SESSION_BOXES}) ORDER BY b.id")
"""Every closed box of the session: what the close recorded next to how many ballots and participants are now
stored. It reads the ballot table, so it runs on the DBAPI cursor, outside SQLAlchemy's statement log."""
_CIPHERTEXTS = Statement(f"SELECT box_id, c_yes, c_no, c_abstain FROM ballot WHERE box_id IN ({_SESSION_BOXES})")
"""Every ballot (ciphertexts only) of the session's closed boxes, for the homomorphic recount."""
_CLOSE_RULES_FROM = (f"FROM {_event.name} e JOIN {_case.name} c ON c.id = e.case_id "
                     "WHERE c.session_id = :session_id AND ")
_CLOSE_RULES = Statement(
    "SELECT json_extract(e.payload, '$.tally.box_id'), json_extract(e.payload, '$.tally.quorum_fraction'), "
    f"json_extract(e.payload, '$.tally.pass_fraction') {_CLOSE_RULES_FROM}"
    "json_extract(e.payload, '$.tally.box_id') IS NOT NULL",
    postgresql=("SELECT e.payload->'tally'->>'box_id', e.payload->'tally'->>'quorum_fraction', "
                f"e.payload->'tally'->>'pass_fraction' {_CLOSE_RULES_FROM}"
                "e.payload->'tally'->>'box_id' IS NOT NULL"))
"""The quorum and pass fractions each close applied (from its audit event — the one that recorded a tally,
whatever the pipeline calls the trigger), extracted by the database."""


@dataclass(frozen=True)
class RecountedBox:
    """One closed ballot box whose stored ballots no longer bear out what its close recorded."""

    box_id: int
    case_id: int
    recorded: tuple[int, int, int]
    counted: tuple[int, int, int] | None
    ballots: int
    participants: int
    problem: str


@dataclass(frozen=True)
class Recount:
    """The result of recounting every closed ballot of a sitting from the stored ballots."""

    boxes: int
    ballots: int
    discrepancies: list[RecountedBox] = field(default_factory=list)
    decrypted: bool = False
    """True when both key shares were given and every box's counts were recomputed from its ciphertexts."""
    legacy: int = 0
    """Boxes closed before their session had a committee key (their clear ballots were removed by migration
    0016): only their recorded counts and result are checked."""

    @property
    def ok(self) -> bool:
        """True when every box's ballots, participants and result match what was recorded at its close."""
        return not self.discrepancies


def _recount_problem(row: tuple, rules: tuple[str, str] | None, counted: tuple[int, int, int] | None,
                     legacy: bool) -> str | None:
    (_, _, seated, present, eligible, yes, no, abstain, passed, _, total, voted) = row
    if not legacy:
        if counted is not None and counted != (yes, no, abstain):
            return "选票与记录的票数不符"
        if total != yes + no + abstain:
            return "选票与记录的票数不符"
        if counted is not None and total != sum(counted):
            return "票箱中有无效选票"
        if total != voted:
            return "选票张数与投票人数不符"
    if rules is None:
        return "未找到该票箱的计票记录"
    quorum, pass_ = Fraction(rules[0]), Fraction(rules[1])
    quorate = seated > 0 and present >= quorum * seated
    if bool(passed) != (quorate and eligible > 0 and yes >= pass_ * eligible):
        return "表决结果与票数不符"
    return None


def _homomorphic_counts(conn: Connection, session_id: int, shares: BallotShares, box_ids: set[int]
                        ) -> dict[int, tuple[int, int, int] | None]:
    """Each box's counts from the sums of its ciphertexts, decrypted with the key rebuilt from both shares
    (None for a box whose sums do not decrypt to counts: forged ciphertexts). Only sums are decrypted."""
    private_key = rebuild_key(conn, session_id, shares)
    try:
        by_box: dict[int, list[tuple[str, str, str]]] = {b: [] for b in box_ids}
        for box_id, c_yes, c_no, c_abstain in _CIPHERTEXTS.run(conn, {"session_id": session_id}).fetchall():
            if box_id in by_box:
                by_box[box_id].append((c_yes, c_no, c_abstain))
        out: dict[int, tuple[int, int, int] | None] = {}
        for box_id, rows in by_box.items():
            try:
                out[box_id] = decrypt_counts(private_key, sum_box(private_key.public_key, rows))
            except (InvalidAction, ValueError, OverflowError):
                out[box_id] = None
        return out
    finally:
        del private_key


def recount_ballots(db: Database, session_id: int, actor: Actor, *, shares: BallotShares | None = None) -> Recount:
    """Recount every closed ballot of the session's sitting from the stored ballots, for the committee or the
    organisers: each box must hold exactly as many ballots as its close recorded votes and as it has
    participants, and the recorded result must follow from the counts under the fractions the close applied.

    With both key shares (``shares``) the counts themselves are recomputed from the ciphertexts — their
    homomorphic sums, decrypted with the key rebuilt in memory for this call — and must equal the official
    tally; wrong shares are refused (InvalidAction) before anything is counted. Counts only, like the minutes:
    no single ballot is decrypted. Without shares: one set-based pass, however many cases the sitting decided
    (5,000 cases take well under a second; see ``titlereview bench``).
    """
    with db.read() as conn:
        _require_minutes_access(conn, session_id, actor)
        params = {"session_id": session_id}
        rules: dict[int, tuple[str, str]] = {}
        for box_id, quorum, pass_ in _CLOSE_RULES.run(conn, params).fetchall():
            if box_id is not None and quorum is not None and pass_ is not None:
                rules[int(box_id)] = (str(quorum), str(pass_))
        rows = _RECOUNT.run(conn, params).fetchall()
        key_made = conn.execute(select(_committee_key.c.created_at).where(
            _committee_key.c.session_id == session_id)).scalar()
        closed = conn.execute(select(_box.c.id, _box.c.closed_at).join(_case, _case.c.id == _box.c.case_id).where(
            _case.c.session_id == session_id, _box.c.closed_at.is_not(None))).all()
        empty = {r[0] for r in rows if r[10] == 0}
        # Only a box with no ballot left can be one migration 0016 emptied; one holding ciphertexts is checked.
        legacy = {b for b, at in closed if b in empty and (key_made is None or as_utc(at) < as_utc(key_made))}
        counted: dict[int, tuple[int, int, int] | None] = {}
        if shares is not None:
            counted = _homomorphic_counts(conn, session_id, shares, {r[0] for r in rows} - legacy)
    found = []
    for row in rows:
        box_counts = counted.get(row[0])
        problem = _recount_problem(row, rules.get(row[0]), box_counts, row[0] in legacy)
        if problem is None and shares is not None and row[0] not in legacy and box_counts is None:
            problem = "票箱中有无效选票"
        if problem is not None:
            found.append(RecountedBox(box_id=row[0], case_id=row[1], recorded=(row[5], row[6], row[7]),
                                      counted=box_counts, ballots=row[10], participants=row[11], problem=problem))
    return Recount(boxes=len(rows), ballots=sum(r[10] for r in rows), discrepancies=found,
                   decrypted=shares is not None, legacy=len(legacy))


MINUTES_TEMPLATE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ m.session.name }} 评审会议纪要</title>
<style>
  body { font-family: "Noto Serif CJK SC", "Source Han Serif SC", "SimSun", serif; margin: 2rem auto;
         max-width: 60rem; color: #111; line-height: 1.6; }
  h1 { text-align: center; font-size: 1.6rem; margin-bottom: .2rem; }
  .sub { text-align: center; color: #444; margin-top: 0; }
  table { width: 100%; border-collapse: collapse; margin: 1rem 0; font-size: .95rem; }
  th, td { border: 1px solid #555; padding: .3rem .5rem; text-align: center; }
  th { background: #eee; }
  td.left { text-align: left; }
  .passed { font-weight: bold; }
  .sign { margin-top: 3rem; display: flex; justify-content: space-between; }
  .hash { font-family: monospace; font-size: .75rem; color: #555; word-break: break-all; }
  .note { font-size: .85rem; color: #333; }
  /* On a narrow screen the wide tally scrolls inside its own region, never the whole page (WCAG 1.4.10). */
  .scroll { overflow-x: auto; }
  .scroll:focus-visible { outline: 3px solid #1d2733; outline-offset: 2px; }
  @media print {
    .scroll { overflow: visible; }
    @page { size: A4; margin: 18mm 15mm; }
    body { margin: 0; max-width: none; font-size: 11pt; }
    th { background: none; }
    tr { page-break-inside: avoid; }
    .noprint { display: none; }
  }
</style>
</head>
<body>
<h1>{{ m.session.name }}</h1>
<p class="sub">评审委员会会议纪要{% if m.session.sitting_on %} · {{ m.session.sitting_on }}{% endif %}</p>

<h2>一、会议情况</h2>
<p>
{% if m.sitting %}会议于 {{ m.sitting.opened_at }} 由主任委员 {{ m.sitting.opened_by }} 宣布开始
{%- if m.sitting.closed_at %}，{{ m.sitting.closed_at }} 由 {{ m.sitting.closed_by }} 签署结束{% endif %}。
{% else %}会议尚未开始。{% endif %}
评审委员会组成 {{ m.counts.seated }} 人，出席 {{ m.counts.present }} 人，缺席 {{ m.counts.absent }} 人。
</p>
<table>
  <tr><th>组成人员</th><td class="left">
    {%- for s in m.seated %}{{ s.name }}（{{ s.role }}）{% if not loop.last %}、{% endif %}{% endfor -%}
  </td></tr>
  <tr><th>出席人员</th><td class="left">{{ m.present | join("、") or "无" }}</td></tr>
  <tr><th>缺席人员</th><td class="left">{{ m.absent | join("、") or "无" }}</td></tr>
</table>

<h2>二、表决结果</h2>
<p class="note">以无记名投票方式表决；同意票数达到出席且无需回避委员人数的规定比例为通过。
纪要只记载票数，不记载任何委员的投票选择。</p>
<div class="scroll" role="region" tabindex="0" aria-label="表决结果">
<table>
  <tr><th>序号</th><th>受理编号</th><th>申报人</th><th>申报职称</th><th>专业</th><th>轮次</th>
      <th>出席</th><th>回避</th><th>有效表决人数</th><th>同意</th><th>不同意</th><th>弃权</th><th>通过比例</th><th>结果</th></tr>
  {% for c in m.cases %}
  <tr>
    <td>{{ loop.index }}</td><td>{{ c.reference }}</td><td>{{ c.applicant }}</td>
    <td>{{ c.target_title }}（{{ c.level }}）</td><td>{{ c.specialty }}</td><td>{{ c.round }}</td>
    <td>{{ c.present }}</td><td>{{ c.recused }}</td><td>{{ c.eligible }}</td>
    <td>{{ c.yes }}</td><td>{{ c.no }}</td><td>{{ c.abstain }}</td><td>{{ c.pass_fraction or "" }}</td>
    <td class="{{ 'passed' if c.passed else '' }}">{{ c.result }}</td>
  </tr>
  {% else %}
  <tr><td colspan="14">本次会议无表决事项</td></tr>
  {% endfor %}
</table>
</div>
<p>共表决 {{ m.totals.cases }} 件，通过 {{ m.totals.passed }} 件，未通过 {{ m.totals.not_passed }} 件。</p>
{% set keyed = m.cases | selectattr("key_shares") | list %}
{% if keyed %}
<p class="note">计票：
{%- for c in keyed %}{{ c.reference }} 由{{ c.key_shares.shares | join("和") }}分别输入计票密钥份额后计票
（{{ c.key_shares.entered_by }} 提交）{% if not loop.last %}；{% endif %}{% endfor -%}
。选票以密文保存，只解密每个票箱的合计票数。</p>
{% endif %}

<div class="sign">
  <div>主任委员（签字）：{{ m.sitting.closed_by if m.sitting and m.sitting.closed_by else "________" }}</div>
  <div>日期：{{ (m.sitting.closed_at or "")[:10] if m.sitting else "________" }}</div>
</div>
{% if m.sitting and m.sitting.minutes_hash %}
<p class="hash">纪要校验码（SHA-256）：{{ m.sitting.minutes_hash }}</p>
{% endif %}
</body>
</html>
"""
"""The minutes page (Jinja2, autoescaped); a print stylesheet lays it out on A4."""

_env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
_template = _env.from_string(MINUTES_TEMPLATE)


def render_minutes_html(minutes: dict[str, Any]) -> str:
    """The minutes as a standalone HTML page (no Flask needed; the web layer can serve it as is)."""
    return _template.render(m=minutes)
