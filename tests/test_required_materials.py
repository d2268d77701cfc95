"""Required materials as data: each pipeline lists its material categories; a submission (and a resubmission)
is refused while a required one has no file, naming what is missing; an older stored version without a list keeps
the fixed categories and submits as before; the loader refuses lists that cannot work."""

from __future__ import annotations

import hashlib

import pytest
import yaml
from driver import DATA_FOR
from sqlalchemy import insert, select

from seed.cast import SAMPLE_PDF
from workflow.engine import core as engine
from workflow.errors import GuardRefused, InvalidAction
from workflow.models import Case, PipelineVersion
from workflow.pipeline.catalog import DEFINITIONS_DIR, get_pipeline, latest_versions
from workflow.pipeline.schema import load_pipeline_dir, parse_pipeline
from workflow.pipeline.yamlsource import DefinitionError
from workflow.records import attachments

SHIPPED = load_pipeline_dir(DEFINITIONS_DIR / "pipelines")


def _state(db, case_id: int) -> str:
    with db.read() as conn:
        return conn.execute(select(Case.__table__.c.state).where(Case.__table__.c.id == case_id)).scalar_one()


def _upload(world, case_id: int, category: str) -> int:
    return attachments.add_attachment(world.db, case_id, world.applicant, category=category, original_name="x.pdf",
                                      stored_name=f"{category}-{case_id}.pdf", content_type="application/pdf",
                                      size=len(SAMPLE_PDF), sha256=hashlib.sha256(SAMPLE_PDF).hexdigest())


@pytest.mark.parametrize("pipeline_id", sorted(SHIPPED))
def test_every_shipped_pipeline_lists_required_materials_and_checks_them_on_submission(pipeline_id):
    pipeline = SHIPPED[pipeline_id][0]
    assert pipeline.required_materials, "a pipeline without required materials lets an empty dossier through"
    for t in pipeline.transitions:
        # The applicant hands the dossier over: from a state that is with them to one that is not.
        leaves_applicant = pipeline.state_map[t.source[0]].stage == "submission" != pipeline.state_map[t.dest].stage
        if "applicant" in t.roles and leaves_applicant and not pipeline.state_map[t.dest].final:
            assert "required_materials" in t.guards, f"{t.trigger} from {t.source} does not check the materials"


def test_the_fallback_pipeline_asks_for_the_account_evidence():
    fallback = SHIPPED["fallback-filing"][0]
    labels = " ".join(m.label.zh for m in fallback.required_materials)
    assert "劳动合同" in labels and "社保" in labels and "自由职业" in labels


def test_submission_is_refused_with_every_missing_material_named_then_allowed(world):
    case_id = world.open(materials=False)
    pipeline = get_pipeline(world.db, *latest_versions_of(world, "industry-session"))
    required = pipeline.required_materials
    with pytest.raises(GuardRefused) as refused:
        engine.fire(world.db, case_id, "submit", world.applicant)
    for material in required:
        assert material.label.zh in str(refused.value)
    assert _state(world.db, case_id) == pipeline.initial
    for material in required[:-1]:
        _upload(world, case_id, material.code)
    with pytest.raises(GuardRefused) as refused:
        engine.fire(world.db, case_id, "submit", world.applicant)
    assert required[-1].label.zh in str(refused.value) and required[0].label.zh not in str(refused.value)
    _upload(world, case_id, required[-1].code)
    engine.fire(world.db, case_id, "submit", world.applicant)
    assert _state(world.db, case_id) != pipeline.initial


def test_a_removed_file_counts_as_missing_when_resubmitting_after_a_correction(world):
    case_id = world.open()
    engine.fire(world.db, case_id, "submit", world.applicant)
    engine.fire(world.db, case_id, "return_for_correction", world.unit, data={"corrections": DATA_FOR["corrections"]})
    pipeline = get_pipeline(world.db, *latest_versions_of(world, "industry-session"))
    first = pipeline.required_materials[0]
    with world.db.read() as conn:
        row = next(r for r in attachments.list_attachments(conn, case_id) if r["category"] == first.code)
    attachments.remove_attachment(world.db, row["id"], world.applicant)
    with pytest.raises(GuardRefused, match=first.label.zh):
        engine.fire(world.db, case_id, "resubmit", world.applicant)
    _upload(world, case_id, first.code)
    engine.fire(world.db, case_id, "resubmit", world.applicant)


