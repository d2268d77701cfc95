"""Signed-in users for flask-login, and the role checks the blueprints use.

The session cookie holds ``<user id>:<tag>`` where the tag is a fingerprint of the stored password hash and the
user's session generation, checked on every request. Signing out, changing or resetting the password,
deactivating the account and an administrator's "sign out everywhere" raise the generation
(:mod:`workflow.administration`), so every cookie issued before — on any device, however long it was kept, and a
"remember me" cookie alike, which carries the same id — is refused from then on. Roles and organisation are
read from the database on every request (one indexed query), so deactivating a user or changing their
roles takes effect at once — there is no cached copy to go stale.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import abort, current_app, request
from flask_login import UserMixin, current_user

from workflow.access.accounts import signed_in_user, statement_reads
from workflow.access.roles import ROLES, Actor
from workflow.access.visibility import VisibleCases, visible_cases

from .extensions import get_db, login_manager

ROLE_ORDER = ("applicant", "unit_reviewer", "agency_reviewer", "superior_reviewer", "authority_officer",
              "panel_chair", "panel_member", "administrator")
"""Order in which a person's areas appear in the navigation; the first one is their home page."""


def session_tag(password_hash: str, generation: int = 0) -> str:
    """A short fingerprint of the password hash and the session generation (changes whenever either does)."""
    return hashlib.sha256(f"{generation}:{password_hash}".encode()).hexdigest()[:16]


@dataclass
class WebUser(UserMixin):
    """The signed-in person as the web layer sees them; ``actor`` is what the core receives."""

    id: int
    username: str
    display_name: str
    roles: frozenset[str]
    org_id: int | None
    org_name: str
    org_kind: str
    tag: str
    elder_mode: bool = False  # the elder-friendly display the person chose (web/display.py)

    def get_id(self) -> str:
        """Session identifier: user id plus the fingerprint of password and session generation."""
        return f"{self.id}:{self.tag}"

    @property
    def actor(self) -> Actor:
        """The explicit actor handed to every core call."""
        return Actor(user_id=self.id, roles=self.roles, org_id=self.org_id, name=self.display_name)

    def has(self, *roles: str) -> bool:
        """True when the user holds any of ``roles``."""
        return bool(self.roles.intersection(roles))

    @property
    def ordered_roles(self) -> list[str]:
        """The user's roles in navigation order."""
        return [r for r in ROLE_ORDER if r in self.roles]

    def role_labels(self) -> list[dict[str, str]]:
        """Display labels of the user's roles."""
        return [ROLES[r] for r in self.ordered_roles]


def load_web_user(user_id: int) -> WebUser | None:
    """The active user ``user_id`` with roles and organisation, or None
    (:func:`workflow.access.accounts.signed_in_user`: one statement)."""
    with statement_reads(get_db()) as conn:
        found = signed_in_user(conn, user_id)
    if found is None:
        return None
    return WebUser(id=found.id, username=found.username, display_name=found.display_name, roles=found.roles,
                   org_id=found.org_id, org_name=found.org_name, org_kind=found.org_kind,
                   tag=session_tag(found.password_hash, found.session_generation), elder_mode=found.elder_mode)


@login_manager.user_loader
def _load_user(session_id: str) -> WebUser | None:
    user_part, _, tag = session_id.partition(":")
    user_id = small_int(user_part)
    if user_id is None:
        return None
    user = load_web_user(user_id)
    if user is None or user.tag != tag:
        return None
    return user


def visible_scope(conn) -> VisibleCases:
    """The cases the signed-in user may see (nothing when nobody is signed in) on ``conn`` (from ``db.read()``
    or :func:`statement_reads`): the one scope every listing, inbox, report and export passes to
    :mod:`workflow.records.queries` (see :func:`workflow.access.visibility.visible_cases`)."""
    actor = current_user.actor if current_user.is_authenticated else Actor(user_id=None)
    return visible_cases(conn, get_db(), actor)


def roles_required(*roles: str) -> Callable:
    """Require a signed-in user holding at least one of ``roles`` (403 otherwise)."""

    def decorate(view: Callable) -> Callable:
        """Wrap ``view`` with the role check."""
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            """Sign-in first (redirect), then the role (403)."""
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def home_endpoint(user: WebUser) -> str:
    """The endpoint of a user's main page (their first role's inbox)."""
    for role in user.ordered_roles:
        endpoint = AREA_ENDPOINTS.get(role)
        if endpoint:
            return endpoint
    return "auth.account"


AREA_ENDPOINTS = {
    "applicant": "applicant.home",
    "unit_reviewer": "unit.inbox",
    "agency_reviewer": "unit.inbox",
    "superior_reviewer": "unit.superior_inbox",
    "authority_officer": "authority.inbox",
    "panel_chair": "panel.home",
    "panel_member": "panel.home",
    "administrator": "admin.home",
}
"""Each role's area in the navigation."""


# --------------------------------------------------------------------------------------------- sign-in throttling

LIMITER_EXTENSION = "titlereview_limiter"

