"""Personal API tokens: a hashed secret per token, owned by one user and scoped to some of their roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field

from ._types import JSONType, TableModel, UTCDateTime, utcnow


class ApiToken(TableModel, table=True):
    """A bearer token for ``/api/v1``. Only the SHA-256 of the secret is stored (the secret is shown once).

    ``scopes`` is a subset of the owner's roles at creation; the token acts with the owner's roles that are
    still held *and* in ``scopes`` (a role taken away from the owner is taken away from the token too).
    """

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    name: str = Field(max_length=80)
    prefix: str = Field(max_length=12, description="first characters of the secret, to recognise a token")
    token_hash: str = Field(max_length=64, unique=True)
    scopes: list = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
