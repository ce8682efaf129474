"""Issue 15, item 3: rate limits on signing in, per client address and per account (429, audited), and the
progressive lockout per email address (grows, refuses even the right password, resets on success)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from config import ConfigurationError, load_settings
from taper import clock
from taper.extensions import db
from taper.models import AuditEvent, FailedSignIns
from taper.services import accounts as accounts_service
from taper.services import lockout
from taper.services.lockout import FAILURES_BEFORE_LOCKOUT, LONGEST_LOCKOUT, lockout_after
from taper.web.rate_limits import PER_ACCOUNT, PER_CLIENT
from tests.conftest import PASSWORD, Maker, page_text, submit


def _audits(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _sign_in(client: FlaskClient, email: str, password: str, address: str = "192.0.2.1"):  # type: ignore[no-untyped-def]
    return submit(client, "/login", {"email": email, "password": password},
                  environ_base={"REMOTE_ADDR": address})


def _forget_rate_limits(app: Flask) -> None:
    """Empty the rate-limit counters, so that a test of the lockout is not cut short by them."""
    app.extensions["taper.limiter"].reset()


# Rate limits --------------------------------------------------------------------------------------------------

def test_one_client_is_limited_across_accounts_and_the_refusal_is_a_429_that_is_audited(
        app: Flask, client: FlaskClient) -> None:
    for number in range(PER_CLIENT.amount):
        answer = _sign_in(client, f"guess{number}@example.nhs.uk", "not the password")
        assert answer.status_code == 200, number
    refused = _sign_in(client, "one-more@example.nhs.uk", "not the password")
    assert refused.status_code == 429
    assert "There have been too many attempts to sign in. Wait 10 minutes, then try again." in page_text(refused)
    assert 590 <= int(refused.headers["Retry-After"]) <= 600
    [event] = _audits("sign_in_rate_limited")
    assert (event.actor_label, event.origin) == ("one-more@example.nhs.uk", "192.0.2.1")
    assert event.changes is not None and (event.changes["form"], event.changes["per"]) == ("sign-in", "client")
    # another client is not held back by this one
    assert _sign_in(app.test_client(), "someone@example.nhs.uk", "not the password", "198.51.100.7").status_code == 200


def test_one_account_is_limited_across_clients_even_when_each_attempt_succeeds(app: Flask, make: Maker) -> None:
    user = make.user(email="busy@example.nhs.uk")
    for number in range(PER_ACCOUNT.amount):
        answer = _sign_in(app.test_client(), user.email, PASSWORD, f"203.0.113.{number + 1}")
        assert answer.status_code == 302, number
    refused = _sign_in(app.test_client(), "Busy@Example.nhs.uk ", PASSWORD, "203.0.113.200")
    assert refused.status_code == 429 and "Wait 10 minutes" in page_text(refused)
    [event] = _audits("sign_in_rate_limited")
    assert event.actor_label == user.email and event.changes is not None and event.changes["per"] == "account"


# Lockout ------------------------------------------------------------------------------------------------------

@given(st.integers(min_value=0, max_value=10_000))
def test_a_lockout_starts_at_five_failures_doubles_from_a_minute_and_stops_at_an_hour(failures: int) -> None:
    lockout = lockout_after(failures)
    if failures < FAILURES_BEFORE_LOCKOUT:
        assert lockout is None
        return
    assert lockout is not None and timedelta(minutes=1) <= lockout <= LONGEST_LOCKOUT
    following = lockout_after(failures + 1)
    assert following is not None and following == min(lockout * 2, LONGEST_LOCKOUT)


def test_the_lockout_refuses_the_right_password_grows_and_resets_after_a_sign_in(
        app: Flask, client: FlaskClient, make: Maker, monkeypatch: pytest.MonkeyPatch) -> None:
    user = make.user(email="locked@example.nhs.uk")
    for _ in range(FAILURES_BEFORE_LOCKOUT):
        assert "not correct" in page_text(_sign_in(client, user.email, "not the password"))

    hashed: list[str] = []
    real_verify = accounts_service.verify_password
    monkeypatch.setattr(accounts_service, "verify_password",
                        lambda stored, typed: hashed.append(typed) or real_verify(stored, typed))
    locked = _sign_in(client, user.email, PASSWORD)
    assert locked.status_code == 429 and client.get("/patients/").status_code == 302
    assert 1 <= int(locked.headers["Retry-After"]) <= 60
    assert "too many failed attempts to sign in with this email address. Wait 1 minute," in page_text(locked)
    assert hashed == []  # refused before any Argon2 hash was computed
    assert _audits("sign_in_locked_out")[-1].actor_label == user.email

    with clock.freeze(clock.now() + timedelta(minutes=1, seconds=1)):
        assert "not correct" in page_text(_sign_in(client, user.email, "still not the password"))
        longer = _sign_in(client, user.email, PASSWORD)  # after a sixth failure: twice as long
        assert "Wait 2 minutes," in page_text(longer) and longer.headers["Retry-After"] == "120"
    _forget_rate_limits(app)
    with clock.freeze(clock.now() + timedelta(minutes=3, seconds=2)):
        assert _sign_in(client, user.email, PASSWORD).status_code == 302
        assert db.session.get(FailedSignIns, user.email) is None  # a sign-in forgets the failures
    assert [event.action for event in _audits("login_failure")] == ["login_failure"] * (FAILURES_BEFORE_LOCKOUT + 1)


def test_a_lockout_is_the_same_for_an_address_with_no_account(client: FlaskClient) -> None:
    """So that a lockout never tells whether an account exists."""
    for _ in range(FAILURES_BEFORE_LOCKOUT):
        assert "not correct" in page_text(_sign_in(client, "nobody@example.nhs.uk", "a guess at a password"))
    refused = _sign_in(client, "nobody@example.nhs.uk", "a guess at a password")
    assert refused.status_code == 429 and "Wait 1 minute," in page_text(refused)


def test_fewer_failures_than_the_lockout_are_forgotten_after_a_sign_in(client: FlaskClient, make: Maker) -> None:
    user = make.user(email="careful@example.nhs.uk")
    for _ in range(FAILURES_BEFORE_LOCKOUT - 1):
        _sign_in(client, user.email, "not the password")
    assert _sign_in(client, user.email, PASSWORD).status_code == 302
    submit(client, "/logout", {}, form_url="/patients/")
    for _ in range(FAILURES_BEFORE_LOCKOUT - 1):
        assert "not correct" in page_text(_sign_in(client, user.email, "not the password"))
    assert _sign_in(client, user.email, PASSWORD).status_code == 302  # not locked: the count started again


def test_failures_older_than_a_day_do_not_add_to_a_new_one(app: Flask) -> None:
    """Four failures one day, one more two days later: a single failure, not a lockout."""
    for _ in range(FAILURES_BEFORE_LOCKOUT - 1):
        assert lockout.record_failure("returning@example.nhs.uk") is None
    with clock.freeze(clock.now() + lockout.FORGET_AFTER + timedelta(minutes=1)):
        assert lockout.record_failure("returning@example.nhs.uk") is None
    db.session.commit()
    assert db.session.scalar(select(FailedSignIns.failures)) == 1


def test_a_new_password_set_by_an_administrator_ends_a_lockout(client: FlaskClient, make: Maker) -> None:
    user = make.user(email="forgetful@example.nhs.uk")
    for _ in range(FAILURES_BEFORE_LOCKOUT):
        _sign_in(client, user.email, "not the password")
    accounts_service.set_password(by=make.user(email="admin@example.nhs.uk", role=accounts_service.Role.ADMIN),
                                  user_id=user.id, password="a brand new passphrase for Taper")
    db.session.commit()
    assert _sign_in(client, user.email, "a brand new passphrase for Taper").status_code == 302


# Settings -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("environ", "message"), [
    ({}, "TAPER_RATE_LIMIT_STORAGE_URL=memory://"),
    ({"TAPER_RATE_LIMIT_STORAGE_URL": "memory://"}, "gunicorn"),
    ({"TAPER_RATE_LIMIT_STORAGE_URL": "redis://cache:6379/0", "TAPER_REQUIRE_TWO_FACTOR": "false"},
     "TAPER_REQUIRE_TWO_FACTOR=false"),
])
def test_production_refuses_in_memory_rate_limits_and_sign_in_without_two_factors(
        tmp_path: Path, environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_settings({"TAPER_ENV": "production", "TAPER_SECRET_KEY": "s" * 40, "TAPER_INSTANCE_PATH": str(tmp_path),
                       **environ})


def test_development_counts_in_memory_and_asks_for_a_second_factor_only_when_set(tmp_path: Path) -> None:
    default = load_settings({"TAPER_INSTANCE_PATH": str(tmp_path)})
    assert (default.rate_limit_storage_url, default.require_two_factor) == ("memory://", False)
    chosen = load_settings({"TAPER_INSTANCE_PATH": str(tmp_path), "TAPER_REQUIRE_TWO_FACTOR": "true",
                            "TAPER_RATE_LIMIT_STORAGE_URL": "redis://127.0.0.1:6379/3"})
    assert (chosen.rate_limit_storage_url, chosen.require_two_factor) == ("redis://127.0.0.1:6379/3", True)
