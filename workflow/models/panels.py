"""Panel work: attendance, conflicts, pre-review opinions and the secret ballot.

The ballot is split on purpose: :class:`BallotParticipation` says *who* has voted on a case,
:class:`Ballot` says *what* was chosen, with a random id, no member and no timestamp. Nothing links the two.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field

from ._types import JSONType, TableModel, UTCDateTime, utcnow


class Attendance(TableModel, table=True):
    """A seated committee member recorded present at the session's sitting (quorum counts these)."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="review_session.id", index=True)
    user_id: int = Field(foreign_key="user_account.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Conflict(TableModel, table=True):
    """A conflict of interest between a committee member and a case; a confirmed one recuses the member.

    ``source`` is ``detected`` (same employer, same recommending unit…) or ``declared`` by the member.
    ``status`` is ``confirmed`` or ``dismissed`` (by the chair, for declared ones) or ``pending``.
    """

    __tablename__ = "conflict"
    __table_args__ = (UniqueConstraint("case_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    kind: str = Field(max_length=20)
    source: str = Field(max_length=10)
    status: str = Field(default="confirmed", max_length=10)
    note: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Opinion(TableModel, table=True):
    """A pre-review (评议组) opinion with a score per criterion; informs the vote, does not decide it."""

    __tablename__ = "opinion"
    __table_args__ = (UniqueConstraint("case_id", "reviewer_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    reviewer_id: int = Field(foreign_key="user_account.id")
    round: int = Field(default=1)
    scores: dict = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    recommendation: str = Field(max_length=10)
    text: str = Field(default="")
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BallotBox(TableModel, table=True):
    """The committee ballot on one case in one round: opened, then closed with the tally."""

    __tablename__ = "ballot_box"
    __table_args__ = (UniqueConstraint("case_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    round: int = Field(default=1)
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    seated: int = 0
    present: int = 0
    eligible: int = 0
    yes: int = 0
    no: int = 0
    abstain: int = 0
    passed: bool | None = None


class BallotParticipation(TableModel, table=True):
    """“This member has voted on this box” — and nothing about the choice."""

    __tablename__ = "ballot_participation"
    __table_args__ = (UniqueConstraint("box_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    box_id: int = Field(foreign_key="ballot_box.id", index=True)
    member_id: int = Field(foreign_key="user_account.id")


class Ballot(TableModel, table=True):
    """One secret ballot: a Paillier ciphertext per choice counter under the committee key (hex), never the
    choice in clear. Random primary key, no member, no time: unlinkable by design."""

    __tablename__ = "ballot"
    # No hidden rowid on SQLite: rows are kept in (random) primary-key order, not in the order cast.
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 - SQLAlchemy reads it from the class

    id: str = Field(primary_key=True, max_length=32)
    box_id: int = Field(foreign_key="ballot_box.id", index=True)
    c_yes: str
    c_no: str
    c_abstain: str


class CommitteeKey(TableModel, table=True):
    """The public half of a session's ballot key (Paillier ``n``, hex). The private key is never stored: it
    exists only as two shares held by the chair and the session's officer (workflow.panel.ballot_keys)."""

    __tablename__ = "committee_key"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="review_session.id", unique=True)
    n: str
    fingerprint: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
