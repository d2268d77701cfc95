"""Outgoing e-mail, queued by the outbox dispatcher and sent by a separate step (retried on failure)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field

from ._types import TableModel, UTCDateTime, utcnow


class EmailMessage(TableModel, table=True):
    """One e-mail to one address. ``status``: pending → sending → sent, or failed after the last attempt.

    Kept apart from the in-app notification so that a flaky mail server is retried without ever
    duplicating the inbox entry that was already delivered.
    """

    __tablename__ = "email_message"
    __table_args__ = (Index("ix_email_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id")
    to_address: str = Field(max_length=200)
    subject: str = Field(max_length=200)
    body: str
    status: str = Field(default="pending", max_length=10)
    attempts: int = 0
    last_error: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
