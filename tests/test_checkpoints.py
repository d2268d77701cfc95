"""Signed audit checkpoints: a database writer who re-chains, deletes or re-counts is caught, naming what changed.

Each tamper test first shows that the unkeyed hash chain alone (:func:`workflow.records.audit.verify_chains`) is fooled,
then that :func:`workflow.records.checkpoints.verify` reports the case and the row.
"""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from driver import advance
from sqlalchemy import delete, insert, select, update

from seed.cast import build_world
from web.cli import main
from workflow.db import Database
from workflow.models import AuditCheckpoint, BallotBox, Case, CaseEvent, Sitting, metadata, utcnow
from workflow.records import checkpoints as cps
from workflow.records.audit import event_hash, verify_chains

_ev = CaseEvent.__table__
_case = Case.__table__
_box = BallotBox.__table__
_cp = AuditCheckpoint.__table__


@pytest.fixture
def key() -> Ed25519PrivateKey:
    """The installation's signing key (in memory: the tests of key files are below)."""
    return Ed25519PrivateKey.generate()


@pytest.fixture
def keys(key) -> dict:
    """The verify set holding the signing key's public half."""
    public = key.public_key()
    return {cps.key_id(public): public}


def _world_with_cases(db: Database, count: int = 3):
    world = build_world(db)
    ids = [world.open("industry-session") for _ in range(count)]
    for case_id in ids:
        advance(world, case_id, "formal_check")
    return world, ids


def _chain(db: Database, case_id: int) -> list[dict]:
    with db.read() as conn:
        return [dict(r) for r in conn.execute(select(_ev).where(_ev.c.case_id == case_id).order_by(_ev.c.seq))
                .mappings()]


def _closed_box(db: Database, case_id: int, *, yes: int = 5, no: int = 2, abstain: int = 1) -> int:
    """A closed ballot box with its tally. Written directly: the checkpoint reads only the box row, and this
    keeps these tests independent of how votes are cast and counted."""
    with db.write() as conn:
        return conn.execute(insert(_box).values(case_id=case_id, round=1, opened_at=utcnow(), closed_at=utcnow(),
                                                seated=9, present=8, eligible=8, yes=yes, no=no, abstain=abstain,
                                                passed=True).returning(_box.c.id)).scalar_one()


def _rechain(conn, chain: list[dict], seq: int, **changes) -> None:
    """What a careful forger does: edit one event, then recompute every later hash and the case's head."""
    prev = chain[seq - 2]["hash"] if seq > 1 else ""
    for ev in chain[seq - 1:]:
        ev = {**ev, **(changes if ev["seq"] == seq else {}), "prev_hash": prev}
        ev["hash"] = event_hash(ev)
        conn.execute(update(_ev).where(_ev.c.id == ev["id"]).values(
            **(changes if ev["seq"] == seq else {}), prev_hash=ev["prev_hash"], hash=ev["hash"]))
        prev = ev["hash"]
    conn.execute(update(_case).where(_case.c.id == chain[0]["case_id"]).values(last_event_hash=prev))


def _delete_case(conn, case_id: int) -> None:
    """Remove a case with everything that refers to it (as a writer with the table owner's rights can)."""
    for table in reversed(metadata.sorted_tables):
        for fk in table.foreign_keys:
            if fk.column.table.name == "case_file" and table.name != "case_file":
                conn.execute(delete(table).where(fk.parent == case_id))
    conn.execute(delete(_case).where(_case.c.id == case_id))


def _kinds(report) -> list[str]:
    return [f.kind for f in report.findings]


# --- clean databases --------------------------------------------------------------------------------------------

def test_fresh_database_verifies_clean(any_db, key, keys):
    _world, ids = _world_with_cases(any_db)
    _closed_box(any_db, ids[0])
    cp = cps.sign_checkpoint(any_db, key)
    assert cp.seq == 1 and cp.body["previous"] is None
    assert cp.body["cases"]["count"] == 3 and cp.body["closed_tallies"]["count"] == 1
    report = cps.verify(any_db, keys, require_checkpoint=True)
    assert report.ok, report.findings
    assert (report.cases, report.checkpoints, report.reference) == (3, 1, 1)


