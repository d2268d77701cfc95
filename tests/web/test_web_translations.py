"""Every user-facing message of the web front end has an English translation, and the committed .mo matches."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parents[2] / "web"
PO = WEB / "translations" / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")


def _extracted() -> set[str]:
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "N_": None}
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(str(WEB), method_map,
                                                                           keywords=keywords):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_an_english_translation():
    with PO.open("rb") as f:
        catalog = read_po(f, locale="en")
    translated = {m.id: m.string for m in catalog if m.id}
    missing = sorted(m for m in _extracted() if not translated.get(m))
    assert not missing, "untranslated (see web/translations/README.md): " + " | ".join(missing[:20])


def test_the_compiled_catalogue_matches_the_po_file():
    with PO.open("rb") as f:
        po = {m.id: m.string for m in read_po(f, locale="en") if m.id}
    with MO.open("rb") as f:
        mo = {m.id: m.string for m in read_mo(f) if m.id}
    assert po == mo, "run: .venv/bin/pybabel compile -d web/translations -l en"


def test_placeholders_survive_translation():
    with PO.open("rb") as f:
        catalog = read_po(f, locale="en")
    import re

    names = re.compile(r"%\((\w+)\)s")
    for m in catalog:
        if m.id:
            assert set(names.findall(m.id)) == set(names.findall(m.string)), m.id
