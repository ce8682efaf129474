"""What every letter prints about its patient and plan, as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Letterhead:
    """Who and what a document is about, as printed on every page."""

    patient_name: str
    nhs_number: str
    born: str
    plan_id: int
    plan_version: int
    generated_on: date
    pharmacy_name: str
    pharmacy_ods_code: str
    clinic_name: str
    clinic_contact: str
    replaces: tuple[int, date] | None = None  # (version, dated)


def banner(head: Letterhead) -> dict[str, Any]:
    """The values of the banner printed at the top of every page, and the "replaces" line."""
    return {
        "patient": {"name": head.patient_name, "nhs_number": head.nhs_number,
                    "born": day(date.fromisoformat(head.born))},
        "plan": {"id": head.plan_id, "version": head.plan_version,
                 "replaces": {"version": head.replaces[0], "dated": day(head.replaces[1])} if head.replaces
                 else None},
        "generated_on": day(head.generated_on),
    }


def day(value: date) -> str:
    """15 March 2027 (NHS style)."""
    return f"{value.day} {value:%B %Y}"
