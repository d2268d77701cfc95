"""Reading a certificate PDF back the way a person or a checker would: its text, its fonts and its QR code."""

from __future__ import annotations

import io

import zxingcpp
from pypdf import PdfReader


def pdf_pages(data: bytes) -> list:
    """The PDF's pages (pypdf refuses anything that is not a well-formed PDF)."""
    return list(PdfReader(io.BytesIO(data), strict=True).pages)


def pdf_text(data: bytes) -> str:
    """All the text of the PDF, as extracted by pypdf (what copy-and-paste and screen readers get)."""
    return "\n".join(page.extract_text() for page in pdf_pages(data))


def font_files(data: bytes) -> list[tuple[str, bool]]:
    """(base font name, embedded?) of every font the PDF's pages use."""
    found = []
    for page in pdf_pages(data):
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            described = descendants[0].get_object() if descendants else font
            descriptor = described.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            found.append((str(font["/BaseFont"]), embedded))
    return found


def qr_texts(data: bytes) -> list[str]:
    """What every QR code drawn as an image in the PDF decodes to (zxing-cpp on the embedded images)."""
    texts = []
    for page in pdf_pages(data):
        for image in page.images:
            texts.extend(code.text for code in zxingcpp.read_barcodes(image.image)
                         if code.format == zxingcpp.BarcodeFormat.QRCode)
    return texts
