"""ORM-level refusal to change or delete append-only rows: audit events, plan versions, their steps and documents,
supplies, concerns and practice record lines (database triggers are the second line)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from taper.models.audit import AuditEvent
from taper.models.finding import PracticeRecordLine
from taper.models.plan import PlanDocument, PlanVersion, PlanVersionStep
from taper.models.sharing import Concern, ConcernStatusChange, Supply

APPEND_ONLY = (AuditEvent, PlanDocument, PlanVersion, PlanVersionStep, Supply, Concern, ConcernStatusChange,
               PracticeRecordLine)


class AppendOnly(RuntimeError):
    """Something tried to change or delete a row that may only ever be added."""


@event.listens_for(Session, "before_flush")
def _refuse_append_only_changes(session: Session, flush_context: Any, instances: Any) -> None:
    for instance in list(session.dirty) + list(session.deleted):
        if isinstance(instance, APPEND_ONLY) and (instance in session.deleted or session.is_modified(instance)):
            raise AppendOnly(f"{type(instance).__name__} rows can be added, never changed or deleted")
