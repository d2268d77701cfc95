"""All tables. Importing this package registers every table on ``SQLModel.metadata`` (Alembic needs that)."""

from sqlmodel import SQLModel

from ._types import as_utc, utcnow
from .cases import Case, CaseEvent, Notification, OutboxMessage, Timer
from .definitions import CalendarOverride, PipelineVersion, StandardVersion
from .mail import EmailMessage
from .orgs import ApplicantProfile, Organisation, User, UserRole
from .panels import Attendance, Ballot, BallotBox, BallotParticipation, Conflict, Opinion
from .records import Certificate, IntegrityRecord
from .sessions import CommitteeSeat, ReviewSession

metadata = SQLModel.metadata

__all__ = [
    "ApplicantProfile",
    "Attendance",
    "Ballot",
    "BallotBox",
    "BallotParticipation",
    "CalendarOverride",
    "Case",
    "CaseEvent",
    "Certificate",
    "CommitteeSeat",
    "Conflict",
    "EmailMessage",
    "IntegrityRecord",
    "Notification",
    "Opinion",
    "Organisation",
    "OutboxMessage",
    "PipelineVersion",
    "ReviewSession",
    "StandardVersion",
    "Timer",
    "User",
    "UserRole",
    "as_utc",
    "metadata",
    "utcnow",
]
