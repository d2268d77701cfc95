"""A small standard cast — organisations, one person per role, a session with a committee — shared by the
tests and the benchmarks so both exercise the engine the same way."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from workflow.access.roles import Actor
from workflow.db import Database
from workflow.directory import actor_for, create_org, create_user
from workflow.engine import core as engine
from workflow.models import ApplicantProfile, Case, CommitteeSeat, ReviewSession
from workflow.pipeline.catalog import get_pipeline
from workflow.records import attachments

READY_PROFILE: dict = {
    "birth_date": "1984-05-12",
    "id_number": "430202198405120036",  # GB 11643-1999 check digit, born 1984-05-12 (株洲市荷塘区)
    "education": [{"level": "本科", "graduated_on": "2006-07-01", "major": "机械工程", "major_related": True}],
    "titles": [
        {"series": "工程", "specialty": "机械", "level": "助理", "name": "助理工程师", "obtained_on": "2007-09-01"},
        {"series": "工程", "specialty": "机械", "level": "中级", "name": "工程师", "obtained_on": "2011-09-01"},
        {"series": "工程", "specialty": "机械", "level": "副高", "name": "高级工程师", "obtained_on": "2017-09-01"},
    ],
    "skill_certificates": [{"occupation": "装配钳工", "level": "技师", "certificate_no": "S4302120100123",
                            "obtained_on": "2012-06-01"}],
    "work_history": [{"employer": "株洲智轨装备科技有限公司", "start": "2006-07-15", "end": None, "post": "技术中心",
                      "in_specialty": True}],
    "continuing_education": [{"year": 2023, "hours": 96}, {"year": 2024, "hours": 104}, {"year": 2025, "hours": 92}],
    "achievements": [
        {"kind": "patent_invention", "item": "6", "description": "一种轨道车辆转向架减振装置（发明专利）",
         "year": 2022, "rank": 1, "evidence": "专利证书", "verified": True},
        {"kind": "key_project", "item": "2", "description": "智轨电车牵引系统国产化项目技术负责人", "year": 2023,
         "level": "provincial", "appraised_by": "湖南省科学技术厅", "appraisal_level": "provincial",
         "evidence": "项目验收报告", "verified": True},
        {"kind": "economic_benefit", "description": "新工艺年节约成本 1,200 万元", "year": 2024,
         "evidence": "财务证明", "verified": True},
    ],
    "works": [
        {"kind": "technical_document", "title": "转向架减振系统设计说明书", "year": 2024, "character_count": 12000,
         "unit_verified": True},
        {"kind": "patent", "title": "一种轨道车辆转向架减振装置", "year": 2022, "character_count": None,
         "unit_verified": True},
    ],
    "recommendations": [
        {"expert_name": "罗建华", "expert_title": "正高级工程师", "expert_level": "正高", "series": "工程",
         "specialty": "机械"},
        {"expert_name": "邓志强", "expert_title": "正高级工程师", "expert_level": "正高", "series": "工程",
         "specialty": "机械"},
    ],
}
"""A profile that meets every seed engineering standard the cast applies for (tests drive cases with it)."""

OTHER_APPLICANT_ID_NUMBER = "43010219840512009X"
"""The second applicant's ID number: same birth date as READY_PROFILE's, a different person (check digit X)."""

STANDARD_FOR = {
    ("industry-session", "副高"): ("hunan-sme-advanced-manufacturing-senior", "高级工程师"),
    ("industry-session", "正高"): ("national-engineering-professor", "正高级工程师"),
    ("skill-bridging", "中级"): ("national-engineering-engineer", "工程师"),
    ("exceptional-senior", "副高"): ("hunan-sme-advanced-manufacturing-senior", "高级工程师"),
    ("fallback-filing", "副高"): ("national-engineering-senior", "高级工程师"),
}
"""Which seed standard (and title) a cast case uses for (pipeline, level)."""

CAST_STANDARDS = sorted({standard_id for standard_id, _title in STANDARD_FOR.values()})
"""The standards the cast's session accepts: the ones its cases use (``STANDARD_FOR``), all engineering."""


