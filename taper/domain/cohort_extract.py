"""A GP practice's search exported as CSV (issue 18, cohort import): its columns, and each row checked and read
into plain values, or refused with the reason in words for the pharmacist.

The fields an extract must give, the header spellings EMIS Web and SystmOne exports use (recognised without a
mapping: case, spaces, underscores and full stops ignored), dates as dd/mm/yyyy, and the key that makes a
re-import add nothing twice. Standard library only, apart from the NHS number check the domain already uses.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from taper.domain.nhs_number import InvalidNhsNumber, normalise_nhs_number
from taper.domain.patients import OLDEST_PLAUSIBLE_AGE_YEARS, Sex
from taper.domain.typed_dates import UnreadableDate, date_from_parts

# (field, label as the mapping form shows it, required)
FIELDS: list[tuple[str, str, bool]] = [
    ("nhs_number", "NHS Number", True),
    ("family_name", "Surname", True),
    ("given_name", "Forename", True),
    ("date_of_birth", "Date of Birth", True),
    ("practice_code", "Practice Code", True),
    ("drug", "Drug", True),
    ("dosage", "Dosage", True),
    ("quantity", "Quantity", True),
    ("last_issue_date", "Last Issue Date", True),
    ("first_issue_date", "First Issue Date", False),
    ("address", "Address", False),
    ("postcode", "Postcode", False),
    ("mobile", "Mobile", False),
    ("sex", "Sex", False),
]
FIELD_NAMES = tuple(field for field, _, _ in FIELDS)
REQUIRED = tuple(field for field, _, required in FIELDS if required)

# Header spellings recognised without a mapping (EMIS Web and SystmOne searches, and their usual variants).
SPELLINGS: dict[str, tuple[str, ...]] = {
    "nhs_number": ("NHS Number", "NHS No", "NHS Num", "NHSNumber"),
    "family_name": ("Surname", "Family Name", "Last Name"),
    "given_name": ("Forename", "Forenames", "First Name", "Given Name", "Given Names"),
    "date_of_birth": ("Date of Birth", "DOB", "Birth Date"),
    "practice_code": ("Practice Code", "Practice ODS Code", "Organisation Code", "ODS Code",
                      "Registered Practice Code"),
    "drug": ("Drug", "Drug Name", "Medication", "Medication Name"),
    "dosage": ("Dosage", "Dose", "Dosage Instructions", "Dosage Text"),
    "quantity": ("Quantity", "Qty", "Quantity Issued"),
    "last_issue_date": ("Last Issue Date", "Last Issued", "Date of Last Issue", "Last Issue"),
    "first_issue_date": ("First Issue Date", "Date of First Issue", "First Issued"),
    "address": ("Address", "Full Address", "Patient Address", "Home Address"),
    "postcode": ("Postcode", "Post Code"),
    "mobile": ("Mobile", "Mobile Number", "Mobile Telephone", "Mobile Phone", "Mobile Telephone Number"),
    "sex": ("Sex", "Gender"),
}


def header_key(header: str) -> str:
    """A header in one spelling: lower case, without spaces, underscores, hyphens or full stops."""
    return re.sub(r"[\s_.\-]+", "", header).lower().lstrip("\ufeff")


_KNOWN = {header_key(spelling): field for field, spellings in SPELLINGS.items() for spelling in spellings}


def recognise(headers: list[str], remembered: dict[str, str] | None = None) -> dict[str, str]:
    """{field: header of this file} for the fields whose header is a known spelling, then, for the others, the
    clinic's remembered mapping where this file has that header (compared in one spelling)."""
    by_key = {header_key(header): header for header in reversed(headers) if header.strip()}
    columns: dict[str, str] = {}
    for header in headers:
        field = _KNOWN.get(header_key(header))
        if field is not None and field not in columns:
            columns[field] = header
    for field, header in (remembered or {}).items():
        if field in FIELD_NAMES and field not in columns and header_key(header) in by_key:
            columns[field] = by_key[header_key(header)]
    return columns


def missing(columns: dict[str, str]) -> list[str]:
    """The required fields `columns` does not give, in the form's order."""
    return [field for field in REQUIRED if not columns.get(field)]


@dataclass(frozen=True)
class ExtractRow:
    """One row checked: plain values, the NHS number as ten digits, the practice as an upper-case ODS code.
    `mobile` and `address` are as written (the service checks a mobile as the patient form does)."""

    number: int  # as a spreadsheet shows it (the header is row 1)
    nhs_number: str
    family_name: str
    given_name: str
    date_of_birth: date
    practice_code: str
    drug: str
    dosage: str
    quantity: str
    last_issue_date: date
    first_issue_date: date | None
    address: str
    mobile: str
    sex: Sex

    key: str  # row_key(...): the same row of a practice's record, whichever file brings it, has the same key


def row_key(nhs_number: str, drug: str, dosage: str, quantity: str, last_issued_on: date) -> str:
    """sha256 of the normalised row: NHS number, drug, dosage and quantity (case and spacing ignored), last issue
    date."""
    parts = (nhs_number, drug.lower(), dosage.lower(), quantity.lower(), last_issued_on.isoformat())
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


class RowRefused(ValueError):
    """The row cannot be imported; the message says why, in words for the pharmacist."""


