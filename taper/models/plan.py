from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from taper import clock
from taper.domain.plans import PlanStatus, reason_in_words
from taper.models.base import Base, UtcDateTime
from taper.models.patient import Patient
from taper.models.user import User

RUNNING = "status IN ('active', 'paused')"


class Plan(Base):
    """A patient's tapering plan. Its schedule lives in immutable versions; the plan holds the status."""

    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint("instalment_days IN (7, 14, 28)", name="instalment_days"),
        CheckConstraint("review_every_days IN (7, 14)", name="review_every_days"),
        CheckConstraint("number >= 1", name="number"),
        CheckConstraint("(deleted_at IS NULL) = (deleted_by_id IS NULL)", name="deleted"),
        # Each patient's plans are numbered 1, 2, ... (taper.services.plans takes the next number).
        UniqueConstraint("patient_id", "number"),
        # Only one active (or paused) plan per patient, enforced by the database on SQLite and PostgreSQL.
        Index("uq_plans_one_running_per_patient", "patient_id", unique=True,
              sqlite_where=text(RUNNING), postgresql_where=text(RUNNING)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    number: Mapped[int]  # the patient's first plan is 1, the next 2: what people call it ("plan 2")
    status: Mapped[PlanStatus] = mapped_column(
        Enum(PlanStatus, name="status", native_enum=False, create_constraint=True, length=20,
             values_callable=lambda statuses: [status.value for status in statuses]))
    instalment_days: Mapped[int] = mapped_column(default=14)
    review_every_days: Mapped[int] = mapped_column(default=14, server_default="14")  # 7 or 14 (taper.domain.booking)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
    ended_on: Mapped[date | None]
    final_ome_mg_per_day: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    outcome_reason: Mapped[str] = mapped_column(Text, default="")
    current_version_number: Mapped[int] = mapped_column(default=0)
    # A draft deleted before it started stays (its versions are append-only) but is no longer shown.
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    versions: Mapped[list[PlanVersion]] = relationship(order_by="PlanVersion.number", back_populates="plan")
    patient: Mapped[Patient] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def current(self) -> PlanVersion:
        """The current version. This loads all the plan's versions, for one plan's pages; lists and jobs find
        current versions by `current_version_number` instead (and their steps in PlanVersionStep)."""
        return self.versions[-1]


class PlanVersion(Base):
    """One version of a plan's schedule: the engine request and the schedule it produced, with the reason
    and author. Append-only: the ORM guard and database triggers refuse changes."""

    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "number", name="uq_plan_versions_plan_id_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    number: Mapped[int]
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    schedule: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    starting_ome_mg_per_day: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    factor_set: Mapped[str] = mapped_column(String(40))
    factor_set_version: Mapped[str] = mapped_column(String(40))
    formulary_version: Mapped[str] = mapped_column(String(20))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)

    plan: Mapped[Plan] = relationship(back_populates="versions")
    created_by: Mapped[User] = relationship()

    @property
    def name(self) -> str:
        """The reason, as shown to people: any date in it written "3 December 2026", never ISO."""
        return reason_in_words(self.reason)


class PlanVersionStep(Base):
    """One step of a plan version's schedule, copied from its stored document when the version is written, so
    that lists and jobs find the steps starting on a day with one indexed query, without reading the JSON.
    Append-only, like the version."""

    __tablename__ = "plan_version_steps"

    plan_version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id"), primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)  # 1, 2, ... as in the schedule document
    starts_on: Mapped[date] = mapped_column(index=True)
    ends_on: Mapped[date | None]  # None for the last step, which runs on
    ome_mg_per_day: Mapped[Decimal] = mapped_column(Numeric(10, 3))


class SharedDecision(Base):
    """What the patient and pharmacist agreed before the plan starts (append-only; the latest counts)."""

    __tablename__ = "shared_decisions"
    __table_args__ = (CheckConstraint("prescriber IN ('pharmacist', 'gp')", name="prescriber"),
                      # Each plan's latest decision (plan_id = ? ORDER BY id DESC LIMIT 1), read for every row
                      # of the GP and pharmacy lists, found in the index whatever the planner's statistics say.
                      Index("ix_shared_decisions_plan_id_id", "plan_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    what_matters: Mapped[str] = mapped_column(Text)
    goals: Mapped[str] = mapped_column(Text)
    agreed_pace: Mapped[str] = mapped_column(Text)
    # What the patient can take for pain instead as the opioid comes down, in their words: printed in their plan.
    pain_relief: Mapped[str] = mapped_column(Text, default="", server_default="")
    prescriber: Mapped[str] = mapped_column(String(20))
    consent_share_with_gp: Mapped[bool]
    consent_share_with_pharmacy: Mapped[bool]
    agreed_on: Mapped[date]
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)


class PlanDocument(Base):
    """A rendered PDF of one plan version (patient plan, GP letter, dispensing schedule). Rendered once when the
    version is issued and never changed: the ORM guard and database triggers refuse changes."""

    __tablename__ = "plan_documents"
    __table_args__ = (UniqueConstraint("plan_version_id", "kind", name="uq_plan_documents_plan_version_id_kind"),
                      CheckConstraint("kind IN ('patient_plan', 'gp_letter', 'pharmacy_schedule')", name="kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    template_version: Mapped[str] = mapped_column(String(20))
    sha256: Mapped[str] = mapped_column(String(64))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
