"""The public audit-checkpoint page and the file outsiders keep: no sign-in, digests and counts only."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from workflow.records import checkpoints as cps


def test_page_and_file_without_checkpoints(browser):
    anon = browser()
    page = anon.client.get("/audit-checkpoints")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "尚未签署检查点" in html and "尚未公布验证公钥" in html
    assert 'href="/audit-checkpoints.jsonl"' in html and 'href="/audit-checkpoints"' in html  # the nav link too
    download = anon.client.get("/audit-checkpoints.jsonl")
    assert download.status_code == 200 and download.get_data() == b""


def test_page_lists_checkpoints_and_keys_and_the_file_verifies(cast_db, tmp_path, browser, app):
    key = Ed25519PrivateKey.generate()
    public = cps.public_key_text(key.public_key())
    app.config["CHECKPOINT_PUBLIC_KEYS"] = public
    first = cps.sign_checkpoint(cast_db, key)
    second = cps.sign_checkpoint(cast_db, key)
    anon = browser()
    html = anon.client.get("/audit-checkpoints").get_data(as_text=True)
    for cp in (first, second):
        assert f'id="checkpoint-{cp.seq}"' in html and cp.digest in html and cp.signature in html
        assert cp.body["cases"]["digest"] in html and cp.body["closed_tallies"]["digest"] in html
    assert html.index('id="checkpoint-2"') < html.index('id="checkpoint-1"')  # newest first
    assert public in html and cps.fingerprint(key.public_key()) in html

    download = anon.client.get("/audit-checkpoints.jsonl")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == "attachment; filename=audit-checkpoints.jsonl"
    lines = [json.loads(line) for line in download.get_data(as_text=True).splitlines()]
    assert [item["seq"] for item in lines] == [1, 2]
    assert lines[1]["public_key"] == public and lines[1]["statement"]["previous"] == first.digest
    assert all("case_heads" not in item and "closed_tallies" not in item for item in lines)  # digests only

    kept = tmp_path / "kept.jsonl"
    kept.write_bytes(download.get_data())
    report = cps.verify(cast_db, cps.parse_public_keys([public]), kept=cps.load_checkpoint_file(kept))
    assert report.ok and report.reference == 2


def test_english_page(browser):
    anon = browser()
    anon.client.get("/lang/en")
    html = anon.client.get("/audit-checkpoints").get_data(as_text=True)
    assert "Audit checkpoints" in html and "No checkpoint has been signed yet." in html


def test_a_bad_public_key_setting_does_not_take_the_page_down(browser, app):
    app.config["CHECKPOINT_PUBLIC_KEYS"] = "not-a-key"
    assert browser().client.get("/audit-checkpoints").status_code == 200
