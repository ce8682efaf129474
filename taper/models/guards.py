"""ORM-level refusal to change or delete audit rows (the database triggers are the second line)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from taper.models.audit import AuditEvent


class AuditTrailIsAppendOnly(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, flush_context: Any, instances: Any) -> None:
    for instance in list(session.dirty) + list(session.deleted):
        if isinstance(instance, AuditEvent):
            raise AuditTrailIsAppendOnly("audit events can be added, never changed or deleted")
