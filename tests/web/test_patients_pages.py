from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import func, select

from taper.domain.organisations import OrganisationKind
from taper.extensions import db
from taper.models import AuditEvent, Patient, User
from tests.conftest import Maker, csrf_token, submit


@pytest.fixture
def form(make: Maker) -> dict[str, str]:
    practice = make.organisation(OrganisationKind.GP_PRACTICE, name="Riverside Surgery")
    pharmacy = make.organisation(OrganisationKind.COMMUNITY_PHARMACY, name="High Street Pharmacy")
    return {"nhs_number": "943 476 5919", "given_name": "Ada", "family_name": "Lovelace",
            "date_of_birth-day": "10", "date_of_birth-month": "12", "date_of_birth-year": "1960", "sex": "female",
            "gp_practice_id": str(practice.id), "pharmacy_id": str(pharmacy.id), "preferred_language": "English",
            "large_print": "y", "other_communication_needs": ""}


def _patients() -> int:
    return db.session.scalar(select(func.count()).select_from(Patient))


def test_add_patient_saves_and_shows_the_record(signed_in: FlaskClient, form: dict[str, str],
                                                pharmacist: User) -> None:
    response = submit(signed_in, "/patients/new", form, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Ada Lovelace has been added" in page
    assert "943 476 5919" in page and "10 December 1960" in page and "High Street Pharmacy" in page
    assert "Large print" in page  # communication needs are flagged on the record
    patient = db.session.scalar(select(Patient))
    assert (patient.nhs_number, patient.clinic_id, patient.large_print) == ("9434765919", pharmacist.organisation_id,
                                                                           True)
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == patient.id)))
    assert actions == {"create", "view"}


@pytest.mark.parametrize(
    ("changes", "field_id", "message"),
    [
        ({"nhs_number": "943 476 5918"}, "nhs_number", "NHS number is not valid"),
        ({"nhs_number": "94347659"}, "nhs_number", "NHS number must be 10 digits long"),
        ({"nhs_number": "94347659AB"}, "nhs_number", "NHS number must contain only numbers"),
        ({"nhs_number": ""}, "nhs_number", "Enter the NHS number"),
        ({"given_name": ""}, "given_name", "Enter the patient's first name"),
        ({"date_of_birth-month": "13"}, "date_of_birth-day", "Date of birth must be a real date"),
        ({"date_of_birth-day": "1" + "0" * 30}, "date_of_birth-day", "Date of birth must be a real date"),
        ({"date_of_birth-year": ""}, "date_of_birth-day", "Date of birth must include a year"),
        ({"date_of_birth-year": "2999"}, "date_of_birth-day", "Date of birth must be today or in the past"),
        ({"sex": ""}, "sex-1", "Select the patient's sex"),
        ({"gp_practice_id": ""}, "gp_practice_id", "Select the patient's registered GP practice"),
        ({"gp_practice_id": "999999"}, "gp_practice_id", "Not a valid choice"),
    ],
)
def test_add_patient_with_bad_input_shows_errors_and_saves_nothing(
        signed_in: FlaskClient, form: dict[str, str], changes: dict[str, str], field_id: str, message: str) -> None:
    response = submit(signed_in, "/patients/new", {**form, **changes})
    page = re.sub(r"\s+", " ", response.get_data(as_text=True))
    assert response.status_code == 200
    assert "There is a problem" in page  # the NHS.UK error summary at the top
    assert f'href="#{field_id}"' in page  # links to the field
    error_id = field_id.removesuffix("-day").removesuffix("-1")
    assert re.search(f'class="nhsuk-error-message" id="{error_id}-error" > '
                     f'<span class="nhsuk-u-visually-hidden">Error: </span>{re.escape(escape(message))}', page), \
        "message shown by the field"
    assert 'value="Lovelace"' in page or changes.get("family_name") == ""  # what was typed is kept
    assert _patients() == 0


def test_add_patient_with_a_registered_nhs_number_is_refused(signed_in: FlaskClient, form: dict[str, str],
                                                              make: Maker, pharmacist: User) -> None:
    make.patient(pharmacist, nhs_number="9434765919")
    response = submit(signed_in, "/patients/new", form)
    assert "A patient with NHS number 9434765919 is already registered" in response.get_data(as_text=True)
    assert _patients() == 1


