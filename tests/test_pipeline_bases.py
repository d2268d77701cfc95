"""``extends:``: pipelines state only their differences from a shared base chain (workflow/pipeline/bases.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from workflow.pipeline.bases import BASES_DIR
from workflow.pipeline.catalog import DEFINITIONS_DIR, get_pipeline, sync_pipelines
from workflow.pipeline.schema import load_pipeline_dir, parse_pipeline
from workflow.pipeline.yamlsource import DefinitionError

SHIPPED = DEFINITIONS_DIR / "pipelines"
FIFTH = Path(__file__).parent / "fixtures" / "pipelines" / "talent-express.yaml"
BASE = BASES_DIR / "review-chain.yaml"
BASE_VERSION = yaml.safe_load(BASE.read_text(encoding="utf-8"))["version"]


def _tree(tmp_path: Path, *, base_text: str | None = None, extra: dict[str, str] | None = None) -> Path:
    """definitions/{pipelines,bases} in ``tmp_path``: the shipped files, the base (or ``base_text``), ``extra``."""
    pipelines, bases = tmp_path / "pipelines", tmp_path / "bases"
    pipelines.mkdir()
    bases.mkdir()
    for f in SHIPPED.glob("*.yaml"):
        shutil.copy(f, pipelines / f.name)
    (bases / BASE.name).write_text(base_text if base_text is not None else BASE.read_text(encoding="utf-8"),
                                   encoding="utf-8")
    for name, text in (extra or {}).items():
        (pipelines / name).write_text(text, encoding="utf-8")
    return pipelines


def _extending(body: str, *, pid: str = "probe") -> str:
    return (f"id: {pid}\nversion: 1\nlabel: {{zh: 试验, en: Probe}}\ndescription: {{zh: 试验, en: Probe}}\n"
            f"channel: unit\nextends: {{base: review-chain, version: {BASE_VERSION}}}\n{body}")


def test_every_shipped_pipeline_extends_the_base_and_stores_its_resolved_definition():
    for pid, (pipeline, stored) in load_pipeline_dir(SHIPPED).items():
        own = (SHIPPED / f"{pid}.yaml").read_text(encoding="utf-8")
        assert "extends:" in own and len(own.splitlines()) < 100  # only the differences
        doc = yaml.safe_load(stored)
        assert "extends" not in doc and doc["id"] == pid and len(doc["states"]) == len(pipeline.states)
        # The stored text alone is the whole definition: a pinned version never needs the base again.
        assert parse_pipeline(stored, f"{pid}@stored", stored=True, bases=()) == pipeline


def test_a_pipeline_differs_from_the_base_exactly_where_it_says():
    found = {pid: p for pid, (p, _) in load_pipeline_dir(SHIPPED).items()}
    base_like, bridging = found["industry-session"], found["skill-bridging"]
    fallback, exceptional = found["fallback-filing"], found["exceptional-senior"]
    # Materials: new entries keep the pipeline's own order (the skill certificate first), removals are gone.
    assert bridging.materials[0].code == "skill"
    assert "title" not in {m.code for m in bridging.materials}
    # A transition override changes every branch of its trigger.
    assert {tuple(t.requires) for t in bridging.transitions if t.trigger == "recommend"} == {("assessment", "comment")}
    # rename_roles: the agency acts wherever the employer's HR acts, and only there.
    assert not any("unit_reviewer" in t.roles + t.notify for t in fallback.transitions)
    assert {t.trigger for t in fallback.transitions if "agency_reviewer" in t.roles} == \
        {t.trigger for t in base_like.transitions if "unit_reviewer" in t.roles}
    # A state override changes only the fields it names.
    assert fallback.state_map["unit_review"].label.zh == "代理机构初审"
    assert fallback.state_map["unit_review"].inbox == base_like.state_map["unit_review"].inbox
    # remove_transitions with a dest drops one branch and keeps the other.
    assert [t.dest for t in exceptional.transitions if t.trigger == "complete_pre_review"] == ["defence"]


def test_raising_the_base_refuses_every_pipeline_still_written_against_the_old_one(tmp_path):
    raised = BASE.read_text(encoding="utf-8").replace(f"version: {BASE_VERSION}\n", f"version: {BASE_VERSION + 1}\n", 1)
    with pytest.raises(DefinitionError) as err:
        load_pipeline_dir(_tree(tmp_path, base_text=raised))
    text = str(err.value)
    assert text.count("raise this pipeline's 'version'") == len(list(SHIPPED.glob("*.yaml")))


def test_changing_the_base_without_raising_versions_is_refused_once_stored(db, tmp_path):
    """The stored text is the resolved definition, so an edit to the base changes it for the same version."""
    pipelines = _tree(tmp_path)
    sync_pipelines(db, pipelines)  # the same resolved texts as the shipped ones: nothing new
    changed = BASE.read_text(encoding="utf-8").replace("label: {zh: 单位初审, en: Unit review}",
                                                       "label: {zh: 单位审核, en: Unit check}", 1)
    assert changed != BASE.read_text(encoding="utf-8")
    (tmp_path / "bases" / BASE.name).write_text(changed, encoding="utf-8")
    with pytest.raises(DefinitionError, match="already in use with different content"):
        sync_pipelines(db, pipelines)


def test_a_running_case_keeps_the_resolved_definition_it_was_pinned_to(db):
    pipeline = get_pipeline(db, "industry-session", load_pipeline_dir(SHIPPED)["industry-session"][0].version)
    assert pipeline.state_map["unit_review"].label.zh == "单位初审" and len(pipeline.transitions) > 30


@pytest.mark.parametrize(("body", "fragment"), [
    ("remove_states: [nowhere]\n", "the base has no 'nowhere'"),
    ("remove_transitions: [{trigger: fly}]\n", "the base has no transition 'fly'"),
    ("remove_parameters: [nothing]\n", "the base has no parameter 'nothing'"),
    ("rename_states: {nowhere: x}\n", "the base has no state 'nowhere'"),
    ("rename_states: {unit_review: formal_check}\n", "would be named twice"),
    ("states: [{label: {zh: 无名, en: Nameless}}]\n", "needs a 'name'"),
    ("transitions: [{label: {zh: 无, en: None}}]\n", "needs a 'trigger'"),
    ("rename_roles: [a]\n", "rename_roles must map"),
])
def test_a_bad_extension_is_refused_with_its_line(tmp_path, body, fragment):
    with pytest.raises(DefinitionError, match=fragment) as err:
        load_pipeline_dir(_tree(tmp_path, extra={"probe.yaml": _extending(body)}))
    assert any(p.line > 0 for p in err.value.problems)


def test_an_unknown_base_and_a_stray_extension_key_are_refused():
    with pytest.raises(DefinitionError, match="unknown base 'nope'"):
        parse_pipeline(_extending("").replace("base: review-chain", "base: nope"), "probe.yaml")
    with pytest.raises(DefinitionError, match="only allowed together with 'extends'"):
        parse_pipeline((Path(__file__).parent / "fixtures" / "pipelines" / "minimal.yaml").read_text(encoding="utf-8")
                       + "remove_states: [x]\n", "minimal.yaml")


def test_a_problem_found_only_after_resolving_points_at_the_extends_line():
    text = _extending("states:\n  - {name: unit_review, stage: nowhere}\n")
    with pytest.raises(DefinitionError) as err:
        parse_pipeline(text, "probe.yaml")
    assert all(p.line == 6 for p in err.value.problems) and "with base review-chain" in str(err.value)


def test_the_fifth_pipeline_runs_the_same_chain_under_names_of_its_own():
    fifth, _ = load_pipeline_dir(FIFTH.parent)["talent-express"]
    shipped = {s.name for p, _ in load_pipeline_dir(SHIPPED).values() for s in p.states}
    assert not {s.name for s in fifth.states} & shipped
    base_like = load_pipeline_dir(SHIPPED)["industry-session"][0]
    assert len(fifth.states) == len(base_like.states) and len(fifth.transitions) == len(base_like.transitions)
    assert fifth.state_map["hr_check"].inbox == base_like.state_map["unit_review"].inbox
    assert fifth.notice_deadline("unit").paused_in == ["hr_notice_dispute"]
