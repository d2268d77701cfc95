"""The committee's secret ballot: attendance, quorum, voting and the tally.

Secrecy rests on encryption, with structure as a second line (threat model: ``docs/ballot-secrecy.md``).

* **No choice is ever stored in clear.** Each session's committee has a Paillier keypair, made when the
  chair opens the sitting (:func:`workflow.panel.sitting.open_sitting`, :mod:`workflow.panel.ballot_keys`). Only the
  public
  key is stored. Casting a vote encrypts it before the transaction starts: one ciphertext per choice
  counter — Enc(1) for the choice taken, Enc(0) for the other two, each with phe's fresh random
  obfuscation, so two equal choices never give equal rows. The ``ballot`` row holds those three ciphertexts
  (random id, box, no member, no time); the database, its WAL, its archive, its backups and its replicas see
  only ciphertexts, and the choice exists in clear only in the voting request's memory.
* **Only sums are decrypted.** The private key is never stored: it exists as two shares, A with the chair and
  B with the session's officer (XOR split; either alone is random). To close a box both are entered; the key
  is rebuilt in memory for that request only (:func:`count_box`), the homomorphic sums of the box's ballots
  are decrypted into the three counts, and the key is dropped. No function decrypts a single ballot. The
  shares travel beside the engine's payload (``engine.fire(..., secrets=...)``, ``ctx.secrets``), never in
  it, so they reach no audit event, log line or row; the panel log records that both were entered, by whom,
  under which key fingerprint (:func:`record_shares_entered`). Wrong or missing shares refuse the close and
  change nothing.
* **Who voted stays in clear.** The participation row (member, box) is written in the same transaction as
  the ballot, so double votes, proxies, absent and recused members are refused as before.
* **Recounts work from the ciphertexts** (:func:`workflow.panel.sitting.recount_ballots` with both shares): the
  sums are recomputed and decrypted again and must equal the official tally stored on the box.

What remains of the structural design, kept because both share holders together with a database copy could
decrypt single ballots (the one party the encryption does not stop):

* **Order.** Every vote *rewrites the whole box*: it reads the box's ciphertexts, adds its own, shuffles them
  with the OS CSPRNG and re-inserts all of them under fresh random ids, so storage order and ids say nothing
  about voting order (``ballot`` is ``WITHOUT ROWID`` on SQLite, keyed by the random id). Closing the box
  rewrites them once more, so on PostgreSQL the live ballots carry the close's transaction id (``xmin``).
  The WAL still shows which ciphertext each vote's transaction added — harmless without both shares.
* **Logs.** Every statement that touches ``ballot`` goes straight to the DBAPI cursor of the same connection,
  bypassing SQLAlchemy's engine log; nothing in this module logs. Participation writes may be logged.
* **Leftovers.** :func:`scrub_storage` (run when the chair signs off the sitting) rewrites the table on
  PostgreSQL (``VACUUM FULL``) and truncates SQLite's WAL; SQLite deletes ballots with ``secure_delete`` on.

The tally exists only when the chair closes the box through the engine, with both shares.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from phe import paillier
from sqlalchemy import Connection, and_, func, insert, select
from sqlalchemy.exc import IntegrityError

from workflow.access.roles import Actor
from workflow.db import _WRITE as WRITE_OPTION  # the option db.write() sets on its connections
from workflow.db import Database
from workflow.engine.registry import fact
from workflow.engine.storage import DriverStore, Statement, driver_store
from workflow.errors import CaseNotFound, InvalidAction, PermissionDenied, WorkflowError
from workflow.models import (
    Attendance,
    BallotBox,
    BallotParticipation,
    Case,
    CommitteeSeat,
    Opinion,
    ReviewAssignment,
    Sitting,
    utcnow,
)
from workflow.models.panels import CommitteeKey
from workflow.panel.audit import append_log
from workflow.panel.ballot_keys import (
    BallotShares,
    committee_public_key,
    decrypt_counts,
    encrypt_choice,
    key_from_shares,
    rebuild_key,
    sum_box,
)
from workflow.panel.conflicts import RECUSING, detect, recused_ids
from workflow.pipeline.catalog import screen_state

if TYPE_CHECKING:
    from workflow.engine.context import TransitionContext

CHOICES = {"yes": "同意", "no": "不同意", "abstain": "弃权"}
"""Ballot choices and their labels."""

_box = BallotBox.__table__
_part = BallotParticipation.__table__
_seat = CommitteeSeat.__table__
_att = Attendance.__table__
_case = Case.__table__
_opinion = Opinion.__table__
_assignment = ReviewAssignment.__table__
_sitting = Sitting.__table__
_committee_key = CommitteeKey.__table__

_RECUSING_SQL = ", ".join(repr(s) for s in RECUSING)
_SEATED_SQL = f"(SELECT COUNT(*) FROM {_seat.name} WHERE session_id = :session_id)"
_PRESENT_WHERE = (f"a.session_id = :session_id AND EXISTS (SELECT 1 FROM {_seat.name} s "
                  "WHERE s.session_id = a.session_id AND s.user_id = a.user_id)")
_PRESENT_SQL = f"(SELECT COUNT(*) FROM {_att.name} a WHERE {_PRESENT_WHERE})"
"""Members recorded present who hold a seat (attendance and seats are unique per session and user)."""
_RECUSED_SQL = (f"(SELECT COUNT(*) FROM {_att.name} a WHERE {_PRESENT_WHERE} AND EXISTS (SELECT 1 FROM conflict c "
                f"WHERE c.case_id = :case_id AND c.user_id = a.user_id AND c.status IN ({_RECUSING_SQL})))")
"""Present, seated members with a recusing conflict on the case."""
_QUORUM = (f"SELECT st.closed_at, {_SEATED_SQL}, {_PRESENT_SQL} FROM {_sitting.name} st "
           "WHERE st.session_id = :session_id")
_QUORUM_SQL = Statement(_QUORUM)
_QUORUM_LOCKED_SQL = Statement(_QUORUM, postgresql=_QUORUM + " FOR SHARE OF st")
"""The sitting's state and the quorum's counts in one round trip; the locked form for write transactions."""
_TALLY_SQL = Statement(
    f"SELECT b.id, b.closed_at, {_SEATED_SQL}, {_PRESENT_SQL}, {_RECUSED_SQL}, k.n, k.fingerprint "
    f"FROM {_box.name} b LEFT OUTER JOIN {_committee_key.name} k ON k.session_id = :session_id "
    "WHERE b.case_id = :case_id AND b.round = :round")
"""The box, the quorum's counts and the committee's public key in one round trip (the choices are counted
from the ciphertexts; the key is what the shares must rebuild, read here rather than by a query of its own)."""
_OPEN_BOX_SQL = Statement(f"INSERT INTO {_box.name} (case_id, round, opened_at, seated, present, eligible, yes, no, "
                          "abstain) VALUES (:case_id, :round, :now, 0, 0, 0, 0, 0, 0) RETURNING id")
_CLOSE_BOX_SQL = Statement(
    f"UPDATE {_box.name} SET closed_at = :now, seated = :seated, present = :present, eligible = :eligible, "
    f"yes = :yes, no = :no, abstain = :abstain, passed = :passed WHERE id = :box_id "
    f"AND (SELECT COUNT(*) FROM {_part.name} WHERE box_id = :box_id) = :stored")
"""Close the box only if exactly ``stored`` members took part (the integrity check rides on the update)."""

__all__ = ["CHOICES", "BallotShares", "SittingCount", "Tally", "cast_vote", "cast_votes", "close_box",
           "compute_tally", "count_box", "current_box", "open_box", "quorum_refusal", "quorum_verdict",
           "record_attendance", "record_shares_entered", "recused_ids", "scrub_storage", "sitting_count",
           "sitting_refusal", "submit_opinion", "tally_for"]

_SHARES_MISSING = ("计票须由主任委员和经办人分别输入各自的计票密钥份额",
                   "Counting needs the key shares of both the chair and the officer")

_shuffler = secrets.SystemRandom()
"""The OS CSPRNG: the order ballots are stored in must not be predictable from anything (no seed)."""


@dataclass(frozen=True)
class Tally:
    """The counts behind a decision: quorum is on the seated committee, the pass rule on eligible voters."""

    box_id: int
    seated: int
    present: int
    recused: int
    yes: int
    no: int
    abstain: int
    quorum_fraction: Fraction
    pass_fraction: Fraction
    counted: bool = True
    """False before the close: without both key shares the counts are unknown (and shown as 0)."""
    key_fingerprint: str | None = None
    """The fingerprint of the committee key the counts were decrypted with (None when not counted): what the
    panel log records (:func:`record_shares_entered`). Not a count, so not in :meth:`as_dict`."""

    @property
    def eligible(self) -> int:
        """Present members who are not recused: the denominator of the pass rule."""
        return self.present - self.recused

    @property
    def quorate(self) -> bool:
        """At least the quorum fraction of the seated committee is present."""
        return self.seated > 0 and self.present >= self.quorum_fraction * self.seated

    @property
    def passed(self) -> bool:
        """Yes votes reach the pass fraction of eligible members (abstentions count as not yes)."""
        return self.quorate and self.eligible > 0 and self.yes >= self.pass_fraction * self.eligible

    def as_dict(self) -> dict[str, Any]:
        """Counts only (for the audit event and minutes)."""
        d = asdict(self)
        del d["counted"], d["key_fingerprint"]
        d.update(quorum_fraction=str(self.quorum_fraction), pass_fraction=str(self.pass_fraction),
                 eligible=self.eligible, quorate=self.quorate, passed=self.passed)
        return d


def current_box(conn: Connection, case_id: int, round_: int) -> dict | None:
    """The ballot box of this case and round, if one was opened."""
    row = conn.execute(select(_box).where(_box.c.case_id == case_id, _box.c.round == round_)).mappings().first()
    return dict(row) if row else None


def open_box(conn: Connection, case_id: int, round_: int, now) -> int:
    """Create the open ballot box for (case, round)."""
    now = driver_store(conn.dialect.name).value(now)
    return _OPEN_BOX_SQL.run(conn, {"case_id": case_id, "round": round_, "now": now}).fetchone()[0]


def _present_ids(conn: Connection, session_id: int) -> set[int]:
    rows = conn.execute(
        select(_att.c.user_id).join(_seat, and_(_seat.c.session_id == _att.c.session_id,
                                                _seat.c.user_id == _att.c.user_id))
        .where(_att.c.session_id == session_id)
    ).scalars()
    return set(rows)


def sitting_refusal(conn: Connection, session_id: int | None, *, lock: bool = False) -> str | None:
    """None when the session's sitting is open, else why not (Chinese).

    ``lock`` takes a share lock on the sitting row (PostgreSQL) so the chair cannot sign the sitting off
    while this transaction opens a ballot (sign-off takes the row FOR UPDATE). Only write transactions
    lock: the same check runs in read-only paths (the actions offered on a page), which must not.
    """
    if session_id is None:
        return "本案尚未分配评审会"
    stmt = select(_sitting.c.closed_at).where(_sitting.c.session_id == session_id)
    if lock and conn.dialect.name == "postgresql" and conn.get_execution_options().get(WRITE_OPTION):
        stmt = stmt.with_for_update(read=True)
    row = conn.execute(stmt).first()
    if row is None:
        return "评审会议尚未由主任委员宣布开始"
    if row[0] is not None:
        return "评审会议已结束"
    return None


@dataclass(frozen=True)
class SittingCount:
    """The sitting of a case's session as the quorum rule reads it (counts only)."""

    session_id: int | None
    opened: bool
    """A sitting row exists: the chair has declared the sitting open (it may have closed since)."""
    closed: bool
    seated: int
    present: int


