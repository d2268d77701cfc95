"""Conflicts of interest (回避): detected from the expert pool, declared by members, decided by the chair.

A member with a ``confirmed`` or ``pending`` conflict on a case is recused from it: they cannot open its
dossier, write an opinion, vote, or act on it as panel member or chair, and they leave the pass rule's
denominator (:mod:`workflow.panel.ballots` reads :func:`recused_ids`). A pending conflict recuses until the chair
dismisses it — erring on the side of recusal.

Detection compares what the pool knows about the member (the expert row's employer and declared
relations, the login's organisation) with the case's parties (applicant, employer, recommending unit or
agency). Facts matched by id or by an organisation's unique name are ``confirmed`` at once; a declared
relation matched only by a person's *name* is ``pending`` (names are not unique) for the chair to decide.
Detection runs when the pre-review group is drawn, when a member opens a dossier, before an opinion and
before a vote — every door a conflicted member could walk through — and can be run for a whole case.

Every change is written to the session's hash-chained ``panel_log`` rather than the case's event chain:
the case chain is the applicant's visible timeline and records state changes only, while recusals are the
committee's internal business (the minutes show only their count), and routing them through the engine
would need a self-loop transition in every pipeline definition.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from workflow.access.roles import Actor
from workflow.db import Database
from workflow.engine.registry import action
from workflow.engine.storage import Statement
from workflow.errors import CaseNotFound, InvalidAction, MissingData, PermissionDenied
from workflow.models import (
    BallotBox,
    BallotParticipation,
    Case,
    CommitteeSeat,
    Conflict,
    Expert,
    Organisation,
    PanelLog,
    User,
    utcnow,
)
from workflow.panel.audit import append_log
from workflow.pipeline.catalog import get_pipeline

_conflict = Conflict.__table__
_case = Case.__table__
_seat = CommitteeSeat.__table__
_expert = Expert.__table__
_user = User.__table__
_org = Organisation.__table__
_box = BallotBox.__table__
_part = BallotParticipation.__table__
_log = PanelLog.__table__

KINDS: dict[str, dict[str, str]] = {
    "employer": {"zh": "同一单位", "en": "Same employer or unit"},
    "relative": {"zh": "亲属关系", "en": "Relative"},
    "supervisor_student": {"zh": "师生关系", "en": "Supervisor or student"},
    "collaborator": {"zh": "合作关系", "en": "Collaborator"},
    "other": {"zh": "其他利害关系", "en": "Other"},
}
"""The kinds of conflict a member may declare (and detection assigns)."""

RECUSING = ("confirmed", "pending")
"""Statuses that recuse the member (pending recuses until the chair dismisses it)."""

RELATION_KINDS = {"relative": "relative", "supervisor": "supervisor_student", "student": "supervisor_student",
                  "collaborator": "collaborator", "other": "other"}
"""A declared relation's kind → the conflict kind it produces."""

PANEL_STAGE = "panel"
"""The pipeline stage whose states put a dossier before the committee."""


def recused_ids(conn: Connection, case_id: int) -> set[int]:
    """Members with a confirmed or still-pending conflict on the case (a pending one recuses until dismissed)."""
    return set(conn.execute(select(_conflict.c.user_id).where(
        _conflict.c.case_id == case_id, _conflict.c.status.in_(RECUSING))).scalars())


@dataclass(frozen=True)
class Finding:
    """One reason detection found: the conflict kind, the status it starts in, and the reason in Chinese."""

    kind: str
    status: str
    reason: str


def normalise(text: Any) -> str:
    """A name compared without whitespace or case (so “长沙 精密” matches “长沙精密”)."""
    return "".join(str(text or "").split()).casefold()


def _load_case(conn: Connection, case_id: int, *, lock: bool) -> dict[str, Any]:
    stmt = select(_case.c.id, _case.c.state, _case.c.session_id, _case.c.applicant_id, _case.c.employer_org_id,
                  _case.c.unit_org_id, _case.c.pipeline_id, _case.c.pipeline_version, _case.c.data
                  ).where(_case.c.id == case_id)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().first()
    if row is None:
        raise CaseNotFound("案件不存在", "No such case")
    return dict(row)


