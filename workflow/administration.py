"""Administrators' writes: accounts and roles, organisations, review sessions and committee seats.

Every function takes the acting :class:`Actor` and refuses unless it holds ``administrator``; inputs are
checked here (not only in a form) so the CLI, the web and tests get the same clear refusals.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select as orm_select

from workflow.access.passwords import hash_password, verify_password
from workflow.access.roles import USER_ROLES, Actor
from workflow.eligibility.standards_store import get_standard, latest_version
from workflow.engine.core import RESTART_PAUSED_DEADLINES
from workflow.pipeline.catalog import latest_versions

from .db import Database
from .directory import create_org, create_user
from .eligibility import Relaxations
from .errors import CaseNotFound, InvalidAction, MissingData, PermissionDenied
from .models import Attendance, Case, CommitteeSeat, Organisation, ReviewSession, User, UserRole

_user = User.__table__
_role = UserRole.__table__
_org = Organisation.__table__
_session = ReviewSession.__table__
_seat = CommitteeSeat.__table__
_att = Attendance.__table__

_accounts_log = logging.getLogger("titlereview.accounts")
# Every cookie carries a fingerprint of the user's session generation (web/security.py): raising it ends all the
# sessions issued before, on every device, without a per-session table to consult or clean up.
_NEXT_GENERATION = _user.c.session_generation + 1

ORG_KINDS = {
    "employer": {"zh": "用人单位", "en": "Employer"},
    "agency": {"zh": "人事代理/人才服务机构", "en": "Personnel agency"},
    "superior": {"zh": "主管部门", "en": "Superior department"},
    "authority": {"zh": "人社部门（职改办）", "en": "Authority"},
}
"""Organisation kinds with display labels."""

SESSION_STATUSES = {
    "open": {"zh": "受理中", "en": "Accepting applications"},
    "sitting": {"zh": "评审中", "en": "In session"},
    "closed": {"zh": "已结束", "en": "Closed"},
}
"""Review session statuses with display labels."""

MIN_PASSWORD_LENGTH = 8
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,40}$")
_CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")


def overview_counts(conn: Connection) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """What the administrators' overview shows: how many accounts (``users``), organisations (``orgs``) and
    review sessions (``sessions``) there are, and (pipeline id, number of cases) for each pipeline that has
    cases. Four counting statements on ``conn`` (one read transaction gives them one snapshot)."""
    counts = {
        "users": conn.execute(select(func.count()).select_from(_user)).scalar_one(),
        "orgs": conn.execute(select(func.count()).select_from(_org)).scalar_one(),
        "sessions": conn.execute(select(func.count()).select_from(_session)).scalar_one(),
    }
    case = Case.__table__
    per_pipeline = conn.execute(select(case.c.pipeline_id, func.count()).group_by(case.c.pipeline_id)).all()
    return counts, [(pipeline_id, n) for pipeline_id, n in per_pipeline]


def _require_admin(actor: Actor) -> None:
    if "administrator" not in actor.roles or actor.user_id is None:
        raise PermissionDenied("只有管理员可以执行此操作", "Administrators only")


def check_password_rules(password: str) -> None:
    """Refuse passwords that are too short or only digits (MissingData, 422)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise MissingData(f"密码至少 {MIN_PASSWORD_LENGTH} 位",
                          f"Passwords have at least {MIN_PASSWORD_LENGTH} characters")
    if password.isdigit():
        raise MissingData("密码不能全部是数字", "A password cannot be digits only")


def _check_roles(roles: list[str]) -> list[str]:
    unknown = [r for r in roles if r not in USER_ROLES]
    if unknown:
        raise MissingData("无效的角色：" + "、".join(unknown), "Unknown roles: " + ", ".join(unknown))
    return list(dict.fromkeys(roles))


def _check_org_for_roles(conn, roles: list[str], org_id: int | None) -> None:
    """Reviewer roles act for an organisation of the right kind; without one they could act for nobody."""
    needs = {"unit_reviewer": ("employer",), "agency_reviewer": ("agency",), "superior_reviewer": ("superior",),
             "authority_officer": ("authority",)}
    kind = conn.execute(select(_org.c.kind).where(_org.c.id == org_id)).scalar() if org_id else None
    for role, kinds in needs.items():
        if role in roles and kind not in kinds:
            from workflow.access.roles import ROLES

            wanted = "、".join(ORG_KINDS[k]["zh"] for k in kinds)
            raise MissingData(f"角色“{ROLES[role]['zh']}”须属于{wanted}",
                              f"Role {ROLES[role]['en']!r} needs an organisation of kind {', '.join(kinds)}")