def sitting_count(conn: Connection, session_id: int | None) -> SittingCount:
    """The sitting's seats and recorded presence. Takes the same share lock on the sitting row as
    :func:`sitting_refusal` in write transactions."""
    if session_id is None:
        return SittingCount(None, False, False, 0, 0)
    lock = conn.dialect.name == "postgresql" and conn.get_execution_options().get(WRITE_OPTION)
    row = (_QUORUM_LOCKED_SQL if lock else _QUORUM_SQL).run(conn, {"session_id": session_id}).fetchone()
    if row is None:
        return SittingCount(session_id, False, False, 0, 0)
    closed_at, seated, present = row
    return SittingCount(session_id, True, closed_at is not None, int(seated), int(present))


@fact("sitting_count", per_case=True)
def _sitting_count_fact(ctx: TransitionContext) -> SittingCount:
    """The sitting of the case's session: open or not, seats and presence."""
    return sitting_count(ctx.conn, ctx.case["session_id"])


def quorum_verdict(seen: SittingCount, fraction: Fraction) -> str | None:
    """None when the sitting is open and quorate, else the reason in Chinese."""
    if seen.session_id is None:
        return "本案尚未分配评审会"
    if not seen.opened:
        return "评审会议尚未由主任委员宣布开始"
    if seen.closed:
        return "评审会议已结束"
    if seen.seated == 0 or seen.present < fraction * seen.seated:
        return f"出席 {seen.present} 人，未达到法定人数（评委会 {seen.seated} 人的 {fraction}）"
    return None


