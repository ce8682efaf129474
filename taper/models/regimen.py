from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from taper import clock
from taper.models.base import Base, UtcDateTime
from taper.models.user import User


class RecordedRegimen(Base):
    """A patient's opioid regimen as recorded on a date. Never changed: a new record supersedes it, so the
    history is kept. The lines are the regimen's JSON shape (taper.domain.regimen); the stored OME names the
    factor set, its version and the formulary version that produced it."""

    __tablename__ = "regimens"
    __table_args__ = (
        CheckConstraint("total_ome_mg_per_day IS NULL OR total_ome_mg_per_day >= 0", name="ome_not_negative"),
        CheckConstraint("source IN ('pharmacist', 'practice_record')", name="source"),
        CheckConstraint("source = 'pharmacist' OR source_date IS NOT NULL", name="practice_record_dated"),
        CheckConstraint("source = 'practice_record' OR recorded_by_id IS NOT NULL", name="recorded_by_pharmacist"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    recorded_on: Mapped[date]
    # Empty only for a regimen imported from a practice record by the command line (no one signed in).
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    benzodiazepine: Mapped[bool] = mapped_column(default=False)
    gabapentinoid: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    factor_set: Mapped[str] = mapped_column(String(40))
    factor_set_version: Mapped[str] = mapped_column(String(40))
    formulary_version: Mapped[str] = mapped_column(String(20))
    high_dose_threshold_mg: Mapped[Decimal] = mapped_column(Numeric(8, 3))
    total_ome_mg_per_day: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))  # NULL: not calculable
    # "pharmacist": checked with the patient; "practice_record": imported from a GP practice's record as it stood on
    # source_date (its latest issue), shown as "from practice record, <date>" until a pharmacist confirms it.
    source: Mapped[str] = mapped_column(String(20), default="pharmacist", server_default="pharmacist")
    source_date: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)

    recorded_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<RecordedRegimen {self.id} patient {self.patient_id} on {self.recorded_on}>"
