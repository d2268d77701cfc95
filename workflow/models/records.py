"""Outcomes that outlive a case: certificates and integrity (诚信) records."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum, auto

from sqlmodel import Field

from ._types import TableModel, UTCDateTime, utcnow


class CertificateStatus(StrEnum):
    """A certificate's standing, as stored: valid, or revoked (the title withdrawn later; the record stays so the
    public verification can say so)."""

    VALID = auto()
    REVOKED = auto()


class Certificate(TableModel, table=True):
    """An electronic title certificate, verifiable by number on the public page (valid or revoked)."""

    __tablename__ = "certificate"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, max_length=40)
    case_id: int = Field(foreign_key="case_file.id", unique=True)
    holder_id: int = Field(foreign_key="user_account.id", index=True)
    holder_name: str = Field(max_length=100)
    title: str = Field(max_length=60)
    series: str = Field(default="", max_length=40)
    specialty: str = Field(default="", max_length=80)
    level: str = Field(default="", max_length=10)
    issuer: str = Field(max_length=200)
    issued_on: date
    status: str = Field(default=CertificateStatus.VALID.value, max_length=10)
    revoked_on: date | None = None
    revocation_reason: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class IntegrityRecord(TableModel, table=True):
    """A dishonesty record (e.g. a title obtained by fraud): blocks new applications until ``ends_on``."""

    __tablename__ = "integrity_record"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="case_file.id")
    reason: str
    starts_on: date
    ends_on: date
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
