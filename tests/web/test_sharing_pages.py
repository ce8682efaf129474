"""The GP's inbox and the community pharmacy's dispensing pages: the same plan version, only what each needs,
access that follows the patient, over-supply refused unless a reason is recorded, and the clinic seeing it all."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import func, select

from taper import clock
from taper.domain.follow_up import SOWS_GOSSOP_ITEMS
from taper.domain.organisations import OrganisationKind, Role
from taper.domain.risk import RiskFactor, SupportLevel
from taper.extensions import db
from taper.models import AuditEvent, Organisation, Patient, Plan, PlanDocument, Supply, User, WorklistItem
from taper.services import patients, plans, risk
from taper.services.follow_ups import FollowUpDetails, record_follow_up
from tests.conftest import MONDAY, Maker, at, page_text, sign_in, submit
from tests.web.forms_on_page import form_on_page, quantity_fields

SECRET_RISK = "Told us about heroin use in the past"
SECRET_NOTES = "Lives alone since the divorce"


@pytest.fixture(autouse=True)
def monday_morning() -> Iterator[None]:
    with clock.freeze(at(MONDAY)):
        yield


@pytest.fixture
def practice(make: Maker) -> Organisation:
    return make.organisation(OrganisationKind.GP_PRACTICE, name="Riverside Surgery")


@pytest.fixture
def pharmacy(make: Maker) -> Organisation:
    return make.organisation(OrganisationKind.COMMUNITY_PHARMACY, name="High Street Pharmacy")


@pytest.fixture
def patient(make: Maker, pharmacist: User, practice: Organisation, pharmacy: Organisation) -> Patient:
    return make.patient(pharmacist, gp_practice_id=practice.id, pharmacy_id=pharmacy.id)


@pytest.fixture
def plan(make: Maker, pharmacist: User, patient: Patient) -> Plan:
    plan = make.running_plan(pharmacist, patient, start_on=MONDAY, instalment_days=7)
    risk.record_assessment(by=pharmacist, patient_id=patient.id, answers=risk.RiskAnswers(
        factors=frozenset({RiskFactor.PAST_SUBSTANCE_MISUSE})), chosen_level=SupportLevel.SPECIALIST_MDT,
        override_reason=SECRET_RISK)
    record_follow_up(by=pharmacist, plan_id=plan.id, expected_version=plan.version, details=FollowUpDetails(
        held_on=MONDAY, mode="phone", duration_minutes=20, dose_taken="As planned",
        peg={"pain": 5, "enjoyment": 5, "activity": 5}, sows=dict.fromkeys(SOWS_GOSSOP_ITEMS, 0),
        notes=SECRET_NOTES, outcome="continue"))
    db.session.commit()
    return plan


def _client(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    sign_in(client, user)
    return client


def test_the_gp_reads_and_acknowledges_the_letter_and_the_clinic_sees_who_and_when(
        app: Flask, make: Maker, practice: Organisation, plan: Plan, signed_in: FlaskClient) -> None:
    gp = make.user(Role.GP, practice)
    client = _client(app, gp)
    inbox = page_text(client.get("/practice/"))
    assert "LOVELACE, Ada" in inbox and f"New plan: plan {plan.number} version 1 (PDF)" in inbox and "New" in inbox
    letter = db.session.scalar(select(PlanDocument).where(PlanDocument.kind == "gp_letter"))
    opened = client.get(f"/practice/documents/{letter.id}.pdf")
    assert opened.mimetype == "application/pdf" and opened.get_data() == letter.pdf  # exactly as issued
    assert "Read, not acknowledged" in page_text(client.get("/practice/"))
    submit(client, f"/practice/letters/{letter.id}/acknowledge", {}, form_url="/practice/")
    inbox = page_text(client.get("/practice/"))
    assert "Acknowledged" in inbox and "by Test GP, 4 January 2027 at 8:00am" in inbox
    clinic_view = page_text(signed_in.get(f"/plans/{plan.id}"))
    assert "acknowledged by Test GP</strong> 4 January 2027 at 8:00am" in clinic_view
    page = page_text(client.get(f"/practice/patients/{plan.patient_id}"))
    assert "Prescriptions due" in page and "11 January 2027" in page and "The patient's plan, as they have it" in page
    assert SECRET_NOTES not in page and SECRET_RISK not in page


def test_a_revision_puts_a_new_letter_in_the_inbox(app: Flask, make: Maker, practice: Organisation, plan: Plan,
                                                    pharmacist: User) -> None:
    plans.revise_running(by=pharmacist, plan_id=plan.id, expected_version=plan.version, on=MONDAY + timedelta(days=1),
                         hold_days=7, reason="Hold a week")
    db.session.commit()
    inbox = page_text(_client(app, make.user(Role.GP, practice)).get("/practice/"))
    assert f"Revised plan: plan {plan.number} version 2 (PDF)" in inbox
    assert inbox.index("version 2") < inbox.index("version 1")  # newest first


def test_the_pharmacy_sees_what_is_due_and_supplies_no_more_than_the_schedule_without_a_reason(
        app: Flask, make: Maker, pharmacy: Organisation, plan: Plan, signed_in: FlaskClient) -> None:
    client = _client(app, make.user(Role.COMMUNITY_PHARMACIST, pharmacy))
    due = page_text(client.get("/pharmacy/"))
    assert "LOVELACE, Ada" in due and "1: 4 January 2027 to 10 January 2027" in due
    assert "Morphine modified-release tablet 10 mg: <strong>14</strong>" in due  # 55 mg twice a day: one 10 each
    url = f"/pharmacy/patients/{plan.patient_id}/supplies"
    fields, labels = form_on_page(client, f"/pharmacy/patients/{plan.patient_id}", url)
    quantities = quantity_fields(fields, labels)
    ten = quantities["Morphine modified-release tablet 10 mg"]
    none = {name: "0" for name in quantities.values()}  # each medicine's quantity is on the one form
    assert client.post(url, data={**fields, **none, ten: "10"}).status_code == 302
    assert "(4 left to supply)" in page_text(client.get(f"/pharmacy/patients/{plan.patient_id}"))
    fields, _ = form_on_page(client, f"/pharmacy/patients/{plan.patient_id}", url)
    refused = page_text(client.post(url, data={**fields, **none, ten: "6"}))
    assert ("The schedule has 4 of Morphine modified-release tablet 10 mg left to supply in this instalment: "
            "record why you are supplying more") in refused
    assert db.session.scalar(select(Supply.quantity).where(Supply.quantity == 6)) is None
    allowed = client.post(url, data={**fields, **none, ten: "6",
                                     "supply-override_reason": "Dropped two tablets down the sink; clinic agreed"})
    assert allowed.status_code == 302
    supplies = db.session.scalars(select(Supply).order_by(Supply.id)).all()
    assert [(supply.quantity, supply.override_reason) for supply in supplies] == [
        (10, ""), (6, "Dropped two tablets down the sink; clinic agreed")]
    clinic_view = page_text(signed_in.get(f"/plans/{plan.id}"))
    assert "outside the schedule (early or more): Dropped two tablets down the sink" in clinic_view


def test_a_concern_from_the_pharmacy_goes_on_the_clinic_worklist(app: Flask, make: Maker, pharmacy: Organisation,
                                                                 plan: Plan, signed_in: FlaskClient) -> None:
    client = _client(app, make.user(Role.COMMUNITY_PHARMACIST, pharmacy))
    form = f"/pharmacy/patients/{plan.patient_id}"
    refused = page_text(submit(client, f"{form}/concerns", {"concern-kind": "early_or_extra_request",
                                                        "concern-detail": ""}, form_url=form))
    assert "Say what happened" in refused
    submit(client, f"{form}/concerns", {"concern-kind": "early_or_extra_request",
                                        "concern-detail": "Asked for next week's tablets on Tuesday"}, form_url=form)
    item = db.session.scalar(select(WorklistItem).where(WorklistItem.kind == "pharmacy_concern"))
    assert "Asked for an early or extra supply" in item.detail and "next week's tablets" in item.detail
    concerns = page_text(signed_in.get("/")).split('id="concerns"')[1].split('id="overdue"')[0]
    assert "LOVELACE, Ada" in concerns and "Asked for next week&#39;s tablets on Tuesday" in concerns


def test_the_pharmacy_never_sees_risk_or_consultation_notes(app: Flask, make: Maker, pharmacy: Organisation,
                                                            plan: Plan) -> None:
    client = _client(app, make.user(Role.COMMUNITY_PHARMACIST, pharmacy))
    schedule = db.session.scalar(select(PlanDocument).where(PlanDocument.kind == "pharmacy_schedule"))
    shown = [page_text(client.get(url)) for url in ("/pharmacy/", "/pharmacy/patients",
                                                f"/pharmacy/patients/{plan.patient_id}")]
    pdf = client.get(f"/pharmacy/documents/{schedule.id}.pdf").get_data()
    shown.append(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))
    for text in shown:
        assert SECRET_RISK not in text and SECRET_NOTES not in text and "substance misuse" not in text.lower()
    for url in (f"/patients/{plan.patient_id}", f"/patients/{plan.patient_id}/risk/new", f"/plans/{plan.id}"):
        assert client.get(url).status_code == 403
    letter = db.session.scalar(select(PlanDocument).where(PlanDocument.kind == "gp_letter"))
    assert client.get(f"/pharmacy/documents/{letter.id}.pdf").status_code == 404  # the GP's letter is not theirs


def test_changing_the_nominated_pharmacy_moves_access_with_the_patient(
        app: Flask, make: Maker, pharmacist: User, pharmacy: Organisation, patient: Patient, plan: Plan) -> None:
    old = make.user(Role.COMMUNITY_PHARMACIST, pharmacy)
    new_pharmacy = make.organisation(OrganisationKind.COMMUNITY_PHARMACY, name="Station Road Pharmacy")
    new = make.user(Role.COMMUNITY_PHARMACIST, new_pharmacy)
    url = f"/pharmacy/patients/{patient.id}"
    assert _client(app, old).get(url).status_code == 200
    assert _client(app, new).get(url).status_code == 404
    details = make.details(pharmacy_id=new_pharmacy.id, nhs_number=patient.nhs_number,
                           gp_practice_id=patient.gp_practice_id)
    patients.update_patient(by=pharmacist, patient_id=patient.id, expected_version=patient.version, details=details)
    db.session.commit()
    assert _client(app, new).get(url).status_code == 200
    assert "LOVELACE, Ada" in page_text(_client(app, new).get("/pharmacy/"))
    assert _client(app, old).get(url).status_code == 404
    assert "LOVELACE" not in page_text(_client(app, old).get("/pharmacy/"))
    denied = db.session.scalar(select(AuditEvent).where(AuditEvent.actor_user_id == old.id,
                                                        AuditEvent.action == "access_denied"))
    assert denied is not None and denied.patient_id == patient.id


def test_the_clinic_sees_who_looked_at_the_record(app: Flask, make: Maker, practice: Organisation, plan: Plan,
                                                  signed_in: FlaskClient) -> None:
    gp = make.user(Role.GP, practice)
    _client(app, gp).get(f"/practice/patients/{plan.patient_id}")
    history = page_text(signed_in.get(f"/patients/{plan.patient_id}/access"))
    assert "Test GP, GP" in history and gp.email in history and "Looked at the tapering plan" in history
    assert "Looked at this access history" in history


def test_changing_practice_moves_the_plan_to_the_new_gp(app: Flask, make: Maker, pharmacist: User,
                                                        practice: Organisation, patient: Patient, plan: Plan) -> None:
    old = make.user(Role.GP, practice)
    new_practice = make.organisation(OrganisationKind.GP_PRACTICE, name="Hillview Medical Centre")
    new = make.user(Role.GP, new_practice)
    assert "LOVELACE, Ada" in page_text(_client(app, old).get("/practice/"))
    patients.update_patient(by=pharmacist, patient_id=patient.id, expected_version=patient.version,
                            details=make.details(gp_practice_id=new_practice.id, pharmacy_id=patient.pharmacy_id,
                                                 nhs_number=patient.nhs_number))
    db.session.commit()
    assert "LOVELACE, Ada" not in page_text(_client(app, old).get("/practice/"))
    assert "LOVELACE, Ada" in page_text(_client(app, new).get("/practice/"))
    assert _client(app, old).get(f"/practice/patients/{patient.id}").status_code == 404


def test_what_was_supplied_stays_supplied_after_a_revision_and_early_supplies_need_a_reason(
        app: Flask, make: Maker, pharmacist: User, pharmacy: Organisation, plan: Plan) -> None:
    client = _client(app, make.user(Role.COMMUNITY_PHARMACIST, pharmacy))
    url, form = f"/pharmacy/patients/{plan.patient_id}/supplies", f"/pharmacy/patients/{plan.patient_id}"
    fields, labels = form_on_page(client, form, url)
    ten = quantity_fields(fields, labels)["Morphine modified-release tablet 10 mg"]
    none = {name: "0" for name in quantity_fields(fields, labels).values()}
    assert client.post(url, data={**fields, **none, ten: "14"}).status_code == 302
    plans.revise_running(by=pharmacist, plan_id=plan.id, expected_version=plan.version, on=MONDAY + timedelta(days=2),
                         hold_days=7, reason="Hold a week")
    db.session.commit()
    fields, labels = form_on_page(client, form, url)
    assert fields["supply-instalment"] == "1" and fields[ten] == "0"  # version 2 keeps version 1's supply
    again = page_text(client.post(url, data={**fields, **none, ten: "1"}))
    assert "The schedule has 0 of Morphine modified-release tablet 10 mg left to supply in this instalment" in again
    second = {**fields, **none, "supply-instalment": "2", ten: "14"}
    early = page_text(client.post(url, data=second))
    assert "This instalment starts on 11 January 2027: record why you are supplying it early" in early
    assert db.session.scalar(select(func.count()).select_from(Supply)) == 1
    for quantity in ("0.0001", "10000000", "-3"):
        refused = page_text(client.post(url, data={**fields, **none, ten: quantity}))
        assert "supplied: 0 or more, at most 100000, to 3 decimal places" in refused, quantity
