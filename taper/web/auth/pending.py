"""The half-signed-in state between a correct password and the second factor, kept in the session under its own
key. It is not a sign-in: Flask-Login knows nothing of it, so every page but the two-factor ones stays refused
(taper.web.security), and `start_session` replaces it once the second factor is proved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import session

from taper import clock
from taper.models import User
from taper.services import accounts, two_factor

PENDING_SIGN_IN = "pending_sign_in"
LIFETIME = timedelta(minutes=10)  # from the password to the code (or the end of enrolment)


def begin(user: User, next_url: str) -> None:
    """A fresh session holding only who has given the right password, when, and where to go afterwards."""
    session.clear()
    session[PENDING_SIGN_IN] = {"token": user.session_token, "at": clock.now().timestamp(), "next": next_url}


def user() -> User | None:
    """The user halfway through signing in, or None (none, expired, or their sessions ended meanwhile)."""
    state = _state()
    if state is None:
        return None
    if clock.now() - datetime.fromtimestamp(state["at"], UTC) > LIFETIME:
        session.pop(PENDING_SIGN_IN, None)
        return None
    return accounts.user_for_session(state["token"])


def next_url() -> str:
    state = _state()
    return state["next"] if state else "/"


def enrolment_secret() -> str:
    """The TOTP secret being set up: made once per half-signed-in session, stored on the account only when the
    first code confirms it."""
    state = _state()
    assert state is not None, "enrolment needs a half-signed-in session"
    if "secret" not in state:
        state["secret"] = two_factor.new_secret()
        session[PENDING_SIGN_IN] = state
    return str(state["secret"])


def _state() -> dict[str, Any] | None:
    state = session.get(PENDING_SIGN_IN)
    return state if isinstance(state, dict) else None
