"""Alembic environment: migrations run on the connection handed in by :mod:`workflow.migrate`."""

from __future__ import annotations

from alembic import context

from workflow.models import metadata

config = context.config


def run_migrations_online() -> None:
    """Run migrations on ``config.attributes['connection']`` (always provided by workflow.migrate)."""
    connection = config.attributes["connection"]
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():  # pragma: no cover - offline SQL generation is not used
    raise SystemExit("offline migrations are not supported; use 'titlereview init-db'")
run_migrations_online()
