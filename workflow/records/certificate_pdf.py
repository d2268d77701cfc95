"""The electronic title certificate as a printable A4 PDF (issue 17, item 3; rules.md §3 stage 12).

The PDF carries the holder, the title with its level, series and specialty, the issuer, the date issued, the
certificate number, a verification code and a QR code whose content is the public verification URL of that
number (an absolute URL the caller builds, so this module knows nothing of the web). A revoked certificate says
so across the page, with the date and reason as stored.

**Fonts.** Chinese text is drawn with a CJK TrueType font embedded in the PDF (a subset of the glyphs used),
found in this order: the path the caller configures (``TITLEREVIEW_CERTIFICATE_FONT`` / the app's
``CERTIFICATE_FONT``; ``path.ttc#2`` picks the third face of a collection), then well-known system paths
(:data:`SYSTEM_FONT_CANDIDATES`; Debian's ``fonts-wqy-zenhei`` is the one ``.ci/run`` installs). ReportLab embeds
only TrueType outlines: the CFF-based Noto CJK ``.ttc``/``.otf`` files are tried and refused, and the next
candidate is used. On a machine with no usable CJK TrueType font the PDF falls back to ReportLab's built-in CID
font ``STSong-Light`` (Adobe-GB1): it is *not* embedded, every PDF viewer supplies it, and the text still
extracts as Unicode — so a fresh machine still produces a readable certificate.

**Verification code.** The certificate table has no code column; rather than a schema change the code is an
HMAC of the certificate number under a server key (:func:`verification_code`): 8 Crockford base-32 characters
(40 bits), checkable without storing anything. The key must stay the same for as long as printed certificates
are in circulation; docs/deployment.md says how to set a dedicated one.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import segno
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen import canvas
from sqlalchemy import Connection

from workflow.access.roles import Actor
from workflow.access.visibility import viewing_relations
from workflow.models import CertificateStatus

log = logging.getLogger(__name__)

FONT_ENV = "TITLEREVIEW_CERTIFICATE_FONT"
"""Environment variable naming the CJK TrueType font file to embed (``path`` or ``path#face-index``)."""

SYSTEM_FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansSC-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSerifSC-Regular.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # CFF outlines: refused by ReportLab, skipped
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
    "C:/Windows/Fonts/simsun.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)
"""Where CJK TrueType fonts live on common systems, tried in order after the configured one."""

FALLBACK_CID_FONT = "STSong-Light"
"""ReportLab's built-in Simplified Chinese CID font: used, not embedded, when no TrueType font is usable."""

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base 32: no I, L, O or U, so a code read aloud or typed from paper is hard to get wrong."""

CODE_LENGTH = 8
_CODE_CONTEXT = b"titlereview certificate verification code\x00"
# Letters people type for digits they misread on paper (Crockford's decoding rules).
_CODE_TYPOS = str.maketrans({"O": "0", "I": "1", "L": "1"})


@dataclass(frozen=True)
class CertificateFont:
    """The font the certificate is drawn with: a registered ReportLab name, and where it came from."""

    name: str
    path: str | None
    """The TrueType file embedded, or None for the built-in CID fallback."""
    subfont_index: int = 0

    @property
    def embedded(self) -> bool:
        """True when the glyphs travel inside the PDF (a TrueType subset), False for the CID fallback."""
        return self.path is not None


_registered: dict[tuple[str, int], CertificateFont] = {}
_refused: set[tuple[str, int]] = set()
_register_lock = threading.Lock()  # ReportLab's font registry is process-global; register each file once


def _split_font_spec(spec: str) -> tuple[str, int]:
    """``path`` or ``path#index`` → (path, face index within a collection)."""
    path, sep, index = spec.rpartition("#")
    if sep and index.isdigit():
        return path, int(index)
    return spec, 0


def _load_truetype(path: str, index: int) -> CertificateFont | None:
    """Register the TrueType face once per process; None when the file is missing or not usable."""
    key = (path, index)
    with _register_lock:
        if key in _registered:
            return _registered[key]
        if key in _refused or not Path(path).is_file():
            return None
        name = "CertCJK-" + hashlib.sha256(f"{path}#{index}".encode()).hexdigest()[:12]
        try:
            pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
        except (TTFError, OSError, ValueError, KeyError) as err:  # CFF outlines, damaged or non-font files
            log.info("certificate font %s#%d not usable: %s", path, index, err)
            _refused.add(key)
            return None
        font = CertificateFont(name=name, path=path, subfont_index=index)
        _registered[key] = font
        return font


def _cid_fallback() -> CertificateFont:
    """The built-in STSong-Light CID font (registered once)."""
    with _register_lock:
        if FALLBACK_CID_FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_CID_FONT))
    return CertificateFont(name=FALLBACK_CID_FONT, path=None)


