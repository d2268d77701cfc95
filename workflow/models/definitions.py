"""Stored versions of the data definitions, so running cases keep the version they started on."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, UniqueConstraint, text
from sqlmodel import Field

from ._types import JSONType, TableModel, UTCDateTime, utcnow


class PipelineVersion(TableModel, table=True):
    """The exact YAML text of one (pipeline id, version), loaded from ``definitions/pipelines``.

    Changing a pipeline's file without raising its version is refused at sync time (``sha256`` differs),
    because cases already running on that version would silently change behaviour.
    """

    __tablename__ = "pipeline_version"
    __table_args__ = (UniqueConstraint("pipeline_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    pipeline_id: str = Field(max_length=60)
    version: int
    source_text: str
    sha256: str = Field(max_length=64)
    loaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StandardVersion(TableModel, table=True):
    """One published version of an occupation standard (评价标准), edited by administrators.

    ``effective_from`` repeats the body's date as a column, so that the version in force on a day is one
    indexed comparison (migration 0014). ``based_on_id``/``based_on_version`` name the version this one was
    revised or copied from (None for seeds, imports and standards written from scratch).
    """

    __tablename__ = "standard_version"
    __table_args__ = (UniqueConstraint("standard_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    standard_id: str = Field(max_length=80, index=True)
    version: int
    name: str = Field(max_length=200)
    effective_from: date
    body: dict = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    published_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_by: int | None = Field(default=None, foreign_key="user_account.id")
    based_on_id: str | None = Field(default=None, max_length=80)
    based_on_version: int | None = None


class StandardDraft(TableModel, table=True):
    """A standard being written, saved without publishing (migration 0014).

    ``body`` is the editor's JSON-shaped standard as it stands, which may still be incomplete or invalid: a
    draft is checked only when it is published. ``standard_id`` repeats the body's id (blank while the editor
    has none) for lists. ``base_id``/``base_version`` name the version the draft started from (the standard
    revised, or the one copied; None when written from scratch). ``lock_version`` is the optimistic lock: a
    save or publish names the value it read, and loses to any write made since.
    """

    __tablename__ = "standard_draft"

    id: int | None = Field(default=None, primary_key=True)
    standard_id: str = Field(default="", max_length=80)
    body: dict = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    base_id: str | None = Field(default=None, max_length=80)
    base_version: int | None = None
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    updated_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lock_version: int = Field(default=1, sa_column_kwargs={"server_default": text("1")})


class CalendarOverride(TableModel, table=True):
    """An administrator's correction to the working-day calendar (True = working day, False = day off)."""

    __tablename__ = "calendar_override"

    day: date = Field(primary_key=True)
    is_working_day: bool
    note: str = Field(default="", max_length=200)
    changed_by: int | None = Field(default=None, foreign_key="user_account.id")
    changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CalendarOverrideChange(TableModel, table=True):
    """One administrator's change to the calendar overrides (kept after an override is removed)."""

    __tablename__ = "calendar_override_change"

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(index=True)
    action: str = Field(max_length=10)  # "set" or "remove"
    is_working_day: bool | None = None  # the value set, or the value removed
    note: str = Field(default="", max_length=200)
    changed_by: int | None = Field(default=None, foreign_key="user_account.id")
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
