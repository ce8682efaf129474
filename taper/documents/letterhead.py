"""What every letter prints about its patient and plan, as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from taper.domain.wording import long_date


@dataclass(frozen=True)
class Sender:
    """Who a letter is from, as its sender block and sign-off print them (issue 14, item 1)."""

    name: str
    job_title: str
    registration: str  # "GPhC registration number 0001234" (taper.domain.registration.Registration)


@dataclass(frozen=True)
class Letterhead:
    """Who and what a document is about, as printed on every page."""

    patient_name: str
    nhs_number: str
    born: str
    plan_number: int | None  # the patient's plan 1, 2 ... (None: a checking copy, not an issued plan)
    plan_version: int
    generated_on: date
    pharmacy_name: str
    pharmacy_ods_code: str
    clinic_name: str
    clinic_contact: str
    replaces: tuple[int, date] | None = None  # (version, dated)
    clinic_address: str = ""  # lines, "\n" between them
    sender: Sender | None = None  # None: a checking copy from `flask taper documents` without one


def banner(head: Letterhead) -> dict[str, Any]:
    """The values of the banner printed at the top of every page, and the "replaces" line."""
    return {
        "patient": {"name": head.patient_name, "nhs_number": head.nhs_number,
                    "born": long_date(date.fromisoformat(head.born))},
        "plan": {"number": head.plan_number, "version": head.plan_version,
                 "label": f"plan {head.plan_number} version {head.plan_version}" if head.plan_number is not None
                 else "checking copy, not an issued plan",
                 "replaces": {"version": head.replaces[0], "dated": long_date(head.replaces[1])} if head.replaces
                 else None},
        "generated_on": long_date(head.generated_on),
    }

