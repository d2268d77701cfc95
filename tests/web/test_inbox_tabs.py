"""Inbox tabs come from the definitions: a pipeline with state names of its own reaches every work list by
saying, on each state, which tab lists it; no tab is written in code."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from workflow.eligibility.standards import DEFINITIONS_DIR
from workflow.pipeline.catalog import sync_pipelines
from workflow.pipeline.inboxes import inboxes
from workflow.pipeline.schema import load_pipeline_dir
from workflow.pipeline.yamlsource import DefinitionError

MINIMAL = Path(__file__).resolve().parents[1] / "fixtures" / "pipelines" / "minimal.yaml"


def _fifth_pipeline(directory: Path) -> Path:
    """The shipped pipelines plus one whose review states have other names (hr_check, hr_notice)."""
    for f in (DEFINITIONS_DIR / "pipelines").glob("*.yaml"):
        shutil.copy(f, directory / f.name)
    text = MINIMAL.read_text(encoding="utf-8").replace("id: minimal", "id: fifth")
    text = re.sub(r"\bunit_review\b", "hr_check", text)
    text = re.sub(r"\bunit_notice\b(?!_)", "hr_notice", text)
    (directory / "fifth.yaml").write_text(text, encoding="utf-8")
    return directory


def test_every_open_state_of_the_shipped_pipelines_is_in_a_tab_of_some_inbox():
    for pipeline, _source in load_pipeline_dir(DEFINITIONS_DIR / "pipelines").values():
        for state in pipeline.states:
            if state.final or state.name == pipeline.initial:
                assert not state.inbox or not state.final
                continue
            assert state.inbox, state.name
            for inbox, key in state.inbox.items():
                assert key in inboxes()[inbox].listing_tabs()


def test_a_fifth_pipeline_with_its_own_state_names_is_listed_by_the_tabs_it_names(app, cast_db, tmp_path):
    from web.inbox import final_states, open_states, tabs_for

    sync_pipelines(cast_db, _fifth_pipeline(tmp_path))
    with app.test_request_context("/"):
        unit = {t.key: t for t in tabs_for(cast_db, "unit")}
        authority = {t.key: t for t in tabs_for(cast_db, "authority")}
    assert "hr_check" in unit["review"].states and "hr_notice" in unit["notice"].states
    assert "unit_review" in unit["review"].states  # the shipped pipelines are still there
    assert "hr_check" not in authority["upstream"].states  # the fifth names no authority tab for it
    assert unit["done"].final and set(unit["done"].states) == set(final_states(cast_db))
    assert unit["all"].states is None
    assert {"hr_check", "hr_notice"} <= set(open_states(cast_db))
    assert [t.key for t in tabs_for(cast_db, "unit")] == [t.key for t in inboxes()["unit"].tabs]


def test_tab_labels_follow_the_page_language(app, cast_db):
    from web.i18n import LANG_COOKIE
    from web.inbox import tabs_for

    with app.test_request_context("/", headers={"Cookie": f"{LANG_COOKIE}=en"}):
        labels = [t.label for t in tabs_for(cast_db, "authority")]
    assert labels[0] == "Formal check"
    with app.test_request_context("/"):
        assert tabs_for(cast_db, "authority")[0].label == "形式审查"


def test_no_inbox_tab_names_a_state_in_the_web_layer():
    """The tab lists live in the definitions; web/inbox.py spells out no state of any pipeline."""
    states = {s.name for p, _ in load_pipeline_dir(DEFINITIONS_DIR / "pipelines").values() for s in p.states}
    code = (Path(__file__).resolve().parents[2] / "web" / "inbox.py").read_text(encoding="utf-8")
    assert not [s for s in states if re.search(rf"[\"']{s}[\"']", code)]


def _older_version(pipeline_id: str, version: int) -> str:
    """The pipeline as it was written before states said what screens need (no inbox, step, outcome, notice)."""
    import yaml

    stored = load_pipeline_dir(DEFINITIONS_DIR / "pipelines")[pipeline_id][1]  # the resolved definition
    doc = yaml.safe_load(stored)
    for state in doc["states"]:
        for key in ("inbox", "panel_step", "decided", "outcome", "notice"):
            state.pop(key, None)
    doc["version"] = version
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def test_a_case_pinned_to_a_version_from_before_keeps_its_screens(cast_db):
    """A stored version that names no tabs still loads (running cases are pinned to it), and what the screens
    need about its states comes from the newest version of the same pipeline."""
    from sqlalchemy import insert

    from workflow.models import PipelineVersion
    from workflow.pipeline.catalog import get_pipeline, latest_versions, screen_state
    from workflow.pipeline.schema import parse_pipeline

    newest = latest_versions(cast_db)["industry-session"]
    older = _older_version("industry-session", newest - 1)
    with pytest.raises(DefinitionError, match="is in no inbox"):
        parse_pipeline(older, "new.yaml")  # a new version must say where its states belong
    with cast_db.write() as conn:
        conn.execute(insert(PipelineVersion.__table__).values(pipeline_id="industry-session", version=newest - 1,
                                                              source_text=older, sha256="x" * 64))
    pinned = get_pipeline(cast_db, "industry-session", newest - 1)
    assert pinned.state_map["pre_review"].panel_step is None
    seen = screen_state(cast_db, "industry-session", newest - 1, "pre_review")
    assert (seen.panel_step, seen.inbox) == ("opinions", {"unit": "progress", "authority": "panel"})
    assert seen.label == pinned.state_map["pre_review"].label
    assert screen_state(cast_db, "industry-session", newest - 1, "certified").outcome == "favourable"
