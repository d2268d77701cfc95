"""Small well-formed PDFs for the upload tests, written by hand so every byte is known.

Uploaded PDFs are parsed before they are kept (web/pdfcheck.py), so a test file must be a real PDF: a header,
numbered objects, a cross-reference table with their byte offsets and a trailer.
"""

from __future__ import annotations

from collections.abc import Sequence


def make_pdf(*, catalog: str = "", page: str = "", objects: Sequence[str | bytes] = (), comment: bytes = b"",
             pad: int = 0) -> bytes:
    """A one-page PDF: object 1 the catalog (``catalog`` adds entries), 2 the page tree, 3 the page (``page``
    adds entries), then ``objects`` numbered from 4. ``comment`` goes in as comment lines after the header
    (a PDF/HTML polyglot puts its markup there); ``pad`` adds a comment of that many bytes before the table."""
    bodies: list[bytes] = [f"<< /Type /Catalog /Pages 2 0 R {catalog}>>".encode(),
                           b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                           f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] {page}>>".encode()]
    bodies.extend(o.encode() if isinstance(o, str) else o for o in objects)
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    for line in comment.splitlines():
        out += b"%" + line + b"\n"
    offsets = []
    for number, body in enumerate(bodies, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    if pad:
        out += b"%" + b"0" * pad + b"\n"
    table = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(bodies) + 1, table)
    return bytes(out)


def stream(data: bytes, entries: str = "") -> bytes:
    """A stream object's body with its ``/Length``."""
    return b"<< /Length %d %s>>\nstream\n" % (len(data), entries.encode()) + data + b"\nendstream"


PLAIN_PDF = make_pdf()
"""A blank page: accepted."""
