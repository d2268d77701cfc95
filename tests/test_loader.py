"""The definitions loader: every kind of mistake is reported with ``file:line`` and nothing half-loads."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from web.cli import main
from workflow.pipeline.schema import load_pipeline_dir, parse_pipeline
from workflow.pipeline.yamlsource import DefinitionError

FIXTURES = Path(__file__).parent / "fixtures" / "pipelines"
MINIMAL = (FIXTURES / "minimal.yaml").read_text(encoding="utf-8")


PARK = """  - trigger: park
    label: {zh: 搁置, en: Park}
    source: draft
    dest: stuck
    roles: [applicant]
"""


def broken(old: str, new: str) -> str:
    """The minimal pipeline with one exact piece of text replaced (the fixture must contain it once)."""
    assert MINIMAL.count(old) == 1, old
    text = MINIMAL.replace(old, new)
    if "name: stuck" in text:  # give the dead-end state an edge in, so it is reachable but has no way out
        text += PARK
    return text


def line_of(text: str, needle: str) -> int:
    """1-based line number of the first line containing ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_minimal_fixture_is_valid():
    p = parse_pipeline(MINIMAL, "minimal.yaml")
    assert p.finals == ["certified", "withdrawn"]


CASES = [
    # (what is wrong, old text, new text, line marker, message fragment)
    ("unknown destination", "dest: unit_notice\n", "dest: unit_notise\n", "dest: unit_notise",
     "unknown destination state 'unit_notise'"),
    ("unknown source", "source: [draft, unit_review]", "source: [draft, review]", "source: [draft, review]",
     "unknown source state 'review'"),
    ("undefined role", "roles: [unit_reviewer]", "roles: [hr_manager]", "roles: [hr_manager]",
     "role 'hr_manager' is not defined"),
    ("unknown guard", "    roles: [applicant]\n  - trigger: start", "    roles: [applicant]\n    guards: [is_nice]\n"
     "  - trigger: start", "guards: [is_nice]", "unknown guard 'is_nice'"),
    ("unknown action", "    requires: [reason]", "    requires: [reason]\n    actions: [os_system]",
     "actions: [os_system]", "unknown action 'os_system'"),
    ("unknown requirement", "requires: [reason]", "requires: [signature]", "requires: [signature]",
     "unknown requirement 'signature'"),
    ("empty roles", "roles: [system]", "roles: []", "roles: []", "at least 1 item"),
    ("unknown field", "channel: unit", "channel: unit\nowner: bob", "owner: bob", "Extra inputs are not permitted"),
    ("bad channel", "channel: unit", "channel: email", "channel: email", "Input should be 'unit' or 'agency'"),
    ("missing label", "    label: {zh: 提交, en: Submit}\n", "", "trigger: submit", "label: Field required"),
    ("bad stage", "stage: unit, inbox: {unit: review}, label: {zh: 单位初审",
     "stage: office, inbox: {unit: review}, label: {zh: 单位初审", "stage: office", "Input should be"),
    ("state in no inbox", "stage: unit, inbox: {unit: notice}, label:", "stage: unit, label:", "name: unit_notice",
     "state 'unit_notice' is in no inbox"),
    ("unknown inbox tab", "inbox: {unit: notice}", "inbox: {unit: noticeboard}", "name: unit_notice",
     "inbox 'unit' has no tab 'noticeboard'"),
    ("unknown inbox", "inbox: {unit: notice}", "inbox: {hr: notice}", "name: unit_notice", "unknown inbox 'hr'"),
    ("final state in a tab", "final: true, label: {zh: 已撤回", "final: true, inbox: {unit: done}, label: {zh: 已撤回",
     "name: withdrawn", "state 'withdrawn' is final"),
    ("deadline param missing", "days: unit_notice_working_days", "days: notice_days", "days: notice_days",
     "unknown parameter 'notice_days'"),
    ("deadline fires nothing", "fire: close_unit_notice}", "fire: close_notice}", "fire: close_notice",
     "deadline fires 'close_notice'"),
    ("unreachable state", "  - {name: withdrawn,",
     "  - {name: limbo, stage: unit, inbox: {unit: review}, label: {zh: 无, en: Limbo}}\n"
     "  - {name: withdrawn,", "name: limbo", "'limbo' is unreachable"),
    ("trap", "dest: certified\n", "dest: unit_notice\n", "name: unit_notice",
     "'unit_notice' can never reach a final state"),
    ("dead end", "  - {name: withdrawn,",
     "  - {name: stuck, stage: unit, inbox: {unit: review}, label: {zh: 卡住, en: Stuck}}\n"
     "  - {name: withdrawn,", "name: stuck", "'stuck' is a dead end"),
    ("unknown initial", "initial: draft", "initial: start", "initial: start", "initial state 'start'"),
    ("duplicate state", "  - {name: withdrawn, stage: closed, final: true, label: {zh: 已撤回, en: Withdrawn}}",
     "  - {name: withdrawn, stage: closed, final: true, label: {zh: 已撤回, en: Withdrawn}}\n"
     "  - {name: draft, stage: submission, label: {zh: 又一个草稿, en: Draft again}}", "又一个草稿",
     "state 'draft' is defined twice"),
    ("duplicate key", "version: 1", "version: 1\nversion: 2", "version: 2", "duplicate key 'version'"),
    ("yaml syntax", "roles: [applicant]\n  - trigger: start", "roles: [applicant\n  - trigger: start",
     "- trigger: start", "YAML syntax"),
    ("timer trigger not for system", "    roles: [system]", "    roles: [applicant]", "fire: close_unit_notice",
     "must allow role 'system'"),
]


