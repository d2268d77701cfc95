"""YAML export and import of occupation standards through the web (issue #14: "import → export of every seed
standard round-trips"), for every seed standard.

The guarantee is stated for the canonical form (``dump_standard_yaml`` of the loaded standard, see
docs/standards.md): a stored version exports as exactly that text; importing an unchanged export publishes
nothing; an import publishes the standard the text means, and its export is the canonical form of what was
imported — the imported bytes themselves when they were canonical, whatever comments, quoting or key order
they had otherwise.
"""

from __future__ import annotations

import io
import re

import pytest
import yaml
from sqlalchemy import func, select

from workflow.eligibility.standards import STANDARDS_DIR, dump_standard_yaml, load_standard_yaml, parse_standard
from workflow.eligibility.standards_store import get_standard, latest_version
from workflow.models import StandardVersion

SEEDS = sorted(STANDARDS_DIR.glob("*.yaml"))



def _versions(db) -> int:
    """How many standard versions are stored, of every id."""
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(StandardVersion.__table__)).scalar_one()


def _renamed(text: str, old_id: str, new_id: str, old_version: int) -> str:
    """``text`` (canonical) as a first version under ``new_id``: the id line, the version line and the header."""
    text = re.sub(rf"^id: {re.escape(old_id)}$", f"id: {new_id}", text, count=1, flags=re.M)
    text = re.sub(rf"^version: {old_version}$", "version: 1", text, count=1, flags=re.M)
    return re.sub(rf"^(# .*) — version {old_version}$", r"\1 — version 1", text, count=1, flags=re.M)


def _export(browser, standard_id: str, version: int):
    response = browser.get(f"/admin/standards/{standard_id}/v{version}/export")
    assert response.status_code == 200
    return response


def test_every_seed_is_covered():
    # The parametrised tests below would pass vacuously if the seed directory moved or emptied.
    assert len(SEEDS) >= 7


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_export_of_a_seed_version_is_its_canonical_text(browser, path):
    seed = load_standard_yaml(path)
    response = _export(browser("admin"), seed.id, seed.version)
    assert response.headers["Content-Type"] == "application/x-yaml; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{seed.id}-v{seed.version}.yaml"'
    assert response.get_data() == dump_standard_yaml(seed).encode("utf-8")


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_importing_an_unchanged_export_publishes_nothing(browser, cast, path):
    seed = load_standard_yaml(path)
    admin = browser("admin")
    with cast.db.read() as conn:
        assert latest_version(conn, seed.id) == seed.version  # the seed version is the newest: nothing to add
    before = _versions(cast.db)
    exported = _export(admin, seed.id, seed.version).get_data()
    response = admin.post("/admin/standards/import", data={"file": (io.BytesIO(exported), f"{seed.id}.yaml")},
                          content_type="multipart/form-data")
    assert response.status_code == 409 and "内容没有变化" in response.get_data(as_text=True)
    response = admin.post("/admin/standards/import", data={"yaml_text": exported.decode("utf-8")})
    assert response.status_code == 409
    assert _versions(cast.db) == before


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_an_export_imported_under_a_new_id_exports_byte_for_byte(browser, cast, path):
    seed = load_standard_yaml(path)
    admin = browser("admin")
    new_id = f"{seed.id}-copy"
    imported = _renamed(_export(admin, seed.id, seed.version).get_data(as_text=True), seed.id, new_id, seed.version)
    assert dump_standard_yaml(parse_standard(imported)) == imported  # still canonical after the renaming
    response = admin.post("/admin/standards/import", data={"file": (io.BytesIO(imported.encode()), "copy.yaml")},
                          content_type="multipart/form-data")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/{new_id}/v1")
    with cast.db.read() as conn:
        assert get_standard(conn, new_id, 1) == seed.model_copy(update={"id": new_id, "version": 1})
    assert _export(admin, new_id, 1).get_data() == imported.encode("utf-8")


def _reshaped(text: str) -> str:
    """The same standard written differently: a comment on top, keys sorted alphabetically at every level,
    block style throughout, and the Chinese escaped inside double quotes (``"\\u5de5..."``)."""
    data = yaml.safe_load(text)
    body = yaml.safe_dump(data, allow_unicode=False, sort_keys=True, default_flow_style=False, width=70)
    return "# Hand-edited copy, kept in a spreadsheet export. 手工整理的副本。\n" + body


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_a_hand_written_file_is_stored_as_its_standard_and_exports_canonically(browser, cast, path):
    seed = load_standard_yaml(path)
    admin = browser("admin")
    canonical = dump_standard_yaml(seed)
    for n, variant in enumerate((path.read_text(encoding="utf-8"), _reshaped(canonical))):
        # The seed file itself (comments, hand formatting) and a reshaped canonical text: same content.
        assert variant != canonical
        new_id = f"{seed.id}-hand-{n}"
        text = re.sub(rf"^id: {re.escape(seed.id)}$", f"id: {new_id}", variant, count=1, flags=re.M)
        assert text != variant
        response = admin.post("/admin/standards/import", data={"yaml_text": text})
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        published = seed.model_copy(update={"id": new_id, "version": 1})
        with cast.db.read() as conn:
            assert get_standard(conn, new_id, 1) == published
        exported = _export(admin, new_id, 1).get_data(as_text=True)
        assert exported == dump_standard_yaml(parse_standard(text).model_copy(update={"version": 1}))
        assert exported == _renamed(canonical, seed.id, new_id, seed.version)


def test_reshaping_really_changes_quoting_and_order():
    # The hand-written variant above must differ in more than its comment for that test to mean something.
    text = dump_standard_yaml(load_standard_yaml(SEEDS[0]))
    reshaped = _reshaped(text)
    assert "\\u" in reshaped and reshaped.index("\nbasic:") < reshaped.index("\nid:")
    assert parse_standard(reshaped) == parse_standard(text)
