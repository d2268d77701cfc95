"""Signing in and out, the language switch, and the user's own account (password change)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from wtforms import PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from workflow.access.accounts import check_credentials
from workflow.administration import change_own_password, end_sessions
from workflow.errors import WorkflowError

from .extensions import get_db
from .forms import Form, safe_next
from .i18n import LANG_COOKIE, LANGUAGES, current_lang
from .security import (
    LoginRefusal,
    home_endpoint,
    load_web_user,
    login_throttled,
    record_login_failure,
    record_login_success,
)

bp = Blueprint("auth", __name__)


def login_refused() -> str:
    """The one answer to a refused sign-in: wrong password, unknown user and deactivated account alike."""
    return _("用户名或密码错误，或账号已停用。")


def login_throttled_message(refusal: LoginRefusal) -> str:
    """What a person refused by the sign-in throttle is told: how long to wait, or whom to ask.

    The same for every name typed, with or without an account (the counters exist for unknown names too),
    so it reveals nothing about which accounts exist.
    """
    if refusal.account_wide:
        return _("该用户名近期登录失败次数过多，为防止密码被猜测，已暂停使用该用户名登录（在任何地点均无法登录）。"
                 "请联系系统管理员解除登录限制；否则最迟 %(hours)s 小时后自动解除。",
                 hours=max(1, round(refusal.minutes / 60)))
    return _("登录失败次数过多，请 %(minutes)s 分钟后再试。", minutes=refusal.minutes)


class LoginForm(Form):
    """Username and password."""

    username = StringField(_l("用户名"), validators=[InputRequired(message=_l("请输入用户名")), Length(max=80)],
                           render_kw={"autocomplete": "username"})
    password = PasswordField(_l("密码"), validators=[InputRequired(message=_l("请输入密码")), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


class PasswordForm(Form):
    """Change one's own password."""

    current = PasswordField(_l("当前密码"), validators=[InputRequired(message=_l("请输入当前密码"))],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField(_l("新密码"), validators=[InputRequired(message=_l("请输入新密码")),
                                                 Length(min=8, max=200, message=_l("新密码至少8位"))],
                        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("再次输入新密码"), validators=[EqualTo("new", message=_l("两次输入的新密码不一致"))],
                            render_kw={"autocomplete": "new-password"})


def demo_switch_list() -> tuple[list, str] | None:
    """The demo's accounts and their shared password for the login page's switch list, or None.

    Only in demo mode: the app ``titlereview demo`` serves (config ``DEMO_MODE``, which ``titlereview serve``
    and the environment never set) on a database holding the demo. Each entry is an ordinary sign-in form
    posting the demo's published password to this page, so the list can sign nobody in whose password is
    not the demo's, whatever the configuration.
    """
    if not current_app.config.get("DEMO_MODE"):
        return None
    from seed.demo import DEMO_PASSWORD, demo_is_loaded, demo_login_table

    if not demo_is_loaded(get_db()):
        return None
    return demo_login_table(), DEMO_PASSWORD


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in page; on success go to ``next`` (same site only) or the user's home.

    In demo mode it also lists the demo's accounts to switch to, and stays reachable when signed in (that is
    how one person plays every member of the committee).
    """
    demo = demo_switch_list()
    if current_user.is_authenticated and request.method == "GET" and demo is None:
        return redirect(url_for(home_endpoint(current_user)))
    form = LoginForm()
    status = 200
    if request.method != "POST":
        pass
    elif not form.validate():
        status = 422
    elif (refusal := login_throttled(form.username.data)) is not None:
        # Too many failures for this name from this address, for this name anywhere, or from this address:
        # refused without checking the password (the counters exist for unknown names too: nothing to learn).
        form.password.errors.append(login_throttled_message(refusal))
        status = 429
    else:
        # As slow for an unknown name as for a wrong password (see check_credentials).
        user_id = check_credentials(get_db(), form.username.data, form.password.data)
        if user_id is not None:
            user = load_web_user(user_id)
            record_login_success(form.username.data)
            session.clear()  # a fresh session on sign-in (no fixation)
            login_user(user)
            target = safe_next(request.args.get("next")) or url_for(home_endpoint(user))
            return redirect(target, 303)
        record_login_failure(form.username.data)
        form.password.errors.append(login_refused())
        status = 401
    return render_template("auth/login.html", form=form, demo_accounts=demo[0] if demo else None,
                           demo_password=demo[1] if demo else None), status


@bp.post("/logout")
def logout():
    """Sign out (POST with CSRF, so another site cannot sign the user out) on every device.

    Clearing this browser's cookie is not enough: a copy of it would keep working. Raising the session
    generation makes the server refuse every cookie of the user issued so far; API tokens keep working.
    """
    if current_user.is_authenticated:
        end_sessions(get_db(), current_user.id)
    logout_user()
    session.clear()
    flash(_("您已安全退出，所有设备上的登录均已结束。"), "info")
    return redirect(url_for("public.index"), 303)


@bp.get("/lang/<code>")
def set_language(code: str):
    """Switch the UI language (stored in a cookie for a year) and go back where the user was."""
    target = safe_next(request.args.get("next")) or url_for("public.index")
    response = make_response(redirect(target, 303))
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """The user's own account: roles, organisation, and the password change form."""
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            change_own_password(get_db(), current_user.actor,
                                form.current.data, form.new.data)
        except WorkflowError as err:
            form.current.errors.append(err.message(current_lang()))
            status = err.status
        else:
            # The change ended every session of the user, this one too (the tag covers the password hash and
            # the session generation): sign this browser in again with the new tag so that only the others end.
            user = load_web_user(current_user.id)
            login_user(user)
            flash(_("密码已修改。其他设备上的登录已失效。"), "success")
            return redirect(url_for("auth.account"), 303)
    elif request.method == "POST":
        status = 422
    return render_template("auth/account.html", form=form), status
