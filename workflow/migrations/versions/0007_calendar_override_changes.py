"""calendar override changes: who set each override and when, and a history that outlives removals

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('calendar_override', schema=None) as batch_op:
        batch_op.add_column(sa.Column('changed_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key('fk_calendar_override_changed_by', 'user_account', ['changed_by'], ['id'])
    op.create_table('calendar_override_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('is_working_day', sa.Boolean(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('changed_by', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['changed_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('calendar_override_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_override_change_day'), ['day'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('calendar_override_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_override_change_day'))
    op.drop_table('calendar_override_change')
    with op.batch_alter_table('calendar_override', schema=None) as batch_op:
        batch_op.drop_constraint('fk_calendar_override_changed_by', type_='foreignkey')
        batch_op.drop_column('changed_at')
        batch_op.drop_column('changed_by')
