"""Issuing a plan version's three documents: rendered once from the stored version, stored with their hash,
served from storage afterwards. A version's documents never change."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from taper import clock
from taper.documents.letterhead import Letterhead, Sender
from taper.documents.pack import KINDS, TEMPLATE_VERSIONS, Pack, render_pack, render_packs
from taper.domain.plan_diff import revision_in_words
from taper.domain.plans import PlanStatus
from taper.domain.risk import SupportLevel
from taper.domain.wording import doses_that_cannot_be_made
from taper.extensions import db
from taper.models import Patient, Plan, PlanDocument, PlanVersion, RecordedRiskAssessment, SharedDecision, User
from taper.services import appointments, audit, messages
from taper.services.errors import InvalidInput, NotFound

TITLES = {"patient_plan": "Patient's plan", "gp_letter": "Letter to the GP",
          "pharmacy_schedule": "Community pharmacy dispensing schedule"}
ISSUED = (PlanStatus.ACTIVE, PlanStatus.PAUSED)


def issue(*, by: User, plan: Plan, version: PlanVersion, prescriber: str) -> list[PlanDocument]:
    """Render and store the three documents of `version` (once: a version already issued is left as it is)."""
    existing = documents_of(version)
    if existing:
        return existing
    return _store(by, plan, version, render_pack(pack_for(plan, version, prescriber)))


def issue_many(*, by: User | None, versions: Sequence[tuple[Plan, PlanVersion, str]],
               on_document: Callable[[], None] | None = None) -> dict[int, str]:
    """Render the documents of many (plan, version, prescriber) in worker processes and store each version's
    in its own savepoint. Returns the versions left without documents (id: why): one that cannot be issued
    (say, its clinic has no phone number) or that someone issued meanwhile does not stop the others."""
    skipped, ready = {}, []
    for plan, version, prescriber in versions:
        try:
            ready.append((plan, version, pack_for(plan, version, prescriber)))
        except InvalidInput as refusal:
            skipped[version.id] = "; ".join(refusal.errors.values())
    rendered = render_packs([pack for *_, pack in ready], on_document=on_document)
    for (plan, version, _), pdfs in zip(ready, rendered, strict=True):
        try:
            with db.session.begin_nested():
                _store(by, plan, version, pdfs)
        except IntegrityError:
            skipped[version.id] = "issued by someone else while this ran: their documents stand"
    return skipped


def pack_for(plan: Plan, version: PlanVersion, prescriber: str) -> Pack:
    """What the documents of a stored plan version print, read from the database."""
    patient = db.session.get(Patient, plan.patient_id)
    assert patient is not None
    unmakeable = doses_that_cannot_be_made(version.schedule)
    if unmakeable:
        raise InvalidInput({"status": "Some doses cannot be made from the strengths available, so the plan cannot "
                                      "go out: " + "; ".join(unmakeable) + ". Change the regimen or the plan."})
    if not patient.clinic.phone:
        raise InvalidInput({"clinic": f"Add {patient.clinic.name}'s phone number (Admin, Organisations) first: "
                                      "every document tells the patient, GP and pharmacy to call it"})
    author = version.created_by
    if not author.job_title or author.registration is None:
        raise InvalidInput({"sender": f"Add {author.full_name}'s job title and professional registration (Admin, "
                                      "Users) first: the GP letter is signed by the pharmacist who made the plan"})
    if not patient.clinic.address:
        raise InvalidInput({"clinic": f"Add {patient.clinic.name}'s postal address (Admin, Organisations) first: "
                                      "the GP letter gives it as the sender's address"})
    # The version this one replaces is the last one that went out: drafts changed before the plan started were
    # never sent, so the GP letter neither names them nor lists what changed from them.
    previous = next((each for each in reversed(plan.versions) if each.number < version.number
                     and documents_of(each)), None)
    head = Letterhead(
        patient_name=f"{patient.given_name} {patient.family_name}", nhs_number=patient.nhs_number_display,
        born=patient.date_of_birth.isoformat(), plan_number=plan.number, plan_version=version.number,
        generated_on=clock.today(),
        pharmacy_name=patient.pharmacy.name if patient.pharmacy else "No nominated pharmacy",
        pharmacy_ods_code=patient.pharmacy.ods_code if patient.pharmacy else "-",
        clinic_name=patient.clinic.name, clinic_contact=patient.clinic.phone,
        replaces=(previous.number, previous.created_at.date()) if previous else None,
        clinic_address=patient.clinic.address,
        sender=Sender(name=author.full_name, job_title=author.job_title, registration=str(author.registration)))
    return Pack(head=head, version_request=version.request, schedule=version.schedule,
                practice_name=patient.gp_practice.name, practice_ods_code=patient.gp_practice.ods_code,
                prescriber=prescriber, risk=_risk(patient.id), instalment_days=plan.instalment_days,
                large_print=patient.large_print, easy_read=patient.easy_read,
                appointments=tuple(appointments.describe(each) for each in appointments.upcoming(plan.id)),
                times_sent=messages.to_patient(patient) is not None,
                changes=tuple(revision_in_words(previous.schedule, version.schedule)) if previous else (),
                reason=version.name if previous else "", naloxone=patient.clinic.supplies_naloxone,
                pain_relief=_agreed_pain_relief(plan.id))


def current_versions_without_documents() -> list[tuple[Plan, PlanVersion]]:
    """The current version of every running plan that has no stored documents (for the batch command)."""
    plans = db.session.scalars(select(Plan).where(Plan.status.in_(ISSUED)).order_by(Plan.id))
    return [(plan, plan.current) for plan in plans if plan.versions and not documents_of(plan.current)]


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


def print_all(*, by: User, plan: Plan, version_number: int) -> bytes:
    """The stored documents of a version joined into one PDF (patient, GP, pharmacy), to print in one go.
    The pages are the stored ones, unchanged; the join is made anew each time and is not itself stored."""
    version = next((each for each in plan.versions if each.number == version_number), None)
    documents = documents_of(version) if version is not None else []
    if not documents:
        raise NotFound("no such document")
    from pypdf import PdfReader, PdfWriter  # here, not at the top: only printing needs it (about 90 ms to import)

    joined = PdfWriter()
    for document in documents:
        joined.append(PdfReader(io.BytesIO(document.pdf)))
    joined.add_metadata({"/Title": f"Plan {plan.id} version {version_number}: all documents"})
    buffer = io.BytesIO()
    joined.write(buffer)
    audit.record(action="view", by=by, entity_type="plan_documents", entity_id=version.id if version else None,
                 patient_id=plan.patient_id, changes={"kinds": [document.kind for document in documents],
                                                      "version": version_number, "printed": True})
    return buffer.getvalue()


def documents_of(version: PlanVersion) -> list[PlanDocument]:
    """The stored documents of a version, in the order of the pack (patient, GP, pharmacy)."""
    stored_documents = db.session.scalars(select(PlanDocument).where(PlanDocument.plan_version_id == version.id))
    return sorted(stored_documents, key=lambda document: KINDS.index(document.kind))


def _store(by: User | None, plan: Plan, version: PlanVersion, rendered: dict[str, bytes]) -> list[PlanDocument]:
    documents = [PlanDocument(plan_version_id=version.id, kind=kind, template_version=TEMPLATE_VERSIONS[kind],
                              sha256=hashlib.sha256(pdf).hexdigest(), pdf=pdf) for kind, pdf in rendered.items()]
    db.session.add_all(documents)
    db.session.flush()
    audit.record(action="create", by=by, entity_type="plan_documents", entity_id=version.id,
                 patient_id=plan.patient_id, changes={document.kind: document.sha256 for document in documents})
    return documents


def _agreed_pain_relief(plan_id: int) -> str:
    """What the latest shared decision says the patient can take for pain instead ("" if nothing recorded)."""
    latest = db.session.scalar(select(SharedDecision).where(SharedDecision.plan_id == plan_id)
                               .order_by(SharedDecision.id.desc()).limit(1))
    return latest.pain_relief if latest else ""


def _risk(patient_id: int) -> str:
    latest = db.session.scalar(select(RecordedRiskAssessment).where(RecordedRiskAssessment.patient_id == patient_id)
                               .order_by(RecordedRiskAssessment.id.desc()).limit(1))
    return SupportLevel(latest.chosen_level).label if latest else "No risk assessment recorded yet."
