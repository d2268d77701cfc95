"""encrypted ballots: Paillier ciphertexts per choice counter instead of the clear choice; the committee key

Revision ID: 0016
Revises: 0015

``ballot.choice`` (the choice in clear) is replaced by ``c_yes``, ``c_no`` and ``c_abstain``: one Paillier
ciphertext per choice counter under the session's committee key, in hex (see ``workflow/panel/ballot_keys.py`` and
``docs/ballot-secrecy.md``). ``committee_key`` holds each session's public key ``n`` (hex) and its fingerprint;
the private key is never stored (two people hold its shares).

Existing ballots cannot be encrypted here: no committee key exists for them yet, and encrypting old choices
would mean reading them once more in clear.

* Ballots of **closed** boxes are deleted: the box row keeps the official tally and the close event records
  it, which is all the minutes need. A recount of such a box has no ciphertexts to work from and reports it as
  closed before its session had a committee key (``workflow.panel.sitting.recount_ballots``).
* An **open** box holding ballots stops the upgrade (``RuntimeError`` naming the boxes): close those boxes with
  the previous release (or let the chair close them) and upgrade again. Silently dropping cast votes or keeping
  them in clear are both worse than waiting for the count.

The table is dropped and created again (on SQLite with ``secure_delete`` on, so the freed pages are zeroed;
run ``VACUUM`` on PostgreSQL afterwards or ``titlereview``'s sign-off scrub to remove old row versions from the
files — the WAL and backups taken before the upgrade still hold the old clear ballots and must be expired).

The downgrade restores the clear ``choice`` column on an empty ``ballot`` table (ciphertexts cannot be turned
back into choices without the shares) and drops ``committee_key``.
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - the model's string columns are sqlmodel's AutoString
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def _create_ballot(columns: list[sa.Column]) -> None:
    op.create_table('ballot',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('box_id', sa.Integer(), nullable=False),
    *columns,
    sa.ForeignKeyConstraint(['box_id'], ['ballot_box.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_box_id'), ['box_id'], unique=False)


def _drop_ballot() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("PRAGMA secure_delete = ON")  # zero the freed pages of the old clear ballots
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_box_id'))
    op.execute("DELETE FROM ballot")
    op.drop_table('ballot')


def upgrade() -> None:
    """Apply this revision: refuse if an open box holds clear ballots, else drop them and store ciphertexts."""
    bind = op.get_bind()
    open_boxes = bind.execute(sa.text(
        "SELECT DISTINCT b.box_id FROM ballot b JOIN ballot_box x ON x.id = b.box_id "
        "WHERE x.closed_at IS NULL ORDER BY b.box_id")).scalars().all()
    if open_boxes:
        raise RuntimeError(
            "ballot boxes " + ", ".join(str(b) for b in open_boxes) + " are still open and hold clear ballots: "
            "close them with the previous release, then upgrade (see docs/ballot-secrecy.md)")
    _drop_ballot()
    _create_ballot([
        sa.Column('c_yes', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('c_no', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('c_abstain', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    ])
    op.create_table('committee_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('n', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['review_session.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id')
    )


def downgrade() -> None:
    """Revert this revision: an empty clear-choice ballot table (ciphertexts are lost), no committee keys."""
    op.drop_table('committee_key')
    _drop_ballot()
    _create_ballot([sa.Column('choice', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False)])
