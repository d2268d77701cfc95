"""Review sessions (评审会/专场) and their committee seats."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, UniqueConstraint, text
from sqlmodel import Field

from ._types import JSONType, TableModel, UTCDateTime, utcnow


class ReviewSession(TableModel, table=True):
    """A dated sitting for one series/industry with its own committee and parameter overrides.

    Example: “2026年湘产专场·轨道交通装备”. ``parameters`` override the pipeline's defaults for cases of
    this session (quorum, pass fraction, superior levels…), ``relaxations`` name the waivers the
    session grants (台阶, papers, foreign language, age), and ``standard_ids`` the occupation standards
    (评价标准) it accepts: an applicant of this session can choose only those (empty: it accepts none).
    """

    __tablename__ = "review_session"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=40)
    name: str = Field(max_length=200)
    name_en: str = Field(default="", max_length=200)
    series: str = Field(default="", max_length=40)
    industry: str = Field(default="", max_length=80)
    year: int
    pipeline_ids: list = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    # The server default lets migration 0012 add the column in place (and rows written by plain SQL accept none).
    standard_ids: list = Field(default_factory=list, sa_column=Column(JSONType, nullable=False,
                                                                      server_default=text("'[]'")))
    authority_org_id: int = Field(foreign_key="organisation.id")
    opens_on: date | None = None
    closes_on: date | None = None
    sitting_on: date | None = None
    parameters: dict = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    relaxations: dict = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    status: str = Field(default="open", max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CommitteeSeat(TableModel, table=True):
    """A user seated on a session's committee as ``member`` or ``chair``."""

    __tablename__ = "committee_seat"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="review_session.id", index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    seat_role: str = Field(default="member", max_length=10)
    seated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