def test_an_empty_database_has_nothing_to_check_until_keys_are_configured(db, keys):
    assert cps.verify(db, {}).ok
    report = cps.verify(db, keys, require_checkpoint=True)
    assert _kinds(report) == ["checkpoint-missing"]


def test_events_and_cases_added_after_the_checkpoint_are_fine(any_db, key, keys):
    world, ids = _world_with_cases(any_db)
    first = cps.sign_checkpoint(any_db, key)
    advance(world, ids[0], "pre_review")  # the signed head is now an inner event of a longer chain
    world.open("industry-session")  # a case the checkpoint does not know
    _closed_box(any_db, ids[1])  # a box closed after the checkpoint
    assert cps.verify(any_db, keys).ok
    second = cps.sign_checkpoint(any_db, key)
    assert second.seq == 2 and second.body["previous"] == first.digest
    assert second.body["cases"]["count"] == 4
    report = cps.verify(any_db, keys)
    assert report.ok and report.reference == 2


# --- tampering with the data -----------------------------------------------------------------------------------

def test_rechained_edit_is_reported_with_case_and_row(any_db, key, keys):
    _world, ids = _world_with_cases(any_db)
    victim = ids[1]
    cps.sign_checkpoint(any_db, key)
    chain = _chain(any_db, victim)
    with any_db.write() as conn:
        _rechain(conn, chain, 2, payload={"forged": True}, comment="改写的意见")
    assert verify_chains(any_db) == (3, [])  # the unkeyed chain is fooled
    report = cps.verify(any_db, keys)
    rechained = [f for f in report.findings if f.kind == "case-rechained"]
    assert rechained and {f.case_id for f in report.findings} == {victim}
    head = chain[-1]
    assert rechained[0].row == f"event {head['id']} (seq {head['seq']})"
    assert f"case {victim}: event {head['id']} (seq {head['seq']})" in str(rechained[0])


def test_older_checkpoints_narrow_down_the_rechained_event(db, key, keys):
    world, ids = _world_with_cases(db, 2)
    victim = ids[0]
    cps.sign_checkpoint(db, key)
    signed_count = len(_chain(db, victim))
    advance(world, victim, "pre_review")
    cps.sign_checkpoint(db, key)
    chain = _chain(db, victim)
    edited = chain[signed_count]  # the first event after the first checkpoint's head
    with db.write() as conn:
        _rechain(conn, chain, edited["seq"], comment="改写")
    report = cps.verify(db, keys)
    narrowed = [f for f in report.findings if f.kind == "case-rechained" and "bound" in f.message]
    later = [ev for ev in chain if ev["seq"] > signed_count]
    assert len(narrowed) == 1 and narrowed[0].case_id == victim
    assert f"seq {later[0]['seq']}–{later[-1]['seq']}" in narrowed[0].row or \
        narrowed[0].row == f"event {edited['id']} (seq {edited['seq']})"
    assert str(edited["id"]) in narrowed[0].row


def test_deleted_case_is_reported(any_db, key, keys):
    _world, ids = _world_with_cases(any_db)
    victim = ids[1]
    cps.sign_checkpoint(any_db, key)
    with any_db.write() as conn:
        _delete_case(conn, victim)
    assert verify_chains(any_db) == (2, [])  # nothing left to break
    report = cps.verify(any_db, keys)
    assert [(f.kind, f.case_id, f.row) for f in report.findings] == [("case-deleted", victim, f"case_file {victim}")]


