"""Language and formatting: Chinese (zh_CN) by default, English on request, Beijing time everywhere.

Message ids in templates and code are the Chinese texts themselves, so the default UI needs no catalogue at
all and can never fall back to another language; ``web/translations/en`` holds the English catalogue. The
chosen language lives in a long-lived ``lang`` cookie (it survives signing in and out, which clear the
session). Labels that come from data (pipeline states, roles) carry both languages and are picked by
:func:`label`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import request
from flask_babel import get_locale

from workflow.calendar import CHINA_TZ
from workflow.models import as_utc

LANGUAGES = {"zh_CN": "中文", "en": "English"}
"""Supported UI languages and how each names itself in the switch."""

DEFAULT_LOCALE = "zh_CN"
LANG_COOKIE = "lang"


def N_(message: str) -> str:
    """Mark a message for extraction without translating it now (it is translated where it is shown)."""
    return message


def select_locale() -> str:
    """Flask-Babel's locale selector: the ``lang`` cookie when valid, else Chinese."""
    chosen = request.cookies.get(LANG_COOKIE, "")
    return chosen if chosen in LANGUAGES else DEFAULT_LOCALE


def current_lang() -> str:
    """``en`` or ``zh``: the key to pick from a {zh, en} label."""
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh"


def label(value: Any) -> str:
    """The current language's text of a {zh, en} label (a dict or a pydantic Label); strings pass through."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    lang = current_lang()
    if isinstance(value, dict):
        return value.get(lang) or value.get("zh") or ""
    return getattr(value, lang, None) or getattr(value, "zh", "")


def beijing(value: datetime | None) -> datetime | None:
    """An instant as Beijing local time (SQLite's naive values are UTC)."""
    if value is None:
        return None
    return as_utc(value).astimezone(CHINA_TZ)


def format_dt(value: datetime | None, with_time: bool = True) -> str:
    """``2026-05-12 09:30`` in Beijing time (the same in both languages: dates are data, not prose)."""
    local = beijing(value)
    if local is None:
        return ""
    return local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def format_day(value: date | datetime | None) -> str:
    """A calendar date as ``2026-05-12``."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_dt(value, with_time=False)
    return value.isoformat()


def deadline_text(due: datetime | None) -> str:
    """A period's end as people read it: the last full day, since periods end at the next midnight.

    The engine stores "ends at 00:00 of the day after the n-th working day"; showing that midnight would
    suggest the following day still counts, so the page shows the last day with 24:00.
    """
    local = beijing(due)
    if local is None:
        return ""
    if local.hour == 0 and local.minute == 0:
        from datetime import timedelta

        return (local - timedelta(days=1)).strftime("%Y-%m-%d") + " 24:00"
    return local.strftime("%Y-%m-%d %H:%M")
