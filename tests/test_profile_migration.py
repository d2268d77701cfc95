"""Migration 0011 rewrites stored applicant profiles from schema version 1 to 2, and back where nothing is lost.

Run on SQLite and PostgreSQL (``any_db``): the body is JSON text on one and JSONB on the other.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select

from workflow import migrate
from workflow.db import Database
from workflow.eligibility.profiles import parse_profile
from workflow.models import ApplicantProfile, User

_users = User.__table__
_profiles = ApplicantProfile.__table__

V1_BODY: dict[str, Any] = {
    "schema_version": 1,
    "birth_date": "1986-04-12",
    "retired": False,
    "education": [{"level": "本科", "graduated_on": "2008-07-01", "major": "机械工程", "major_related": True,
                   "school": "中南大学"}],
    "work_history": [
        {"employer": "株洲智轨", "start": "2008-07-15", "end": "2015-06-30", "post": "工艺员", "in_specialty": True},
        {"employer": "长沙某公司", "start": "2015-07-01", "end": None, "post": "", "in_specialty": False},
        {"employer": "更早的单位", "start": "2008-07-02", "end": "2008-07-10"},  # in_specialty left out: True
    ],
    "achievements": [{"kind": "patent_invention", "description": "一种转向架", "year": 2019, "evidence": "",
                      "verified": True}],
}
"""A version-1 body as the form of that time stored it."""


def _run(db: Database, direction: str, revision: str) -> None:
    cfg = migrate.alembic_config(db)
    with db.write() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, direction)(cfg, revision)


def _add_profile(db: Database, username: str, body: dict[str, Any]) -> int:
    with db.write() as conn:
        user_id = conn.execute(_users.insert().values(
            username=username, display_name=username, password_hash="", is_active=True, locale="zh_CN",
            created_at=datetime.now(UTC)).returning(_users.c.id)).scalar_one()
        conn.execute(_profiles.insert().values(user_id=user_id, body=body, updated_at=datetime.now(UTC)))
    return user_id


def _body(db: Database, user_id: int) -> dict[str, Any]:
    with db.read() as conn:
        return conn.execute(select(_profiles.c.body).where(_profiles.c.user_id == user_id)).scalar_one()


def test_upgrade_rewrites_version_1_bodies_with_industry_work_as_specialty_work(any_db):
    _run(any_db, "downgrade", "0010")
    old = _add_profile(any_db, "v1", V1_BODY)
    implicit = _add_profile(any_db, "implicit", {"birth_date": "1990-01-01"})  # no schema_version: version 1
    migrate.upgrade(any_db)
    assert migrate.current_revision(any_db) == migrate.head_revision(any_db)
    body = _body(any_db, old)
    assert body["schema_version"] == 2
    assert [w["in_industry"] for w in body["work_history"]] == [True, False, True]
    assert [w.get("in_specialty") for w in body["work_history"]] == [True, False, None]  # the rest untouched
    assert {k: v for k, v in body.items() if k not in ("schema_version", "work_history")} == {
        k: v for k, v in V1_BODY.items() if k not in ("schema_version", "work_history")}
    profile = parse_profile(body, check_future=False)  # the application reads the rewritten body as it is
    assert [w.industry_technical for w in profile.work_history] == [True, False, True]
    assert profile.achievements[0].verified and profile.achievements[0].count == 1
    assert _body(any_db, implicit) == {"birth_date": "1990-01-01", "work_history": [], "schema_version": 2}


def test_upgrade_leaves_version_2_bodies_alone(any_db):
    _run(any_db, "downgrade", "0010")
    body = {**V1_BODY, "schema_version": 2,
            "work_history": [{**V1_BODY["work_history"][0], "in_specialty": True, "in_industry": False}]}
    user_id = _add_profile(any_db, "already", body)
    migrate.upgrade(any_db)
    assert _body(any_db, user_id) == body


def test_downgrade_drops_empty_version_2_fields_and_upgrade_brings_them_back(any_db):
    stored = parse_profile(V1_BODY, check_future=False).model_dump(mode="json")  # every v2 field, empty
    user_id = _add_profile(any_db, "roundtrip", stored)
    _run(any_db, "downgrade", "0010")
    old = _body(any_db, user_id)
    assert old["schema_version"] == 1
    assert not {"experience_claims", "firm_roles", "firm_recognitions"} & set(old)
    assert not {"school_type", "technical_class", "degree"} & set(old["education"][0])
    assert not {"item", "level", "rank", "count", "appraised_by", "appraisal_level"} & set(old["achievements"][0])
    assert all("in_industry" not in w for w in old["work_history"])
    assert old["achievements"][0]["verified"] is True  # version-1 fields stay
    migrate.upgrade(any_db)
    again = parse_profile(_body(any_db, user_id), check_future=False).model_dump(mode="json")
    assert again == stored


@pytest.mark.parametrize(("change", "named"), [
    (lambda b: b["education"][0].update(school_type="technical_school", level=None, technical_class="高级工班"),
     "education[0].school_type"),
    (lambda b: b["education"][0].update(degree="硕士"), "education[0].degree"),
    (lambda b: b["work_history"][1].update(in_industry=True), "work_history[1].in_industry"),
    (lambda b: b["achievements"][0].update(rank=2), "achievements[0].rank"),
    (lambda b: b["achievements"][0].update(count=3), "achievements[0].count"),
    (lambda b: b.update(firm_roles=[{"employer": "株洲智轨", "role": "principal", "start": "2016-01-01",
                                     "end": None, "evidence": ""}]), "firm_roles"),
], ids=["technical school", "degree", "industry work", "rank", "count", "firm role"])
def test_downgrade_refuses_to_lose_version_2_data(any_db, change, named):
    stored = parse_profile(V1_BODY, check_future=False).model_dump(mode="json")
    change(stored)
    parse_profile(stored, today=date(2026, 1, 1))  # a body the application would store
    user_id = _add_profile(any_db, "keeps", stored)
    with pytest.raises(RuntimeError, match=r"profile \d+: .*" + named.replace("[", r"\[").replace("]", r"\]")):
        _run(any_db, "downgrade", "0010")
    assert migrate.current_revision(any_db) == migrate.head_revision(any_db)  # rolled back as a whole
    assert _body(any_db, user_id) == stored