def test_truncated_case_is_reported(any_db, key, keys):
    _world, ids = _world_with_cases(any_db)
    victim = ids[2]
    cps.sign_checkpoint(any_db, key)
    chain = _chain(any_db, victim)
    with any_db.write() as conn:  # drop the last event and point the case at the one before: a clean chain
        conn.execute(delete(_ev).where(_ev.c.id == chain[-1]["id"]))
        conn.execute(update(_case).where(_case.c.id == victim).values(
            last_event_hash=chain[-2]["hash"], version=chain[-2]["seq"], state=chain[-2]["to_state"]))
    assert verify_chains(any_db) == (3, [])
    report = cps.verify(any_db, keys)
    assert [(f.kind, f.case_id) for f in report.findings] == [("case-truncated", victim)]
    assert report.findings[0].row == f"event seq {chain[-1]['seq']}"


def test_tally_edit_is_reported(any_db, key, keys):
    _world, ids = _world_with_cases(any_db)
    box_id = _closed_box(any_db, ids[0])
    cps.sign_checkpoint(any_db, key)
    with any_db.write() as conn:
        conn.execute(update(_box).where(_box.c.id == box_id).values(yes=_box.c.yes + 1))
    assert verify_chains(any_db) == (3, [])
    report = cps.verify(any_db, keys)
    assert [(f.kind, f.case_id, f.row) for f in report.findings] == \
        [("tally-changed", ids[0], f"ballot_box {box_id} (round 1)")]
    assert "yes 5 → 6" in report.findings[0].message


def test_tally_edit_of_a_box_the_committee_closed_is_reported(any_db, key, keys):
    world = build_world(any_db)
    case_id = world.open("industry-session")
    advance(world, case_id, "result_notice")  # the committee votes and the chair closes the box
    with any_db.read() as conn:
        box = conn.execute(select(_box).where(_box.c.case_id == case_id)).mappings().one()
    assert box["closed_at"] is not None
    cps.sign_checkpoint(any_db, key)
    with any_db.write() as conn:  # literally: UPDATE ballot_box SET yes = yes + 1, no = no - 1 on the closed box
        conn.execute(update(_box).where(_box.c.id == box["id"]).values(yes=_box.c.yes + 1, no=_box.c.no - 1))
    assert verify_chains(any_db) == (1, [])
    report = cps.verify(any_db, keys)
    assert [(f.kind, f.case_id, f.row) for f in report.findings] == \
        [("tally-changed", case_id, f"ballot_box {box['id']} (round 1)")]
    assert f"yes {box['yes']} → {box['yes'] + 1}" in report.findings[0].message


def test_reopened_or_deleted_box_is_reported(db, key, keys):
    _world, ids = _world_with_cases(db)
    reopened, deleted = _closed_box(db, ids[0]), _closed_box(db, ids[1])
    cps.sign_checkpoint(db, key)
    with db.write() as conn:
        conn.execute(update(_box).where(_box.c.id == reopened).values(closed_at=None))
        conn.execute(delete(_box).where(_box.c.id == deleted))
    found = {(f.kind, f.case_id) for f in cps.verify(db, keys).findings}
    assert found == {("tally-changed", ids[0]), ("tally-deleted", ids[1])}


def test_chain_breaks_are_still_reported(any_db, key, keys):
    _world, ids = _world_with_cases(any_db)
    cps.sign_checkpoint(any_db, key)
    ev = _chain(any_db, ids[0])[2]
    with any_db.write() as conn:  # edited without re-chaining
        conn.execute(update(_ev).where(_ev.c.id == ev["id"]).values(comment="改"))
    report = cps.verify(any_db, keys)
    assert ("chain", ids[0], f"event {ev['id']} (seq 3)") in [(f.kind, f.case_id, f.row) for f in report.findings]


# --- tampering with the checkpoints -----------------------------------------------------------------------------

def test_deleted_checkpoint_leaves_a_gap(any_db, key, keys):
    _world_with_cases(any_db, 1)
    for _ in range(3):
        cps.sign_checkpoint(any_db, key)
    with any_db.write() as conn:
        conn.execute(delete(_cp).where(_cp.c.seq == 2))
    report = cps.verify(any_db, keys)
    assert [(f.kind, f.row) for f in report.findings] == [("checkpoint-missing", "audit_checkpoint 2")]


