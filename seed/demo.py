"""The Hunan demo data set: organisations, people, two sessions with committees, and 38 cases at every stage.

The data lives in ``seed/demo_*.yaml`` and ``seed/demo_staff.csv``. Cases are never written directly: each is
opened with :func:`workflow.engine.core.open_case` and driven with :func:`workflow.engine.core.fire`, the ballot
functions and :func:`workflow.engine.timers.tick`, on a simulated clock that runs in the past, so every case has a
real, hash-chained event history and its running deadlines end after the moment of loading.

``load_demo`` is idempotent: on a database that already holds the demo it only returns the logins; on a
database holding anything else it refuses (:class:`DemoDataConflict`) rather than mix demo people into real
data.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from seed.cast import upload_required_materials
from workflow.access.identity import with_check_character
from workflow.access.roles import ROLES, Actor
from workflow.db import Database
from workflow.directory import actor_for, create_org, create_user
from workflow.eligibility.profiles import PROFILE_SCHEMA_VERSION, TechnicalClass, parse_profile
from workflow.eligibility.standards_store import sync_standards
from workflow.engine import core as engine
from workflow.engine import timers
from workflow.errors import WorkflowError
from workflow.models import ApplicantProfile, Case, CommitteeSeat, Organisation, ReviewSession, Timer, User, utcnow
from workflow.panel import ballots, prereview, sitting
from workflow.panel.ballot_keys import BallotShares
from workflow.pipeline.catalog import get_pipeline, latest_versions
from workflow.pipeline.schema import Pipeline
from workflow.records.notify import dispatch
from workflow.records.queries import superior_chain
from workflow.time.calendar import CHINA_TZ

DEMO_PASSWORD = "demo1234"
"""Every demo account's password (printed with the logins; never use the demo data in production)."""

MARKER_USER = "rst_admin"
"""The demo's administrator: its presence means the demo is loaded."""

_SIDE_TRIGGERS = {"withdraw", "return_for_correction", "file_objection", "decline_recommendation",
                  "reject_ineligible", "appeal", "revoke", "superior_return", "uphold_objection",
                  "dismiss_objection"}

DEFAULT_CORRECTIONS = ["补充近三年社会保险缴纳证明", "代表作须加盖单位公章"]

COMMENTS = {
    "accept": "材料齐全，符合受理条件，予以受理。",
    "confirm_eligibility": "经复核，申报人符合本专场申报条件。",
    "start_unit_notice": "经单位初审，材料真实完整，同意在单位内部公示。",
    "recommend": "经单位考核，该同志政治素质好、业务能力强、业绩突出，同意推荐。",
    "superior_approve": "经审核，同意报送。",
    "record_defence": "答辩表现良好，对专业问题回答准确，工作业绩真实。",
    "file_result": "评审程序合规，公示无异议，予以确认备案。",
    "issue_certificate": "",
}
"""Comments the demo's reviewers leave on common steps (so the timelines read like real ones)."""

ASSESSMENT = {"result": "优秀", "summary": "该同志岗位技能精湛，近三年年度考核均为优秀，能解决生产一线关键技术难题，"
                                       "同意推荐参加工程技术职称贯通评价。"}

TECHNICAL_CLASSES = frozenset(c.value for c in TechnicalClass)
"""The classes of a 技工院校 (中级工班, 高级工班, 预备技师班): an ``edu`` row naming one declares such a school."""

OPINION_TEXTS = ["业绩成果突出，代表作质量较高，同意推荐。", "专业技术水平达到申报级别要求，同意。",
                 "工作经历与申报专业相符，成果有一定创新性，同意。", "建议进一步补强理论总结，总体同意。"]


class DemoDataConflict(RuntimeError):
    """The database already holds data that is not the demo; loading the demo into it is refused."""


class DemoLoadError(RuntimeError):
    """A case of the demo could not be driven to its intended state (a definition changed, say)."""


@dataclass(frozen=True)
class DemoLogin:
    """One demo account as printed for people trying the demo."""

    username: str
    password: str
    role_label: str
    description: str


# --------------------------------------------------------------------------------------------- data files


def _text(name: str) -> str:
    return resources.files("seed").joinpath(name).read_text(encoding="utf-8")