SAMPLE_PDF = (b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
              b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n")
"""The bytes of each seeded material file: a valid, empty PDF (demo and test cases need files, not content)."""


def upload_required_materials(db: Database, case_id: int, applicant: Actor, *, folder: Path | None = None,
                              now: datetime | None = None) -> list[int]:
    """Upload one file for every material the case's pipeline requires, as ``applicant``; return their ids.

    With ``folder`` (the app's upload folder) the files are written there as an upload would store them, so
    they can be downloaded; without, only the rows are recorded (tests that never download).
    """
    with db.read() as conn:
        case = conn.execute(Case.__table__.select().where(Case.__table__.c.id == case_id)).mappings().one()
    pipeline = get_pipeline(db, case["pipeline_id"], case["pipeline_version"])
    ids = []
    for material in pipeline.required_materials:
        stored_name = secrets.token_hex(16) + ".pdf"
        if folder is not None:
            target = Path(folder) / stored_name[:2] / stored_name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(SAMPLE_PDF)
        ids.append(attachments.add_attachment(
            db, case_id, applicant, category=material.code, original_name=f"{material.label.zh}.pdf",
            stored_name=stored_name, content_type="application/pdf", size=len(SAMPLE_PDF),
            sha256=hashlib.sha256(SAMPLE_PDF).hexdigest(), now=now))
    return ids


@dataclass
class World:
    """A small cast: one employer, one agency, a superior department, the authority, and a person per role."""

    db: Database
    employer: int
    other_employer: int
    agency: int
    superior: int
    authority: int
    session_id: int
    applicant: Actor
    other_applicant: Actor
    unit: Actor
    other_unit: Actor
    agency_reviewer: Actor
    superior_reviewer: Actor
    officer: Actor
    chair: Actor
    members: list[Actor]
    colleague: Actor
    outsider: Actor
    admin: Actor

    def open(self, pipeline_id: str = "industry-session", *, applicant: Actor | None = None,
             superior: bool = False, level: str | None = None, materials: bool = True, **kw) -> int:
        """Open a case for ``applicant`` (default: the main applicant) in ``pipeline_id``, against the seed
        standard that fits the pipeline and level (see STANDARD_FOR), with the required materials uploaded
        (``materials=False``: none, to test what happens without them)."""
        fallback = pipeline_id == "fallback-filing"
        level = level or ("中级" if pipeline_id == "skill-bridging" else "副高")
        standard_id, title = STANDARD_FOR.get((pipeline_id, level), (None, ""))
        kw.setdefault("standard_id", standard_id)
        who = applicant or self.applicant
        case_id = engine.open_case(
            self.db, who, pipeline_id=pipeline_id,
            unit_org_id=self.agency if fallback else self.employer, employer_org_id=self.employer,
            authority_org_id=self.authority, superior_org_ids=[self.superior] if superior else [],
            session_id=self.session_id, series="工程", specialty="轨道交通装备", level=level,
            target_title=title, **kw)
        if materials:
            upload_required_materials(self.db, case_id, who)
        return case_id


def build_world(db: Database) -> World:
    """Create the standard cast in ``db``."""
    with db.session(write=True) as s:
        authority = create_org(s, "湖南省人力资源和社会保障厅", "authority", region="长沙")
        superior = create_org(s, "株洲市工业和信息化局", "superior", region="株洲")
        employer = create_org(s, "株洲智轨装备科技有限公司", "employer", region="株洲", is_specialised=True,
                              superior_org_id=superior.id)
        other = create_org(s, "长沙精密传感有限公司", "employer", region="长沙", is_little_giant=True)
        agency = create_org(s, "长沙市人才服务中心", "agency", region="长沙")
        session = ReviewSession(code="2026-RAIL", name="2026年湘产专场·轨道交通装备", year=2026,
                                series="工程", industry="轨道交通装备", authority_org_id=authority.id,
                                pipeline_ids=["industry-session", "skill-bridging", "exceptional-senior",
                                              "fallback-filing"], standard_ids=CAST_STANDARDS)
        s.add(session)
        s.flush()

        def person(username: str, name: str, roles: list[str], org) -> int:
            return create_user(s, username, name, roles, org=org).id

        ids = {
            "applicant": person("zhang", "张伟", ["applicant"], employer),
            "other_applicant": person("li", "李娜", ["applicant"], other),
            "unit": person("unit_hr", "王芳", ["unit_reviewer"], employer),
            "other_unit": person("other_hr", "赵磊", ["unit_reviewer"], other),
            "agency_reviewer": person("agency", "陈静", ["agency_reviewer"], agency),
            "superior_reviewer": person("superior", "刘洋", ["superior_reviewer"], superior),
            "officer": person("officer", "杨帆", ["authority_officer"], authority),
            "chair": person("chair", "周建国", ["panel_chair", "panel_member"], None),
            "colleague": person("colleague", "吴强", [], employer),
            "outsider": person("outsider", "郑敏", [], None),
            "admin": person("admin", "系统管理员", ["administrator"], authority),
        }
        member_ids = [person(f"expert{i}", f"专家{i}", ["panel_member"], None) for i in range(1, 7)]
        s.add(CommitteeSeat(session_id=session.id, user_id=ids["chair"], seat_role="chair"))
        for uid in member_ids:
            s.add(CommitteeSeat(session_id=session.id, user_id=uid, seat_role="member"))
        s.flush()
        s.add(ApplicantProfile(user_id=ids["applicant"], body=READY_PROFILE))
        s.add(ApplicantProfile(user_id=ids["other_applicant"],
                               body={**READY_PROFILE, "id_number": OTHER_APPLICANT_ID_NUMBER}))
        s.flush()
        actors = {k: actor_for(s, v) for k, v in ids.items()}
        members = [actor_for(s, uid) for uid in member_ids]
        orgs = dict(employer=employer.id, other_employer=other.id, agency=agency.id, superior=superior.id,
                    authority=authority.id, session_id=session.id)
    return World(db=db, members=members, **orgs, **actors)


def read_world(db: Database) -> World:
    """The cast :func:`build_world` made in ``db``, read back (for tests that copy a prepared database)."""
    from sqlmodel import select

    from workflow.models import Organisation, User

    with db.session() as s:
        users = {u.username: u.id for u in s.exec(select(User))}
        orgs = {o.name: o.id for o in s.exec(select(Organisation))}
        session_id = s.exec(select(ReviewSession.id).order_by(ReviewSession.id)).first()
        member_ids = list(s.exec(select(CommitteeSeat.user_id).where(
            CommitteeSeat.session_id == session_id, CommitteeSeat.seat_role == "member")))
        actor = {name: actor_for(s, uid) for name, uid in users.items()}
        members = [actor_for(s, uid) for uid in member_ids]
    return World(db=db, employer=orgs["株洲智轨装备科技有限公司"], other_employer=orgs["长沙精密传感有限公司"],
                 agency=orgs["长沙市人才服务中心"], superior=orgs["株洲市工业和信息化局"],
                 authority=orgs["湖南省人力资源和社会保障厅"], session_id=session_id, applicant=actor["zhang"],
                 other_applicant=actor["li"], unit=actor["unit_hr"], other_unit=actor["other_hr"],
                 agency_reviewer=actor["agency"], superior_reviewer=actor["superior"], officer=actor["officer"],
                 chair=actor["chair"], members=members, colleague=actor["colleague"], outsider=actor["outsider"],
                 admin=actor["admin"])
