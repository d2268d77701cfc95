"""Fuzzing the definitions loader: whatever text it is given, ``parse_pipeline`` loads it or raises a
DefinitionError whose every problem renders as ``source:line: message`` (``source: message`` without a line)
— never any other exception. And edits that keep a definition valid (renaming a state or an action
everywhere, reordering, relabelling, reformatting) must keep it loading, to the same pipeline.

Hypothesis runs derandomized (the same examples every run, so CI is reproducible) with a few hundred
examples in all. Parsing a real 350-line definition costs ~0.1 s of pure-Python YAML, so the mutations of
the real files get fewer examples than the small structures do.
"""

from __future__ import annotations

import copy
import functools
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflow.pipeline.catalog import PIPELINES_DIR
from workflow.pipeline.schema import MAX_DEADLINE_DAYS, Pipeline, load_pipeline_dir, parse_pipeline
from workflow.pipeline.yamlsource import MAX_DEPTH, DefinitionError
from workflow.time.calendar import WorkingCalendar

SOURCE = "fuzzed.yaml"
CALENDAR = WorkingCalendar()
NOW = datetime(2026, 9, 30, 8, 0, tzinfo=UTC)  # just before the National Day holiday: the longest stretch
REAL = {f"{pid}.yaml": text for pid, (_p, text) in sorted(load_pipeline_dir(PIPELINES_DIR).items())}
"""The shipped pipelines as stored: each fully resolved against the base it extends."""
EXTENDING = {f"{p.stem}.extends.yaml": p.read_text(encoding="utf-8") for p in sorted(PIPELINES_DIR.glob("*.yaml"))}
"""The shipped pipeline files as written: only their differences from the base (``extends:``)."""
MINIMAL = (Path(__file__).parent / "fixtures" / "pipelines" / "minimal.yaml").read_text(encoding="utf-8")
TEXTS = {"minimal.yaml": MINIMAL, **REAL}
MUTABLE = {**TEXTS, **EXTENDING}
"""What the mutation tests start from: whole definitions and the files that extend the base."""

FUZZ = settings(derandomize=True, deadline=None, database=None, print_blob=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
"""Reproducible and CI-friendly: fixed examples, no timing deadline, no example database on disk."""

_YAML_BREAKS = re.compile(r"\r\n|[\n\r\x85\u2028\u2029]")
"""The line breaks YAML counts (so the last line a problem may name)."""


def check(text: str) -> Pipeline | None:
    """Parse ``text``: the pipeline, or None after checking the DefinitionError is well formed.

    Any other exception propagates and fails the test: that is the property.
    """
    try:
        pipeline = parse_pipeline(text, SOURCE)
    except DefinitionError as err:
        assert err.problems, "a DefinitionError must name at least one problem"
        last_line = len(_YAML_BREAKS.split(text))
        rendered = str(err).split("\n")
        assert len(rendered) == len(err.problems), f"a problem spans several lines: {str(err)!r}"
        for problem, line in zip(err.problems, rendered, strict=True):
            assert problem.message.strip(), "empty message"
            assert len(problem.message.splitlines()) == 1, f"multi-line message {problem.message!r}"
            assert problem.source in (None, SOURCE)
            assert 0 <= problem.line <= last_line, f"line {problem.line} outside the text ({last_line} lines)"
            expected = f"{SOURCE}:{problem.line}: " if problem.line else f"{SOURCE}: "
            assert line == expected + problem.message
        return None
    assert_deadlines_computable(pipeline)
    return pipeline


def assert_deadlines_computable(pipeline: Pipeline) -> None:
    """What loads must run: every deadline's day counts resolve to numbers the calendar can count."""
    for t in pipeline.transitions:
        if t.deadline is None:
            continue
        for value in (t.deadline.days, t.deadline.remind_before):
            days = pipeline.parameters[value].value if isinstance(value, str) else value
            if days is not None:
                CALENDAR.period_end(NOW, days)


# --- strategies ----------------------------------------------------------------------------------------------

def _vocabulary() -> list[str]:
    """Every word of the real definitions (state, trigger, role, guard and key names...), to aim the fuzzer
    at the checks behind the YAML syntax."""
    words: set[str] = set()
    for text in TEXTS.values():
        words.update(re.findall(r"[A-Za-z_][A-Za-z0-9_-]*", text))
    return sorted(words)


VOCAB = _vocabulary()
YAML_TOKENS = [": ", "- ", "\n", "\n  ", "  ", "[", "]", "{", "}", ", ", "&a ", "*a", "? ", "|\n", ">-\n", "'", '"',
               "# c\n", "---\n", "...\n", "<<: ", "%YAML 1.1\n", "\t", "~", "!!int ", "!!float ", "!!bool ", "!!str ",
               "!!set ", "!!map ", "!!seq ", "!!omap ", "!!binary ", "!!timestamp ", "!!python/object:os.system ",
               "2024-13-01", "2024-02-29", "1e999", "0x1F", "-1", "9" * 5000, "\x00", "\ufeff", "\\", "\u2028"]

scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
           | st.sampled_from(VOCAB) | st.dates())