_PARTIES = Statement(
    f"SELECT (SELECT display_name FROM {_user.name} WHERE id = :applicant_id), "
    f"(SELECT name FROM {_org.name} WHERE id = :employer_id), (SELECT name FROM {_org.name} WHERE id = :unit_id)")
"""The applicant's name and the two organisations' names in one round trip (detection runs inside fire())."""

_MEMBERS_SELECT = (f"SELECT u.id, u.org_id, x.employer_org_id, x.employer_name, x.relations, c.status "
                   f"FROM {_user.name} u LEFT JOIN {_expert.name} x ON x.user_id = u.id "
                   f"LEFT JOIN {_conflict.name} c ON c.case_id = :case_id AND c.user_id = u.id WHERE ")
_MEMBERS = Statement(_MEMBERS_SELECT + "u.id IN (SELECT value FROM json_each(:ids))",
                     postgresql=_MEMBERS_SELECT + "u.id = ANY(:ids)")
_SEATED_MEMBERS = Statement(_MEMBERS_SELECT + f"u.id IN (SELECT user_id FROM {_seat.name} WHERE session_id = "
                                              ":session_id)")
"""Each member's facts (login organisation, expert employer and relations) and existing conflict on the case,
for the given users or for the whole seated committee: one round trip instead of four."""


def case_parties(conn: Connection, case: dict[str, Any]) -> dict[str, Any]:
    """The case's side: applicant id and name, the employer's and the recommending unit's ids and names."""
    org_ids = {i for i in (case["employer_org_id"], case["unit_org_id"]) if i is not None}
    applicant, employer, unit = _PARTIES.run(conn, {"applicant_id": case["applicant_id"],
                                                    "employer_id": case["employer_org_id"],
                                                    "unit_id": case["unit_org_id"]}).fetchone()
    names = [n for n in (employer, unit) if n is not None]
    return {"applicant_id": case["applicant_id"], "applicant_name": normalise(applicant), "org_ids": org_ids,
            "org_names": {normalise(n): n for n in names}}


def _members(conn: Connection, case: dict[str, Any], user_ids: list[int] | None
             ) -> tuple[list[int], dict[int, dict[str, Any]], dict[int, str]]:
    """(user ids, the member's side of each, existing conflict statuses) for ``user_ids`` or every seated member.

    The member's side is the login organisation plus the expert row's employer and relations (if any).
    """
    def empty() -> dict[str, Any]:
        """A member with no known facts yet."""
        return {"org_ids": set(), "org_names": set(), "relations": []}

    if user_ids is None:
        out: dict[int, dict[str, Any]] = {}
        cur = _SEATED_MEMBERS.run(conn, {"case_id": case["id"], "session_id": case["session_id"]})
    else:
        out = {uid: empty() for uid in user_ids}
        ids = list(user_ids) if conn.dialect.name == "postgresql" else json.dumps(list(user_ids))
        cur = _MEMBERS.run(conn, {"case_id": case["id"], "ids": ids})
    existing: dict[int, str] = {}
    for uid, org_id, employer_org_id, employer_name, relations, status in cur.fetchall():
        m = out.setdefault(uid, empty())
        if org_id is not None:
            m["org_ids"].add(org_id)
        if employer_org_id is not None:
            m["org_ids"].add(employer_org_id)
        if employer_name:
            m["org_names"].add(normalise(employer_name))
        if isinstance(relations, str):  # JSON text on SQLite
            relations = json.loads(relations)
        m["relations"] = list(relations or [])
        if status is not None:
            existing[uid] = status
    return sorted(out), out, existing


def expert_profile(conn: Connection, expert: dict[str, Any]) -> dict[str, Any]:
    """The member's side for an expert row not (yet) seated: employer, login organisation, relations."""
    org_ids = {expert["employer_org_id"]} - {None}
    if expert.get("user_id") is not None:
        login_org = conn.execute(select(_user.c.org_id).where(_user.c.id == expert["user_id"])).scalar()
        if login_org is not None:
            org_ids.add(login_org)
    return {"org_ids": org_ids, "org_names": {normalise(expert["employer_name"])} - {""},
            "relations": list(expert["relations"] or [])}


