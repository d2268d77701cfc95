"""A person's own display preferences, kept on their account so they follow them to every device.

Only the elder-friendly mode (长辈模式: larger text and controls, stronger contrast) so far. A preference is not
a case's state and changes nothing anyone else sees, so it leaves no audit event.
"""

from __future__ import annotations

from sqlalchemy import select, update

from .db import Database
from .errors import CaseNotFound
from .models import User

_user = User.__table__


def elder_mode(db: Database, user_id: int) -> bool:
    """Whether ``user_id`` chose the elder-friendly mode (False for an unknown account)."""
    with db.read() as conn:
        return bool(conn.execute(select(_user.c.elder_mode).where(_user.c.id == user_id)).scalar())


def set_elder_mode(db: Database, user_id: int, on: bool) -> None:
    """Switch the elder-friendly mode on or off for the account ``user_id`` (its owner's own choice)."""
    with db.write() as conn:
        changed = conn.execute(update(_user).where(_user.c.id == user_id).values(elder_mode=bool(on))).rowcount
    if not changed:
        raise CaseNotFound("用户不存在", "No such user")
