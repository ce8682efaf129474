"""A GP practice's view of its patients' plans: the inbox of new and revised plan letters (read, then
acknowledged, and the clinic sees by whom and when), each letter's own page, and each patient's plan as the
letters give it.

A revision issues a new letter that replaces the plan's earlier ones. Which letter is current is derived from
the versions (the plan's newest version with a letter), never stored: only the current letter needs
acknowledging, and a replaced one cannot be acknowledged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, load_only, selectinload

from taper import clock
from taper.domain.dispensing import instalments
from taper.domain.formulary import load_formulary
from taper.domain.organisations import Role
from taper.domain.plan_diff import revision_in_words
from taper.domain.schedule_contract import schedule_from_document
from taper.extensions import db
from taper.models import LetterReceipt, Patient, Plan, PlanDocument, PlanVersion, User
from taper.services import audit, sharing
from taper.services.common import flush_or_stale
from taper.services.errors import InvalidInput, NotFound, PermissionDenied
from taper.services.paging import Page, page_of

LETTERS_PER_PAGE = 50
FILTERS = ("all", "to_acknowledge")  # the inbox's filters: every letter, or the current letters not yet acknowledged


class LetterReplaced(InvalidInput):
    """A letter a revision has replaced: the practice acknowledges the current one instead."""

    def __init__(self, newest_version: int, current_document_id: int):
        super().__init__({"letter": f"This letter was replaced by version {newest_version} of the plan. "
                                    f"Acknowledge the letter for version {newest_version} instead."})
        self.newest_version, self.current_document_id = newest_version, current_document_id


@dataclass(frozen=True)
class Letter:
    document: PlanDocument
    version: PlanVersion
    plan: Plan
    patient: Patient
    receipt: LetterReceipt | None
    newest_version: int  # the plan's newest version with a letter: this letter's own when it is current

    @property
    def replaced_by(self) -> int | None:
        """The version whose letter replaces this one (None: this is the plan's current letter)."""
        return self.newest_version if self.newest_version > self.version.number else None

    @property
    def acknowledged(self) -> bool:
        return self.receipt is not None and self.receipt.acknowledged_at is not None

    @property
    def needs_acknowledging(self) -> bool:
        return self.replaced_by is None and not self.acknowledged

    @property
    def state(self) -> str:
        if self.replaced_by is not None:
            return f"Replaced by version {self.replaced_by}"
        if self.receipt is None:
            return "New"
        return "Acknowledged" if self.acknowledged else "Read, not acknowledged"


@dataclass(frozen=True)
class Inbox:
    """A page of the inbox under a filter, and how many current letters still need acknowledging."""

    letters: Page[Letter]
    showing: str  # one of FILTERS
    to_acknowledge: int


@dataclass(frozen=True)
class LetterPage:
    """One letter, as its own page shows it: the letter, a summary of its plan version (daily doses in mg of
    oral morphine equivalent), what changed from the letter it replaced, and the current letter's id when a
    revision replaced it in turn."""

    letter: Letter
    current_document_id: int | None
    starts_on: date
    starting_ome_mg_per_day: int | float  # as the stored schedule document gives them (docs/schedule-api.md)
    final_ome_mg_per_day: int | float  # 0 when the plan stops the opioids
    final_step_on: date  # the day the last step starts (when the plan stops the opioids: the first day without)
    changes: list[str]

    @property
    def last_dose_on(self) -> date:
        """When the plan stops the opioids: the day of the last dose, the day before the last step."""
        return self.final_step_on - timedelta(days=1)


@dataclass(frozen=True)
class PatientPlan:
    patient: Patient
    plan: Plan
    versions: list[tuple[PlanVersion, Letter | None]]  # newest first
    prescription_dates: list[date]  # from today on
    patient_plan: PlanDocument | None  # the current version's plan as the patient has it


def inbox(*, by: User, page: int, showing: str = "all") -> Inbox:
    """A page of the plan letters for the practice's patients, newest first, with whether each was read and
    acknowledged or replaced by a revision's letter; `showing` "to_acknowledge" keeps only the current letters not
    yet acknowledged. A count, the page's letters (never their PDFs), who acknowledged them and the number still
    to acknowledge, whatever the number of patients, plans and letters. The look is audited with the page, the
    filter and how many letters it showed."""
    _require_gp(by)
    if showing not in FILTERS:
        raise InvalidInput({"show": "Show all letters or the letters to acknowledge"})
    newest = _newest_letters(by)
    query: Select[*tuple[Any, ...]] = (
        select(PlanDocument, PlanVersion, Plan, Patient, LetterReceipt, newest.c.number)
        .join(PlanVersion, PlanVersion.id == PlanDocument.plan_version_id)
        .join(Plan, Plan.id == PlanVersion.plan_id)
        .join(Patient, Patient.id == Plan.patient_id)
        .join(newest, newest.c.plan_id == Plan.id)
        .outerjoin(LetterReceipt, and_(LetterReceipt.plan_document_id == PlanDocument.id,
                                       LetterReceipt.organisation_id == by.organisation_id))
        .where(PlanDocument.kind == "gp_letter", sharing.shared_with(by))
        .order_by(PlanDocument.created_at.desc(), PlanDocument.id.desc())
        .options(defer(PlanDocument.pdf), load_only(PlanVersion.plan_id, PlanVersion.number),
                 selectinload(LetterReceipt.acknowledged_by)))
    to_acknowledge = query.where(_needs_acknowledging(newest))
    letters = page_of(to_acknowledge if showing == "to_acknowledge" else query, number=page,
                      per_page=LETTERS_PER_PAGE, read=_letters)
    waiting = letters.total if showing == "to_acknowledge" else db.session.scalar(
        select(func.count()).select_from(to_acknowledge.order_by(None).subquery())) or 0
    audit.record(action="view", by=by, entity_type="letter_inbox", entity_id=by.organisation_id,
                 changes={"letters": len(letters.items), "page": page,
                          **({"showing": showing} if showing != "all" else {})})
    return Inbox(letters=letters, showing=showing, to_acknowledge=waiting)


def letter(*, by: User, document_id: int) -> LetterPage:
    """One letter's page: what it is about, whether it was read, acknowledged (by whom, when) or replaced, and
    the current letter when replaced. Opening it is audited as a view, and the practice's first opening of the
    letter (here or as the PDF) is recorded as read."""
    _require_gp(by)
    document, plan, version = sharing.shared_document(by, document_id)
    if document.kind != "gp_letter":
        raise NotFound("no such letter")
    receipt = _record_read(by, document.id)
    patient = db.session.get(Patient, plan.patient_id)
    assert patient is not None
    letters = _letter_ids(plan)  # version number: letter id, oldest first
    newest_version = max(letters)
    earlier = [number for number in letters if number < version.number]
    previous = next((each for each in plan.versions if earlier and each.number == earlier[-1]), None)
    steps = version.schedule["steps"]
    return LetterPage(
        letter=Letter(document=document, version=version, plan=plan, patient=patient, receipt=receipt,
                      newest_version=newest_version),
        current_document_id=letters[newest_version] if newest_version > version.number else None,
        starts_on=date.fromisoformat(steps[0]["starts_on"]),
        starting_ome_mg_per_day=version.schedule["starting_ome_mg_per_day"],
        final_ome_mg_per_day=steps[-1]["ome_mg_per_day"] if steps[-1]["lines"] else 0,
        final_step_on=date.fromisoformat(steps[-1]["starts_on"]),
        changes=revision_in_words(previous.schedule, version.schedule) if previous else [])


def open_letter(*, by: User, document_id: int) -> PlanDocument:
    """The letter's PDF; the practice's first opening is recorded as read (audited as a view every time)."""
    _require_gp(by)
    document, _, _ = sharing.shared_document(by, document_id)
    if document.kind == "gp_letter":
        _record_read(by, document.id)
    return document


def acknowledge(*, by: User, document_id: int) -> LetterReceipt:
    """The practice has taken the letter in: recorded with who and when, once. Only the plan's current letter is
    acknowledged: a letter a revision replaced is refused (LetterReplaced names the current one)."""
    _require_gp(by)
    document, plan, version = sharing.shared_document(by, document_id)
    if document.kind != "gp_letter":
        raise InvalidInput({"letter": "Only a letter to the GP is acknowledged"})
    letters = _letter_ids(plan)
    newest_version = max(letters)
    if newest_version > version.number:
        raise LetterReplaced(newest_version, letters[newest_version])
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


def _newest_letters(by: User) -> Subquery:
    """SQL: for each plan shared with the user's practice, the number of its newest version with a letter."""
    shared = select(Plan.id).join(Patient, Patient.id == Plan.patient_id).where(sharing.shared_with(by))
    return (select(PlanVersion.plan_id, func.max(PlanVersion.number).label("number"))
            .join(PlanDocument, and_(PlanDocument.plan_version_id == PlanVersion.id, PlanDocument.kind == "gp_letter"))
            .where(PlanVersion.plan_id.in_(shared)).group_by(PlanVersion.plan_id).subquery())


def _needs_acknowledging(newest: Subquery) -> ColumnElement[bool]:
    """SQL: the letter (in the inbox query) is its plan's current one and the practice has not acknowledged it."""
    return and_(PlanVersion.number == newest.c.number,
                or_(LetterReceipt.id.is_(None), LetterReceipt.acknowledged_at.is_(None)))


def _letter_ids(plan: Plan) -> dict[int, int]:
    """The plan's letters to the GP: version number to letter id, oldest first (one query)."""
    return {number: document_id for number, document_id in db.session.execute(
        select(PlanVersion.number, PlanDocument.id).join(PlanDocument, PlanDocument.plan_version_id == PlanVersion.id)
        .where(PlanVersion.plan_id == plan.id, PlanDocument.kind == "gp_letter").order_by(PlanVersion.number))}


def _record_read(by: User, document_id: int) -> LetterReceipt | None:
    """The practice's receipt of the letter, made on its first opening (a colleague opening it at the same moment
    may record it first)."""
    receipt = _receipt(by, document_id)
    if receipt is None:
        try:
            with db.session.begin_nested():
                db.session.add(LetterReceipt(plan_document_id=document_id, organisation_id=by.organisation_id,
                                             read_by_id=by.id))
        except IntegrityError:
            pass
        receipt = _receipt(by, document_id)
    return receipt


def _letters(query: Select[Any]) -> list[Letter]:
    return [Letter(document=document, version=version, plan=plan, patient=patient, receipt=receipt,
                   newest_version=newest_version)
            for document, version, plan, patient, receipt, newest_version in db.session.execute(query)]


def _letters_of(by: User, plan: Plan, patient: Patient) -> dict[int, Letter]:
    """The letter to the GP of each of the plan's versions, by version id, with this practice's receipt."""
    versions = {version.id: version for version in plan.versions}
    found = db.session.execute(
        select(PlanDocument, LetterReceipt).outerjoin(LetterReceipt, and_(
            LetterReceipt.plan_document_id == PlanDocument.id, LetterReceipt.organisation_id == by.organisation_id))
        .where(PlanDocument.plan_version_id.in_(versions), PlanDocument.kind == "gp_letter")
        .options(defer(PlanDocument.pdf))).all()
    newest_version = max((versions[document.plan_version_id].number for document, _ in found), default=0)
    return {document.plan_version_id: Letter(document=document, version=versions[document.plan_version_id],
                                             plan=plan, patient=patient, receipt=receipt,
                                             newest_version=newest_version)
            for document, receipt in found}


def _receipt(by: User, document_id: int) -> LetterReceipt | None:
    return db.session.scalar(select(LetterReceipt).where(LetterReceipt.plan_document_id == document_id,
                                                         LetterReceipt.organisation_id == by.organisation_id))


def _require_gp(by: User) -> None:
    if by.role is not Role.GP:
        raise PermissionDenied("only a GP has a practice inbox")