def quorum_refusal(conn: Connection, session_id: int | None, fraction: Fraction) -> str | None:
    """None when the session's sitting is open and quorate, else the reason in Chinese.

    Takes the same share lock on the sitting row as :func:`sitting_refusal` in write transactions.
    """
    return quorum_verdict(sitting_count(conn, session_id), fraction)


def _ciphertexts(conn: Connection, box_id: int) -> list[tuple[str, str, str]]:
    """The box's ballots (ciphertexts only), read on the DBAPI cursor like every ballot statement."""
    p = "%s" if conn.dialect.name == "postgresql" else "?"
    cur = DriverStore.cursor(conn)
    try:
        cur.execute(f"SELECT c_yes, c_no, c_abstain FROM ballot WHERE box_id = {p}", (box_id,))
        return [tuple(r) for r in cur.fetchall()]
    finally:
        cur.close()


def count_box(conn: Connection, session_id: int | None, box_id: int, shares: BallotShares | None, *,
              public_key: paillier.PaillierPublicKey | None = None) -> tuple[int, int, int]:
    """(yes, no, abstain) of a box: the homomorphic sums of its ballots, decrypted with the key rebuilt from
    both shares. Only the sums are decrypted; the key lives in this call's frame and is dropped with it.

    ``public_key``: the session's public key when the caller has already read it (else it is read here)."""
    private_key = (key_from_shares(public_key, session_id, shares) if public_key is not None
                   else rebuild_key(conn, session_id, shares))
    try:
        return decrypt_counts(private_key, sum_box(private_key.public_key, _ciphertexts(conn, box_id)))
    finally:
        del private_key


