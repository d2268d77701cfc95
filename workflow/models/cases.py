"""Cases and everything the engine writes alongside a state change: events, outbox rows, timers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, UniqueConstraint, text
from sqlmodel import Field

from ._types import JSONType, TableModel, UTCDateTime, utcnow


class Case(TableModel, table=True):
    """One application for one title, moving through one pipeline version.

    ``state`` and ``version`` are written only by :func:`workflow.engine.core.fire`; ``version`` doubles as the
    optimistic-lock counter (stale forms carry it) and as the sequence number of the last event.
    ``unit_org_id`` is the accountable reviewer: the employer's HR, or the agency in the fallback channel,
    so no case is ever without someone who must act.
    """

    __tablename__ = "case_file"
    __table_args__ = (
        Index("ix_case_unit_state", "unit_org_id", "state"),
        Index("ix_case_authority_state", "authority_org_id", "state"),
        Index("ix_case_session_state", "session_id", "state"),
        # The authority inbox: open-state counts, capped closed counts and one-state queues in waiting order
        # from the index alone (migration 0009; measured by the scale benchmark).
        Index("ix_case_authority_queue", "authority_org_id", "state", "state_entered_at", "id",
              postgresql_where=text("submitted_at IS NOT NULL"), sqlite_where=text("submitted_at IS NOT NULL")),
        # Its history tabs, latest change first, one page of the index at a time (also migration 0009).
        Index("ix_case_authority_recent", "authority_org_id", "updated_at", "id",
              postgresql_where=text("submitted_at IS NOT NULL"), sqlite_where=text("submitted_at IS NOT NULL")),
        # The same two for the unit inbox, keyed by the reviewing unit (migration 0010).
        Index("ix_case_unit_queue", "unit_org_id", "state", "state_entered_at", "id",
              postgresql_where=text("submitted_at IS NOT NULL"), sqlite_where=text("submitted_at IS NOT NULL")),
        Index("ix_case_unit_recent", "unit_org_id", "updated_at", "id",
              postgresql_where=text("submitted_at IS NOT NULL"), sqlite_where=text("submitted_at IS NOT NULL")),
        # The employer's side of the unit notice board (unit OR employer): without it that half read every
        # case on notice anywhere (migration 0010).
        Index("ix_case_employer_state", "employer_org_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(unique=True, max_length=40)
    pipeline_id: str = Field(max_length=60)
    pipeline_version: int
    state: str = Field(max_length=60, index=True)
    version: int = Field(default=0)
    applicant_id: int = Field(foreign_key="user_account.id", index=True)
    employer_org_id: int | None = Field(default=None, foreign_key="organisation.id")
    unit_org_id: int = Field(foreign_key="organisation.id")
    authority_org_id: int = Field(foreign_key="organisation.id")
    superior_org_ids: list = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    session_id: int | None = Field(default=None, foreign_key="review_session.id")
    series: str = Field(default="", max_length=40)
    specialty: str = Field(default="", max_length=80)
    level: str = Field(default="", max_length=10)
    target_title: str = Field(default="", max_length=60)
    route: str = Field(default="normal", max_length=20)
    standard_id: str | None = Field(default=None, max_length=80)
    standard_version: int | None = None
    data: dict = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    last_event_hash: str = Field(default="", max_length=64)
    pending_timers: int = Field(default=0, description="count of pending timers, so most fires skip the timer table")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    state_entered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EligibilityRecord(TableModel, table=True):
    """An eligibility report kept for a case: the evaluator's verdict at submission or at the authority's
    re-check (``kind`` ``submission`` / ``recommend`` (the unit's recommendation) / ``recheck``), written by
    the transition numbered ``event_seq``.

    The reports are 20–40 KB each; kept in ``case_file.data`` they made every later transition rewrite (and,
    on PostgreSQL, re-compress) them. Rows are only ever added: a resubmission or a second re-check adds a
    newer row, and readers take the newest of each kind. ``report`` is the evaluator's report as JSON, or
    None with ``problem`` saying why the case could not be evaluated.
    """

    __tablename__ = "eligibility_record"
    __table_args__ = (UniqueConstraint("case_id", "kind", "event_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id")
    kind: str = Field(max_length=12)
    event_seq: int
    checked_at: datetime = Field(sa_type=UTCDateTime)
    checked_by: int | None = Field(default=None, foreign_key="user_account.id")
    report: dict | None = Field(default=None, sa_column=Column(JSONType, nullable=True))
    problem: str = Field(default="")


class CaseEvent(TableModel, table=True):
    """An append-only audit record of one transition, hash-chained per case.

    ``hash`` covers every other column and ``prev_hash``, so editing, deleting, inserting or reordering
    events is detectable by :func:`workflow.records.audit.verify_chains`.
    """

    __tablename__ = "case_event"
    __table_args__ = (
        UniqueConstraint("case_id", "seq"),
        # The cases a superior department acted on (its history page); only its reviewers' events are
        # indexed, so other roles' transitions do not pay for it (migration 0010).
        Index("ix_event_superior_actor", "actor_id", "case_id",
              postgresql_where=text("actor_role = 'superior_reviewer'"),
              sqlite_where=text("actor_role = 'superior_reviewer'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id")
    seq: int
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    actor_role: str = Field(max_length=30)
    trigger: str = Field(max_length=60)
    from_state: str | None = Field(default=None, max_length=60)
    to_state: str = Field(max_length=60)
    comment: str = Field(default="")
    payload: dict = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(max_length=64)


class OutboxMessage(TableModel, table=True):
    """A message to deliver after the transaction that caused it commits (in-app notice, email).

    Written in the same transaction as the event, so a message exists if and only if its cause does.
    ``audience`` names who should receive it (a user id, or a role relative to the case) and is resolved
    when it is dispatched.
    """

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="case_file.id")
    event_seq: int | None = None
    kind: str = Field(max_length=40)
    audience: dict = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    payload: dict = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    dispatched_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    attempts: int = Field(default=0)
    last_error: str = Field(default="")


class Timer(TableModel, table=True):
    """A deadline: at ``due_at`` the engine fires ``trigger`` on the case if it is still in ``state``.

    Created by the transition that starts it; fired at most once by ``titlereview tick``. While the case sits
    in one of ``paused_in`` (e.g. an objection investigation) the timer waits rather than being cancelled,
    so the notice period does not restart.
    """

    __tablename__ = "case_timer"
    __table_args__ = (Index("ix_timer_pending", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    name: str = Field(max_length=60)
    state: str = Field(max_length=60)
    trigger: str = Field(max_length=60)
    paused_in: list = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    due_at: datetime = Field(sa_type=UTCDateTime)
    remind_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default="pending", max_length=12)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_seq: int = 0
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Notification(TableModel, table=True):
    """An in-app message in one user's inbox (delivered from the outbox)."""

    __tablename__ = "notification"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="case_file.id")
    subject: str = Field(max_length=200)
    body: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
