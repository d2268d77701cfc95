"""Delivering the outbox: resolve each message's audience to users and put it in their in-app inbox.

Messages are written by the engine in the transition's own transaction; delivery happens afterwards
(``titlereview tick`` or a worker), so a slow or failing channel never blocks or undoes a transition.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from workflow.db import Database
from workflow.models import Case, CommitteeSeat, EmailMessage, Notification, OutboxMessage, User, UserRole, utcnow
from workflow.pipeline.catalog import get_pipeline

_outbox = OutboxMessage.__table__
_case = Case.__table__
_note = Notification.__table__
_user = User.__table__
_role = UserRole.__table__
_seat = CommitteeSeat.__table__
_mail = EmailMessage.__table__


def audience_user_ids(conn: Connection, case: dict[str, Any], roles: list[str]) -> set[int]:
    """Users who hold each role *for this case* (same relationships as permissions, minus conflicts)."""
    users: set[int] = set()
    org_roles = {"unit_reviewer": case["unit_org_id"], "agency_reviewer": case["unit_org_id"],
                 "authority_officer": case["authority_org_id"]}
    chain = case["superior_org_ids"] or []
    level = (case["data"] or {}).get("superior_level", 0)
    if level < len(chain):
        org_roles["superior_reviewer"] = chain[level]
    for role in roles:
        if role == "applicant":
            users.add(case["applicant_id"])
        elif role in org_roles:
            users.update(conn.execute(
                select(_user.c.id).join(_role, _role.c.user_id == _user.c.id)
                .where(_role.c.role == role, _user.c.org_id == org_roles[role], _user.c.is_active)).scalars())
        elif role in ("panel_chair", "panel_member") and case["session_id"] is not None:
            stmt = select(_seat.c.user_id).where(_seat.c.session_id == case["session_id"])
            if role == "panel_chair":
                stmt = stmt.where(_seat.c.seat_role == "chair")
            users.update(conn.execute(stmt).scalars())
    return users


def render(db: Database, case: dict[str, Any], message: dict[str, Any]) -> tuple[str, str]:
    """Subject and body (Chinese) of an outbox message about ``case``."""
    pipeline = get_pipeline(db, case["pipeline_id"], case["pipeline_version"])
    payload = message["payload"]
    if message["kind"] == "reminder":
        state = pipeline.state_map[payload["state"]].label.zh
        return (f"【提醒】案件 {case['reference']} 即将到期",
                f"案件 {case['reference']}（{state}）的期限将于 {payload['due_at'][:16]} 届满，请及时处理。")
    to = pipeline.state_map[payload["to"]].label.zh
    body = f"案件 {case['reference']} 已进入“{to}”。"
    if payload.get("comment"):
        body += f"\n说明：{payload['comment']}"
    return f"案件 {case['reference']}：{to}", body


def mark_all_read(db: Database, user_id: int) -> None:
    """Mark every unread in-app message of ``user_id`` read, now, in one write transaction."""
    with db.write() as conn:
        conn.execute(update(_note).where(_note.c.user_id == user_id, _note.c.read_at.is_(None))
                     .values(read_at=utcnow()))


def dispatch(db: Database, limit: int = 500) -> int:
    """Deliver up to ``limit`` outbox messages: an in-app notification for every recipient, and an e-mail
    queued for each recipient with an address (sent later by :func:`workflow.records.mailer.send_pending`).
    Returns how many outbox messages were delivered."""
    delivered = 0
    with db.write() as conn:
        stmt = select(_outbox).where(_outbox.c.dispatched_at.is_(None)).order_by(_outbox.c.id).limit(limit)
        if db.is_postgres:
            stmt = stmt.with_for_update(skip_locked=True)
        for msg in conn.execute(stmt).mappings().all():
            case_row = conn.execute(select(_case).where(_case.c.id == msg["case_id"])).mappings().first()
            if case_row is None:
                continue
            case = dict(case_row)
            subject, body = render(db, case, dict(msg))
            now = utcnow()
            recipients = sorted(audience_user_ids(conn, case, msg["audience"].get("roles", [])))
            emails = dict(conn.execute(select(_user.c.id, _user.c.email).where(
                _user.c.id.in_(recipients), _user.c.email.is_not(None), _user.c.email != "")).all())
            for user_id in recipients:
                conn.execute(insert(_note).values(user_id=user_id, case_id=case["id"], subject=subject, body=body,
                                                  created_at=now))
                if user_id in emails:
                    conn.execute(insert(_mail).values(user_id=user_id, to_address=emails[user_id], subject=subject,
                                                      body=body + "\n\n（本邮件由职称评审系统自动发送，请勿回复。）",
                                                      created_at=now, next_attempt_at=now, status="pending",
                                                      attempts=0, last_error=""))
            conn.execute(update(_outbox).where(_outbox.c.id == msg["id"])
                         .values(dispatched_at=now, attempts=msg["attempts"] + 1))
            delivered += 1
    return delivered