def compute_tally(conn: Connection, case: dict, round_: int, quorum: Fraction, pass_: Fraction,
                  shares: BallotShares | None = None) -> Tally | None:
    """The tally of the open box of ``case`` in ``round_``; None when no open box exists.

    With both key shares the choices are counted (:func:`count_box`); without them only the quorum's counts
    are known (``counted`` False), which is all the actions offered on a page need.
    """
    row = _TALLY_SQL.run(conn, {"case_id": case["id"], "round": round_,
                                "session_id": case["session_id"]}).fetchone()
    if row is None or row[1] is not None:
        return None
    box_id, _, seated, present, recused, n, key_fingerprint = row
    counts, counted = (0, 0, 0), False
    if shares is not None:
        public_key = paillier.PaillierPublicKey(int(n, 16)) if n is not None else None
        counts, counted = count_box(conn, case["session_id"], box_id, shares, public_key=public_key), True
    return Tally(box_id=box_id, seated=seated, present=present, recused=recused, yes=counts[0], no=counts[1],
                 abstain=counts[2], quorum_fraction=quorum, pass_fraction=pass_, counted=counted,
                 key_fingerprint=key_fingerprint if counted else None)


def tally_for(ctx: TransitionContext) -> Tally | None:
    """The tally for the case being fired, computed once per firing (the ``tally`` fact guards declare).

    The key shares come beside the engine's payload (``ctx.secrets["ballot_shares"]``), never in it. A firing
    given secrets without valid shares is refused (InvalidAction); a read-only evaluation (no secrets at all)
    gets the uncounted tally.
    """
    return ctx.fact("tally")