yaml_values = st.recursive(
    scalars,
    lambda children: (st.lists(children, max_size=4)
                      | st.dictionaries(st.sampled_from(VOCAB) | st.text(max_size=8) | st.integers(), children,
                                        max_size=4)),
    max_leaves=16,
)
yamlish_text = st.lists(st.sampled_from(YAML_TOKENS) | st.sampled_from(VOCAB) | st.text(max_size=3),
                        max_size=40).map("".join)


_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when present: the helpers need not be slow


def dump(data: Any, **options: Any) -> str:
    """YAML text for ``data`` (as a person might write it: unicode kept, keys in their order)."""
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, **options)


@functools.cache
def _plain(name: str) -> Any:
    return yaml.load(TEXTS[name], Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def plain(name: str) -> Any:
    """Definition ``name`` as plain dicts and lists (no line bookkeeping), a fresh copy to edit."""
    return copy.deepcopy(_plain(name))


@functools.cache
def parsed(name: str) -> Pipeline:
    """Definition ``name`` through the real loader (parsed once: it is the slow part)."""
    return parse_pipeline(TEXTS[name], name)


def paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key/index path into ``data`` (the root excluded)."""
    found: list[tuple] = []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else []
    for key, value in items:
        found.append((*prefix, key))
        found.extend(paths(value, (*prefix, key)))
    return found


def _parent(data: Any, path: tuple) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


# --- (a) nothing but a DefinitionError, well formed ---------------------------------------------------------

@settings(FUZZ, max_examples=150)
@given(st.text())
def test_arbitrary_text(text):
    check(text)


@settings(FUZZ, max_examples=200)
@given(yamlish_text)
def test_yaml_like_token_soup(text):
    check(text)


@settings(FUZZ, max_examples=150)
@given(yaml_values)
def test_arbitrary_yaml_structures(value):
    check(dump(value))


@settings(FUZZ, max_examples=100)
@given(st.dictionaries(st.sampled_from(["id", "version", "label", "description", "channel", "route", "initial",
                                        "parameters", "states", "transitions"]), yaml_values, min_size=3))
def test_pipeline_shaped_structures(value):
    check(dump(value))


@settings(FUZZ, max_examples=60)
@given(st.sampled_from(sorted(MUTABLE)), st.data())
def test_a_subtree_replaced_or_removed(name, data):
    """Any one value of a (real or minimal) definition replaced by arbitrary data, or its key removed."""
    doc = copy.deepcopy(yaml.load(MUTABLE[name], Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    path = data.draw(st.sampled_from(paths(doc)), label="path")
    parent = _parent(doc, path)
    if data.draw(st.booleans(), label="remove"):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(yaml_values, label="value")
    check(dump(doc))


def _mutate_lines(text: str, data) -> str:
    lines = text.split("\n")
    how = data.draw(st.sampled_from(["delete", "duplicate", "swap", "token"]), label="mutation")
    i = data.draw(st.integers(0, len(lines) - 1), label="line")
    if how == "delete":
        del lines[i]
    elif how == "duplicate":
        lines.insert(i, lines[i])
    elif how == "swap":
        j = data.draw(st.integers(0, len(lines) - 1), label="other line")
        lines[i], lines[j] = lines[j], lines[i]
    else:
        tokens = list(re.finditer(r"[\w-]+|[^\w\s]", lines[i]))
        if tokens:
            tok = data.draw(st.sampled_from(tokens), label="token")
            new = data.draw(st.sampled_from(VOCAB) | st.sampled_from(YAML_TOKENS) | st.text(max_size=4), label="new")
            lines[i] = lines[i][:tok.start()] + new + lines[i][tok.end():]
    return "\n".join(lines)


@settings(FUZZ, max_examples=60)
@given(st.sampled_from(sorted(MUTABLE)), st.data())
def test_real_files_with_a_line_deleted_duplicated_swapped_or_a_token_changed(name, data):
    text = MUTABLE[name]
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        text = _mutate_lines(text, data)
    check(text)


# --- regressions: what the fuzzer found (each crashed the loader with something other than DefinitionError) --

@pytest.mark.parametrize(("text", "line", "fragment"), [
    ("id: x\n? [a, b]\n: c\n", 2, "a key must be a plain value, not a sequence"),
    ("id: x\nlabel: {[1]: 2}\n", 2, "a key must be a plain value"),
    ("!!set {[1]: ~}\n", 1, "a key must be a plain value"),
    ("id: x\nversion: !!int abc\n", 2, "'abc' cannot be read as !!int"),
    ("version: !!float abc\n", 1, "cannot be read as !!float"),
    ("version: !!bool maybe\n", 1, "'maybe' cannot be read as !!bool"),
    ("version: !!timestamp foo\n", 1, "'foo' cannot be read as !!timestamp"),
    ("version: " + "9" * 5000 + "\n", 1, "cannot be read as !!int"),
    ("!!seq x\n", 1, "expected a sequence node, but found scalar"),
    ("!!map x\n", 1, "expected a mapping node, but found scalar"),
    ("[" * 3000 + "]" * 3000, 1, f"nested more than {MAX_DEPTH} levels deep"),
    ("{a: " * 3000 + "1" + "}" * 3000, 1, "nested more than"),
    ("".join("  " * i + "a:\n" for i in range(100)), MAX_DEPTH, "nested more than"),
    ("id: x\nversion: 1\nlabel: \x07\n", 3, "character #x0007 is not allowed"),
    # A key holding a line break made a problem span two lines of output (found as {'\r': None}).
    ("id: x\n\"a\\rb\": 1\n", 2, "'a\\rb': Extra inputs are not permitted"),
])
def test_fuzzer_findings_are_definition_errors_with_their_line(text, line, fragment):
    with pytest.raises(DefinitionError) as info:
        parse_pipeline(text, SOURCE)
    assert any(p.line == line and fragment in p.message for p in info.value.problems), str(info.value)
    check(text)


DEADLINE = "deadline: {name: unit_notice_end, days: unit_notice_working_days, fire: close_unit_notice}"


@pytest.mark.parametrize(("old", "new", "fragment"), [
    (DEADLINE, DEADLINE.replace("days: unit_notice_working_days", "days: -5"), "not -5"),
    (DEADLINE, DEADLINE.replace("days: unit_notice_working_days", "days: 99999999"), "not 99999999"),
    (DEADLINE, DEADLINE.replace("}", ", remind_before: -1}"), "deadline remind_before must be"),
    ("{value: 5, tag: R", "{value: abc, tag: R", "(parameter 'unit_notice_working_days') must be a whole number"),
    ("{value: 5, tag: R", "{value: 2.5, tag: R", "not 2.5"),
])
def test_deadlines_the_engine_could_not_count_are_refused_at_load(old, new, fragment):
    """These loaded before and made every firing of the transition fail (ValueError in the engine) or walk the
    calendar for minutes; now they are definition problems on the deadline's line."""
    assert MINIMAL.count(old) == 1
    text = MINIMAL.replace(old, new)
    with pytest.raises(DefinitionError) as info:
        parse_pipeline(text, SOURCE)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "deadline:" in row)
    assert [(p.line, fragment in p.message) for p in info.value.problems] == [(line, True)], str(info.value)
    assert f"0 to {MAX_DEADLINE_DAYS}" in str(info.value)