def test_deleted_first_checkpoints_are_reported(db, key, keys):
    _world_with_cases(db, 1)
    for _ in range(3):
        cps.sign_checkpoint(db, key)
    with db.write() as conn:
        conn.execute(delete(_cp).where(_cp.c.seq < 3))
    assert [(f.kind, f.row) for f in cps.verify(db, keys).findings] == [("checkpoint-missing", "audit_checkpoint 1–2")]


def test_edited_checkpoint_is_forged(any_db, key, keys):
    _world_with_cases(any_db, 2)
    cps.sign_checkpoint(any_db, key)
    cps.sign_checkpoint(any_db, key)
    with any_db.write() as conn:
        body = dict(conn.execute(select(_cp.c.body).where(_cp.c.seq == 1)).scalar_one())
        body["cases"] = {**body["cases"], "count": 1}
        conn.execute(update(_cp).where(_cp.c.seq == 1).values(body=body))
    report = cps.verify(any_db, keys)
    assert ("checkpoint-forged", "audit_checkpoint 1") in [(f.kind, f.row) for f in report.findings]
    # checkpoint 2 signed the original digest of checkpoint 1: the replacement shows there too
    assert ("checkpoint-replaced", "audit_checkpoint 1") in [(f.kind, f.row) for f in report.findings]


def _resign(conn, seq: int, key: Ed25519PrivateKey, *, claim_key_id: str | None = None, **body_changes) -> None:
    body = dict(conn.execute(select(_cp.c.body).where(_cp.c.seq == seq)).scalar_one())
    kid = claim_key_id or cps.key_id(key.public_key())
    body.update(body_changes, key_id=kid)
    signature = base64.b64encode(key.sign(cps.canonical(body))).decode()
    conn.execute(update(_cp).where(_cp.c.seq == seq).values(body=body, signature=signature, key_id=kid))


def test_checkpoint_resigned_with_another_key_is_reported(any_db, key, keys):
    _world_with_cases(any_db, 1)
    cps.sign_checkpoint(any_db, key)
    intruder = Ed25519PrivateKey.generate()
    with any_db.write() as conn:
        _resign(conn, 1, intruder, created_at="2020-01-01T00:00:00.000000+00:00")
    report = cps.verify(any_db, keys)
    assert [(f.kind, f.row) for f in report.findings] == [("checkpoint-unknown-key", "audit_checkpoint 1")]
    with any_db.write() as conn:  # claiming the real key's id does not help
        _resign(conn, 1, intruder, claim_key_id=cps.key_id(key.public_key()))
    report = cps.verify(any_db, keys)
    assert [(f.kind, f.row) for f in report.findings] == [("checkpoint-forged", "audit_checkpoint 1")]


def test_a_forged_newer_checkpoint_does_not_cover_tampering(db, key, keys):
    _world, ids = _world_with_cases(db)
    box_id = _closed_box(db, ids[0])
    cps.sign_checkpoint(db, key)
    with db.write() as conn:
        conn.execute(update(_box).where(_box.c.id == box_id).values(no=0))
    intruder = Ed25519PrivateKey.generate()
    cps.sign_checkpoint(db, intruder, force=True)  # the intruder signs the edited state with their own key
    report = cps.verify(db, keys)
    assert report.reference == 1
    assert {(f.kind, f.row) for f in report.findings} == {
        ("checkpoint-unknown-key", "audit_checkpoint 2"), ("tally-changed", f"ballot_box {box_id} (round 1)")}


def test_edited_lists_are_reported_and_a_kept_copy_still_names_the_case(db, key, keys, tmp_path):
    _world, ids = _world_with_cases(db)
    victim = ids[0]
    cps.sign_checkpoint(db, key)
    kept = tmp_path / "kept.jsonl"
    kept.write_text("".join(cps.export_checkpoints(db, keys, with_lists=True)), encoding="utf-8")
    chain = _chain(db, victim)
    with db.write() as conn:
        _rechain(conn, chain, 1, comment="改写")
        heads = conn.execute(select(_case.c.id, _case.c.last_event_hash, _case.c.version).order_by(_case.c.id))
        conn.execute(update(_cp).where(_cp.c.seq == 1).values(case_heads=[list(h) for h in heads]))
    report = cps.verify(db, keys)
    assert [(f.kind, f.row) for f in report.findings] == [("checkpoint-lists-edited", "audit_checkpoint 1")]
    report = cps.verify(db, keys, kept=cps.load_checkpoint_file(kept))
    assert ("case-rechained", victim) in [(f.kind, f.case_id) for f in report.findings]


