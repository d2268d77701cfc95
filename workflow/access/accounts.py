"""Signing in: the account a typed username names, the password check that takes as long whether or not the
account exists, and the signed-in user read on every request (with roles and organisation, in one statement).

The web layer keeps what belongs to the browser — the cookie's fingerprint, flask-login, the throttle; this module
is what it asks the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, bindparam, func, select

from workflow.db import Database
from workflow.models import Organisation, User, UserRole

from .passwords import hash_password, verify_password

_user = User.__table__
_role = UserRole.__table__
_org = Organisation.__table__

# Verifying against a real hash when the username is unknown keeps both answers equally slow, so response
# times do not reveal which usernames exist. Made on first need: hashing costs as much as a sign-in.
_DUMMY_HASH: list[str] = []


@contextmanager
def statement_reads(db: Database) -> Iterator[Connection]:
    """A connection for reads that need no transaction of their own (the signed-in user, the case page).

    On PostgreSQL an autocommit connection: at its READ COMMITTED level every statement takes its own
    snapshot whether or not the statements share a transaction, so ``BEGIN`` and ``COMMIT`` would only add two
    round trips to the server. On SQLite a read transaction, which there does make the statements agree.
    """
    if not db.is_postgres:
        with db.read() as conn:
            yield conn
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        yield conn


def username_matches(conn: Connection, typed: str) -> ColumnElement[bool]:
    """The condition "this account's name is ``typed``, ignoring case", in the form the name index serves.

    PostgreSQL has an index on ``lower(username)``; SQLite's is ``username COLLATE NOCASE`` (see migration
    0010), and SQLite's ``lower()`` folds the same ASCII letters that NOCASE does, so both mean the same.
    Without the index every sign-in read the whole account table.
    """
    name = typed.strip()
    if conn.dialect.name == "sqlite":
        return _user.c.username.collate("NOCASE") == name
    return func.lower(_user.c.username) == name.lower()


def check_credentials(db: Database, username: str, password: str) -> int | None:
    """The id of the active account named ``username`` (ignoring case and surrounding spaces) whose password
    is ``password``, else None — for an unknown name, a wrong password and a deactivated account alike.

    Every refusal costs one hash verification, so its timing tells nothing: an unknown name is verified against
    a stand-in hash, and a deactivated account's password is verified before its status refuses it. The account
    is read in a transaction of its own, closed before the (deliberately slow) hash is verified, so a sign-in
    holds no connection while it hashes.
    """
    with db.read() as conn:
        row = conn.execute(select(_user.c.id, _user.c.password_hash, _user.c.is_active)
                           .where(username_matches(conn, username))).first()
    if row is None:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(hash_password("not-a-real-password"))
        verify_password(_DUMMY_HASH[0], password)
        return None
    matches = verify_password(row.password_hash, password)
    return int(row.id) if matches and row.is_active else None


@dataclass(frozen=True)
class SignedInUser:
    """An active account as a signed-in request needs it: who, which roles, which organisation, and what the
    session cookie's fingerprint is made of (the password hash and the session generation)."""

    id: int
    username: str
    display_name: str
    password_hash: str
    session_generation: int
    roles: frozenset[str]
    org_id: int | None
    org_name: str
    org_kind: str
    elder_mode: bool


_SIGNED_IN_USER = (select(_user.c.id, _user.c.username, _user.c.display_name, _user.c.password_hash,
                          _user.c.is_active, _user.c.session_generation, _user.c.org_id, _org.c.name, _org.c.kind,
                          _role.c.role, _user.c.elder_mode)
                   .select_from(_user.outerjoin(_org, _org.c.id == _user.c.org_id)
                                .outerjoin(_role, _role.c.user_id == _user.c.id))
                   .where(_user.c.id == bindparam("user_id")))
"""The user with organisation and roles in one statement (a row per role), built once: every request runs it."""


def signed_in_user(conn: Connection, user_id: int) -> SignedInUser | None:
    """The active account ``user_id`` with its roles and organisation (one indexed statement), or None when
    there is no such account or it is deactivated. Read on every request, so a change of roles or a
    deactivation takes effect at once."""
    rows = conn.execute(_SIGNED_IN_USER, {"user_id": user_id}).all()
    if not rows or not rows[0].is_active:
        return None
    row = rows[0]
    return SignedInUser(id=row.id, username=row.username, display_name=row.display_name,
                        password_hash=row.password_hash or "", session_generation=row.session_generation,
                        roles=frozenset(r.role for r in rows if r.role is not None), org_id=row.org_id,
                        org_name=row.name or "", org_kind=row.kind or "", elder_mode=bool(row.elder_mode))
