"""session generation: sessions that end on the server (sign-out, password change, 全部设备退出)

Revision ID: 0013
Revises: 0012

``user_account.session_generation`` is a counter that every signed-in cookie carries a fingerprint of (together
with the password hash, see ``web/security.py``). Signing out, changing or resetting the password, deactivating
the account and an administrator's "sign out everywhere" raise it, so every cookie issued before stops working
at once on every device, however long the browser keeps it.

Existing rows start at 0. The fingerprint's formula changes with this revision, so every cookie issued before
the upgrade is refused and everyone signs in once more: cookies that were "signed out" before the upgrade
still worked then, and keeping them alive would keep the hole this revision closes.

The column is added in place with the server default ``0`` (also declared on the model), not by rebuilding the
table: SQLite cannot drop and re-create ``user_account`` while other rows refer to it. The downgrade drops it.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: add the counter, 0 for every existing account."""
    op.add_column('user_account', sa.Column('session_generation', sa.Integer(), nullable=False,
                                            server_default=sa.text('0')))


def downgrade() -> None:
    """Revert this revision (in place too: ALTER TABLE … DROP COLUMN, which SQLite has since 3.35)."""
    op.drop_column('user_account', 'session_generation')
