"""Requests refused before they reach a view are audited, signed in or not (issue 15; ASVS 7.1.3)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from taper.extensions import db
from taper.models import AuditEvent
from tests.conftest import PASSWORD, Maker, sign_in, submit


def _refusals() -> list[tuple[str, str | None, dict[str, str] | None]]:
    query = select(AuditEvent).where(AuditEvent.action == "request_refused").order_by(AuditEvent.id)
    return [(event.actor_label, event.entity_id, event.changes) for event in db.session.scalars(query)]


def test_a_nul_character_is_refused_and_audited_before_and_after_sign_in(client: FlaskClient, make: Maker) -> None:
    user = make.user(email="nul@example.nhs.uk")
    assert submit(client, "/login", {"email": "nul@example.nhs.uk\x00", "password": PASSWORD}).status_code == 400
    sign_in(client, user)
    assert client.get("/patients/?q=Smith%00").status_code == 400
    reason = {"reason": "NUL character in a form field or the address"}
    assert _refusals() == [("anonymous", "auth.login", reason | {"method": "POST"}),
                           (user.email, "patients.index", reason | {"method": "GET"})]