@fact("tally")
def _tally_fact(ctx: TransitionContext) -> Tally | None:
    """The case's tally for this firing (counted only when the firing carries both key shares)."""
    shares = None
    if ctx.secrets is not None:
        shares = ctx.secrets.get("ballot_shares") or BallotShares("", "")
    return compute_tally(ctx.conn, ctx.case, ctx.case_data.get("round", 1), ctx.fraction("quorum_fraction"),
                         ctx.fraction("pass_fraction"), shares)


def _ballot_sql(conn: Connection) -> dict[str, str]:
    p = "%s" if conn.dialect.name == "postgresql" else "?"
    return {
        # One round trip reads and removes the box's ballots (SQLite ≥ 3.35 and PostgreSQL both return them).
        "take": f"DELETE FROM ballot WHERE box_id = {p} RETURNING c_yes, c_no, c_abstain",
        "insert": f"INSERT INTO ballot (id, box_id, c_yes, c_no, c_abstain) VALUES ({p}, {p}, {p}, {p}, {p})",
    }




def _rewrite_box(conn: Connection, box_id: int, extra: tuple[str, str, str] | None = None) -> int:
    """Re-store every ballot of the box (plus ``extra``) in a fresh random order under fresh random ids.

    This is what makes storage order and transaction ids carry nothing about who voted what (module doc).
    Returns the number of ballots now in the box.
    """
    sql = _ballot_sql(conn)
    cur = DriverStore.cursor(conn)
    try:
        if conn.dialect.name == "sqlite":
            # Zero the bytes of deleted cells instead of leaving them in the page's free space.
            cur.execute("PRAGMA secure_delete = ON")
        cur.execute(sql["take"], (box_id,))
        stored = [tuple(r) for r in cur.fetchall()]
        if extra is not None:
            stored.append(extra)
        _shuffler.shuffle(stored)
        if stored:
            cur.executemany(sql["insert"], [(secrets.token_hex(16), box_id, *c) for c in stored])
        return len(stored)
    finally:
        cur.close()


def _participants(conn: Connection, box_id: int) -> int:
    return conn.execute(select(func.count()).select_from(_part).where(_part.c.box_id == box_id)).scalar_one()


