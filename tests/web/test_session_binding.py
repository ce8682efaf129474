"""A session is bound to the browser that signed in (issue 15, item 7): its cookie replayed from another browser
(another User-Agent) signs the account out everywhere and is audited; the same browser from another IP address
keeps working (NHS networks and mobile data change addresses mid-session)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from taper.extensions import db
from taper.models import AuditEvent, User
from tests.conftest import Maker, page_text, sign_in

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
CURL = "curl/8.11.0"


def _browser(app: Flask, agent: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = agent
    return client


def _copy_cookie(app: Flask, source: FlaskClient, target: FlaskClient) -> None:
    cookie = source.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    target.set_cookie(cookie.key, cookie.value)


def _actions(user: User) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_user_id == user.id)
                                   .order_by(AuditEvent.id)))


def test_a_session_cookie_replayed_from_another_browser_is_signed_out_and_audited(app: Flask, make: Maker) -> None:
    user = make.user()
    browser, thief = _browser(app, FIREFOX), _browser(app, CURL)
    sign_in(browser, user)
    assert browser.get("/patients/").status_code == 200
    _copy_cookie(app, browser, thief)
    refused = thief.get("/patients/")
    assert refused.status_code == 302 and refused.headers["Location"] == "/login"
    assert "used from another browser" in page_text(thief.get("/login"))
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "session_binding_failed")).one()
    assert (event.actor_user_id, event.entity_type, event.changes) == (user.id, "user", {"user_agent": CURL})
    assert _actions(user)[-2:] == ["session_binding_failed", "logout"]
    # A copied cookie means the account may be in someone else's hands: the original session ends too.
    assert browser.get("/patients/").status_code == 302


def test_the_same_browser_from_another_address_keeps_its_session(app: Flask, make: Maker) -> None:
    user = make.user()
    browser = _browser(app, FIREFOX)
    sign_in(browser, user)
    moved = browser.get("/patients/", environ_base={"REMOTE_ADDR": "198.51.100.23"})
    assert moved.status_code == 200
    assert "session_binding_failed" not in _actions(user)


def test_a_session_from_before_binding_has_no_fingerprint_and_must_sign_in_again(app: Flask, make: Maker) -> None:
    user = make.user()
    browser = _browser(app, FIREFOX)
    sign_in(browser, user)
    with browser.session_transaction() as stored:
        del stored["browser"]
    assert browser.get("/patients/").status_code == 302
    assert "session_binding_failed" in _actions(user)
