"""eligibility records: the evaluator's reports move out of case_file.data into a table of their own

Revision ID: 0008
Revises: 0007

Each report is 20–40 KB; inside ``case_file.data`` every later transition rewrote it (SQLite rewrites the
whole row on any UPDATE; PostgreSQL re-compresses the document when a key changes). Existing reports are
moved: ``eligibility_at_submission`` becomes a ``submission`` row, ``eligibility_recheck`` a ``recheck`` row
(its ``checked_at``/``by``/``report``/``problem`` become columns), and both keys leave ``data``. A moved row's
``event_seq`` is the case's version at migration time — the report was written by that event or an earlier
one, and every later report gets a higher number. The downgrade puts the newest report of each kind back.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_KEYS = ("eligibility_at_submission", "eligibility_recheck")
_BATCH = 500


def _json_type() -> sa.types.TypeEngine:
    from sqlalchemy.dialects.postgresql import JSONB

    return sa.JSON().with_variant(JSONB(), "postgresql")


def _tables() -> tuple[sa.Table, sa.Table]:
    meta = sa.MetaData()
    case = sa.Table("case_file", meta, sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("version", sa.Integer), sa.Column("data", _json_type()),
                    sa.Column("submitted_at", sa.DateTime(timezone=True)),
                    sa.Column("updated_at", sa.DateTime(timezone=True)))
    record = sa.Table("eligibility_record", meta, sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("case_id", sa.Integer), sa.Column("kind", sa.String(12)),
                      sa.Column("event_seq", sa.Integer), sa.Column("checked_at", sa.DateTime(timezone=True)),
                      sa.Column("checked_by", sa.Integer), sa.Column("report", _json_type()),
                      sa.Column("problem", sa.String()))
    return case, record


def _stamp(value) -> datetime:
    """A stored timestamp (ISO text inside JSON, or a column value) as an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is None:
        return datetime.now(UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _has_reports(case: sa.Table, dialect: str):
    if dialect == "postgresql":
        return sa.or_(*(case.c.data.op("?")(k) for k in _KEYS))
    return sa.or_(*(sa.func.json_extract(case.c.data, f'$."{k}"').isnot(None) for k in _KEYS))


def _move_out() -> None:
    bind = op.get_bind()
    case, record = _tables()
    last = 0
    while True:
        rows = bind.execute(sa.select(case.c.id, case.c.version, case.c.data, case.c.submitted_at,
                                      case.c.updated_at)
                            .where(case.c.id > last, _has_reports(case, bind.dialect.name))
                            .order_by(case.c.id).limit(_BATCH)).all()
        if not rows:
            return
        for case_id, version, data, submitted_at, updated_at in rows:
            data = json.loads(data) if isinstance(data, str) else dict(data or {})
            submission = data.pop("eligibility_at_submission", None)
            recheck = data.pop("eligibility_recheck", None)
            if submission:
                bind.execute(record.insert().values(
                    case_id=case_id, kind="submission", event_seq=version, report=submission, problem="",
                    checked_at=_stamp(submitted_at or updated_at), checked_by=None))
            if recheck:
                bind.execute(record.insert().values(
                    case_id=case_id, kind="recheck", event_seq=version, report=recheck.get("report"),
                    problem=recheck.get("problem") or "", checked_by=recheck.get("by"),
                    checked_at=_stamp(recheck.get("checked_at") or updated_at)))
            bind.execute(case.update().where(case.c.id == case_id).values(data=data))
            last = case_id


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('eligibility_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('event_seq', sa.Integer(), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('checked_by', sa.Integer(), nullable=True),
    sa.Column('report', _json_type(), nullable=True),
    sa.Column('problem', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], ),
    sa.ForeignKeyConstraint(['checked_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'kind', 'event_seq')
    )
    _move_out()


def downgrade() -> None:
    """Revert this revision: the newest report of each kind goes back into ``case_file.data``."""
    bind = op.get_bind()
    case, record = _tables()
    newest = {}
    for case_id, kind, report, problem, by, checked_at in bind.execute(
            sa.select(record.c.case_id, record.c.kind, record.c.report, record.c.problem, record.c.checked_by,
                      record.c.checked_at).order_by(record.c.case_id, record.c.event_seq, record.c.id)):
        report = json.loads(report) if isinstance(report, str) else report
        if kind == "submission":
            newest.setdefault(case_id, {})["eligibility_at_submission"] = report
        else:
            entry = {"checked_at": _stamp(checked_at).isoformat(), "by": by}
            entry.update({"report": report} if report is not None else {"problem": problem})
            newest.setdefault(case_id, {})["eligibility_recheck"] = entry
    for case_id, keys in newest.items():
        data = bind.execute(sa.select(case.c.data).where(case.c.id == case_id)).scalar_one()
        data = json.loads(data) if isinstance(data, str) else dict(data or {})
        bind.execute(case.update().where(case.c.id == case_id).values(data={**data, **keys}))
    op.drop_table('eligibility_record')