def test_a_kept_copy_catches_a_deleted_latest_checkpoint(any_db, key, keys, tmp_path):
    _world, ids = _world_with_cases(any_db, 2)
    cps.sign_checkpoint(any_db, key)
    box_id = _closed_box(any_db, ids[0])
    cps.sign_checkpoint(any_db, key)
    kept = tmp_path / "kept.jsonl"
    kept.write_text("".join(cps.export_checkpoints(any_db, keys)), encoding="utf-8")
    with any_db.write() as conn:  # the newest checkpoint goes, then the box it signed is changed
        conn.execute(delete(_cp).where(_cp.c.seq == 2))
        conn.execute(update(_box).where(_box.c.id == box_id).values(yes=0))
    assert cps.verify(any_db, keys).ok  # the database alone cannot tell: no gap is left
    report = cps.verify(any_db, keys, kept=cps.load_checkpoint_file(kept))
    assert {(f.kind, f.row) for f in report.findings} == {("checkpoint-missing", "audit_checkpoint 2")}


def test_without_the_newest_lists_the_older_checkpoint_still_names_the_tally(db, key, keys, tmp_path):
    _world, ids = _world_with_cases(db, 2)
    old_box = _closed_box(db, ids[0])
    cps.sign_checkpoint(db, key)
    new_box = _closed_box(db, ids[1])
    cps.sign_checkpoint(db, key)
    kept = cps.load_checkpoint_file(_write(tmp_path / "kept.jsonl", cps.export_checkpoints(db, keys)))
    with db.write() as conn:
        conn.execute(delete(_cp).where(_cp.c.seq == 2))
        conn.execute(update(_box).where(_box.c.id.in_([old_box, new_box])).values(abstain=7))
    report = cps.verify(db, keys, kept=kept)  # the kept file has no lists: checkpoint 1's still name the old box
    assert {(f.kind, f.row) for f in report.findings} == {
        ("checkpoint-missing", "audit_checkpoint 2"), ("tally-changed", f"ballot_box {old_box} (round 1)")}


def test_a_kept_copy_catches_a_replaced_checkpoint(db, key, keys, tmp_path):
    _world_with_cases(db, 1)
    cps.sign_checkpoint(db, key)
    kept = cps.load_checkpoint_file(_write(tmp_path / "kept.jsonl", cps.export_checkpoints(db, keys)))
    with db.write() as conn:  # a writer who holds the key re-signs the checkpoint: only a kept copy tells
        _resign(conn, 1, key, created_at="2020-01-01T00:00:00.000000+00:00")
    assert cps.verify(db, keys).ok
    report = cps.verify(db, keys, kept=kept)
    assert [(f.kind, f.row) for f in report.findings] == [("checkpoint-replaced", "audit_checkpoint 1")]


def _write(path, lines) -> str:
    path.write_text("".join(lines), encoding="utf-8")
    return str(path)


# --- signing -----------------------------------------------------------------------------------------------------

def test_signing_refuses_a_tampered_database_unless_forced(db, key, keys):
    _world, ids = _world_with_cases(db)
    cps.sign_checkpoint(db, key)
    with db.write() as conn:
        _rechain(conn, _chain(db, ids[0]), 2, comment="改写")
    with pytest.raises(cps.CheckpointRefused) as refused:
        cps.sign_checkpoint(db, key)
    assert ("case-rechained", ids[0]) in [(f.kind, f.case_id) for f in refused.value.report.findings]
    assert cps.checkpoint_count(db) == 1
    assert cps.sign_checkpoint(db, key, force=True).seq == 2


