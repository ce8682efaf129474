"""A clinician's professional registration, as a letter's sender block prints it (issue 14, item 1).

A GP acting on a letter should be able to check who wrote it on the public register. The formats are the
registers' own: a GPhC registration number is 7 digits (https://www.pharmacyregulation.org/registers), a GMC
reference number 7 digits (https://www.gmc-uk.org/registration-and-licensing/the-medical-register), and an NMC PIN
two digits, a letter, four digits and a letter, such as 12A3456E (https://www.nmc.org.uk/registration/search-the-register/).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class RegulatoryBody(StrEnum):
    GPHC = "GPhC"
    GMC = "GMC"
    NMC = "NMC"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {RegulatoryBody.GPHC: "General Pharmaceutical Council (GPhC)",
           RegulatoryBody.GMC: "General Medical Council (GMC)",
           RegulatoryBody.NMC: "Nursing and Midwifery Council (NMC)"}
_FORMATS = {RegulatoryBody.GPHC: (re.compile(r"\d{7}"), "7 digits"),
            RegulatoryBody.GMC: (re.compile(r"\d{7}"), "7 digits"),
            RegulatoryBody.NMC: (re.compile(r"\d{2}[A-Z]\d{4}[A-Z]"), "like 12A3456E")}


class InvalidRegistration(ValueError):
    """The body or number cannot be read exactly; the message says what is expected."""


@dataclass(frozen=True)
class Registration:
    body: RegulatoryBody
    number: str

    def __str__(self) -> str:
        return f"{self.body.value} registration number {self.number}"


def read_registration(body: str, number: str) -> Registration | None:
    """The registration given by `body` and `number` (spaces ignored), None when both are empty, or
    InvalidRegistration. Never half of one: a number without its register cannot be checked."""
    body, number = body.strip(), re.sub(r"\s+", "", number).upper()
    if not body and not number:
        return None
    try:
        regulator = RegulatoryBody(body)
    except ValueError:
        raise InvalidRegistration("Choose the register: " + ", ".join(each.value for each in RegulatoryBody)) from None
    pattern, expected = _FORMATS[regulator]
    if not pattern.fullmatch(number):
        raise InvalidRegistration(f"A {regulator.value} registration number is {expected}")
    return Registration(regulator, number)