def test_nesting_just_under_the_limit_still_loads_as_yaml():
    """The depth limit only refuses what real definitions never need."""
    from workflow.pipeline.yamlsource import load_yaml

    deep = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    value = load_yaml(deep, SOURCE)
    for _ in range(MAX_DEPTH - 2):
        value = value[0]
    assert value == []


# --- (b) edits that keep a definition valid keep it loading, to the same pipeline ---------------------------

NAME = st.from_regex(r"[a-z][a-z0-9_]{0,24}", fullmatch=True)


def _rename_state(doc: dict, old: str, new: str) -> None:
    doc["initial"] = new if doc["initial"] == old else doc["initial"]
    for s in doc["states"]:
        if s["name"] == old:
            s["name"] = new
    for t in doc["transitions"]:
        src = t["source"]
        t["source"] = new if src == old else [new if x == old else x for x in src] if isinstance(src, list) else src
        if t["dest"] == old:
            t["dest"] = new
        if "deadline" in t:
            t["deadline"]["paused_in"] = [new if x == old else x for x in t["deadline"].get("paused_in", [])]


def _rename_trigger(doc: dict, old: str, new: str) -> None:
    for t in doc["transitions"]:
        if t["trigger"] == old:
            t["trigger"] = new
        if "deadline" in t and t["deadline"]["fire"] == old:
            t["deadline"]["fire"] = new