@functools.cache
def _yaml(name: str) -> Any:
    # Parsed once per process; callers only read it. libyaml's parser when present (several times faster).
    return yaml.load(_text(name), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _staff() -> list[dict[str, str]]:
    return list(csv.DictReader(_text("demo_staff.csv").splitlines()))


def demo_logins() -> list[DemoLogin]:
    """The accounts worth trying, one or more per role, in the order a demo would visit them."""
    logins: list[DemoLogin] = []
    for person in _yaml("demo_applicants.yaml"):
        if person.get("login"):
            logins.append(DemoLogin(person["username"], DEMO_PASSWORD, ROLES["applicant"]["zh"], person["login"]))
    for row in _staff():
        if not row["demo_login"]:
            continue
        roles = [r for r in row["roles"].split(";") if r]
        label = ROLES[roles[0]]["zh"] if roles else ("单位职工" if row["org"] else "社会公众")
        logins.append(DemoLogin(row["username"], DEMO_PASSWORD, label, row["demo_login"]))
    return logins


@dataclass(frozen=True)
class DemoLoginRow:
    """One row of the printed login table: a role, the accounts that play it as (username, name), and what for."""

    role: str
    accounts: tuple[tuple[str, str], ...]
    description: str


_STAFF_ORDER = ("unit_reviewer", "superior_reviewer", "agency_reviewer", "authority_officer")
"""Staff roles in the order a case meets them; the committees follow, then the administrator and people
without a role."""


def demo_login_table() -> list[DemoLoginRow]:
    """Every account a newcomer needs to take a case from submission to a certificate, grouped by role.

    Unlike :func:`demo_logins` (the accounts with a story of their own), this names every seated committee
    member: a case needs three reviewers and a vote of two-thirds of the members present, so trying the demo
    means signing in as most of the committee.
    """
    staff = _staff()
    names = {row["username"]: row["display_name"] for row in staff}
    rows = [DemoLoginRow(ROLES["applicant"]["zh"], ((p["username"], p["name"]),), p["login"])
            for p in _yaml("demo_applicants.yaml") if p.get("login")]
    sessions = _yaml("demo_sessions.yaml")
    seated = {u for s in sessions for u in (s["chair"], *s["members"])}

    def rank(row: dict[str, str]) -> int:
        first = next((r for r in row["roles"].split(";") if r), "")
        return _STAFF_ORDER.index(first) if first in _STAFF_ORDER else len(_STAFF_ORDER)

    others = [row for row in staff if row["demo_login"] and row["username"] not in seated]
    before = [row for row in others if rank(row) < len(_STAFF_ORDER)]
    after = [row for row in others if rank(row) == len(_STAFF_ORDER)]

    def staff_row(row: dict[str, str]) -> DemoLoginRow:
        roles = [r for r in row["roles"].split(";") if r]
        label = ROLES[roles[0]]["zh"] if roles else ("单位职工" if row["org"] else "社会公众")
        return DemoLoginRow(label, ((row["username"], row["display_name"]),), row["demo_login"])

    rows += [staff_row(row) for row in sorted(before, key=rank)]
    for s in sessions:
        committee = f"{s['industry']}专场"
        absent = [u for u in s["members"] if u in s.get("absent", [])]
        present = [u for u in s["members"] if u not in absent]
        size, attending = 1 + len(s["members"]), 1 + len(present)
        rows.append(DemoLoginRow(
            ROLES["panel_chair"]["zh"], ((s["chair"], names[s["chair"]]),),
            f"{committee}（委员 {size} 人，已登记出席 {attending} 人）：抽取评议组、提交表决、开启与结束投票；"
            "本人也投票"))
        rows.append(DemoLoginRow(
            ROLES["panel_member"]["zh"], tuple((u, names[u]) for u in present),
            f"{committee}委员，已登记出席：抽入评议组的提交评议意见；每人无记名投票一次"))
        if absent:
            rows.append(DemoLoginRow(ROLES["panel_member"]["zh"], tuple((u, names[u]) for u in absent),
                                     f"{committee}委员，已登记缺席：不能投票"))
    rows += [staff_row(row) for row in after]
    return rows


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


LOGIN_TABLE_SEPARATOR = " │ "
"""Between the columns of the printed login table (role, accounts, what for)."""


def format_login_table(rows: list[DemoLoginRow], per_line: int = 3) -> list[str]:
    """The login table as terminal lines: role │ accounts as ``username（姓名）`` │ what they do.

    A role's several accounts wrap ``per_line`` to a line; continuation lines leave the description empty,
    and a row of the same role as the one above leaves the role empty. The password is the same for everyone
    and printed once, in the heading.
    """
    cells: list[tuple[str, str, str]] = [("角色", "账号（姓名）", "用途")]
    previous_role = None
    for row in rows:
        accounts = [f"{username}（{name}）" for username, name in row.accounts]
        # The role is said once per group, in its column: not again at the start of the description.
        what = row.description.removeprefix(f"{row.role}：")
        for i in range(0, len(accounts), per_line):
            first = i == 0
            cells.append((row.role if first and row.role != previous_role else "",
                          " ".join(accounts[i:i + per_line]), what if first else ""))
        previous_role = row.role
    role_w = max(display_width(c[0]) for c in cells)
    account_w = max(display_width(c[1]) for c in cells)
    lines = [f"演示账号（密码均为 {DEMO_PASSWORD}）/ demo logins (password for all: {DEMO_PASSWORD})"]
    for n, (role, accounts, what) in enumerate(cells):
        lines.append(LOGIN_TABLE_SEPARATOR.join((_pad(role, role_w), _pad(accounts, account_w), what)).rstrip())
        if n == 0:
            lines.append("─" * (role_w + 1) + "┼" + "─" * (account_w + 2) + "┼" + "─" * 6)
    return lines


def demo_is_loaded(db: Database) -> bool:
    """True when the demo's marker account exists."""
    with db.read() as conn:
        return conn.execute(select(User.__table__.c.id)
                            .where(User.__table__.c.username == MARKER_USER)).scalar() is not None


def load_demo(db: Database, existing: bool = False, now: datetime | None = None,
              shares_dir: Path | None = None, uploads_dir: Path | None = None) -> list[DemoLogin]:
    """Load the demo into a migrated database with the pipelines stored; return the logins.

    Idempotent: when the demo is already there nothing is written. ``existing=True`` only returns the
    logins (and refuses if the demo is not loaded). A database with other data is refused.

    ``shares_dir``: where to write each demo committee's two ballot-key share files, so that whoever tries
    the demo can play both the chair and the officer and count the ballot the demo leaves open. In
    production the shares go to two people and never to a file on the server (docs/ballot-secrecy.md).

    ``uploads_dir``: the app's upload folder. Every demo case gets a file for each material its pipeline
    requires (it could not have been submitted otherwise); with the folder given, the files are written there
    and can be downloaded, else only their rows are recorded.
    """
    if demo_is_loaded(db):
        return demo_logins()
    if existing:
        raise DemoDataConflict("演示数据尚未加载 / the demo data is not loaded")
    with db.read() as conn:
        orgs = conn.execute(select(func.count()).select_from(Organisation.__table__)).scalar_one()
        users = conn.execute(select(func.count()).select_from(User.__table__)).scalar_one()
    if orgs or users:
        raise DemoDataConflict(f"数据库中已有 {orgs} 个单位、{users} 个用户，演示数据只能加载到空数据库 / the database "
                               f"already holds {orgs} organisations and {users} users; load the demo into an empty "
                               "database (e.g. `titlereview demo --fresh`)")
    missing = {"industry-session", "skill-bridging", "exceptional-senior", "fallback-filing"} - set(
        latest_versions(db))
    if missing:
        raise DemoLoadError(f"pipelines not stored: {', '.join(sorted(missing))} (run `titlereview init-db` first)")
    # Cases are judged against occupation standards: store the shipped ones (only new versions are added).
    sync_standards(db)
    loader = _Loader(db, now or utcnow(), uploads_dir)
    loader.run()
    if shares_dir is not None:
        _write_shares(loader, shares_dir)
    return demo_logins()


def _write_shares(loader: _Loader, directory: Path) -> None:
    """Each demo session's key shares as the files the chair and the officer would download (demo only)."""
    directory.mkdir(parents=True, exist_ok=True)
    for code, info in loader.sessions.items():
        shares = loader.key_shares.get(info["id"])
        if shares is None:
            continue
        for role, label, text in (("chair", "A", shares.chair), ("officer", "B", shares.officer)):
            path = directory / f"{code.lower()}-session-{info['id']}-share-{label}-{role}.txt"
            path.write_text(text + "\n", encoding="utf-8")
            path.chmod(0o600)


# --------------------------------------------------------------------------------------------- profiles


def _profile_body(person: dict[str, Any], today: date) -> dict[str, Any]:
    """Expand the YAML shorthand (described at the top of demo_applicants.yaml) into an ApplicantProfile body,
    validated by workflow.eligibility.profiles: a typo in a field name or value stops the loader with the field's
    path."""

    def d(value: Any) -> str | None:
        """A YAML date (or None) as ISO text."""
        return None if value is None else (value.isoformat() if isinstance(value, date) else str(value))

    def more(row: list[Any], at: int) -> dict[str, Any]:
        """The optional mapping of further facts at position ``at`` of a shorthand row (empty when absent)."""
        extra = row[at] if len(row) > at else {}
        if not isinstance(extra, dict):
            raise DemoLoadError(f"{person['username']}: {row!r}: element {at + 1} must be a mapping of fields")
        return dict(extra)

    def education(e: list[Any]) -> dict[str, Any]:
        # A 技工院校 graduate is declared by the class (中级工班, 高级工班, 预备技师班) in place of the 学历.
        entry: dict[str, Any] = {"school": e[1], "major": e[2], "graduated_on": d(e[3]), "major_related": bool(e[4])}
        if e[0] in TECHNICAL_CLASSES:
            entry.update(school_type="technical_school", technical_class=e[0])
        else:
            entry["level"] = e[0]
        return {**entry, **more(e, 5)}

    def work(kind: str, title: str, year: int, extra: dict[str, Any]) -> dict[str, Any]:
        # A document counts as a 代表作 (Hunan 第六条) only once the unit verified it and it is long enough, so
        # rows say so: {chars: 15000, verified: true}. A bare technical_document row is a verified 12,000 chars.
        chars = extra.pop("chars", 12000 if kind == "technical_document" else None)
        verified = extra.pop("verified", kind == "technical_document")
        if extra:
            raise DemoLoadError(f"{person['username']}: works {title}: unknown fields {sorted(extra)}")
        return {"kind": kind, "title": title, "year": int(year), "character_count": chars, "unit_verified": verified,
                "evidence": f"代表作全文（{title[:12]}）"}

    body = {
        "schema_version": PROFILE_SCHEMA_VERSION,  # written in the current shape (else read as v1 and upgraded)
        "birth_date": d(person["birth"]),
        "id_number": person.get("id_number") or demo_id_number(person["username"], d(person["birth"])),
        "education": [education(e) for e in person.get("edu", [])],
        "titles": [{"name": t[0], "series": t[1], "specialty": t[2], "level": t[3], "obtained_on": d(t[4]),
                    "certificate_no": f"HNZC{d(t[4])[:4]}{abs(hash_seed(person['username'])) % 10**6:06d}"}
                   for t in person.get("title", [])],
        "skill_certificates": [{"occupation": k[0], "level": k[1], "certificate_no": str(k[2]),
                                "obtained_on": d(k[3]), "issuer": "湖南省职业技能鉴定中心"}
                               for k in person.get("skill", [])],
        "work_history": [{"employer": w[0], "post": w[1], "start": d(w[2]), "end": d(w[3]), "in_specialty": True,
                          **more(w, 4)} for w in person.get("work", [])],
        # 90+ hours in each of the last four complete years: the standards check the three years before a case's
        # submission (人社部令第25号), and a case submitted last year (loaded early in January) checks one earlier.
        "continuing_education": [{"year": today.year - k, "hours": 90 + hash_seed(f"{person['username']}{k}") % 24}
                                 for k in (4, 3, 2, 1)],
        "achievements": [{"kind": a[0], "description": a[1], "year": int(a[2]),
                          "evidence": f"证明材料（{a[1][:12]}）扫描件", "verified": True, **more(a, 3)}
                         for a in person.get("ach", [])],
        "experience_claims": [{"item": c[0], "description": c[1], "evidence": f"佐证材料（{c[1][:12]}）"}
                              for c in person.get("claims", [])],
        "firm_roles": [{"employer": r[0], "role": r[1], "start": d(r[2]), "end": d(r[3]),
                        "evidence": f"任职文件（{r[0]}）"} for r in person.get("firm_roles", [])],
        "firm_recognitions": [{"employer": r[0], "kind": r[1], "year": int(r[2]),
                               "evidence": f"认定文件（{r[0]}，{r[2]} 年）"}
                              for r in person.get("firm_recognitions", [])],
        "works": [work(w[0], w[1], w[2], more(w, 3)) for w in person.get("works", [])],
        "recommendations": [{"expert_name": r[0], "expert_title": r[1], "expert_level": r[2], "series": r[3],
                             "specialty": r[4], "employer": r[5]} for r in person.get("recommend", [])],
    }
    return parse_profile(body, today=today).model_dump(mode="json")


DEMO_REGION_CODES = ("430102", "430104", "430111", "430121", "430202", "430203", "430211", "430302", "430304")
"""Hunan address codes (长沙、株洲、湘潭 districts) the demo's ID numbers start with."""


def demo_id_number(username: str, birth: str) -> str:
    """A valid-looking 居民身份证号码 for a demo person: a Hunan region, their birth date (ISO ``birth``), a
    sequence from their username and the GB 11643-1999 check character — stable across loads."""
    seed = hash_seed(f"id:{username}")
    region = DEMO_REGION_CODES[seed % len(DEMO_REGION_CODES)]
    return with_check_character(f"{region}{birth.replace('-', '')}{seed // 7 % 1000:03d}")


def hash_seed(text: str) -> int:
    """A stable number from a text (Python's hash() is salted per process)."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


# --------------------------------------------------------------------------------------------- the loader


class _Loader:
    """Creates everything in order: organisations, people, sessions, then drives each case."""

    def __init__(self, db: Database, now: datetime, uploads_dir: Path | None = None) -> None:
        self.db = db
        self.now = now
        self.uploads_dir = uploads_dir
        self.today = now.astimezone(CHINA_TZ).date()
        self.orgs: dict[str, int] = {}
        self.actors: dict[str, Actor] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.staff_by_org_role: dict[tuple[int | None, str], str] = {}
        self.key_shares: dict[int, BallotShares] = {}

    def run(self) -> None:
        """Load everything (a few seconds: one password hash, ~500 engine transactions)."""
        from workflow.access.passwords import hash_password

        password_hash = hash_password(DEMO_PASSWORD)  # Argon2 is slow on purpose: hash once, share the result
        people = _yaml("demo_applicants.yaml")
        with self.db.session(write=True) as s:
            self._orgs(s)
            self._people(s, people, password_hash)
            self._sessions(s)
        for info in self.sessions.values():
            # The sitting opened when applications opened: every demo vote happens while it is in session.
            opened = sitting.open_sitting(self.db, info["id"], self.actors[info["chair"]],
                                          now=self.now - timedelta(days=85))
            # The chair's and the officer's key shares, used to count the demo's boxes and then forgotten with
            # the loader: a ballot the demo leaves open cannot be counted later (docs/ballot-secrecy.md).
            if opened.shares is not None:
                self.key_shares[info["id"]] = BallotShares(opened.shares.chair, opened.shares.officer)
            for username in info["present"]:
                ballots.record_attendance(self.db, info["id"], self.actors[username].user_id)
        n = 0
        for person in people:
            for spec in person.get("cases", []):
                _CaseRun(self, person, spec, n).run()
                n += 1
        dispatch(self.db)

    def _orgs(self, s) -> None:
        for row in _yaml("demo_orgs.yaml"):
            org = create_org(s, row["name"], row["kind"], region=row.get("region", ""),
                             credit_code=row.get("credit_code"), is_specialised=bool(row.get("specialised")),
                             is_little_giant=bool(row.get("little_giant")),
                             has_hr_capacity=row.get("hr_capacity", True),
                             superior_org_id=self.orgs[row["superior"]] if row.get("superior") else None)
            self.orgs[row["name"]] = org.id

    def _people(self, s, people: list[dict[str, Any]], password_hash: str) -> None:
        created: list[tuple[str, int]] = []
        for row in _staff():
            roles = [r for r in row["roles"].split(";") if r]
            org_id = self.orgs[row["org"]] if row["org"] else None
            user = create_user(s, row["username"], row["display_name"], roles,
                               org=s.get(Organisation, org_id) if org_id else None)
            user.password_hash = password_hash
            created.append((row["username"], user.id))
            for role in roles:
                self.staff_by_org_role.setdefault((org_id, role), row["username"])
        for person in people:
            org_id = self.orgs[person["org"]] if person.get("org") else None
            user = create_user(s, person["username"], person["name"], ["applicant"],
                               org=s.get(Organisation, org_id) if org_id else None,
                               phone=f"139{hash_seed(person['username']) % 10**8:08d}")
            user.password_hash = password_hash
            s.add(ApplicantProfile(user_id=user.id, body=_profile_body(person, self.today), updated_at=self.now))
            created.append((person["username"], user.id))
        s.flush()
        for username, user_id in created:
            self.actors[username] = actor_for(s, user_id)

    def _sessions(self, s) -> None:
        year = self.today.year
        for row in _yaml("demo_sessions.yaml"):
            code = row["code"].format(year=year)
            session = ReviewSession(
                code=code, name=row["name"].format(year=year), name_en=row["name_en"].format(year=year),
                series=row["series"], industry=row["industry"], year=year, pipeline_ids=row["pipelines"],
                standard_ids=row["standards"],
                authority_org_id=self.orgs[row["authority"]],
                opens_on=self.today + timedelta(days=row["opens_days"]),
                closes_on=self.today + timedelta(days=row["closes_days"]),
                sitting_on=self.today + timedelta(days=row["sitting_days"]), relaxations=row.get("relaxations", {}))
            s.add(session)
            s.flush()
            s.add(CommitteeSeat(session_id=session.id, user_id=self.actors[row["chair"]].user_id, seat_role="chair"))
            for username in row["members"]:
                s.add(CommitteeSeat(session_id=session.id, user_id=self.actors[username].user_id, seat_role="member"))
            seated = [row["chair"], *row["members"]]
            short = row["code"].split("-")[-1]
            self.sessions[short] = {"id": session.id, "authority": session.authority_org_id, "chair": row["chair"],
                                    "members": row["members"],
                                    "present": [u for u in seated if u not in row.get("absent", [])]}


class _CaseRun:
    """Drives one case from its draft to the state its spec asks for, on a simulated clock."""

    def __init__(self, loader: _Loader, person: dict[str, Any], spec: dict[str, Any], index: int) -> None:
        self.loader = loader
        self.db = loader.db
        self.person = person
        self.spec = spec
        self.index = index
        self.session = loader.sessions[spec["session"]]
        self.applicant = loader.actors[person["username"]]
        local = (loader.now - timedelta(days=spec.get("start_days_ago", 40))).astimezone(CHINA_TZ)
        self.clock = datetime.combine(local.date(), time(9, 10 + index % 40), tzinfo=CHINA_TZ)
        self.limit = loader.now - timedelta(minutes=5)
        self.step_no = 0
        self.case_id: int | None = None
        self.pipeline: Pipeline | None = None

    # ------------------------------------------------------------------ clock

    def _advance(self) -> datetime:
        """The next working moment: a few hours later, within office hours (09:00–18:00 Beijing time)."""
        self.step_no += 1
        minute = (self.index * 11 + self.step_no * 5) % 60
        local = self.clock + timedelta(hours=2 + (self.index + self.step_no) % 4, minutes=(self.index * 7) % 50)
        if local.hour >= 18 or local.date() != self.clock.date():
            local = datetime.combine(self.clock.date() + timedelta(days=1), time(9, minute), tzinfo=CHINA_TZ)
        elif local.hour < 9:
            local = datetime.combine(local.date(), time(9, minute), tzinfo=CHINA_TZ)
        self.clock = local
        return self._capped()

    def _capped(self) -> datetime:
        """The clock, never past the moment of loading, in UTC (the core stores and hashes UTC instants)."""
        at = min(self.clock, self.limit)
        self.clock = at
        return at.astimezone(UTC)

    # ------------------------------------------------------------------ case state

    def _case(self) -> dict[str, Any]:
        with self.db.read() as conn:
            return dict(conn.execute(select(Case.__table__).where(Case.__table__.c.id == self.case_id))
                        .mappings().one())

    def _state(self) -> str:
        return self._case()["state"]

    def _path(self, goal: str) -> list[str]:
        """Shortest trigger sequence from the current state to ``goal`` avoiding side paths."""
        p = self.pipeline
        assert p is not None
        start = self._state()
        path = p.shortest_path(start, goal, avoid=frozenset(_SIDE_TRIGGERS))
        if path is None:
            raise DemoLoadError(f"{self.person['username']}: no path from {start} to {goal} in {p.id}")
        return path

    # ------------------------------------------------------------------ who acts

    def _actor(self, role: str) -> Actor:
        loader = self.loader
        case = self._case()
        if role == "applicant":
            return self.applicant
        if role in ("unit_reviewer", "agency_reviewer"):
            return loader.actors[loader.staff_by_org_role[(case["unit_org_id"], role)]]
        if role == "superior_reviewer":
            level = (case["data"] or {}).get("superior_level", 0)
            return loader.actors[loader.staff_by_org_role[(case["superior_org_ids"][level], role)]]
        if role == "authority_officer":
            return loader.actors[loader.staff_by_org_role[(case["authority_org_id"], role)]]
        if role == "panel_chair":
            return loader.actors[self.session["chair"]]
        if role in ("unit_member", "public"):
            return loader.actors[self.spec.get("objector") or ("wangjun" if role == "unit_member" else "zhengmin")]
        raise DemoLoadError(f"no demo actor for role {role}")

    def _data(self, trigger: str, requires: list[str]) -> tuple[str, dict[str, Any]]:
        data: dict[str, Any] = {}
        for req in requires:
            if req == "corrections":
                data["corrections"] = list(self.spec.get("corrections") or DEFAULT_CORRECTIONS)
            elif req == "assessment":
                data["assessment"] = dict(ASSESSMENT)
            elif req == "reason":
                if trigger == "file_objection":
                    data["reason"] = self.spec.get("objection") or "对申报材料真实性有异议，请核实"
                elif trigger == "withdraw":
                    data["reason"] = self.spec.get("reason") or "因工作调整，本年度暂缓申报"
                else:
                    data["reason"] = self.spec.get("reason") or "经核查，依规处理"
        comment = COMMENTS.get(trigger, "")
        if "comment" in requires and not comment:
            comment = "同意"
        return comment, data

    # ------------------------------------------------------------------ steps

    def _step(self, trigger: str) -> None:
        """Fire one step; a refusal names the demo person and step, so a data problem is easy to find."""
        try:
            self._fire(trigger)
        except WorkflowError as err:
            raise DemoLoadError(f"{self.person['username']} ({self.spec['pipeline']}) {trigger}: "
                                f"{err.message_zh}") from err

    def _fire(self, trigger: str) -> None:
        p = self.pipeline
        assert p is not None
        state = self._state()
        cands = p.by_trigger_source.get((trigger, state))
        if not cands:
            raise DemoLoadError(f"{self.person['username']}: {trigger} is not possible from {state}")
        roles = cands[0].roles
        if roles == ["system"]:
            self._tick(trigger)
            return
        if trigger == "record_defence":
            self._defence()
            return
        self._prepare(trigger)
        comment, data = self._data(trigger, list(cands[0].requires))
        secrets = {"ballot_shares": self.loader.key_shares[self.session["id"]]} if trigger == "close_ballot" else None
        engine.fire(self.db, self.case_id, trigger, self._actor(roles[0]), comment=comment, data=data,
                    now=self._advance(), secrets=secrets)

    def _tick(self, trigger: str) -> None:
        """Let time pass until the deadline that fires ``trigger`` falls due, then run the timer tick."""
        t = Timer.__table__
        with self.db.read() as conn:
            due = conn.execute(select(t.c.due_at).where(t.c.case_id == self.case_id, t.c.trigger == trigger,
                                                        t.c.status == "pending")).scalar()
        if due is None:
            raise DemoLoadError(f"{self.person['username']}: no pending deadline fires {trigger}")
        from workflow.models import as_utc

        at = max(self.clock, as_utc(due).astimezone(CHINA_TZ)) + timedelta(minutes=3)
        if at > self.limit:
            raise DemoLoadError(f"{self.person['username']}: {trigger} would fire after the moment of loading; "
                                "start the case earlier (start_days_ago)")
        self.clock = at
        report = timers.tick(self.db, now=at.astimezone(UTC))
        if (self.case_id, trigger) not in report.fired:
            raise DemoLoadError(f"{self.person['username']}: the tick did not fire {trigger}: {report}")

    def _prepare(self, trigger: str, opinions: int | None = None) -> None:
        """Do what a step's guards need first: opinions before pre-review ends, the vote before the count."""
        if trigger == "complete_pre_review":
            self._opinions(3 if opinions is None else opinions)
        if trigger == "close_ballot":
            self._open_ballot()
            self._votes(None, passing=self.spec.get("ballot") != "fail")

    def _opinions(self, count: int) -> None:
        """Draw the review group (recorded, with a seed derived from the case) and leave ``count`` opinions."""
        chair = self.loader.actors[self.session["chair"]]
        group = prereview.assigned_reviewers(self.db, self.case_id) or prereview.assign_reviewers(
            self.db, self.case_id, chair, seed=hash_seed(f"group-{self.case_id}"), now=self._capped())
        by_id = {a.user_id: a for a in self.loader.actors.values()}
        for i, user_id in enumerate(group[:count]):
            member = by_id[user_id]
            with self.db.read() as conn:
                if queries_member_opined(conn, self.case_id, user_id):
                    continue
            score = 78 + (hash_seed(f"{self.case_id}-{i}") % 17)
            ballots.submit_opinion(self.db, self.case_id, member, "yes" if score >= 80 else "abstain",
                                   {"业绩成果": score, "专业能力": score - 3, "代表作": score - 5},
                                   OPINION_TEXTS[(self.index + i) % len(OPINION_TEXTS)])

    def _defence(self) -> None:
        """Schedule the defence interview and record it; recording moves the case on to the vote."""
        chair = self.loader.actors[self.session["chair"]]
        prereview.schedule_defence(self.db, self.case_id, chair, scheduled_at=self._capped() + timedelta(days=2),
                                   place="湖南省人才发展大厦三楼答辩室", now=self._advance())
        prereview.record_defence(self.db, self.case_id, chair, result="pass",
                                 record="申报人陈述业绩10分钟，专家提问4个，回答准确，专业基础扎实，答辩合格。",
                                 now=self._advance())

    def _open_ballot(self) -> None:
        chair = self.loader.actors[self.session["chair"]]
        if engine.may_fire(self.db, self.case_id, "open_ballot", chair):
            engine.fire(self.db, self.case_id, "open_ballot", chair, now=self._advance())

    def _votes(self, count: int | None, passing: bool) -> None:
        present = self.session["present"]
        voters = present if count is None else present[:count]
        for i, username in enumerate(voters):
            if passing:
                choice = "abstain" if i == len(present) - 1 else "yes"
            else:
                choice = "yes" if i < 2 else ("abstain" if i == len(present) - 1 else "no")
            ballots.cast_vote(self.db, self.case_id, self.loader.actors[username], choice)

    # ------------------------------------------------------------------ the run

    def run(self) -> None:
        """Open the case and drive it to its goal, then through its side steps."""
        spec = self.spec
        pipeline_id = spec["pipeline"]
        version = latest_versions(self.db)[pipeline_id]
        self.pipeline = get_pipeline(self.db, pipeline_id, version)
        employer = self.loader.orgs[self.person["org"]] if self.person.get("org") else None
        data: dict[str, Any] = {}
        superiors: list[int] = []
        if self.pipeline.channel == "agency":
            unit = self.loader.orgs[spec["agency"]]
            data["account_evidence"] = dict(spec["evidence"])
        else:
            unit = employer
            with self.db.read() as conn:
                superiors = superior_chain(conn, employer)
        self.case_id = engine.open_case(
            self.db, self.applicant, pipeline_id=pipeline_id, unit_org_id=unit,
            authority_org_id=self.session["authority"], employer_org_id=employer, superior_org_ids=superiors,
            session_id=self.session["id"], series=spec.get("series", "工程"), specialty=spec["specialty"],
            level=spec["level"], target_title=spec["title"], standard_id=spec["standard"], data=data,
            now=self._capped())
        # What the pipeline requires, uploaded as an applicant would before submitting (a file each).
        upload_required_materials(self.db, self.case_id, self.applicant, folder=self.loader.uploads_dir,
                                  now=self._capped())
        goal = spec["goal"]
        then = list(spec.get("then", []))
        if spec.get("ballot") == "fail":
            then.append("close_ballot")
        recent = spec.get("recent_days")
        while self._state() != goal:
            path = self._path(goal)
            if recent is not None and len(path) + len(then) == 1:
                self._jump(recent)
            self._step(path[0])
        if goal == "pre_review" and "opinions" in spec:
            self._opinions(spec["opinions"])
        if goal == "committee_vote" and spec.get("ballot") == "open":
            if recent is not None:
                self._jump(recent)
            self._open_ballot()
            self._votes(spec.get("votes", 3), passing=True)
        for i, trigger in enumerate(then):
            if recent is not None and i == len(then) - 1:
                self._jump(recent)
            self._step(trigger)
        expected = goal if not then else None
        final = self._state()
        if expected is not None and final != expected:
            raise DemoLoadError(f"{self.person['username']}: ended in {final}, expected {expected}")

    def _jump(self, days_ago: float) -> None:
        """Move the clock forward so the next step happens ``days_ago`` days before loading (never backwards)."""
        target = (self.loader.now - timedelta(days=days_ago)).astimezone(CHINA_TZ) - timedelta(hours=3)
        if target > self.clock:
            self.clock = target


def queries_member_opined(conn, case_id: int, user_id: int) -> bool:
    """True when the member already gave an opinion on the case (any round)."""
    from workflow.models import Opinion

    o = Opinion.__table__
    return conn.execute(select(o.c.id).where(o.c.case_id == case_id, o.c.reviewer_id == user_id)).scalar() is not None
