"""Personal API tokens: create (the secret is returned once), list, revoke, and authenticate a bearer.

A token is ``trk_`` followed by 43 URL-safe random characters; only its SHA-256 is stored, so a leaked
database does not leak usable tokens. The token acts as its owner limited to its ``scopes`` (a subset of
the owner's roles): roles are read fresh on every request, so revoking a role from the owner revokes it
from the owner's tokens as well, and a deactivated owner's tokens stop working.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from workflow.access.roles import USER_ROLES, Actor
from workflow.db import Database
from workflow.models import ApiToken, User, UserRole, as_utc, utcnow

_token = ApiToken.__table__
_user = User.__table__
_role = UserRole.__table__

PREFIX = "trk_"
"""Every secret starts with this, so scanners and people recognise a titlereview token."""

LAST_USED_GRANULARITY = timedelta(minutes=1)
"""``last_used_at`` is written at most this often per token (a busy client should not write on every call)."""


@dataclass(frozen=True)
class NewToken:
    """A token just created: ``secret`` is the only time the full token is available."""

    id: int
    name: str
    scopes: list[str]
    secret: str


def hash_secret(secret: str) -> str:
    """The stored form of a secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _owner_roles(conn: Connection, user_id: int) -> set[str]:
    return set(conn.execute(select(_role.c.role).where(_role.c.user_id == user_id)).scalars())


def create_token(db: Database, user_id: int, name: str, scopes: Iterable[str]) -> NewToken:
    """Create a token for ``user_id`` limited to ``scopes`` (each must be a role the user holds)."""
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise ValueError("token name must be 1 to 80 characters")
    scopes = sorted(set(scopes))
    if not scopes:
        raise ValueError("a token needs at least one role")
    secret = PREFIX + secrets.token_urlsafe(32)
    with db.write() as conn:
        held = _owner_roles(conn, user_id) & USER_ROLES
        foreign = [s for s in scopes if s not in held]
        if foreign:
            raise ValueError(f"roles not held by the user: {', '.join(foreign)}")
        token_id = conn.execute(insert(_token).values(
            user_id=user_id, name=name, prefix=secret[:len(PREFIX) + 6], token_hash=hash_secret(secret),
            scopes=scopes, created_at=utcnow(), last_used_at=None, revoked_at=None).returning(_token.c.id)).scalar_one()
    return NewToken(token_id, name, scopes, secret)


def list_tokens(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    """The user's tokens, newest first (never the hash)."""
    rows = conn.execute(select(_token.c.id, _token.c.name, _token.c.prefix, _token.c.scopes, _token.c.created_at,
                               _token.c.last_used_at, _token.c.revoked_at)
                        .where(_token.c.user_id == user_id).order_by(_token.c.id.desc())).mappings()
    out = []
    for r in rows:
        d = dict(r)
        for key in ("created_at", "last_used_at", "revoked_at"):
            d[key] = as_utc(d[key])
        out.append(d)
    return out


def revoke_token(db: Database, user_id: int, token_id: int) -> bool:
    """Revoke the user's token ``token_id``; False when there is no such live token of theirs."""
    with db.write() as conn:
        done = conn.execute(update(_token).where(_token.c.id == token_id, _token.c.user_id == user_id,
                                                 _token.c.revoked_at.is_(None)).values(revoked_at=utcnow()))
        return done.rowcount == 1


def authenticate(db: Database, secret: str, *, now: datetime | None = None) -> Actor | None:
    """The Actor a bearer ``secret`` acts as (owner ∩ scopes), or None for an unknown, revoked or
    ownerless token. Records the use (at most once per minute)."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    now = now or utcnow()
    digest = hash_secret(secret)
    with db.read() as conn:
        row = conn.execute(select(_token.c.id, _token.c.scopes, _token.c.revoked_at, _token.c.last_used_at,
                                  _user.c.id.label("user_id"), _user.c.org_id, _user.c.display_name,
                                  _user.c.is_active)
                           .join(_user, _user.c.id == _token.c.user_id)
                           .where(_token.c.token_hash == digest)).mappings().first()
        if row is None or row["revoked_at"] is not None or not row["is_active"]:
            return None
        roles = frozenset(_owner_roles(conn, row["user_id"]) & set(row["scopes"] or []))
    last = as_utc(row["last_used_at"])
    if last is None or now - last >= LAST_USED_GRANULARITY:
        with db.write() as conn:
            conn.execute(update(_token).where(_token.c.id == row["id"]).values(last_used_at=now))
    return Actor(user_id=row["user_id"], roles=roles, org_id=row["org_id"], name=row["display_name"])