def findings_for(member: dict[str, Any], parties: dict[str, Any], user_id: int) -> list[Finding]:
    """Every reason ``member`` (see :func:`_members`) conflicts with a case's ``parties`` (most serious first)."""
    found: list[Finding] = []
    if user_id == parties["applicant_id"]:
        found.append(Finding("other", "confirmed", "本人为申报人"))
    if member["org_ids"] & parties["org_ids"] or member["org_names"] & set(parties["org_names"]):
        found.append(Finding("employer", "confirmed", "与申报人同一工作单位或推荐单位（代理机构）"))
    for rel in member["relations"]:
        kind = RELATION_KINDS.get(str(rel.get("kind", "other")), "other")
        label = KINDS[kind]["zh"]
        if rel.get("person_id") is not None and rel.get("person_id") == parties["applicant_id"]:
            found.append(Finding(kind, "confirmed", f"申报的{label}：申报人本人"))
        elif rel.get("person") and normalise(rel["person"]) == parties["applicant_name"]:
            # Same name is not proof of the same person: the chair decides.
            found.append(Finding(kind, "pending", f"申报的{label}与申报人同名（{rel['person']}），待主任委员确认"))
        if rel.get("org_id") is not None and rel.get("org_id") in parties["org_ids"]:
            found.append(Finding(kind, "confirmed", f"申报的{label}涉及申报人所在单位或推荐单位"))
        elif rel.get("org") and normalise(rel["org"]) in parties["org_names"]:
            found.append(Finding(kind, "confirmed", f"申报的{label}涉及{parties['org_names'][normalise(rel['org'])]}"))
    found.sort(key=lambda f: f.status != "confirmed")
    return found


def _voted_in_open_box(conn: Connection, case_id: int, user_id: int) -> bool:
    return conn.execute(select(_part.c.id).join(_box, _box.c.id == _part.c.box_id).where(
        _box.c.case_id == case_id, _box.c.closed_at.is_(None), _part.c.member_id == user_id)).first() is not None


def _seated(conn: Connection, session_id: int | None) -> dict[int, str]:
    if session_id is None:
        return {}
    return dict(conn.execute(select(_seat.c.user_id, _seat.c.seat_role).where(_seat.c.session_id == session_id)).all())


def _pending_changes(conn: Connection, case: dict[str, Any], user_ids: list[int] | None
                     ) -> tuple[list[int], list[tuple[int, Finding, str]]]:
    """(the members checked, (member, finding, "insert" | "upgrade") for what detection would write now).

    ``user_ids`` None means every seated member of the case's session.
    """
    if (user_ids is None and case["session_id"] is None) or (user_ids is not None and not user_ids):
        return [], []
    ids, members, existing = _members(conn, case, user_ids)
    if not ids:
        return [], []
    parties = case_parties(conn, case)
    changes = []
    for uid in ids:
        found = findings_for(members[uid], parties, uid)
        if not found:
            continue
        status = existing.get(uid)
        if status is None:
            changes.append((uid, found[0], "insert"))
        elif status == "dismissed" and found[0].status == "confirmed":
            # A hard fact (same employer, relation by id) outranks an earlier dismissal of a weaker one.
            changes.append((uid, found[0], "upgrade"))
    return ids, changes


def detect_in(conn: Connection, case: dict[str, Any], user_ids: list[int] | None, now: datetime,
              actor: Actor | None = None) -> list[dict[str, Any]]:
    """Detect and record conflicts for ``user_ids`` (default: every seated member) inside the caller's
    transaction, which must hold the case lock. Returns the conflicts written."""
    if case["session_id"] is None:
        return []
    written = []
    for uid, finding, how in _pending_changes(conn, case, user_ids)[1]:
        if _voted_in_open_box(conn, case["id"], uid):
            # The ballot cannot be taken back (it is unlinkable by design): record nothing that would make
            # the tally inconsistent; the chair sees the finding in the log (once) and may annul the ballot.
            logged = conn.execute(select(_log.c.payload).where(
                _log.c.case_id == case["id"], _log.c.kind == "conflict_after_vote")).scalars().all()
            if not any(p.get("member_id") == uid for p in logged):
                append_log(conn, case["session_id"], "conflict_after_vote", actor, case_id=case["id"],
                           payload={"member_id": uid, "kind": finding.kind, "reason": finding.reason}, now=now)
            continue
        values = {"kind": finding.kind, "source": "detected", "status": finding.status, "note": finding.reason}
        if how == "insert":
            try:
                with conn.begin_nested():
                    conn.execute(insert(_conflict).values(case_id=case["id"], user_id=uid, created_at=now, **values))
            except IntegrityError:  # recorded concurrently by another request: theirs stands
                continue
        else:
            conn.execute(update(_conflict).where(_conflict.c.case_id == case["id"], _conflict.c.user_id == uid)
                         .values(**values))
        append_log(conn, case["session_id"], "conflict_detected", actor, case_id=case["id"],
                   payload={"member_id": uid, **values}, now=now)
        written.append({"case_id": case["id"], "user_id": uid, **values})
    return written


