"""Committee work around the ballot: draws, the panel log, pre-review groups, defences and the sitting.

``committee_draw`` and ``panel_log`` are append-only and hash-chained per session with the case events'
hash function (:func:`workflow.records.audit.event_hash`), so a draw can be re-run from its record and any edited,
removed or inserted record breaks the chain.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field

from ._types import JSONType, TableModel, UTCDateTime, utcnow


class CommitteeDraw(TableModel, table=True):
    """One random draw with everything needed to re-run it: seed, parameters, candidates (canonical order).

    ``kind`` is ``committee`` (the seated committee; ids are expert ids), ``replacement`` (one seat refilled;
    expert ids) or ``pre_review`` (a case's review group; ids are user ids of seated members).
    """

    __tablename__ = "committee_draw"
    __table_args__ = (UniqueConstraint("session_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="review_session.id", index=True)
    seq: int
    kind: str = Field(max_length=20)
    case_id: int | None = Field(default=None, foreign_key="case_file.id", index=True)
    seed: str = Field(max_length=40, description="the RNG seed as a decimal string (64-bit)")
    parameters: dict = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    candidates: list = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    result: list = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    chair_id: int | None = None
    replaced_id: int | None = None
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    actor_role: str = Field(default="", max_length=30)
    comment: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(max_length=64)


class PanelLog(TableModel, table=True):
    """An append-only record of committee work that is not a case transition.

    Conflicts detected, declared, confirmed or dismissed; the sitting opened and signed off; attendance;
    defences; manual assignments and chair appointments. Never a vote: nothing here may say how anyone voted.
    """

    __tablename__ = "panel_log"
    __table_args__ = (UniqueConstraint("session_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="review_session.id", index=True)
    seq: int
    kind: str = Field(max_length=30)
    case_id: int | None = Field(default=None, foreign_key="case_file.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    actor_role: str = Field(default="", max_length=30)
    comment: str = Field(default="")
    payload: dict = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(max_length=64)


class ReviewAssignment(TableModel, table=True):
    """A seated member assigned to a case's pre-review group (评议组) for one round."""

    __tablename__ = "review_assignment"
    __table_args__ = (UniqueConstraint("case_id", "round", "reviewer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    round: int = Field(default=1)
    reviewer_id: int = Field(foreign_key="user_account.id", index=True)
    draw_id: int | None = Field(default=None, foreign_key="committee_draw.id")
    assigned_by: int | None = Field(default=None, foreign_key="user_account.id")
    assigned_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Defence(TableModel, table=True):
    """A defence interview (答辩): when and where, who sits on it, and its record and result."""

    __tablename__ = "defence"
    __table_args__ = (UniqueConstraint("case_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    round: int = Field(default=1)
    scheduled_at: datetime = Field(sa_type=UTCDateTime)
    place: str = Field(max_length=200)
    panel: list = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    record: str = Field(default="")
    result: str | None = Field(default=None, max_length=10)
    recorded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    recorded_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Sitting(TableModel, table=True):
    """The session's committee sitting: opened and signed off by the chair; minutes frozen by their hash."""

    __tablename__ = "sitting"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="review_session.id", unique=True)
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    opened_by: int = Field(foreign_key="user_account.id")
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: int | None = Field(default=None, foreign_key="user_account.id")
    minutes_hash: str = Field(default="", max_length=64)
