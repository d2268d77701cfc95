"""The Flask front end of titlereview: :func:`create_app` builds an app around one :class:`Database`.

Nothing is read at import time: configuration comes from the ``config`` argument, then the environment
(``TITLEREVIEW_DATABASE_URL``, ``TITLEREVIEW_SECRET_KEY``, ``TITLEREVIEW_INSTANCE_PATH``), then defaults.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, request
from flask_babel import gettext

from workflow.db import Database, database_url

from .extensions import DB_EXTENSION, get_db

__all__ = ["DB_EXTENSION", "create_app", "get_db"]

DEFAULTS: dict[str, Any] = {
    "BABEL_DEFAULT_LOCALE": "zh_CN",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "BOOTSTRAP_SERVE_LOCAL": True,
    "MAX_UPLOAD_BYTES": 10 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    # Flask refuses a session cookie signed longer ago than this, permanent or not (its default is 31 days). The
    # cookie is re-signed whenever the session changes (sign-in, a form's confirmation message); sign-out ends it
    # on the server in any case (web/security.py). The site sets no "remember me" cookie; were one ever set, it
    # would expire as soon and carry the same revocable id.
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
    "REMEMBER_COOKIE_DURATION": timedelta(hours=12),
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    "PER_PAGE": 50,
}
"""Configuration defaults; keys given to :func:`create_app` override them."""

SECURITY_HEADERS = tuple((key.lower(), key, value) for key, value in (
    # Pages use no inline script or style, so a strict policy costs nothing and blunts injected markup.
    ("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self';"
                                " object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    # The site uses none of these browser features; denying them means injected markup or a framed page of
    # ours can never ask a reviewer for the camera, the location, a payment or a USB device.
    ("Permissions-Policy", "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), "
                           "fullscreen=(), geolocation=(), gyroscope=(), hid=(), idle-detection=(), magnetometer=(), "
                           "microphone=(), midi=(), payment=(), picture-in-picture=(), publickey-credentials-get=(), "
                           "screen-wake-lock=(), serial=(), usb=(), xr-spatial-tracking=()"),
    # A page opened from ours (or opening ours) gets no handle on our window, so it cannot navigate or probe it.
    ("Cross-Origin-Opener-Policy", "same-origin"),
))
"""(lower-case name, name, value) of the headers every response gets unless its view set that header itself."""


def _instance_path(config: dict[str, Any]) -> Path:
    # The default mirrors workflow.db's default database location (``instance/`` in the working directory),
    # so the database, the secret key and the uploads of one installation sit side by side.
    raw = config.get("INSTANCE_PATH") or os.environ.get("TITLEREVIEW_INSTANCE_PATH") or "instance"
    path = Path(raw).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _secret_key(config: dict[str, Any], instance: Path) -> str:
    """The configured key, else the one stored in ``instance/secret_key`` (created once, shared by workers).

    A random key per process would sign sessions that other workers reject, so the first start writes one
    with O_EXCL; a worker that loses that race reads the winner's key.
    """
    key = config.get("SECRET_KEY") or os.environ.get("TITLEREVIEW_SECRET_KEY")
    if key:
        return key
    path = instance / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # the winner may not have written it yet
            text = path.read_text(encoding="ascii").strip()
            if text:
                return text
            import time

            time.sleep(0.02)
        raise RuntimeError(f"{path} exists but is empty; delete it to generate a new key") from None
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key + "\n")
    return key


def _trust_proxies(app: Flask, config: dict[str, Any]) -> None:
    """Believe ``X-Forwarded-For``/``-Proto``/``-Host`` from the configured number of reverse proxies.

    Behind a proxy every request comes from the proxy's address, so the per-IP sign-in throttle would lock
    out everybody at once and ``url_for(_external=True)`` would say http. Werkzeug's ProxyFix takes the
    client address from the last ``TRUSTED_PROXIES`` hops only; trusting more hops than really exist would
    let a client choose its own address, so the default is 0 (direct exposure, headers ignored).
    """
    raw = config.get("TRUSTED_PROXIES", os.environ.get("TITLEREVIEW_TRUSTED_PROXIES", 0))
    try:
        hops = int(raw)
    except (TypeError, ValueError):
        raise ValueError(f"TRUSTED_PROXIES must be a whole number of proxies, got {raw!r}") from None
    if hops < 0 or hops > 5:
        raise ValueError(f"TRUSTED_PROXIES must be between 0 and 5, got {hops}")
    app.config["TRUSTED_PROXIES"] = hops
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _hsts(app: Flask, config: dict[str, Any]) -> str | None:
    """The ``Strict-Transport-Security`` value, or None when HSTS is not configured (the default).

    ``HSTS_SECONDS`` (``TITLEREVIEW_HSTS_SECONDS``) is the max-age: off unless set, because the site is also run
    over plain HTTP for trials, and a browser told to insist on HTTPS for a host keeps insisting for that long.
    ``0`` sends ``max-age=0``, which makes browsers forget an earlier policy. ``HSTS_INCLUDE_SUBDOMAINS``
    (``TITLEREVIEW_HSTS_INCLUDE_SUBDOMAINS=1``) extends it to every subdomain — only when all of them serve HTTPS.
    Browsers ignore the header on plain HTTP, so it is sent on every response (a TLS proxy in front need not be
    trusted for it).
    """
    raw = config.get("HSTS_SECONDS", os.environ.get("TITLEREVIEW_HSTS_SECONDS", ""))
    sub = config.get("HSTS_INCLUDE_SUBDOMAINS", os.environ.get("TITLEREVIEW_HSTS_INCLUDE_SUBDOMAINS", ""))
    include = sub if isinstance(sub, bool) else str(sub).strip().lower() in ("1", "true", "yes", "on")
    app.config["HSTS_INCLUDE_SUBDOMAINS"] = include
    if raw is None or str(raw).strip() == "":
        app.config["HSTS_SECONDS"] = None
        return None
    try:
        seconds = int(str(raw).strip())
    except ValueError:
        raise ValueError(f"HSTS_SECONDS must be a whole number of seconds, got {raw!r}") from None
    if seconds < 0:
        raise ValueError(f"HSTS_SECONDS must not be negative, got {seconds}")
    app.config["HSTS_SECONDS"] = seconds
    return f"max-age={seconds}" + ("; includeSubDomains" if include else "")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the web application. ``config`` keys override the defaults (e.g. ``DATABASE_URL``)."""
    config = dict(config or {})
    instance = _instance_path(config)
    app = Flask(__name__, instance_path=str(instance))
    app.config.update(DEFAULTS)
    app.config.update(config)
    app.config["SECRET_KEY"] = _secret_key(config, instance)
    app.config["DATABASE_URL"] = database_url(config.get("DATABASE_URL"))
    app.config.setdefault("UPLOAD_FOLDER", str(instance / "uploads"))
    # Whole-request cap a little above the per-file limit, so an oversize file gets our own clear message
    # (checked per file) unless someone posts far more than any form needs.
    app.config.setdefault("MAX_CONTENT_LENGTH", app.config["MAX_UPLOAD_BYTES"] + 1024 * 1024)
    # The standards editor posts one input per field of a standard (about 300 for the Hunan SME standard, more
    # with many items); Flask's default of 1,000 form parts would refuse a long standard with a bare 413.
    app.config.setdefault("MAX_FORM_PARTS", 20_000)
    # Where people report a problem with the site, accessibility included (the footer shows it and the
    # accessibility statement in docs/ points there); empty: the footer names the offices that handle cases.
    app.config.setdefault("SUPPORT_CONTACT", os.environ.get("TITLEREVIEW_SUPPORT_CONTACT", "").strip())
    Path(app.config["UPLOAD_FOLDER"]).mkdir(parents=True, exist_ok=True)

    import workflow.models.attachments  # noqa: F401 - registers the attachment table on the metadata

    app.extensions[DB_EXTENSION] = config.get("DATABASE") or Database(app.config["DATABASE_URL"])
    _trust_proxies(app, config)
    hsts = _hsts(app, config)
    security_headers = SECURITY_HEADERS + ((("strict-transport-security", "Strict-Transport-Security", hsts),)
                                           if hsts else ())

    from . import security  # registers the flask-login user loader

    security.init_security(app, config)  # cookie flags (Secure outside debug/testing) and the sign-in throttle
    from .extensions import babel, bootstrap, csrf, login_manager
    from .i18n import N_, select_locale

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = N_("请先登录。")
    login_manager.localize_callback = gettext
    login_manager.login_message_category = "warning"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_locale="zh_CN", default_timezone="Asia/Shanghai")
    bootstrap.init_app(app)

    from .admin import bp as admin_bp
    from .applicant import bp as applicant_bp
    from .auth import bp as auth_bp
    from .authority import bp as authority_bp
    from .cases import bp as cases_bp
    from .panel import bp as panel_bp
    from .public import bp as public_bp
    from .unit import bp as unit_bp

    for blueprint in (public_bp, auth_bp, applicant_bp, unit_bp, authority_bp, panel_bp, admin_bp, cases_bp):
        app.register_blueprint(blueprint)

    from .committee import bp as committee_bp
    from .experts import bp as experts_bp

    app.register_blueprint(experts_bp)  # the expert pool (/admin/experts)
    app.register_blueprint(committee_bp)  # committee draw (/admin/sessions/<id>/committee) and conflicts
    from .ballot_sheets import bp as ballot_sheets_bp

    app.register_blueprint(ballot_sheets_bp)  # ballot sheets and the chair's agenda (/panel/sessions/<id>/…)
    from .standards import bp as standards_bp

    app.register_blueprint(standards_bp)  # occupation standards (/admin/standards) and the applicant's pre-check
    from .standards_versions import bp as standards_versions_bp

    app.register_blueprint(standards_versions_bp)  # two versions side by side (/admin/standards/compare)
    from .api import init_api
    from .tokens import bp as tokens_bp

    init_api(app)  # REST API /api/v1 (token auth, exempt from CSRF) and its OpenAPI document
    app.register_blueprint(tokens_bp)  # personal API tokens (/account/tokens)
    from .process import bp as process_bp

    app.register_blueprint(process_bp)  # live process view (/reports/process)
    from .reports import bp as reports_bp

    app.register_blueprint(reports_bp)  # reports with charts and the .xlsx exports of listings (/reports)
    from .calendar_admin import bp as calendar_admin_bp

    app.register_blueprint(calendar_admin_bp)  # working-calendar overrides and checks (/admin/calendar)
    from .todo import bp as todo_bp

    app.register_blueprint(todo_bp)  # 我的待办: what waits for the signed-in user in every role (/todo)

    from .errors import register_error_handlers
    from .templating import register_template_helpers

    register_error_handlers(app)
    register_template_helpers(app)
    from .display import init_display

    init_display(app)  # the elder-friendly mode: header switch (/display/elder-mode), per account or cookie

    @app.after_request
    def _security_headers(response):
        # Each header only when the view set none of its own (the panel's print view has its own policy). One
        # pass over the response's headers instead of a case-insensitive scan per header: this runs for every
        # response.
        headers = response.headers
        present = {key.lower() for key, _ in headers}
        for lower, key, value in security_headers:
            if lower not in present:
                headers.add(key, value)
        if ("cache-control" not in present and request.endpoint
                and not request.endpoint.startswith(("static", "bootstrap."))):
            headers.add("Cache-Control", "no-store")
        return response

    return app
