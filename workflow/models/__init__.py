"""All tables. Importing this package registers every table on ``SQLModel.metadata`` (Alembic needs that)."""

from sqlmodel import SQLModel

from ._types import as_utc, utcnow
from .api_tokens import ApiToken  # noqa: F401 - registers the api_token table
from .attachments import Attachment
from .cases import Case, CaseEvent, Notification, OutboxMessage, Timer
from .checkpoints import AuditCheckpoint
from .committee import CommitteeDraw, Defence, PanelLog, ReviewAssignment, Sitting
from .definitions import CalendarOverride, PipelineVersion, StandardDraft, StandardVersion
from .experts import Expert
from .mail import EmailMessage
from .orgs import ApplicantProfile, Organisation, User, UserRole
from .panels import Attendance, Ballot, BallotBox, BallotParticipation, Conflict, Opinion
from .records import Certificate, CertificateStatus, IntegrityRecord
from .reports import ReportCalendarDay
from .sessions import CommitteeSeat, ReviewSession

metadata = SQLModel.metadata

__all__ = [
    "ApplicantProfile",
    "Attachment",
    "Attendance",
    "AuditCheckpoint",
    "Ballot",
    "BallotBox",
    "BallotParticipation",
    "CalendarOverride",
    "Case",
    "CaseEvent",
    "Certificate",
    "CertificateStatus",
    "CommitteeDraw",
    "CommitteeSeat",
    "Conflict",
    "Defence",
    "EmailMessage",
    "Expert",
    "IntegrityRecord",
    "Notification",
    "Opinion",
    "Organisation",
    "OutboxMessage",
    "PanelLog",
    "PipelineVersion",
    "ReportCalendarDay",
    "ReviewAssignment",
    "ReviewSession",
    "Sitting",
    "StandardDraft",
    "StandardVersion",
    "Timer",
    "User",
    "UserRole",
    "as_utc",
    "metadata",
    "utcnow",
]
