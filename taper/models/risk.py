from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from taper import clock
from taper.models.base import Base, UtcDateTime
from taper.models.user import User


class RecordedRiskAssessment(Base):
    """A risk assessment as made on a date, with the facts it used, the level Taper suggested and the level
    the pharmacist chose. Never changed: a later assessment supersedes it."""

    __tablename__ = "risk_assessments"
    __table_args__ = (
        CheckConstraint("suggested_level BETWEEN 1 AND 4 AND chosen_level BETWEEN 1 AND 4", name="levels"),
        CheckConstraint("chosen_level = suggested_level OR length(override_reason) > 0",
                        name="override_needs_reason"),
        CheckConstraint("abuse_history_answer IN ('yes', 'no', 'not_applicable')", name="abuse_history_answer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    regimen_id: Mapped[int | None] = mapped_column(ForeignKey("regimens.id"))
    assessed_on: Mapped[date]
    assessed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    age_years: Mapped[int]
    total_ome_mg_per_day: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    high_dose_threshold_mg: Mapped[Decimal] = mapped_column(Numeric(8, 3))
    answers: Mapped[list[str]] = mapped_column(JSON)  # the asked factors ticked
    active_substance_misuse: Mapped[bool] = mapped_column(default=False)
    # The question the analysis names for women (pre-adolescent sexual abuse): yes, no or not_applicable, the
    # last without asking for a patient not recorded as female; None on assessments made before it was kept.
    abuse_history_answer: Mapped[str | None] = mapped_column(String(20))
    factors: Mapped[list[str]] = mapped_column(JSON)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    suggested_level: Mapped[int]
    chosen_level: Mapped[int]
    override_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)

    assessed_by: Mapped[User] = relationship()