def detect(db: Database, case_id: int, user_ids: list[int] | None = None, *, actor: Actor | None = None,
           now: datetime | None = None) -> list[dict[str, Any]]:
    """Run detection for a case (all seated members, or ``user_ids``); writes only when something is new.

    The check is read first without a lock (the common case finds nothing new), then repeated under the case
    lock before writing.
    """
    now = now or utcnow()
    with db.read() as conn:
        case = _load_case(conn, case_id, lock=False)
        ids, changes = _pending_changes(conn, case, user_ids)
        if not changes:
            return []
    with db.write() as conn:
        case = _load_case(conn, case_id, lock=True)
        return detect_in(conn, case, ids, now, actor)


@action("detect_conflicts")
def detect_conflicts_action(ctx) -> None:
    """Detect conflicts of every seated member with the case (for transitions into pre-review)."""
    found = detect_in(ctx.conn, ctx.case, None, ctx.now, ctx.actor)
    if found:
        ctx.payload["conflicts_detected"] = len(found)


def _seat_or_refuse(conn: Connection, case: dict[str, Any], actor: Actor) -> str:
    seat = _seated(conn, case["session_id"]).get(actor.user_id) if actor.user_id is not None else None
    if seat is None:
        raise PermissionDenied("您不是本评审会委员", "You are not on this committee")
    return seat


def declare_conflict(db: Database, case_id: int, actor: Actor, kind: str, note: str = "", *,
                     now: datetime | None = None) -> None:
    """A seated member declares a conflict with a case; it recuses them at once, pending the chair's decision."""
    if kind not in KINDS:
        raise InvalidAction("回避类型无效：" + "、".join(k["zh"] for k in KINDS.values()), "Unknown conflict kind")
    note = (note or "").strip()
    if kind == "other" and not note:
        raise MissingData("请说明利害关系", "Please describe the conflict")
    now = now or utcnow()
    with db.write() as conn:
        case = _load_case(conn, case_id, lock=True)
        seat = _seat_or_refuse(conn, case, actor)
        assert actor.user_id is not None  # _seat_or_refuse just above refuses an actor without a user
        if _voted_in_open_box(conn, case_id, actor.user_id):
            raise InvalidAction("您已对本案投票，选票无法撤回；请向主任委员说明情况",
                                "You already voted on this case; the ballot cannot be withdrawn")
        status = conn.execute(select(_conflict.c.status).where(_conflict.c.case_id == case_id,
                                                               _conflict.c.user_id == actor.user_id)).scalar()
        values = {"kind": kind, "source": "declared", "status": "pending", "note": note}
        if status in RECUSING:
            raise InvalidAction("您已登记回避本案", "You are already recused from this case")
        if status is None:
            conn.execute(insert(_conflict).values(case_id=case_id, user_id=actor.user_id, created_at=now, **values))
        else:  # dismissed earlier; the member brings a new declaration
            conn.execute(update(_conflict).where(_conflict.c.case_id == case_id,
                                                 _conflict.c.user_id == actor.user_id).values(**values))
        append_log(conn, case["session_id"], "conflict_declared", actor, role=f"panel_{seat}", case_id=case_id,
                   comment=note, payload={"member_id": actor.user_id, "kind": kind}, now=now)


