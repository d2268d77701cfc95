"""Drafts of standards: saved without publishing, guarded by an optimistic lock, published in one transaction."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import select

from seed.cast import build_world
from workflow.eligibility.standards import STANDARDS_DIR, load_standard_yaml
from workflow.eligibility.standards_drafts import delete_draft, get_draft, list_drafts, publish_draft, save_draft
from workflow.eligibility.standards_store import get_standard, history, latest_version, publish
from workflow.errors import MissingData, StaleCase
from workflow.models import StandardDraft, StandardVersion

BASE = "industrial-internet-engineer"
SEED = load_standard_yaml(STANDARDS_DIR / f"{BASE}.yaml")



@pytest.fixture
def world(any_db):
    """The test cast on SQLite and on PostgreSQL (its administrator writes the drafts)."""
    return build_world(any_db)


def _body(standard=SEED, **changes) -> dict:
    return {**standard.model_dump(mode="json"), **changes}


def _drafts(db) -> int:
    with db.read() as conn:
        return len(conn.execute(select(StandardDraft.__table__.c.id)).all())


def test_a_new_draft_is_stored_as_given_with_its_base_and_author(world):
    body = _body(id="  smart-vehicle-engineer ", notes=None, achievements={"k": "not a number"})  # invalid: kept
    draft = save_draft(world.db, draft_id=None, body=body, base=(BASE, SEED.version),
                       by_user_id=world.admin.user_id, expected_lock=None)
    assert draft.standard_id == "smart-vehicle-engineer" and draft.body == body
    assert draft.base == (BASE, SEED.version) and draft.lock_version == 1
    assert draft.created_by == draft.updated_by == world.admin.user_id and draft.updated_by_name == "系统管理员"
    assert draft.created_at.tzinfo is not None and draft.created_at == draft.updated_at
    assert get_draft(world.db, draft.id) == draft
    with world.db.read() as conn:  # nothing is published by saving
        assert latest_version(conn, "smart-vehicle-engineer") is None


@pytest.mark.parametrize(("body", "expected"), [
    ({}, ""), ({"id": 7}, ""), ({"id": None}, ""), ({"id": "x" * 100}, "x" * 80),
    ({"id": "a", "effective_from": date(2027, 1, 1)}, "a"),
])
def test_the_standard_id_is_read_from_whatever_the_editor_holds(world, body, expected):
    draft = save_draft(world.db, draft_id=None, body=body, base=None, by_user_id=None, expected_lock=None)
    assert draft.standard_id == expected and draft.base is None and draft.updated_by_name is None
    if "effective_from" in body:
        assert draft.body["effective_from"] == "2027-01-01"  # a date from a form parser is kept as JSON text


def test_a_body_that_json_cannot_hold_is_a_programming_error(world):
    with pytest.raises(TypeError):
        save_draft(world.db, draft_id=None, body={"id": "a", "x": object()}, base=None, by_user_id=None,
                   expected_lock=None)
    with pytest.raises(TypeError):
        save_draft(world.db, draft_id=None, body=["not", "a", "mapping"], base=None, by_user_id=None,  # type: ignore[arg-type]
                   expected_lock=None)
    assert _drafts(world.db) == 0


def test_saving_over_a_draft_needs_the_lock_that_was_read(world):
    draft = save_draft(world.db, draft_id=None, body=_body(), base=(BASE, SEED.version), by_user_id=None,
                       expected_lock=None)
    saved = save_draft(world.db, draft_id=draft.id, body=_body(title="高级工程师"), base=None,  # (unchecked)
                       by_user_id=world.admin.user_id, expected_lock=1)
    assert saved.lock_version == 2 and saved.body["title"] == "高级工程师"
    assert saved.base == (BASE, SEED.version)  # base None keeps the stored one
    assert saved.created_by is None and saved.updated_by == world.admin.user_id
    for stale in (1, 3, None):  # the lock read before the save above, a made-up one, none at all
        with pytest.raises(StaleCase, match="系统管理员") as info:
            save_draft(world.db, draft_id=draft.id, body=_body(title="正高级工程师"), base=None, by_user_id=None,
                       expected_lock=stale)
        assert info.value.status == 409 and "changed by" in info.value.message_en
    assert get_draft(world.db, draft.id).body["title"] == "高级工程师"
    rebased = save_draft(world.db, draft_id=draft.id, body=saved.body, base=(BASE, SEED.version + 1),
                         by_user_id=None, expected_lock=2)
    assert rebased.base == (BASE, SEED.version + 1) and rebased.lock_version == 3


def test_saving_over_a_draft_that_is_gone_says_so(world):
    with pytest.raises(StaleCase, match="已不存在"):
        save_draft(world.db, draft_id=999_999, body={}, base=None, by_user_id=None, expected_lock=1)
    assert _drafts(world.db) == 0


def test_two_saves_with_the_same_lock_one_wins(world):
    """Two administrators who opened the same draft save at once: one is saved, the other told."""
    draft = save_draft(world.db, draft_id=None, body=_body(), base=None, by_user_id=None, expected_lock=None)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def save(title: str) -> None:
        barrier.wait()
        try:
            save_draft(world.db, draft_id=draft.id, body=_body(title=title), base=None, by_user_id=None,
                       expected_lock=1)
            outcomes.append(title)
        except StaleCase:
            outcomes.append("stale")

    threads = [threading.Thread(target=save, args=(t,)) for t in ("甲", "乙")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 2 and outcomes.count("stale") == 1
    stored = get_draft(world.db, draft.id)
    assert stored.lock_version == 2 and stored.body["title"] == next(o for o in outcomes if o != "stale")


def test_drafts_are_listed_newest_first_and_can_be_discarded(world):
    first = save_draft(world.db, draft_id=None, body={"id": "a"}, base=None, by_user_id=None, expected_lock=None)
    second = save_draft(world.db, draft_id=None, body={"id": "b"}, base=None, by_user_id=None, expected_lock=None)
    assert [d.id for d in list_drafts(world.db)] == [second.id, first.id]
    save_draft(world.db, draft_id=first.id, body={"id": "a2"}, base=None, by_user_id=None, expected_lock=1)
    assert [d.standard_id for d in list_drafts(world.db)] == ["a2", "b"]
    with pytest.raises(StaleCase):  # saved since the lock was read: the newer work is kept
        delete_draft(world.db, first.id, expected_lock=1)
    assert delete_draft(world.db, first.id, expected_lock=2) is True
    assert delete_draft(world.db, second.id) is True
    assert delete_draft(world.db, second.id) is False
    assert get_draft(world.db, first.id) is None and list_drafts(world.db) == []


def test_publishing_a_revision_stores_the_next_version_based_on_the_draft_base_and_removes_the_draft(world):
    revised = SEED.model_copy(update={"effective_from": date(2027, 1, 1)})
    draft = save_draft(world.db, draft_id=None, body=_body(revised), base=(BASE, SEED.version),
                       by_user_id=world.admin.user_id, expected_lock=None)
    published = publish_draft(world.db, draft.id, revised, by_user_id=world.admin.user_id, expected_lock=1)
    assert published.version == SEED.version + 1 and published.effective_from == date(2027, 1, 1)
    assert get_draft(world.db, draft.id) is None
    with world.db.read() as conn:
        newest = history(conn, BASE)[0]
        stored_date = conn.execute(select(StandardVersion.__table__.c.effective_from).where(
            StandardVersion.__table__.c.standard_id == BASE,
            StandardVersion.__table__.c.version == published.version)).scalar_one()
        assert get_standard(conn, BASE, published.version) == published
    assert newest.version == published.version and newest.based_on == (BASE, SEED.version)
    assert newest.published_by_name == "系统管理员" and stored_date == date(2027, 1, 1)
    with pytest.raises(StaleCase, match="已不存在"):  # published already: a second click is told so
        publish_draft(world.db, draft.id, revised, by_user_id=None, expected_lock=1)


def test_a_copy_is_based_on_its_original(world):
    copy = SEED.model_copy(update={"id": "smart-vehicle-engineer"})
    draft = save_draft(world.db, draft_id=None, body=_body(copy), base=(BASE, SEED.version), by_user_id=None,
                       expected_lock=None)
    published = publish_draft(world.db, draft.id, copy, by_user_id=None, expected_lock=1)
    assert published.id == "smart-vehicle-engineer" and published.version == 1
    with world.db.read() as conn:
        assert history(conn, "smart-vehicle-engineer")[0].based_on == (BASE, SEED.version)


def _unchanged(world, draft_id: int) -> None:
    """Nothing was published and the draft is still there."""
    with world.db.read() as conn:
        assert latest_version(conn, BASE) == SEED.version
        assert latest_version(conn, "smart-vehicle-engineer") is None
    assert get_draft(world.db, draft_id) is not None


def test_publishing_with_a_stale_lock_changes_nothing(world):
    draft = save_draft(world.db, draft_id=None, body=_body(), base=(BASE, SEED.version), by_user_id=None,
                       expected_lock=None)
    save_draft(world.db, draft_id=draft.id, body=_body(), base=None, by_user_id=world.admin.user_id,
               expected_lock=1)
    with pytest.raises(StaleCase, match="系统管理员"):
        publish_draft(world.db, draft.id, SEED, by_user_id=None, expected_lock=1)
    _unchanged(world, draft.id)


def test_a_revision_overtaken_by_another_version_is_not_published(world):
    draft = save_draft(world.db, draft_id=None, body=_body(), base=(BASE, SEED.version), by_user_id=None,
                       expected_lock=None)
    renamed = SEED.name.model_copy(update={"zh": SEED.name.zh + "（修订）"})
    other = publish(world.db, SEED.model_copy(update={"name": renamed}), by_user_id=None)
    with pytest.raises(StaleCase, match=f"此后已发布了第 {other.version} 版") as info:
        publish_draft(world.db, draft.id, SEED, by_user_id=None, expected_lock=1)
    assert "compare the two versions" in info.value.message_en
    assert get_draft(world.db, draft.id) is not None
    # continued from the newer version (the draft's base moved on), it publishes
    save_draft(world.db, draft_id=draft.id, body=_body(), base=(BASE, other.version), by_user_id=None,
               expected_lock=1)
    assert publish_draft(world.db, draft.id, SEED, by_user_id=None, expected_lock=2).version == other.version + 1


@pytest.mark.parametrize("base", [None, ("national-engineering-engineer", 1)])
def test_a_new_standard_may_not_take_a_stored_id(world, base):
    draft = save_draft(world.db, draft_id=None, body=_body(), base=base, by_user_id=None, expected_lock=None)
    with pytest.raises(MissingData, match=f"标准编号 {BASE} 已被") as info:
        publish_draft(world.db, draft.id, SEED, by_user_id=None, expected_lock=1)
    assert info.value.field == "id"
    _unchanged(world, draft.id)
