"""Personal API tokens: a signed-in user creates tokens limited to some of their roles, sees each secret
once, and revokes tokens (``/account/tokens``)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from workflow.access import api_tokens
from workflow.access.roles import ROLES, USER_ROLES

from .extensions import get_db
from .security import ROLE_ORDER

bp = Blueprint("tokens", __name__)


def _db():
    return get_db()


def _grantable() -> list[tuple[str, dict[str, str]]]:
    return [(r, ROLES[r]) for r in ROLE_ORDER if r in current_user.roles and r in USER_ROLES]


def _page(*, status: int = 200, created=None, error: str | None = None, kept: dict | None = None):
    with _db().read() as conn:
        rows = api_tokens.list_tokens(conn, current_user.id)
    return render_template("tokens/index.html", rows=rows, roles=_grantable(), created=created, error=error,
                           kept=kept or {}, role_labels=ROLES), status


@bp.get("/account/tokens")
@login_required
def index():
    """The user's tokens and the form to create one."""
    return _page()


@bp.post("/account/tokens")
@login_required
def create():
    """Create a token; the page shows the secret this once (it is stored hashed)."""
    name = (request.form.get("name") or "").strip()
    scopes = request.form.getlist("scopes")
    kept = {"name": name, "scopes": scopes}
    if not name or len(name) > 80:
        return _page(status=422, error=_("请填写令牌名称（1到80字）。"), kept=kept)
    if not scopes:
        return _page(status=422, error=_("请至少选择一个角色。"), kept=kept)
    if any(r not in current_user.roles for r in scopes):
        return _page(status=403, error=_("只能选择您本人拥有的角色。"), kept=kept)
    try:
        created = api_tokens.create_token(_db(), current_user.id, name, scopes)
    except ValueError:
        return _page(status=422, error=_("无法创建令牌，请检查所选角色。"), kept=kept)
    return _page(status=201, created=created)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    """Revoke one of the user's own tokens (at once: the next request with it gets 401)."""
    if api_tokens.revoke_token(_db(), current_user.id, token_id):
        flash(_("令牌已撤销。"), "success")
    else:
        flash(_("令牌不存在或已撤销。"), "warning")
    return redirect(url_for("tokens.index"), 303)