def find_cjk_font(configured: str | None = None,
                  candidates: Sequence[str] | None = None) -> CertificateFont:
    """The font to draw Chinese with: ``configured`` (else ``$TITLEREVIEW_CERTIFICATE_FONT``), then the
    ``candidates`` (default :data:`SYSTEM_FONT_CANDIDATES`), then the built-in CID font.

    A configured font that cannot be used is logged as a warning and the search goes on, so a wrong setting
    degrades the certificate's typeface rather than refusing the certificate.
    """
    spec = configured if configured is not None else os.environ.get(FONT_ENV, "")
    if spec.strip():
        path, index = _split_font_spec(spec.strip())
        font = _load_truetype(path, index)
        if font is not None:
            return font
        log.warning("the configured certificate font %r is missing or not a TrueType font; searching the system",
                    spec)
    for path in SYSTEM_FONT_CANDIDATES if candidates is None else candidates:
        font = _load_truetype(path, 0)
        if font is not None:
            return font
    return _cid_fallback()


# --------------------------------------------------------------------------------------------- verification code


def _key_bytes(key: str | bytes) -> bytes:
    if not key:
        raise ValueError("a certificate verification code needs a non-empty key")
    return key if isinstance(key, bytes) else key.encode()


def normalise_number(number: str) -> str:
    """A certificate number as stored: upper case, no spaces."""
    return number.strip().upper().replace(" ", "")


def verification_code(number: str, key: str | bytes) -> str:
    """The certificate's verification code, ``XXXX-XXXX``: an HMAC-SHA256 of the number under ``key``, cut to
    40 bits in Crockford base 32. The same number and key always give the same code."""
    digest = hmac.new(_key_bytes(key), _CODE_CONTEXT + normalise_number(number).encode(), hashlib.sha256).digest()
    value = int.from_bytes(digest[:5], "big")
    chars = [CODE_ALPHABET[(value >> shift) & 31] for shift in range(5 * (CODE_LENGTH - 1), -1, -5)]
    text = "".join(chars)
    return f"{text[:4]}-{text[4:]}"


def normalise_code(raw: str) -> str:
    """A typed code in canonical form: upper case, spaces and dashes dropped, O/I/L read as 0/1."""
    return "".join(raw.split()).replace("-", "").upper().translate(_CODE_TYPOS)


def code_matches(number: str, raw: str | None, key: str | bytes) -> bool:
    """True when ``raw`` (as typed) is the verification code of ``number`` (constant-time comparison)."""
    if not raw:
        return False
    return hmac.compare_digest(normalise_code(raw), normalise_code(verification_code(number, key)))


HOLDER_RELATIONS = ("applicant", "authority_officer")
"""Who may fetch a certificate's PDF without its code: the holder (the case's applicant) and the officers of
the issuing authority. Everyone else needs the verification code printed on it."""


def may_fetch_without_code(conn: Connection, actor: Actor | None, case: dict[str, Any] | None) -> bool:
    """True when ``actor`` holds the certificate of ``case`` or serves the authority that issued it."""
    if actor is None or case is None:
        return False
    return any(r in HOLDER_RELATIONS for r in viewing_relations(conn, actor, case))


# --------------------------------------------------------------------------------------------- layout

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
_INK = colors.HexColor("#1f2d3d")
_ACCENT = colors.HexColor("#9b1b1b")
_MUTED = colors.HexColor("#5a6470")
_REVOKED = colors.HexColor("#c0161b")
_MAX_REASON_LINES = 4


def _day(value: Any) -> str:
    """A date as 2026年6月1日 (stored dates arrive as ``date`` or ISO text)."""
    if value in (None, ""):
        return "—"
    d = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return f"{d.year}年{d.month}月{d.day}日"


def _wrap(text: str, font: str, size: float, width: float, max_lines: int | None = None) -> list[str]:
    """Greedy line breaking by character width: Chinese has no spaces to break at."""
    lines: list[str] = []
    for paragraph in str(text).splitlines() or [""]:
        line = ""
        for char in paragraph:
            if line and pdfmetrics.stringWidth(line + char, font, size) > width:
                lines.append(line)
                line = ""
            line += char
        lines.append(line)
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:-1] + "…"
    return lines


