"""The outbox: every message Taper sends, stored first. A message's key is unique, so a job that runs twice
stores (and sends) nothing twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from taper import clock
from taper.models.base import Base, UtcDateTime


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint("channel IN ('sms', 'email', 'letter', 'app')", name="channel"),
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="status"),
        Index("ix_messages_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    to: Mapped[str] = mapped_column(Text)  # phone number, email address, postal address lines, or "" for app
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    provider_id: Mapped[str] = mapped_column(String(100), default="")
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
