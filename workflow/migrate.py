"""Schema migrations (Alembic), run programmatically: ``titlereview init-db`` upgrades to head."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from .db import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(db: Database) -> Config:
    """An Alembic Config pointing at this package's migrations and ``db``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (idempotent at head)."""
    cfg = alembic_config(db)
    with db.write() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(db: Database) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with db.read() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(db: Database) -> str | None:
    """The newest revision shipped with the code."""
    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()