def close_box(conn: Connection, tally: Tally, now) -> None:
    """Close the box with its tally; after this no vote is accepted.

    The ballots are re-stored once more (so they carry the close's transaction id on PostgreSQL) and must
    number exactly the participation rows — one ballot per member who voted, none lost, none added — and
    the decrypted sums (``tally``, counted with both key shares) must add up to that number.
    """
    if not tally.counted:
        raise InvalidAction(*_SHARES_MISSING)
    stored = _rewrite_box(conn, tally.box_id)
    closed = 0
    if stored == tally.yes + tally.no + tally.abstain:
        closed = _CLOSE_BOX_SQL.run(conn, {
            "now": driver_store(conn.dialect.name).value(now), "seated": tally.seated, "present": tally.present,
            "eligible": tally.eligible, "yes": tally.yes, "no": tally.no, "abstain": tally.abstain,
            "passed": tally.passed, "box_id": tally.box_id, "stored": stored}).rowcount
    if closed != 1:
        voted = _participants(conn, tally.box_id)
        raise InvalidAction(f"票箱校验失败：选票 {stored} 张，投票人 {voted} 人，不能计票",
                            "Ballot box integrity check failed")


def record_shares_entered(conn: Connection, case: dict, tally: Tally, actor: Actor, now) -> None:
    """Write to the panel log (the sitting's minutes trail) that both key shares were entered to count the box,
    and by whom — which key (its fingerprint), never a share."""
    fp = tally.key_fingerprint  # read with the box when it was counted
    if fp is None:
        fp = conn.execute(select(_committee_key.c.fingerprint).where(
            _committee_key.c.session_id == case["session_id"])).scalar()
    append_log(conn, case["session_id"], "ballot_shares_entered", actor, role="panel_chair", case_id=case["id"],
               payload={"box_id": tally.box_id, "key_fingerprint": fp, "shares": ["chair", "officer"],
                        "entered_by": actor.user_id}, now=now)


def _lock_case(db: Database, conn: Connection, case_id: int) -> dict:
    stmt = select(_case.c.id, _case.c.state, _case.c.session_id, _case.c.data, _case.c.pipeline_id,
                  _case.c.pipeline_version).where(_case.c.id == case_id)
    if db.is_postgres:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().first()
    if row is None:
        raise CaseNotFound("案件不存在", "No such case")
    return dict(row)


def _step(db: Database, case: dict) -> str | None:
    """The committee's step on the case in its current state, as its pipeline defines it (never by name)."""
    return screen_state(db, case["pipeline_id"], case["pipeline_version"], case["state"]).panel_step


def _seat_of(conn: Connection, session_id: int | None, user_id: int | None) -> str | None:
    if session_id is None or user_id is None:
        return None
    return conn.execute(select(_seat.c.seat_role).where(_seat.c.session_id == session_id,
                                                       _seat.c.user_id == user_id)).scalar()


def record_attendance(db: Database, session_id: int, user_id: int, actor: Actor | None = None) -> None:
    """Record a seated member as present at the open sitting (idempotent).

    ``actor`` is who records it: the member signing in themselves or the chair; the web layer must pass it
    (None is the trusted in-process caller, e.g. seeding). Every new presence is written to the panel log.
    """
    now = utcnow()
    with db.write() as conn:
        refusal = sitting_refusal(conn, session_id, lock=True)
        if refusal:
            raise InvalidAction(refusal, "The sitting is not open")
        if _seat_of(conn, session_id, user_id) is None:
            raise PermissionDenied("该专家不是本评审会委员", "Not a member of this session's committee")
        if actor is not None and actor.user_id != user_id and _seat_of(conn, session_id, actor.user_id) != "chair":
            raise PermissionDenied("只能由委员本人签到或由主任委员登记出席",
                                   "Only the member or the chair records presence")
        exists = conn.execute(select(_att.c.id).where(_att.c.session_id == session_id,
                                                      _att.c.user_id == user_id)).scalar()
        if exists is not None:
            return
        # Two sign-ins of one member can race past the check on PostgreSQL (the sitting lock is shared):
        # the unique constraint decides, and the loser has nothing left to do.
        try:
            with conn.begin_nested():
                conn.execute(insert(_att).values(session_id=session_id, user_id=user_id, recorded_at=now))
        except IntegrityError:
            return
        append_log(conn, session_id, "attendance", actor, payload={"member_id": user_id}, now=now)


