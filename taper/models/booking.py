"""Clinic capacity and appointments: each pharmacist's weekly sessions and leave, and booked reviews."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from taper import clock
from taper.models.base import Base, UtcDateTime
from taper.models.patient import Patient
from taper.models.user import User

HOLDING = ("proposed", "confirmed")  # the statuses of an appointment that holds its pharmacist's time
HOLDS_TIME = f"status IN {HOLDING}"


class ClinicSession(Base):
    """A weekly session in which a pharmacist sees patients: at a site, or remote (phone and video only)."""

    __tablename__ = "clinic_sessions"
    __table_args__ = (CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
                      CheckConstraint("starts < ends", name="starts_before_ends"))

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacist_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    weekday: Mapped[int]
    starts: Mapped[time]
    ends: Mapped[time]
    remote: Mapped[bool]
    location: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)


class Leave(Base):
    """Days a pharmacist is away (both included): nothing is booked on them."""

    __tablename__ = "leave"
    __table_args__ = (CheckConstraint("first_day <= last_day", name="first_day_not_after_last"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pharmacist_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    first_day: Mapped[date]
    last_day: Mapped[date]
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)


class Appointment(Base):
    """An appointment with a patient: an initial consultation (before or on a plan: `plan_id` is empty before
    one exists), a review of a plan, or an extra review of a patient who is struggling. A proposed or confirmed
    appointment holds its pharmacist's time: the database refuses a second one that overlaps it (an exclusion
    constraint on PostgreSQL, triggers on SQLite: migration 8d2b6f1a4c3e)."""

    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("length_minutes IN (15, 20, 30, 60, 90)", name="length"),
        CheckConstraint("mode IN ('face_to_face', 'phone', 'video')", name="mode"),
        CheckConstraint("kind IN ('initial', 'follow_up', 'extra_review')", name="kind"),
        CheckConstraint("status IN ('proposed', 'confirmed', 'attended', 'did_not_attend', 'cancelled')",
                        name="status"),
        CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        Index("ix_appointments_pharmacist_id_starts_at", "pharmacist_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    pharmacist_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime())
    length_minutes: Mapped[int]
    mode: Mapped[str] = mapped_column(String(20))
    location: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    # Moved outside the pharmacist's sessions (a weekend, a bank holiday, leave, other hours) with their say-so.
    extra_session: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now, onupdate=clock.now)
    version: Mapped[int] = mapped_column(default=1)

    patient: Mapped[Patient] = relationship()
    pharmacist: Mapped[User] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def holds_time(self) -> bool:
        return self.status in HOLDING