@settings(FUZZ, max_examples=40)
@given(st.sampled_from(sorted(TEXTS)), st.data())
def test_renaming_a_state_everywhere_keeps_the_pipeline(name, data):
    before = parsed(name)
    old = data.draw(st.sampled_from([s.name for s in before.states]), label="state")
    new = data.draw(NAME.filter(lambda n: n not in before.state_map), label="new name")
    doc = plain(name)
    _rename_state(doc, old, new)
    after = check(dump(doc))
    assert after is not None, f"renaming state {old!r} to {new!r} broke a valid definition"
    dumped = before.model_dump()
    # Only state names change: rename them in the states, transitions and deadlines (not in labels or stages).
    for t in dumped["transitions"]:
        t["source"] = [new if s == old else s for s in t["source"]]
        t["dest"] = new if t["dest"] == old else t["dest"]
        if t["deadline"]:
            t["deadline"]["paused_in"] = [new if s == old else s for s in t["deadline"]["paused_in"]]
    for s in dumped["states"]:
        s["name"] = new if s["name"] == old else s["name"]
    dumped["initial"] = new if dumped["initial"] == old else dumped["initial"]
    assert after.model_dump() == dumped


@settings(FUZZ, max_examples=30)
@given(st.sampled_from(sorted(TEXTS)), st.data())
def test_renaming_an_action_everywhere_keeps_the_pipeline(name, data):
    before = parsed(name)
    triggers = sorted({t.trigger for t in before.transitions})
    old = data.draw(st.sampled_from(triggers), label="trigger")
    new = data.draw(NAME.filter(lambda n: n not in triggers), label="new name")
    doc = plain(name)
    _rename_trigger(doc, old, new)
    after = check(dump(doc))
    assert after is not None, f"renaming action {old!r} to {new!r} broke a valid definition"
    renamed = [new if t.trigger == old else t.trigger for t in before.transitions]
    assert [t.trigger for t in after.transitions] == renamed
    assert after.triggers_from == {s: [new if x == old else x for x in ts] for s, ts in before.triggers_from.items()}


@settings(FUZZ, max_examples=30)
@given(st.sampled_from(sorted(TEXTS)), st.data())
def test_reordering_relabelling_and_reformatting_keep_the_pipeline(name, data):
    """Key order, the order of the states list, any non-empty label text, flow or block style, comments."""
    before = parsed(name)
    doc = plain(name)
    keys = data.draw(st.permutations(list(doc)), label="key order")
    doc = {k: doc[k] for k in keys}
    order = data.draw(st.permutations(range(len(doc["states"]))), label="state order")
    doc["states"] = [doc["states"][i] for i in order]
    label = data.draw(st.text(min_size=1, max_size=30).filter(str.strip), label="label")
    target = data.draw(st.sampled_from(doc["transitions"]), label="relabelled")
    target["label"] = {"zh": label, "en": label}
    text = dump(doc, default_flow_style=data.draw(st.sampled_from([False, None]), label="style"))
    if data.draw(st.booleans(), label="comments"):
        # Before each top-level key only: a "#" inside a multi-line quoted scalar would be content, not a comment.
        text = "".join(f"# 注释 {i}\n{line}" if line[:1].isalpha() else line
                       for i, line in enumerate(text.splitlines(keepends=True)))
    after = check(text)
    assert after is not None, "a meaning-preserving edit broke a valid definition"
    assert sorted(after.state_map) == sorted(before.state_map)
    assert [s.model_dump() for s in after.states] == [before.states[i].model_dump() for i in order]
    expected = [t.model_dump() for t in before.transitions]
    expected[doc["transitions"].index(target)]["label"] = {"zh": label, "en": label}
    assert [t.model_dump() for t in after.transitions] == expected
    assert after.parameters == before.parameters
    assert (after.id, after.version, after.initial) == (before.id, before.version, before.initial)
