"""A community pharmacy sees a patient only while a plan is shared with it (issue 15, item 7): nominating the
pharmacy is not enough. Without a shared plan (none yet, a draft, consent withdrawn, or the patient moved to
another pharmacy) the patient is not listed and their page answers 404, as on the GP side, and the refusal
is audited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from taper import clock
from taper.domain.nhs_number import format_nhs_number
from taper.domain.organisations import OrganisationKind, Role
from taper.extensions import db
from taper.models import AuditEvent, Organisation, Patient, User
from taper.services import patients, plans, regimens
from taper.services.regimens import RegimenEntry
from tests.conftest import MONDAY, MORPHINE_BD, Maker, at, csrf_token, page_text, sign_in


@pytest.fixture(autouse=True)
def monday_morning() -> Iterator[None]:
    with clock.freeze(at(MONDAY)):
        yield


@pytest.fixture
def pharmacy(make: Maker) -> Organisation:
    return make.organisation(OrganisationKind.COMMUNITY_PHARMACY, name="High Street Pharmacy")


@pytest.fixture
def patient(make: Maker, pharmacist: User, pharmacy: Organisation) -> Patient:
    return make.patient(pharmacist, pharmacy_id=pharmacy.id, given_name="Grace", family_name="Hopper")


@pytest.fixture
def community(app: Flask, make: Maker, pharmacy: Organisation) -> tuple[User, FlaskClient]:
    user = make.user(Role.COMMUNITY_PHARMACIST, pharmacy)
    client = app.test_client()
    sign_in(client, user)
    return user, client


def _refusals(user: User, patient: Patient) -> int:
    return len(db.session.scalars(select(AuditEvent).where(
        AuditEvent.actor_user_id == user.id, AuditEvent.action == "access_denied",
        AuditEvent.patient_id == patient.id)).all())


def _assert_hidden(community: tuple[User, FlaskClient], patient: Patient) -> None:
    """Not on either list, and every page and form of the patient answers 404, each refusal audited."""
    user, client = community
    for listing in ("/pharmacy/", "/pharmacy/patients"):
        shown = page_text(client.get(listing))
        assert "HOPPER" not in shown and format_nhs_number(patient.nhs_number) not in shown
    token = csrf_token(client, "/pharmacy/patients")  # the sign-out form's
    before = _refusals(user, patient)
    page = client.get(f"/pharmacy/patients/{patient.id}")
    assert page.status_code == 404
    assert "HOPPER" not in page_text(page) and "Page not found" in page_text(page)
    for form in ("supplies", "concerns"):
        posted = client.post(f"/pharmacy/patients/{patient.id}/{form}", data={"csrf_token": token})
        assert posted.status_code == 404 and "HOPPER" not in page_text(posted)
    assert _refusals(user, patient) == before + 3


def _assert_shown(community: tuple[User, FlaskClient], patient: Patient) -> None:
    _, client = community
    listed = page_text(client.get("/pharmacy/patients"))
    assert "HOPPER, Grace" in listed and format_nhs_number(patient.nhs_number) in listed
    page = client.get(f"/pharmacy/patients/{patient.id}")
    assert page.status_code == 200 and "HOPPER, Grace" in page_text(page)


def test_a_patient_who_nominated_the_pharmacy_but_has_no_plan_is_not_found(
        community: tuple[User, FlaskClient], patient: Patient) -> None:
    _assert_hidden(community, patient)


def test_a_draft_plan_is_not_shared_with_the_pharmacy(
        community: tuple[User, FlaskClient], pharmacist: User, patient: Patient) -> None:
    regimens.record_regimen(by=pharmacist, patient_id=patient.id, entry=RegimenEntry(lines=[MORPHINE_BD]))
    plans.create_draft(by=pharmacist, patient_id=patient.id, settings=plans.PlanSettings(start_on=MONDAY))
    db.session.commit()
    _assert_hidden(community, patient)


def test_a_shared_plan_shows_the_patient_until_consent_is_withdrawn(
        make: Maker, community: tuple[User, FlaskClient], pharmacist: User, patient: Patient) -> None:
    plan = make.running_plan(pharmacist, patient, start_on=MONDAY)
    _assert_shown(community, patient)
    plans.record_decision(by=pharmacist, plan_id=plan.id, decision=plans.Decision(
        what_matters="Walking the dog", goals="Less medicine", agreed_pace="10% every 2 weeks", prescriber="gp",
        consent_share_with_gp=True, consent_share_with_pharmacy=False, agreed_on=MONDAY))
    db.session.commit()
    _assert_hidden(community, patient)


def test_a_patient_who_moves_to_another_pharmacy_is_hidden_from_the_old_one(
        make: Maker, community: tuple[User, FlaskClient], pharmacist: User, patient: Patient) -> None:
    make.running_plan(pharmacist, patient, start_on=MONDAY)
    _assert_shown(community, patient)
    elsewhere = make.organisation(OrganisationKind.COMMUNITY_PHARMACY, name="Station Road Pharmacy")
    patients.update_patient(by=pharmacist, patient_id=patient.id, expected_version=patient.version,
                            details=make.details(pharmacy_id=elsewhere.id, nhs_number=patient.nhs_number,
                                                 gp_practice_id=patient.gp_practice_id, given_name="Grace",
                                                 family_name="Hopper"))
    db.session.commit()
    _assert_hidden(community, patient)


def test_the_refusal_names_why_in_the_audit_trail(community: tuple[User, FlaskClient], patient: Patient) -> None:
    user, client = community
    assert client.get(f"/pharmacy/patients/{patient.id}").status_code == 404
    refused = db.session.scalars(select(AuditEvent).where(AuditEvent.actor_user_id == user.id,
                                                          AuditEvent.action == "access_denied")).one()
    assert (refused.entity_type, refused.patient_id, refused.changes) == (
        "patient", patient.id, {"reason": "no plan shared with this pharmacy"})
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.actor_user_id == user.id,
                                                           AuditEvent.action == "view",
                                                           AuditEvent.patient_id == patient.id)).all()