_ODS_CODE = re.compile(r"[A-Z0-9]{3,10}")
_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
MAX_NAME_CHARACTERS = 100
MAX_TEXT_CHARACTERS = 1000
MAX_QUANTITY_CHARACTERS = 100
_SEXES = {"1": Sex.MALE, "m": Sex.MALE, "male": Sex.MALE, "2": Sex.FEMALE, "f": Sex.FEMALE, "female": Sex.FEMALE,
          "9": Sex.INDETERMINATE, "i": Sex.INDETERMINATE, "indeterminate": Sex.INDETERMINATE,
          "0": Sex.NOT_KNOWN, "x": Sex.NOT_KNOWN, "u": Sex.NOT_KNOWN, "unknown": Sex.NOT_KNOWN,
          "not known": Sex.NOT_KNOWN}


def read_row(number: int, values: dict[str, str], *, today: date) -> ExtractRow:
    """The row's fields (`values`: field -> text as the file has it, absent fields empty) checked and read;
    RowRefused with the first reason it cannot be imported."""
    get = values.get
    (nhs_number, family_name, given_name, born_on, practice_code, address, mobile, sex) = _person(
        get("nhs_number") or "", get("family_name") or "", get("given_name") or "", get("date_of_birth") or "",
        get("practice_code") or "", get("address") or "", get("postcode") or "", get("mobile") or "",
        get("sex") or "", today)
    drug = _required(_spaced(get("drug") or ""), "drug", MAX_TEXT_CHARACTERS)
    dosage = _required(_spaced(get("dosage") or ""), "dosage", MAX_TEXT_CHARACTERS)
    quantity = _required(_spaced(get("quantity") or ""), "quantity", MAX_QUANTITY_CHARACTERS)
    last_issued_on = extract_date((get("last_issue_date") or "").strip(), "last issue date")
    if last_issued_on > today:
        raise RowRefused("last issue date is in the future")
    first_written = (get("first_issue_date") or "").strip()
    first_issued_on = extract_date(first_written, "first issue date") if first_written else None
    if first_issued_on is not None and first_issued_on > last_issued_on:
        raise RowRefused("first issue date is after the last issue date")
    return ExtractRow(key=row_key(nhs_number, drug, dosage, quantity, last_issued_on), number=number,
                      nhs_number=nhs_number, family_name=family_name, given_name=given_name,
                      date_of_birth=born_on, practice_code=practice_code, drug=drug, dosage=dosage,
                      quantity=quantity, last_issue_date=last_issued_on, first_issue_date=first_issued_on,
                      address=address, mobile=mobile, sex=sex)


@lru_cache(maxsize=50_000)
def _person(nhs_number: str, family_name: str, given_name: str, date_of_birth: str, practice_code: str,
            address: str, postcode: str, mobile: str, sex: str,
            today: date) -> tuple[str, str, str, date, str, str, str, Sex]:
    """The fields about the person, checked once for the several rows a patient has."""
    number = extract_nhs_number(_spaced(nhs_number))
    family = _required(_spaced(family_name), "surname", MAX_NAME_CHARACTERS)
    given = _required(_spaced(given_name), "forename", MAX_NAME_CHARACTERS)
    born_on = extract_date(date_of_birth.strip(), "date of birth")
    if born_on > today:
        raise RowRefused("date of birth is in the future")
    if born_on.year < today.year - OLDEST_PLAUSIBLE_AGE_YEARS:
        raise RowRefused(f"date of birth is before {today.year - OLDEST_PLAUSIBLE_AGE_YEARS}: check it")
    practice = _spaced(practice_code).upper()
    if not _ODS_CODE.fullmatch(practice):
        raise RowRefused("practice code is not an ODS code (3 to 10 letters and numbers, like A81001)")
    lines = [line for line in [*_address_lines(address), _spaced(postcode).upper()] if line]
    return (number, family, given, born_on, practice, "\n".join(lines) if len(lines) > 1 else "", _spaced(mobile),
            sex_from(sex))


@lru_cache(maxsize=100_000)
def extract_nhs_number(written: str) -> str:
    """The ten digits of a valid NHS number; RowRefused otherwise (cached: a patient has several rows)."""
    try:
        return normalise_nhs_number(written)
    except InvalidNhsNumber as problem:
        message = str(problem)  # "NHS number must be 10 digits long" ... or "Enter the NHS number"
        raise RowRefused(message if message.startswith("NHS number") else "NHS number is empty") from None


@lru_cache(maxsize=100_000)
def extract_date(written: str, what: str) -> date:
    """A date written dd/mm/yyyy, as EMIS Web and SystmOne export them; RowRefused otherwise (never guessed).
    Cached: extracts repeat dates."""
    match = _DATE.fullmatch(written)
    if match is None:
        raise RowRefused(f"{what} must be written dd/mm/yyyy" + (f" (it is {written!r})" if written else
                                                                  " (it is empty)"))
    try:
        return date_from_parts(match.group(1), match.group(2), match.group(3))
    except UnreadableDate as problem:
        raise RowRefused(f"{what} is not a real date: {problem}") from None


def sex_from(written: str) -> Sex:
    """Stated sex from NHS Data Dictionary codes (1, 2, 9, 0/X) or words; anything else or nothing: not known."""
    return _SEXES.get(written.strip().lower(), Sex.NOT_KNOWN)


def _required(value: str, what: str, longest: int) -> str:
    if not value:
        raise RowRefused(f"{what} is empty")
    if len(value) > longest:
        raise RowRefused(f"{what} is longer than {longest} characters")
    return value


def _spaced(value: str) -> str:
    return " ".join(value.split())


def _address_lines(address: str) -> list[str]:
    """An address as lines: split where the file broke it, or at commas."""
    return [_spaced(part) for part in re.split(r"[\n\r,]+", address) if part.strip()]
