"""Requests refused before they reach a view are audited, signed in or not (issue 15; ASVS 7.1.3)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import func, select

from taper.extensions import db
from taper.models import AuditEvent, KeptWork
from tests.conftest import PASSWORD, Maker, csrf_token, sign_in, submit


def _refusals() -> list[tuple[str, str | None, dict[str, str] | None, str | None]]:
    query = select(AuditEvent).where(AuditEvent.action == "request_refused").order_by(AuditEvent.id)
    return [(event.actor_label, event.entity_id, event.changes, event.origin) for event in db.session.scalars(query)]


def test_a_nul_character_is_refused_and_audited_before_and_after_sign_in(client: FlaskClient, make: Maker) -> None:
    user = make.user(email="nul@example.nhs.uk")
    assert submit(client, "/login", {"email": "nul@example.nhs.uk\x00", "password": PASSWORD}).status_code == 400
    sign_in(client, user)
    assert client.get("/patients/?q=Smith%00").status_code == 400
    reason = {"reason": "NUL character in a form field or the address"}
    assert _refusals() == [("anonymous", "auth.login", reason | {"method": "POST"}, "127.0.0.1"),
                           (user.email, "patients.index", reason | {"method": "GET"}, "127.0.0.1")]


def test_a_nul_character_in_a_form_posted_after_the_session_ended_is_refused_not_kept(
        signed_in: FlaskClient) -> None:
    """A form posted without a session is kept for after signing in again (taper.web.kept_work), but not one
    with a NUL character (PostgreSQL cannot store it: a 500 before)."""
    page = signed_in.get("/patients/new").get_data(as_text=True)
    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page)
    assert key is not None
    signed_in.post("/logout", data={"csrf_token": csrf_token(signed_in, "/")})
    answer = signed_in.post("/patients/new", data={"submission_key": key.group(1), "family_name": "Smith\x00"})
    assert answer.status_code == 400 and "did not come from Taper" in answer.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(KeptWork)) == 0
    kept = signed_in.post("/patients/new", data={"submission_key": key.group(1), "family_name": "Smith"})
    assert kept.status_code == 302 and db.session.scalar(select(func.count()).select_from(KeptWork)) == 1
