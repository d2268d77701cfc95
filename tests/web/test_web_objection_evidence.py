"""A named objection may carry one evidence file: checked by content, stored like other materials, recorded by
the objection's event, downloadable only by the objector and the people deciding the objection — and never
left behind when the objection is not filed."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from driver import advance
from pdfs import make_pdf
from sqlalchemy import select
from webhelpers import case_state, case_version, make_app, open_case

from workflow.access.roles import SYSTEM
from workflow.engine import core as engine
from workflow.errors import InvalidAction
from workflow.models import CaseEvent
from workflow.models.attachments import Attachment
from workflow.records import attachments
from workflow.records.audit import verify_chains

PDF = make_pdf(comment=b"evidence of the objection")
REASON = "申报人代表作系他人完成，附相关证明材料，请核实。"


def _rows(db, case_id: int) -> list[dict]:
    """The case's objection evidence rows (its applicant's materials are not these tests' subject)."""
    att = Attachment.__table__
    with db.read() as conn:
        return [dict(r) for r in conn.execute(select(att).where(
            att.c.case_id == case_id, att.c.category == attachments.OBJECTION_EVIDENCE).order_by(att.c.id)).mappings()]


def _files(folder: str) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.is_file())


def _last_event(db, case_id: int) -> dict:
    ev = CaseEvent.__table__
    with db.read() as conn:
        return dict(conn.execute(select(ev).where(ev.c.case_id == case_id).order_by(ev.c.seq.desc()).limit(1))
                    .mappings().one())


def _download(b, url: str) -> tuple[int, bytes, dict]:
    """Status, body and headers of a download (the file response closed, as a browser would)."""
    response = b.get(url)
    try:
        return response.status_code, response.data, dict(response.headers)
    finally:
        response.close()


def _object(b, case_id: int, version: int, file: tuple | None, reason: str = REASON):
    data = {"version": str(version), "reason": reason, "return_to": "objection", "next": "/notices"}
    if file is not None:
        data["evidence"] = file
    return b.post(f"/cases/{case_id}/actions/file_objection", data=data, content_type="multipart/form-data")


@pytest.fixture
def on_notice(cast) -> int:
    """A case of the cast on its result notice (open to everyone's named objections)."""
    case_id = open_case(cast)
    advance(cast, case_id, "result_notice")
    return case_id


def test_the_evidence_is_recorded_and_reaches_only_the_people_deciding(app, cast, browser, on_notice):
    case_id = on_notice
    objector = browser("outsider")
    assert 'enctype="multipart/form-data"' in objector.get(f"/notices/{case_id}/objection").get_data(as_text=True)
    response = _object(objector, case_id, case_version(cast.db, case_id),
                       (io.BytesIO(PDF), "代表作 证明.pdf", "application/pdf"))
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    assert case_state(cast.db, case_id) == "result_notice_objection"
    (row,) = _rows(cast.db, case_id)
    assert row["category"] == "objection_evidence" and row["uploaded_by"] == cast.outsider.user_id
    assert row["sha256"] == hashlib.sha256(PDF).hexdigest() and row["size"] == len(PDF)
    (stored,) = _files(app.config["UPLOAD_FOLDER"])
    assert stored.read_bytes() == PDF and stored.name == row["stored_name"] and "代表作" not in stored.name
    event = _last_event(cast.db, case_id)
    assert event["trigger"] == "file_objection" and event["payload"]["reason"] == REASON
    assert event["payload"]["evidence"] == {"attachment_id": row["id"], "name": "代表作 证明.pdf",
                                            "sha256": row["sha256"], "size": len(PDF),
                                            "content_type": "application/pdf"}
    assert verify_chains(cast.db)[1] == []  # the reference is part of the hash-chained record

    url = f"/cases/{case_id}/materials/{row['id']}"
    for who in ("officer", "admin", "outsider"):
        status, body, headers = _download(browser(who), url)
        assert status == 200 and body == PDF, who
        assert headers["Content-Type"] == "application/pdf" and headers["Content-Disposition"].startswith("attachment")
    for who in ("zhang", "unit_hr", "colleague", "li", "chair", "expert1", "superior"):
        status, body, _ = _download(browser(who), url)
        assert status in (403, 404) and PDF not in body, who
    assert _download(browser(), url)[0] == 302  # sign in first

    officer_page = browser("officer").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "异议证据" in officer_page and "代表作 证明.pdf" in officer_page and url in officer_page
    assert "异议成立，撤销评审结果" in officer_page
    for who in ("zhang", "unit_hr"):
        page = browser(who).get(f"/cases/{case_id}").get_data(as_text=True)
        assert "代表作 证明.pdf" not in page and url not in page and "异议证据" not in page, who
    # the applicant cannot withdraw it as if it were one of their materials
    assert browser("zhang").post(f"{url}/remove").status_code in (403, 404, 409)
    assert _rows(cast.db, case_id)[0]["removed_at"] is None

    response = browser("officer").post(f"/cases/{case_id}/actions/dismiss_objection", data={
        "version": str(case_version(cast.db, case_id)), "reason": "经核查，代表作为申报人本人完成。"})
    assert response.status_code == 303 and case_state(cast.db, case_id) == "result_notice"
    assert _download(browser("officer"), url)[1] == PDF  # still there for the record