def submit_opinion(db: Database, case_id: int, actor: Actor, recommendation: str, scores: dict | None = None,
                   text: str = "") -> None:
    """Store a pre-review opinion from an assigned, unconflicted member while the case is in pre-review.

    Only members of the case's review group for the current round (:func:`workflow.panel.prereview.assign_reviewers`)
    may give one, once each; conflict detection runs for the author first.
    """
    if recommendation not in CHOICES:
        raise InvalidAction(f"评议建议必须是：{'、'.join(CHOICES.values())}", "Invalid recommendation")
    detect(db, case_id, [actor.user_id] if actor.user_id is not None else [], actor=actor)
    with db.write() as conn:
        case = _lock_case(db, conn, case_id)
        if _step(db, case) != "opinions":
            raise InvalidAction("案件不在评议阶段，不能提交评议意见", "The case is not in pre-review")
        if _seat_of(conn, case["session_id"], actor.user_id) is None:
            raise PermissionDenied("您不是本评审会委员", "You are not on this committee")
        if actor.user_id in recused_ids(conn, case_id):
            raise PermissionDenied("您与本案存在利益冲突，须回避", "You are recused from this case")
        round_ = (case["data"] or {}).get("round", 1)
        assigned = conn.execute(select(_assignment.c.id).where(
            _assignment.c.case_id == case_id, _assignment.c.round == round_,
            _assignment.c.reviewer_id == actor.user_id)).first()
        if assigned is None:
            raise PermissionDenied("您不是本案本轮评议组成员，不能提交评议意见",
                                   "You are not in this case's review group for this round")
        try:
            with conn.begin_nested():
                conn.execute(insert(_opinion).values(case_id=case_id, reviewer_id=actor.user_id, round=round_,
                                                     scores=scores or {}, recommendation=recommendation,
                                                     text=text, submitted_at=utcnow()))
        except IntegrityError:
            raise InvalidAction("您已提交过本轮评议意见", "You already gave an opinion this round") from None


def _require_voter(actor: Actor) -> int:
    """Only a signed-in panel member or chair votes, and only for themselves (no parameter names anyone else);
    the voter's user id."""
    if actor.user_id is None or not {"panel_member", "panel_chair"} & actor.roles:
        raise PermissionDenied("只有评审委员本人可以投票（不得委托投票）", "Only seated members vote (no proxies)")
    return actor.user_id


def _seal(db: Database, choices: dict[int, str]) -> dict[int, tuple[int | None, tuple[str, str, str] | None]]:
    """Each case's (session id, encrypted ballot) under its committee's public key, made before any write
    transaction (encryption is the slow part and must not hold a case lock); None without a key."""
    with db.read() as conn:
        sessions = dict(conn.execute(select(_case.c.id, _case.c.session_id).where(
            _case.c.id.in_(list(choices)))).all())
        keys = {sid: committee_public_key(conn, sid) for sid in set(sessions.values())}
    sealed = {}
    for case_id, choice in choices.items():
        session_id = sessions.get(case_id)
        key = keys.get(session_id)
        sealed[case_id] = (session_id, encrypt_choice(key, choice) if key is not None else None)
    return sealed


