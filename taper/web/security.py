"""Deny by default: every route needs a signed-in user whose role the route names, except a short
allow-list; sessions end after idle and absolute limits; strict security headers on every answer."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Flask, abort, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from taper import clock
from taper.domain.organisations import Role
from taper.extensions import db, login_manager
from taper.services import accounts, audit

F = TypeVar("F", bound=Callable[..., Any])

# Endpoints anyone may reach without signing in.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static", "nhsuk.static",
                              # the second step of signing in: each view checks the half-signed-in session itself
                              "auth.two_factor_code", "auth.two_factor_setup"})
LOGIN_AT = "login_at"
BROWSER = "browser"


def roles(*allowed: Role) -> Callable[[F], F]:
    """Declare which roles may use a view. A view without this declaration is refused to everyone."""

    def decorate(view: F) -> F:
        view.allowed_roles = frozenset(allowed)  # type: ignore[attr-defined]
        return view

    return decorate


def allowed_roles(app: Flask, endpoint: str) -> frozenset[Role] | None:
    """The roles declared for an endpoint (None: public, or undeclared and so refused)."""
    return getattr(app.view_functions[endpoint], "allowed_roles", None)


def init_app(app: Flask) -> None:
    # Flask-Login's own protection only marks permanent sessions "not fresh", so it is off; see _browser_changed.
    login_manager.session_protection = None
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.user_loader(accounts.user_for_session)
    app.before_request(_record_origin)
    app.before_request(_enforce_access)
    app.after_request(_security_headers)
    app.context_processor(lambda: {"cspNonce": _csp_nonce()})


def start_session(user: Any) -> None:
    """Begin a fresh session for a user who has just proved who they are (new cookie contents)."""
    session.clear()
    login_user(user)
    session.permanent = True
    session[LOGIN_AT] = clock.now().timestamp()
    session[BROWSER] = _browser_fingerprint()


def _record_origin() -> None:
    audit.set_origin(request.remote_addr)


def _enforce_access() -> Response | None:
    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return None
    from taper.web import kept_work  # (it declares its own routes' roles with this module)

    if not current_user.is_authenticated:
        return kept_work.keep_and_sign_in() or login_manager.unauthorized()
    if _browser_changed():
        return _end_copied_session()
    if _session_too_old():
        logout_user()
        session.clear()
        kept = kept_work.keep_and_sign_in()
        if kept is not None:
            return kept
        flash("You were signed out because your session reached its time limit. Sign in again.", "info")
        return redirect(url_for("auth.login"))
    permitted = allowed_roles(current_app, endpoint)
    if permitted is None or current_user.role not in permitted:
        audit.record(action="access_denied", by=current_user, entity_type="route", entity_id=endpoint)
        db.session.commit()
        abort(403)
    return None


def _browser_fingerprint() -> str:
    """A hash of the browser's User-Agent header, which stays the same for the life of a browser session.

    The session is bound to this and not to the IP address: NHS networks send traffic out through shared and
    changing proxy addresses, and a laptop or phone moves between Wi-Fi and mobile data, so an address binding
    would sign clinicians out in the middle of their work. The User-Agent is not a secret, so this is a
    tripwire for a session cookie copied into another browser or tool, not a defence on its own."""
    agent = request.headers.get("User-Agent", "")
    return hashlib.blake2b(agent.encode("utf-8", "replace"), digest_size=16).hexdigest()


def _browser_changed() -> bool:
    return session.get(BROWSER) != _browser_fingerprint()


def _end_copied_session() -> Response:
    """The session cookie came from another browser than the one that signed in: it may have been copied, so
    every session of the account ends (its session token is rotated) and the event is audited."""
    user = current_user._get_current_object()
    audit.record(action="session_binding_failed", by=user, entity_type="user", entity_id=user.id,
                 changes={"user_agent": request.headers.get("User-Agent", "")[:200]})
    return end_every_session(user, "You were signed out because your session was used from another browser. "
                                   "Sign in again.")


def end_every_session(user: Any, message: str) -> Response:
    """Sign the user out here and in every other browser (their session token is rotated), and say why."""
    accounts.sign_out(user=user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(message, "info")
    return redirect(url_for("auth.login"))


def _session_too_old() -> bool:
    started = session.get(LOGIN_AT)
    if started is None:
        return True
    age = clock.now() - datetime.fromtimestamp(started, UTC)
    return age > current_app.config["TAPER_SESSION_MAX_AGE"]


def _csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


def _security_headers(response: Response) -> Response:
    nonce = _csp_nonce()
    response.headers.setdefault("Content-Security-Policy", (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self'; img-src 'self' data:; "
        "font-src 'self' https://assets.nhs.uk; "  # the NHS.UK frontend's Frutiger web font
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ))  # a response may set a stricter policy of its own (the chart's SVG)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.endpoint not in ("static", "nhsuk.static"):
        response.headers["Cache-Control"] = "no-store"
    if current_app.config["SESSION_COOKIE_SECURE"]:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response