def test_a_unit_notice_objection_goes_to_the_units_reviewer(app, cast, browser):
    case_id = open_case(cast)
    advance(cast, case_id, "unit_notice")
    response = _object(browser("colleague"), case_id, case_version(cast.db, case_id),
                       (io.BytesIO(PDF), "考核表.pdf"), reason="申报人近三年年度考核结果与材料不符。")
    assert response.status_code == 303 and case_state(cast.db, case_id) == "unit_notice_objection"
    (row,) = _rows(cast.db, case_id)
    url = f"/cases/{case_id}/materials/{row['id']}"
    for who in ("unit_hr", "officer", "colleague", "admin"):
        assert _download(browser(who), url)[:2] == (200, PDF), who
    for who in ("zhang", "other_hr", "outsider"):
        assert _download(browser(who), url)[0] in (403, 404), who
    assert "考核表.pdf" in browser("unit_hr").get(f"/cases/{case_id}").get_data(as_text=True)


def test_without_a_file_the_objection_works_as_before(app, cast, browser, on_notice):
    case_id = on_notice
    response = _object(browser("outsider"), case_id, case_version(cast.db, case_id), (io.BytesIO(b""), ""))
    assert response.status_code == 303 and case_state(cast.db, case_id) == "result_notice_objection"
    assert "evidence" not in _last_event(cast.db, case_id)["payload"]
    assert _rows(cast.db, case_id) == [] and _files(app.config["UPLOAD_FOLDER"]) == []
    assert "异议证据" not in browser("officer").get(f"/cases/{case_id}").get_data(as_text=True)


@pytest.mark.parametrize(("content", "name", "message"), [
    (b"<!doctype html><script>alert(1)</script>", "evidence.pdf", "只接受 PDF、JPEG 或 PNG"),
    (b"GIF89a" + b"\x00" * 20, "photo.png", "只接受 PDF、JPEG 或 PNG"),
    (b"", "empty.pdf", "文件为空"),
    (make_pdf(catalog="/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"), "evidence.pdf",
     "PDF 文件含有脚本或可执行内容"),
    (make_pdf(catalog="/Names << /EmbeddedFiles << /Names [(x.exe) 4 0 R] >> >>",
              objects=["<< /Type /Filespec /F (x.exe) /EF << /F 5 0 R >> >>",
                       b"<< /Length 2 /Type /EmbeddedFile >>\nstream\nMZ\nendstream"]),
     "evidence.pdf", "PDF 文件含有脚本或可执行内容"),
    (b"%PDF-1.4\n% not really a PDF\n%%EOF\n", "evidence.pdf", "无法读取该 PDF 文件"),
])
def test_a_bad_file_files_nothing_and_keeps_the_reason(app, cast, browser, on_notice, content, name, message):
    case_id = on_notice
    version = case_version(cast.db, case_id)
    response = _object(browser("outsider"), case_id, version, (io.BytesIO(content), name, "application/pdf"))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body and f"{REASON}</textarea>" in body and "实名提交异议" in body
    assert "请重新选择文件" in body
    assert case_state(cast.db, case_id) == "result_notice" and case_version(cast.db, case_id) == version
    assert _rows(cast.db, case_id) == [] and _files(app.config["UPLOAD_FOLDER"]) == []


def test_an_oversize_file_files_nothing_and_keeps_the_reason(cast, tmp_path, on_notice):
    from webhelpers import PASSWORD, Browser

    app = make_app(cast.db, tmp_path, MAX_UPLOAD_BYTES=4096, MAX_CONTENT_LENGTH=64 * 1024)
    b = Browser(app.test_client(), PASSWORD).login("outsider")
    version = case_version(cast.db, case_id := on_notice)
    response = _object(b, case_id, version, (io.BytesIO(b"%PDF-1.4\n" + b"0" * 8192), "scan.pdf"))
    body = response.get_data(as_text=True)
    # the same status and message as an oversize material, with the typed reason put back
    assert response.status_code == 413 and "文件超过" in body and f"{REASON}</textarea>" in body
    # over the whole-request cap: refused before the body is read (nothing of it can be kept)
    response = _object(b, case_id, version, (io.BytesIO(b"%PDF-1.4\n" + b"0" * (128 * 1024)), "huge.pdf"))
    assert response.status_code == 413
    assert case_state(cast.db, case_id) == "result_notice" and case_version(cast.db, case_id) == version
    assert _rows(cast.db, case_id) == [] and _files(app.config["UPLOAD_FOLDER"]) == []


