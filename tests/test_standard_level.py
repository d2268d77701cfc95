"""A case's level and the level of the standard that judges it must agree, when the case is opened and when its
draft is edited."""

from __future__ import annotations

import pytest
from sqlmodel import select

from workflow.eligibility.dossier import update_declaration
from workflow.engine import core as engine
from workflow.errors import MissingData
from workflow.models import Case

SENIOR = "hunan-sme-advanced-manufacturing-senior"  # a 副高 standard
ENGINEER = "national-engineering-engineer"  # a 中级 standard


@pytest.mark.parametrize(("standard_id", "level", "refused"), [
    (SENIOR, "副高", False),
    (ENGINEER, "中级", False),
    (SENIOR, "中级", True),
    (ENGINEER, "副高", True),
    (ENGINEER, "正高", True),
    (None, "副高", False),  # no standard chosen yet: the submission guard asks for one
])
def test_opening_a_case_checks_the_standards_level(world, standard_id, level, refused):
    if refused:
        with pytest.raises(MissingData, match="与申报级别") as err:
            world.open("industry-session", level=level, standard_id=standard_id)
        assert "change the standard or the level" in err.value.message("en")
    else:
        assert world.open("industry-session", level=level, standard_id=standard_id)


def test_editing_the_draft_keeps_level_and_standard_in_step(world):
    case_id = world.open("industry-session", level="副高", standard_id=SENIOR)
    with world.db.session() as s:
        version = s.get(Case, case_id).version
    with pytest.raises(MissingData, match="适用于副高职称"):
        update_declaration(world.db, case_id, world.applicant, expected_version=version, level="中级")
    with pytest.raises(MissingData, match="适用于中级职称"):
        update_declaration(world.db, case_id, world.applicant, expected_version=version, standard_id=ENGINEER)
    # both changed together is consistent
    update_declaration(world.db, case_id, world.applicant, expected_version=version, level="中级",
                       standard_id=ENGINEER)
    with world.db.session() as s:
        case = s.get(Case, case_id)
        assert (case.level, case.standard_id) == ("中级", ENGINEER)


def test_the_engine_refuses_before_writing_anything(world):
    with world.db.session() as s:
        before = len(s.exec(select(Case)).all())
    with pytest.raises(MissingData):
        engine.open_case(world.db, world.applicant, pipeline_id="industry-session", unit_org_id=world.employer,
                         authority_org_id=world.authority, level="中级", standard_id=SENIOR)
    with world.db.session() as s:
        assert len(s.exec(select(Case)).all()) == before
