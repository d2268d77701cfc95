"""The 居民身份证号码 (GB 11643-1999) on the applicant's profile: its check, its masked form, and how the profile
model and the profile form report a wrong number (issue 17, item 3)."""

from __future__ import annotations

from datetime import date

import pytest

from workflow.access.identity import (
    birth_date_in,
    birth_date_mismatch,
    check_character,
    id_number_problem,
    mask_id_number,
    normalise_id_number,
    profile_for_reviewers,
    with_check_character,
)
from workflow.eligibility.dossier import validate_profile
from workflow.eligibility.profiles import ProfileInvalid, parse_profile

TODAY = date(2026, 6, 1)
VALID = "430202198405120036"
"""Born 1984-05-12; its check digit is 6."""
VALID_X = "43010219840512009X"
"""Born 1984-05-12; its check character is X."""
PUBLISHED_SAMPLE = "11010519491231002X"
"""The sample number GB 11643-1999 itself works through (check character X)."""


@pytest.mark.parametrize(("raw", "stored", "problem"), [
    pytest.param(VALID, VALID, None, id="valid"),
    pytest.param(VALID_X, VALID_X, None, id="check character X"),
    pytest.param(PUBLISHED_SAMPLE, PUBLISHED_SAMPLE, None, id="the standard's own sample"),
    pytest.param("43010219840512009x", VALID_X, None, id="lower-case x stored upper-case"),
    pytest.param(" ４３０２０２１９８４０５１２００３６ ", VALID, None, id="full-width digits from an input method"),
    pytest.param("430202198405120037", None, "校验位不正确", id="wrong check digit"),
    pytest.param("430102198405120090", None, "校验位不正确", id="a digit where X belongs"),
    pytest.param("430202198405120X36", None, "前17位须为数字", id="X inside the number"),
    pytest.param("43020219840512003", None, "应为18位，现为17位", id="too short"),
    pytest.param("4302021984051200361", None, "应为18位，现为19位", id="too long"),
    pytest.param("430202840512003", None, "应为18位，现为15位", id="first-generation 15 digits"),
    pytest.param("", None, "应为18位，现为0位", id="empty"),
    pytest.param("430202198402300038", None, "不是有效的出生日期", id="no 30 February"),
])
def test_the_check_of_an_id_number(raw, stored, problem):
    number = normalise_id_number(raw)
    found = id_number_problem(number)
    if problem is None:
        assert found is None and number == stored
    else:
        zh, en = found
        assert problem in zh and en and en != zh


def test_the_check_character_follows_the_standard():
    # GB 11643-1999's worked example: 11010519491231002 → X.
    assert check_character("11010519491231002") == "X"
    assert with_check_character("43020219840512003") == VALID
    with pytest.raises(ValueError):
        with_check_character("4302021984051200")
    assert birth_date_in(VALID) == date(1984, 5, 12)


@pytest.mark.parametrize(("birth", "agrees"), [
    pytest.param(date(1984, 5, 12), True, id="same day"),
    pytest.param(date(1984, 5, 13), False, id="a day later"),
    pytest.param(date(1948, 5, 12), False, id="another century"),
])
def test_the_birth_date_inside_the_number_must_match(birth, agrees):
    mismatch = birth_date_mismatch(VALID, birth)
    assert (mismatch is None) is agrees
    if not agrees:
        assert "1984-05-12" in mismatch[0] and birth.isoformat() in mismatch[0] and "differs" in mismatch[1]


@pytest.mark.parametrize(("number", "masked"), [
    (VALID, "430***********0036"),
    (VALID_X, "430***********009X"),
    ("4301021984051", "430******4051"),  # an odd stored value is masked too, never shown whole
    ("1234567", "*******"),
    (None, None),
    ("", None),
])
def test_masking_keeps_the_first_three_and_last_four(number, masked):
    assert mask_id_number(number) == masked
    if masked and len(masked) == 18:
        assert masked.count("*") == 11


def test_reviewers_get_the_profile_without_the_full_number():
    body = {"birth_date": "1984-05-12", "id_number": VALID, "education": []}
    shown = profile_for_reviewers(body)
    assert "id_number" not in shown and shown["id_masked"] == "430***********0036" and VALID not in str(shown)
    assert body["id_number"] == VALID  # the stored body is untouched
    assert profile_for_reviewers({"birth_date": "1984-05-12"})["id_masked"] is None


def test_a_stored_profile_without_a_number_still_loads():
    assert parse_profile({"birth_date": "1984-05-12"}, today=TODAY).id_number is None
    assert parse_profile({"birth_date": "1984-05-12", "id_number": "43010219840512009x"},
                         today=TODAY).id_number == VALID_X


@pytest.mark.parametrize(("body", "text"), [
    pytest.param({"birth_date": "1984-05-12", "id_number": "430202198405120037"}, "校验位不正确", id="check digit"),
    pytest.param({"birth_date": "1984-05-13", "id_number": VALID}, "不一致", id="birth date"),
])
def test_the_profile_model_refuses_a_wrong_number(body, text):
    with pytest.raises(ProfileInvalid) as err:
        parse_profile(body, today=TODAY)
    assert text in str(err.value) and "id_number" in str(err.value)


@pytest.mark.parametrize(("form", "zh", "en"), [
    pytest.param({"id_number": ""}, "请填写居民身份证号码", "Resident ID card number is required", id="missing"),
    pytest.param({"id_number": "430202198405120037"}, "居民身份证号码校验位不正确，请逐位核对号码",
                 "The ID number's check digit does not match; check every digit", id="wrong check digit"),
    pytest.param({"id_number": "43020219840512003"}, "居民身份证号码应为18位，现为17位",
                 "The ID number must have 18 characters; this one has 17", id="wrong length"),
    pytest.param({"birth_date": "1984-05-13"},
                 "居民身份证号码中的出生日期 1984-05-12 与填写的出生日期 1984-05-13 不一致",
                 "The date of birth in the ID number (1984-05-12) differs from the date of birth given (1984-05-13)",
                 id="birth date disagrees"),
])
def test_the_profile_form_reports_a_wrong_number_on_its_field(form, zh, en):
    raw = {"birth_date": "1984-05-12", "id_number": VALID, "retired": False, **form,
           # another mistake in the same form: both are reported at once
           "titles": [{"name": "工程师", "series": "工程", "specialty": "机械", "level": "中级", "obtained_on": ""}]}
    _body, problems = validate_profile(raw, today=TODAY)
    on_number = [p for p in problems if p.field == "id_number"]
    assert [(p.section, p.zh, p.en) for p in on_number] == [("basic", zh, en)]
    assert any(p.section == "titles" and p.field == "obtained_on" for p in problems)


def test_the_profile_form_stores_the_number_as_entered_with_an_upper_case_x():
    body, problems = validate_profile({"birth_date": "1984-05-12", "id_number": "43010219840512009x"}, today=TODAY)
    assert problems == [] and body["id_number"] == VALID_X