def test_a_refused_objection_leaves_no_evidence(app, cast, browser, on_notice):
    case_id = on_notice
    version = case_version(cast.db, case_id)
    # the applicant may not object to their own notice: refused by the engine's rule after the file was stored
    response = _object(browser("zhang"), case_id, version, (io.BytesIO(PDF), "mine.pdf"))
    assert response.status_code == 409 and "申报人不能对本人的公示提出异议" in response.get_data(as_text=True)
    assert _rows(cast.db, case_id) == [] and _files(app.config["UPLOAD_FOLDER"]) == []
    # the notice was paused and resumed since the objector opened the form: a stale version
    assert _object(browser("li"), case_id, version, None).status_code == 303
    assert browser("officer").post(f"/cases/{case_id}/actions/dismiss_objection", data={
        "version": str(case_version(cast.db, case_id)), "reason": "异议不成立。"}).status_code == 303
    response = _object(browser("outsider"), case_id, version, (io.BytesIO(PDF), "late.pdf"))
    assert response.status_code == 409 and f"{REASON}</textarea>" in response.get_data(as_text=True)
    assert _rows(cast.db, case_id) == [] and _files(app.config["UPLOAD_FOLDER"]) == []
    assert case_state(cast.db, case_id) == "result_notice"


def test_the_notice_ending_meanwhile_discards_the_file(app, cast, browser, on_notice, monkeypatch):
    case_id = on_notice
    version = case_version(cast.db, case_id)
    real_fire = engine.fire

    def notice_ends_first(db, cid, trigger, actor, **kw):
        if trigger == "file_objection":
            real_fire(db, cid, "close_result_notice", SYSTEM)  # the deadline fires between page and engine
        return real_fire(db, cid, trigger, actor, **kw)

    monkeypatch.setattr(engine, "fire", notice_ends_first)
    response = _object(browser("outsider"), case_id, version, (io.BytesIO(PDF), "evidence.pdf"))
    body = response.get_data(as_text=True)
    # the page says the notice is over and shows what was typed, for the objector to keep
    assert response.status_code == 409 and "不再受理异议" in body and f"{REASON}</pre>" in body
    assert case_state(cast.db, case_id) != "result_notice_objection"
    assert _rows(cast.db, case_id) == [] and _files(app.config["UPLOAD_FOLDER"]) == []
    # and once it has ended, the form refuses before any file is stored
    monkeypatch.undo()
    response = _object(browser("outsider"), case_id, case_version(cast.db, case_id), (io.BytesIO(PDF), "e.pdf"))
    assert response.status_code == 409 and "不再受理异议" in response.get_data(as_text=True)
    assert _rows(cast.db, case_id) == [] and _files(app.config["UPLOAD_FOLDER"]) == []


def test_the_engine_records_only_the_objectors_own_evidence(app, cast, on_notice):
    case_id = on_notice
    version = case_version(cast.db, case_id)
    meta = {"original_name": "x.pdf", "content_type": "application/pdf", "size": 1, "sha256": "0" * 64}
    someone_elses = attachments.add_objection_evidence(cast.db, case_id, cast.other_applicant, stored_name="a.pdf",
                                                       **meta)
    other_case = attachments.add_objection_evidence(cast.db, open_case(cast), cast.outsider, stored_name="b.pdf",
                                                    **meta)
    for ref in (someone_elses, other_case, 10**6, str(someone_elses), True):
        with pytest.raises(InvalidAction):
            engine.fire(cast.db, case_id, "file_objection", cast.outsider,
                        data={"reason": REASON, "evidence": ref}, expected_version=version)
    assert case_state(cast.db, case_id) == "result_notice" and case_version(cast.db, case_id) == version
    own = attachments.add_objection_evidence(cast.db, case_id, cast.outsider, stored_name="c.pdf", **meta)
    fired = engine.fire(cast.db, case_id, "file_objection", cast.outsider, data={"reason": REASON, "evidence": own},
                        expected_version=version)
    assert fired.payload["evidence"]["attachment_id"] == own
    # never listed among the case's materials, and not removable as one
    with cast.db.read() as conn:
        assert own not in {r["id"] for r in attachments.list_attachments(conn, case_id, include_removed=True)}


def test_the_reference_is_checked_and_recorded_on_both_databases(any_db):
    from seed.cast import build_world

    world = build_world(any_db)
    case_id = open_case(world)
    advance(world, case_id, "result_notice")
    version = case_version(any_db, case_id)
    meta = {"original_name": "证明.pdf", "content_type": "application/pdf", "size": len(PDF),
            "sha256": hashlib.sha256(PDF).hexdigest()}
    foreign = attachments.add_objection_evidence(any_db, case_id, world.colleague, stored_name="f.pdf", **meta)
    with pytest.raises(InvalidAction):
        engine.fire(any_db, case_id, "file_objection", world.outsider, data={"reason": REASON, "evidence": foreign},
                    expected_version=version)
    assert case_version(any_db, case_id) == version
    own = attachments.add_objection_evidence(any_db, case_id, world.outsider, stored_name="o.pdf", **meta)
    engine.fire(any_db, case_id, "file_objection", world.outsider, data={"reason": REASON, "evidence": own},
                expected_version=version)
    assert _last_event(any_db, case_id)["payload"]["evidence"] == {"attachment_id": own, "name": "证明.pdf",
                                                                   "sha256": meta["sha256"], "size": len(PDF),
                                                                   "content_type": "application/pdf"}
    assert verify_chains(any_db)[1] == []
    attachments.drop_evidence(any_db, foreign)
    assert [r["id"] for r in _rows(any_db, case_id)] == [own]
