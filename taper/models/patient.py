from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from taper import clock
from taper.domain.nhs_number import format_nhs_number
from taper.domain.patients import Sex
from taper.models.base import Base, UtcDateTime
from taper.models.organisation import Organisation


class Patient(Base):
    """A person on a pain clinic's caseload, with their GP practice, nominated pharmacy and
    communication needs under the NHS Accessible Information Standard (DAPB1605)."""

    __tablename__ = "patients"
    __table_args__ = (Index("ix_patients_family_name_date_of_birth", "family_name", "date_of_birth"),
                      CheckConstraint("contact_by IN ('none', 'sms', 'email', 'letter')", name="contact_by"))

    id: Mapped[int] = mapped_column(primary_key=True)
    nhs_number: Mapped[str] = mapped_column(String(10), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date]
    sex: Mapped[Sex] = mapped_column(
        Enum(Sex, name="sex", native_enum=False, create_constraint=True, length=20,
             values_callable=lambda sexes: [sex.value for sex in sexes])
    )
    clinic_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    gp_practice_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    pharmacy_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    preferred_language: Mapped[str] = mapped_column(String(100), default="English")
    interpreter_needed: Mapped[bool] = mapped_column(default=False)
    large_print: Mapped[bool] = mapped_column(default=False)
    easy_read: Mapped[bool] = mapped_column(default=False)
    other_communication_needs: Mapped[str] = mapped_column(Text, default="")
    # How the patient agreed to be contacted about their plan (reminders carry no clinical detail).
    contact_by: Mapped[str] = mapped_column(String(10), default="none", server_default="none")
    mobile_phone: Mapped[str] = mapped_column(String(30), default="", server_default="")
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    postal_address: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now, onupdate=clock.now)
    version: Mapped[int] = mapped_column(default=1)

    clinic: Mapped[Organisation] = relationship(foreign_keys=[clinic_id])
    gp_practice: Mapped[Organisation] = relationship(foreign_keys=[gp_practice_id])
    pharmacy: Mapped[Organisation | None] = relationship(foreign_keys=[pharmacy_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def display_name(self) -> str:
        """Name as NHS records show it: FAMILY, Given."""
        return f"{self.family_name.upper()}, {self.given_name}"

    @property
    def nhs_number_display(self) -> str:
        return format_nhs_number(self.nhs_number)

    @property
    def has_communication_needs(self) -> bool:
        return bool(self.interpreter_needed or self.large_print or self.easy_read or self.other_communication_needs)

    def __repr__(self) -> str:
        return f"<Patient {self.id}>"