def create_account(db: Database, actor: Actor, *, username: str, display_name: str, roles: list[str],
                   org_id: int | None, password: str, email: str = "", phone: str = "") -> int:
    """Create a login with roles; returns the new user's id."""
    _require_admin(actor)
    username = username.strip()
    if not _USERNAME.match(username):
        raise MissingData("用户名为3–40位字母、数字、下划线、点或连字符", "Usernames: 3–40 letters, digits, _ . -")
    if not display_name.strip():
        raise MissingData("请填写姓名", "Enter the person's name")
    check_password_rules(password)
    roles = _check_roles(roles)
    with db.session(write=True) as s:
        if s.exec(orm_select(User.id).where(func.lower(User.username) == username.lower())).first() is not None:
            raise InvalidAction(f"用户名“{username}”已被使用", f"Username {username!r} is taken")
        _check_org_for_roles(s.connection(), roles, org_id)
        org = s.get(Organisation, org_id) if org_id else None
        user = create_user(s, username, display_name.strip(), roles, org=org, password=password,
                           email=email.strip() or None, phone=phone.strip() or None)
        assert user.id is not None  # create_user flushed the new row, which gave it its key
        return user.id


def update_account(db: Database, actor: Actor, user_id: int, *, display_name: str, roles: list[str],
                   org_id: int | None, is_active: bool, email: str = "", phone: str = "") -> None:
    """Change a user's name, organisation, roles and active flag (roles replace the old set)."""
    _require_admin(actor)
    roles = _check_roles(roles)
    if user_id == actor.user_id and (not is_active or "administrator" not in roles):
        raise InvalidAction("不能停用自己的账号或取消自己的管理员角色", "You cannot lock yourself out")
    if not display_name.strip():
        raise MissingData("请填写姓名", "Enter the person's name")
    with db.write() as conn:
        if conn.execute(select(_user.c.id).where(_user.c.id == user_id)).scalar() is None:
            raise CaseNotFound("用户不存在", "No such user")
        _check_org_for_roles(conn, roles, org_id)
        # Deactivating ends the sessions too: the user loader refuses an inactive account anyway, but without
        # the bump a later reactivation would bring every old cookie back to life.
        ended = {} if is_active else {"session_generation": _NEXT_GENERATION}
        conn.execute(update(_user).where(_user.c.id == user_id).values(
            display_name=display_name.strip(), org_id=org_id, is_active=is_active, email=email.strip() or None,
            phone=phone.strip() or None, **ended))
        current = set(conn.execute(select(_role.c.role).where(_role.c.user_id == user_id)).scalars())
        removed = current - set(roles)
        if removed:
            conn.execute(delete(_role).where(_role.c.user_id == user_id, _role.c.role.in_(removed)))
        for role in roles:
            if role not in current:
                conn.execute(_role.insert().values(user_id=user_id, role=role))


def reset_password(db: Database, actor: Actor, user_id: int, password: str) -> None:
    """Set a new password for a user (the administrator hands it over out of band); their sessions end."""
    _require_admin(actor)
    check_password_rules(password)
    with db.write() as conn:
        changed = conn.execute(update(_user).where(_user.c.id == user_id)
                               .values(password_hash=hash_password(password),
                                       session_generation=_NEXT_GENERATION)).rowcount
    if not changed:
        raise CaseNotFound("用户不存在", "No such user")


def change_own_password(db: Database, actor: Actor, current: str, new: str) -> None:
    """A signed-in user replaces their own password after proving they know the current one.

    Every session of the user ends, this one included; the web layer signs the changer in again at once.
    """
    if actor.user_id is None:
        raise PermissionDenied("请先登录", "Sign in first")
    check_password_rules(new)
    with db.write() as conn:
        stored = conn.execute(select(_user.c.password_hash).where(_user.c.id == actor.user_id)).scalar()
        if not verify_password(stored or "", current):
            raise MissingData("当前密码不正确", "The current password is wrong")
        conn.execute(update(_user).where(_user.c.id == actor.user_id).values(password_hash=hash_password(new),
                                                                          session_generation=_NEXT_GENERATION))


def end_sessions(db: Database, user_id: int) -> None:
    """End every signed-in session of ``user_id`` on every device (what signing out does).

    API tokens are not sessions and keep working until revoked.
    """
    with db.write() as conn:
        conn.execute(update(_user).where(_user.c.id == user_id).values(session_generation=_NEXT_GENERATION))


