"""The holder's masked ID number (issue 17, item 3): the applicant enters the full 居民身份证号码 on their own
profile page and only sees it in full there; reviewers, the public verification page, the API and the printed
certificate show it masked (first 3 and last 4 characters), so that two holders of one name can be told apart."""

from __future__ import annotations

import re

from certificate_reading import pdf_text
from sqlalchemy import select, update
from webhelpers import certified_case, open_case

from seed.cast import OTHER_APPLICANT_ID_NUMBER, READY_PROFILE
from workflow.access.identity import id_number_problem, mask_id_number
from workflow.eligibility.profiles import parse_profile
from workflow.engine import core as engine
from workflow.models import ApplicantProfile, User

_profile = ApplicantProfile.__table__
FULL = READY_PROFILE["id_number"]
MASKED = "430***********0036"



def _error_beside(page: str, field: str) -> str:
    """The error text shown under the profile form's ``field`` (the field must point to it)."""
    assert re.search(rf'id="{field}"[^>]*aria-describedby="[^"]*{field}-error"[^>]*aria-invalid="true"', page)
    found = re.search(rf'<div class="invalid-feedback d-block" id="{field}-error">([^<]*)</div>', page)
    assert found, f"no error under {field}"
    return found.group(1)


def test_the_verification_page_and_the_api_show_only_the_masked_number(any_cast, any_browser):
    # Both databases: the lookup reads the number out of the profile's JSON body (JSONB on PostgreSQL).
    assert mask_id_number(FULL) == MASKED
    _case_id, number = certified_case(any_cast)
    visitor = any_browser(None)
    page = visitor.get(f"/verify?number={number}").get_data(as_text=True)
    assert 'data-result="valid"' in page and "身份证号（部分隐藏）" in page
    assert f'id="verify-id-masked">{MASKED}<' in page and FULL not in page
    answer = visitor.get(f"/api/v1/certificates/{number}")
    assert answer.status_code == 200 and answer.get_json()["id_masked"] == MASKED
    assert FULL not in answer.get_data(as_text=True)


def test_the_printed_certificate_and_the_english_page_show_the_masked_number(cast, browser):
    _case_id, number = certified_case(cast)
    holder = browser("zhang")
    text = pdf_text(holder.get(f"/verify/{number}/certificate.pdf").get_data())
    assert MASKED in text and FULL not in text
    visitor = browser(None)
    visitor.get("/lang/en")
    page = visitor.get(f"/verify?number={number}").get_data(as_text=True)
    assert "ID number (partly hidden)" in page and MASKED in page and FULL not in page


def test_a_revoked_certificate_still_names_its_holder_by_the_masked_number(cast, browser):
    case_id, number = certified_case(cast)
    engine.fire(cast.db, case_id, "revoke", cast.officer, data={"reason": "业绩材料造假"})
    page = browser(None).get(f"/verify?number={number}").get_data(as_text=True)
    assert 'data-result="revoked"' in page and MASKED in page and FULL not in page


def test_a_holder_whose_profile_has_no_number_is_shown_without_one(cast, browser):
    _case_id, number = certified_case(cast)
    older = {k: v for k, v in READY_PROFILE.items() if k != "id_number"}  # saved before the field existed
    with cast.db.write() as conn:
        conn.execute(update(_profile).where(_profile.c.user_id == cast.applicant.user_id).values(body=older))
    page = browser(None).get(f"/verify?number={number}").get_data(as_text=True)
    assert 'data-result="valid"' in page and 'id="verify-id-masked">—<' in page
    assert browser(None).get(f"/api/v1/certificates/{number}").get_json()["id_masked"] is None
    # the applicant can still open their profile, and is asked for the number when they save it
    assert browser("zhang").get("/applicant/profile").status_code == 200


def test_reviewers_see_the_number_masked_and_the_applicant_sees_it_in_full_only_on_the_profile_page(cast, browser):
    case_id = open_case(cast)
    engine.fire(cast.db, case_id, "submit", cast.applicant)  # now with the unit, which reviews it
    for who in ("unit_hr", "zhang"):
        page = browser(who).get(f"/cases/{case_id}").get_data(as_text=True)
        assert f'id="dossier-id-masked">{MASKED}<' in page and FULL not in page, who
    own = browser("zhang").get("/applicant/profile").get_data(as_text=True)
    assert re.search(rf'name="id_number"[^>]*value="{FULL}"', own)
    # two applicants born the same day, told apart by their numbers
    other_case = open_case(cast, applicant=cast.other_applicant)
    engine.fire(cast.db, other_case, "submit", cast.other_applicant)
    other = browser("unit_hr").get(f"/cases/{other_case}").get_data(as_text=True)
    assert mask_id_number(OTHER_APPLICANT_ID_NUMBER) == "430***********009X"
    assert "430***********009X" in other and OTHER_APPLICANT_ID_NUMBER not in other


def _saved_form(**changes: str) -> dict[str, str]:
    """The smallest profile form that saves: the basic fields, with ``changes``."""
    return {"birth_date": READY_PROFILE["birth_date"], "id_number": FULL, **changes}


def test_the_profile_form_shows_each_wrong_number_beside_the_field(cast, browser):
    b = browser("zhang")
    cases = [("430202198405120037", "居民身份证号码校验位不正确，请逐位核对号码"),
             ("43020219840512003", "居民身份证号码应为18位，现为17位"),
             ("", "请填写居民身份证号码")]
    for typed, message in cases:
        response = b.post("/applicant/profile", data=_saved_form(id_number=typed))
        page = response.get_data(as_text=True)
        assert response.status_code == 422 and _error_beside(page, "id_number") == message
        assert f'value="{typed}"' in page or not typed  # what was typed is kept
    response = b.post("/applicant/profile", data=_saved_form(birth_date="1984-05-13"))
    assert _error_beside(response.get_data(as_text=True), "id_number") == (
        "居民身份证号码中的出生日期 1984-05-12 与填写的出生日期 1984-05-13 不一致")
    b.get("/lang/en")
    page = b.post("/applicant/profile", data=_saved_form(id_number="430202198405120037")).get_data(as_text=True)
    assert _error_beside(page, "id_number") == "The ID number&#39;s check digit does not match; check every digit"
    # nothing was lost: the stored number is the one saved before
    with cast.db.read() as conn:
        assert conn.execute(select(_profile.c.body).where(
            _profile.c.user_id == cast.applicant.user_id)).scalar_one()["id_number"] == FULL


def test_the_profile_form_stores_a_lower_case_x_upper_case(cast, browser):
    b = browser("li")
    response = b.post("/applicant/profile", data=_saved_form(id_number=OTHER_APPLICANT_ID_NUMBER.lower()))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with cast.db.read() as conn:
        body = conn.execute(select(_profile.c.body).where(
            _profile.c.user_id == cast.other_applicant.user_id)).scalar_one()
    assert body["id_number"] == OTHER_APPLICANT_ID_NUMBER


def test_every_demo_applicant_has_a_valid_number_matching_their_birth_date(demo_db):
    with demo_db.read() as conn:
        rows = conn.execute(select(User.__table__.c.username, _profile.c.body)
                            .join(_profile, _profile.c.user_id == User.__table__.c.id)).all()
    assert rows
    numbers = set()
    for username, body in rows:
        assert id_number_problem(body["id_number"]) is None, username
        parse_profile(body, check_future=False)  # the model checks it against the birth date
        numbers.add(body["id_number"])
    assert len(numbers) == len(rows)  # no two demo people share a number
