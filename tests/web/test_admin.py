from __future__ import annotations

import re
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from taper.domain.limits import Limits
from taper.domain.organisations import OrganisationKind, Role
from taper.extensions import db
from taper.models import AuditEvent, Organisation, User
from tests.conftest import Maker, sign_in, submit

DEFAULT_LIMITS = {"paracetamol_max_mg_per_day": "4000", "plausible_units_per_dose": "20",
                  "plausible_ome_mg_per_day": "1000"}


@pytest.fixture
def admin_client(client: FlaskClient, make: Maker) -> FlaskClient:
    sign_in(client, make.user(Role.ADMIN))
    return client


def test_admin_adds_an_organisation(admin_client: FlaskClient) -> None:
    response = submit(admin_client, "/admin/organisations/new",
                      {"kind": "gp_practice", "name": "Riverside Surgery", "ods_code": "a81001"},
                      follow_redirects=True)
    assert "Riverside Surgery added" in response.get_data(as_text=True)
    organisation = db.session.scalar(select(Organisation).where(Organisation.ods_code == "A81001"))
    assert organisation.kind is OrganisationKind.GP_PRACTICE


def test_phone_numbers_are_checked_and_a_clinic_must_have_one(admin_client: FlaskClient) -> None:
    response = submit(admin_client, "/admin/organisations/new",
                      {"kind": "pain_clinic", "name": "Pain Service", "ods_code": "RX1", "phone": ""})
    assert "Enter the clinic&#39;s phone number" in response.get_data(as_text=True)
    response = submit(admin_client, "/admin/organisations/new",
                      {"kind": "gp_practice", "name": "Surgery", "ods_code": "A81002", "phone": "12345"})
    assert "Enter a UK phone number, like 0113 496 0000" in response.get_data(as_text=True)
    response = submit(admin_client, "/admin/organisations/new",
                      {"kind": "gp_practice", "name": "Surgery", "ods_code": "A81002", "phone": "+1 212 555 0123"})
    assert "Enter a UK phone number" in response.get_data(as_text=True)  # patients here cannot dial it
    assert db.session.scalar(select(Organisation)) is None
    submit(admin_client, "/admin/organisations/new",
           {"kind": "pain_clinic", "name": "Pain Service", "ods_code": "RX1", "phone": "+44 (0)113 4960100"})
    assert db.session.scalar(select(Organisation)).phone == "0113 496 0100"  # as people dial it


def test_admin_cannot_reuse_an_ods_code(admin_client: FlaskClient, make: Maker) -> None:
    existing = make.organisation(OrganisationKind.GP_PRACTICE)
    response = submit(admin_client, "/admin/organisations/new",
                      {"kind": "gp_practice", "name": "Copy", "ods_code": existing.ods_code})
    assert f"ODS code {existing.ods_code} is already used" in response.get_data(as_text=True)


def test_admin_adds_a_pharmacist_to_a_clinic(admin_client: FlaskClient, make: Maker) -> None:
    clinic = make.organisation(OrganisationKind.PAIN_CLINIC)
    response = submit(admin_client, "/admin/users/new", {
        "email": "New.Person@Example.nhs.uk", "full_name": "New Person", "role": "pharmacist",
        "organisation_id": str(clinic.id), "password": "a long enough passphrase"}, follow_redirects=True)
    assert "Account created for New Person" in response.get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.email == "new.person@example.nhs.uk"))
    assert (user.role, user.organisation_id) == (Role.PHARMACIST, clinic.id)
    assert user.password_hash.startswith("$argon2id$")
    created = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "create",
                                                         AuditEvent.entity_type == "user",
                                                         AuditEvent.entity_id == str(user.id)))
    assert "password_hash" not in created.changes


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password": "short"}, "Password must be at least 12 characters long"),
        ({"password": "aaaaaaaaaaaaaaaa"}, "Choose a password that is harder to guess"),
        # Long enough but common or made from the account's own details (issue 15, zxcvbn).
        ({"password": "password1234"}, "Choose a password that is harder to guess: this is a very common password"),
        ({"password": "qwertyuiop123"}, "Choose a password that is harder to guess"),
        ({"password": "someone12345"}, "Choose a password that is harder to guess"),
        ({"role": "gp"}, "A gp must belong to a gp practice"),
        ({"organisation_id": ""}, "Select the pain clinic this person works for"),
        ({"email": "not-an-email"}, "Enter an email address in the correct format"),
    ],
)
def test_admin_user_form_refuses_bad_input(admin_client: FlaskClient, make: Maker, changes: dict[str, str],
                                          message: str) -> None:
    clinic = make.organisation(OrganisationKind.PAIN_CLINIC)
    form = {"email": "someone@example.nhs.uk", "full_name": "Someone", "role": "pharmacist",
            "organisation_id": str(clinic.id), "password": "a long enough passphrase"}
    response = submit(admin_client, "/admin/users/new", {**form, **changes})
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "someone@example.nhs.uk")) is None


