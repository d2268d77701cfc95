"""Sending queued e-mail over SMTP, with retries; configured from the environment or explicitly."""

from __future__ import annotations

import os
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage as MimeMessage
from email.utils import formataddr, make_msgid

from sqlalchemy import select, update

from workflow.db import Database
from workflow.models import EmailMessage, utcnow

_mail = EmailMessage.__table__
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail. ``from_address`` is what recipients see."""

    host: str
    port: int = 25
    from_address: str = "noreply@titlereview.local"
    from_name: str = "职称评审系统"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_env(cls) -> SmtpSettings | None:
        """Settings from ``TITLEREVIEW_SMTP_*`` variables; None when no host is configured (mail is then kept)."""
        host = os.environ.get("TITLEREVIEW_SMTP_HOST")
        if not host:
            return None
        return cls(host=host, port=int(os.environ.get("TITLEREVIEW_SMTP_PORT", "25")),
                   from_address=os.environ.get("TITLEREVIEW_SMTP_FROM", cls.from_address),
                   username=os.environ.get("TITLEREVIEW_SMTP_USER") or None,
                   password=os.environ.get("TITLEREVIEW_SMTP_PASSWORD") or None,
                   starttls=os.environ.get("TITLEREVIEW_SMTP_STARTTLS", "").lower() in ("1", "true", "yes"))


def _mime(settings: SmtpSettings, row: dict) -> MimeMessage:
    msg = MimeMessage()
    msg["From"] = formataddr((settings.from_name, settings.from_address))
    msg["To"] = row["to_address"]
    msg["Subject"] = row["subject"]
    msg["Message-ID"] = make_msgid(domain=settings.from_address.rsplit("@", 1)[-1])
    msg.set_content(row["body"])  # UTF-8; the headers are RFC 2047-encoded by the policy
    return msg


def send_pending(db: Database, settings: SmtpSettings, limit: int = 100) -> tuple[int, int]:
    """Send due queued mail; return (sent, failed attempts). Safe to run from several processes.

    Each message is claimed (pending → sending) in its own short transaction before the SMTP call, so two
    senders never send the same message; a failure puts it back with a growing delay, and after
    MAX_ATTEMPTS it is marked failed with the last error kept for the administrator.
    """
    now = utcnow()
    with db.write() as conn:
        stmt = (select(_mail.c.id).where(_mail.c.status == "pending", _mail.c.next_attempt_at <= now)
                .order_by(_mail.c.id).limit(limit))
        if db.is_postgres:
            stmt = stmt.with_for_update(skip_locked=True)
        ids = list(conn.execute(stmt).scalars())
        if ids:
            conn.execute(update(_mail).where(_mail.c.id.in_(ids)).values(status="sending"))
    if not ids:
        return 0, 0
    with db.read() as conn:
        rows = [dict(r) for r in conn.execute(select(_mail).where(_mail.c.id.in_(ids))).mappings()]
    sent = failed = 0
    try:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    except OSError as err:
        _release(db, rows, f"connect: {err}")
        return 0, len(rows)
    with smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        for row in rows:
            try:
                smtp.send_message(_mime(settings, row))
            except (smtplib.SMTPException, OSError) as err:
                _release(db, [row], str(err))
                failed += 1
                continue
            with db.write() as conn:
                conn.execute(update(_mail).where(_mail.c.id == row["id"])
                             .values(status="sent", sent_at=utcnow(), attempts=row["attempts"] + 1))
            sent += 1
    return sent, failed


def _release(db: Database, rows: list[dict], error: str) -> None:
    """Put messages back in the queue after a failure (or fail them for good after the last attempt)."""
    with db.write() as conn:
        for row in rows:
            attempts = row["attempts"] + 1
            conn.execute(update(_mail).where(_mail.c.id == row["id"]).values(
                status="failed" if attempts >= MAX_ATTEMPTS else "pending", attempts=attempts,
                last_error=error[:500], next_attempt_at=utcnow() + timedelta(minutes=2 ** attempts)))
