"""Date boxes take a month as people write it (issue 17): "3", "03", "Mar" or "March"; a date that does not
exist is refused with the reason, and nothing is saved."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from taper.domain.organisations import OrganisationKind
from taper.extensions import db
from taper.models import Patient
from tests.conftest import Maker, page_text, submit


@pytest.fixture
def form(make: Maker) -> dict[str, str]:
    practice = make.organisation(OrganisationKind.GP_PRACTICE)
    return {"nhs_number": "943 476 5919", "given_name": "Ada", "family_name": "Lovelace",
            "date_of_birth-day": "14", "date_of_birth-month": "3", "date_of_birth-year": "1951", "sex": "female",
            "gp_practice_id": str(practice.id), "pharmacy_id": "", "preferred_language": "English"}


@pytest.mark.parametrize("month", ["3", "03", "Mar", "march", " MARCH "])
def test_the_month_box_takes_a_number_or_a_name(signed_in: FlaskClient, form: dict[str, str], month: str) -> None:
    response = submit(signed_in, "/patients/new", {**form, "date_of_birth-month": month}, follow_redirects=True)
    assert "Ada Lovelace has been added" in page_text(response)
    assert db.session.scalar(select(Patient.date_of_birth)) == date(1951, 3, 14)


@pytest.mark.parametrize(("parts", "message"), [
    ({"date_of_birth-day": "31", "date_of_birth-month": "Feb"}, "Date of birth must be a real date: February 1951 "
                                                                "has no day 31"),
    ({"date_of_birth-month": "Smarch"}, "Date of birth must be a real date: “smarch” is not a month"),
    ({"date_of_birth-year": "51"}, "Date of birth must be a real date: write the year in full, with 4 digits"),
    ({"date_of_birth-month": "13"}, "Date of birth must be a real date: there is no month 13"),
])
def test_a_date_that_does_not_exist_is_refused_with_the_reason(signed_in: FlaskClient, form: dict[str, str],
                                                               parts: dict[str, str], message: str) -> None:
    page = page_text(submit(signed_in, "/patients/new", {**form, **parts}))
    assert message in page and 'href="#date_of_birth-day"' in page
    assert db.session.scalar(select(func.count()).select_from(Patient)) == 0