def sign_out_everywhere(db: Database, actor: Actor, user_id: int) -> None:
    """An administrator ends every signed-in session of ``user_id`` (全部设备退出登录); API tokens stay.

    Account changes have no audit table (creating, editing and password resets leave no record either), so
    the act is written to the ``titlereview.accounts`` log with who did it to whom — at WARNING, which Python
    writes to standard error even where nothing configured logging (the service's journal under systemd).
    """
    _require_admin(actor)
    with db.write() as conn:
        changed = conn.execute(update(_user).where(_user.c.id == user_id)
                               .values(session_generation=_NEXT_GENERATION)).rowcount
    if not changed:
        raise CaseNotFound("用户不存在", "No such user")
    _accounts_log.warning("administrator %s (user %s) signed out every session of user %s",
                          actor.name, actor.user_id, user_id)


def save_org(db: Database, actor: Actor, org_id: int | None, *, name: str, kind: str, region: str = "",
             credit_code: str = "", is_specialised: bool = False, is_little_giant: bool = False,
             has_hr_capacity: bool = True, superior_org_id: int | None = None) -> int:
    """Create (``org_id`` None) or update an organisation; returns its id."""
    _require_admin(actor)
    name = name.strip()
    if not name:
        raise MissingData("请填写单位名称", "Enter the organisation's name")
    if kind not in ORG_KINDS:
        raise MissingData("请选择单位类型", "Choose the organisation kind")
    credit_code = credit_code.strip().upper()
    if credit_code and not _CREDIT_CODE.match(credit_code):
        raise MissingData("统一社会信用代码应为18位数字或大写字母", "The credit code has 18 digits or capital letters")
    if is_little_giant:
        is_specialised = True  # every 小巨人 is by definition also a 专精特新 firm
    fields: dict[str, Any] = dict(name=name, kind=kind, region=region.strip(), credit_code=credit_code or None,
                                  is_specialised=is_specialised, is_little_giant=is_little_giant,
                                  has_hr_capacity=has_hr_capacity, superior_org_id=superior_org_id)
    with db.session(write=True) as s:
        if superior_org_id is not None:
            parent = s.get(Organisation, superior_org_id)
            if parent is None or parent.kind not in ("superior", "authority"):
                raise MissingData("上级主管部门须为主管部门或人社部门", "The superior must be a department")
            if org_id is not None and superior_org_id == org_id:
                raise MissingData("单位不能以自己为上级", "An organisation cannot be its own superior")
        clash = s.exec(orm_select(Organisation.id).where(Organisation.name == name)).first()
        if clash is not None and clash != org_id:
            raise InvalidAction(f"单位“{name}”已存在", f"{name!r} already exists")
        if org_id is None:
            created = create_org(s, **fields)
            assert created.id is not None  # create_org flushed the new row, which gave it its key
            return created.id
        org = s.get(Organisation, org_id)
        if org is None:
            raise CaseNotFound("单位不存在", "No such organisation")
        for key, value in fields.items():
            setattr(org, key, value)
        s.add(org)
        return org_id  # the key org was read by


