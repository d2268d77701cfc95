"""Creating and looking up organisations, users and roles (used by seeding, admin pages and tests)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from workflow.access.passwords import hash_password
from workflow.access.roles import USER_ROLES, Actor

from .models import Organisation, User, UserRole


def create_org(session: Session, name: str, kind: str, **fields) -> Organisation:
    """Add an organisation of ``kind`` (employer, agency, superior, authority)."""
    if kind not in ("employer", "agency", "superior", "authority"):
        raise ValueError(f"unknown organisation kind {kind!r}")
    org = Organisation(name=name, kind=kind, **fields)
    session.add(org)
    session.flush()
    return org


def create_user(session: Session, username: str, display_name: str, roles: Iterable[str], *,
                org: Organisation | None = None, password: str | None = None, **fields) -> User:
    """Add a user with ``roles`` (each must be a grantable role) and an optional password."""
    roles = list(roles)
    unknown = [r for r in roles if r not in USER_ROLES]
    if unknown:
        raise ValueError(f"roles cannot be granted: {', '.join(unknown)}")
    user = User(username=username, display_name=display_name, org_id=org.id if org else None,
                password_hash=hash_password(password) if password else "", **fields)
    session.add(user)
    session.flush()
    assert user.id is not None  # flush() just above inserted the row and assigned its key
    for role in roles:
        session.add(UserRole(user_id=user.id, role=role))
    session.flush()
    return user


def actor_for(session: Session, user_id: int) -> Actor:
    """The Actor the engine needs for ``user_id`` (roles and organisation read fresh from the database)."""
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise LookupError(f"no active user {user_id}")
    roles = session.exec(select(UserRole.role).where(UserRole.user_id == user_id)).all()
    return Actor(user_id=user.id, roles=frozenset(roles), org_id=user.org_id, name=user.display_name)


def usernames(conn: Connection, ids: Iterable[int]) -> dict[int, str]:
    """Sign-in names of the given users (id → username), in one statement; an unknown id is left out."""
    ids = set(ids)
    if not ids:
        return {}
    user = User.__table__
    return dict(conn.execute(core_select(user.c.id, user.c.username).where(user.c.id.in_(ids))).all())


def username_of(conn: Connection, user_id: int) -> str | None:
    """The sign-in name of user ``user_id``, or None when there is no such user."""
    user = User.__table__
    return conn.execute(core_select(user.c.username).where(user.c.id == user_id)).scalar_one_or_none()
