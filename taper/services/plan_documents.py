"""Issuing a plan version's three documents: rendered once from the stored version, stored with their hash,
served from storage afterwards. A version's documents never change."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from taper import clock
from taper.documents import pharmacy, team_letters
from taper.documents.letterhead import Letterhead
from taper.domain.risk import SupportLevel
from taper.extensions import db
from taper.models import Patient, Plan, PlanDocument, PlanVersion, RecordedRiskAssessment, User
from taper.services import audit
from taper.services.errors import NotFound

KINDS = ("patient_plan", "gp_letter", "pharmacy_schedule")
TITLES = {"patient_plan": "Patient's plan", "gp_letter": "Letter to the GP",
          "pharmacy_schedule": "Community pharmacy dispensing schedule"}


def issue(*, by: User, plan: Plan, version: PlanVersion, prescriber: str) -> list[PlanDocument]:
    """Render and store the three documents of `version` (once: a version already issued is left as it is)."""
    existing = list(db.session.scalars(select(PlanDocument).where(PlanDocument.plan_version_id == version.id)))
    if existing:
        return existing
    patient = db.session.get(Patient, plan.patient_id)
    assert patient is not None
    previous = plan.versions[-2] if len(plan.versions) > 1 and plan.versions[-1] is version else None
    head = Letterhead(
        patient_name=f"{patient.given_name} {patient.family_name}", nhs_number=patient.nhs_number_display,
        born=patient.date_of_birth.isoformat(), plan_id=plan.id, plan_version=version.number,
        generated_on=clock.today(),
        pharmacy_name=patient.pharmacy.name if patient.pharmacy else "No nominated pharmacy",
        pharmacy_ods_code=patient.pharmacy.ods_code if patient.pharmacy else "-",
        clinic_name=patient.clinic.name, clinic_contact=f"{patient.clinic.name} ({patient.clinic.ods_code})",
        replaces=(previous.number, previous.created_at.date()) if previous else None)
    rendered = {
        "patient_plan": team_letters.render_patient_plan(head, version.schedule, large_print=patient.large_print),
        "gp_letter": team_letters.render_gp_letter(
            head, version.request, version.schedule, practice_name=patient.gp_practice.name,
            practice_ods_code=patient.gp_practice.ods_code, prescriber=prescriber, risk=_risk(patient.id),
            instalment_days=plan.instalment_days),
        "pharmacy_schedule": pharmacy.render_pharmacy_schedule(head, version.schedule,
                                                               instalment_days=plan.instalment_days),
    }
    documents = []
    for kind, pdf in rendered.items():
        template = team_letters.TEMPLATE_VERSION if kind != "pharmacy_schedule" else pharmacy.TEMPLATE_VERSION
        document = PlanDocument(plan_version_id=version.id, kind=kind, template_version=template,
                                sha256=hashlib.sha256(pdf).hexdigest(), pdf=pdf)
        db.session.add(document)
        documents.append(document)
    db.session.flush()
    audit.record(action="create", by=by, entity_type="plan_documents", entity_id=version.id,
                 patient_id=patient.id, changes={kind: document.sha256 for kind, document in zip(
                     rendered, documents, strict=True)})
    return documents


def stored(*, by: User, plan: Plan, version_number: int, kind: str) -> PlanDocument:
    """A stored document, for download (audited as a view of the patient's record)."""
    version = next((each for each in plan.versions if each.number == version_number), None)
    document = None if version is None else db.session.scalar(
        select(PlanDocument).where(PlanDocument.plan_version_id == version.id, PlanDocument.kind == kind))
    if document is None:
        raise NotFound("no such document")
    audit.record(action="view", by=by, entity_type="plan_document", entity_id=document.id,
                 patient_id=plan.patient_id, changes={"kind": kind, "version": version_number})
    return document


def documents_of(version: PlanVersion) -> list[PlanDocument]:
    return list(db.session.scalars(select(PlanDocument).where(PlanDocument.plan_version_id == version.id)
                                   .order_by(PlanDocument.kind)))


def _risk(patient_id: int) -> str:
    latest = db.session.scalar(select(RecordedRiskAssessment).where(RecordedRiskAssessment.patient_id == patient_id)
                               .order_by(RecordedRiskAssessment.id.desc()).limit(1))
    return SupportLevel(latest.chosen_level).label if latest else "No risk assessment recorded yet."
