from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Enum, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from taper import clock
from taper.domain.booking import DEFAULT_LEAD_DAYS
from taper.domain.limits import (
    DEFAULT_LIMITS,
    PARACETAMOL_RANGE_MG,
    PLAUSIBLE_OME_RANGE_MG,
    PLAUSIBLE_UNITS_RANGE,
    Limits,
)
from taper.domain.organisations import MAX_ADDRESS_CHARACTERS, OrganisationKind
from taper.models.base import Base, UtcDateTime


class Organisation(Base):
    """A pain clinic, GP practice or community pharmacy, identified by its ODS code."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrganisationKind] = mapped_column(
        Enum(OrganisationKind, name="kind", native_enum=False, create_constraint=True, length=30,
             values_callable=lambda kinds: [kind.value for kind in kinds])
    )
    name: Mapped[str] = mapped_column(String(200))
    ods_code: Mapped[str] = mapped_column(String(10), unique=True)
    phone: Mapped[str] = mapped_column(String(30), default="", server_default="")  # printed on letters
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")  # e.g. an NHSmail shared box
    # Its lines, "\n" between them: a letter's sender block (taper.domain.organisations.MAX_ADDRESS_*).
    address: Mapped[str] = mapped_column(String(MAX_ADDRESS_CHARACTERS), default="", server_default="")
    # A GP practice a cohort import met by its ODS code alone (named by the code): listed for an admin to complete.
    details_needed: Mapped[bool] = mapped_column(default=False, server_default="0")
    synthetic: Mapped[bool] = mapped_column(default=False)  # demo data: every page says so
    # A pain clinic's OME settings (see taper.domain.ome and taper.domain.assessment for their sources).
    factor_set: Mapped[str] = mapped_column(String(40), default="fpm-2020", server_default="fpm-2020")
    high_dose_threshold_mg: Mapped[Decimal] = mapped_column(Numeric(8, 3), default=Decimal(120),
                                                            server_default="120")
    # A pain clinic's lead time: days from a plan going out to its first step (taper.domain.booking.ready_by).
    plan_lead_days: Mapped[int] = mapped_column(default=DEFAULT_LEAD_DAYS, server_default=str(DEFAULT_LEAD_DAYS))
    # A pain clinic's limits for checking a starting regimen (taper.domain.limits), in whole mg and units.
    paracetamol_max_mg_per_day: Mapped[int] = mapped_column(
        default=int(DEFAULT_LIMITS.paracetamol_max_mg_per_day),
        server_default=str(int(DEFAULT_LIMITS.paracetamol_max_mg_per_day)))
    plausible_units_per_dose: Mapped[int] = mapped_column(
        default=DEFAULT_LIMITS.plausible_units_per_dose, server_default=str(DEFAULT_LIMITS.plausible_units_per_dose))
    plausible_ome_mg_per_day: Mapped[int] = mapped_column(
        default=int(DEFAULT_LIMITS.plausible_ome_mg_per_day),
        server_default=str(int(DEFAULT_LIMITS.plausible_ome_mg_per_day)))
    # A pain clinic that gives patients take-home naloxone: their plans say what it is for (taper.domain.advice).
    supplies_naloxone: Mapped[bool] = mapped_column(default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (CheckConstraint("plan_lead_days BETWEEN 0 AND 28", name="plan_lead_days"),
                      CheckConstraint("paracetamol_max_mg_per_day BETWEEN {} AND {}".format(*PARACETAMOL_RANGE_MG),
                                      name="paracetamol_max_mg_per_day"),
                      CheckConstraint("plausible_units_per_dose BETWEEN {} AND {}".format(*PLAUSIBLE_UNITS_RANGE),
                                      name="plausible_units_per_dose"),
                      CheckConstraint("plausible_ome_mg_per_day BETWEEN {} AND {}".format(*PLAUSIBLE_OME_RANGE_MG),
                                      name="plausible_ome_mg_per_day"))

    @property
    def starting_limits(self) -> Limits:
        """This clinic's limits for the starting checks, as the domain takes them."""
        return Limits(paracetamol_max_mg_per_day=Decimal(self.paracetamol_max_mg_per_day),
                      plausible_units_per_dose=self.plausible_units_per_dose,
                      plausible_ome_mg_per_day=Decimal(self.plausible_ome_mg_per_day))
    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Organisation {self.ods_code} {self.kind}>"
