"""The audit trail is append-only: the ORM refuses changes, and so does the database itself."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError

from taper.extensions import db
from taper.models import AuditEvent
from taper.models.guards import AppendOnly
from taper.services import audit
from tests.conftest import Maker


@pytest.fixture
def event(make: Maker) -> AuditEvent:
    make.user()  # writes audit rows
    row = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).first()
    assert row is not None
    return row


def test_orm_change_to_an_audit_event_is_refused(event: AuditEvent) -> None:
    event.action = "tampered"
    with pytest.raises(AppendOnly):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(AuditEvent, event.id).action != "tampered"


def test_orm_delete_of_an_audit_event_is_refused(event: AuditEvent) -> None:
    db.session.delete(event)
    with pytest.raises(AppendOnly):
        db.session.flush()


@pytest.mark.parametrize(
    "statement",
    [
        lambda event_id: update(AuditEvent).where(AuditEvent.id == event_id).values(action="tampered"),
        lambda event_id: delete(AuditEvent).where(AuditEvent.id == event_id),
        lambda event_id: text("UPDATE audit_events SET actor_label = 'someone else'"),
        lambda event_id: text("DELETE FROM audit_events"),
    ],
    ids=["bulk-update", "bulk-delete", "sql-update", "sql-delete"],
)
def test_database_refuses_update_and_delete_of_audit_rows(event: AuditEvent, statement) -> None:  # type: ignore[no-untyped-def]
    count_before = db.session.scalar(select(db.func.count()).select_from(AuditEvent))
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(statement(event.id))
    db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(AuditEvent)) == count_before
    assert db.session.get(AuditEvent, event.id).action == event.action


def test_database_refuses_truncate_of_audit_rows(event: AuditEvent) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; DELETE is covered above")
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text("TRUNCATE audit_events CASCADE"))
    db.session.rollback()


def test_record_keeps_actor_role_and_origin(make: Maker) -> None:
    pharmacist = make.user()
    with audit.origin("203.0.113.9"):
        row = audit.record(action="view", by=pharmacist, entity_type="patient", entity_id=7)
    db.session.commit()
    stored = db.session.get(AuditEvent, row.id)
    assert (stored.actor_user_id, stored.actor_label, stored.actor_role, stored.origin, stored.entity_id) == (
        pharmacist.id, pharmacist.email, "pharmacist", "203.0.113.9", "7")
    assert stored.occurred_at.tzinfo is not None