def save_session(db: Database, actor: Actor, session_id: int | None, *, code: str, name: str, name_en: str = "",
                 series: str = "", industry: str = "", year: int, pipeline_ids: list[str], authority_org_id: int,
                 opens_on: date | None = None, closes_on: date | None = None, sitting_on: date | None = None,
                 status: str = "open", relaxations: dict[str, Any] | None = None,
                 restart_notice_after_objection: bool | None = None, standard_ids: list[str] | None = None) -> int:
    """Create (``session_id`` None) or update a review session; returns its id.

    ``relaxations`` are the waivers a dedicated session (湘产专场) grants, keys of :data:`SESSION_RELAXATIONS`
    plus ``source`` (the policy cited in the explanations); None keeps the stored ones when editing.
    ``standard_ids`` are the occupation standards the session accepts (see :func:`session_standards`); None
    keeps the stored ones when editing, which are then checked against the (possibly changed) series.
    ``restart_notice_after_objection`` sets the session parameter of that name (a notice runs its full period
    again after a dismissed objection; by default it continues where it paused); None keeps it.
    """
    _require_admin(actor)
    code, name = code.strip().upper(), name.strip()
    if not re.match(r"^[A-Z0-9-]{3,40}$", code):
        raise MissingData("评审会编号为3–40位大写字母、数字或连字符", "Session codes: 3–40 capitals, digits, -")
    if not name:
        raise MissingData("请填写评审会名称", "Enter the session's name")
    if status not in SESSION_STATUSES:
        raise MissingData("无效的状态", "Unknown status")
    known = latest_versions(db)
    unknown = [p for p in pipeline_ids if p not in known]
    if not pipeline_ids or unknown:
        raise MissingData("请至少选择一个有效的评审流程", "Choose at least one known pipeline")
    if opens_on and closes_on and closes_on < opens_on:
        raise MissingData("受理截止日期不能早于开始日期", "Closing date is before the opening date")
    if sitting_on and closes_on and sitting_on < closes_on:
        raise MissingData("评审会日期不能早于受理截止日期", "The sitting is before applications close")
    fields: dict[str, Any] = dict(
        code=code, name=name, name_en=name_en.strip(), series=series.strip(), industry=industry.strip(), year=year,
        pipeline_ids=list(dict.fromkeys(pipeline_ids)), authority_org_id=authority_org_id, opens_on=opens_on,
        closes_on=closes_on, sitting_on=sitting_on, status=status)
    if relaxations is not None:
        fields["relaxations"] = session_relaxations(relaxations)
    with db.session(write=True) as s:
        authority = s.get(Organisation, authority_org_id)
        if authority is None or authority.kind != "authority":
            raise MissingData("组织单位须为人社部门", "The organiser must be an authority")
        clash = s.exec(orm_select(ReviewSession.id).where(ReviewSession.code == code)).first()
        if clash is not None and clash != session_id:
            raise InvalidAction(f"评审会编号“{code}”已存在", f"Session code {code!r} exists")
        if session_id is None:
            row = ReviewSession(**fields)
        else:
            stored = s.get(ReviewSession, session_id)
            if stored is None:
                raise CaseNotFound("评审会不存在", "No such session")
            row = stored
            for key, value in fields.items():
                setattr(row, key, value)
        # Checked in this transaction, against the standards stored now and the series being saved.
        row.standard_ids = session_standards(s.connection(), row.series, status, list(
            standard_ids if standard_ids is not None else row.standard_ids or []))
        if restart_notice_after_objection is not None:
            # Other parameters (the committee's) are kept; a new dict so the JSON column is seen as changed.
            parameters = {k: v for k, v in (row.parameters or {}).items() if k != RESTART_PAUSED_DEADLINES}
            if restart_notice_after_objection:
                parameters[RESTART_PAUSED_DEADLINES] = True
            row.parameters = parameters
        s.add(row)
        s.flush()
        assert row.id is not None  # flush() just above stored the row, which gave a new one its key
        return row.id


SESSION_RELAXATIONS: dict[str, dict[str, str]] = {
    "waive_ladder": {"zh": "不受逐级晋升（台阶）限制", "en": "No step-by-step promotion requirement"},
    "waive_age": {"zh": "不受年龄限制", "en": "No age limit"},
    "waive_papers": {"zh": "论文不作硬性要求（以业绩成果代替）", "en": "Papers not required (achievements instead)"},
    "waive_foreign_language": {"zh": "不作外语要求", "en": "No foreign-language requirement"},
}
"""The waivers a session may grant (湘人社规〔2022〕22号 measures 4–5). The 破格 route and the bridging
waiting years are not among them: they follow from the pipeline's own parameters."""


def session_relaxations(raw: dict[str, Any]) -> dict[str, Any]:
    """Validate a session's waivers and return them in stored form (only granted waivers and the source).

    Unknown keys are refused rather than dropped, so a misspelt waiver cannot silently relax nothing; a
    waiver without a cited policy is refused too, because the explanations quote it to the applicant.
    """
    unknown = sorted(set(raw) - set(SESSION_RELAXATIONS) - {"source"})
    if unknown:
        raise MissingData(f"未知的放宽条件：{'、'.join(unknown)}", f"Unknown waivers: {', '.join(unknown)}")
    granted = {key: True for key in SESSION_RELAXATIONS if raw.get(key) is True}
    bad = [key for key in SESSION_RELAXATIONS if raw.get(key) not in (None, True, False)]
    if bad:
        raise MissingData(f"放宽条件须为是或否：{'、'.join(bad)}", f"Waivers must be true or false: {', '.join(bad)}")
    source = str(raw.get("source") or "").strip()
    if len(source) > 200:
        raise MissingData("政策依据不超过200字", "The policy source is at most 200 characters")
    if granted and not source:
        raise MissingData("放宽申报条件须注明政策依据（如 湘人社规〔2022〕22号）",
                          "Cite the policy that grants the waivers (e.g. 湘人社规〔2022〕22号)")
    Relaxations(**granted, source=source)  # the evaluator's own model: whatever is stored, it accepts
    return {**granted, "source": source} if granted or source else {}


