"""Signed audit checkpoints (see :mod:`workflow.records.checkpoints`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field

from ._types import JSONType, TableModel, UTCDateTime, utcnow


class AuditCheckpoint(TableModel, table=True):
    """One signed statement of every case's chain head and every closed ballot box's tally.

    ``body`` is exactly what was signed (its canonical JSON): sequence number, the previous checkpoint's digest,
    the time, the key id, and the count and SHA-256 digest of each list. ``case_heads`` and ``closed_tallies``
    hold the lists themselves; they are bound to the signature through those digests, so verification can name
    the case or box that changed. The signing key never touches the database.
    """

    __tablename__ = "audit_checkpoint"

    # Numbered by the signer (previous + 1 under a lock), never by the database: a gap must mean a deletion.
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    body: dict = Field(sa_column=Column(JSONType, nullable=False))
    signature: str = Field(max_length=120)
    key_id: str = Field(max_length=64)
    case_heads: list = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    closed_tallies: list = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