@pytest.mark.parametrize(("what", "old", "new", "marker", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_broken_definition_names_file_and_line(what, old, new, marker, fragment):
    text = broken(old, new)
    with pytest.raises(DefinitionError) as info:
        parse_pipeline(text, "broken.yaml")
    message = str(info.value)
    assert fragment in message, message
    expected_line = line_of(text, marker)
    lines = {p.line for p in info.value.problems if fragment in p.message or fragment in str(p.render("x"))}
    assert lines, message
    assert any(abs(line - expected_line) <= 1 for line in lines), (message, expected_line)
    assert message.startswith("broken.yaml:"), message


def test_all_problems_are_reported_at_once():
    text = broken("roles: [unit_reviewer]", "roles: [hr_manager]").replace("dest: unit_notice\n", "dest: nowhere\n")
    with pytest.raises(DefinitionError) as info:
        parse_pipeline(text, "two.yaml")
    assert len(info.value.problems) >= 2


def test_directory_refuses_everything_when_one_file_is_broken(tmp_path: Path):
    (tmp_path / "minimal.yaml").write_text(MINIMAL, encoding="utf-8")
    other = MINIMAL.replace("id: minimal", "id: other").replace("dest: certified", "dest: x")
    (tmp_path / "other.yaml").write_text(other, encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_pipeline_dir(tmp_path)
    assert f"{tmp_path / 'other.yaml'}:" in str(info.value)


def test_file_name_must_match_id(tmp_path: Path):
    (tmp_path / "wrong-name.yaml").write_text(MINIMAL, encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"wrong-name.yaml:1: file name must be the pipeline id"):
        load_pipeline_dir(tmp_path)


def test_cli_reports_broken_definitions(tmp_path: Path):
    (tmp_path / "minimal.yaml").write_text(broken("roles: [unit_reviewer]", "roles: [hr]"), encoding="utf-8")
    result = CliRunner().invoke(main, ["pipelines", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "minimal.yaml:" in result.output and "role 'hr' is not defined" in result.output


@pytest.mark.parametrize("text", ["", "- just\n- a list\n", "id: [unclosed", "\t: bad", "a: b: c"])
def test_garbage_is_a_clear_error(text):
    with pytest.raises(DefinitionError):
        parse_pipeline(text, "garbage.yaml")


def test_impossible_date_is_a_definition_error_with_its_line():
    text = MINIMAL.replace("version: 1", "version: 1\nreviewed_on: 2024-13-01")
    with pytest.raises(DefinitionError, match=r"broken.yaml:4: impossible date '2024-13-01'"):
        parse_pipeline(text, "broken.yaml")
