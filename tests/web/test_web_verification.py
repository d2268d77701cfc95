"""The unit verifies achievements and recognises technical documents in its review (rules.md §7.3 第六条):
through the pipeline's verification transition, stamped with who and when, audited, refused when stale."""

from __future__ import annotations

import copy
import re
from datetime import date

import pytest
from driver import advance
from sqlalchemy import select, update
from webhelpers import case_state, case_version, open_case

from seed.cast import READY_PROFILE
from workflow.eligibility import evaluate
from workflow.eligibility.dossier import BASIC_FIELDS, PROFILE_SECTIONS, load_profile, validate_profile
from workflow.eligibility.standards import load_standard_dir
from workflow.eligibility.verification import entries_digest
from workflow.engine import core as engine
from workflow.errors import StaleCase
from workflow.models import ApplicantProfile, CaseEvent

_profile = ApplicantProfile.__table__
READY_DAY = date(2026, 6, 1)


def _unverified_profile() -> dict:
    """READY_PROFILE with nothing verified yet: the applicant's own declaration."""
    body = copy.deepcopy(READY_PROFILE)
    for a in body["achievements"]:
        a["verified"] = False
    for w in body["works"]:
        w["unit_verified"] = False
    return body


def _set(cast, body: dict) -> None:
    with cast.db.write() as conn:
        conn.execute(update(_profile).where(_profile.c.user_id == cast.applicant.user_id).values(body=body))


def _stored(cast) -> dict:
    with cast.db.read() as conn:
        return conn.execute(select(_profile.c.body).where(_profile.c.user_id == cast.applicant.user_id)).scalar_one()


def _post(b, case_id: int, version: int, digest: str, achievements=(), works=(), **extra):
    data = {"version": str(version), "profile_digest": digest, **extra,
            "verify_achievements": [str(i) for i in achievements], "verify_works": [str(i) for i in works]}
    return b.post(f"/cases/{case_id}/actions/verify_materials", data=data)


def test_an_unverified_document_does_not_count_until_the_unit_recognises_it(cast, browser):
    _set(cast, _unverified_profile())
    case_id = open_case(cast)
    engine.fire(cast.db, case_id, "submit", cast.applicant)  # submitted: the unit 认定s in its review
    hunan = load_standard_dir()["hunan-sme-advanced-manufacturing-senior"]
    works_before = evaluate(_stored(cast), hunan, as_of=READY_DAY, stage="recheck").criterion("representative_works")
    assert works_before.verdict == "not_met" and "暂不计入" in works_before.explanation.zh

    hr = browser("unit_hr")
    page = hr.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="action-verify_materials"' in page and "转向架减振系统设计说明书" in page
    digest = re.search(r'name="profile_digest" value="([0-9a-f]+)"', page).group(1)
    response = _post(hr, case_id, case_version(cast.db, case_id), digest, achievements=[0, 1], works=[0])
    assert response.status_code == 303
    assert case_state(cast.db, case_id) == "unit_review"  # verification changes no state
    body = _stored(cast)
    assert [a["verified"] for a in body["achievements"]] == [True, True, False]
    assert body["works"][0]["unit_verified"] and body["works"][0]["verified_by"] == cast.unit.name
    assert body["works"][0]["verified_on"]
    works_after = evaluate(body, hunan, as_of=READY_DAY, stage="recheck").criterion("representative_works")
    assert works_after.verdict == "met"
    with cast.db.read() as conn:
        payload = conn.execute(select(CaseEvent.__table__.c.payload).where(CaseEvent.__table__.c.case_id == case_id)
                               .order_by(CaseEvent.__table__.c.seq.desc())).scalars().first()
    assert [t["zh"] for t in payload["verification"]["verified"]][-1].startswith("技术文档")

    # Unticking withdraws a verification, and is audited too.
    page = hr.get(f"/cases/{case_id}").get_data(as_text=True)
    digest = re.search(r'name="profile_digest" value="([0-9a-f]+)"', page).group(1)
    assert _post(hr, case_id, case_version(cast.db, case_id), digest, achievements=[0, 1]).status_code == 303
    assert not _stored(cast)["works"][0]["unit_verified"]


def test_a_profile_changed_meanwhile_is_not_verified_blind(cast, browser):
    _set(cast, _unverified_profile())
    case_id = open_case(cast)
    engine.fire(cast.db, case_id, "submit", cast.applicant)
    stale = entries_digest(_stored(cast))
    changed = _unverified_profile()
    changed["works"][0]["character_count"] = 4000
    _set(cast, changed)
    response = _post(browser("unit_hr"), case_id, case_version(cast.db, case_id), stale, works=[0])
    assert response.status_code == 409 and "申报人已修改个人信息" in response.get_data(as_text=True)
    assert not _stored(cast)["works"][0]["unit_verified"]
    with pytest.raises(StaleCase):  # the core refuses it too, whoever calls it
        engine.fire(cast.db, case_id, "verify_materials", cast.unit,
                    data={"verification": {"digest": stale, "achievements": [], "works": [0]}})


def test_only_the_cases_unit_verifies_and_only_in_its_review(cast, browser):
    _set(cast, _unverified_profile())
    case_id = open_case(cast)
    engine.fire(cast.db, case_id, "submit", cast.applicant)
    digest = entries_digest(_stored(cast))
    for who in ("zhang", "other_hr", "officer"):
        assert _post(browser(who), case_id, case_version(cast.db, case_id), digest, works=[0]).status_code == 403
    bad = _post(browser("unit_hr"), case_id, case_version(cast.db, case_id), digest, works=["x"])
    assert bad.status_code == 422
    advance(cast, case_id, "unit_notice")
    late = _post(browser("unit_hr"), case_id, case_version(cast.db, case_id), digest, works=[0])
    assert late.status_code == 409
    assert not _stored(cast)["works"][0]["unit_verified"]


def test_the_applicants_edit_of_a_verified_entry_clears_its_verification(cast, browser):
    body = _unverified_profile()
    body["works"][0].update(unit_verified=True, verified_by="王芳", verified_on="2026-05-01")
    _set(cast, body)
    page = browser("zhang").get("/applicant/profile").get_data(as_text=True)
    assert "王芳" not in page  # the applicant's form shows no verification flags
    stored = load_profile(cast.db, cast.applicant.user_id)
    same, problems = validate_profile(_as_form(stored), stored)
    assert not problems and same["works"][0]["unit_verified"] and same["works"][0]["verified_by"] == "王芳"
    edited_form = _as_form(stored)
    edited_form["works"][0]["character_count"] = "13000"
    edited, problems = validate_profile(edited_form, stored)
    assert not problems and not edited["works"][0]["unit_verified"] and not edited["works"][0]["verified_by"]


def _as_form(body: dict) -> dict:
    """A stored body as the form would post it back (strings, checkboxes as booleans)."""
    form: dict = {}
    for f in BASIC_FIELDS:
        value = body.get(f.key)
        form[f.key] = value if f.kind == "bool" else ("" if value is None else str(value))
    for section in PROFILE_SECTIONS:
        rows = []
        for entry in body.get(section.key) or []:
            row = {}
            for f in section.fields:
                value = entry.get(f.key)
                row[f.key] = bool(value) if f.kind == "bool" else ("" if value is None else str(value))
            rows.append(row)
        form[section.key] = rows
    return form
