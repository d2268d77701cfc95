"""Screens, reports and commands read what a state means from the definitions, never from its name.

A fifth pipeline with state names of its own must reach every inbox, panel page and report; a name spelled out
in ``web/`` or ``workflow/`` would silently leave it out. This scans the code for every state name of every
shipped pipeline and of the test fixtures' pipelines, quoted as a string (migrations excepted: they describe the
schema's history, not the screens).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from workflow.pipeline.schema import load_pipeline_dir

ROOT = Path(__file__).resolve().parent.parent
PIPELINE_DIRS = (ROOT / "definitions" / "pipelines", ROOT / "tests" / "fixtures" / "pipelines")


@cache
def _state_names() -> frozenset[str]:
    names: set[str] = set()
    for directory in PIPELINE_DIRS:
        for pipeline, _text in load_pipeline_dir(directory).values():
            names.update(s.name for s in pipeline.states)
    return frozenset(names)


STORED_VOCABULARY = {
    ("workflow/panel/sitting.py", "not_passed"):
        "the key of the signed minutes' totals: minutes already closed are verified by re-hashing them",
    ("workflow/panel/prereview.py", "pre_review"):
        "the kind of a hash-chained committee draw: draws already recorded are verified by re-hashing them",
    ("workflow/models/committee.py", "defence"):
        "the name of the table of defence interviews (a schema name, not a state)",
}
"""Words that are pipeline state names by coincidence but name stored, signed or schema records; renaming them
would break the verification of records already written. Each is allowed in its one file, nowhere else."""


def _code_files() -> list[Path]:
    return sorted(f for root in ("web", "workflow") for f in (ROOT / root).rglob("*")
                  if f.suffix in (".py", ".html") and "migrations" not in f.parts)


def test_the_scan_sees_the_shipped_states():
    """The scan would find a name if one were there (it reads the real definitions and the real code)."""
    names = _state_names()
    assert {"draft", "certified"} <= names and len(names) > 20
    assert len(_code_files()) > 50


@pytest.mark.parametrize("path", _code_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_pipeline_state_name_is_quoted_in_code(path: Path):
    """No state name appears as a string literal in web/ or workflow/ (Python or templates)."""
    names = _state_names()
    alternatives = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    pattern = re.compile(rf"""["']({alternatives})["']""")
    where = str(path.relative_to(ROOT))
    hits = [f"{i}: {line.strip()}" for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if any((where, m.group(1)) not in STORED_VOCABULARY for m in pattern.finditer(line))]
    assert not hits, f"state names spelled out in {path.relative_to(ROOT)} (read them from the definitions):\n" + \
        "\n".join(hits)


@pytest.mark.parametrize(("where", "word"), sorted(STORED_VOCABULARY))
def test_each_stored_word_is_still_needed_where_it_is_allowed(where, word):
    """An exception that no longer matches anything is removed, so the list cannot grow stale."""
    assert re.search(rf"""["']{re.escape(word)}["']""", (ROOT / where).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------- trigger names


@cache
def _trigger_names() -> frozenset[str]:
    names: set[str] = set()
    for directory in PIPELINE_DIRS:
        for pipeline, _text in load_pipeline_dir(directory).values():
            names.update(t.trigger for t in pipeline.transitions)
    return frozenset(names)


TRIGGER_HOMONYMS = {
    ("web/casepage.py", "accept"): "the HTML attribute of the upload field (accept=...)",
    ("web/forms.py", "accept"): "the HTML attribute of the objection's evidence field",
    ("workflow/engine/actions.py", "issue_certificate"): "the name of the registered action that issues a certificate",
    ("workflow/engine/actions.py", "recommend"): "a stored eligibility check's step (recheck / recommend / submission)",
    ("workflow/eligibility/gate.py", "recommend"): "a stored eligibility check's step",
    ("workflow/records/queries.py", "recommend"): "a stored eligibility check's step",
    ("web/casepage.py", "recommend"): "a stored eligibility check's step",
    ("web/templates/cases/case.html", "recommend"): "a stored eligibility check's step",
}
"""Words that are trigger names by coincidence — HTML attributes, stored check kinds, action names. Each is
allowed in its one file, nowhere else."""

_JINJA = re.compile(r"{{.*?}}|{%.*?%}", re.S)


def _code_of(path: Path) -> list[tuple[int, str]]:
    """The lines of code to scan: a Python file whole; of a template only its Jinja expressions and statements
    (``type="submit"`` in the HTML is not the pipeline's ``submit``)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        return list(enumerate(text.splitlines(), 1))
    return [(text[:m.start()].count("\n") + 1, m.group(0)) for m in _JINJA.finditer(text)]


def test_the_trigger_scan_sees_the_shipped_triggers():
    """The scan would find a trigger name if one were there."""
    names = _trigger_names()
    assert {"submit", "recommend", "close_ballot", "file_objection"} <= names
    planted = Path(__file__)  # this file names triggers: the scan finds them
    assert any("close_ballot" in line for _, line in _code_of(planted))


@pytest.mark.parametrize("path", _code_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_trigger_name_is_quoted_in_code(path: Path):
    """No transition's trigger appears as a string literal in web/ or workflow/: screens find a transition by
    what it does (its action, guard or roles), so a pipeline may name its triggers as it likes."""
    alternatives = "|".join(sorted(map(re.escape, _trigger_names()), key=len, reverse=True))
    pattern = re.compile(rf"""["']({alternatives})["']""")
    where = str(path.relative_to(ROOT))
    hits = [f"{i}: {line.strip()[:160]}" for i, line in _code_of(path)
            if any((where, m.group(1)) not in TRIGGER_HOMONYMS for m in pattern.finditer(line))]
    assert not hits, f"trigger names spelled out in {where}:\n" + "\n".join(hits)


@pytest.mark.parametrize(("where", "word"), sorted(TRIGGER_HOMONYMS))
def test_each_trigger_homonym_is_still_needed_where_it_is_allowed(where, word):
    """An exception that no longer matches anything is removed."""
    assert re.search(rf"""["']{re.escape(word)}["']""", (ROOT / where).read_text(encoding="utf-8"))
