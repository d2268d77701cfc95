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

from flask import g, request
from flask_babel import get_locale, get_translations

from workflow.models import as_utc
from workflow.time.calendar import CHINA_TZ

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
    """``en`` or ``zh``: the key to pick from a {zh, en} label.

    Kept on ``g`` for the rest of the request (a case page asks over a hundred times): Flask-Babel keeps the
    locale it derives from on ``g`` too, so this can never disagree with the catalogue in use.
    """
    try:
        return g.titlereview_lang
    except AttributeError:  # the first call in this request
        pass
    except RuntimeError:  # no application context: Flask-Babel's get_locale() would answer None
        return "zh"
    locale = get_locale()
    lang = g.titlereview_lang = "en" if locale is not None and locale.language == "en" else "zh"
    return lang


def translations() -> Any:
    """The catalogue of this request's language, looked up once per request (kept on ``g``).

    Flask-Babel's own lookup walks its context, the locale and its cache key on every message: the case page
    asks about sixty times. It keeps the locale on ``g`` as well, so the two never disagree.
    """
    try:
        return g.titlereview_translations
    except AttributeError:  # the first message in this request
        pass
    except RuntimeError:  # no application context: Flask-Babel answers with no catalogue either
        return get_translations()
    catalogue = g.titlereview_translations = get_translations()
    return catalogue


def install_template_gettext(app: Any) -> None:
    """Have templates translate through :func:`translations` (after Flask-Babel installed its own callables).

    Same catalogue, same newstyle behaviour (autoescaping, ``%(name)s`` formatting by Jinja's i18n extension),
    without Flask-Babel's per-message lookup of the request's catalogue.
    """
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )


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
