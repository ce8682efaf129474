"""Rate limits on the sign-in forms (OWASP ASVS 6.3.1): each password or code POSTed counts once per client address
and once per account (the email address typed, normalised), in Flask-Limiter's storage, TAPER_RATE_LIMIT_STORAGE_URL:
memory:// in one process (development, tests), Redis in production, where every gunicorn worker must count together.

Each application gets a Limiter of its own, not one shared by the process, so that two apps in one process (the
test of shared counting) share a count only through their storage. A refusal answers 429 with Taper's error page,
saying how long to wait, and is audited ("sign_in_rate_limited").
"""

from __future__ import annotations

import time

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse
from limits.errors import StorageError

from config import Settings
from taper.extensions import db
from taper.services import audit
from taper.web.errors import render_error, render_unavailable

# An NHS site can reach Taper from one shared address, so the per-client limit is the looser of the two.
PER_CLIENT = parse("30 per 10 minutes")
PER_ACCOUNT = parse("10 per 10 minutes")
_LIMITER = "taper.limiter"
STORAGE_TIMEOUT_SECONDS = 2
KEY_PREFIX = "RATELIMIT_KEY_PREFIX"  # app.config: what every counter's key starts with (default "taper")


class RateLimited(Exception):
    """Too many attempts at a sign-in form from this client or for this account."""

    def __init__(self, *, form: str, scope: str, account: str, retry_after_seconds: int):
        super().__init__(f"{form}: too many attempts per {scope}")
        self.form, self.scope, self.account = form, scope, account
        self.retry_after_seconds = retry_after_seconds

    @property
    def minutes_to_wait(self) -> int:
        return max(1, -(-self.retry_after_seconds // 60))


def init_app(app: Flask, settings: Settings) -> None:
    # Storage errors arrive as limits' StorageError; a Redis that does not answer fails within seconds.
    options: dict[str, str | int] = {"wrap_exceptions": True}
    if settings.rate_limit_storage_url.startswith(("redis://", "rediss://")):
        options |= {"socket_connect_timeout": STORAGE_TIMEOUT_SECONDS, "socket_timeout": STORAGE_TIMEOUT_SECONDS}
    limiter = Limiter(key_func=lambda: request.remote_addr or "", storage_uri=settings.rate_limit_storage_url,
                      storage_options=options, strategy="fixed-window")
    limiter.init_app(app)
    app.config.setdefault(KEY_PREFIX, "taper")
    app.extensions[_LIMITER] = limiter
    app.register_error_handler(RateLimited, _refuse)
    app.register_error_handler(StorageError, _cannot_count)


def count_attempt(form: str, *, account: str) -> None:
    """Count one attempt at `form` ("sign-in", "two-factor") by this client for this account; RateLimited if
    either limit is used up. A client over its limit is refused before its attempt counts for the account."""
    limits: tuple[tuple[str, RateLimitItem, str], ...] = (
        ("client", PER_CLIENT, request.remote_addr or "unknown"), ("account", PER_ACCOUNT, account))
    strategy = current_app.extensions[_LIMITER].limiter
    for scope, item, who in limits:
        key = (current_app.config[KEY_PREFIX], form, scope, who)
        if not strategy.hit(item, *key):
            reset_at = strategy.get_window_stats(item, *key).reset_time
            raise RateLimited(form=form, scope=scope, account=account,
                              retry_after_seconds=max(1, int(reset_at - time.time()) + 1))


def _refuse(error: RateLimited) -> tuple[str, int, dict[str, str]]:
    db.session.rollback()
    audit.record(action="sign_in_rate_limited", by=None, entity_type="user", actor_label=error.account or "(blank)",
                 changes={"form": error.form, "per": error.scope, "retry_after_seconds": error.retry_after_seconds})
    db.session.commit()
    minutes = error.minutes_to_wait
    page, status = render_error(429, f"There have been too many attempts to sign in. Wait {minutes} "
                                     f"minute{'s' if minutes != 1 else ''}, then try again.")
    return page, status, {"Retry-After": str(error.retry_after_seconds)}


def _cannot_count(error: StorageError) -> tuple[str, int, dict[str, str]]:
    """The rate-limit store (Redis) does not answer: sign-in is refused, closed rather than uncounted, with
    Taper's page and not a bare 500 (the lockout in the database would still hold, the per-client limit not)."""
    current_app.logger.error("sign-in refused: the rate-limit store does not answer (%s)", error)
    db.session.rollback()
    return render_unavailable("Signing in is not possible for a few minutes: Taper cannot reach the service that "
                              "counts sign-in attempts. Nothing was saved. Try again in a few minutes.")
