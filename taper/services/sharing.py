"""Who outside the clinic may see a patient's plan: their registered GP practice and their nominated community
pharmacy, for plans the patient agreed to share with them (the shared decision), and nothing more. Access
follows the patient: when they change practice or pharmacy, the new one sees the plan and the old one no
longer does. Every look is audited; a look at someone else's patient answers "not found" and is audited."""

from __future__ import annotations

from sqlalchemy import select

from taper.domain.organisations import Role
from taper.domain.plans import PlanStatus
from taper.extensions import db
from taper.models import Patient, Plan, PlanDocument, PlanVersion, User
from taper.services import audit
from taper.services.errors import NotFound, PermissionDenied
from taper.services.plans import latest_decision

# The documents each role may open: a GP the letter and the patient's plan; a pharmacy its dispensing schedule.
DOCUMENT_KINDS = {Role.GP: ("gp_letter", "patient_plan"), Role.COMMUNITY_PHARMACIST: ("pharmacy_schedule",)}


def shared_patient(by: User, patient_id: int) -> Patient:
    """The patient if registered at this GP's practice, or nominating this community pharmacy."""
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("no such patient")
    if not _linked(by, patient):
        audit.record(action="access_denied", by=by, entity_type="patient", entity_id=patient.id,
                     patient_id=patient.id)
        raise NotFound("no such patient")
    return patient


def shared_plans(by: User, patient: Patient) -> list[Plan]:
    """The patient's issued plans (never drafts) that they agreed to share with this kind of organisation,
    newest first."""
    plans = db.session.scalars(select(Plan).where(Plan.patient_id == patient.id, Plan.status != PlanStatus.DRAFT)
                               .order_by(Plan.id.desc()))
    return [plan for plan in plans if _consented(by, plan)]


def shared_plan(by: User, plan_id: int) -> Plan:
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("no such plan")
    patient = shared_patient(by, plan.patient_id)
    if plan.status is PlanStatus.DRAFT or not _consented(by, plan):
        audit.record(action="access_denied", by=by, entity_type="plan", entity_id=plan.id, patient_id=patient.id)
        raise NotFound("no such plan")
    return plan


def shared_document(by: User, document_id: int) -> tuple[PlanDocument, Plan, PlanVersion]:
    """A document this user may open (audited as a view)."""
    document = db.session.get(PlanDocument, document_id)
    if document is None:
        raise NotFound("no such document")
    version = db.session.get(PlanVersion, document.plan_version_id)
    assert version is not None
    plan = shared_plan(by, version.plan_id)
    if document.kind not in DOCUMENT_KINDS.get(by.role, ()):
        audit.record(action="access_denied", by=by, entity_type="plan_document", entity_id=document.id,
                     patient_id=plan.patient_id)
        raise NotFound("no such document")
    audit.record(action="view", by=by, entity_type="plan_document", entity_id=document.id,
                 patient_id=plan.patient_id, changes={"kind": document.kind, "version": version.number})
    return document, plan, version


def organisation_patients(by: User) -> list[tuple[Patient, Plan]]:
    """This organisation's patients with a shared plan, each with their newest shared plan, by name."""
    return [(patient, plans[0]) for patient, plans in organisation_plans(by)]


def organisation_plans(by: User) -> list[tuple[Patient, list[Plan]]]:
    """This organisation's patients with a shared plan, each with all their shared plans (newest first)."""
    column = Patient.gp_practice_id if by.role is Role.GP else Patient.pharmacy_id
    _require_outside_role(by)
    found = []
    for patient in db.session.scalars(select(Patient).where(column == by.organisation_id)
                                      .order_by(Patient.family_name, Patient.given_name)):
        plans = shared_plans(by, patient)
        if plans:
            found.append((patient, plans))
    return found


def _linked(by: User, patient: Patient) -> bool:
    _require_outside_role(by)
    if by.role is Role.GP:
        return patient.gp_practice_id == by.organisation_id
    return patient.pharmacy_id is not None and patient.pharmacy_id == by.organisation_id


def shares_with_pharmacy(plan: Plan) -> bool:
    """Whether the patient agreed to share this plan with their community pharmacy (the latest decision)."""
    decision = latest_decision(plan)
    return decision is not None and decision.consent_share_with_pharmacy


def _consented(by: User, plan: Plan) -> bool:
    decision = latest_decision(plan)
    if decision is None:
        return False
    return decision.consent_share_with_gp if by.role is Role.GP else decision.consent_share_with_pharmacy


def _require_outside_role(by: User) -> None:
    if by.role not in (Role.GP, Role.COMMUNITY_PHARMACIST) or by.organisation_id is None:
        raise PermissionDenied("only a GP or a community pharmacist sees shared plans")
