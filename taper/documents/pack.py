"""A plan version's three documents (patient plan, GP letter, dispensing schedule) from one set of plain values.

The app (issuing a version), the batch command and `flask taper documents` all render through `render_pack`, so
what support staff check from a JSON file is exactly what the patient, the GP and the pharmacy receive. The
three documents are rendered in worker processes, side by side (taper.documents.workers), for one pack as for
many.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from taper.documents import pharmacy, team_letters, workers
from taper.documents.letterhead import Letterhead

KINDS = ("patient_plan", "gp_letter", "pharmacy_schedule")
FILE_NAMES = {"patient_plan": "patient-plan.pdf", "gp_letter": "gp-letter.pdf",
              "pharmacy_schedule": "pharmacy-schedule.pdf"}
TEMPLATE_VERSIONS = {"patient_plan": team_letters.TEMPLATE_VERSION, "gp_letter": team_letters.TEMPLATE_VERSION,
                     "pharmacy_schedule": pharmacy.TEMPLATE_VERSION}


@dataclass(frozen=True)
class Pack:
    """Everything the three documents of one plan version print, as plain values."""

    head: Letterhead
    version_request: dict[str, Any]
    schedule: dict[str, Any]  # the stored schedule document (docs/schedule-api.md)
    practice_name: str
    practice_ods_code: str
    prescriber: str  # "pharmacist" or "gp"
    risk: str
    instalment_days: int
    large_print: bool = False
    easy_read: bool = False
    appointments: tuple[str, ...] = ()  # booked when the documents are made: counted, never printed (team_letters)
    times_sent: bool = True  # the patient is sent each appointment's time; else their pharmacist gives it to them
    changes: tuple[str, ...] = ()  # a revised version: what changed from the one it replaces, in words
    reason: str = ""  # a revised version: why, as the pharmacist recorded it
    naloxone: bool = False  # the clinic gives take-home naloxone: the patient plan says what it is for
    pain_relief: str = ""  # what the patient agreed to take for pain instead (the shared decision)


def render_document(kind: str, pack: Pack) -> bytes:
    """One document of the pack. A plain function of plain values, so worker processes can run it."""
    if kind == "patient_plan":
        return team_letters.render_patient_plan(pack.head, pack.schedule, large_print=pack.large_print,
                                                easy_read=pack.easy_read, appointments=list(pack.appointments),
                                                times_sent=pack.times_sent, naloxone=pack.naloxone,
                                                pain_relief=pack.pain_relief)
    if kind == "gp_letter":
        return team_letters.render_gp_letter(
            pack.head, pack.version_request, pack.schedule, practice_name=pack.practice_name,
            practice_ods_code=pack.practice_ods_code, prescriber=pack.prescriber, risk=pack.risk,
            instalment_days=pack.instalment_days, appointments=list(pack.appointments),
            changes=list(pack.changes), reason=pack.reason)
    if kind == "pharmacy_schedule":
        return pharmacy.render_pharmacy_schedule(pack.head, pack.schedule, instalment_days=pack.instalment_days)
    raise ValueError(f"unknown document kind {kind!r}")


def render_pack(pack: Pack) -> dict[str, bytes]:
    """The three PDFs of `pack`, by kind, rendered side by side in the worker processes (benchmarks/README.md:
    on two cores, about half the time of the three one after another)."""
    return render_packs([pack])[0]


def render_packs(packs: Iterable[Pack], *, on_document: Callable[[], None] | None = None) -> list[dict[str, bytes]]:
    """The PDFs of many packs, rendered side by side in worker processes; `on_document` is called as each
    document is done (the batch command's progress bar)."""
    packs = list(packs)
    jobs = [(kind, pack) for pack in packs for kind in KINDS]
    pdfs = iter(workers.run(render_document, jobs, on_done=on_document))
    return [{kind: next(pdfs) for kind in KINDS} for _ in packs]