def test_rotated_keys_keep_old_checkpoints_verifiable(db, key):
    _world_with_cases(db, 1)
    cps.sign_checkpoint(db, key)
    new = Ed25519PrivateKey.generate()
    with pytest.raises(cps.CheckpointRefused):  # the old public key was left out of the verify set
        cps.sign_checkpoint(db, new)
    old_public = cps.public_key_text(key.public_key())
    verify_set = cps.parse_public_keys([old_public])
    second = cps.sign_checkpoint(db, new, public_keys=verify_set)
    assert second.key_id == cps.key_id(new.public_key()) != cps.key_id(key.public_key())
    verify_set = cps.parse_public_keys([f"{old_public}, {cps.public_key_text(new.public_key())}"])
    assert cps.verify(db, verify_set).ok


# --- keys ---------------------------------------------------------------------------------------------------------

def test_generated_key_file_is_private_and_never_overwritten(tmp_path):
    path = tmp_path / "checkpoint.key"
    key = cps.generate_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert cps.key_id(cps.load_private_key(path).public_key()) == cps.key_id(key.public_key())
    with pytest.raises(cps.CheckpointError, match="already exists"):
        cps.generate_key(path)


def test_a_key_file_others_can_read_is_refused(tmp_path):
    path = tmp_path / "checkpoint.key"
    cps.generate_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(cps.CheckpointError, match="chmod 600"):
        cps.load_private_key(path)


def test_keys_in_every_accepted_form(tmp_path):
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    raw = tmp_path / "raw.key"
    raw.write_bytes(key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                      serialization.NoEncryption()))
    os.chmod(raw, 0o600)
    assert cps.key_id(cps.load_private_key(raw).public_key()) == cps.key_id(public)
    pem = tmp_path / "public.pem"
    pem.write_bytes(public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    other = Ed25519PrivateKey.generate().public_key()
    found = cps.parse_public_keys([f"{pem} {cps.public_key_text(other)}"])
    assert set(found) == {cps.key_id(public), cps.key_id(other)}
    env = {cps.PUBLIC_KEYS_ENV: cps.public_key_text(other), cps.KEY_ENV: str(raw)}
    assert set(cps.configured_public_keys(env)) == {cps.key_id(public), cps.key_id(other)}
    with pytest.raises(cps.CheckpointError, match="not an Ed25519 public key"):
        cps.parse_public_keys(["bm90IGEga2V5"])
    bad = tmp_path / "bad.key"
    bad.write_text("not a key")
    os.chmod(bad, 0o600)
    with pytest.raises(cps.CheckpointError, match="not an unencrypted Ed25519 private key"):
        cps.load_private_key(bad)


def test_checkpoint_file_formats(db, key, keys, tmp_path):
    _world_with_cases(db, 1)
    cps.sign_checkpoint(db, key)
    lines = list(cps.export_checkpoints(db, keys))
    item = json.loads(lines[0])
    assert set(item) == {"seq", "digest", "statement", "signature", "key_id", "public_key", "fingerprint"}
    assert "case_heads" not in item  # the published form carries digests and counts only
    as_array = tmp_path / "kept.json"
    as_array.write_text(json.dumps([item]), encoding="utf-8")
    assert cps.load_checkpoint_file(as_array)[0].digest == item["digest"]
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"seq": 1}\n', encoding="utf-8")
    with pytest.raises(cps.CheckpointError, match="not a checkpoint file"):
        cps.load_checkpoint_file(broken)


# --- the command line ---------------------------------------------------------------------------------------------

