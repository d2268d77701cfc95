"""authority inbox indexes: the authority inbox's counts, queues and history pages by index, however long the history

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 08:55:00.000000

Two partial indexes on submitted cases. By (authority, state, time in state, id): the inbox counts its open
states and caps the closed ones from this index alone (an index-only scan on PostgreSQL), and a one-state
queue comes out in waiting order without sorting the queue. By (authority, last change, id): the "all cases"
and "closed" tabs, latest change first, read one page of the index instead of sorting the authority's whole
history. Measured by ``titlereview bench`` (scale).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_WHERE = sa.text("submitted_at IS NOT NULL")


def upgrade() -> None:
    """Apply this revision."""
    op.create_index('ix_case_authority_queue', 'case_file', ['authority_org_id', 'state', 'state_entered_at', 'id'],
                    unique=False, postgresql_where=_WHERE, sqlite_where=_WHERE)
    op.create_index('ix_case_authority_recent', 'case_file', ['authority_org_id', 'updated_at', 'id'],
                    unique=False, postgresql_where=_WHERE, sqlite_where=_WHERE)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index('ix_case_authority_recent', table_name='case_file')
    op.drop_index('ix_case_authority_queue', table_name='case_file')
