"""Synthetic extracts of a GP practice's search, as EMIS Web or SystmOne export them (issue 18: for tests, the
benchmark and the demo). Made-up people only: NHS numbers in the never-issued 999 range, mobiles in Ofcom's
drama range (07700 900xxx), addresses on made-up streets. The same seed makes the same file.

Each patient has one to six rows: one or more opioids (pairs the medication reader reads, from its tests), some
with a benzodiazepine or a gabapentinoid, some with paracetamol or another non-opioid, and about one in twenty
with an opioid line that needs a hand check ("as directed", a variable dose). Some rows carry an address and a
mobile number, some not.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import IO

import nhs_number

from taper import clock

HEADERS = {
    "emis": ["NHS Number", "Surname", "Forename", "Date of Birth", "Sex", "Practice Code", "Drug", "Dosage",
             "Quantity", "Last Issue Date", "Date of First Issue", "Address", "Postcode", "Mobile Telephone"],
    "systmone": ["NHS number", "Surname", "First name", "Date of birth", "Gender", "Practice code", "Drug",
                 "Dosage", "Quantity", "Last issue date", "First issue date", "Address", "Postcode",
                 "Mobile number"],
    # What another system's search might write: needs the clinic's mapping (CUSTOM_MAPPING).
    "custom": ["Patient NHS No", "Family", "Given", "Born", "Stated sex", "Surgery", "Medicine", "Directions",
               "Qty supplied", "Latest issue", "Started", "Home", "Post town code", "Cell"],
}
CUSTOM_MAPPING = {"nhs_number": "Patient NHS No", "family_name": "Family", "given_name": "Given",
                  "date_of_birth": "Born", "sex": "Stated sex", "practice_code": "Surgery", "drug": "Medicine",
                  "dosage": "Directions", "quantity": "Qty supplied", "last_issue_date": "Latest issue",
                  "first_issue_date": "Started", "address": "Home", "postcode": "Post town code", "mobile": "Cell"}

# (drug, dosage, quantity): opioid pairs the reader reads (tests/domain/test_medication_reader.py)
OPIOIDS: list[tuple[str, str, str]] = [
    ("Zomorph 30mg modified-release capsules", "ONE TO BE TAKEN TWICE A DAY", "56"),
    ("Morphine sulfate 10mg/5ml oral solution", "5ml-10ml four times a day when required", "300"),
    ("Co-codamol 30mg/500mg tablets", "2 QDS PRN", "100"),
    ("Fentanyl 25micrograms/hour transdermal patches", "apply one every 72 hours", "10"),
    ("MST Continus 10mg modified-release tablets", "1 mane 2 nocte", "84"),
    ("Oxycodone 5mg capsules", "1-2 every 4-6 hours when required", "56"),
    ("Morphine sulfate 30mg modified-release tablets", "1 bd", "56"),
    ("Morphine sulfate 60mg modified-release tablets", "ONE BD", "56"),
    ("Codeine phosphate 30mg tablets", "1 qds", "112"),
    ("Codeine phosphate 30mg tablets", "1-2 qds p.r.n.", "100"),
    ("Dihydrocodeine 30mg tablets", "ONE OR TWO QDS PRN", "112"),
    ("Tramadol 50mg capsules", "1-2 qds prn", "100"),
    ("Tramadol 50mg capsules", "2 bd", "112"),
    ("Co-codamol 30mg/500mg tablets", "2 tablets 4 times a day", "224"),
    ("Co-codamol 15mg/500mg tablets", "TWO TABLETS FOUR TIMES A DAY", "224"),
    ("Oxycodone 10mg modified-release tablets", "one to be taken every 12 hours", "56"),
    ("OxyContin 20mg modified-release tablets", "1 bd", "56"),
    ("Longtec 40mg tablets", "ONE TO BE TAKEN EVERY 12 HOURS", "56"),
    ("MXL 60mg capsules", "one daily", "28"),
    ("Zomorph 100mg capsules", "1 twice daily", "56"),
    ("OxyNorm 5mg capsules", "1 qds prn", "56"),
    ("Fentanyl 25micrograms/hour transdermal patches", "ONE PATCH TO BE APPLIED EVERY 72 HOURS", "10"),
]
# Opioid lines a pharmacist must check by hand (the reader never guesses)
HAND_CHECK: list[tuple[str, str, str]] = [
    ("MST Continus 10mg tablets", "1-2 bd", "112"),
    ("Co-codamol 30mg/500mg tablets", "as directed", "100"),
    ("Oxycodone 5mg capsules", "take as directed by the pain clinic", "56"),
    ("Morphine sulfate 20mg/ml oral solution", "0.5ml prn", "120"),
]
RISK_FACTORS: list[tuple[str, str, str]] = [
    ("Pregabalin 75mg capsules", "1 bd", "56"),
    ("Gabapentin 300mg capsules", "1 tds", "84"),
    ("Diazepam 5mg tablets", "1 at night", "28"),
    ("Diazepam 2mg tablets", "1 tds prn", "30"),
]
OTHERS: list[tuple[str, str, str]] = [
    ("Paracetamol 500mg tablets", "2 qds", "100"),
    ("Amitriptyline 10mg tablets", "1 at night", "28"),
    ("Naproxen 500mg tablets", "1 bd", "56"),
]
_COMMON = [6 if "odeine" in drug or "odamol" in drug or "Tramadol" in drug or "Morphine" in drug else 2
           for drug, _, _ in OPIOIDS]
GIVEN_NAMES = ["Margaret", "David", "Aisha", "Gareth", "Susan", "Kwame", "Janet", "Robert", "Helen", "Imran",
               "Linda", "Stephen", "Olga", "Peter", "Carol", "Daniel", "Patricia", "Michael", "Fatima", "Alan"]
FAMILY_NAMES = ["Holloway", "Pritchard", "Rahman", "Lloyd", "Whitfield", "Mensah", "Clarke", "Fenwick", "Dawson",
                "Qureshi", "Baxter", "Marsh", "Nowak", "Gallagher", "Hughes", "Osei", "Kerr", "Dunne", "Begum"]
STREETS = ["Example Street", "Sample Road", "Demo Lane", "Placeholder Avenue", "Fictional Close"]
SEXES = ["1", "2", "M", "F", "Male", "Female", "9", ""]
FIRST_STEM = 999_300_000  # NHS numbers from 999 300 000x (the demo's own patients are 999 000 00xx)


def write_extract(target: str | Path | IO[str], rows: int, *, seed: int, practices: Sequence[str],
                  header_style: str = "emis", broken_rows: int = 0, issued_by: date | None = None) -> int:
    """Write an extract of `rows` data rows (plus the header) to a path or a text stream; how many patients it
    names. `broken_rows` rows (each of a different patient) are broken as files are (an NHS number whose check
    digit is wrong, a date of birth that is not a date, an empty drug). Issue dates fall in the 90 days up to
    `issued_by` (default today)."""
    if header_style not in HEADERS:
        raise ValueError(f"header_style must be one of {', '.join(HEADERS)}")
    if not practices:
        raise ValueError("name at least one practice")
    issued_by = issued_by or clock.today()
    if isinstance(target, str | Path):
        with open(target, "w", newline="", encoding="utf-8") as stream:
            return _write(stream, rows, seed, practices, header_style, broken_rows, issued_by)
    return _write(target, rows, seed, practices, header_style, broken_rows, issued_by)


def _write(stream: IO[str], rows: int, seed: int, practices: Sequence[str], header_style: str, broken_rows: int,
           issued_by: date) -> int:
    chance = random.Random(seed)
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(HEADERS[header_style])
    numbers = _nhs_numbers(FIRST_STEM + (seed % 5) * 130_000)
    written = patients = 0
    to_break = broken_rows
    while written < rows:
        patients += 1
        person = _person(chance, next(numbers), practices, issued_by)
        medicines = _medicines(chance)[:rows - written]
        for index, (drug, dosage, quantity) in enumerate(medicines):
            last_issued = issued_by - timedelta(days=chance.randrange(0, 90))
            first_issued = last_issued - timedelta(days=chance.randrange(90, 2000))
            row = [*person[:6], drug, dosage, quantity, _dmy(last_issued), _dmy(first_issued), *person[6:]]
            if index == 0 and to_break:
                row = _broken(row, to_break)
                to_break -= 1
            writer.writerow(row)
        written += len(medicines)
    return patients


def _person(chance: random.Random, number: str, practices: Sequence[str], issued_by: date) -> list[str]:
    born_on = date(1935, 1, 1) + timedelta(days=chance.randrange(0, 60 * 365))
    born_on = min(born_on, issued_by - timedelta(days=18 * 366))
    house = chance.randrange(1, 200)
    address, postcode = ("", "")
    if chance.random() < 0.7:
        address = f"{house} {chance.choice(STREETS)}, Leeds"
        postcode = f"LS{chance.randrange(1, 29)} {chance.randrange(1, 10)}{chance.choice('ABDEFGHJ')}" \
                   f"{chance.choice('LNPQRSTU')}"
    mobile = f"07700 900{chance.randrange(0, 1000):03d}" if chance.random() < 0.45 else ""
    if mobile and chance.random() < 0.03:
        mobile = "0113 496 0000"  # a landline in the mobile column: left out with a note
    return [number, chance.choice(FAMILY_NAMES), chance.choice(GIVEN_NAMES), _dmy(born_on), chance.choice(SEXES),
            chance.choice(list(practices)), address, postcode, mobile]


def _medicines(chance: random.Random) -> list[tuple[str, str, str]]:
    """One patient's rows: about 3.3 on average, as a search for long-term opioids finds them."""
    count = chance.choices([1, 2, 3, 4, 5, 6], weights=[10, 20, 25, 20, 15, 10])[0]
    first = chance.choices(OPIOIDS, weights=_COMMON)[0]  # codeine, co-codamol, tramadol, morphine most often
    chosen = [first]
    if chance.random() < 0.05:
        chosen.append(chance.choice(HAND_CHECK))
    while len(chosen) < count:
        pick = chance.random()
        pool = OPIOIDS if pick < 0.15 else RISK_FACTORS if pick < 0.55 else OTHERS
        medicine = chance.choice(pool)
        if medicine[0] not in {drug for drug, _, _ in chosen}:
            chosen.append(medicine)
        elif len(chosen) < count:  # repeats of the same drug: issued again (same row, another date)
            chosen.append((medicine[0], medicine[1], medicine[2]) if pool is not OPIOIDS else chance.choice(OTHERS))
    return chosen


def _broken(row: list[str], which: int) -> list[str]:
    row = list(row)
    kind = which % 3
    if kind == 0:
        row[0] = row[0][:9] + str((int(row[0][9]) + 1) % 10)  # a check digit that does not check
    elif kind == 1:
        row[3] = "31/02/1960"
    else:
        row[6] = ""
    return row


def _nhs_numbers(stem: int) -> Iterator[str]:
    while True:
        stem += 1
        check = nhs_number.calculate_checksum(str(stem))
        if check != 10:
            yield f"{stem}{check}"


def _dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")
