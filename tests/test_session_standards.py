"""A review session lists the occupation standards it accepts (issue 14, item 5).

The administration checks the list (stored standards of the session's series, at least one while the session
accepts applications); opening a case and changing a draft's standard refuse a standard the case's session
does not list; a case without a session is not concerned. Migration 0012 gives existing sessions the standards
of their series.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Column, MetaData, Table, select, update

from workflow import migrate
from workflow.administration import save_session
from workflow.db import Database
from workflow.eligibility.dossier import update_declaration
from workflow.engine import core as engine
from workflow.errors import MissingData, StaleCase
from workflow.models import Case, CommitteeSeat, Organisation, ReviewSession, User

SENIOR = "hunan-sme-advanced-manufacturing-senior"  # 工程, 副高
ENGINEER = "national-engineering-engineer"  # 工程, 中级
ASSISTANT = "national-engineering-assistant"  # 工程, 助理
PROFESSOR = "national-engineering-professor"  # 工程, 正高
HR = "hunan-sme-hr-senior-economist"  # 经济, 副高
ENGINEERING = sorted([SENIOR, ENGINEER, ASSISTANT, PROFESSOR, "national-engineering-senior",
                      "industrial-internet-engineer"])

_session = ReviewSession.__table__
_case = Case.__table__


def _save(world, session_id: int | None = None, **kw: Any) -> int:
    fields: dict[str, Any] = dict(code="2026-XC-AI", name="2026年湘产专场·人工智能", series="工程", year=2026,
                                  pipeline_ids=["industry-session"], authority_org_id=world.authority)
    fields.update(kw)
    return save_session(world.db, world.admin, session_id, **fields)


def _stored(world, session_id: int) -> list[str]:
    with world.db.read() as conn:
        return conn.execute(select(_session.c.standard_ids).where(_session.c.id == session_id)).scalar_one()


# --------------------------------------------------------------------------------------------- administration

ACCEPTED = [
    pytest.param("工程", "open", [SENIOR], [SENIOR], id="one-of-the-series"),
    pytest.param("工程", "open", [ASSISTANT, ENGINEER, SENIOR, PROFESSOR], [ASSISTANT, ENGINEER, SENIOR, PROFESSOR],
                 id="every-level-of-the-series"),
    pytest.param("工程", "open", [SENIOR, " " + SENIOR + " ", ENGINEER], [SENIOR, ENGINEER], id="repeats-dropped"),
    pytest.param("经济", "open", [HR], [HR], id="economics"),
    pytest.param("", "open", [HR, SENIOR], [HR, SENIOR], id="no-series-takes-any"),
    pytest.param("工程", "closed", [], [], id="closed-may-list-none"),
    pytest.param("工程", "sitting", [], [], id="sitting-may-list-none"),  # applications are no longer taken
]

REFUSED = [
    pytest.param("工程", "open", [], "受理中的评审会须至少选择一个受理的评价标准", "at least one",
                 id="none-while-open"),
    pytest.param("工程", "open", [SENIOR, "no-such-standard"], "评价标准不存在：no-such-standard",
                 "No such standards: no-such-standard", id="unknown-id"),
    pytest.param("工程", "open", [SENIOR, HR],
                 "评价标准“湖南省专精特新中小企业人力资源管理专场高级经济师评价标准”（经济系列·副高）与本评审会的“工程”系列不符",
                 "Not of this session's series (工程)", id="wrong-series"),
    pytest.param("经济", "open", [ENGINEER], "（工程系列·中级）与本评审会的“经济”系列不符",
                 "“National engineering baseline: Engineer” (工程 series, 中级)", id="wrong-series-economics"),
]


@pytest.mark.parametrize(("series", "status", "chosen", "stored"), ACCEPTED)
@pytest.mark.parametrize("when", ["create", "update"])
def test_a_session_stores_the_standards_that_fit_it(world, when, series, status, chosen, stored):
    session_id = _save(world, series=series, status=status, standard_ids=chosen) if when == "create" else \
        _save(world, _save(world, standard_ids=[SENIOR]), series=series, status=status, standard_ids=chosen)
    assert _stored(world, session_id) == stored


@pytest.mark.parametrize(("series", "status", "chosen", "zh", "en"), REFUSED)
@pytest.mark.parametrize("when", ["create", "update"])
def test_standards_that_do_not_fit_the_session_are_refused_and_nothing_is_saved(world, when, series, status, chosen,
                                                                             zh, en):
    existing = _save(world, standard_ids=[SENIOR]) if when == "update" else None
    with pytest.raises(MissingData) as err:
        _save(world, existing, code="2026-XC-AI", name="改过的名称", series=series, status=status, standard_ids=chosen)
    assert zh in err.value.message("zh") and en in err.value.message("en")
    assert err.value.field == "standard_ids"  # the form shows it next to the standards
    with world.db.read() as conn:
        rows = conn.execute(select(_session.c.name, _session.c.standard_ids)
                            .where(_session.c.code == "2026-XC-AI")).all()
    assert rows == ([] if existing is None else [("2026年湘产专场·人工智能", [SENIOR])])


def test_changing_the_series_checks_the_kept_standards(world):
    """Without a new list the stored one is kept, and checked against the series being saved."""
    session_id = _save(world, standard_ids=[SENIOR, ENGINEER])
    with pytest.raises(MissingData, match="与本评审会的“经济”系列不符") as err:
        _save(world, session_id, series="经济")
    assert "湖南省专精特新中小企业先进制造专业高级工程师评价标准" in err.value.message("zh")
    _save(world, session_id, name="改名")  # same series: the kept list still fits
    assert _stored(world, session_id) == [SENIOR, ENGINEER]


# --------------------------------------------------------------------------------------------- cases


def _case_count(db: Database) -> int:
    with db.read() as conn:
        return len(conn.execute(select(_case.c.id)).all())


def test_the_cast_session_accepts_the_standards_its_cases_use(world):
    assert world.open("industry-session", level="副高")
    assert world.open("skill-bridging", level="中级")
    assert world.open("fallback-filing", level="副高")
    assert world.open("industry-session", level="正高")


def test_opening_a_case_refuses_a_standard_the_session_does_not_accept(world):
    before = _case_count(world.db)
    with pytest.raises(MissingData) as err:
        world.open("industry-session", level="副高", standard_id=HR)
    zh, en = err.value.message("zh"), err.value.message("en")
    assert zh.startswith("本评审会不受理该评价标准") and "（经济系列·副高）" in zh
    assert "2026年湘产专场·轨道交通装备" in zh
    assert en.startswith("This session does not accept that standard") and "(经济 series, 副高)" in en
    assert err.value.field == "standard_id"
    assert _case_count(world.db) == before  # refused before anything was written


def test_a_session_listing_no_standard_takes_no_application(world):
    with world.db.write() as conn:
        conn.execute(update(_session).where(_session.c.id == world.session_id).values(standard_ids=[]))
    with pytest.raises(MissingData, match="尚未列明受理的评价标准") as err:
        world.open("industry-session", level="副高")
    assert "lists no occupation standard yet" in err.value.message("en")


def test_a_case_without_a_session_is_not_concerned(world):
    case_id = engine.open_case(world.db, world.applicant, pipeline_id="industry-session", unit_org_id=world.employer,
                               authority_org_id=world.authority, series="经济", level="副高",
                               target_title="高级经济师（人力资源管理）", standard_id=HR)
    with world.db.session() as s:
        version = s.get(Case, case_id).version
    update_declaration(world.db, case_id, world.applicant, expected_version=version, standard_id=SENIOR)
    with world.db.session() as s:
        assert s.get(Case, case_id).standard_id == SENIOR


def test_the_level_is_still_checked_for_an_accepted_standard(world):
    with pytest.raises(MissingData, match="适用于中级职称"):
        world.open("industry-session", level="副高", standard_id=ENGINEER)


def test_changing_the_drafts_standard_refuses_one_the_session_does_not_accept(world):
    case_id = world.open("industry-session", level="副高")
    with world.db.session() as s:
        version = s.get(Case, case_id).version
    with pytest.raises(MissingData, match="本评审会不受理该评价标准") as err:
        update_declaration(world.db, case_id, world.applicant, expected_version=version, standard_id=HR)
    assert err.value.field == "standard_id"
    with world.db.session() as s:
        case = s.get(Case, case_id)
        assert (case.standard_id, case.version) == (SENIOR, version)
    # an accepted one of the right level is fine
    update_declaration(world.db, case_id, world.applicant, expected_version=version, level="中级",
                       standard_id=ENGINEER)


def test_a_draft_keeps_its_standard_when_the_session_stops_listing_it(world):
    """Only a new choice is checked: re-saving the draft with its own standard still works."""
    case_id = world.open("industry-session", level="副高")
    with world.db.write() as conn:
        conn.execute(update(_session).where(_session.c.id == world.session_id).values(standard_ids=[ENGINEER]))
    with world.db.session() as s:
        version = s.get(Case, case_id).version
    update_declaration(world.db, case_id, world.applicant, expected_version=version, standard_id=SENIOR,
                       target_title="高级工程师（轨道交通）")
    with world.db.session() as s:
        assert s.get(Case, case_id).target_title == "高级工程师（轨道交通）"


# --------------------------------------------------------------------------------------------- migration 0012


def _run(db: Database, direction: str, revision: str) -> None:
    cfg = migrate.alembic_config(db)
    with db.write() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, direction)(cfg, revision)


def test_the_migration_gives_existing_sessions_the_standards_of_their_series(any_db):
    _run(any_db, "downgrade", "0011")
    # review_session as revision 0011 left it (no standard_ids), with a seat referring to each session: the
    # column must be added in place, since SQLite cannot rebuild a table other rows refer to
    old = Table("review_session", MetaData(), *(Column(c.name, c.type) for c in _session.columns
                                                if c.name != "standard_ids"))
    now = datetime.now(UTC)
    with any_db.write() as conn:
        org = conn.execute(Organisation.__table__.insert().values(
            name="湖南省人力资源和社会保障厅", kind="authority", region="长沙", is_specialised=False,
            is_little_giant=False, has_hr_capacity=True, created_at=now).returning(Organisation.__table__.c.id)
        ).scalar_one()
        expert = conn.execute(User.__table__.insert().values(
            username="expert", display_name="专家", password_hash="", is_active=True, locale="zh_CN",
            created_at=now).returning(User.__table__.c.id)).scalar_one()
        for code, series in (("OLD-ENG", "工程"), ("OLD-ECO", "经济"), ("OLD-ANY", ""), ("OLD-LAW", "法律")):
            session_id = conn.execute(old.insert().values(
                code=code, name=code, name_en="", series=series, industry="", year=2025, pipeline_ids=[],
                authority_org_id=org, parameters={}, relaxations={}, status="open", created_at=now)
                .returning(old.c.id)).scalar_one()
            conn.execute(CommitteeSeat.__table__.insert().values(session_id=session_id, user_id=expert,
                                                                 seat_role="member", seated_at=now))
    migrate.upgrade(any_db)
    assert migrate.current_revision(any_db) == migrate.head_revision(any_db)
    with any_db.read() as conn:
        stored = dict(conn.execute(select(_session.c.code, _session.c.standard_ids)).all())
    assert stored == {"OLD-ENG": ENGINEERING, "OLD-ECO": [HR], "OLD-ANY": sorted([*ENGINEERING, HR]),
                      "OLD-LAW": []}  # no standard of its series is stored: it accepts none until one is listed
    _run(any_db, "downgrade", "0011")  # and back, in place as well, with the seats still there
    migrate.upgrade(any_db)


# ------------------------------------------------------------------------------------ the declaration's history


def test_changing_the_declaration_raises_the_version_and_leaves_an_event(world):
    """Two edits made from the same page must not both succeed; each change is in the case's chained history."""
    from workflow.models import CaseEvent
    from workflow.records.audit import verify_chains

    case_id = world.open("industry-session", level="副高")
    with world.db.session() as s:
        before = s.get(Case, case_id)
        version, title = before.version, before.target_title
    update_declaration(world.db, case_id, world.applicant, expected_version=version,
                       target_title="高级工程师（轨道交通）", specialty="轨道交通车辆")
    with pytest.raises(StaleCase):  # the second edit from the same page
        update_declaration(world.db, case_id, world.applicant, expected_version=version, target_title="别的职称")
    with world.db.session() as s:
        case = s.get(Case, case_id)
        assert (case.version, case.target_title) == (version + 1, "高级工程师（轨道交通）")
        event = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.seq == version + 1)).one()
    assert event.trigger == "update_declaration" and event.actor_id == world.applicant.user_id
    assert event.from_state == event.to_state == case.state
    assert event.payload["changed"]["target_title"] == {"from": title, "to": "高级工程师（轨道交通）"}
    assert "specialty" in event.payload["changed"] and "level" not in event.payload["changed"]
    assert verify_chains(world.db)[1] == []
    # saving the page unchanged writes nothing
    update_declaration(world.db, case_id, world.applicant, expected_version=version + 1,
                       target_title="高级工程师（轨道交通）", level="副高")
    with world.db.session() as s:
        assert s.get(Case, case_id).version == version + 1
