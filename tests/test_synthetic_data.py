"""`flask taper synthetic-data`: valid data at any size, read by the pages, jobs and documents as real data is;
never in production, never twice, never over real data without being asked."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import func, select

from config import Settings
from taper import clock, create_app, jobs
from taper.clock import CLINIC_TIMEZONE
from taper.domain.booking import Session, english_bank_holidays, outside_sessions
from taper.domain.follow_up import Mode
from taper.domain.formulary import load_formulary
from taper.domain.nhs_number import normalise_nhs_number
from taper.domain.organisations import Role
from taper.domain.plans import PlanStatus
from taper.domain.schedule_contract import schedule_from_document, schedule_from_request
from taper.extensions import db
from taper.models import (
    Appointment,
    AuditEvent,
    ClinicSession,
    Organisation,
    Patient,
    Plan,
    PlanDocument,
    PlanVersion,
    PlanVersionStep,
    SharedDecision,
    User,
)
from tests.conftest import Maker, sign_in
from tests.databases import TEST_SECRET_KEY

PASSWORD = "synthetic users only: a long passphrase"
SMALL = ["taper", "synthetic-data", "--patients", "40", "--plans", "8", "--password", PASSWORD]


def _generate(app: Flask, *extra: str) -> str:
    result = app.test_cli_runner().invoke(args=[*SMALL, *extra])
    assert result.exit_code == 0, result.output
    return result.output


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_synthetic_data_has_the_patients_and_running_plans_asked_for_all_marked_synthetic(app: Flask) -> None:
    output = _generate(app)
    assert "pharmacist-0001@synthetic.taper.invalid" in output and PASSWORD in output
    patients = db.session.scalars(select(Patient)).all()
    assert len(patients) == 40
    assert all(normalise_nhs_number(patient.nhs_number) == patient.nhs_number
               and patient.nhs_number.startswith("999") for patient in patients)
    running = db.session.scalars(select(Plan).where(Plan.status.in_([PlanStatus.ACTIVE, PlanStatus.PAUSED]))).all()
    assert len(running) == 8
    assert {plan.status for plan in db.session.scalars(select(Plan))} >= {
        PlanStatus.ACTIVE, PlanStatus.DRAFT, PlanStatus.COMPLETED, PlanStatus.STOPPED}
    assert all(organisation.synthetic for organisation in db.session.scalars(select(Organisation)))
    users = db.session.scalars(select(User)).all()
    assert {user.role for user in users} == set(Role)
    assert all(user.email.endswith("@synthetic.taper.invalid") for user in users)
    assert len({user.password_hash for user in users}) == 1  # hashed once


def test_every_plan_version_is_the_engines_schedule_for_its_stored_request(app: Flask) -> None:
    _generate(app)
    formulary = load_formulary()
    versions = db.session.scalars(select(PlanVersion)).all()
    assert versions
    for version in versions:
        assert schedule_from_request(version.request, formulary) == version.schedule
        read_back = schedule_from_document(version.schedule, formulary)
        assert [step.starts_on.isoformat() for step in read_back.steps] == [
            step["starts_on"] for step in version.schedule["steps"]]
        assert version.starting_ome_mg_per_day == read_back.starting_ome_mg_per_day
        assert version.plan.current is version and version.plan.current_version_number == version.number
        steps = db.session.execute(select(PlanVersionStep.number, PlanVersionStep.starts_on).where(
            PlanVersionStep.plan_version_id == version.id).order_by(PlanVersionStep.number)).all()
        assert [(number, starts_on.isoformat()) for number, starts_on in steps] == [
            (step["number"], step["starts_on"]) for step in version.schedule["steps"]]


def test_pages_read_synthetic_data_as_they_read_real_data(app: Flask) -> None:
    _generate(app)
    plans = db.session.scalars(select(Plan).order_by(Plan.id)).all()
    pharmacist = db.session.get_one(User, plans[0].created_by_id)
    clinic = app.test_client()
    sign_in(clinic, pharmacist, PASSWORD)
    for url in ("/", "/patients/", "/appointments", "/appointments/week", "/messages"):
        assert clinic.get(url).status_code == 200, url
    clinics_plans = db.session.scalars(select(Plan).join(Patient, Patient.id == Plan.patient_id).where(
        Patient.clinic_id == pharmacist.organisation_id)).all()
    assert {plan.status for plan in clinics_plans} >= {PlanStatus.ACTIVE, PlanStatus.COMPLETED}
    for plan in clinics_plans:
        assert clinic.get(f"/plans/{plan.id}").status_code == 200, plan.status
        assert clinic.get(f"/patients/{plan.patient_id}").status_code == 200
        if plan.status is not PlanStatus.DRAFT:
            assert clinic.get(f"/plans/{plan.id}/versions/1/all.pdf").status_code == 200

    decision = db.session.scalars(select(SharedDecision).join(Plan, Plan.id == SharedDecision.plan_id).where(
        SharedDecision.consent_share_with_gp, SharedDecision.consent_share_with_pharmacy,
        Plan.status == PlanStatus.ACTIVE)).first()
    assert decision is not None
    patient = db.session.get_one(Patient, db.session.get_one(Plan, decision.plan_id).patient_id)
    gp = db.session.scalars(select(User).where(User.organisation_id == patient.gp_practice_id)).one()
    practice = app.test_client()
    sign_in(practice, gp, PASSWORD)
    inbox = practice.get("/practice/")
    assert inbox.status_code == 200 and patient.family_name.upper() in inbox.get_data(as_text=True).upper()
    for url in ("/practice/patients", f"/practice/patients/{patient.id}"):
        assert practice.get(url).status_code == 200, url
    pharmacy_user = db.session.scalars(select(User).where(User.organisation_id == patient.pharmacy_id)).one()
    pharmacy = app.test_client()
    sign_in(pharmacy, pharmacy_user, PASSWORD)
    for url in ("/pharmacy/", "/pharmacy/patients", f"/pharmacy/patients/{patient.id}"):
        assert pharmacy.get(url).status_code == 200, url


def test_every_job_runs_over_synthetic_data(app: Flask) -> None:
    _generate(app)
    for name in sorted(jobs.JOBS):
        assert isinstance(jobs.run(name), dict), name


def test_appointments_fall_in_sessions_on_working_days_and_never_overlap(app: Flask) -> None:
    _generate(app)
    sessions: dict[int, list[Session]] = defaultdict(list)
    for each in db.session.scalars(select(ClinicSession)):
        sessions[each.pharmacist_id].append(Session(each.weekday, each.starts, each.ends, each.remote,
                                                    each.location))
    appointments = db.session.scalars(select(Appointment).order_by(Appointment.pharmacist_id,
                                                                   Appointment.starts_at)).all()
    assert len(appointments) > 8
    bank_holidays = english_bank_holidays(range(2024, 2029))
    for earlier, later in pairwise(appointments):
        assert earlier.pharmacist_id != later.pharmacist_id or earlier.ends_at <= later.starts_at
    for appointment in appointments:
        assert outside_sessions(starts=appointment.starts_at, ends=appointment.ends_at, mode=Mode(appointment.mode),
                                sessions=sessions[appointment.pharmacist_id], closed=bank_holidays) is None
        assert appointment.ends_at - appointment.starts_at == timedelta(minutes=appointment.length_minutes)
        local_day = appointment.starts_at.astimezone(CLINIC_TIMEZONE).date()
        assert (appointment.status in ("attended", "did_not_attend")) == (appointment.ends_at <= clock.now())
        plan = db.session.get(Plan, appointment.plan_id)
        assert plan is not None and (plan.ended_on is None or local_day <= plan.ended_on)


def test_placeholder_documents_name_only_their_own_patient_and_say_they_are_not_real(app: Flask) -> None:
    _generate(app)
    documents = db.session.scalars(select(PlanDocument)).all()
    assert documents and all(document.template_version == "synthetic" for document in documents)
    for document in documents:
        version = db.session.get(PlanVersion, document.plan_version_id)
        assert version is not None
        patient = db.session.get(Patient, version.plan.patient_id)
        assert patient is not None
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(document.pdf)).pages)
        assert "SYNTHETIC TEST DATA: not a real document" in text
        assert f"{patient.given_name} {patient.family_name} (NHS number {patient.nhs_number})" in text
        others = db.session.scalars(select(Patient.nhs_number).where(Patient.id != patient.id)).all()
        assert not any(number in text for number in others)


def test_the_services_audit_trail_is_written_and_marked(app: Flask) -> None:
    _generate(app)
    events = db.session.scalars(select(AuditEvent)).all()
    assert {event.origin for event in events} == {"synthetic-data"}
    created = {(event.entity_type, event.entity_id) for event in events if event.action == "create"}
    for model, entity_type in ((Patient, "patient"), (Plan, "plan"), (PlanVersion, "plan_version"),
                               (User, "user"), (Organisation, "organisation")):
        ids = db.session.scalars(select(model.id)).all()  # type: ignore[attr-defined]
        assert {(entity_type, str(id)) for id in ids} <= created, entity_type


def test_a_second_run_is_refused_and_writes_nothing(app: Flask) -> None:
    _generate(app)
    patients = _count(Patient)
    again = app.test_cli_runner().invoke(args=SMALL)
    assert again.exit_code != 0 and "already has synthetic data" in again.output
    assert _count(Patient) == patients


def test_real_data_is_refused_unless_asked_for_and_then_kept_apart(app: Flask, make: Maker) -> None:
    pharmacist = make.user(Role.PHARMACIST)
    make.patient(pharmacist)
    refused = app.test_cli_runner().invoke(args=SMALL)
    assert refused.exit_code != 0 and "not synthetic" in refused.output
    assert _count(Patient) == 1
    _generate(app, "--alongside-real-data")
    assert _count(Patient) == 41
    assert db.session.scalar(select(func.count()).select_from(Organisation).where(
        Organisation.synthetic.is_(False))) == 2  # the test's clinic and practice, untouched


def test_a_weak_password_or_more_plans_than_patients_is_refused(app: Flask) -> None:
    runner = app.test_cli_runner()
    weak = runner.invoke(args=["taper", "synthetic-data", "--patients", "5", "--plans", "1", "--password", "short"])
    assert weak.exit_code != 0 and "at least 12 characters" in weak.output
    too_many = runner.invoke(args=["taper", "synthetic-data", "--patients", "5", "--plans", "6",
                                   "--password", PASSWORD])
    assert too_many.exit_code != 0 and "one for every patient" in too_many.output
    assert _count(Patient) == 0


def test_production_refuses_synthetic_data(app: Flask, tmp_path: Path) -> None:
    settings = Settings(environment="production", secret_key=TEST_SECRET_KEY,
                        database_url=app.config["SQLALCHEMY_DATABASE_URI"], instance_path=tmp_path,
                        secure_cookies=True, require_two_factor=True,
                        rate_limit_storage_url="redis://127.0.0.1:6379/15").validate()
    production = create_app(settings)
    with production.app_context():
        result = production.test_cli_runner().invoke(args=SMALL)
        db.session.remove()
    assert result.exit_code != 0 and "never generated in production" in result.output
    assert _count(Patient) == 0


@pytest.mark.parametrize("patients, plans", [(1, 0), (3, 3)])
def test_the_smallest_sizes_work(app: Flask, patients: int, plans: int) -> None:
    app.test_cli_runner().invoke(args=["taper", "synthetic-data", "--patients", str(patients), "--plans",
                                       str(plans), "--password", PASSWORD])
    assert _count(Patient) == patients
    assert db.session.scalar(select(func.count()).select_from(Plan).where(Plan.status.in_(
        [PlanStatus.ACTIVE, PlanStatus.PAUSED]))) == plans
