"""Bringing a database up to date: schema migrations, then the shipped pipeline and standard versions."""

from __future__ import annotations

from workflow.eligibility.standards_store import sync_standards
from workflow.pipeline.catalog import sync_pipelines

from . import migrate
from .db import Database


def init_database(db: Database) -> list[tuple[str, int]]:
    """Migrate to head, store new pipeline versions and seed standards; return the pipeline versions added."""
    migrate.upgrade(db)
    added = sync_pipelines(db)
    sync_standards(db)
    return added


def open_database(url: str) -> Database:
    """A Database at ``url``, initialised by :func:`init_database`."""
    db = Database(url)
    init_database(db)
    return db
