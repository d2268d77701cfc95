"""Flask extensions, created unbound here and bound to an app in :func:`web.create_app` (``init_app``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app
from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
"""Sessions for signed-in users (flask-login)."""

csrf = CSRFProtect()
"""CSRF protection on every POST, including forms that are not Flask-WTF forms."""

babel = Babel()
"""Translations: Chinese (zh_CN) by default, English on request."""

bootstrap = Bootstrap5()
"""Bootstrap CSS, served from the package's own static files (no CDN)."""

if TYPE_CHECKING:
    from workflow.db import Database

DB_EXTENSION = "titlereview_db"
"""Where :func:`web.create_app` keeps the app's :class:`~workflow.db.Database`."""


def get_db(app: Flask | None = None) -> Database:
    """The app's :class:`~workflow.db.Database` (the current app's when ``app`` is omitted)."""
    return (app or current_app).extensions[DB_EXTENSION]
