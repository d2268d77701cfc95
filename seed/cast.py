"""A small standard cast — organisations, one person per role, a session with a committee — shared by the
tests and the benchmarks so both exercise the engine the same way."""

from __future__ import annotations

from dataclasses import dataclass

from workflow import engine
from workflow.db import Database
from workflow.directory import actor_for, create_org, create_user
from workflow.models import CommitteeSeat, ReviewSession
from workflow.roles import Actor


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
             superior: bool = False, level: str = "副高", **kw) -> int:
        """Open a case for ``applicant`` (default: the main applicant) in ``pipeline_id``."""
        fallback = pipeline_id == "fallback-filing"
        return engine.open_case(
            self.db, applicant or self.applicant, pipeline_id=pipeline_id,
            unit_org_id=self.agency if fallback else self.employer, employer_org_id=self.employer,
            authority_org_id=self.authority, superior_org_ids=[self.superior] if superior else [],
            session_id=self.session_id, series="工程", specialty="轨道交通装备", level=level,
            target_title="高级工程师", **kw)


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
                                              "fallback-filing"])
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
        actors = {k: actor_for(s, v) for k, v in ids.items()}
        members = [actor_for(s, uid) for uid in member_ids]
        orgs = dict(employer=employer.id, other_employer=other.id, agency=agency.id, superior=superior.id,
                    authority=authority.id, session_id=session.id)
    return World(db=db, members=members, **orgs, **actors)
