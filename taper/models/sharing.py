"""What GP practices and community pharmacies do with a shared plan: letters read and acknowledged, supplies
made against the dispensing schedule (corrected by new records), concerns raised with the clinic (closed and
reopened by it), and the plan revisions each pharmacy has seen."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from taper import clock
from taper.models.base import Base, UtcDateTime
from taper.models.organisation import Organisation
from taper.models.plan import Plan
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
    Append-only: a mistake is corrected by a new record that names the one it corrects (`corrects_id`, with a
    note), and what was supplied is read from the latest record of each chain. A correction may say 0 (nothing
    was supplied: recorded by mistake); a first record never does."""

    __tablename__ = "supplies"
    __table_args__ = (CheckConstraint("quantity > 0 OR (corrects_id IS NOT NULL AND quantity = 0)",
                                      name="quantity_positive_unless_corrected_to_none"),
                      CheckConstraint("corrects_id IS NULL OR correction_note <> ''", name="correction_note"))

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
    # The record this one corrects (each record is corrected at most once: a chain, whose last record counts).
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("supplies.id"), unique=True)
    correction_note: Mapped[str] = mapped_column(Text, default="", server_default="")

    recorded_by: Mapped[User] = relationship()
    plan: Mapped[Plan] = relationship()
    corrected_by: Mapped[Supply | None] = relationship(
        primaryjoin="Supply.id == foreign(Supply.corrects_id)", uselist=False, viewonly=True)


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
    plan: Mapped[Plan] = relationship()
    pharmacy: Mapped[Organisation] = relationship()
    changes: Mapped[list[ConcernStatusChange]] = relationship(order_by="ConcernStatusChange.sequence",
                                                              viewonly=True)

    @property
    def latest_change(self) -> ConcernStatusChange | None:
        return self.changes[-1] if self.changes else None

    @property
    def is_open(self) -> bool:
        return self.latest_change is None or self.latest_change.status == "open"


class ConcernStatusChange(Base):
    """The clinic closed a concern (with a note, which the pharmacy sees) or reopened it. Append-only: the
    latest change gives the status; `sequence` (1, 2, ... per concern, unique) makes two people changing the
    same concern at once collide in the database rather than both succeed."""

    __tablename__ = "concern_status_changes"
    __table_args__ = (UniqueConstraint("concern_id", "sequence", name="uq_concern_status_changes_concern_id_sequence"),
                      CheckConstraint("status IN ('closed', 'open')", name="status"),
                      CheckConstraint("status = 'open' OR note <> ''", name="closed_with_note"))

    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("concerns.id"))
    sequence: Mapped[int]
    status: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)

    changed_by: Mapped[User] = relationship()


class RevisionNoticeRead(Base):
    """A community pharmacy has seen the notice of a plan revision (a plan version issued after the first):
    who saw it first, and when. The notices themselves are worked out from the stored plan versions."""

    __tablename__ = "revision_notice_reads"
    __table_args__ = (UniqueConstraint("plan_version_id", "organisation_id",
                                       name="uq_revision_notice_reads_plan_version_id_organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    read_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    read_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)

    read_by: Mapped[User] = relationship()
