"""The elder-friendly mode's place on the account (migration 0017, workflow/preferences.py)."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text

from seed.cast import build_world
from workflow import migrate
from workflow.db import Database
from workflow.errors import CaseNotFound
from workflow.preferences import elder_mode, set_elder_mode


def _migrate(db: Database, direction: str, revision: str) -> None:
    cfg = migrate.alembic_config(db)
    with db.write() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, direction)(cfg, revision)


def _columns(db: Database) -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns("user_account")}


def test_the_choice_is_kept_per_account(any_db: Database):
    world = build_world(any_db)
    zhang, li = world.applicant.user_id, world.other_applicant.user_id
    assert not elder_mode(any_db, zhang)
    set_elder_mode(any_db, zhang, True)
    assert elder_mode(any_db, zhang) and not elder_mode(any_db, li)
    set_elder_mode(any_db, zhang, False)
    assert not elder_mode(any_db, zhang)
    with pytest.raises(CaseNotFound):
        set_elder_mode(any_db, 10_000, True)


def test_migration_0017_adds_the_switch_off_for_existing_accounts_and_takes_it_away_again(any_db: Database):
    world = build_world(any_db)
    set_elder_mode(any_db, world.applicant.user_id, True)
    _migrate(any_db, "downgrade", "0016")
    assert "elder_mode" not in _columns(any_db)
    _migrate(any_db, "upgrade", "head")
    assert "elder_mode" in _columns(any_db)
    with any_db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM user_account WHERE elder_mode")).scalar() == 0
    assert not elder_mode(any_db, world.applicant.user_id)  # the downgrade took everyone's choice with it
