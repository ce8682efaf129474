"""Fixtures: a fresh migrated database per test (SQLite or PostgreSQL), the app, a client, and helpers
to make organisations, users and patients through the real services."""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2.bccache import Bucket, BytecodeCache

from taper import clock, create_app
from taper.clock import CLINIC_TIMEZONE
from taper.domain.organisations import OrganisationKind, Role
from taper.domain.patients import Sex
from taper.domain.plans import PlanStatus
from taper.extensions import db
from taper.models import Organisation, Patient, Plan, User
from taper.services import accounts, patients, plans, regimens
from taper.services.demo_data import synthetic_nhs_numbers
from taper.services.patients import PatientDetails
from taper.services.regimens import RegimenEntry
from tests.databases import ThrowawayDatabases, settings_for

PASSWORD = "correct horse battery staple"
# What a GP letter's sign-off prints for the pharmacist who made the plan (taper.documents.letterhead.Sender).
_SENDER_DETAILS = {Role.PHARMACIST: {"job_title": "Specialist pain pharmacist", "registration_body": "GPhC",
                                     "registration_number": "0001234"}}
MONDAY = date(2027, 1, 4)  # the frozen clock of the booking, reminder and sharing tests: no bank holiday near
# Every test's clock starts here, whatever the calendar says when the suite runs, and runs on (tests that need
# another day freeze or move it). A Wednesday: the weekday on which the real clock once broke the suite.
TODAY = date(2026, 12, 2)
MORPHINE_BD: dict[str, Any] = {"product": "morphine-mr-tablet-12h",
                               "doses": [{"time": "08:00", "dose_mg": 60}, {"time": "20:00", "dose_mg": 60}]}


def at(day: date, hour: int = 8, minute: int = 0) -> datetime:
    """That day and time in England."""
    return datetime.combine(day, time(hour, minute), CLINIC_TIMEZONE)


@pytest.fixture(autouse=True)
def the_suites_clock() -> Iterator[None]:
    with clock.running_from(at(TODAY, 10)):
        yield


def clock_environment() -> dict[str, str]:
    """TAPER_TODAY for a process a test starts, so that its clock reads what the test's clock reads now (to the
    next whole second: never behind what the test has just done)."""
    ahead = clock.now() + timedelta(seconds=1)
    return {"TAPER_TODAY": ahead.astimezone(CLINIC_TIMEZONE).strftime("%Y-%m-%dT%H:%M:%S")}


def pytest_report_header(config: pytest.Config) -> str:
    from tests.databases import server_url

    server = server_url()
    return f"taper database: {'PostgreSQL at ' + server.render_as_string() if server else 'SQLite (temporary files)'}"


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThrowawayDatabases]:
    store = ThrowawayDatabases(tmp_path_factory.mktemp("databases"))
    store.sweep_abandoned()
    yield store
    store.close()