# Three counters of failed sign-ins, after NIST SP 800-63B §5.2.2 (Rate Limiting (Throttling)): the verifier
# SHALL limit consecutive failed attempts on one account to no more than 100, MAY add measures that keep an
# attacker from locking out the real user, and SHOULD disregard a user's earlier failures from an address once
# they sign in from it. A fast per-account count alone would let anyone lock any account with five wrong
# passwords; counting per (account, address) confines that to the attacker's own address, and the slow
# account-wide count still bounds guessing from many addresses. Every counter is keyed by the name as
# typed, so an unknown name is counted and refused exactly like a real one.

LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS = "5 per 15 minutes"
"""Failed sign-ins allowed for one username (existing or not) from one client address; then that address is
refused for that name for the rest of the window. Nobody at another address is affected."""

LOGIN_FAILURES_PER_ACCOUNT = "100 per 24 hours"
"""Failed sign-ins allowed for one username from all addresses together (800-63B's ceiling of 100); then
everyone is refused for that name until the failures age out of the 24-hour window or an administrator clears
the lock (:func:`clear_account_lock`). A day, not longer: a lock that outlived it would let 100 wrong guesses
shut an account for good, while a shorter window would allow more than 100 guesses a day."""

LOGIN_FAILURES_PER_IP = "30 per 15 minutes"
"""Failed sign-ins allowed from one address (password spraying across many usernames)."""


@dataclass
class LoginThrottle:
    """The sign-in counters of one app: a ``limits`` moving-window limiter over the configured storage.

    Flask-Limiter's ``Limiter(app=app)`` would install a before- and an after-request hook that evaluate
    route limits on every request; the site has no route limits (only these counters, consulted by the
    sign-in view), so the storage and strategy are used directly and ordinary pages pay nothing for them.
    """

    enabled: bool
    limiter: Any  # limits.strategies.MovingWindowRateLimiter (None when switched off)


def init_security(app, given: dict[str, Any] | None = None) -> None:
    """Cookie flags, and the sign-in throttle's storage (``limits``, as Flask-Limiter configures it) for ``app``.

    ``SESSION_COOKIE_SECURE`` defaults to on unless the app runs in debug or testing mode; ``given`` (the
    configuration passed to ``create_app``) or ``TITLEREVIEW_COOKIE_SECURE=0`` turns it off on purpose (plain
    HTTP behind nothing, e.g. a local trial). The throttle's counters live in ``RATELIMIT_STORAGE_URI`` or
    ``TITLEREVIEW_RATELIMIT_STORAGE`` (e.g. ``redis://127.0.0.1:6379/0``, required when several worker
    processes serve the site, or each would count on its own), else in this process's memory;
    ``RATELIMIT_STORAGE_OPTIONS`` are passed to the storage and ``RATELIMIT_ENABLED=False`` switches it off.
    The limits are ``LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS``, ``LOGIN_FAILURES_PER_ACCOUNT`` and
    ``LOGIN_FAILURES_PER_IP`` (``limits`` notation, e.g. ``"5 per 15 minutes"``).
    """
    import os

    from limits.storage import storage_from_string
    from limits.strategies import MovingWindowRateLimiter

    given = given or {}
    if "SESSION_COOKIE_SECURE" not in given:  # Flask's own default (False) is no choice anyone made
        env = os.environ.get("TITLEREVIEW_COOKIE_SECURE", "").strip().lower()
        app.config["SESSION_COOKIE_SECURE"] = (env not in ("0", "false", "no", "off") if env
                                               else not (app.debug or app.testing))
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config["SESSION_COOKIE_SECURE"])
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("RATELIMIT_STORAGE_URI", os.environ.get("TITLEREVIEW_RATELIMIT_STORAGE") or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "titlereview")
    app.config.setdefault("RATELIMIT_ENABLED", True)
    app.config.setdefault("LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS", LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS)
    app.config.setdefault("LOGIN_FAILURES_PER_ACCOUNT", LOGIN_FAILURES_PER_ACCOUNT)
    app.config.setdefault("LOGIN_FAILURES_PER_IP", LOGIN_FAILURES_PER_IP)
    # One throttle per app (tests build many apps). Building the storage opens no connection (Redis connects
    # on first use), so an unreachable store shows up in login_throttled/record_login_failure, which cope.
    enabled = bool(app.config["RATELIMIT_ENABLED"])
    limiter = None
    if enabled:
        storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"],
                                      **app.config.get("RATELIMIT_STORAGE_OPTIONS", {}))
        limiter = MovingWindowRateLimiter(storage)
    app.extensions[LIMITER_EXTENSION] = LoginThrottle(enabled=enabled, limiter=limiter)


@dataclass(frozen=True)
class LoginRefusal:
    """Why a sign-in is refused before its password is checked (for the message the person gets)."""

    account_wide: bool
    """True: the account-wide limit, which refuses everyone at every address; False: this address only."""
    minutes: int
    """The longest the refusal can last: the window of the limit reached."""


