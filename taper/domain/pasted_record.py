"""Medication lines pasted from a GP record into the regimen form ("paste from the record", issue 18).

A pharmacist copies the medication list as the GP system shows it: one medicine a line, the drug name as dm+d
writes it and the dosage instruction. Each line is split into its drug and its dosage (docs/read-medication.md,
Pasting from the record), then read by the one reader (taper.domain.medication_reader). Nothing here guesses a
dose: a line that cannot be split or read is listed with the reader's problems, for the pharmacist to enter by
hand. Pure: the formulary is passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from taper.domain.formulary import Formulary
from taper.domain.medication_reader import add_patches, read_medication

MAX_PASTED_LINES = 50  # more than any medication list; a longer paste is refused whole
MAX_PASTED_CHARACTERS = 20_000

# The dm+d form words that end a drug name ("... 30mg modified-release capsules"), longest first so that
# "oral solution" wins over "solution". A line with no tab and no " - " is split just after the first of them.
FORM_WORDS = (
    "transdermal patches", "transdermal patch", "oral solution", "oral suspension", "oral drops",
    "oral liquid", "oral powder", "buccal tablets", "sublingual tablets", "orodispersible tablets",
    "effervescent tablets", "soluble tablets", "dispersible tablets", "chewable tablets",
    "tablets", "tablet", "capsules", "capsule", "caplets", "patches", "patch", "solution", "suspension",
    "liquid", "granules", "sachets", "suppositories", "lozenges", "injection", "film", "films", "spray", "tabs",
)
_FORM = re.compile(r"\b(?:" + "|".join(re.escape(words) for words in FORM_WORDS) + r")\b", re.IGNORECASE)
_DASH = re.compile(r"\s+[-\u2013]\s+")  # a hyphen or an en dash, spaced
_HEADER_WORDS = ("drug", "medication", "medicine", "name")


@dataclass(frozen=True)
class PastedLine:
    """One pasted line as typed, split into drug and dosage (empty when it could not be split)."""

    number: int  # counted from 1, as the pharmacist sees the pasted text
    text: str
    drug: str
    dosage: str


@dataclass(frozen=True)
class Unread:
    """A pasted line that gave no regimen line, with the reasons in the reader's words."""

    number: int
    text: str
    problems: tuple[str, ...]


@dataclass
class PastedReading:
    """What the pasted lines say: regimen lines of the schedule contract (patches of one product added up as
    labelled), the lines that could not be read, the co-prescribed risk factors found, the other non-opioids
    (listed so the pharmacist sees they were recognised), and the reader's notes on lines it read."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    unread: list[Unread] = field(default_factory=list)
    benzodiazepine: bool = False
    gabapentinoid: bool = False
    non_opioids: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class PasteTooLong(ValueError):
    """More text than any medication list: refused whole, rather than read in part."""


def split_lines(text: str) -> list[PastedLine]:
    """The pasted text's medicines, one a line, each split into drug and dosage:

    1. at a tab (a copied table: the first cell is the drug, the next non-empty one the dosage; later cells such
       as quantity and issue dates are left out);
    2. else at the first " - " (a dash with a space each side; a hyphen inside a word, as in "co-codamol", is not
       one);
    3. else just after the first dm+d form word (FORM_WORDS: "tablets", "capsules", "oral solution" ...).

    Blank lines are skipped, and a first line that is a table's header ("Drug<tab>Dosage") is left out. A line
    none of these split keeps its text with an empty dosage (the reader then says the dosage gives no dose)."""
    if len(text) > MAX_PASTED_CHARACTERS:
        raise PasteTooLong(f"Paste at most {MAX_PASTED_CHARACTERS:,} characters")
    found: list[PastedLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        drug, dosage = _split(raw)
        if not found and drug.lower().rstrip(":") in _HEADER_WORDS:
            continue
        found.append(PastedLine(number=number, text=line, drug=drug, dosage=dosage))
    if len(found) > MAX_PASTED_LINES:
        raise PasteTooLong(f"Paste at most {MAX_PASTED_LINES} medicines")
    return found


def _split(raw: str) -> tuple[str, str]:
    if "\t" in raw:
        cells = [cell.strip() for cell in raw.split("\t") if cell.strip()]
        return (cells[0] if cells else "", cells[1] if len(cells) > 1 else "")
    line = " ".join(raw.split())
    dash = _DASH.search(line)
    if dash:
        return line[:dash.start()].strip(), line[dash.end():].strip()
    form = _FORM.search(line)
    if form:
        return line[:form.end()].strip(), line[form.end():].strip(" ,;:")
    return line, ""


def read_pasted(text: str, formulary: Formulary) -> PastedReading:
    """Read every pasted line with the one reader. Opioid lines become regimen lines (patches worn together
    added up); benzodiazepines and gabapentinoids set the risk factors; any line without a regimen line and
    without being a recognised non-opioid is listed as unread, with the reader's problems."""
    reading = PastedReading()
    read: list[dict[str, Any]] = []
    for pasted in split_lines(text):
        if not pasted.dosage and not pasted.drug:
            continue
        result = read_medication(pasted.drug, pasted.dosage, formulary)
        if result.non_opioid is not None:
            reading.non_opioids.append(pasted.drug)
            if result.non_opioid == "benzodiazepine":
                reading.benzodiazepine = True
            elif result.non_opioid == "gabapentinoid":
                reading.gabapentinoid = True
            continue
        if result.line is None:
            problems = result.problems or ("the reader could not read this line",)
            if not pasted.dosage:
                problems = ("no dosage found: put a tab or \" - \" between the drug and its dosage", *problems)
            reading.unread.append(Unread(number=pasted.number, text=pasted.text, problems=tuple(problems)))
            continue
        read.append(result.line)
        reading.notes.extend(f"{pasted.drug}: {note}" for note in result.notes)
    reading.lines.extend(add_patches(read))
    return reading

