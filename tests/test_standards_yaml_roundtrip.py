"""The YAML round trip of occupation standards (issue #14: "import → export of every seed standard round-trips").

A seed file carries comments and hand formatting that no dumper can reproduce, so the guarantee is stated for a
canonical form: ``dump_standard_yaml(load_standard_yaml(seed))``. The canonical text reads back to the same
standard, dumps again to the same bytes, is plain UTF-8 with the Chinese left readable, and lists the keys in
the model's field order (provenance last). A property test edits source texts with arbitrary Unicode (quotes,
colons, '#', leading blanks, line breaks of every kind) and checks that the round trip still holds.
"""

from __future__ import annotations

import json
import re
import types
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from workflow.eligibility.standards import (
    STANDARDS_DIR,
    Standard,
    dump_standard_yaml,
    load_standard_yaml,
    parse_standard,
)

SEEDS = sorted(STANDARDS_DIR.glob("*.yaml"))
LOADED = {path.name: load_standard_yaml(path) for path in SEEDS}
"""Every seed standard, parsed once (the property test draws from these)."""

YAML_ESCAPE = re.compile(r"\\[xuUN0abtnrevfLP_ ]")
"""A backslash escape as a double-quoted YAML scalar writes it (``\\u4e2d``, ``\\N``, ``\\x85`` …)."""


def canonical(path: Path) -> str:
    """The canonical form of a seed file: its standard as :func:`dump_standard_yaml` writes it."""
    return dump_standard_yaml(load_standard_yaml(path))


def test_every_seed_is_covered():
    # The parametrised tests below would pass vacuously if the seed directory moved or emptied.
    assert len(SEEDS) >= 7 and all(path.stem == LOADED[path.name].id for path in SEEDS)


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_canonical_form_is_a_fixed_point(path):
    text = canonical(path)
    assert dump_standard_yaml(parse_standard(text)) == text


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_canonical_form_means_the_seed_standard(path):
    assert parse_standard(canonical(path)) == load_standard_yaml(path)


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_canonical_form_is_plain_utf8_yaml(path):
    text = canonical(path)
    standard = load_standard_yaml(path)
    # Read as bytes, PyYAML detects the encoding itself: what a downloaded file gives another tool.
    assert yaml.safe_load(text.encode("utf-8")) == yaml.safe_load(text)
    assert isinstance(yaml.safe_load(text), dict)
    assert text.endswith("\n") and not text.endswith("\n\n")
    # Chinese stays readable: written as itself, never as \u escapes or double-quoted escape sequences.
    assert YAML_ESCAPE.search(text) is None
    assert standard.name.zh in text and standard.source in text
    assert text.splitlines()[0] == f"# {standard.name.zh} — version {standard.version}"


