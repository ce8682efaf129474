"""Issue 15, item 3: two-factor sign-in with codes from an authenticator app (TOTP) and recovery codes:
enrolment, sign-in with a code, a wrong code, a reused code, a recovery code and its reuse, and the
half-signed-in state that opens nothing."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from taper import clock
from taper.extensions import db
from taper.models import AuditEvent, FailedSignIns, RecoveryCode, User
from taper.services import two_factor
from taper.services.lockout import FAILURES_BEFORE_LOCKOUT
from tests.conftest import PASSWORD, Maker, csrf_token, page_text, submit


@pytest.fixture
def two_factor_required(app: Flask) -> Flask:
    """As in production: every account signs in with two factors."""
    app.extensions["taper.settings"] = replace(app.extensions["taper.settings"], require_two_factor=True)
    return app


def _actions(user: User) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "user",
                                                                   AuditEvent.entity_id == str(user.id))
                                   .order_by(AuditEvent.id)))


def _password(client: FlaskClient, user: User):  # type: ignore[no-untyped-def]
    return submit(client, "/login", {"email": user.email, "password": PASSWORD})


def _code(client: FlaskClient, code: str):  # type: ignore[no-untyped-def]
    return submit(client, "/login/code", {"code": code})


def _now_code(secret: str) -> str:
    return pyotp.TOTP(secret).at(clock.now())


def _enrolled(user: User) -> tuple[str, list[str]]:
    """Enrol `user` through the service, as the set-up page does; the secret and the recovery codes."""
    secret = two_factor.new_secret()
    codes = two_factor.enrol(user=user, secret=secret, code=_now_code(secret))
    db.session.commit()
    assert codes is not None
    return secret, codes


def _later(seconds: int):  # type: ignore[no-untyped-def]
    """The clock moved on by whole 30-second steps, so that the app shows a new code."""
    return clock.freeze(clock.now() + timedelta(seconds=seconds))


def test_enrolment_shows_a_qr_code_and_key_confirms_with_a_code_and_shows_recovery_codes_once(
        two_factor_required: Flask, client: FlaskClient, make: Maker) -> None:
    user = make.user(email="new@example.nhs.uk")
    assert _password(client, user).headers["Location"] == "/login/set-up-two-factor"
    assert client.get("/patients/").status_code == 302  # the password alone opens nothing
    page = client.get("/login/set-up-two-factor")
    text = page_text(page)
    assert '<img src="data:image/svg+xml' in text and "QR code for adding Taper" in text
    key = re.search(r'<code id="two-factor-key">([A-Z2-7 ]+)</code>', text)
    assert key is not None
    secret = key.group(1).replace(" ", "")

    wrong = submit(client, "/login/set-up-two-factor", {"code": "000000" if _now_code(secret) != "000000"
                                                        else "111111"})
    assert "The code is not correct" in page_text(wrong) and client.get("/patients/").status_code == 302

    done = submit(client, "/login/set-up-two-factor", {"code": _now_code(secret)})
    shown = re.findall(r"<code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>", done.get_data(as_text=True))
    assert done.status_code == 200 and len(set(shown)) == 10
    assert client.get("/patients/").status_code == 200  # signed in
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert stored is not None and stored.totp_secret == secret
    hashes = list(db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)))
    assert len(hashes) == 10 and not any(code.replace("-", "") in stored_hash for code in shown
                                         for stored_hash in hashes)  # only hashes are kept
    assert _actions(user)[-3:] == ["two_factor_enrolment_failure", "two_factor_enrolled", "login_success"]


def test_sign_in_asks_for_the_code_and_a_right_code_signs_in(client: FlaskClient, make: Maker) -> None:
    """Asked even where two factors are not required (here), once the account has them."""
    user = make.user(email="enrolled@example.nhs.uk")
    secret, _ = _enrolled(user)
    with _later(60):
        assert _password(client, user).headers["Location"] == "/login/code"
        assert client.get("/patients/").status_code == 302
        signed_in = _code(client, _now_code(secret))
        assert signed_in.status_code == 302 and client.get("/patients/").status_code == 200
    assert _actions(user)[-1] == "login_success"


def test_a_wrong_code_is_refused_audited_and_counts_towards_the_lockout(client: FlaskClient, make: Maker) -> None:
    user = make.user(email="wrong@example.nhs.uk")
    secret, _ = _enrolled(user)
    with _later(60):
        _password(client, user)
        wrong = "123456" if _now_code(secret) != "123456" else "654321"
        refused = _code(client, wrong)
        assert refused.status_code == 200 and "The code is not correct" in page_text(refused)
        assert client.get("/patients/").status_code == 302
        failed = db.session.get(FailedSignIns, user.email)
        assert failed is not None and failed.failures == 1
        assert _actions(user)[-1] == "two_factor_failure"
        for _ in range(FAILURES_BEFORE_LOCKOUT - 1):
            _code(client, wrong)
        locked = _code(client, _now_code(secret))  # the right code, during the lockout
        assert locked.status_code == 429 and "Wait 1 minute" in page_text(locked)
        assert client.get("/patients/").status_code == 302


def test_a_code_is_accepted_once_only(app: Flask, make: Maker) -> None:
    user = make.user(email="reuse@example.nhs.uk")
    secret, _ = _enrolled(user)
    first, second = app.test_client(), app.test_client()
    with _later(60):
        code = _now_code(secret)
        _password(first, user)
        assert _code(first, code).status_code == 302
        _password(second, user)
        refused = _code(second, code)  # the same code again, in the same 30 seconds
        assert "it has been used already" in page_text(refused)
        assert second.get("/patients/").status_code == 302
    with _later(90):
        _password(second, user)
        assert "not correct" in page_text(_code(second, pyotp.TOTP(secret).at(clock.now() - timedelta(seconds=60))))
        assert _code(second, _now_code(secret)).status_code == 302  # the next step's code works


def test_a_recovery_code_signs_in_once_and_not_again(app: Flask, make: Maker) -> None:
    user = make.user(email="lost-phone@example.nhs.uk")
    _, codes = _enrolled(user)
    first, second = app.test_client(), app.test_client()
    _password(first, user)
    recovered = _code(first, codes[3].upper().replace("-", " "))  # as someone might type it
    assert recovered.status_code == 302
    assert "You have 9 left" in page_text(first.get("/patients/"))
    assert _actions(user)[-2:] == ["recovery_code_used", "login_success"]
    _password(second, user)
    assert "it has been used already" in page_text(_code(second, codes[3]))
    assert second.get("/patients/").status_code == 302


def test_the_half_signed_in_state_expires_and_the_code_page_needs_a_password_first(
        client: FlaskClient, make: Maker) -> None:
    user = make.user(email="slow@example.nhs.uk")
    secret, _ = _enrolled(user)
    assert client.get("/login/code").headers["Location"] == "/login"  # no password yet
    with _later(60):
        _password(client, user)
        token = csrf_token(client, "/login/code")
    with _later(60 + 10 * 60 + 30):
        late = client.post("/login/code", data={"csrf_token": token, "code": _now_code(secret)})
        assert late.status_code == 302 and late.headers["Location"] == "/login"
        assert client.get("/patients/").status_code == 302


def test_an_administrator_resets_a_lost_app_and_the_person_sets_up_a_new_one(two_factor_required: Flask,
                                                                              make: Maker) -> None:
    """Someone who lost their phone and their recovery codes: an administrator takes the app away (audited,
    signed out everywhere), and the next sign-in asks them to set up an app again; the old codes are dead."""
    from taper.domain.organisations import Role

    user = make.user(email="lost.phone@example.nhs.uk")
    secret, _ = _enrolled(user)
    person, admin_client = two_factor_required.test_client(), two_factor_required.test_client()
    admin = make.user(Role.ADMIN, email="admin@example.nhs.uk")
    admin_secret, _ = _enrolled(admin)
    with _later(60):
        _password(person, user)
        assert _code(person, _now_code(secret)).status_code == 302
        assert person.get("/patients/").status_code == 200
        _password(admin_client, admin)
        assert _code(admin_client, _now_code(admin_secret)).status_code == 302
        assert "Reset two-factor sign-in" in page_text(admin_client.get("/admin/users"))
        done = submit(admin_client, f"/admin/users/{user.id}/two-factor", {})
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/users")
    db.session.expire_all()
    assert user.totp_secret is None and not db.session.scalars(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id)).all()
    assert "reset_two_factor" in _actions(user)
    with _later(60):
        own = page_text(submit(admin_client, f"/admin/users/{admin.id}/two-factor", {}))
    assert "You cannot reset your own two-factor sign-in: ask another administrator" in own
    db.session.expire_all()
    assert admin.totp_secret == admin_secret
    with _later(90):
        assert person.get("/patients/").status_code == 302  # signed out everywhere
        answer = _password(person, user)
        assert answer.headers["Location"].endswith("/login/set-up-two-factor")  # a new app, not the old codes
        assert person.get("/login/code").status_code == 302  # no code page (nor old codes) for them any more
