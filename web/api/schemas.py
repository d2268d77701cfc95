"""Request and response models of the REST API (pydantic v2); spectree validates with them and documents them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from workflow.models import CertificateStatus


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(_Out):
    """An error as RFC 9457 problem details (``application/problem+json``)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    reasons: list[str] = []


class Label(_Out):
    zh: str
    en: str


class CaseQuery(_In):
    """Filters and paging of the case list."""

    state: str | None = Field(default=None, max_length=60, description="exact state id")
    pipeline: str | None = Field(default=None, max_length=60, description="pipeline id")
    session: int | None = Field(default=None, ge=1, le=2**31 - 1, description="review session id")
    q: str | None = Field(default=None, max_length=100, description="reference or applicant name contains")
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=10**6)


class CaseSummary(_Out):
    id: int
    reference: str
    pipeline_id: str
    pipeline_version: int
    state: str
    state_label: Label
    version: int
    level: str
    target_title: str
    series: str
    specialty: str
    applicant_name: str
    unit_name: str
    session_id: int | None
    session_name: str | None
    created_at: datetime
    updated_at: datetime
    state_entered_at: datetime
    submitted_at: datetime | None
    next_due: datetime | None = None


class CaseList(_Out):
    items: list[CaseSummary]
    total: int
    limit: int
    offset: int


class CaseDetail(CaseSummary):
    route: str
    employer_name: str | None
    authority_name: str
    standard_id: str | None
    standard_version: int | None
    certificate_number: str | None
    relations: list[str] = Field(description="roles in which the token may see the case")


class Event(_Out):
    seq: int
    trigger: str
    from_state: str | None
    to_state: str
    actor_role: str
    actor_name: str | None
    objector_hidden: bool = Field(default=False, description="a named objection whose objector is kept "
                                  "confidential from this token (actor_name is then null)")
    comment: str
    created_at: datetime
    details: dict[str, Any] = Field(description="reasons, corrections, assessment, deadline (never ballots)")


class EventList(_Out):
    items: list[Event]


class ActionOption(_Out):
    trigger: str
    label: Label
    style: str
    requires: list[str]
    allowed: bool
    reasons: list[str]


class ActionList(_Out):
    case_version: int
    items: list[ActionOption]


class Assessment(_In):
    result: str = Field(min_length=1, max_length=20)
    summary: str = Field(default="", max_length=2000)


class FireData(_In):
    reason: str | None = Field(default=None, max_length=2000)
    corrections: list[str] | None = Field(default=None, max_length=50)
    assessment: Assessment | None = None


class BallotSharesIn(_In):
    """Both ballot key shares (the chair's share A and the officer's share B), needed to close a ballot."""

    chair: str = Field(min_length=1, max_length=4096)
    officer: str = Field(min_length=1, max_length=4096)


class FireRequest(_In):
    """Fire one transition; ``expected_version`` (the case's ``version`` you saw) guards against stale writes.
    ``ballot_shares`` is for ``close_ballot`` only: used for that count, never recorded."""

    comment: str = Field(default="", max_length=2000)
    data: FireData = FireData()
    expected_version: int | None = Field(default=None, ge=0, le=2**31 - 1)
    ballot_shares: BallotSharesIn | None = None


class Fired(_Out):
    case_id: int
    trigger: str
    from_state: str
    to_state: str
    version: int
    role: str


class Notice(_Out):
    case_id: int
    reference: str
    applicant_name: str
    unit_name: str
    target_title: str
    specialty: str
    level: str
    state: str
    notice_end: datetime | None


class NoticeList(_Out):
    items: list[Notice]


class CertificateOut(_Out):
    number: str
    holder_name: str
    title: str
    series: str
    specialty: str
    level: str
    issuer: str
    issued_on: date
    status: CertificateStatus
    revoked_on: date | None
    revocation_reason: str
    employer_name: str | None = None
    id_masked: str | None = Field(default=None, description="the holder's resident ID number with only its first "
                                  "3 and last 4 characters shown (None when the holder declared none)")


class SessionOut(_Out):
    id: int
    code: str
    name: str
    name_en: str
    series: str
    industry: str
    year: int
    pipeline_ids: list[str]
    standard_ids: list[str] = Field(description="the occupation standards the session accepts (ids)")
    authority_name: str
    opens_on: date | None
    closes_on: date | None
    sitting_on: date | None
    status: str


class SessionList(_Out):
    items: list[SessionOut]


class StandardSummary(_Out):
    id: str
    version: int
    name: Label
    series: str
    specialty: str
    level: str
    title: str
    effective_from: date
    effective_until: date | None


class StandardList(_Out):
    items: list[StandardSummary]


class StandardOut(StandardSummary):
    body: dict[str, Any] = Field(description="the whole standard as published")