def test_admin_deactivates_an_account_and_it_cannot_sign_in(admin_client: FlaskClient, make: Maker) -> None:
    user = make.user(Role.PHARMACIST)
    response = submit(admin_client, f"/admin/users/{user.id}/edit", {
        "full_name": user.full_name, "role": "pharmacist", "organisation_id": str(user.organisation_id),
        "job_title": user.job_title, "registration_body": user.registration_body,
        "registration_number": user.registration_number, "version": str(user.version)})  # "active" unticked
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).active is False
    update = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "update",
                                                        AuditEvent.entity_id == str(user.id)))
    assert update.changes == {"active": {"before": True, "after": False}}


def test_admin_sets_a_password_and_ends_the_users_sessions(app, make: Maker) -> None:  # type: ignore[no-untyped-def]
    admin, user = make.user(Role.ADMIN), make.user(Role.PHARMACIST)
    users_browser, admins_browser = app.test_client(), app.test_client()
    sign_in(users_browser, user)
    sign_in(admins_browser, admin)
    response = submit(admins_browser, f"/admin/users/{user.id}/password", {"password": "a brand new passphrase"})
    assert response.status_code == 302
    assert users_browser.get("/patients/").status_code == 302
    sign_in(users_browser, user, password="a brand new passphrase")


def test_admin_sets_a_clinics_factor_set_high_dose_threshold_and_lead_time(admin_client: FlaskClient,
                                                                            make: Maker) -> None:
    clinic = make.organisation(OrganisationKind.PAIN_CLINIC)
    page = admin_client.get(f"/admin/organisations/{clinic.id}/edit").get_data(as_text=True)
    assert "OME factor set" in page and 'value="120" checked' in page
    assert re.search(r'name="plan_lead_days"[^>]*value="7"', page)  # the default lead time
    fields = {"name": clinic.name, "ods_code": clinic.ods_code, "phone": clinic.phone, "factor_set": "cdc-2022",
              "high_dose_threshold_mg": "90", "version": str(clinic.version), **DEFAULT_LIMITS}
    refused = submit(admin_client, f"/admin/organisations/{clinic.id}/edit", {**fields, "plan_lead_days": "29"})
    assert refused.status_code == 200 and "Choose from 0 to 28 days" in refused.get_data(as_text=True)
    response = submit(admin_client, f"/admin/organisations/{clinic.id}/edit", {**fields, "plan_lead_days": "10"})
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Organisation, clinic.id)
    assert (saved.factor_set, saved.high_dose_threshold_mg, saved.plan_lead_days) == ("cdc-2022", 90, 10)
    update = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "update",
                                                        AuditEvent.entity_type == "organisation"))
    assert update.changes["high_dose_threshold_mg"] == {"before": "120", "after": "90"}


def test_admin_sets_a_clinics_limits_for_starting_regimens_within_their_ranges(admin_client: FlaskClient,
                                                                              make: Maker) -> None:
    """Issue 13 rule 1: the paracetamol maximum (never above 4 g) and the plausibility limits (never at the
    hard limits, which refuse) are the clinic's settings, audited."""
    clinic = make.organisation(OrganisationKind.PAIN_CLINIC)
    url = f"/admin/organisations/{clinic.id}/edit"
    page = admin_client.get(url).get_data(as_text=True)
    assert re.search(r'name="paracetamol_max_mg_per_day"[^>]*value="4000"', page)
    fields = {"name": clinic.name, "ods_code": clinic.ods_code, "phone": clinic.phone, "factor_set": "fpm-2020",
              "high_dose_threshold_mg": "120", "plan_lead_days": "7", "version": str(clinic.version)}
    for name, value, message in (("paracetamol_max_mg_per_day", "4500", "Choose from 1000 to 4000 mg a day"),
                                 ("plausible_units_per_dose", "60", "Choose from 1 to 59 units"),
                                 ("plausible_ome_mg_per_day", "5000", "Choose from 100 to 4999 mg OME a day")):
        refused = submit(admin_client, url, {**fields, **DEFAULT_LIMITS, name: value})
        assert refused.status_code == 200 and message in refused.get_data(as_text=True)
    lower = {"paracetamol_max_mg_per_day": "3000", "plausible_units_per_dose": "12", "plausible_ome_mg_per_day": "600"}
    assert submit(admin_client, url, {**fields, **lower}).status_code == 302
    db.session.expire_all()
    saved = db.session.get(Organisation, clinic.id)
    assert saved.starting_limits == Limits(Decimal(3000), 12, Decimal(600))
    update = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "update",
                                                        AuditEvent.entity_type == "organisation"))
    assert update.changes["paracetamol_max_mg_per_day"] == {"before": 4000, "after": 3000}


