from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from taper import clock
from taper.domain.follow_up import peg_score
from taper.models.base import Base, UtcDateTime
from taper.models.user import User


class FollowUp(Base):
    """A follow-up consultation held on a plan, and what the patient decided. A withdrawal item not assessed is
    null in `sows` (never 0); `sows_total` adds up the items assessed, and is null if none was."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 5 AND 180", name="duration"),
        CheckConstraint("mode IN ('face_to_face', 'phone', 'video')", name="mode"),
        CheckConstraint("outcome IN ('continue', 'hold', 'slow', 'go_back', 'stop')", name="outcome"),
        CheckConstraint("sows_total BETWEEN 0 AND 30", name="sows_total"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    held_on: Mapped[date]
    mode: Mapped[str] = mapped_column(String(20))
    duration_minutes: Mapped[int]
    dose_taken: Mapped[str] = mapped_column(Text)
    peg: Mapped[dict[str, int]] = mapped_column(JSON)
    sows: Mapped[dict[str, int | None]] = mapped_column(JSON)
    sows_total: Mapped[int | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(20))
    outcome_detail: Mapped[str] = mapped_column(Text, default="")
    plan_version_after: Mapped[int]
    # The appointment it was recorded from, marked attended in the same transaction (one follow-up each).
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"), unique=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)

    recorded_by: Mapped[User] = relationship()

    @property
    def peg_score(self) -> float:
        """The mean of the three PEG items (0 to 10)."""
        return peg_score(self.peg)

    @property
    def sows_assessed(self) -> int:
        """How many of the withdrawal items were assessed."""
        return sum(1 for score in self.sows.values() if score is not None)