class SharedBytecodeCache(BytecodeCache):
    """Compiled templates shared by every test's app: compiling the NHS.UK macros once, not per test."""

    def __init__(self) -> None:
        self._compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self._compiled:
            bucket.bytecode_from_string(self._compiled[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CACHE = SharedBytecodeCache()


class RequestIsolatedClient(FlaskClient):
    """Each request runs in an empty context, as in a real server: its own app context, `g` and database
    session, not the test's (Flask would otherwise reuse the app context the test holds open)."""

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(databases: ThrowawayDatabases, tmp_path: Path) -> Iterator[Flask]:
    url = databases.migrated()
    application = create_app(settings_for(url, tmp_path / "instance"))
    application.test_client_class = RequestIsolatedClient
    application.jinja_env.bytecode_cache = TEMPLATE_CACHE
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()
    databases.drop(url)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Maker:
    """Creates records through the real services, committing each, as an admin or pharmacist would."""

    def __init__(self) -> None:
        self._serial = count(1)
        self._nhs_numbers = iter(synthetic_nhs_numbers(500))

    def organisation(self, kind: OrganisationKind = OrganisationKind.PAIN_CLINIC,
                     name: str | None = None) -> Organisation:
        serial = next(self._serial)
        organisation = accounts.create_organisation(by=None, kind=kind, name=name or f"{kind.label} {serial}",
                                                    ods_code=f"T{serial:05d}",
                                                    phone=f"0113 496 {serial % 1000:04d}",
                                                    address=f"{serial} Infirmary Street\nLeeds\nLS1 2AB")
        db.session.commit()
        return organisation

    def user(self, role: Role = Role.PHARMACIST, organisation: Organisation | None = None,
             email: str | None = None, password: str = PASSWORD) -> User:
        if organisation is None and role.organisation_kind is not None:
            organisation = self.organisation(role.organisation_kind)
        user = accounts.create_user(by=None, email=email or f"user{next(self._serial)}@example.nhs.uk",
                                    full_name=f"Test {role.label}", role=role,
                                    organisation_id=organisation.id if organisation else None, password=password,
                                    **_SENDER_DETAILS.get(role, {}))
        db.session.commit()
        return user

    def nhs_number(self) -> str:
        return next(self._nhs_numbers)

    def details(self, **overrides: object) -> PatientDetails:
        if "gp_practice_id" not in overrides:
            overrides["gp_practice_id"] = self.organisation(OrganisationKind.GP_PRACTICE).id
        values: dict[str, object] = {"nhs_number": self.nhs_number(), "given_name": "Ada", "family_name": "Lovelace",
                                     "date_of_birth": date(1960, 12, 10), "sex": Sex.FEMALE, "pharmacy_id": None}
        values.update(overrides)
        return PatientDetails(**values)  # type: ignore[arg-type]

    def patient(self, by: User, **overrides: object) -> Patient:
        patient = patients.create_patient(by=by, details=self.details(**overrides))
        db.session.commit()
        return patient

    def pharmacy_with_email(self) -> Organisation:
        """A community pharmacy with an email address, so that messages to it go by email."""
        pharmacy = self.organisation(OrganisationKind.COMMUNITY_PHARMACY)
        pharmacy.email = "high.street@nhs.net"
        db.session.commit()
        return pharmacy

    def texted_patient(self, by: User, pharmacy: Organisation) -> Patient:
        """A patient who agreed to be contacted by text message, and who nominated `pharmacy`."""
        return self.patient(by, pharmacy_id=pharmacy.id, contact_by="sms", mobile_phone="07700 900123")

    def running_plan(self, by: User, patient: Patient, *, start_on: date, prescriber: str = "gp",
                     **settings: Any) -> Plan:
        """Morphine MR 60 mg twice a day, tapered from `start_on`, agreed (shared with the GP and pharmacy)
        and started, as a pharmacist would in clinic."""
        regimens.record_regimen(by=by, patient_id=patient.id, entry=RegimenEntry(lines=[MORPHINE_BD]))
        plan = plans.create_draft(by=by, patient_id=patient.id,
                                  settings=plans.PlanSettings(start_on=start_on, **settings))
        plans.record_decision(by=by, plan_id=plan.id, decision=plans.Decision(
            what_matters="Walking the dog", goals="Less medicine", agreed_pace="10% every 2 weeks",
            prescriber=prescriber, consent_share_with_gp=True, consent_share_with_pharmacy=True,
            agreed_on=min(start_on, clock.today())))
        plans.change_status(by=by, plan_id=plan.id, expected_version=plan.version, to=PlanStatus.ACTIVE)
        db.session.commit()
        return plan


@pytest.fixture
def make(app: Flask) -> Maker:
    return Maker()


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, url: str) -> str:
    """The CSRF token from the form on `url`, as a browser would send it back."""
    page = client.get(url)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token in the form at {url} (status {page.status_code})"
    return match.group(1)


def submit(client: FlaskClient, url: str, data: dict[str, object], form_url: str | None = None, **kwargs):  # type: ignore[no-untyped-def]
    """Fill in and post the form found at `form_url` (default `url`) to `url`."""
    return client.post(url, data={"csrf_token": csrf_token(client, form_url or url), **data}, **kwargs)


def page_text(response) -> str:  # type: ignore[no-untyped-def]
    """A page's HTML with every run of whitespace made one space, for checking sentences that wrap."""
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def sign_in(client: FlaskClient, user: User, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    response = submit(client, "/login", {"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


@pytest.fixture
def pharmacist(make: Maker) -> User:
    return make.user(Role.PHARMACIST)


@pytest.fixture
def signed_in(client: FlaskClient, pharmacist: User) -> FlaskClient:
    """A client signed in as a clinic pharmacist."""
    sign_in(client, pharmacist)
    return client
