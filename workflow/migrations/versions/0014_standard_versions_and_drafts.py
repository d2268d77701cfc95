"""standard versions and drafts: effective dates that decide, the version a version came from, saved drafts

Revision ID: 0014
Revises: 0013

``standard_version.effective_from`` (DATE, not null) repeats the date in the version's body as a column. A new
case is now judged by the version *in force* on the day it is first submitted — the newest version whose
``effective_from`` is on or before that day — instead of the newest version published, so a version published
ahead of its date (a policy announced for next year) waits for its date. The submission guard picks that
version with one comparison on the column; reading every body to find the date would cost a parse per
version on the hot path. Existing rows are filled from ``body->effective_from``, which every stored standard
has (the schema requires it); a row without a readable date (only a hand-edited one could be) takes the day it
was published, so it stays in force as it was.

``standard_version.based_on_id`` / ``based_on_version`` (nullable) name the version a version was revised or
copied from, so the history can say where each version came from and link the comparison. Existing rows are
left empty: nothing recorded where they came from.

``standard_draft`` holds the editor's work saved without publishing: the JSON-shaped body as it stands (it may
still be invalid), the version it started from, who wrote it and when, and ``lock_version`` for optimistic
concurrency (two administrators saving the same draft: the second is told, not silently overwritten).

The new columns are added in place; making ``effective_from`` NOT NULL after the fill rebuilds
``standard_version`` on SQLite (batch mode), which SQLite allows here because no table refers to
``standard_version`` (cases record the (id, version) pair without a foreign key). PostgreSQL alters the column
in place.

The downgrade drops the table and the columns (drafts and the recorded origins are lost; the effective date
stays in each body, and the newest version decides again).
"""
from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - the model's string columns are sqlmodel's AutoString
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def _json_type() -> sa.types.TypeEngine:
    from sqlalchemy.dialects.postgresql import JSONB

    return sa.JSON().with_variant(JSONB(), "postgresql")


def _effective_from(body, published_at) -> date:
    """The date in the body, else the day the version was published (see the module's docstring)."""
    body = json.loads(body) if isinstance(body, str) else (body or {})
    raw = body.get("effective_from") if isinstance(body, dict) else None
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    return published_at.date()  # not null; a DateTime column reads back as a datetime on both databases


def upgrade() -> None:
    """Apply this revision: the columns, their fill from the bodies, then the drafts table."""
    op.add_column('standard_version', sa.Column('effective_from', sa.Date(), nullable=True))
    op.add_column('standard_version', sa.Column('based_on_id', sqlmodel.sql.sqltypes.AutoString(length=80),
                                                nullable=True))
    op.add_column('standard_version', sa.Column('based_on_version', sa.Integer(), nullable=True))
    bind = op.get_bind()
    sv = sa.Table("standard_version", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                  sa.Column("body", _json_type()), sa.Column("published_at", sa.DateTime(timezone=True)),
                  sa.Column("effective_from", sa.Date()))
    for row_id, body, published_at in bind.execute(sa.select(sv.c.id, sv.c.body, sv.c.published_at)).all():
        bind.execute(sv.update().where(sv.c.id == row_id)
                     .values(effective_from=_effective_from(body, published_at)))
    # Rebuilt on SQLite (nothing refers to standard_version, see the docstring); in place on PostgreSQL.
    with op.batch_alter_table('standard_version', schema=None) as batch_op:
        batch_op.alter_column('effective_from', existing_type=sa.Date(), nullable=False)

    op.create_table('standard_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('standard_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('body', _json_type(), nullable=False),
    sa.Column('base_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('base_version', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lock_version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['updated_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    """Revert this revision (the columns are dropped in place: ALTER TABLE … DROP COLUMN, SQLite 3.35+)."""
    op.drop_table('standard_draft')
    op.drop_column('standard_version', 'based_on_version')
    op.drop_column('standard_version', 'based_on_id')
    op.drop_column('standard_version', 'effective_from')
