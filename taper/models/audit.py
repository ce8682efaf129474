from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from taper import clock
from taper.models.base import Base, UtcDateTime

AUDIT_ID = BigInteger().with_variant(Integer, "sqlite")


class AuditEvent(Base):
    """One append-only line of the audit trail: who did what to which record, when and from where.

    Database triggers (see the migration that creates this table) refuse UPDATE, DELETE and TRUNCATE,
    and `taper.models.guards` refuses ORM changes before they reach the database.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(AUDIT_ID, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(254))
    actor_role: Mapped[str | None] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(40))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    origin: Mapped[str | None] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} {self.entity_type}:{self.entity_id}>"