def _vote_in(db: Database, conn: Connection, case_id: int, actor: Actor, session_id: int | None,
             ballot: tuple[str, str, str] | None) -> None:
    """One vote inside the caller's write transaction, under the case lock: every rule of the secret ballot
    (open box, the case at the vote, seated, present, not recused, a key, once) is checked here."""
    case = _lock_case(db, conn, case_id)
    box = current_box(conn, case_id, (case["data"] or {}).get("round", 1))
    if box is not None and box["closed_at"] is not None:
        raise InvalidAction("投票已结束，不再接受投票", "The ballot is closed")
    if _step(db, case) != "ballot":
        raise InvalidAction("案件不在表决阶段", "The case is not at the vote")
    if box is None:
        raise InvalidAction("投票尚未开启", "The ballot is not open")
    if _seat_of(conn, case["session_id"], actor.user_id) is None:
        raise PermissionDenied("您不是本评审会委员，不能投票（不得委托投票）",
                               "Only seated members vote (no proxies)")
    if actor.user_id not in _present_ids(conn, case["session_id"]):
        raise PermissionDenied("您未登记出席，不能投票", "You are not recorded present")
    if actor.user_id in recused_ids(conn, case_id):
        raise PermissionDenied("您与本案存在利益冲突，须回避", "You are recused from this case")
    if ballot is None or case["session_id"] != session_id:
        raise InvalidAction("本评审会尚未生成计票密钥，不能投票", "This committee has no ballot key yet")
    try:
        with conn.begin_nested():
            conn.execute(insert(_part).values(box_id=box["id"], member_id=actor.user_id))
    except IntegrityError:
        raise InvalidAction("您已投过票", "You have already voted") from None
    _rewrite_box(conn, box["id"], ballot)


def cast_vote(db: Database, case_id: int, actor: Actor, choice: str) -> None:
    """Cast one secret vote: present, seated, unrecused members only, once, while the box is open.

    The vote is the acting member's own (no proxy: there is no parameter naming anyone else). Runs under the
    case lock, so a vote racing the close is either counted before it or refused after it. The choice is
    encrypted under the committee's public key before the transaction starts (encryption is the slow part
    and must not hold the case lock); only the three ciphertexts are written.
    """
    if choice not in CHOICES:
        raise InvalidAction("无效的表决选项", "Invalid choice")
    voter = _require_voter(actor)
    # Outside the vote's transaction: a conflict found now must be recorded even though the vote is refused.
    detect(db, case_id, [voter], actor=actor)
    sealed = _seal(db, {case_id: choice})
    del choice
    with db.write() as conn:
        _vote_in(db, conn, case_id, actor, *sealed[case_id])


def cast_votes(db: Database, actor: Actor, choices: dict[int, str], references: dict[int, str] | None = None
               ) -> int:
    """Cast the acting member's votes on several cases in one transaction: all are counted, or none.

    Each vote obeys exactly the rules of :func:`cast_vote` (the same checks, run per case under its lock);
    a refusal of any one names its case (``references``: case id → reference, for the message) and rolls
    back the others, so a member whose sheet is refused loses nothing and can submit again. Cases are locked
    in ascending id order, the order every multi-case writer uses, so two sheets never deadlock. Returns the
    number of votes cast.
    """
    if not choices:
        raise InvalidAction("表决票上没有选择任何案件", "The ballot sheet marks no case")
    if any(choice not in CHOICES for choice in choices.values()):
        raise InvalidAction("无效的表决选项", "Invalid choice")
    voter = _require_voter(actor)
    for case_id in sorted(choices):
        detect(db, case_id, [voter], actor=actor)
    sealed = _seal(db, choices)
    del choices  # past encryption the clear choices are not needed; keep them out of any later frame
    with db.write() as conn:
        for case_id in sorted(sealed):
            try:
                _vote_in(db, conn, case_id, actor, *sealed[case_id])
            except WorkflowError as err:
                ref = (references or {}).get(case_id, str(case_id))
                raise type(err)(f"案件 {ref}：{err.message_zh}", f"Case {ref}: {err.message_en}") from None
    return len(sealed)


def scrub_storage(db: Database) -> None:
    """Remove what deleted ballot versions leave on disk (run after ballots close; safe to repeat).

    PostgreSQL: ``VACUUM FULL ballot`` writes the live rows to a new file and drops the old one, dead
    versions included. SQLite: deleted cells are already zeroed (``secure_delete``); the write-ahead log,
    which still holds old page images, is checkpointed and truncated.
    """
    with db.engine.connect() as conn:
        if db.is_postgres:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM FULL ballot")
        else:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.commit()