def _qr_image(url: str) -> ImageReader:
    """The QR code of ``url`` as a PNG image (8 px per module, 4-module quiet zone) for ReportLab to embed."""
    qr = segno.make_qr(url, error="m")
    png = io.BytesIO()
    qr.save(png, kind="png", scale=8, border=4, dark="black", light="white")
    png.seek(0)
    return ImageReader(png)


def certificate_rows(certificate: Mapping[str, Any], code: str) -> list[tuple[str, str]]:
    """(label, value) of what the certificate states, in the order printed."""
    level = certificate.get("level") or ""
    title = f"{certificate['title']}（{level}）" if level else certificate["title"]
    rows = [("持证人", certificate["holder_name"])]
    if certificate.get("id_masked"):
        rows.append(("身份证号", certificate["id_masked"]))  # masked: the full number is never printed
    if certificate.get("employer_name"):
        rows.append(("工作单位", certificate["employer_name"]))
    rows += [
        ("职称", title),
        ("系列", certificate.get("series") or "—"),
        ("专业", certificate.get("specialty") or "—"),
        ("发证机关", certificate["issuer"]),
        ("发证日期", _day(certificate["issued_on"])),
        ("证书编号", certificate["number"]),
        ("验证码", code),
    ]
    return rows


def render_certificate_pdf(certificate: Mapping[str, Any], *, verify_url: str, code: str,
                           font: CertificateFont | None = None) -> bytes:
    """The certificate as a one-page A4 PDF.

    ``certificate`` is a certificate row (as :func:`workflow.records.queries.certificate_by_number` returns it:
    ``number``, ``holder_name``, ``title``, ``level``, ``series``, ``specialty``, ``issuer``, ``issued_on``,
    ``status``, ``revoked_on``, ``revocation_reason``, optionally ``employer_name`` and ``id_masked``);
    ``verify_url`` the absolute public verification URL the QR code encodes; ``code`` its verification code;
    ``font`` the font to draw with (default: :func:`find_cjk_font`).
    """
    font = font or find_cjk_font()
    revoked = certificate.get("status") != CertificateStatus.VALID
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"电子职称证书 {certificate['number']}")
    pdf.setAuthor(certificate["issuer"])
    pdf.setSubject("已撤销的电子职称证书" if revoked else "电子职称证书")
    pdf.setCreator("titlereview")

    _frame(pdf)
    y = PAGE_HEIGHT - MARGIN - 26 * mm
    pdf.setFillColor(_ACCENT)
    pdf.setFont(font.name, 28)
    pdf.drawCentredString(PAGE_WIDTH / 2, y, "专业技术资格证书")
    y -= 10 * mm
    pdf.setFillColor(_MUTED)
    pdf.setFont(font.name, 12)
    pdf.drawCentredString(PAGE_WIDTH / 2, y, "电子职称证书 · 与纸质证书具有同等效力")
    y -= 14 * mm
    if revoked:
        y = _revocation_banner(pdf, font, certificate, y)
        _revocation_watermark(pdf, font)

    y = _statement(pdf, font, certificate, y)
    y = _rows(pdf, font, certificate_rows(certificate, code), y)
    _verification_block(pdf, font, certificate, verify_url, code, revoked)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def _frame(pdf: canvas.Canvas) -> None:
    """A double border around the page, as printed certificates have."""
    pdf.setStrokeColor(_ACCENT)
    pdf.setLineWidth(2.2)
    pdf.rect(MARGIN - 6 * mm, MARGIN - 6 * mm, PAGE_WIDTH - 2 * (MARGIN - 6 * mm), PAGE_HEIGHT - 2 * (MARGIN - 6 * mm))
    pdf.setLineWidth(0.6)
    pdf.rect(MARGIN - 4 * mm, MARGIN - 4 * mm, PAGE_WIDTH - 2 * (MARGIN - 4 * mm), PAGE_HEIGHT - 2 * (MARGIN - 4 * mm))


def _revocation_banner(pdf: canvas.Canvas, font: CertificateFont, certificate: Mapping[str, Any],
                       y: float) -> float:
    """A red box under the heading: 已撤销, the date, the reason as stored. Returns the y below it."""
    width = PAGE_WIDTH - 2 * MARGIN
    reason = (certificate.get("revocation_reason") or "").strip()
    detail = f"本证书已于{_day(certificate.get('revoked_on'))}撤销，不再有效。"
    lines = _wrap(detail + (f"撤销原因：{reason}" if reason else ""), font.name, 11, width - 12 * mm,
                  _MAX_REASON_LINES)
    height = 14 * mm + len(lines) * 5.5 * mm
    top = y + 4 * mm
    pdf.setStrokeColor(_REVOKED)
    pdf.setFillColor(colors.HexColor("#fdecec"))
    pdf.setLineWidth(1.6)
    pdf.rect(MARGIN, top - height, width, height, fill=1)
    pdf.setFillColor(_REVOKED)
    pdf.setFont(font.name, 22)
    pdf.drawCentredString(PAGE_WIDTH / 2, top - 10 * mm, "已撤销")
    pdf.setFont(font.name, 11)
    line_y = top - 16 * mm
    for line in lines:
        pdf.drawString(MARGIN + 6 * mm, line_y, line)
        line_y -= 5.5 * mm
    return top - height - 10 * mm


