"""The authorisation matrix: every route of the app (from the URL map, so a new route without an entry fails),
every role, and a resource inside and outside the user's organisation.

Two clinics, each with its pharmacist, GP practice, community pharmacy and a patient on a running, shared plan
(documents issued, appointments booked, a reminder stored, a worklist item). Expected:
- a role the route does not allow: 403;
- an allowed role, its own organisation's resource: served (200; 302 after a form; the API's 422 for an
  empty request);
- an allowed role, another organisation's resource: 404, and the attempt audited when it was about a patient.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.routing import Rule

from taper import clock
from taper.domain.organisations import OrganisationKind, Role
from taper.domain.plans import PlanStatus
from taper.extensions import db
from taper.models import Appointment, AuditEvent, ClinicSession, Leave, Message, Plan, PlanDocument, User, WorklistItem
from taper.services import (
    appointments,
    capacity,
    cohort_import,
    community_pharmacy,
    invitations,
    messages,
    pharmacy_concerns,
    plans,
    regimens,
)
from taper.services.capacity import SessionDetails
from taper.services.regimens import RegimenEntry
from tests.conftest import Maker, sign_in
from tests.web.test_access import EXPECTED_ROLES

# A practice's extract of one row (a previewed cohort import for the imports pages).
MATRIX_EXTRACT = (b"NHS Number,Surname,Forename,Date of Birth,Practice Code,Drug,Dosage,Quantity,Last Issue Date\r\n"
                  b"9434765919,Lovelace,Ada,10/12/1950,A81001,Zomorph 30mg modified-release capsules,"
                  b"ONE TO BE TAKEN TWICE A DAY,56,01/11/2026\r\n")

# Routes that need no record of an organisation, and routes outside this matrix (with why).
NOT_SCOPED = {"admin.users", "admin.new_user", "admin.organisations", "admin.new_organisation",
              "measures.table_csv",  # a table's name: the clinic is the user's own (tests/web/test_measures_pages.py)
              "find.index"}  # the user's own clinic's worklist (tests/web/test_find_pages.py: scope)
# Admins manage every organisation's records.
ADMIN_RECORDS = {"admin.edit_user", "admin.set_password", "admin.reset_two_factor", "admin.edit_organisation"}
# Scoped for a pharmacist, but an admin may open any clinic's record (an admin imports into any pain clinic).
ADMIN_ANY_CLINIC = {"imports.detail", "imports.confirm", "imports.carry_on", "imports.discard"}
LEFT_OUT = {"auth.login": "public", "static": "public", "nhsuk.static": "public",
            "auth.logout": "signs the client out: tests/web/test_auth.py",
            "auth.two_factor_code": "public, halfway through signing in: tests/web/test_two_factor.py",
            "auth.two_factor_setup": "public, halfway through signing in: tests/web/test_two_factor.py",
            "kept_work.resume": "bound to a user, not an organisation: tests/web/test_kept_work.py",
            "kept_work.keep_alive": "no record, every role: tests/web/test_kept_work.py"}


@dataclass
class Clinic:
    pharmacist: User
    gp: User
    community_pharmacist: User
    values: dict[str, Any]  # URL arguments naming this clinic's records

    def user(self, role: Role) -> User:
        return {Role.PHARMACIST: self.pharmacist, Role.GP: self.gp,
                Role.COMMUNITY_PHARMACIST: self.community_pharmacist}[role]


def _clinic(make: Maker) -> Clinic:
    pharmacist = make.user(Role.PHARMACIST)
    practice = make.organisation(OrganisationKind.GP_PRACTICE)
    pharmacy = make.organisation(OrganisationKind.COMMUNITY_PHARMACY)
    gp, community = make.user(Role.GP, practice), make.user(Role.COMMUNITY_PHARMACIST, pharmacy)
    capacity.add_session(by=pharmacist, details=SessionDetails(clock.today().weekday(), time(0, 5), time(23, 55),
                                                              remote=False, location="Room 1"))
    capacity.add_leave(by=pharmacist, first_day=clock.today() + timedelta(days=300),
                       last_day=clock.today() + timedelta(days=301))
    patient = make.patient(pharmacist, gp_practice_id=practice.id, pharmacy_id=pharmacy.id)
    regimens.record_regimen(by=pharmacist, patient_id=patient.id, entry=RegimenEntry(lines=[
        {"product": "morphine-mr-tablet-12h", "doses": [{"time": "08:00", "dose_mg": 60},
                                                        {"time": "20:00", "dose_mg": 60}]}]))
    plan = plans.create_draft(by=pharmacist, patient_id=patient.id,
                              settings=plans.PlanSettings(start_on=clock.today()))
    plans.record_decision(by=pharmacist, plan_id=plan.id, decision=plans.Decision(
        what_matters="Family", goals="Less", agreed_pace="10%", prescriber="gp", consent_share_with_gp=True,
        consent_share_with_pharmacy=True, agreed_on=clock.today()))
    plans.change_status(by=pharmacist, plan_id=plan.id, expected_version=plan.version, to=PlanStatus.ACTIVE)
    plans.revise_running(by=pharmacist, plan_id=plan.id, expected_version=plan.version,
                         on=clock.today() + timedelta(days=1), hold_days=3, reason="Hold")
    messages.queue(messages.Outgoing(key=f"matrix-{plan.id}", kind="step_tomorrow", channel="sms",
                                     to="07700 900123", body="Test", patient_id=patient.id))
    appointments.add_to_worklist(key=f"matrix-{plan.id}", kind="overdue", plan_id=plan.id, detail="Test")
    state = community_pharmacy.instalment_states(plan, patient)[0]
    supplied = community_pharmacy.record_instalment(
        by=community, plan_id=plan.id, instalment=1, version_number=plan.current_version_number,
        supplied_on=clock.today(), quantities={community_pharmacy.item_key(each.product, each.strength): "1"
                                               for each in state.instalment.supplies})
    concern = pharmacy_concerns.raise_concern(by=community, plan_id=plan.id, kind="other", detail="Test")
    patient.postal_address = "1 Matrix Street\nLeeds\nLS1 1AA"  # invited by letter: a batch of letters (not made)
    invited = invitations.send(by=pharmacist, choices=[invitations.Choice(patient.id, by_letter=True, by_text=False)])
    if invited.batch is not None:  # claimed, as Send claims it: "Start again" is refused, and starts no thread
        invitations.claim_rendering(by=pharmacist, batch_id=invited.batch.id)
    extract = cohort_import.preview(by=pharmacist, clinic_id=pharmacist.organisation_id, file_name="matrix.csv",
                                    content=MATRIX_EXTRACT)
    db.session.commit()
    documents = {document.kind: document.id for document in db.session.scalars(
        select(PlanDocument).where(PlanDocument.plan_version_id == plan.current.id))}
    values = {
        "patient_id": patient.id, "plan_id": plan.id, "number": plan.current.number, "old": 1, "new": 2,
        "kind": "gp_letter",
        "import_id": extract.id,
        "table": "plans",
        "appointment_id": db.session.scalar(select(Appointment.id).where(Appointment.plan_id == plan.id).limit(1)),
        "message_id": db.session.scalar(select(Message.id).where(Message.patient_id == patient.id)),
        "item_id": db.session.scalar(select(WorklistItem.id).where(WorklistItem.plan_id == plan.id,
                                                                   WorklistItem.kind == "overdue")),
        "session_id": db.session.scalar(select(ClinicSession.id).where(ClinicSession.pharmacist_id == pharmacist.id)
                                        .limit(1)),
        "leave_id": db.session.scalar(select(Leave.id).where(Leave.pharmacist_id == pharmacist.id)),
        "practice.document": documents["gp_letter"], "practice.acknowledge": documents["gp_letter"],
        "practice.letter": documents["gp_letter"],
        "pharmacy.document": documents["pharmacy_schedule"],
        "supply_id": supplied[0].id, "concern_id": concern.id,
        "invitation_id": invited.invitations[0].id, "batch_id": invited.batch.id if invited.batch else None,
    }
    return Clinic(pharmacist, gp, community, values)


def _url(app: Flask, rule: Rule, values: dict[str, Any], admin: User) -> str:
    arguments = {}
    for name in rule.arguments:
        if name == "document_id":
            arguments[name] = values[rule.endpoint]
        elif name in ("user_id", "organisation_id"):
            arguments[name] = admin.id if name == "user_id" else admin.organisation_id or 1
        else:
            arguments[name] = values[name]
    with app.test_request_context():
        return app.url_for(rule.endpoint, **arguments)


def _csrf(client: FlaskClient) -> str:
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "every signed-in page has the sign-out form"
    return match.group(1)


def _request(client: FlaskClient, rule: Rule, url: str, token: str) -> int:
    if "GET" in (rule.methods or set()):
        return client.get(url).status_code
    return client.post(url, data={"csrf_token": token}).status_code


@pytest.fixture
def world(make: Maker) -> tuple[Clinic, Clinic, User]:
    admin = make.user(Role.ADMIN)
    return _clinic(make), _clinic(make), admin


def test_every_route_every_role_inside_and_outside_the_organisation(app: Flask, make: Maker,
                                                                     world: tuple[Clinic, Clinic, User]) -> None:
    ours, theirs, admin = world
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint not in LEFT_OUT]
    assert {rule.endpoint for rule in rules} | set(LEFT_OUT) == set(EXPECTED_ROLES)
    failures = []
    for role in Role:
        user = admin if role is Role.ADMIN else ours.user(role)
        client = app.test_client()
        sign_in(client, user)
        token = _csrf(client)
        for rule in rules:
            allowed = role in (EXPECTED_ROLES[rule.endpoint] or set())
            scoped = bool(rule.arguments) and rule.endpoint not in NOT_SCOPED | ADMIN_RECORDS
            inside = _request(client, rule, _url(app, rule, ours.values, admin), token)
            if (_served(inside) if allowed else inside == 403) is False:
                failures.append((role.value, rule.endpoint, "inside", inside, "served" if allowed else 403))
            if not scoped or (role is Role.ADMIN and rule.endpoint in ADMIN_ANY_CLINIC):
                continue
            before = _denials(user)
            outside = _request(client, rule, _url(app, rule, theirs.values, admin), token)
            if outside != (404 if allowed else 403):
                failures.append((role.value, rule.endpoint, "outside", outside, 404 if allowed else 403))
            if rule.arguments & {"session_id", "leave_id"}:
                continue  # a clinic session or leave is not about a patient: not found, nothing to audit
            if allowed and _denials(user) <= before:
                failures.append((role.value, rule.endpoint, "outside", "not audited", "access_denied"))
    assert failures == []


def _served(status: int) -> bool:
    """Let through to the page: shown, redirected after a form, or the form's own refusal (the API's 422)."""
    return status in (200, 302, 422)


def _denials(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.actor_user_id == user.id, AuditEvent.action == "access_denied")) or 0


def test_a_gp_or_pharmacy_never_sees_a_plan_the_patient_did_not_agree_to_share(
        app: Flask, world: tuple[Clinic, Clinic, User]) -> None:
    ours, _, _ = world
    plan = db.session.get(Plan, ours.values["plan_id"])
    plans.record_decision(by=ours.pharmacist, plan_id=plan.id, decision=plans.Decision(
        what_matters="Family", goals="Less", agreed_pace="10%", prescriber="pharmacist",
        consent_share_with_gp=False, consent_share_with_pharmacy=False, agreed_on=clock.today()))
    db.session.commit()
    for role, url in ((Role.GP, f"/practice/patients/{ours.values['patient_id']}"),
                      (Role.GP, f"/practice/documents/{ours.values['practice.document']}.pdf"),
                      (Role.COMMUNITY_PHARMACIST, f"/pharmacy/documents/{ours.values['pharmacy.document']}.pdf")):
        client = app.test_client()
        sign_in(client, ours.user(role))
        assert client.get(url).status_code == 404, (role, url)
    client = app.test_client()
    sign_in(client, ours.gp)
    assert "Plan letters" in client.get("/practice/").get_data(as_text=True)
    assert "plan " + str(plan.id) not in client.get("/practice/").get_data(as_text=True)
