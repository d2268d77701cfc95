"""session standards: every review session lists the occupation standards (评价标准) it accepts

Revision ID: 0012
Revises: 0011

``review_session.standard_ids`` is a JSON list of standard ids (``standard_version.standard_id``); an applicant
of the session can choose only those, and a session with an empty list accepts no applications (the
administration refuses to save an open session without one).

Existing sessions are filled so that nothing that worked stops working for the standards that fit them: each
gets every stored standard whose series (that of its newest version) equals the session's series, and a
session without a series — which never restricted anything — gets every stored standard. A standard of
another series is not carried over even where a case of the session already uses it: that combination is
the mistake this revision exists to stop (an economics standard in an engineering session). Such cases keep
their standard; only a new choice is checked. A session whose series has no stored standard is left empty
and accepts nothing until an administrator lists one. Ids are in standard-id order.

The column is added in place with the server default ``'[]'`` (also declared on the model), not by rebuilding
the table: SQLite cannot drop and re-create ``review_session`` while other rows refer to it.

The downgrade drops the column (the lists are lost; before this revision any standard was accepted).
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def _json_type() -> sa.types.TypeEngine:
    from sqlalchemy.dialects.postgresql import JSONB

    return sa.JSON().with_variant(JSONB(), "postgresql")


def _series_of_standards(bind) -> dict[str, str]:
    """Each stored standard's series, read from the body of its newest version (id → series)."""
    sv = sa.Table("standard_version", sa.MetaData(), sa.Column("standard_id", sa.String),
                  sa.Column("version", sa.Integer), sa.Column("body", _json_type()))
    newest = (sa.select(sv.c.standard_id, sa.func.max(sv.c.version).label("version"))
              .group_by(sv.c.standard_id).subquery())
    rows = bind.execute(sa.select(sv.c.standard_id, sv.c.body).join(
        newest, sa.and_(newest.c.standard_id == sv.c.standard_id, newest.c.version == sv.c.version))).all()
    series = {}
    for standard_id, body in rows:
        body = json.loads(body) if isinstance(body, str) else body
        series[standard_id] = str((body or {}).get("series") or "")
    return series


def upgrade() -> None:
    """Apply this revision: add the column, then fill each session with the standards of its series."""
    # Added in place with a default, never by rebuilding the table: SQLite cannot drop and re-create
    # review_session while cases, seats and ballots refer to it (foreign keys are enforced).
    op.add_column('review_session', sa.Column('standard_ids', _json_type(), nullable=False,
                                              server_default=sa.text("'[]'")))
    bind = op.get_bind()
    sessions = sa.Table("review_session", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("series", sa.String), sa.Column("standard_ids", _json_type()))
    series = _series_of_standards(bind)
    for session_id, session_series in bind.execute(sa.select(sessions.c.id, sessions.c.series)).all():
        accepted = sorted(sid for sid, s in series.items() if not session_series or s == session_series)
        bind.execute(sessions.update().where(sessions.c.id == session_id).values(standard_ids=accepted))


def downgrade() -> None:
    """Revert this revision (in place too: ALTER TABLE … DROP COLUMN, which SQLite has since 3.35)."""
    op.drop_column('review_session', 'standard_ids')
