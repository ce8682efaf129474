"""Reading an extract's columns and rows (taper.domain.cohort_extract): headers recognised in any case and
spacing, each row checked or refused with its reason, and the key that makes a re-import add nothing twice."""

from __future__ import annotations

from datetime import date

import pytest

from taper.domain.cohort_extract import (
    REQUIRED,
    ExtractRow,
    RowRefused,
    missing,
    read_row,
    recognise,
    sex_from,
)
from taper.domain.patients import Sex

TODAY = date(2026, 12, 2)
GOOD = {"nhs_number": "999 000 0026", "family_name": " Lovelace ", "given_name": "Ada",
        "date_of_birth": "10/12/1960", "practice_code": "b82099", "drug": "Zomorph 30mg capsules",
        "dosage": "1 bd", "quantity": "56", "last_issue_date": "20/11/2026"}


def test_emis_and_systmone_headers_in_any_case_and_spacing() -> None:
    emis = ["NHS Number", "Surname", "Forename", "Date of Birth", "Practice Code", "Drug", "Dosage", "Quantity",
            "Last Issue Date", "Date of First Issue", "Mobile Telephone", "Gender"]
    systmone = ["NHS_NUMBER", "surname", "First name", "date_of_birth", "PRACTICE CODE", "drug", "dosage", "qty",
                "Last issue date", "Postcode"]
    assert missing(recognise(emis)) == [] and recognise(emis)["mobile"] == "Mobile Telephone"
    assert recognise(emis)["first_issue_date"] == "Date of First Issue" and recognise(emis)["sex"] == "Gender"
    assert missing(recognise(systmone)) == [] and recognise(systmone)["nhs_number"] == "NHS_NUMBER"


def test_a_remembered_mapping_fills_only_what_is_not_recognised() -> None:
    headers = ["NHS Number", "Family", "Given", "Born", "Surgery", "Medicine", "Directions", "Qty", "Issued"]
    assert missing(recognise(headers)) == ["family_name", "given_name", "date_of_birth", "practice_code", "drug",
                                           "dosage", "last_issue_date"]
    remembered = {"family_name": "family", "given_name": "GIVEN", "date_of_birth": "Born", "practice_code": "Surgery",
                  "drug": "Medicine", "dosage": "Directions", "last_issue_date": "Issued", "nhs_number": "Other"}
    columns = recognise(headers, remembered)
    assert missing(columns) == [] and columns["family_name"] == "Family" and columns["nhs_number"] == "NHS Number"
    assert set(REQUIRED) <= set(columns)


def test_a_good_row_is_read_into_plain_values() -> None:
    row = read_row(2, {**GOOD, "address": "1 Example Street, Leeds", "postcode": "ls1 1aa", "sex": "2",
                       "first_issue_date": "01/01/2024"}, today=TODAY)
    assert (row.nhs_number, row.family_name, row.practice_code, row.date_of_birth) == (
        "9990000026", "Lovelace", "B82099", date(1960, 12, 10))
    assert row.address == "1 Example Street\nLeeds\nLS1 1AA" and row.sex is Sex.FEMALE
    assert row.first_issue_date == date(2024, 1, 1) and row.last_issue_date == date(2026, 11, 20)


@pytest.mark.parametrize(("change", "reason"), [
    ({"nhs_number": "9990000027"}, "NHS number is not valid"),
    ({"nhs_number": ""}, "NHS number is empty"),
    ({"family_name": "  "}, "surname is empty"),
    ({"date_of_birth": "1960-12-10"}, "date of birth must be written dd/mm/yyyy"),
    ({"date_of_birth": "10/12/2027"}, "date of birth is in the future"),
    ({"date_of_birth": "10/12/1890"}, "date of birth is before 1901"),
    ({"practice_code": "B8"}, "practice code is not an ODS code"),
    ({"drug": ""}, "drug is empty"),
    ({"dosage": ""}, "dosage is empty"),
    ({"last_issue_date": "03/12/2026"}, "last issue date is in the future"),
    ({"last_issue_date": "12/31/2026"}, "last issue date is not a real date"),
    ({"first_issue_date": "21/11/2026"}, "first issue date is after the last issue date"),
    ({"quantity": "x" * 101}, "quantity is longer than 100 characters"),
])
def test_a_row_is_refused_with_its_reason(change: dict[str, str], reason: str) -> None:
    with pytest.raises(RowRefused) as refused:
        read_row(2, {**GOOD, **change}, today=TODAY)
    assert str(refused.value).lower().startswith(reason.lower())


def test_the_key_ignores_case_and_spacing_but_not_the_issue_date() -> None:
    row = read_row(2, GOOD, today=TODAY)
    assert isinstance(row, ExtractRow)
    same = read_row(9, {**GOOD, "drug": "ZOMORPH  30mg capsules", "dosage": "1 BD ", "nhs_number": "9990000026"},
                    today=TODAY)
    later = read_row(2, {**GOOD, "last_issue_date": "21/11/2026"}, today=TODAY)
    assert row.key == same.key != later.key and len(row.key) == 64


@pytest.mark.parametrize(("written", "sex"), [("1", Sex.MALE), ("M", Sex.MALE), ("Female", Sex.FEMALE),
                                              ("9", Sex.INDETERMINATE), ("", Sex.NOT_KNOWN), ("?", Sex.NOT_KNOWN)])
def test_sex_from_data_dictionary_codes_or_words(written: str, sex: Sex) -> None:
    assert sex_from(written) is sex