def test_only_the_pinned_versions_categories_can_be_uploaded(world):
    case_id = world.open(materials=False)
    pipeline = get_pipeline(world.db, *latest_versions_of(world, "industry-session"))
    unlisted = next(code for code in attachments.CATEGORIES if code not in {m.code for m in pipeline.materials})
    with pytest.raises(InvalidAction):
        _upload(world, case_id, unlisted)
    with pytest.raises(InvalidAction):
        _upload(world, case_id, attachments.OBJECTION_EVIDENCE)


def test_the_checklist_says_what_is_required_uploaded_and_missing(world):
    case_id = world.open(materials=False)
    pipeline = get_pipeline(world.db, *latest_versions_of(world, "industry-session"))
    first = pipeline.required_materials[0]
    _upload(world, case_id, first.code)
    with world.db.read() as conn:
        rows = attachments.list_attachments(conn, case_id)
    items = {item["code"]: item for item in attachments.checklist(pipeline, rows)}
    assert list(items) == [m.code for m in pipeline.materials]
    assert len(items[first.code]["files"]) == 1 and items[first.code]["required"]
    missing = [item["code"] for item in attachments.missing_required(pipeline, rows)]
    assert missing == [m.code for m in pipeline.required_materials[1:]]


def test_an_older_stored_version_without_materials_submits_as_before(world):
    """A version stored before pipelines listed materials: the fixed categories, none required."""
    newest = latest_versions(world.db)["industry-session"]
    raw = yaml.safe_load(get_pipeline_text(world, "industry-session", newest))
    raw.pop("materials", None)
    raw.pop("remove_materials", None)
    for t in raw["transitions"]:
        t["guards"] = [g for g in t.get("guards", []) if g != "required_materials"]
    older = newest - 1
    raw["version"] = older
    text = yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)
    assert not parse_pipeline(text, stored=True).materials
    with world.db.write() as conn:
        if conn.execute(select(PipelineVersion.__table__.c.id).where(
                PipelineVersion.__table__.c.pipeline_id == "industry-session",
                PipelineVersion.__table__.c.version == older)).first() is None:
            conn.execute(insert(PipelineVersion.__table__).values(
                pipeline_id="industry-session", version=older, source_text=text,
                sha256=hashlib.sha256(text.encode()).hexdigest()))
    case_id = world.open(pipeline_version=older, materials=False)
    pinned = get_pipeline(world.db, "industry-session", older)
    assert set(attachments.categories_for(pinned)) == set(attachments.CATEGORIES)
    assert not any(item["required"] for item in attachments.checklist(pinned, []))
    _upload(world, case_id, "social_insurance")  # a fixed category the newer versions do not list
    engine.fire(world.db, case_id, "submit", world.applicant)
    assert _state(world.db, case_id) != pinned.initial


def test_the_loader_refuses_duplicate_reserved_and_unusable_material_lists():
    text = SHIPPED["industry-session"][1]
    raw = yaml.safe_load(text)
    if "extends" in raw:  # a definition stating differences from a base: check the resolved whole instead
        raw = yaml.safe_load(yaml.safe_dump(SHIPPED["industry-session"][0].model_dump(mode="json", exclude_none=True)))
    first = raw["materials"][0]
    for materials, message in (
            ([first, first], "listed twice"),
            ([*raw["materials"], {**first, "code": "objection_evidence"}], "reserved"),
            ([{**m, "required": False} for m in raw["materials"]], "needs at least one material")):
        bad = yaml.safe_dump({**raw, "materials": materials}, allow_unicode=True, sort_keys=False)
        with pytest.raises(DefinitionError, match=message):
            parse_pipeline(bad)


def latest_versions_of(world, pipeline_id: str) -> tuple[str, int]:
    """(id, newest stored version) of ``pipeline_id``."""
    return pipeline_id, latest_versions(world.db)[pipeline_id]


def get_pipeline_text(world, pipeline_id: str, version: int) -> str:
    """The stored text of (id, version)."""
    pv = PipelineVersion.__table__
    with world.db.read() as conn:
        return conn.execute(select(pv.c.source_text).where(pv.c.pipeline_id == pipeline_id,
                                                           pv.c.version == version)).scalar_one()
