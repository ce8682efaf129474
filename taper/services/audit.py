"""Writing the append-only audit trail (ISO 27789: who, which subject, what, when; plus where from)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from taper.domain.makeable import plain
from taper.extensions import db
from taper.models import AuditEvent, User

_origin: ContextVar[str | None] = ContextVar("audit_origin", default=None)


def set_origin(description: str | None) -> None:
    """Record `description` (the client's IP address) as the origin of events from now on in this context."""
    _origin.set(description)


@contextmanager
def origin(description: str | None) -> Iterator[None]:
    """Record `description` (an IP address, "cli", "scheduler") as the origin of events in the block."""
    token = _origin.set(description)
    try:
        yield
    finally:
        _origin.reset(token)


def record(
    *,
    action: str,
    by: User | None,
    entity_type: str,
    entity_id: object = None,
    patient_id: int | None = None,
    changes: Mapping[str, Any] | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Add one audit event to the current transaction. `by=None` means the system itself."""
    event = AuditEvent(
        actor_user_id=by.id if by is not None else None,
        actor_label=actor_label or (by.email if by is not None else "system"),
        actor_role=by.role.value if by is not None else None,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        patient_id=patient_id,
        changes=dict(changes) if changes is not None else None,
        origin=_origin.get(),
    )
    db.session.add(event)
    db.session.flush()
    return event


def snapshot(record_: object, fields: tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of a record as JSON-ready values."""
    return {field: _plain(getattr(record_, field)) for field in fields}


def differences(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Fields whose values differ, as {field: {"before": old, "after": new}}."""
    return {
        field: {"before": before[field], "after": after[field]}
        for field in before
        if before[field] != after[field]
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return plain(value)
    return value