def session_standards(conn, series: str, status: str, standard_ids: list[str]) -> list[str]:
    """Validate the occupation standards a session accepts and return them in stored form (no repeats).

    Each must be a stored standard (its newest version is read) of the session's series: an economics
    standard in an engineering session would judge a case by the wrong rules (a session without a series
    takes any). Levels need no check: a session has none of its own, and every standard's level (初级/助理,
    中级, 副高, 正高) is one a case can target. A session accepting applications (status ``open``) must list
    at least one, else no applicant could choose anything; a sitting or closed one may list none. The messages
    name the offending standards with their series, and ``field`` is ``standard_ids`` so a form shows them there.
    """
    chosen = list(dict.fromkeys(str(sid).strip() for sid in standard_ids if str(sid).strip()))
    if not chosen and status == "open":
        raise MissingData("受理中的评审会须至少选择一个受理的评价标准",
                          "A session accepting applications needs at least one occupation standard",
                          field="standard_ids")
    unknown, foreign = [], []
    for sid in chosen:
        version = latest_version(conn, sid)
        standard = get_standard(conn, sid, version) if version else None
        if standard is None:
            unknown.append(sid)
        elif series and standard.series != series:
            foreign.append(standard)
    if unknown:
        raise MissingData(f"评价标准不存在：{'、'.join(unknown)}", f"No such standards: {', '.join(unknown)}",
                          field="standard_ids")
    if foreign:
        zh = "、".join(f"“{x.name.zh}”（{x.series}系列·{x.level.value}）" for x in foreign)
        en = "; ".join(f"“{x.name.en}” ({x.series} series, {x.level.value})" for x in foreign)
        raise MissingData(f"评价标准{zh}与本评审会的“{series}”系列不符，不能受理",
                          f"Not of this session's series ({series}): {en}; a session accepts only its own series",
                          field="standard_ids")
    return chosen


def seat_member(db: Database, actor: Actor, session_id: int, user_id: int, seat_role: str = "member") -> None:
    """Seat an expert on a session's committee as ``member`` or ``chair`` (one chair per session)."""
    _require_admin(actor)
    if seat_role not in ("member", "chair"):
        raise MissingData("席位须为委员或主任委员", "Seat must be member or chair")
    needed = "panel_chair" if seat_role == "chair" else "panel_member"
    with db.write() as conn:
        if conn.execute(select(_session.c.id).where(_session.c.id == session_id)).scalar() is None:
            raise CaseNotFound("评审会不存在", "No such session")
        roles = set(conn.execute(select(_role.c.role).where(_role.c.user_id == user_id)).scalars())
        if needed not in roles:
            raise MissingData("该用户没有“主任委员”角色" if seat_role == "chair" else "该用户没有“评审专家”角色",
                              f"The user lacks the {needed} role")
        if seat_role == "chair" and conn.execute(select(_seat.c.id).where(
                _seat.c.session_id == session_id, _seat.c.seat_role == "chair")).scalar() is not None:
            raise InvalidAction("本评审会已有主任委员，请先移除", "This session already has a chair")
        try:
            with conn.begin_nested():
                conn.execute(_seat.insert().values(session_id=session_id, user_id=user_id, seat_role=seat_role))
        except IntegrityError:
            raise InvalidAction("该专家已是本评审会委员", "Already seated on this session") from None


def unseat_member(db: Database, actor: Actor, seat_id: int) -> None:
    """Remove a seat, unless the member was already recorded present (quorum would change under the sitting)."""
    _require_admin(actor)
    with db.write() as conn:
        seat = conn.execute(select(_seat).where(_seat.c.id == seat_id)).mappings().first()
        if seat is None:
            raise CaseNotFound("席位不存在", "No such seat")
        attended = conn.execute(select(_att.c.id).where(_att.c.session_id == seat["session_id"],
                                                        _att.c.user_id == seat["user_id"])).scalar()
        if attended is not None:
            raise InvalidAction("该委员已登记出席本次评审会，不能移除", "The member is recorded present; cannot unseat")
        conn.execute(delete(_seat).where(_seat.c.id == seat_id))
