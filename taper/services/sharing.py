"""Who outside the clinic may see a patient's plan: their registered GP practice and their nominated community
pharmacy, for plans the patient agreed to share with them (the shared decision), and nothing more. Access
follows the patient: when they change practice or pharmacy, the new one sees the plan and the old one no
longer does. Every look is audited; a look at someone else's patient answers "not found" and is audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select

from taper.domain.organisations import Role
from taper.domain.plans import PlanStatus
from taper.extensions import db
from taper.models import Patient, Plan, PlanDocument, PlanVersion, SharedDecision, User
from taper.services import audit
from taper.services.errors import NotFound, PermissionDenied
from taper.services.paging import Page, page_of, rows
from taper.services.plans import latest_decision

# The documents each role may open: a GP the letter and the patient's plan; a pharmacy its dispensing schedule.
DOCUMENT_KINDS = {Role.GP: ("gp_letter", "patient_plan"), Role.COMMUNITY_PHARMACIST: ("pharmacy_schedule",)}
PATIENTS_PER_PAGE = 50


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
    return list(db.session.scalars(select(Plan).where(Plan.patient_id == patient.id, Plan.status != PlanStatus.DRAFT,
                                                      consented(by.role)).order_by(Plan.id.desc())))


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


def organisation_patients(by: User, *, page: int) -> Page[tuple[Patient, Plan]]:
    """A page of this organisation's patients with a shared plan, by name, each with their newest shared plan,
    in two queries (a count and the page) whatever the number of patients and plans."""
    newest = (select(Plan.patient_id, func.max(Plan.id).label("plan_id"))
              .join(Patient, Patient.id == Plan.patient_id).where(shared_with(by))
              .group_by(Plan.patient_id).subquery())
    query: Select[*tuple[Any, ...]] = (
        select(Patient, Plan).join(newest, newest.c.patient_id == Patient.id)
        .join(Plan, Plan.id == newest.c.plan_id)
        .order_by(Patient.family_name, Patient.given_name, Patient.id))
    return page_of(query, number=page, per_page=PATIENTS_PER_PAGE, read=rows)


def running_plans(by: User) -> list[tuple[Patient, Plan]]:
    """This organisation's patients' running (active or paused) plans shared with it, in one query."""
    return [(patient, plan) for patient, plan in db.session.execute(
        select(Patient, Plan).join(Plan, Plan.patient_id == Patient.id)
        .where(shared_with(by), Plan.status.in_([status for status in PlanStatus if status.is_running])))]


def shared_with(by: User) -> ColumnElement[bool]:
    """SQL for a plan (joined to its Patient in the query) that this GP's practice or community pharmacy may see:
    issued, the patient registered at the practice or nominating the pharmacy, and shared by the latest decision."""
    _require_outside_role(by)
    linked = (Patient.gp_practice_id if by.role is Role.GP else Patient.pharmacy_id) == by.organisation_id
    return and_(linked, Plan.status != PlanStatus.DRAFT, consented(by.role))


def consented(role: Role) -> ColumnElement[bool]:
    """SQL for a plan (in the query) whose latest shared decision lets this kind of organisation see it."""
    column = SharedDecision.consent_share_with_gp if role is Role.GP else SharedDecision.consent_share_with_pharmacy
    return (select(column).where(SharedDecision.plan_id == Plan.id).order_by(SharedDecision.id.desc()).limit(1)
            .correlate(Plan).scalar_subquery()).is_(True)


def _linked(by: User, patient: Patient) -> bool:
    _require_outside_role(by)
    if by.role is Role.GP:
        return patient.gp_practice_id == by.organisation_id
    return patient.pharmacy_id is not None and patient.pharmacy_id == by.organisation_id


def _consented(by: User, plan: Plan) -> bool:
    decision = latest_decision(plan)
    if decision is None:
        return False
    return decision.consent_share_with_gp if by.role is Role.GP else decision.consent_share_with_pharmacy


def _require_outside_role(by: User) -> None:
    if by.role not in (Role.GP, Role.COMMUNITY_PHARMACIST) or by.organisation_id is None:
        raise PermissionDenied("only a GP or a community pharmacist sees shared plans")