def test_cli_keygen_checkpoint_verify_export(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["--database-url", url, "init-db"]).exit_code == 0
    cli_db = Database(url)
    _world, ids = _world_with_cases(cli_db, 2)
    cli_db.dispose()
    key_path = tmp_path / "checkpoint.key"
    made = runner.invoke(main, ["audit", "keygen", "--out", str(key_path)])
    assert made.exit_code == 0, made.output
    public = made.output.split("public key:")[1].split()[0]
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    monkeypatch.setenv(cps.PUBLIC_KEYS_ENV, public)

    none_yet = runner.invoke(main, ["--database-url", url, "audit", "verify"])
    assert none_yet.exit_code == 1 and "no checkpoint at all" in none_yet.output

    signed = runner.invoke(main, ["--database-url", url, "audit", "checkpoint", "--key", str(key_path)])
    assert signed.exit_code == 0, signed.output
    assert "checkpoint 1 signed" in signed.output and "2 cases" in signed.output
    ok = runner.invoke(main, ["--database-url", url, "audit", "verify"])
    assert ok.exit_code == 0 and "all 2 case chains verify" in ok.output and "checkpoint 1" in ok.output

    kept = tmp_path / "kept.jsonl"
    exported = runner.invoke(main, ["--database-url", url, "audit", "export-checkpoints", "--out", str(kept)])
    assert exported.exit_code == 0 and json.loads(kept.read_text().splitlines()[0])["seq"] == 1
    to_stdout = runner.invoke(main, ["--database-url", url, "audit", "export-checkpoints", "--with-lists"])
    assert json.loads(to_stdout.output)["case_heads"]

    db = Database(url)
    chain = _chain(db, ids[1])
    with db.write() as conn:
        _rechain(conn, chain, 3, comment="改写")
    bad = runner.invoke(main, ["--database-url", url, "audit", "verify", "--against", str(kept)])
    assert bad.exit_code == 1
    assert f"case {ids[1]}: event {chain[-1]['id']} (seq {chain[-1]['seq']})" in bad.output
    refused = runner.invoke(main, ["--database-url", url, "audit", "checkpoint"],
                            env={cps.KEY_ENV: str(key_path)})
    assert refused.exit_code == 1 and "does not verify" in refused.output
    db.dispose()


def test_cli_checkpoint_refuses_a_readable_key(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["--database-url", url, "init-db"]).exit_code == 0
    key_path = tmp_path / "k"
    assert runner.invoke(main, ["audit", "keygen", "--out", str(key_path)]).exit_code == 0
    again = runner.invoke(main, ["audit", "keygen", "--out", str(key_path)])
    assert again.exit_code == 1 and "already exists" in again.output
    os.chmod(key_path, 0o640)
    result = runner.invoke(main, ["--database-url", url, "audit", "checkpoint", "--key", str(key_path)])
    assert result.exit_code == 1 and "readable by others" in result.output


def test_tick_signs_a_checkpoint_after_a_sitting_is_signed_off(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'tick.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["--database-url", url, "init-db"]).exit_code == 0
    db = Database(url)
    world, _ids = _world_with_cases(db, 1)
    key_path = tmp_path / "checkpoint.key"
    cps.generate_key(key_path)
    assert "checkpoint" not in runner.invoke(main, ["--database-url", url, "tick"]).output  # no key on this host
    monkeypatch.setenv(cps.KEY_ENV, str(key_path))
    quiet = runner.invoke(main, ["--database-url", url, "tick"])
    assert quiet.exit_code == 0 and "checkpoint" not in quiet.output  # no sitting signed off yet
    with db.write() as conn:  # the sitting's sign-off as workflow.panel.sitting.close_sitting records it
        conn.execute(insert(Sitting.__table__).values(session_id=world.session_id, opened_by=world.chair.user_id,
                                                      opened_at=utcnow(), closed_at=utcnow(),
                                                      closed_by=world.chair.user_id))
    assert cps.checkpoint_due(db)
    signed = runner.invoke(main, ["--database-url", url, "tick"])
    assert signed.exit_code == 0 and "audit checkpoint 1 signed" in signed.output, signed.output
    assert not cps.checkpoint_due(db)
    again = runner.invoke(main, ["--database-url", url, "tick"])
    assert again.exit_code == 0 and "checkpoint" not in again.output and cps.checkpoint_count(db) == 1
    db.dispose()
