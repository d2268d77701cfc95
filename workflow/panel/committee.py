"""Forming a session's committee: a random draw from the expert pool that anyone authorised can re-run.

The draw is ``random.Random(seed).sample(candidates, k)`` over the eligible experts' ids in ascending order.
The seed (64 random bits from :mod:`secrets` unless given), the parameters, the candidate list and the
result are written to ``committee_draw``, hash-chained per session (:mod:`workflow.panel.audit`), so
:func:`verify_draw` can recompute both the hash and the draw itself and refuse a record that was altered;
:func:`verify_session` also replays every draw and replacement against the seats actually stored.

Session parameters (``review_session.parameters``; defaults are this system's, tag [C]):

* ``committee_size`` (9): seats to fill, chair included;
* ``committee_odd`` (true): the size must be odd (no tied committee);
* ``committee_levels`` (["正高", "副高"]): title levels an expert must hold;
* ``committee_specialties`` ([] = any): an expert qualifies with at least one of these specialties;
* the session's ``series`` (when set) must match the expert's, and the expert must be in term on the
  sitting day (``sitting_on``, else today) — active, not retired, and linked to a login (only a person who
  can sign in can be seated, give opinions and vote).

The chair is never chosen by the RNG unless asked (``draw_chair=True``): it is named by the administrator
(``chair_expert_id``, seated outside the random part) or appointed later with :func:`appoint_chair`.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from workflow.access.roles import Actor
from workflow.db import Database
from workflow.errors import InvalidAction, PermissionDenied
from workflow.models import BallotBox, Case, CommitteeDraw, CommitteeSeat, Expert, ReviewSession, Sitting, utcnow
from workflow.panel.audit import append_draw, append_log, draw_hash, lock_session, verify_chain
from workflow.panel.conflicts import PANEL_STAGE, case_parties, detect, expert_profile, findings_for
from workflow.time.calendar import CHINA_TZ

_draw = CommitteeDraw.__table__
_seat = CommitteeSeat.__table__
_expert = Expert.__table__
_session = ReviewSession.__table__
_case = Case.__table__
_box = BallotBox.__table__
_sitting = Sitting.__table__

LEVELS = ("副高", "正高")
"""Title levels an expert of the pool may hold."""

DEFAULTS: dict[str, Any] = {"committee_size": 9, "committee_odd": True, "committee_levels": list(LEVELS),
                            "committee_specialties": []}
"""Defaults of the committee parameters (no published source: this system's defaults, [C])."""


@dataclass(frozen=True)
class CommitteeParameters:
    """The validated committee parameters of a session."""

    size: int
    odd: bool
    levels: tuple[str, ...]
    specialties: tuple[str, ...]
    series: str
    as_of: date

    def as_dict(self) -> dict[str, Any]:
        """JSON form, as recorded with the draw."""
        return {"size": self.size, "odd": self.odd, "levels": list(self.levels),
                "specialties": list(self.specialties), "series": self.series, "as_of": self.as_of.isoformat()}


@dataclass(frozen=True)
class DrawResult:
    """What a draw seated: the record id, seed, expert ids drawn and the chair's expert id (if any)."""

    draw_id: int
    seed: int
    candidates: list[int]
    drawn: list[int]
    chair_expert_id: int | None = None
    seated_user_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class DrawCheck:
    """The outcome of re-checking a draw (or a session's draws): ``ok`` and the problems found."""

    ok: bool
    problems: list[str]


def committee_parameters(session: dict[str, Any], today: date | None = None) -> CommitteeParameters:
    """Validate and complete a session's committee parameters; raises InvalidAction (Chinese) when invalid."""
    raw = {**DEFAULTS, **{k: v for k, v in (session.get("parameters") or {}).items() if k in DEFAULTS}}
    size, odd = raw["committee_size"], raw["committee_odd"]
    if isinstance(size, bool) or not isinstance(size, int) or size < 3:
        raise InvalidAction(f"评委会人数（committee_size）须为不小于3的整数，当前为 {size!r}",
                            "committee_size must be an integer >= 3")
    if not isinstance(odd, bool):
        raise InvalidAction("committee_odd 须为 true 或 false", "committee_odd must be a boolean")
    if odd and size % 2 == 0:
        raise InvalidAction(f"评委会人数须为单数，当前为 {size} 人", "The committee size must be odd")
    levels = raw["committee_levels"]
    if not isinstance(levels, list) or not levels or any(lv not in LEVELS for lv in levels):
        raise InvalidAction(f"committee_levels 须为 {'、'.join(LEVELS)} 中的一项或多项",
                            "committee_levels must list 副高 and/or 正高")
    specialties = raw["committee_specialties"]
    if not isinstance(specialties, list) or not all(isinstance(s, str) and s.strip() for s in specialties):
        raise InvalidAction("committee_specialties 须为专业名称列表", "committee_specialties must be a list of names")
    as_of = session.get("sitting_on") or today or utcnow().astimezone(CHINA_TZ).date()
    return CommitteeParameters(size, odd, tuple(levels), tuple(s.strip() for s in specialties),
                               session.get("series") or "", as_of)


def run_draw(seed: int, candidates: list[int], k: int, *, draw_chair: bool = False) -> tuple[list[int], int | None]:
    """The draw itself: ``k`` of ``candidates`` (in the given, canonical order) and optionally a chair among them.

    Pure and deterministic in its inputs, which is what lets anyone re-run a recorded draw.
    """
    rng = random.Random(seed)
    drawn = rng.sample(candidates, k)
    return drawn, (rng.choice(drawn) if draw_chair else None)


def _session_row(conn: Connection, session_id: int) -> dict[str, Any]:
    row = conn.execute(select(_session).where(_session.c.id == session_id)).mappings().first()
    if row is None:
        raise InvalidAction("评审会不存在", "No such review session")
    return dict(row)


def administering_role(session: dict[str, Any], actor: Actor) -> str | None:
    """``administrator`` or ``authority_officer`` (of the session's authority) when ``actor`` runs the session."""
    if actor.user_id is None:
        return None
    if "administrator" in actor.roles:
        return "administrator"
    if "authority_officer" in actor.roles and actor.org_id == session["authority_org_id"]:
        return "authority_officer"
    return None


def _require_admin(session: dict[str, Any], actor: Actor) -> str:
    role = administering_role(session, actor)
    if role is None:
        raise PermissionDenied("只有管理员或本评审会的人社部门经办人可以组建评委会",
                               "Only an administrator or the session's authority officer forms the committee")
    return role


def eligible_experts(conn: Connection, params: CommitteeParameters, exclude: set[int] | frozenset = frozenset()
                     ) -> list[dict[str, Any]]:
    """Experts who may be drawn under ``params``, in ascending id order (the canonical candidate order)."""
    rows = conn.execute(select(_expert).where(_expert.c.status == "active", _expert.c.user_id.is_not(None),
                                              _expert.c.level.in_(params.levels))
                        .order_by(_expert.c.id)).mappings()
    out = []
    for row in rows:
        if row["id"] in exclude:
            continue
        if row["term_start"] is not None and row["term_start"] > params.as_of:
            continue
        if row["term_end"] is not None and row["term_end"] < params.as_of:
            continue
        if params.series and row["series"] and row["series"] != params.series:
            continue
        if params.specialties and not set(row["specialties"] or []) & set(params.specialties):
            continue
        out.append(dict(row))
    return out


def _refuse_after_sign_off(conn: Connection, session_id: int) -> None:
    closed = conn.execute(select(_sitting.c.closed_at).where(_sitting.c.session_id == session_id)).scalar()
    if closed is not None:
        raise InvalidAction("评审会议已结束，不能再调整委员", "The sitting has been signed off")


def _open_boxes(conn: Connection, session_id: int) -> int:
    return len(conn.execute(select(_box.c.id).join(_case, _case.c.id == _box.c.case_id).where(
        _case.c.session_id == session_id, _box.c.closed_at.is_(None))).all())


def draw_committee(db: Database, session_id: int, actor: Actor, *, seed: int | None = None,
                   chair_expert_id: int | None = None, draw_chair: bool = False,
                   now: datetime | None = None) -> DrawResult:
    """Draw and seat the session's committee at random from the eligible experts; record the draw.

    ``chair_expert_id`` names the chair (seated besides the random part, which then fills the other
    seats); ``draw_chair`` asks the RNG to pick the chair among the drawn; with neither, no chair is
    seated yet (:func:`appoint_chair`). Refused once seats exist (use :func:`draw_replacement`).
    """
    if chair_expert_id is not None and draw_chair:
        raise InvalidAction("不能既指定主任委员又随机抽取主任委员", "Name the chair or draw it, not both")
    now = now or utcnow()
    seed = secrets.randbits(64) if seed is None else int(seed)
    with db.write() as conn:
        lock_session(conn, session_id)
        session = _session_row(conn, session_id)
        role = _require_admin(session, actor)
        params = committee_parameters(session)
        if conn.execute(select(_seat.c.id).where(_seat.c.session_id == session_id)).first() is not None:
            raise InvalidAction("本评审会已组建评委会；如需增补请抽取替补委员", "The committee is already seated")
        pool = eligible_experts(conn, params)
        by_id = {e["id"]: e for e in pool}
        if chair_expert_id is not None and chair_expert_id not in by_id:
            raise InvalidAction("指定的主任委员不在符合条件的在库专家中", "The named chair is not an eligible expert")
        candidates = [e["id"] for e in pool if e["id"] != chair_expert_id]
        k = params.size - (1 if chair_expert_id is not None else 0)
        if len(candidates) < k:
            raise InvalidAction(f"符合条件的在库专家 {len(candidates)} 人，不足抽取 {k} 人",
                                f"Only {len(candidates)} eligible experts for {k} seats")
        drawn, drawn_chair = run_draw(seed, candidates, k, draw_chair=draw_chair)
        chair = chair_expert_id if chair_expert_id is not None else drawn_chair
        seated = ([chair_expert_id] if chair_expert_id is not None else []) + drawn
        user_of = {eid: by_id[eid]["user_id"] for eid in seated}
        for eid in seated:
            conn.execute(insert(_seat).values(session_id=session_id, user_id=user_of[eid],
                                              seat_role="chair" if eid == chair else "member", seated_at=now))
        parameters = {**params.as_dict(), "chair_mode": "named" if chair_expert_id is not None else
                      ("drawn" if draw_chair else "none"), "named_chair": chair_expert_id,
                      "seated_user_ids": {str(e): user_of[e] for e in seated}}
        record = append_draw(conn, {"session_id": session_id, "kind": "committee", "seed": str(seed),
                                    "parameters": parameters, "candidates": candidates, "result": drawn,
                                    "chair_id": chair, "actor_id": actor.user_id, "actor_role": role,
                                    "created_at": now})
    _detect_for_session(db, session_id, actor)
    return DrawResult(record["id"], seed, candidates, drawn, chair, [user_of[e] for e in seated])


def _detect_for_session(db: Database, session_id: int, actor: Actor) -> None:
    """Detect conflicts of the (new) seats with every case of the session already before the panel."""
    from workflow.pipeline.catalog import get_pipeline

    with db.read() as conn:
        cases = conn.execute(select(_case.c.id, _case.c.pipeline_id, _case.c.pipeline_version, _case.c.state)
                             .where(_case.c.session_id == session_id)).all()
    for case_id, pid, version, state in cases:
        if get_pipeline(db, pid, version).state_map[state].stage == PANEL_STAGE:
            detect(db, case_id, actor=actor)


def _panel_cases(conn: Connection, db: Database, session_id: int) -> list[dict[str, Any]]:
    from workflow.pipeline.catalog import get_pipeline

    rows = conn.execute(select(_case.c.id, _case.c.applicant_id, _case.c.employer_org_id, _case.c.unit_org_id,
                               _case.c.pipeline_id, _case.c.pipeline_version, _case.c.state)
                        .where(_case.c.session_id == session_id)).mappings()
    return [dict(r) for r in rows
            if get_pipeline(db, r["pipeline_id"], r["pipeline_version"]).state_map[r["state"]].stage == PANEL_STAGE]


def draw_replacement(db: Database, session_id: int, actor: Actor, *, replacing_user_id: int | None = None,
                     case_ids: list[int] | None = None, seed: int | None = None, reason: str = "",
                     now: datetime | None = None) -> DrawResult:
    """Draw one replacement seat the same way as the committee, excluding seated, earlier-drawn and
    conflicted experts; optionally unseat ``replacing_user_id`` (e.g. unavailable) in the same transaction.

    "Conflicted" means any conflict finding against the cases the seat is needed for: ``case_ids``, by
    default every case of the session before the panel. Refused while a ballot of the session is open
    (the seated count is the quorum's base).
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidAction("请说明增补委员的原因", "Please give the reason for the replacement")
    now = now or utcnow()
    seed = secrets.randbits(64) if seed is None else int(seed)
    with db.write() as conn:
        lock_session(conn, session_id)
        session = _session_row(conn, session_id)
        role = _require_admin(session, actor)
        _refuse_after_sign_off(conn, session_id)
        if _open_boxes(conn, session_id):
            raise InvalidAction("本评审会有正在进行的投票，不能调整委员", "A ballot is open")
        base = conn.execute(select(_draw.c.parameters).where(_draw.c.session_id == session_id,
                                                             _draw.c.kind == "committee")).scalar()
        if base is None:
            raise InvalidAction("本评审会尚未抽取评委会", "The committee has not been drawn")
        params = committee_parameters({**session, "parameters": {
            "committee_size": base["size"], "committee_odd": base["odd"], "committee_levels": base["levels"],
            "committee_specialties": base["specialties"]}, "series": base["series"],
            "sitting_on": date.fromisoformat(base["as_of"])})
        seats = dict(conn.execute(select(_seat.c.user_id, _seat.c.seat_role)
                                  .where(_seat.c.session_id == session_id)).all())
        if replacing_user_id is not None and replacing_user_id not in seats:
            raise InvalidAction("被替换的专家不是本评审会委员", "The member to replace is not seated")
        earlier: set[int] = set()
        for result, chair, recorded in conn.execute(
                select(_draw.c.result, _draw.c.chair_id, _draw.c.parameters).where(
                    _draw.c.session_id == session_id, _draw.c.kind.in_(("committee", "replacement")))).all():
            earlier.update(result)
            earlier.update(x for x in (chair, recorded.get("named_chair")) if isinstance(x, int))
        seated_experts = set(conn.execute(select(_expert.c.id).where(_expert.c.user_id.in_(seats))).scalars())
        pool = eligible_experts(conn, params, exclude=earlier | seated_experts)
        cases = [c for c in _panel_cases(conn, db, session_id) if case_ids is None or c["id"] in case_ids]
        parties = [case_parties(conn, c) for c in cases]
        candidates = [e["id"] for e in pool
                      if not any(findings_for(expert_profile(conn, e), p, e["user_id"]) for p in parties)]
        if not candidates:
            raise InvalidAction("没有符合条件且无回避情形的在库专家可供增补", "No eligible expert left to draw")
        drawn, _ = run_draw(seed, candidates, 1)
        new_user = next(e["user_id"] for e in pool if e["id"] == drawn[0])
        if replacing_user_id is not None:
            conn.execute(delete(_seat).where(_seat.c.session_id == session_id, _seat.c.user_id == replacing_user_id))
        conn.execute(insert(_seat).values(session_id=session_id, user_id=new_user, seat_role="member", seated_at=now))
        parameters = {**params.as_dict(), "case_ids": sorted(c["id"] for c in cases),
                      "seated_user_ids": {str(drawn[0]): new_user}}
        record = append_draw(conn, {"session_id": session_id, "kind": "replacement", "seed": str(seed),
                                    "parameters": parameters, "candidates": candidates, "result": drawn,
                                    "replaced_id": replacing_user_id, "actor_id": actor.user_id,
                                    "actor_role": role, "comment": reason, "created_at": now})
    _detect_for_session(db, session_id, actor)
    return DrawResult(record["id"], seed, candidates, drawn, None, [new_user])


def appoint_chair(db: Database, session_id: int, user_id: int, actor: Actor, *, now: datetime | None = None) -> None:
    """Make a seated member the chair (the previous chair becomes a member); logged. Not while a ballot is open."""
    now = now or utcnow()
    with db.write() as conn:
        lock_session(conn, session_id)
        session = _session_row(conn, session_id)
        role = _require_admin(session, actor)
        _refuse_after_sign_off(conn, session_id)
        if _open_boxes(conn, session_id):
            raise InvalidAction("本评审会有正在进行的投票，不能更换主任委员", "A ballot is open")
        seats = dict(conn.execute(select(_seat.c.user_id, _seat.c.seat_role)
                                  .where(_seat.c.session_id == session_id)).all())
        if user_id not in seats:
            raise InvalidAction("主任委员须为本评审会委员", "The chair must be a seated member")
        conn.execute(update(_seat).where(_seat.c.session_id == session_id, _seat.c.seat_role == "chair")
                     .values(seat_role="member"))
        conn.execute(update(_seat).where(_seat.c.session_id == session_id, _seat.c.user_id == user_id)
                     .values(seat_role="chair"))
        append_log(conn, session_id, "chair_appointed", actor, role=role, payload={"member_id": user_id}, now=now)


def _draw_problems(row: dict[str, Any], prev: dict[str, Any] | None) -> list[str]:
    problems = []
    where = f"抽取记录 {row['id']}（第 {row['seq']} 条）"
    if draw_hash(row) != row["hash"]:
        problems.append(f"{where}：内容与哈希不符（记录被改动）")
    if row["prev_hash"] != (prev["hash"] if prev else "") or row["seq"] != (prev["seq"] + 1 if prev else 1):
        problems.append(f"{where}：与前一条记录的链接断开（记录被删除或插入）")
    try:
        seed = int(row["seed"])
        k = len(row["result"])
        params = row["parameters"] or {}
        if row["kind"] == "committee":
            expected_k = params.get("size", 0) - (1 if params.get("named_chair") is not None else 0)
            if k != expected_k:
                problems.append(f"{where}：抽取人数 {k} 与参数 {expected_k} 不符")
        drawn, chair = run_draw(seed, list(row["candidates"]), k,
                                draw_chair=params.get("chair_mode") == "drawn")
    except (ValueError, TypeError) as err:
        return [*problems, f"{where}：无法重新抽取（{err}）"]
    if drawn != list(row["result"]):
        problems.append(f"{where}：按记录的种子重新抽取，结果不一致")
    if params.get("chair_mode") == "drawn" and chair != row["chair_id"]:
        problems.append(f"{where}：按记录的种子重新抽取，主任委员不一致")
    if params.get("chair_mode") == "named" and row["chair_id"] != params.get("named_chair"):
        problems.append(f"{where}：主任委员与指定人选不一致")
    return problems


def verify_draw(db: Database, draw_id: int) -> DrawCheck:
    """Re-check one recorded draw: its hash, its link to the previous record, and the draw re-run from its seed."""
    with db.read() as conn:
        found = conn.execute(select(_draw).where(_draw.c.id == draw_id)).mappings().first()
        if found is None:
            return DrawCheck(False, ["抽取记录不存在"])
        row = dict(found)
        prev = conn.execute(select(_draw).where(_draw.c.session_id == row["session_id"],
                                                _draw.c.seq == row["seq"] - 1)).mappings().first()
    problems = _draw_problems(row, dict(prev) if prev else None)
    return DrawCheck(not problems, problems)


def verify_session(db: Database, session_id: int) -> DrawCheck:
    """Re-check every draw of the session, both hash chains, and that the stored seats are exactly what the
    committee draw and the replacements seated (detects seats added or removed outside the draw)."""
    problems: list[str] = []
    with db.read() as conn:
        rows = [dict(r) for r in conn.execute(select(_draw).where(_draw.c.session_id == session_id)
                                              .order_by(_draw.c.seq)).mappings()]
        problems += [str(p) for p in verify_chain(conn, "committee_draw", session_id)]
        problems += [str(p) for p in verify_chain(conn, "panel_log", session_id)]
        seats = set(conn.execute(select(_seat.c.user_id).where(_seat.c.session_id == session_id)).scalars())
    prev = None
    expected: set[int] = set()
    for row in rows:
        problems += _draw_problems(row, prev)
        prev = row
        mapping = {int(k): v for k, v in (row["parameters"].get("seated_user_ids") or {}).items()}
        if row["kind"] == "committee":
            expected |= set(mapping.values())
        elif row["kind"] == "replacement":
            expected.discard(row["replaced_id"])
            expected |= set(mapping.values())
    if rows and seats != expected:
        problems.append(f"委员席位与抽取记录不符：多出 {sorted(seats - expected)}，缺少 {sorted(expected - seats)}")
    return DrawCheck(not problems, problems)


def session_draws(db: Database, session_id: int) -> list[dict[str, Any]]:
    """Every draw record of the session in order (for the audit page: seeds, candidates, results)."""
    with db.read() as conn:
        return [dict(r) for r in conn.execute(select(_draw).where(_draw.c.session_id == session_id)
                                              .order_by(_draw.c.seq)).mappings()]
