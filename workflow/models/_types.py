"""Column types shared by the tables: JSON that is JSONB on PostgreSQL, and UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar, overload

from sqlalchemy import JSON, DateTime, Table
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import SQLModel

JSONType = JSON().with_variant(JSONB(), "postgresql")
"""Portable JSON column type: JSONB on PostgreSQL (indexable), JSON text elsewhere."""

UTCDateTime = DateTime(timezone=True)
"""Timestamps are stored in UTC; SQLite drops the zone, so read them back through :func:`as_utc`."""


def utcnow() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
@overload
def as_utc(value: datetime | None) -> datetime | None: ...


def as_utc(value: datetime | None) -> datetime | None:
    """Return ``value`` as an aware UTC datetime (SQLite gives naive values that were written as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


if TYPE_CHECKING:
    class TableModel(SQLModel):
        """What the type checker knows of a table class: SQLModel gives every ``table=True`` class its
        ``__table__`` at runtime, but its type stubs do not say so."""

        __table__: ClassVar[Table]
else:
    TableModel = SQLModel
"""Base of every table class (exactly :class:`sqlmodel.SQLModel` at runtime)."""
