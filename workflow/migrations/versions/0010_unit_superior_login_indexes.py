"""unit, superior and login indexes: the unit inbox, the superior department's pages and sign-in by index

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 09:55:00.000000

The unit inbox gets the two partial indexes the authority inbox got in 0009, keyed by the reviewing unit:
(unit, state, time in state, id) for its exact open counts, capped closed count and one-state queues, and
(unit, last change, id) for its history tabs. (employer, state) serves the employer's half of the unit
notice board ("unit or employer"), which otherwise read every case on notice anywhere. The superior
department's history finds the cases it acted on from a partial index of its own events (only superior
reviewers' events are indexed, so the transitions of every other role pay nothing). Sign-in looks the name
up case-insensitively: on PostgreSQL by an index on ``lower(username)``; SQLite cannot reflect expression
indexes (and the migrations-match-the-models check reflects them), so there the same lookup is
``username COLLATE NOCASE`` on a NOCASE index — both fold ASCII letters only, as SQLite's ``lower()`` does.
Measured with EXPLAIN ANALYZE on a 1M-case PostgreSQL database filled by bench/scale.py's generator.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_SUBMITTED = sa.text("submitted_at IS NOT NULL")
_SUPERIOR = sa.text("actor_role = 'superior_reviewer'")


def upgrade() -> None:
    """Apply this revision."""
    op.create_index('ix_case_unit_queue', 'case_file', ['unit_org_id', 'state', 'state_entered_at', 'id'],
                    unique=False, postgresql_where=_SUBMITTED, sqlite_where=_SUBMITTED)
    op.create_index('ix_case_unit_recent', 'case_file', ['unit_org_id', 'updated_at', 'id'],
                    unique=False, postgresql_where=_SUBMITTED, sqlite_where=_SUBMITTED)
    op.create_index('ix_case_employer_state', 'case_file', ['employer_org_id', 'state'], unique=False)
    op.create_index('ix_event_superior_actor', 'case_event', ['actor_id', 'case_id'],
                    unique=False, postgresql_where=_SUPERIOR, sqlite_where=_SUPERIOR)
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('CREATE INDEX ix_user_username_ci ON user_account (username COLLATE NOCASE)')
    else:
        op.create_index('ix_user_username_ci', 'user_account', [sa.text('lower(username)')], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index('ix_user_username_ci', table_name='user_account')
    op.drop_index('ix_event_superior_actor', table_name='case_event')
    op.drop_index('ix_case_employer_state', table_name='case_file')
    op.drop_index('ix_case_unit_recent', table_name='case_file')
    op.drop_index('ix_case_unit_queue', table_name='case_file')
