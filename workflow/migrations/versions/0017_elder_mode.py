"""elder-friendly mode: a person's choice of larger text and stronger contrast (适老化, issue 18 item 4)

Revision ID: 0017
Revises: 0016

``user_account.elder_mode`` remembers whether the person switched the elder-friendly mode on (the header's
长辈模式 switch): text and controls at 150 %, stronger contrast, touch targets of at least 44 px. It is kept on
the account so that it follows the person to every device they sign in on; visitors who are not signed in keep
the same choice in a cookie (``web/display.py``).

Existing rows start switched off. The column is added in place with the server default ``false`` (declared on the
model too), as migration 0013 did: SQLite cannot drop and re-create ``user_account`` while other rows refer to it.
The downgrade drops it, and with it everyone's choice.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: add the switch, off for every existing account."""
    op.add_column('user_account', sa.Column('elder_mode', sa.Boolean(), nullable=False,
                                            server_default=sa.false()))


def downgrade() -> None:
    """Revert this revision (in place: ALTER TABLE … DROP COLUMN, which SQLite has since 3.35)."""
    op.drop_column('user_account', 'elder_mode')