def _account_key(username: str) -> str:
    # The name as typed (normalised as sign-in matches it, ignoring case and surrounding spaces), whether or not
    # such a user exists: the answer never differs. Hashed, so the store holds no usernames.
    return hashlib.sha256(username.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _client_address() -> str:
    """The client's address as the throttle counts it (after the trusted-proxy handling of ``create_app``)."""
    import ipaddress

    raw = request.remote_addr or ""
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return raw or "-"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        # One IPv6 subscriber is usually given a whole /64: counting single addresses would hand one attacker
        # 2**64 fresh budgets.
        return str(ipaddress.ip_network((ip, 64), strict=False))
    return str(ip)


def _login_limits(username: str, *, with_address: bool = True) -> dict[str, tuple[Any, tuple[str, ...]]]:
    """The throttle's counters for ``username`` (and this request's address): scope → (limit, key parts)."""
    from limits import parse

    config = current_app.config
    prefix = config["RATELIMIT_KEY_PREFIX"]
    name = _account_key(username)
    found = {"account": (parse(config["LOGIN_FAILURES_PER_ACCOUNT"]), (prefix, "login-account", name))}
    if with_address:
        address = _client_address()
        found["account_address"] = (parse(config["LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS"]),
                                    (prefix, "login-account-ip", name, address))
        found["address"] = (parse(config["LOGIN_FAILURES_PER_IP"]), (prefix, "login-ip", address))
    return found


def _throttle() -> LoginThrottle | None:
    found = current_app.extensions.get(LIMITER_EXTENSION)
    return found if found is not None and found.enabled else None


def login_throttled(username: str) -> LoginRefusal | None:
    """Why sign-in for ``username`` from this address is refused for now (too many failures), else None.

    Decided before the password is checked and the same for names with and without an account, so a refusal
    tells nobody whether the account exists.
    """
    throttle = _throttle()
    if throttle is None:
        return None
    counters = _login_limits(username)
    try:
        reached = [scope for scope, (item, keys) in counters.items() if not throttle.limiter.test(item, *keys)]
    except Exception:  # the shared store is down: sign-in keeps working, the operators get a log line
        current_app.logger.exception("sign-in throttle storage unavailable")
        return None
    if not reached:
        return None
    # The account-wide lock is the one to explain: waiting out the address limit would not end it.
    scopes = ["account"] if "account" in reached else reached
    minutes = max(counters[scope][0].get_expiry() for scope in scopes) // 60
    return LoginRefusal(account_wide="account" in reached, minutes=max(1, minutes))


def record_login_failure(username: str) -> None:
    """Count one failed sign-in against the username from this address, the username and the address."""
    throttle = _throttle()
    if throttle is None:
        return
    try:
        for item, keys in _login_limits(username).values():
            throttle.limiter.hit(item, *keys)
    except Exception:
        current_app.logger.exception("sign-in throttle storage unavailable")


def record_login_success(username: str) -> None:
    """Forget the username's failures from this address (800-63B §5.2.2 SHOULD): the person who typed the
    password wrong a few times and then right starts afresh there. The account-wide and the per-address counts
    stay, so signing in never buys an attacker more guesses overall."""
    throttle = _throttle()
    if throttle is None:
        return
    try:
        item, keys = _login_limits(username)["account_address"]
        throttle.limiter.clear(item, *keys)
    except Exception:
        current_app.logger.exception("sign-in throttle storage unavailable")


def account_sign_in_failures(username: str) -> tuple[int, int] | None:
    """(failed sign-ins counted against ``username`` from all addresses, the account-wide limit), or None
    when the throttle is off or its store cannot be read. The account is locked when the two are equal."""
    throttle = _throttle()
    if throttle is None:
        return None
    item, keys = _login_limits(username, with_address=False)["account"]
    try:
        remaining = throttle.limiter.get_window_stats(item, *keys).remaining
    except Exception:
        current_app.logger.exception("sign-in throttle storage unavailable")
        return None
    return item.amount - remaining, item.amount


def clear_account_lock(username: str) -> bool:
    """Forget the account-wide failures of ``username`` (an administrator's 解除登录限制); False when the
    throttle is off or its store failed. Per-address counts are not touched: they refuse only the addresses
    the failures came from, and end by themselves within their short window."""
    throttle = _throttle()
    if throttle is None:
        return False
    item, keys = _login_limits(username, with_address=False)["account"]
    try:
        throttle.limiter.clear(item, *keys)
    except Exception:
        current_app.logger.exception("sign-in throttle storage unavailable")
        return False
    return True


def small_int(raw: str | None, *, digits: int = 12) -> int | None:
    """``raw`` as a non-negative int when it is 1 to ``digits`` ASCII digits (spaces around allowed), else None.

    ``str.isdigit`` also accepts characters ``int`` refuses (``²``, ``①``) and strings too long to convert or to
    store, so posted ids, versions, scores and page numbers go through here rather than ``isdigit`` + ``int``.
    """
    raw = (raw or "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= digits:
        return int(raw)
    return None
