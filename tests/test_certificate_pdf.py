"""The printable electronic certificate (workflow/records/certificate_pdf.py): Chinese text that extracts, an embedded
CJK font (or the built-in CID fallback on a machine without one), a QR code that decodes to the verification
URL, 已撤销 on a revoked certificate, and verification codes that check."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest
from certificate_reading import font_files, pdf_pages, pdf_text, qr_texts
from reportlab.pdfbase import pdfmetrics

from workflow.records import certificate_pdf as cp

URL = "https://zc.example.gov.cn/verify?number=HN202600000421234"
WQY = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"


def _certificate(**changes) -> dict:
    cert = {"number": "HN202600000421234", "holder_name": "张伟", "title": "高级工程师", "level": "副高",
            "series": "工程", "specialty": "轨道交通装备", "issuer": "湖南省人力资源和社会保障厅",
            "issued_on": date(2026, 6, 1), "status": "valid", "revoked_on": None, "revocation_reason": "",
            "employer_name": "株洲智轨装备科技有限公司"}
    cert.update(changes)
    return cert


@pytest.fixture
def no_system_fonts(monkeypatch):
    """A fresh machine: no configured font and none of the well-known CJK TrueType files."""
    monkeypatch.delenv(cp.FONT_ENV, raising=False)
    monkeypatch.setattr(cp, "SYSTEM_FONT_CANDIDATES", ())


@pytest.fixture
def truetype() -> cp.CertificateFont:
    """The embedded TrueType font of this machine (Debian's fonts-wqy-zenhei, which .ci/run installs)."""
    if not Path(WQY).is_file():
        pytest.skip(f"{WQY} is not installed (apt-get install fonts-wqy-zenhei)")
    font = cp.find_cjk_font(WQY)
    assert font.embedded and font.path == WQY
    return font


def test_the_certificate_states_who_holds_which_title_in_chinese_with_the_font_embedded(truetype):
    code = cp.verification_code("HN202600000421234", "k")
    data = cp.render_certificate_pdf(_certificate(), verify_url=URL, code=code, font=truetype)
    pages = pdf_pages(data)
    assert len(pages) == 1
    width, height = (float(v) for v in pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    text = pdf_text(data)
    for expected in ("张伟", "高级工程师（副高）", "工程", "轨道交通装备", "湖南省人力资源和社会保障厅", "2026年6月1日",
                     "HN202600000421234", code, "株洲智轨装备科技有限公司", "验证码"):
        assert expected in text, expected
    assert "已撤销" not in text
    # the Chinese glyphs travel inside the file: a viewer without CJK fonts still shows them
    assert any("WenQuanYi" in name and embedded for name, embedded in font_files(data))


def test_the_qr_code_leads_to_the_verification_page_of_that_number(truetype):
    data = cp.render_certificate_pdf(_certificate(), verify_url=URL, code="ABCD-EFGH", font=truetype)
    assert qr_texts(data) == [URL]


def test_a_revoked_certificate_says_so_with_the_date_and_reason(truetype):
    data = cp.render_certificate_pdf(
        _certificate(status="revoked", revoked_on=date(2026, 9, 3), revocation_reason="业绩材料造假"),
        verify_url=URL, code="ABCD-EFGH", font=truetype)
    text = pdf_text(data)
    assert "已撤销" in text and "2026年9月3日" in text and "业绩材料造假" in text and "张伟" in text
    assert qr_texts(data) == [URL]  # still verifiable: the page shows the revocation too


def test_long_values_wrap_inside_the_page(truetype):
    issuer = "湖南省" + "某某" * 60 + "厅"
    data = cp.render_certificate_pdf(_certificate(issuer=issuer, revocation_reason="原因" * 300, status="revoked",
                                                  revoked_on=date(2026, 9, 3)),
                                     verify_url=URL, code="ABCD-EFGH", font=truetype)
    assert "某某某某" in pdf_text(data)
    for line in cp._wrap(issuer, truetype.name, 13, 100):
        assert pdfmetrics.stringWidth(line, truetype.name, 13) <= 100
    assert len(cp._wrap("原因" * 300, truetype.name, 11, 100, max_lines=4)) == 4


def test_without_a_cjk_truetype_font_the_builtin_cid_font_still_gives_extractable_chinese(no_system_fonts):
    font = cp.find_cjk_font()
    assert font.name == cp.FALLBACK_CID_FONT and not font.embedded
    data = cp.render_certificate_pdf(_certificate(status="revoked", revoked_on=date(2026, 9, 3)),
                                     verify_url=URL, code="ABCD-EFGH")  # the default font: the fallback here
    text = pdf_text(data)
    assert "张伟" in text and "高级工程师" in text and "HN202600000421234" in text and "已撤销" in text
    assert (f"/{cp.FALLBACK_CID_FONT}", False) in font_files(data)
    assert qr_texts(data) == [URL]


def test_a_configured_font_comes_first_and_a_bad_one_is_reported_and_skipped(no_system_fonts, tmp_path, caplog,
                                                                            monkeypatch):
    not_a_font = tmp_path / "broken.ttf"
    not_a_font.write_bytes(b"this is not a font")
    with caplog.at_level(logging.WARNING, logger="workflow.records.certificate_pdf"):
        assert cp.find_cjk_font(str(not_a_font)).name == cp.FALLBACK_CID_FONT
        assert cp.find_cjk_font(str(tmp_path / "missing.ttc")).name == cp.FALLBACK_CID_FONT
    assert "broken.ttf" in caplog.text and "missing.ttc" in caplog.text
    if Path(WQY).is_file():
        # through the environment, and with the face of the collection named (#1: WenQuanYi Zen Hei Sharp)
        monkeypatch.setenv(cp.FONT_ENV, f"{WQY}#1")
        font = cp.find_cjk_font()
        assert font.path == WQY and font.subfont_index == 1
        data = cp.render_certificate_pdf(_certificate(), verify_url=URL, code="ABCD-EFGH", font=font)
        assert "张伟" in pdf_text(data) and any(embedded for _, embedded in font_files(data))


def test_verification_codes_are_fixed_per_number_and_key_and_forgive_typing():
    code = cp.verification_code("HN202600000421234", "key-1")
    assert len(code) == 9 and code[4] == "-" and set(code.replace("-", "")) <= set(cp.CODE_ALPHABET)
    assert cp.verification_code(" hn202600000421234 ", "key-1") == code
    assert cp.verification_code("HN202600000421234", "key-2") != code
    assert cp.verification_code("HN202600000421235", "key-1") != code
    assert cp.code_matches("HN202600000421234", code, "key-1")
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert cp.code_matches("HN202600000421234", typed, "key-1")
    wrong = ("0" if code[0] != "0" else "1") + code[1:]
    assert not cp.code_matches("HN202600000421234", wrong, "key-1")
    assert not cp.code_matches("HN202600000421234", "", "key-1")
    assert not cp.code_matches("HN202600000421234", code, "key-2")
    with pytest.raises(ValueError):
        cp.verification_code("HN202600000421234", "")
