"""Administration: accounts and roles, organisations (with 专精特新/小巨人 flags), review sessions and seats.

The checks live in :mod:`workflow.administration`; these views collect input, show its refusals next to the
form (with the input kept) and never write anything themselves.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, DateField, IntegerField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from workflow import administration as admin_ops
from workflow import directory
from workflow.access.roles import ROLES, USER_ROLES
from workflow.eligibility.standards_store import latest_standards
from workflow.engine.core import RESTART_PAUSED_DEADLINES
from workflow.errors import WorkflowError
from workflow.pipeline.catalog import latest_pipelines
from workflow.records import queries

from .extensions import get_db
from .forms import Form, options
from .i18n import current_lang, label
from .security import ROLE_ORDER, account_sign_in_failures, clear_account_lock, roles_required, small_int

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _db():
    return get_db()


class MultiCheckboxField(SelectMultipleField):
    """A set of checkboxes (works without JavaScript, unlike a multi-select's ctrl-click)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _role_choices() -> list[tuple[str, str]]:
    return [(r, label(ROLES[r])) for r in ROLE_ORDER if r in USER_ROLES]


_NO_ORG = _l("（无）")


def _org_choices(conn, kinds=None, blank=_NO_ORG) -> list[tuple[int, str]]:
    return [(0, str(blank))] + [(o["id"], o["name"]) for o in queries.organisations(conn, kinds)]


@bp.get("/")
@roles_required("administrator")
def home():
    """Overview: how many accounts, organisations, sessions and cases (per pipeline) there are."""
    with _db().read() as conn:
        counts, per_pipeline = admin_ops.overview_counts(conn)
    return render_template("admin/home.html", counts=counts, per_pipeline=per_pipeline)


# --------------------------------------------------------------------------------------------- users


class UserForm(Form):
    """Create or edit an account."""

    username = StringField(_l("用户名"), validators=[InputRequired(message=_l("请填写用户名")), Length(max=40)])
    display_name = StringField(_l("姓名"), validators=[InputRequired(message=_l("请填写姓名")), Length(max=100)])
    org_id = SelectField(_l("所属单位"), coerce=int)
    roles = MultiCheckboxField(_l("角色"))
    is_active = BooleanField(_l("启用"), default=True)
    email = StringField(_l("电子邮箱"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("手机号码"), validators=[Optional(), Length(max=30)])
    password = PasswordField(_l("初始密码"), validators=[Optional(), Length(max=200)],
                             render_kw={"autocomplete": "new-password"})


class PasswordResetForm(Form):
    """An administrator sets a new password."""

    password = PasswordField(_l("新密码"), validators=[InputRequired(message=_l("请填写新密码")), Length(max=200)],
                             render_kw={"autocomplete": "new-password"})


@bp.get("/users")
@roles_required("administrator")
def users():
    """All accounts, searchable by name and filterable by role."""
    role = request.args.get("role", "")
    with _db().read() as conn:
        rows = queries.users(conn, search=request.args.get("q", ""), role=role if role in USER_ROLES else "")
    return render_template("admin/users.html", rows=rows, q=request.args.get("q", ""), role=role,
                           roles=_role_choices())


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required("administrator")
def new_user():
    """Create an account with roles and an initial password."""
    form = UserForm()
    with _db().read() as conn:
        form.org_id.choices = _org_choices(conn)
    form.roles.choices = _role_choices()
    status, error = 200, None
    if form.validate_on_submit():
        try:
            user_id = admin_ops.create_account(
                _db(), current_user.actor, username=form.username.data, display_name=form.display_name.data,
                roles=form.roles.data or [], org_id=form.org_id.data or None, password=form.password.data or "",
                email=form.email.data or "", phone=form.phone.data or "")
        except WorkflowError as err:
            error, status = err.message(current_lang()), err.status
        else:
            flash(_("账号已创建。"), "success")
            return redirect(url_for("admin.edit_user", user_id=user_id), 303)
    elif request.method == "POST":
        status = 422
    return render_template("admin/user_form.html", form=form, error=error, user=None, reset=None), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("administrator")
def edit_user(user_id: int):
    """Change an account's name, organisation, roles and active flag."""
    with _db().read() as conn:
        found = [u for u in queries.users(conn) if u["id"] == user_id]
        org_choices = _org_choices(conn)
    if not found:
        abort(404)
    user = found[0]
    form = UserForm(data=None if request.method == "POST" else {
        "username": user["username"], "display_name": user["display_name"], "org_id": user["org_id"] or 0,
        "roles": user["roles"], "is_active": user["is_active"], "email": user["email"] or "",
        "phone": user["phone"] or ""})
    form.org_id.choices = org_choices
    form.roles.choices = _role_choices()
    form.username.data = user["username"]  # usernames never change: events and logins refer to them
    status, error = 200, None
    if form.validate_on_submit():
        try:
            admin_ops.update_account(_db(), current_user.actor, user_id, display_name=form.display_name.data,
                                     roles=form.roles.data or [], org_id=form.org_id.data or None,
                                     is_active=form.is_active.data, email=form.email.data or "",
                                     phone=form.phone.data or "")
        except WorkflowError as err:
            error, status = err.message(current_lang()), err.status
        else:
            flash(_("账号已更新。"), "success")
            return redirect(url_for("admin.edit_user", user_id=user_id), 303)
    elif request.method == "POST":
        status = 422
    return render_template("admin/user_form.html", form=form, error=error, user=user,
                           reset=PasswordResetForm(formdata=None),
                           sign_in_failures=account_sign_in_failures(user["username"])), status


@bp.post("/users/<int:user_id>/password")
@roles_required("administrator")
def reset_password(user_id: int):
    """Set a new password for the account (its other sessions end)."""
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            admin_ops.reset_password(_db(), current_user.actor, user_id, form.password.data)
        except WorkflowError as err:
            flash(err.message(current_lang()), "error")
        else:
            flash(_("密码已重置，请通过安全渠道告知本人。"), "success")
    else:
        flash(_("请填写新密码。"), "error")
    return redirect(url_for("admin.edit_user", user_id=user_id), 303)


@bp.post("/users/<int:user_id>/sign-in-lock/clear")
@roles_required("administrator")
def clear_sign_in_lock(user_id: int):
    """Lift the account-wide sign-in lock (解除登录限制) that too many failed sign-ins put on the account.

    The CSRF token is checked by the app-wide CSRFProtect before this view runs. The throttle's counters live
    in its own store (:mod:`web.security`), not in the database, so the act is logged here.
    """
    with _db().read() as conn:
        username = directory.username_of(conn, user_id)
    if username is None:
        abort(404)
    if clear_account_lock(username):
        current_app.logger.warning("sign-in lock of user %s cleared by administrator %s", user_id, current_user.id)
        flash(_("已解除该用户的登录限制，本人现在可以重新登录。"), "success")
    else:
        flash(_("未能解除登录限制：登录限制未启用，或其存储暂时不可用。"), "error")
    return redirect(url_for("admin.edit_user", user_id=user_id), 303)


@bp.post("/users/<int:user_id>/sign-out")
@roles_required("administrator")
def sign_out_everywhere(user_id: int):
    """End every signed-in session of the account on every device (全部设备退出登录); its API tokens stay.

    For a lost or shared device, without changing the password. The CSRF token is checked by the app-wide
    CSRFProtect before this view runs; the act is logged by :func:`workflow.administration.sign_out_everywhere`.
    """
    try:
        admin_ops.sign_out_everywhere(_db(), current_user.actor, user_id)
    except WorkflowError as err:
        if err.status == 404:
            abort(404)
        flash(err.message(current_lang()), "error")
    else:
        flash(_("该用户在所有设备上的登录均已结束；API 令牌不受影响。"), "success")
        if user_id == current_user.id:  # this browser's session ended too: the admin pages would only bounce
            return redirect(url_for("auth.login"), 303)
    return redirect(url_for("admin.edit_user", user_id=user_id), 303)


# --------------------------------------------------------------------------------------------- organisations


class OrgForm(Form):
    """Create or edit an organisation."""

    name = StringField(_l("单位名称"), validators=[InputRequired(message=_l("请填写单位名称")), Length(max=200)])
    kind = SelectField(_l("单位类型"))
    region = StringField(_l("所在地区"), validators=[Optional(), Length(max=100)])
    credit_code = StringField(_l("统一社会信用代码"), validators=[Optional(), Length(max=18)])
    is_specialised = BooleanField(_l("专精特新中小企业"))
    is_little_giant = BooleanField(_l("专精特新“小巨人”企业"))
    has_hr_capacity = BooleanField(_l("具备单位审核条件（有人事管理能力）"), default=True)
    superior_org_id = SelectField(_l("上级主管部门"), coerce=int)


@bp.get("/orgs")
@roles_required("administrator")
def orgs():
    """All organisations by kind."""
    with _db().read() as conn:
        rows = queries.organisations(conn)
    return render_template("admin/orgs.html", rows=rows, kinds=admin_ops.ORG_KINDS)


def _org_form(org_id: int | None):
    with _db().read() as conn:
        row = None
        if org_id is not None:
            row = next((o for o in queries.organisations(conn) if o["id"] == org_id), None)
            if row is None:
                abort(404)
        superiors = _org_choices(conn, kinds=["superior", "authority"])
    form = OrgForm(data=None if request.method == "POST" or row is None else {
        **{k: row[k] for k in ("name", "kind", "region", "is_specialised", "is_little_giant", "has_hr_capacity")},
        "credit_code": row["credit_code"] or "", "superior_org_id": row["superior_org_id"] or 0})
    form.kind.choices = [(k, label(v)) for k, v in admin_ops.ORG_KINDS.items()]
    form.superior_org_id.choices = [c for c in superiors if c[0] != org_id]
    status, error = 200, None
    if form.validate_on_submit():
        try:
            new_id = admin_ops.save_org(
                _db(), current_user.actor, org_id, name=form.name.data, kind=form.kind.data,
                region=form.region.data or "", credit_code=form.credit_code.data or "",
                is_specialised=form.is_specialised.data, is_little_giant=form.is_little_giant.data,
                has_hr_capacity=form.has_hr_capacity.data, superior_org_id=form.superior_org_id.data or None)
        except WorkflowError as err:
            error, status = err.message(current_lang()), err.status
        else:
            flash(_("单位信息已保存。"), "success")
            return redirect(url_for("admin.edit_org", org_id=new_id), 303)
    elif request.method == "POST":
        status = 422
    return render_template("admin/org_form.html", form=form, error=error, org=row), status


@bp.route("/orgs/new", methods=["GET", "POST"])
@roles_required("administrator")
def new_org():
    """Add an organisation."""
    return _org_form(None)


@bp.route("/orgs/<int:org_id>", methods=["GET", "POST"])
@roles_required("administrator")
def edit_org(org_id: int):
    """Edit an organisation."""
    return _org_form(org_id)


# --------------------------------------------------------------------------------------------- sessions


class SessionForm(Form):
    """Create or edit a review session (a dated sitting with its committee)."""

    code = StringField(_l("编号"), validators=[InputRequired(message=_l("请填写编号")), Length(max=40)])
    name = StringField(_l("名称"), validators=[InputRequired(message=_l("请填写名称")), Length(max=200)])
    name_en = StringField(_l("英文名称"), validators=[Optional(), Length(max=200)])
    series = StringField(_l("职称系列"), validators=[Optional(), Length(max=40)])
    industry = StringField(_l("行业"), validators=[Optional(), Length(max=80)])
    year = IntegerField(_l("年度"), validators=[InputRequired(message=_l("请填写年度")),
                                              NumberRange(2020, 2100, message=_l("年度须在2020–2100之间"))])
    pipeline_ids = MultiCheckboxField(_l("受理的评审流程"))
    # Checked by workflow.administration.session_standards, whose messages name the standard and its series
    # (a posted id that is not offered gets the same clear refusal instead of WTForms' generic one).
    standard_ids = MultiCheckboxField(_l("受理的评价标准"), validate_choice=False)
    authority_org_id = SelectField(_l("组织单位（人社部门）"), coerce=int)
    opens_on = DateField(_l("受理开始"), validators=[Optional()])
    closes_on = DateField(_l("受理截止"), validators=[Optional()])
    sitting_on = DateField(_l("评审日期"), validators=[Optional()])
    status = SelectField(_l("状态"))
    # 湘产专场 waivers (workflow.administration.SESSION_RELAXATIONS); labels are filled per request.
    waive_ladder = BooleanField()
    waive_age = BooleanField()
    waive_papers = BooleanField()
    waive_foreign_language = BooleanField()
    relaxation_source = StringField(_l("放宽条件的政策依据"), validators=[Optional(), Length(max=200)])
    restart_notice = BooleanField(_l("异议不成立后，公示期重新计算（默认：暂停后继续计算）"))


class SeatForm(Form):
    """Seat an expert on the session's committee."""

    user_id = SelectField(_l("专家"), coerce=int)
    seat_role = SelectField(_l("席位"), choices=options([("member", _l("委员")), ("chair", _l("主任委员"))]))


@bp.get("/sessions")
@roles_required("administrator")
def sessions():
    """All review sessions with their committee size."""
    with _db().read() as conn:
        rows = queries.sessions(conn)
    return render_template("admin/sessions.html", rows=rows, statuses=admin_ops.SESSION_STATUSES,
                           standards={x.id: x for x in latest_standards(_db())})


def _standard_label(standard) -> str:
    """A standard as the session pages list it: its name, series and level (the facts a session checks)."""
    return f"{label(standard.name)}（{standard.series}·{standard.level.value}）"


def _session_form(session_id: int | None):
    db = _db()
    with db.read() as conn:
        row = queries.session_row(conn, session_id) if session_id is not None else None
        if session_id is not None and row is None:
            abort(404)
        authorities = _org_choices(conn, kinds=["authority"], blank=_l("— 请选择 —"))
        seats = queries.session_seats(conn, session_id) if session_id is not None else []
        experts = queries.users(conn, role="panel_member") if session_id is not None else []
    defaults = None
    if request.method != "POST" and row is not None:
        defaults = {k: row[k] for k in ("code", "name", "name_en", "series", "industry", "year", "pipeline_ids",
                                        "standard_ids", "authority_org_id", "opens_on", "closes_on", "sitting_on",
                                        "status")}
        relaxed = row.get("relaxations") or {}
        defaults.update({key: bool(relaxed.get(key)) for key in admin_ops.SESSION_RELAXATIONS},
                        relaxation_source=relaxed.get("source", ""),
                        restart_notice=(row.get("parameters") or {}).get(RESTART_PAUSED_DEADLINES) is True)
    elif request.method != "POST":
        defaults = {"year": date.today().year, "status": "open"}
    form = SessionForm(data=defaults)
    form.pipeline_ids.choices = [(p.id, label(p.label)) for p in latest_pipelines(db)]
    standards = latest_standards(db)
    # A stored id whose standard is gone still shows (unticked it is dropped; ticked, saving names it).
    missing = [sid for sid in (row or {}).get("standard_ids") or [] if sid not in {x.id for x in standards}]
    form.standard_ids.choices = [(x.id, _standard_label(x)) for x in standards] + [(sid, sid) for sid in missing]
    form.authority_org_id.choices = authorities
    form.status.choices = [(k, label(v)) for k, v in admin_ops.SESSION_STATUSES.items()]
    for key, text in admin_ops.SESSION_RELAXATIONS.items():
        form[key].label.text = label(text)
    seated = {s["user_id"] for s in seats}
    seat_form = SeatForm(formdata=None)
    seat_form.user_id.choices = [(u["id"], f"{u['display_name']}（{u['username']}）") for u in experts
                                 if u["id"] not in seated and u["is_active"]]
    status, error = 200, None
    if form.validate_on_submit():
        try:
            new_id = admin_ops.save_session(
                db, current_user.actor, session_id, code=form.code.data, name=form.name.data,
                name_en=form.name_en.data or "", series=form.series.data or "", industry=form.industry.data or "",
                year=form.year.data, pipeline_ids=form.pipeline_ids.data or [],
                authority_org_id=form.authority_org_id.data, opens_on=form.opens_on.data,
                closes_on=form.closes_on.data, sitting_on=form.sitting_on.data, status=form.status.data,
                relaxations={**{key: form[key].data for key in admin_ops.SESSION_RELAXATIONS},
                             "source": form.relaxation_source.data or ""},
                restart_notice_after_objection=bool(form.restart_notice.data),
                standard_ids=form.standard_ids.data or [])
        except WorkflowError as err:
            status = err.status
            if getattr(err, "field", None) == "standard_ids":
                form.standard_ids.errors.append(err.message(current_lang()))
            else:
                error = err.message(current_lang())
        else:
            flash(_("评审会已保存。"), "success")
            return redirect(url_for("admin.edit_session", session_id=new_id), 303)
    elif request.method == "POST":
        status = 422
    return render_template("admin/session_form.html", form=form, error=error, session=row, seats=seats,
                           seat_form=seat_form, relaxation_keys=list(admin_ops.SESSION_RELAXATIONS)), status


@bp.route("/sessions/new", methods=["GET", "POST"])
@roles_required("administrator")
def new_session():
    """Add a review session."""
    return _session_form(None)


@bp.route("/sessions/<int:session_id>", methods=["GET", "POST"])
@roles_required("administrator")
def edit_session(session_id: int):
    """Edit a review session and its committee."""
    return _session_form(session_id)


@bp.post("/sessions/<int:session_id>/seats")
@roles_required("administrator")
def add_seat(session_id: int):
    """Seat an expert (as member or chair)."""
    user_id = small_int(request.form.get("user_id"))
    seat_role = request.form.get("seat_role", "member")
    if user_id is None:
        flash(_("请选择专家。"), "error")
    else:
        try:
            admin_ops.seat_member(_db(), current_user.actor, session_id, user_id, seat_role)
        except WorkflowError as err:
            flash(err.message(current_lang()), "error")
        else:
            flash(_("已聘入评审会。"), "success")
    return redirect(url_for("admin.edit_session", session_id=session_id) + "#seats", 303)


@bp.post("/sessions/<int:session_id>/seats/<int:seat_id>/remove")
@roles_required("administrator")
def remove_seat(session_id: int, seat_id: int):
    """Remove a seat (refused once the member attended the sitting)."""
    try:
        admin_ops.unseat_member(_db(), current_user.actor, seat_id)
    except WorkflowError as err:
        flash(err.message(current_lang()), "error")
    else:
        flash(_("已移出评审会。"), "info")
    return redirect(url_for("admin.edit_session", session_id=session_id) + "#seats", 303)
