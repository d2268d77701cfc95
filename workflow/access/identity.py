"""The resident identity card number (居民身份证号码, GB 11643-1999): its checks and its masked form.

An applicant declares the number on their profile so that two holders of one name at one employer can be
told apart on the public certificate verification. Only the applicant sees it in full (on their own profile
page); every other view — reviewers, the public page, the API, the printed certificate — shows
:func:`mask_id_number`'s form. The checks return bilingual reasons (zh, en) so forms and the profile model
report them the same way.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

ID_NUMBER_LENGTH = 18
"""Characters of a second-generation resident identity card number."""

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
"""GB 11643-1999 weights of the first 17 digits: 2^(17-i) mod 11 for the i-th digit from the left."""

_CHECK_CHARACTERS = "10X98765432"
"""The check character for each remainder of the weighted sum modulo 11."""

_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")

MASK_KEEP_START = 3
MASK_KEEP_END = 4
"""How many characters the masked form keeps at each end (e.g. 430***********123X)."""


def normalise_id_number(raw: str) -> str:
    """The number as entered, with full-width characters (typed with a Chinese input method) made ASCII, the
    surrounding spaces dropped and a trailing ``x`` upper-cased, as it is stored."""
    return unicodedata.normalize("NFKC", raw).strip().upper()


def check_character(first17: str) -> str:
    """The GB 11643-1999 check character (0–9 or X) of the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARACTERS[total % 11]


def with_check_character(first17: str) -> str:
    """A full number from its first 17 digits (region, birth date, sequence), e.g. for demo data."""
    if not re.fullmatch(r"[0-9]{17}", first17):
        raise ValueError(f"expected 17 digits, got {first17!r}")
    return first17 + check_character(first17)


def birth_date_in(number: str) -> date | None:
    """The birth date encoded in characters 7–14 (YYYYMMDD), or None when they are not a calendar date."""
    digits = number[6:14]
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def id_number_problem(number: str) -> tuple[str, str] | None:
    """Why ``number`` (already normalised) is not a valid 居民身份证号码, as (zh, en); None when it is."""
    if len(number) != ID_NUMBER_LENGTH:
        return (f"居民身份证号码应为{ID_NUMBER_LENGTH}位，现为{len(number)}位",
                f"The ID number must have {ID_NUMBER_LENGTH} characters; this one has {len(number)}")
    if not _SHAPE.match(number):
        return ("居民身份证号码前17位须为数字，最后一位为数字或X",
                "The ID number must be 17 digits followed by a digit or X")
    if birth_date_in(number) is None:
        return (f"居民身份证号码第7至14位（{number[6:14]}）不是有效的出生日期",
                f"Characters 7–14 of the ID number ({number[6:14]}) are not a valid date of birth")
    if check_character(number[:17]) != number[17]:
        # The right character is not named: a typo elsewhere would otherwise be "fixed" into a wrong number.
        return ("居民身份证号码校验位不正确，请逐位核对号码",
                "The ID number's check digit does not match; check every digit")
    return None


def birth_date_mismatch(number: str, birth_date: date) -> tuple[str, str] | None:
    """Why a valid ``number`` disagrees with the declared ``birth_date``, as (zh, en); None when they agree."""
    encoded = birth_date_in(number)
    if encoded is None or encoded == birth_date:
        return None
    return (f"居民身份证号码中的出生日期 {encoded.isoformat()} 与填写的出生日期 {birth_date.isoformat()} 不一致",
            f"The date of birth in the ID number ({encoded.isoformat()}) differs from the date of birth "
            f"given ({birth_date.isoformat()})")


def mask_id_number(number: str | None) -> str | None:
    """The number with only its first 3 and last 4 characters shown (430***********123X); None stays None.

    A stored value of an unexpected length is masked the same way, never shown whole: a value too short to
    keep both ends is all stars.
    """
    if not number:
        return None
    hidden = len(number) - MASK_KEEP_START - MASK_KEEP_END
    if hidden <= 0:
        return "*" * len(number)
    return number[:MASK_KEEP_START] + "*" * hidden + number[-MASK_KEEP_END:]


def profile_for_reviewers(body: dict[str, Any]) -> dict[str, Any]:
    """A stored profile body as anyone but its applicant may see it: the ID number replaced by ``id_masked``
    (a new dict; the input is untouched)."""
    shown = {key: value for key, value in body.items() if key != "id_number"}
    shown["id_masked"] = mask_id_number(body.get("id_number"))
    return shown