def test_edit_patient_saves_changes_and_audits_before_and_after(signed_in: FlaskClient, form: dict[str, str],
                                                                 pharmacist: User, make: Maker) -> None:
    patient = make.patient(pharmacist, nhs_number="9434765919", gp_practice_id=int(form["gp_practice_id"]))
    page = signed_in.get(f"/patients/{patient.id}/edit").get_data(as_text=True)
    assert 'value="Lovelace"' in page and 'name="date_of_birth-year"' in page
    response = submit(signed_in, f"/patients/{patient.id}/edit",
                      {**form, "family_name": "King", "version": str(patient.version)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Patient, patient.id).family_name == "King"
    update = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "update"))
    assert update.changes["family_name"] == {"before": "Lovelace", "after": "King"}


def test_edit_patient_from_a_stale_form_saves_nothing(signed_in: FlaskClient, form: dict[str, str],
                                                      pharmacist: User, make: Maker) -> None:
    patient = make.patient(pharmacist, nhs_number="9434765919", gp_practice_id=int(form["gp_practice_id"]))
    opened = str(patient.version)
    submit(signed_in, f"/patients/{patient.id}/edit", {**form, "given_name": "First", "version": opened})
    response = submit(signed_in, f"/patients/{patient.id}/edit", {**form, "given_name": "Second", "version": opened})
    assert "Someone else saved changes to this record" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Patient, patient.id).given_name == "First"


def test_viewing_a_patient_is_audited(signed_in: FlaskClient, pharmacist: User, make: Maker) -> None:
    patient = make.patient(pharmacist)
    signed_in.get(f"/patients/{patient.id}")
    signed_in.get(f"/patients/{patient.id}")
    views = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "view",
                                                        AuditEvent.patient_id == patient.id)).all()
    assert [view.actor_user_id for view in views] == [pharmacist.id, pharmacist.id]


def test_patient_list_shows_the_caseload_only(signed_in: FlaskClient, pharmacist: User, make: Maker) -> None:
    make.patient(pharmacist, family_name="Ours")
    make.patient(make.user(), family_name="Theirs")
    page = signed_in.get("/patients/").get_data(as_text=True)
    assert "OURS, Ada" in page and "THEIRS" not in page


def test_search_is_posted_and_finds_by_nhs_number(signed_in: FlaskClient, pharmacist: User, make: Maker) -> None:
    make.patient(pharmacist, nhs_number="9434765919", family_name="Found")
    make.patient(pharmacist, family_name="Other")
    response = signed_in.post("/patients/search", data={"csrf_token": csrf_token(signed_in, "/patients/"),
                                                        "query": "943 476 5919"})
    page = response.get_data(as_text=True)
    assert "1 patient found" in page and "FOUND, Ada" in page and "OTHER" not in page
    assert signed_in.get("/patients/search").status_code == 405  # never in a URL


def test_what_users_type_is_shown_as_text_never_run_as_html(signed_in: FlaskClient, pharmacist: User,
                                                           make: Maker) -> None:
    patient = make.patient(pharmacist, given_name="<script>alert(1)</script>",
                           other_communication_needs="<img src=x onerror=alert(2)>")
    for url in ["/patients/", f"/patients/{patient.id}", f"/patients/{patient.id}/edit"]:
        page = signed_in.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in page and "<img src=x" not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url


def test_reminder_choices_are_checked_and_shown(signed_in: FlaskClient, make: Maker, pharmacist: User) -> None:
    practice = make.organisation(OrganisationKind.GP_PRACTICE)
    fields = {"nhs_number": "943 476 5919", "given_name": "Ada", "family_name": "Lovelace", "date_of_birth-day": "10",
              "date_of_birth-month": "12", "date_of_birth-year": "1960", "sex": "female",
              "gp_practice_id": str(practice.id), "pharmacy_id": "", "preferred_language": "English"}
    page = submit(signed_in, "/patients/new", {**fields, "contact_by": "sms", "mobile_phone": ""}).get_data(
        as_text=True)
    assert "Enter the mobile number for text message reminders" in page
    page = submit(signed_in, "/patients/new", {**fields, "contact_by": "sms", "mobile_phone": "0113 496 0000"}
                  ).get_data(as_text=True)
    assert "Enter a UK mobile number" in page  # a landline cannot take a text
    page = submit(signed_in, "/patients/new", {**fields, "contact_by": "sms", "mobile_phone": "+33 7 12 34 56 78"}
                  ).get_data(as_text=True)
    assert "Enter a UK mobile number" in page  # a French mobile is not 07 12 34 56 78 here
    page = submit(signed_in, "/patients/new", {**fields, "contact_by": "letter", "postal_address": "1 High St"}
                  ).get_data(as_text=True)
    assert "Enter the address on 3 to 7 lines" in page
    shown = submit(signed_in, "/patients/new", {**fields, "contact_by": "sms", "mobile_phone": "+447700900123"},
                   follow_redirects=True).get_data(as_text=True)
    assert "Text message: 07700 900123" in shown
