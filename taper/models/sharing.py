"""What GP practices and community pharmacies do with a shared plan: letters read and acknowledged, supplies
made against the dispensing schedule, and concerns raised with the clinic."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from taper import clock
from taper.models.base import Base, UtcDateTime
from taper.models.user import User

CONCERN_KINDS = ("early_or_extra_request", "withdrawal", "possible_misuse", "change_of_pace", "other")


class LetterReceipt(Base):
    """A GP practice's copy of a plan letter: when it was first opened, and acknowledged, and by whom."""

    __tablename__ = "letter_receipts"
    __table_args__ = (UniqueConstraint("plan_document_id", "organisation_id",
                                       name="uq_letter_receipts_plan_document_id_organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_document_id: Mapped[int] = mapped_column(ForeignKey("plan_documents.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    read_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
    read_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    read_by: Mapped[User] = relationship(foreign_keys=[read_by_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])

    __mapper_args__ = {"version_id_col": version}


class Supply(Base):
    """A supply a community pharmacy made against an instalment of a plan version's dispensing schedule.
    Append-only: a mistake is corrected by the clinic, not by editing the record."""

    __tablename__ = "supplies"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    plan_version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id"))
    instalment: Mapped[int]
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    supplied_on: Mapped[date]
    product: Mapped[str] = mapped_column(String(80))
    strength: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))  # None for a liquid (quantity in mL)
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    override_reason: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)

    recorded_by: Mapped[User] = relationship()


class Concern(Base):
    """A concern a community pharmacist raised about a patient on a plan; it goes on the clinic's worklist."""

    __tablename__ = "concerns"
    __table_args__ = (CheckConstraint(
        "kind IN ('early_or_extra_request', 'withdrawal', 'possible_misuse', 'change_of_pace', 'other')",
        name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(Text)
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)

    raised_by: Mapped[User] = relationship()
