"""Hostile uploads: polyglots, oversize files, path traversal in names, mislabelled types, SVG and HTML; and how
whatever is accepted is served back (attachment, declared type, nosniff, only to people who may see the case)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from sqlalchemy import select
from webhelpers import make_app, open_case

from workflow.models.attachments import Attachment

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF_HTML_POLYGLOT = b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n%%EOF\n"
HTML_PDF_POLYGLOT = b"<html><script>alert(1)</script><!--\n%PDF-1.4\n-->\n"


def _upload(b, case_id: int, content: bytes, name: str, content_type: str | None = None):
    file = (io.BytesIO(content), name, content_type) if content_type else (io.BytesIO(content), name)
    return b.post(f"/applicant/cases/{case_id}/materials", data={"category": "education", "file": file},
                  content_type="multipart/form-data")


def _rows(db, case_id: int) -> list[dict]:
    att = Attachment.__table__
    with db.read() as conn:
        return [dict(r) for r in conn.execute(select(att).where(att.c.case_id == case_id).order_by(att.c.id))
                .mappings()]


def _files(folder: str) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.is_file())


@pytest.mark.parametrize(("content", "name", "declared"), [
    (HTML_PDF_POLYGLOT, "cv.pdf", "application/pdf"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
     "photo.png", "image/png"),
    (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "x.svg", "image/svg+xml"),
    (b"<!doctype html><script>alert(1)</script>", "index.html", "text/html"),
    (b"GIF89a" + b"\x00" * 20, "a.gif", "image/gif"),
    (b"PK\x03\x04" + b"\x00" * 20, "materials.pdf", "application/pdf"),  # a zip (docx/jar) named .pdf
    (b"MZ\x90\x00" + b"\x00" * 20, "证书.jpg", "image/jpeg"),
    (b" %PDF-1.4\n", "lead-space.pdf", "application/pdf"),
])
def test_anything_but_pdf_jpeg_png_by_content_is_refused(app, cast, browser, content, name, declared):
    case_id = open_case(cast)
    response = _upload(browser("zhang"), case_id, content, name, declared)
    assert response.status_code == 422
    assert "只接受 PDF、JPEG 或 PNG" in response.get_data(as_text=True)
    assert _rows(cast.db, case_id) == [] and _files(app.config["UPLOAD_FOLDER"]) == []


def test_a_pdf_html_polyglot_is_only_ever_a_pdf_download(app, cast, browser):
    case_id = open_case(cast)
    b = browser("zhang")
    assert _upload(b, case_id, PDF_HTML_POLYGLOT, "page.html", "text/html").status_code == 303
    (row,) = _rows(cast.db, case_id)
    assert row["content_type"] == "application/pdf" and row["stored_name"].endswith(".pdf")
    response = b.get(f"/cases/{case_id}/materials/{row['id']}")
    assert response.status_code == 200 and response.data == PDF_HTML_POLYGLOT
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    response.close()


def test_a_mislabelled_image_keeps_its_real_type(app, cast, browser):
    case_id = open_case(cast)
    b = browser("zhang")
    assert _upload(b, case_id, PNG, "report.pdf", "application/pdf").status_code == 303
    assert _upload(b, case_id, JPEG, "scan.png", "text/html").status_code == 303
    png, jpeg = _rows(cast.db, case_id)
    assert (png["content_type"], jpeg["content_type"]) == ("image/png", "image/jpeg")
    response = b.get(f"/cases/{case_id}/materials/{png['id']}")
    assert response.mimetype == "image/png" and response.headers["Content-Disposition"].startswith("attachment")
    response.close()


@pytest.mark.parametrize("name", ["../../../../etc/passwd.pdf", "..\\..\\windows\\win.ini.pdf", "/etc/cron.d/x.pdf",
                                  "....//....//x.pdf", "%2e%2e%2fx.pdf", "a\x00b.pdf", "\u202etxt.pdf", ".htaccess",
                                  "static/../../app.py"])
def test_names_never_become_paths(app, cast, browser, name):
    case_id = open_case(cast)
    folder = Path(app.config["UPLOAD_FOLDER"]).resolve()
    response = _upload(browser("zhang"), case_id, b"%PDF-1.4\n%%EOF\n", name)
    assert response.status_code == 303, response.status_code
    (row,) = _rows(cast.db, case_id)
    (stored,) = _files(str(folder))
    assert stored.resolve().parent.parent == folder and stored.name == row["stored_name"]
    assert len(row["stored_name"]) == 36 and row["stored_name"][:32].isalnum()
    assert "/" not in row["original_name"] and "\\" not in row["original_name"]
    assert all(ch.isprintable() for ch in row["original_name"])
    response = browser("zhang").get(f"/cases/{case_id}/materials/{row['id']}")
    disposition = response.headers["Content-Disposition"]
    response.close()
    assert disposition.startswith("attachment") and "/" not in disposition.split("filename", 1)[1]


def test_the_upload_folder_is_outside_every_static_folder(app):
    folder = Path(app.config["UPLOAD_FOLDER"]).resolve()
    statics = [Path(app.static_folder).resolve()] + [Path(bp.static_folder).resolve()
                                                       for bp in app.blueprints.values() if bp.static_folder]
    for static in statics:
        assert not folder.is_relative_to(static) and not static.is_relative_to(folder)


def test_oversize_files_are_refused_whole_and_per_file(cast_db, tmp_path, cast):
    from webhelpers import PASSWORD, Browser

    app = make_app(cast_db, tmp_path, MAX_UPLOAD_BYTES=4096, MAX_CONTENT_LENGTH=64 * 1024)
    b = Browser(app.test_client(), PASSWORD).login("zhang")
    case_id = open_case(cast)
    # over the per-file limit but under the request cap: our own message, nothing kept
    response = _upload(b, case_id, b"%PDF-1.4\n" + b"0" * 8192, "big.pdf")
    assert response.status_code == 413 and "MB" in response.get_data(as_text=True)
    # over the whole-request cap: refused before the body is read
    response = _upload(b, case_id, b"%PDF-1.4\n" + b"0" * (128 * 1024), "huge.pdf")
    assert response.status_code == 413
    assert _rows(cast.db, case_id) == [] and _files(app.config["UPLOAD_FOLDER"]) == []
    assert _upload(b, case_id, b"%PDF-1.4\n" + b"0" * 1000, "ok.pdf").status_code == 303


def test_only_people_who_may_see_the_case_get_the_file(app, cast, browser):
    case_id = open_case(cast)
    b = browser("zhang")
    assert _upload(b, case_id, b"%PDF-1.4\n%%EOF\n", "diploma.pdf").status_code == 303
    (row,) = _rows(cast.db, case_id)
    url = f"/cases/{case_id}/materials/{row['id']}"
    assert browser().get(url).status_code == 302  # to sign in
    for who in ("li", "other_hr", "unit_hr", "expert1", "outsider"):  # a draft: the applicant's own
        assert browser(who).get(url).status_code == 403, who
    assert browser("li").get(f"/cases/999/materials/{row['id']}").status_code == 404


def test_stored_files_are_not_executable_or_world_writable(app, cast, browser):
    case_id = open_case(cast)
    assert _upload(browser("zhang"), case_id, JPEG, "a.jpg").status_code == 303
    (stored,) = _files(app.config["UPLOAD_FOLDER"])
    mode = os.stat(stored).st_mode
    assert not mode & 0o111 and not mode & 0o002
