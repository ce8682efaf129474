"""Session expiry keeps work (issue 15, item 5): a warning before the idle limit with a way to stay signed in,
and a form posted after the session ended is kept through signing in again, for its own user only."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from taper.domain.organisations import Role
from taper.extensions import db
from taper.models import AuditEvent, FollowUp, KeptWork, Plan, User
from tests.conftest import PASSWORD, TODAY, Maker, page_text, sign_in
from tests.web.test_once_only import follow_up, hidden_fields


def _sign_in_to(client: FlaskClient, login_url: str, user: User) -> FlaskClient:
    """Sign in on the page the person was sent to (keeping its `next`), as a browser would."""
    page = client.get(login_url).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    answer = client.post(login_url, data={"csrf_token": csrf, "email": user.email, "password": PASSWORD})
    assert answer.status_code == 302
    return answer


def _posted_after_expiry(app: Flask, signed_in: FlaskClient, plan: Plan) -> tuple[FlaskClient, str]:
    """The follow-up form opened while signed in, then saved from a browser whose session cookie has expired
    (the browser no longer sends it): the answer's redirect."""
    url = f"/plans/{plan.id}/follow-ups/new"
    data = {**hidden_fields(signed_in, url), **follow_up(plan, notes="Sleeping badly since the last step")}
    expired = app.test_client()
    answer = expired.post(url, data=data)
    assert answer.status_code == 302
    return expired, answer.headers["Location"]


def test_the_warning_carries_the_idle_limit_and_the_keep_alive_address(app: Flask, signed_in: FlaskClient) -> None:
    page = signed_in.get("/").get_data(as_text=True)
    dialog = re.search(r"<dialog[^>]*data-session-timeout[^>]*>", page)
    assert dialog is not None
    idle = int(app.permanent_session_lifetime.total_seconds())
    assert f'data-idle-seconds="{idle}"' in dialog.group(0) and 'data-warn-seconds="120"' in dialog.group(0)
    assert 'data-keep-alive-url="/session/keep-alive"' in dialog.group(0)
    assert "js/session-timeout.mjs" in page and "Stay signed in" in page
    assert "data-session-timeout" not in app.test_client().get("/login").get_data(as_text=True)


def test_keep_alive_sends_the_session_cookie_again(app: Flask, signed_in: FlaskClient) -> None:
    csrf = hidden_fields(signed_in, "/patients/new")["csrf_token"]
    answer = signed_in.post("/session/keep-alive", headers={"X-CSRFToken": csrf})
    assert answer.status_code == 204
    cookie = next(header for header in answer.headers.getlist("Set-Cookie")
                  if header.startswith(app.config["SESSION_COOKIE_NAME"] + "="))
    assert "Expires=" in cookie  # a permanent session: the idle time starts again from now
    assert signed_in.post("/session/keep-alive").status_code == 400  # without the CSRF token: refused
    assert app.test_client().post("/session/keep-alive").status_code in (302, 400)  # signed out: no session


def test_a_follow_up_saved_after_expiry_is_kept_through_signing_in_and_saved_only_when_confirmed(
        app: Flask, signed_in: FlaskClient, make: Maker, pharmacist: User) -> None:
    plan = make.running_plan(pharmacist, make.patient(pharmacist), start_on=TODAY)
    expired, login_url = _posted_after_expiry(app, signed_in, plan)
    assert urlsplit(login_url).path == "/login"
    resume = parse_qs(urlsplit(login_url).query)["next"][0]
    assert resume.startswith("/resume/")
    assert "What you typed has been kept" in page_text(expired.get(login_url))
    assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 0
    kept = db.session.scalar(select(KeptWork))
    assert kept.user_id == pharmacist.id and "csrf_token" not in kept.fields

    after_sign_in = _sign_in_to(expired, login_url, pharmacist)
    assert after_sign_in.headers["Location"] == resume
    form_page = expired.get(resume, follow_redirects=True)
    assert form_page.request.path == f"/plans/{plan.id}/follow-ups/new"
    text = page_text(form_page)
    assert "Sleeping badly since the last step</textarea>" in text and "Nothing has been saved yet" in text
    assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 0  # nothing saved until confirmed

    refilled = {name: value for name, value in json.loads(kept.fields)}
    fresh = hidden_fields(expired, form_page.request.full_path)
    assert fresh["submission_key"] == refilled["submission_key"]  # the same form, not yet saved
    saved = expired.post(f"/plans/{plan.id}/follow-ups/new", data={**refilled, "csrf_token": fresh["csrf_token"]})
    assert saved.status_code == 302 and saved.headers["Location"] == f"/plans/{plan.id}"
    assert db.session.scalar(select(FollowUp.notes)) == "Sleeping badly since the last step"


def test_another_user_signing_in_cannot_see_the_kept_work(app: Flask, signed_in: FlaskClient, make: Maker,
                                                          pharmacist: User) -> None:
    plan = make.running_plan(pharmacist, make.patient(pharmacist), start_on=TODAY)
    expired, login_url = _posted_after_expiry(app, signed_in, plan)
    resume = parse_qs(urlsplit(login_url).query)["next"][0]
    colleague = make.user(Role.PHARMACIST, organisation=pharmacist.organisation)
    answer = _sign_in_to(expired, login_url, colleague)
    page = expired.get(answer.headers["Location"], follow_redirects=True)
    assert page.request.path == "/" and "no longer kept" in page_text(page)
    token = resume.removeprefix("/resume/")
    form_page = page_text(expired.get(f"/plans/{plan.id}/follow-ups/new?kept={token}"))
    assert "Sleeping badly" not in form_page and "Nothing has been saved yet" not in form_page
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "access_denied", AuditEvent.entity_type == "kept_work",
        AuditEvent.actor_user_id == colleague.id)) == 1


def test_a_password_is_never_kept(app: Flask, client: FlaskClient, make: Maker) -> None:
    sign_in(client, make.user(Role.ADMIN))
    target = make.user(Role.PHARMACIST)
    url = f"/admin/users/{target.id}/password"
    fields = hidden_fields(client, url)
    answer = app.test_client().post(url, data={**fields, "password": "a long new passphrase for Ada"})
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    kept = db.session.scalar(select(KeptWork))
    assert "passphrase" not in kept.fields and "password" not in kept.fields


def test_a_form_that_did_not_come_from_taper_is_refused_as_before(app: Flask, signed_in: FlaskClient,
                                                                  make: Maker, pharmacist: User) -> None:
    plan = make.running_plan(pharmacist, make.patient(pharmacist), start_on=TODAY)
    answer = app.test_client().post(f"/plans/{plan.id}/follow-ups/new",
                                    data={**follow_up(plan), "submission_key": "forged"})
    assert answer.status_code == 400 and "did not come from Taper" in page_text(answer)
    assert db.session.scalar(select(func.count()).select_from(KeptWork)) == 0
