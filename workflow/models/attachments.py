"""Uploaded materials (申报材料) attached to a case: the row describes the file, the bytes live on disk.

Files are stored outside any web-served directory under a random name; the original file name is kept only
for display and for the download's ``Content-Disposition``. Removing an attachment only marks it removed
(``removed_at``): a dossier that was already seen by a reviewer must stay reconstructible.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field

from ._types import TableModel, UTCDateTime, utcnow


class Attachment(TableModel, table=True):
    """One uploaded file of a case (PDF, JPEG or PNG, type checked by content when uploaded)."""

    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_case", "case_id", "removed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id")
    uploaded_by: int = Field(foreign_key="user_account.id")
    category: str = Field(max_length=40, description="what the file proves, e.g. education, achievement; "
                          "objection_evidence: the file of a named objection, never part of the dossier")
    original_name: str = Field(max_length=255)
    stored_name: str = Field(unique=True, max_length=80, description="random file name under the upload folder")
    content_type: str = Field(max_length=60)
    size: int
    sha256: str = Field(max_length=64)
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    case_state: str = Field(default="", max_length=60, description="the case's state when it was uploaded")
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    removed_by: int | None = Field(default=None, foreign_key="user_account.id")
