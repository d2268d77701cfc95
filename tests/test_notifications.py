"""Notifications: outbox → in-app inbox and queued e-mail, sent over real SMTP (a local aiosmtpd server)."""

from __future__ import annotations

import email
import socket
from datetime import timedelta
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from driver import advance
from sqlalchemy import select, update

from workflow.engine import core as engine
from workflow.engine import timers
from workflow.models import EmailMessage, Notification, Timer, User, as_utc
from workflow.records import notify
from workflow.records.mailer import SmtpSettings, send_pending
from workflow.time.calendar import CHINA_TZ, WorkingCalendar


class _Inbox:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.original_content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A local SMTP server on a free port; yields (settings, inbox)."""
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpSettings(host="127.0.0.1", port=port, from_address="zhicheng@hrss.hunan.example"), inbox
    finally:
        controller.stop()


calendar = WorkingCalendar()


def _subject(msg) -> str:
    return str(make_header(decode_header(msg["Subject"])))


def _give_emails(world) -> None:
    with world.db.write() as conn:
        for actor, address in ((world.applicant, "zhangwei@example.cn"), (world.unit, "hr@zhigui.example.cn")):
            conn.execute(update(User.__table__).where(User.__table__.c.id == actor.user_id).values(email=address))


def test_transition_notifies_inbox_and_email(world, smtp_server):
    settings, inbox = smtp_server
    _give_emails(world)
    case_id = world.open("industry-session")
    engine.fire(world.db, case_id, "submit", world.applicant)
    assert notify.dispatch(world.db) == 1
    assert notify.dispatch(world.db) == 0  # delivered once
    with world.db.session() as s:
        notes = s.exec(select(Notification).where(Notification.user_id == world.unit.user_id)).scalars().all()
    assert len(notes) == 1 and "单位初审" in notes[0].subject
    assert send_pending(world.db, settings) == (1, 0)
    assert send_pending(world.db, settings) == (0, 0)
    [msg] = inbox.messages
    assert msg["To"] == "hr@zhigui.example.cn"
    assert "单位初审" in _subject(msg)
    assert "单位初审" in msg.get_payload(decode=True).decode("utf-8")


def test_unreachable_smtp_keeps_the_mail_for_retry(world):
    _give_emails(world)
    case_id = world.open("industry-session")
    engine.fire(world.db, case_id, "submit", world.applicant)
    notify.dispatch(world.db)
    dead = SmtpSettings(host="127.0.0.1", port=_free_port(), timeout=1)
    assert send_pending(world.db, dead) == (0, 1)
    with world.db.session() as s:
        mail = s.exec(select(EmailMessage)).scalar_one()
    assert mail.status == "pending" and mail.attempts == 1 and "connect" in mail.last_error
    assert mail.next_attempt_at > mail.created_at


def test_reminder_goes_to_whoever_must_act_before_the_deadline(world, smtp_server):
    settings, inbox = smtp_server
    _give_emails(world)
    case_id = world.open("industry-session")
    advance(world, case_id, "formal_check")
    engine.fire(world.db, case_id, "return_for_correction", world.officer, data={"corrections": ["补充学历证明"]})
    notify.dispatch(world.db)
    send_pending(world.db, settings)
    inbox.messages.clear()
    with world.db.session() as s:
        timer = s.exec(select(Timer).where(Timer.case_id == case_id, Timer.status == "pending")).scalar_one()
    remind_at, due_at = as_utc(timer.remind_at), as_utc(timer.due_at)
    # Ten working days to correct, reminded when two working days remain (both instants are the midnight that
    # ends a working day, so compare the days they end).
    def last_day(instant):
        return ((instant - timedelta(microseconds=1)).astimezone(CHINA_TZ).date())
    assert calendar.working_days_between(last_day(remind_at), last_day(due_at)) == 2
    assert timers.tick(world.db, now=remind_at - timedelta(minutes=1)).reminded == []
    report = timers.tick(world.db, now=remind_at + timedelta(minutes=1))
    assert report.reminded == [(case_id, "correction_deadline")] and report.fired == []
    assert timers.tick(world.db, now=remind_at + timedelta(minutes=2)).reminded == []
    notify.dispatch(world.db)
    send_pending(world.db, settings)
    assert [m["To"] for m in inbox.messages] == ["zhangwei@example.cn"]
    assert "即将到期" in _subject(inbox.messages[0])
