"""A GP practice's view of its patients' plans: the inbox of new and revised plan letters (read, then
acknowledged, and the clinic sees by whom and when), and each patient's plan as the letters give it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, load_only, selectinload

from taper import clock
from taper.domain.dispensing import instalments
from taper.domain.formulary import load_formulary
from taper.domain.organisations import Role
from taper.domain.schedule_contract import schedule_from_document
from taper.extensions import db
from taper.models import LetterReceipt, Patient, Plan, PlanDocument, PlanVersion, User
from taper.services import audit, sharing
from taper.services.common import flush_or_stale
from taper.services.errors import InvalidInput, NotFound, PermissionDenied
from taper.services.paging import Page, page_of

LETTERS_PER_PAGE = 50


@dataclass(frozen=True)
class Letter:
    document: PlanDocument
    version: PlanVersion
    plan: Plan
    patient: Patient
    receipt: LetterReceipt | None

    @property
    def state(self) -> str:
        if self.receipt is None:
            return "New"
        return "Acknowledged" if self.receipt.acknowledged_at else "Read, not acknowledged"


@dataclass(frozen=True)
class PatientPlan:
    patient: Patient
    plan: Plan
    versions: list[tuple[PlanVersion, Letter | None]]  # newest first
    prescription_dates: list[date]  # from today on
    patient_plan: PlanDocument | None  # the current version's plan as the patient has it


def inbox(*, by: User, page: int) -> Page[Letter]:
    """A page of the plan letters for the practice's patients, newest first, with whether each was read and
    acknowledged: a count, the page's letters (never their PDFs) and who acknowledged them, whatever the number
    of patients, plans and letters. The look is audited with the page and how many letters it showed."""
    _require_gp(by)
    query: Select[*tuple[Any, ...]] = (
        select(PlanDocument, PlanVersion, Plan, Patient, LetterReceipt)
        .join(PlanVersion, PlanVersion.id == PlanDocument.plan_version_id)
        .join(Plan, Plan.id == PlanVersion.plan_id)
        .join(Patient, Patient.id == Plan.patient_id)
        .outerjoin(LetterReceipt, and_(LetterReceipt.plan_document_id == PlanDocument.id,
                                       LetterReceipt.organisation_id == by.organisation_id))
        .where(PlanDocument.kind == "gp_letter", sharing.shared_with(by))
        .order_by(PlanDocument.created_at.desc(), PlanDocument.id.desc())
        .options(defer(PlanDocument.pdf), load_only(PlanVersion.plan_id, PlanVersion.number),
                 selectinload(LetterReceipt.acknowledged_by)))
    letters = page_of(query, number=page, per_page=LETTERS_PER_PAGE, read=_letters)
    audit.record(action="view", by=by, entity_type="letter_inbox", entity_id=by.organisation_id,
                 changes={"letters": len(letters.items), "page": page})
    return letters


def open_letter(*, by: User, document_id: int) -> PlanDocument:
    """The letter's PDF; the practice's first opening is recorded as read (audited as a view every time)."""
    _require_gp(by)
    document, _, _ = sharing.shared_document(by, document_id)
    if document.kind == "gp_letter" and _receipt(by, document.id) is None:
        try:
            with db.session.begin_nested():  # a colleague opening it at the same moment records it first
                db.session.add(LetterReceipt(plan_document_id=document.id, organisation_id=by.organisation_id,
                                             read_by_id=by.id))
        except IntegrityError:
            pass
    return document


def acknowledge(*, by: User, document_id: int) -> LetterReceipt:
    """The practice has taken the letter in: recorded with who and when, once."""
    _require_gp(by)
    document, plan, version = sharing.shared_document(by, document_id)
    if document.kind != "gp_letter":
        raise InvalidInput({"letter": "Only a letter to the GP is acknowledged"})
    receipt = _receipt(by, document.id)
    if receipt is None:
        receipt = LetterReceipt(plan_document_id=document.id, organisation_id=by.organisation_id, read_by_id=by.id)
        db.session.add(receipt)
    if receipt.acknowledged_at is None:
        receipt.acknowledged_at, receipt.acknowledged_by_id = clock.now(), by.id
        flush_or_stale()
        audit.record(action="acknowledge", by=by, entity_type="plan_document", entity_id=document.id,
                     patient_id=plan.patient_id, changes={"plan": plan.id, "version": version.number})
    return receipt


def patient_plan(*, by: User, patient_id: int) -> PatientPlan:
    _require_gp(by)
    patient = sharing.shared_patient(by, patient_id)
    plans = sharing.shared_plans(by, patient)
    if not plans:
        raise NotFound("no shared plan")
    plan = plans[0]
    audit.record(action="view", by=by, entity_type="plan", entity_id=plan.id, patient_id=patient.id)
    schedule = schedule_from_document(plan.current.schedule, load_formulary())
    today = clock.today()
    dates = [period.starts_on for period in instalments(schedule, instalment_days=plan.instalment_days)
             if period.starts_on >= today]
    letters = _letters_of(by, plan, patient)
    return PatientPlan(patient=patient, plan=plan, prescription_dates=dates, versions=[
        (version, letters.get(version.id)) for version in reversed(plan.versions)],
        patient_plan=db.session.scalar(select(PlanDocument).options(defer(PlanDocument.pdf)).where(
            PlanDocument.plan_version_id == plan.current.id, PlanDocument.kind == "patient_plan")))


def receipts_of(plan: Plan) -> list[tuple[PlanVersion, LetterReceipt]]:
    """For the clinic: each version's letter receipts (who read and acknowledged it, and when), in one query."""
    versions = {version.id: version for version in plan.versions}
    found = db.session.execute(select(PlanDocument.plan_version_id, LetterReceipt).join(
        PlanDocument, PlanDocument.id == LetterReceipt.plan_document_id).where(
        PlanDocument.plan_version_id.in_(versions)).order_by(LetterReceipt.id))
    return sorted(((versions[version_id], receipt) for version_id, receipt in found),
                  key=lambda pair: pair[0].number)


def _letters(query: Select[Any]) -> list[Letter]:
    return [Letter(document=document, version=version, plan=plan, patient=patient, receipt=receipt)
            for document, version, plan, patient, receipt in db.session.execute(query)]


def _letters_of(by: User, plan: Plan, patient: Patient) -> dict[int, Letter]:
    """The letter to the GP of each of the plan's versions, by version id, with this practice's receipt."""
    versions = {version.id: version for version in plan.versions}
    found = db.session.execute(
        select(PlanDocument, LetterReceipt).outerjoin(LetterReceipt, and_(
            LetterReceipt.plan_document_id == PlanDocument.id, LetterReceipt.organisation_id == by.organisation_id))
        .where(PlanDocument.plan_version_id.in_(versions), PlanDocument.kind == "gp_letter")
        .options(defer(PlanDocument.pdf)))
    return {document.plan_version_id: Letter(document=document, version=versions[document.plan_version_id],
                                             plan=plan, patient=patient, receipt=receipt)
            for document, receipt in found}


def _receipt(by: User, document_id: int) -> LetterReceipt | None:
    return db.session.scalar(select(LetterReceipt).where(LetterReceipt.plan_document_id == document_id,
                                                         LetterReceipt.organisation_id == by.organisation_id))


def _require_gp(by: User) -> None:
    if by.role is not Role.GP:
        raise PermissionDenied("only a GP has a practice inbox")
