"""The elder-friendly mode (适老化, 长辈模式): larger text and controls, stronger contrast, bigger touch targets.

The header's switch is a plain form (it works without JavaScript). A signed-in person's choice is kept on their
account (``user_account.elder_mode``), so it follows them to every device; a visitor who is not signed in keeps it
in a long-lived cookie. The cookie is kept in step with the account of whoever signs in on the browser, so the
page does not change size on signing out; and a visitor who switched the mode on before signing in keeps it —
it is saved to their account (switching it off again is the switch's job, never a side effect of signing in).

What the mode does is all in ``web/static/app.css`` under ``html.elder-mode``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, g, has_request_context, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, user_logged_in

from workflow.preferences import set_elder_mode

from .extensions import get_db
from .forms import safe_next

bp = Blueprint("display", __name__)

ELDER_COOKIE = "elder"
"""The cookie that keeps the choice for visitors who are not signed in: ``1`` on, ``0`` off."""

_COOKIE_VALUES = {"1": True, "0": False}
_ONE_YEAR = 365 * 24 * 3600


def elder_mode_on() -> bool:
    """Whether this request's page is drawn in the elder-friendly mode: the account's choice when signed in,
    else the browser's cookie."""
    if not has_request_context():  # e.g. an e-mail rendered by the timer
        return False
    user = current_user._get_current_object()
    if user is not None and user.is_authenticated:
        return bool(user.elder_mode)
    return request.cookies.get(ELDER_COOKIE) == "1"


def _remember_in_cookie(response, on: bool):
    """Keep ``on`` in the browser's cookie (for a year, like the language)."""
    response.set_cookie(ELDER_COOKIE, "1" if on else "0", max_age=_ONE_YEAR, samesite="Lax", httponly=True,
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


@bp.post("/display/elder-mode")
def switch_elder_mode():
    """The header's switch: ``on`` is ``1`` or ``0``; back to ``next`` (a path on this site) afterwards."""
    target = safe_next(request.form.get("next")) or url_for("public.index")
    raw = request.form.get("on", "")
    if raw not in _COOKIE_VALUES:
        # Only a hand-made request gets here; say so and change nothing.
        flash(_("未能切换长辈模式：请使用页面顶部的“长辈模式”按钮。"), "error")
        return redirect(target, 303)
    on = _COOKIE_VALUES[raw]
    if current_user.is_authenticated:
        set_elder_mode(get_db(), current_user.id, on)
    return _remember_in_cookie(redirect(target, 303), on)


def _carry_choice_into_account(_app: Any, user: Any, **_extra: Any) -> None:
    """On sign-in: a visitor who switched the mode on before signing in keeps it (saved to the account)."""
    if request.cookies.get(ELDER_COOKIE) == "1" and not user.elder_mode:
        set_elder_mode(get_db(), user.id, True)
        user.elder_mode = True


def _keep_cookie_in_step(response):
    """Signed in: keep the cookie equal to the account's choice, so signing out keeps the page as it was."""
    # Only when this request already loaded the user (a page): a static file should not cost a query.
    user = g.get("_login_user")
    if user is None or not user.is_authenticated:
        return response
    wanted = "1" if user.elder_mode else "0"
    if request.cookies.get(ELDER_COOKIE) != wanted and ELDER_COOKIE not in _cookies_being_set(response):
        _remember_in_cookie(response, user.elder_mode)
    return response


def _cookies_being_set(response) -> set[str]:
    """Names of the cookies ``response`` already sets (the switch sets its own)."""
    return {header.split("=", 1)[0].strip() for header in response.headers.getlist("Set-Cookie")}


def init_display(app) -> None:
    """Register the switch, the ``elder_mode`` template variable, the sign-in carry-over and the cookie sync."""
    app.register_blueprint(bp)
    app.context_processor(lambda: {"elder_mode": elder_mode_on()})
    user_logged_in.connect(_carry_choice_into_account, app)
    app.after_request(_keep_cookie_in_step)
