from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from taper import clock
from taper.domain.organisations import Role
from taper.extensions import db
from taper.models import AuditEvent, Patient, User
from tests.conftest import PASSWORD, Maker, csrf_token, sign_in, submit


def _audit_actions(label: str) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_label == label)
                                   .order_by(AuditEvent.id)))


def test_login_with_the_right_password_starts_a_session_and_is_audited(client: FlaskClient, make: Maker) -> None:
    user = make.user(email="priya@example.nhs.uk")
    response = submit(client, "/login", {"email": "Priya@Example.NHS.uk ", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/patients/").status_code == 200
    assert _audit_actions(user.email)[-1] == "login_success"
    assert db.session.get(User, user.id).last_login_at is not None


def test_login_with_a_wrong_password_is_refused_and_audited(client: FlaskClient, make: Maker) -> None:
    user = make.user(email="priya@example.nhs.uk")
    response = submit(client, "/login", {"email": user.email, "password": "not the password"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The email address or password is not correct" in page
    assert "nhsuk-error-summary" in page
    assert client.get("/patients/").status_code == 302  # still signed out
    assert _audit_actions(user.email)[-1] == "login_failure"


def test_login_for_an_unknown_email_is_audited_with_what_was_typed(client: FlaskClient, make: Maker) -> None:
    submit(client, "/login", {"email": "nobody@example.nhs.uk", "password": "whatever it is"})
    assert _audit_actions("nobody@example.nhs.uk") == ["login_failure"]


def test_login_of_a_deactivated_account_is_refused(client: FlaskClient, make: Maker) -> None:
    user = make.user()
    user.active = False
    db.session.commit()
    response = submit(client, "/login", {"email": user.email, "password": PASSWORD})
    assert "not correct" in response.get_data(as_text=True)
    assert client.get("/patients/").status_code == 302


def test_login_without_a_csrf_token_is_rejected(client: FlaskClient, make: Maker) -> None:
    user = make.user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "nothing was saved" in response.get_data(as_text=True)
    assert client.get("/patients/").status_code == 302


def test_login_ignores_a_next_address_on_another_site(client: FlaskClient, make: Maker) -> None:
    user = make.user()
    token = csrf_token(client, "/login")
    response = client.post("/login?next=https://evil.example/", data={
        "csrf_token": token, "email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_logout_ends_the_session_even_for_a_copied_cookie(app, make: Maker) -> None:  # type: ignore[no-untyped-def]
    user = make.user()
    browser, thief = app.test_client(), app.test_client()
    sign_in(browser, user)
    cookie = browser.get_cookie(app.config["SESSION_COOKIE_NAME"])
    thief.set_cookie(cookie.key, cookie.value)
    assert thief.get("/patients/").status_code == 200
    response = submit(browser, "/logout", {}, form_url="/patients/")
    assert response.headers["Location"] == "/login"
    assert browser.get("/patients/").status_code == 302
    assert thief.get("/patients/").status_code == 302
    assert _audit_actions(user.email)[-1] == "logout"


def test_logout_by_get_is_not_allowed(signed_in: FlaskClient) -> None:
    assert signed_in.get("/logout").status_code == 405
    assert signed_in.get("/patients/").status_code == 200


def test_form_post_without_csrf_token_saves_nothing(signed_in: FlaskClient, make: Maker) -> None:
    response = signed_in.post("/patients/new", data={"nhs_number": "9434765919", "given_name": "Ada"})
    assert response.status_code == 400
    assert db.session.scalar(select(Patient).where(Patient.nhs_number == "9434765919")) is None


def test_session_ends_after_the_absolute_time_limit(client: FlaskClient, make: Maker) -> None:
    user = make.user()
    sign_in(client, user)
    with clock.freeze(clock.now() + timedelta(hours=12, minutes=1)):
        response = client.get("/patients/")
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_deactivating_a_user_ends_their_sessions(client: FlaskClient, make: Maker) -> None:
    user = make.user(Role.PHARMACIST)
    sign_in(client, user)
    admin = make.user(Role.ADMIN)
    from taper.services import accounts

    accounts.update_user(by=admin, user_id=user.id, expected_version=user.version, full_name=user.full_name,
                         role=user.role, organisation_id=user.organisation_id, active=False)
    db.session.commit()
    assert client.get("/patients/").status_code == 302


def test_a_sign_in_racing_another_to_the_same_account_still_signs_in(app, make: Maker) -> None:  # type: ignore[no-untyped-def]
    """Issue 15: a double click on "Sign in" sent two sign-ins that both loaded the account, and the second to
    save its last sign-in time failed the optimistic lock (a 500). Here the other sign-in commits between this
    one's read and its write, from a connection of its own."""
    from sqlalchemy import update

    from taper.services import accounts

    user = make.user(email="racing@example.nhs.uk")
    loaded = db.session.scalar(select(User).where(User.email == user.email))
    assert loaded is not None
    with db.engine.begin() as other:  # the other sign-in, done and committed meanwhile
        other.execute(update(User).where(User.id == user.id).values(version=User.version + 1,
                                                                    last_login_at=clock.now()))
    signed_in = accounts.authenticate(email=user.email, password=PASSWORD)
    assert signed_in is not None and signed_in.id == user.id
    accounts.complete_sign_in(user=signed_in)
    db.session.commit()
    assert _audit_actions(user.email)[-1] == "login_success"


def test_a_nul_character_in_a_form_or_an_address_is_refused_with_a_message(client: FlaskClient,
                                                                          make: Maker) -> None:
    """Issue 15: on PostgreSQL a NUL in the sign-in email or a patient search was a 500."""
    user = make.user(email="nul@example.nhs.uk")
    refused = submit(client, "/login", {"email": "nul@example.nhs.uk\x00", "password": PASSWORD})
    assert refused.status_code == 400 and "a character Taper cannot accept" in refused.get_data(as_text=True)
    assert client.get("/patients/").status_code == 302  # not signed in
    sign_in(client, user)
    searched = client.get("/patients/?q=Smith%00")
    assert searched.status_code == 400 and "a character Taper cannot accept" in searched.get_data(as_text=True)
    assert client.get("/patients/?q=Smith").status_code == 200
