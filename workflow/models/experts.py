"""The expert pool (评审专家库): the people a committee is drawn from.

An expert may exist before they have a login (imported from the provincial roster); only experts linked to
a user account can be seated, because seats, opinions and votes belong to an authenticated person.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column
from sqlmodel import Field

from ._types import JSONType, TableModel, UTCDateTime, utcnow


class Expert(TableModel, table=True):
    """One expert of the pool with what the draw and the conflict check need.

    ``specialties`` is a list of specialty names; ``level`` is the title held (副高 or 正高); the employer is
    an organisation id when the organisation is known to the system, else only its name. ``relations`` are
    the expert's declared relations, each ``{kind, person, person_id, org, org_id, note}`` with ``kind`` one
    of relative, supervisor, student, collaborator, other — the conflict check reads them.
    """

    __tablename__ = "expert"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=40, description="专家编号 (natural key for imports)")
    user_id: int | None = Field(default=None, foreign_key="user_account.id", unique=True)
    name: str = Field(max_length=100)
    specialties: list = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    series: str = Field(default="", max_length=40)
    level: str = Field(max_length=10)
    employer_org_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    employer_name: str = Field(default="", max_length=200)
    region: str = Field(default="", max_length=100)
    term_start: date | None = None
    term_end: date | None = None
    status: str = Field(default="active", max_length=10, index=True)
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    retire_reason: str = Field(default="")
    relations: list = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    phone: str = Field(default="", max_length=30)
    email: str = Field(default="", max_length=200)
    note: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
