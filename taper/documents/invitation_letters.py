"""The invitation a clinic sends in a GP practice's name (issue 18, item 4): the letter (standard, large print or
easy read, as the patient's recorded needs say) and the text message, from plain values.

The practice holds the patient's record and the relationship with them, so the invitation comes from the
practice, on its letterhead, and names the clinic whose pain pharmacist will see them. It says what it is about
("the medicines you take for pain", "your pain medicines": no drug class, since others in the household may open
a letter or read a phone, and no claim about how long, since a patient found for a high dose may have taken them
for less than three months), what is offered (a review and, only if they want, a slow reduction at their own
pace), what happens (a first appointment of about an hour, face to face, by phone or by video), that it is their
choice and nothing changes without their agreement, how to answer (the clinic's phone: no appointment time is
given), and not to stop suddenly. It prints no medicine, dose or other clinical detail.

A change to what a letter says bumps TEMPLATE_VERSION, which each batch of letters records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from taper.documents.render import render_pdf
from taper.domain.wording import long_date

TEMPLATE = "invitation/template.html"
EASY_READ_TEMPLATE = "invitation/easy_read.html"
TEMPLATE_VERSION = "2"  # 2: about "the medicines you take for pain", not "opioids for a long time"
FIRST_APPOINTMENT = "about an hour"  # an initial consultation is booked for 60 or 90 minutes


@dataclass(frozen=True)
class InvitationLetter:
    """What one invitation letter prints. Addresses are lines with "\\n" between them."""

    patient_name: str  # as the patient is addressed: "Ada Lovelace"
    patient_address: str
    nhs_number: str  # formatted, "943 476 5919"
    practice_name: str
    practice_address: str
    practice_phone: str
    clinic_name: str
    clinic_phone: str
    dated: date
    large_print: bool = False
    easy_read: bool = False


def letter_context(letter: InvitationLetter) -> dict[str, Any]:
    """The template's values: plain strings and lists only."""
    return {
        "patient": {"name": letter.patient_name, "address": _lines(letter.patient_address),
                    "nhs_number": letter.nhs_number},
        "practice": {"name": letter.practice_name, "address": _lines(letter.practice_address),
                     "phone": letter.practice_phone},
        "clinic": {"name": letter.clinic_name, "phone": letter.clinic_phone},
        "dated": long_date(letter.dated),
        "first_appointment": FIRST_APPOINTMENT,
        "large_print": letter.large_print,
    }


def template_for(letter: InvitationLetter) -> str:
    """The easy read layout when that is one of the patient's needs (it is always large: 16 pt), else the
    standard letter (in large print when that is a need)."""
    return EASY_READ_TEMPLATE if letter.easy_read else TEMPLATE


def render_letter(letter: InvitationLetter) -> bytes:
    """One invitation letter as a PDF, through the renderer every letter uses (its locked asset fetcher). A
    batch runs this in worker processes, one letter a job."""
    return render_pdf(template_for(letter), letter_context(letter))


def text_message(*, practice_name: str, clinic_name: str, clinic_phone: str) -> str:
    """The invitation by text: from the practice, about "your pain medicines" and nothing more clinical, with the
    clinic's phone to answer on."""
    return (f"{practice_name}: we would like to offer you a review of your pain medicines with the pain "
            f"pharmacist from {clinic_name}. It is your choice, and nothing changes unless you agree. To say yes "
            f"or no, or to ask about it, call {clinic_name} on {clinic_phone}. Please do not stop any medicine "
            "suddenly.")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]