def decide_conflict(db: Database, case_id: int, member_id: int, actor: Actor, *, confirm: bool,
                    note: str = "", now: datetime | None = None) -> None:
    """The chair confirms or dismisses a pending conflict (an administrator decides the chair's own)."""
    note = (note or "").strip()
    if not confirm and not note:
        raise MissingData("驳回回避申请须说明理由", "A dismissal needs a reason")
    now = now or utcnow()
    with db.write() as conn:
        case = _load_case(conn, case_id, lock=True)
        seated = _seated(conn, case["session_id"])
        recused = recused_ids(conn, case_id)
        chair_ok = (actor.user_id is not None and seated.get(actor.user_id) == "chair"
                    and "panel_chair" in actor.roles and actor.user_id != member_id and actor.user_id not in recused)
        chairs_free = [u for u, r in seated.items() if r == "chair" and u != member_id and u not in recused]
        admin_ok = "administrator" in actor.roles and actor.user_id != member_id and not chairs_free
        if not (chair_ok or admin_ok):
            raise PermissionDenied("只有主任委员（本人涉及回避时由管理员）可以确认或驳回回避申请",
                                   "Only the chair (or an administrator for the chair's own conflict) decides")
        row = conn.execute(select(_conflict.c.status).where(_conflict.c.case_id == case_id,
                                                            _conflict.c.user_id == member_id)).scalar()
        if row is None:
            raise InvalidAction("该委员没有待确认的回避申请", "No such conflict")
        if row != "pending":
            raise InvalidAction("该回避已处理", "This conflict was already decided")
        status = "confirmed" if confirm else "dismissed"
        conn.execute(update(_conflict).where(_conflict.c.case_id == case_id, _conflict.c.user_id == member_id)
                     .values(status=status))
        append_log(conn, case["session_id"], f"conflict_{status}", actor,
                   role="panel_chair" if chair_ok else "administrator", case_id=case_id, comment=note,
                   payload={"member_id": member_id}, now=now)


def case_conflicts(db: Database, case_id: int, actor: Actor) -> list[dict[str, Any]]:
    """The case's conflicts for the chair's (or an administrator's) review page, with member names."""
    with db.read() as conn:
        case = _load_case(conn, case_id, lock=False)
        not_chair = actor.user_id is None or _seated(conn, case["session_id"]).get(actor.user_id) != "chair"
        if not_chair and "administrator" not in actor.roles:
            raise PermissionDenied("只有主任委员或管理员可以查看回避情况", "Only the chair or an administrator")
        rows = conn.execute(
            select(_conflict.c.user_id, _user.c.display_name, _conflict.c.kind, _conflict.c.source,
                   _conflict.c.status, _conflict.c.note, _conflict.c.created_at)
            .join(_user, _user.c.id == _conflict.c.user_id)
            .where(_conflict.c.case_id == case_id).order_by(_conflict.c.id)).mappings()
        return [dict(r, kind_label=KINDS.get(r["kind"], KINDS["other"])["zh"]) for r in rows]


def can_open_dossier(db: Database, case_id: int, actor: Actor) -> tuple[bool, str]:
    """Whether a committee member may open the case's dossier now, and if not, why (Chinese).

    Runs conflict detection for the member first, so a conflict found right now already counts. Covers the
    panel side only: the web layer keeps its own rules for applicants, units and officers.
    """
    if actor.user_id is None:
        return False, "请先登录"
    try:
        detect(db, case_id, [actor.user_id], actor=actor)
    except CaseNotFound:
        return False, "案件不存在"
    with db.read() as conn:
        case = _load_case(conn, case_id, lock=False)
        if _seated(conn, case["session_id"]).get(actor.user_id) is None:
            return False, "您不是本评审会委员"
        if not {"panel_member", "panel_chair"} & actor.roles:
            return False, "您没有评审专家角色"
        if actor.user_id in recused_ids(conn, case_id):
            return False, "您与本案存在利益冲突，须回避，不能查阅申报材料"
        pipeline = get_pipeline(db, case["pipeline_id"], case["pipeline_version"])
        if pipeline.state_map[case["state"]].stage != PANEL_STAGE:
            return False, "本案不在评审阶段，专家不能查阅申报材料"
    return True, ""


def require_dossier_access(db: Database, case_id: int, actor: Actor) -> None:
    """Raise PermissionDenied (403) unless :func:`can_open_dossier` allows ``actor``."""
    allowed, reason = can_open_dossier(db, case_id, actor)
    if not allowed:
        raise PermissionDenied(reason, "You may not open this dossier")