def _model(annotation: Any) -> type[BaseModel] | None:
    """The model class inside ``X``, ``X | None`` or ``list[X]`` (None for scalars and enums)."""
    origin = typing.get_origin(annotation)
    if origin in (list, typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _model(inner[0]) if len(inner) == 1 else None
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _order_problems(raw: Any, model: type[BaseModel], where: str) -> list[str]:
    """Mappings in ``raw`` whose keys are not in ``model``'s field order (with ``tag``/``source`` moved last
    when the mapping has a ``tag``: provenance follows what it qualifies)."""
    if isinstance(raw, list):
        return [p for i, item in enumerate(raw) for p in _order_problems(item, model, f"{where}[{i}]")]
    if not isinstance(raw, dict):
        return [f"{where}: expected a mapping for {model.__name__}"]
    fields = list(model.model_fields)
    expected = [f for f in fields if f in raw]
    if "tag" in raw:
        expected = [f for f in expected if f not in ("tag", "source")] + [f for f in ("tag", "source") if f in raw]
    problems = [] if list(raw) == expected else [f"{where or 'top'}: {list(raw)} != {expected}"]
    for key, value in raw.items():
        inner = _model(model.model_fields[key].annotation) if key in model.model_fields else None
        if inner is not None and value is not None:
            problems += _order_problems(value, inner, f"{where}.{key}" if where else key)
    return problems


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_canonical_form_keeps_the_model_field_order(path):
    raw = yaml.safe_load(canonical(path))
    assert _order_problems(raw, Standard, "") == []
    assert list(raw)[:2] == ["id", "version"]


def test_the_key_order_check_catches_a_reordered_mapping():
    # The order check above must be able to fail: swap two top-level keys and two keys of a threshold.
    raw = yaml.safe_load(canonical(SEEDS[0]))
    rest = {k: v for k, v in raw.items() if k not in ("id", "version")}
    swapped = {"version": raw["version"], "id": raw["id"], **rest}
    assert _order_problems(swapped, Standard, "")
    hours = dict(raw["basic"]["continuing_education"]["hours_per_year"])
    raw["basic"]["continuing_education"]["hours_per_year"] = {"tag": hours["tag"], "value": hours["value"],
                                                              "source": hours["source"]}
    assert _order_problems(raw, Standard, "") == [
        "basic.continuing_education.hours_per_year: ['tag', 'value', 'source'] != ['value', 'tag', 'source']"]


# ------------------------------------------------------------------------------------------------- properties

_PATH_PART = re.compile(r"([A-Za-z_]+)|\[(\d+)\]")

NASTY = [*"'\"#:-?!&*|>%@`{}[],\\ \t\n\r", "\x85", "\u2028", "\u2029", "\ufeff", "\xa0", "\x00", "\x1b", "\U0010ffff",
         "中", "：", "—", "# ", ": ", " #", "---", "..."]
"""Characters and sequences YAML treats specially (quotes, indicators, comments, every kind of line break,
the byte-order mark, control characters), mixed into otherwise arbitrary Unicode."""

texts = st.lists(st.one_of(st.characters(codec="utf-8"), st.sampled_from(NASTY)), min_size=1, max_size=40).map("".join)
"""Source texts as an administrator might paste them, and worse (only surrogates are left out: no UTF-8 for them)."""


def _with_sources(standard: Standard, edits: list[tuple[int, str]]) -> Standard:
    """``standard`` with the source text of its ``i``-th threshold replaced, for each ``(i, text)`` of ``edits``."""
    data = json.loads(standard.model_dump_json())
    sourced = standard.thresholds()
    for index, text in edits:
        node: Any = data
        for name, position in _PATH_PART.findall(sourced[index % len(sourced)][0]):
            node = node[name] if name else node[int(position)]
        node["source"] = text
    return Standard.model_validate(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(sorted(LOADED)), edits=st.lists(st.tuples(st.integers(0, 10_000), texts), min_size=1,
                                                              max_size=4))
@example(seed="hunan-sme-advanced-manufacturing-senior.yaml", edits=[(0, "第八条\x85第6项")])
@example(seed="national-engineering-assistant.yaml", edits=[(1, " 引号'与\"冒号: #注释\n  第二行\u2028\x85")])
def test_edited_source_texts_round_trip(seed, edits):
    standard = _with_sources(LOADED[seed], edits)
    text = dump_standard_yaml(standard)
    assert parse_standard(text) == standard
    assert dump_standard_yaml(parse_standard(text)) == text
    assert text.endswith("\n") and not text.endswith("\n\n")


@settings(max_examples=60, deadline=None)
@given(name=texts.filter(lambda t: t.strip()))
@example(name="第一行\n第二行: x")
@example(name="名称\u2028id: other")
@example(name="控制\x1b字符\x00")
def test_any_name_keeps_the_header_a_single_comment_line(name):
    # The header repeats the name in a comment: a line break there would end the comment and leave the rest
    # of the name to be read as YAML, and a control character would make the whole text unreadable.
    base = LOADED["national-engineering-assistant.yaml"]
    standard = base.model_copy(update={"name": base.name.model_copy(update={"zh": name})})
    text = dump_standard_yaml(standard)
    assert parse_standard(text) == standard
    assert dump_standard_yaml(parse_standard(text)) == text
    header, _sep, rest = text.partition("\n")
    assert header.startswith("# ") and header.endswith(" — version 1") and rest.startswith("id: ")


def test_a_very_long_source_text_round_trips():
    # Lines longer than the dumper's width are folded; folding must not change the text.
    words = " ".join(f"第{i}条：要求" for i in range(20_000))
    standard = _with_sources(LOADED["national-engineering-assistant.yaml"], [(0, words)])
    text = dump_standard_yaml(standard)
    assert parse_standard(text) == standard and dump_standard_yaml(parse_standard(text)) == text