def _revocation_watermark(pdf: canvas.Canvas, font: CertificateFont) -> None:
    """已撤销 diagonally across the page, light enough to read the text beneath."""
    pdf.saveState()
    pdf.setFillColor(colors.Color(0.75, 0.09, 0.11, alpha=0.12))
    pdf.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2 - 20 * mm)
    pdf.rotate(35)
    pdf.setFont(font.name, 120)
    pdf.drawCentredString(0, 0, "已撤销")
    pdf.restoreState()


def _statement(pdf: canvas.Canvas, font: CertificateFont, certificate: Mapping[str, Any], y: float) -> float:
    """The sentence the certificate attests, wrapped to the page width."""
    level = f"（{certificate['level']}）" if certificate.get("level") else ""
    text = (f"{certificate['holder_name']}经评审，具备{certificate.get('series') or ''}系列"
            f"{certificate.get('specialty') or ''}专业{certificate['title']}{level}资格，特发此证。")
    pdf.setFillColor(_INK)
    pdf.setFont(font.name, 14)
    for line in _wrap(text, font.name, 14, PAGE_WIDTH - 2 * MARGIN - 10 * mm, 4):
        pdf.drawString(MARGIN + 5 * mm, y, line)
        y -= 8 * mm
    return y - 6 * mm


def _rows(pdf: canvas.Canvas, font: CertificateFont, rows: list[tuple[str, str]], y: float) -> float:
    """The labelled fields, one per line, a long value wrapped under its label."""
    label_x = MARGIN + 5 * mm
    value_x = MARGIN + 32 * mm
    width = PAGE_WIDTH - MARGIN - value_x - 5 * mm
    for label, value in rows:
        pdf.setFillColor(_MUTED)
        pdf.setFont(font.name, 12)
        pdf.drawString(label_x, y, label)
        pdf.setFillColor(_INK)
        pdf.setFont(font.name, 13)
        for line in _wrap(value, font.name, 13, width, 3):
            pdf.drawString(value_x, y, line)
            y -= 7 * mm
        pdf.setStrokeColor(colors.HexColor("#d9dee3"))
        pdf.setLineWidth(0.4)
        pdf.line(label_x, y + 4.5 * mm, PAGE_WIDTH - MARGIN - 5 * mm, y + 4.5 * mm)
        y -= 2.5 * mm
    return y


def _verification_block(pdf: canvas.Canvas, font: CertificateFont, certificate: Mapping[str, Any],
                        verify_url: str, code: str, revoked: bool) -> None:
    """The QR code at the foot of the page, with how to verify by hand beside it."""
    size = 42 * mm
    x = PAGE_WIDTH - MARGIN - size
    bottom = MARGIN + 8 * mm
    pdf.drawImage(_qr_image(verify_url), x, bottom, width=size, height=size)
    pdf.setFillColor(_MUTED)
    pdf.setFont(font.name, 10)
    pdf.drawCentredString(x + size / 2, bottom - 5 * mm, "扫码查验")
    text_width = x - MARGIN - 12 * mm
    lines = ["查验方式：扫描右侧二维码，或在证书查验页面输入证书编号。",
             f"证书编号：{certificate['number']}    验证码：{code}",
             "查验页面显示证书当前状态；证书撤销后以查验结果为准。"]
    if revoked:
        lines.insert(0, "本证书已撤销，不再有效。")
    y = bottom + size - 6 * mm
    for paragraph in lines:
        for line in _wrap(paragraph, font.name, 10, text_width):
            pdf.drawString(MARGIN + 5 * mm, y, line)
            y -= 5 * mm
    pdf.setFont("Helvetica", 8)  # the URL is ASCII: a Latin font keeps it compact and copyable
    for line in _wrap(verify_url, "Helvetica", 8, text_width, 3):
        pdf.drawString(MARGIN + 5 * mm, y, line)
        y -= 4 * mm
