"""audit checkpoints: signed statements of every chain head, the case count and every closed tally

Revision ID: 0015
Revises: 0014

``audit_checkpoint`` holds one row per signed checkpoint (``titlereview audit checkpoint``, see
``workflow/records/checkpoints.py``). ``body`` is the statement that was signed with an Ed25519 key kept outside the
database: its sequence number, the previous checkpoint's digest (so a deleted checkpoint leaves a gap that the
next one's link exposes), the time, the key id, and the count and SHA-256 digest of two lists — every case's
(id, last event hash, event count) and every closed ballot box's (id, case, round, yes, no, abstain, passed).
``case_heads`` and ``closed_tallies`` hold those lists; the signed digests bind them, so ``audit verify`` can
name the case or box that changed since. ``signature`` is the base64 signature, ``key_id`` names the key.

``seq`` is the primary key and is numbered by the signer, not by the database (no sequence / autoincrement):
numbers must run without gaps, and a database sequence skips numbers on a rolled-back insert.

The table starts empty: the first checkpoint is signed when an operator (or the timer) runs the command. The
downgrade drops the table and with it every checkpoint; keep an exported copy
(``titlereview audit export-checkpoints``) before downgrading.
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - the model's string columns are sqlmodel's AutoString
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def _json_type() -> sa.types.TypeEngine:
    from sqlalchemy.dialects.postgresql import JSONB

    return sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    """Apply this revision: the empty checkpoint table."""
    op.create_table('audit_checkpoint',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', _json_type(), nullable=False),
    sa.Column('signature', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('case_heads', _json_type(), nullable=False),
    sa.Column('closed_tallies', _json_type(), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )


def downgrade() -> None:
    """Revert this revision: drop the table (export the checkpoints first, see above)."""
    op.drop_table('audit_checkpoint')