def test_a_threshold_other_than_120_or_90_is_refused(admin_client: FlaskClient, make: Maker) -> None:
    clinic = make.organisation(OrganisationKind.PAIN_CLINIC)
    response = submit(admin_client, f"/admin/organisations/{clinic.id}/edit", {
        "name": clinic.name, "ods_code": clinic.ods_code, "factor_set": "fpm-2020", "high_dose_threshold_mg": "500",
        "version": str(clinic.version)})
    assert "Not a valid choice" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Organisation, clinic.id).high_dose_threshold_mg == 120


def test_a_gp_practice_has_no_ome_settings(admin_client: FlaskClient, make: Maker) -> None:
    practice = make.organisation(OrganisationKind.GP_PRACTICE)
    assert "OME factor set" not in admin_client.get(f"/admin/organisations/{practice.id}/edit").get_data(as_text=True)


def test_admin_records_what_a_pharmacists_letters_are_signed_with(admin_client: FlaskClient, make: Maker) -> None:
    clinic = make.organisation(OrganisationKind.PAIN_CLINIC)
    form = {"email": "signer@example.nhs.uk", "full_name": "Sam Signer", "role": "pharmacist",
            "organisation_id": str(clinic.id), "password": "a long enough passphrase",
            "job_title": "  Specialist pain   pharmacist ", "registration_body": "GPhC"}
    refused = submit(admin_client, "/admin/users/new", {**form, "registration_number": "12345"})
    assert "A GPhC registration number is 7 digits" in refused.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "signer@example.nhs.uk")) is None
    response = submit(admin_client, "/admin/users/new", {**form, "registration_number": "000 1234"})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "signer@example.nhs.uk"))
    assert (user.job_title, str(user.registration)) == ("Specialist pain pharmacist",
                                                        "GPhC registration number 0001234")


def test_admin_records_a_clinics_postal_address_line_by_line(admin_client: FlaskClient, make: Maker) -> None:
    clinic = make.organisation(OrganisationKind.PAIN_CLINIC)
    fields = {"name": clinic.name, "ods_code": clinic.ods_code, "phone": clinic.phone, "factor_set": "fpm-2020",
              "high_dose_threshold_mg": "120", "plan_lead_days": "7", "version": str(clinic.version),
              **DEFAULT_LIMITS}
    too_long = "\n".join(f"Line {number}" for number in range(7))
    refused = submit(admin_client, f"/admin/organisations/{clinic.id}/edit", {**fields, "address": too_long})
    assert "Write the address in at most 6 lines" in refused.get_data(as_text=True)
    response = submit(admin_client, f"/admin/organisations/{clinic.id}/edit",
                      {**fields, "address": " Pain Service \r\n\r\n 2 Park Row\r\nLeeds LS1 5HD "})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, clinic.id).address == "Pain Service\n2 Park Row\nLeeds LS1 5HD"


def test_admin_records_that_a_clinic_gives_take_home_naloxone(admin_client: FlaskClient, make: Maker) -> None:
    clinic = make.organisation(OrganisationKind.PAIN_CLINIC)
    assert clinic.supplies_naloxone is False
    fields = {"name": clinic.name, "ods_code": clinic.ods_code, "phone": clinic.phone, "factor_set": "fpm-2020",
              "high_dose_threshold_mg": "120", "plan_lead_days": "7", "version": str(clinic.version),
              "supplies_naloxone": "y", **DEFAULT_LIMITS}
    assert submit(admin_client, f"/admin/organisations/{clinic.id}/edit", fields).status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, clinic.id).supplies_naloxone is True
    update = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "update",
                                                        AuditEvent.entity_type == "organisation"))
    assert update.changes["supplies_naloxone"] == {"before": False, "after": True}
