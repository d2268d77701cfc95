"""The certificate people can hold (issue 17, item 3) through the web: its holder and the issuing authority
download the PDF, anyone else with the verification code printed on it; the QR code opens the verification
page of that number, which shows the status, the employer, and the download form."""

from __future__ import annotations

import pytest
from certificate_reading import pdf_text, qr_texts
from webhelpers import certified_case, make_app

from workflow.engine import core as engine
from workflow.records.certificate_pdf import verification_code

SECRET = "test-secret"  # make_app's SECRET_KEY: the codes' key when no dedicated one is set



def _is_pdf(response) -> bytes:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    return response.get_data()


def test_the_holder_downloads_a_pdf_whose_qr_code_opens_the_verification_page(cast, browser):
    case_id, number = certified_case(cast)
    holder = browser("zhang")
    page = holder.get(f"/cases/{case_id}").get_data(as_text=True)
    link = f'href="/verify/{number}/certificate.pdf"'
    assert link in page and f'<code class="cert-code">{verification_code(number, SECRET)}</code>' in page
    data = _is_pdf(holder.get(f"/verify/{number}/certificate.pdf"))
    text = pdf_text(data)
    assert "张伟" in text and "高级工程师" in text and number in text and verification_code(number, SECRET) in text
    assert "株洲智轨装备科技有限公司" in text and "已撤销" not in text
    [url] = qr_texts(data)
    assert url == f"http://localhost/verify?number={number}"
    # the QR code's page: prefilled, the status prominent, the employer, and a direct download for the holder
    shown = holder.get(url.removeprefix("http://localhost")).get_data(as_text=True)
    assert f'value="{number}"' in shown and 'data-result="valid"' in shown and 'id="verify-status"' in shown
    assert 'id="verify-employer">株洲智轨装备科技有限公司<' in shown
    assert 'id="certificate-pdf"' in shown and 'name="code"' not in shown


def test_the_issuing_authority_downloads_it_from_its_register(cast, browser):
    case_id, number = certified_case(cast)
    officer = browser("officer")
    register = officer.get("/authority/certificates").get_data(as_text=True)
    assert f'href="/verify/{number}/certificate.pdf"' in register
    assert "张伟" in pdf_text(_is_pdf(officer.get(f"/verify/{number}/certificate.pdf")))
    assert 'id="certificate-pdf"' in officer.get(f"/cases/{case_id}").get_data(as_text=True)


def test_anyone_else_needs_the_code_printed_on_it(cast, browser):
    case_id, number = certified_case(cast)
    code = verification_code(number, SECRET)
    url = f"/verify/{number}/certificate.pdf"
    # the employer's HR sees the case, but is not the holder: no link on the case page, and the code is asked for
    assert 'id="certificate-pdf"' not in browser("unit_hr").get(f"/cases/{case_id}").get_data(as_text=True)
    for who in (None, "li", "unit_hr", "admin", "chair"):
        response = browser(who).get(url)
        body = response.get_data(as_text=True)
        assert response.status_code == 403 and "请输入证书上印的验证码" in body and 'data-result="valid"' in body, who
    anonymous = browser()
    refused = anonymous.get(url, query_string={"code": "ABCD-2345"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 403 and "验证码不正确" in body and 'value="ABCD-2345"' in body  # kept as typed
    form = anonymous.get(f"/verify?number={number}").get_data(as_text=True)
    assert f'action="{url}"' in form and 'name="code"' in form
    assert "张伟" in pdf_text(_is_pdf(anonymous.get(url, query_string={"code": code})))
    # typed from paper: lower case, a space for the dash, the letter O for a zero, still the code
    typed = code.lower().replace("-", " ").replace("0", "o")
    assert _is_pdf(anonymous.get(url.lower(), query_string={"code": typed}))


def test_an_unknown_or_malformed_number_is_not_found(cast, browser):
    certified_case(cast)
    for url in ("/verify/HN20269999999/certificate.pdf", "/verify/%3Cscript%3E/certificate.pdf",
                "/verify/HN2026/certificate.pdf"):
        assert browser("officer").get(url).status_code == 404
        assert browser().get(url, query_string={"code": "ABCD-2345"}).status_code == 404


def test_a_revoked_certificate_says_so_in_the_pdf_and_on_the_page(cast, browser):
    case_id, number = certified_case(cast)
    engine.fire(cast.db, case_id, "revoke", cast.officer, data={"reason": "业绩材料造假"})
    text = pdf_text(_is_pdf(browser("zhang").get(f"/verify/{number}/certificate.pdf")))
    assert "已撤销" in text and "业绩材料造假" in text and "张伟" in text
    page = browser().get(f"/verify?number={number}").get_data(as_text=True)
    assert 'data-result="revoked"' in page and "证书已撤销" in page and "株洲智轨装备科技有限公司" in page
    public = browser().get(f"/verify/{number}/certificate.pdf",
                           query_string={"code": verification_code(number, SECRET)})
    assert "已撤销" in pdf_text(_is_pdf(public))


def test_a_dedicated_code_key_outlives_the_secret_key(cast_db, cast, tmp_path):
    _, number = certified_case(cast)
    app = make_app(cast_db, tmp_path, CERTIFICATE_CODE_KEY="certificates-2026")
    client = app.test_client()
    url = f"/verify/{number}/certificate.pdf"
    assert client.get(url, query_string={"code": verification_code(number, SECRET)}).status_code == 403
    data = _is_pdf(client.get(url, query_string={"code": verification_code(number, "certificates-2026")}))
    assert verification_code(number, "certificates-2026") in pdf_text(data)


@pytest.mark.parametrize("configured", ["", "/nonexistent/font.ttc"])
def test_the_configured_font_setting_never_breaks_the_download(cast_db, cast, tmp_path, monkeypatch, configured):
    from workflow.records import certificate_pdf

    monkeypatch.setattr(certificate_pdf, "SYSTEM_FONT_CANDIDATES", ())
    monkeypatch.delenv(certificate_pdf.FONT_ENV, raising=False)
    _, number = certified_case(cast)
    app = make_app(cast_db, tmp_path, CERTIFICATE_FONT=configured)
    data = _is_pdf(app.test_client().get(f"/verify/{number}/certificate.pdf",
                                         query_string={"code": verification_code(number, SECRET)}))
    assert "张伟" in pdf_text(data)  # the built-in CID font: still Chinese text
