"""The clinic's worklist: patients who need a pharmacist's attention (an overdue or missed review, a plan at
its last step). Items are made by the scheduler's jobs and by events; a unique key makes each job safe to run
twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from taper import clock
from taper.models.base import Base, UtcDateTime
from taper.models.patient import Patient
from taper.models.plan import Plan

REVIEW_KINDS = ("overdue", "did_not_attend")  # items that say a patient needs a review


class WorklistItem(Base):
    __tablename__ = "worklist_items"
    __table_args__ = (CheckConstraint(
        "kind IN ('overdue', 'did_not_attend', 'completion_review', 'pharmacy_concern')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    clinic_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    detail: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    patient: Mapped[Patient] = relationship()
    plan: Mapped[Plan] = relationship()
