"""The clinic pharmacist's home page: who needs attention now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload

from taper import clock
from taper.domain.organisations import Role
from taper.domain.plans import PlanStatus
from taper.extensions import db
from taper.models import Appointment, Patient, Plan, PlanVersionStep, RecordedRegimen, User, WorklistItem
from taper.models.worklist import REVIEW_KINDS
from taper.services import appointments, audit, plan_steps, unique_rows
from taper.services.errors import InvalidInput, NotFound, PermissionDenied
from taper.services.paging import Page, entities, page_of
from taper.services.patients import patient_in_scope

WEEK = timedelta(days=7)
RUNNING = (PlanStatus.ACTIVE, PlanStatus.PAUSED)


@dataclass(frozen=True)
class StepChange:
    patient: Patient
    plan_id: int
    plan_number: int
    starts_on: date
    ome_mg_per_day: Decimal


@dataclass(frozen=True)
class HighDose:
    patient: Patient
    ome_mg_per_day: Decimal


@dataclass(frozen=True)
class Home:
    running: Page[Plan]  # the clinic's running plans, each with its patient, by the patient's name
    step_changes: list[StepChange]
    needs_review: list[WorklistItem]  # overdue or missed reviews (the overdue-reviews job and missed appointments)
    completion_reviews: list[WorklistItem]
    pharmacy_concerns: list[WorklistItem]
    todays_appointments: list[Appointment]
    high_dose_without_plan: list[HighDose]


def clinic_home(*, by: User, page: int = 1, per_page: int = 50) -> Home:
    """For the pharmacist's clinic: running plans (page `page`, `per_page` to a page), steps changing in the
    next seven days, the worklist (overdue and missed reviews, plans at their last step, pharmacies' concerns),
    the pharmacist's appointments today, and patients above the high-dose threshold with no running plan. A
    fixed number of queries, however many patients and plans."""
    if by.role is not Role.PHARMACIST or by.organisation_id is None:
        raise PermissionDenied("only a clinic pharmacist has a clinic home page")
    clinic_id, today = by.organisation_id, clock.today()
    open_items = list(db.session.scalars(
        select(WorklistItem).options(joinedload(WorklistItem.patient), joinedload(WorklistItem.plan))
        .where(WorklistItem.clinic_id == clinic_id, WorklistItem.resolved_at.is_(None))
        .order_by(WorklistItem.created_at, WorklistItem.id)))
    return Home(running=_running(clinic_id, page, per_page), step_changes=_step_changes(clinic_id, today),
                needs_review=[item for item in open_items if item.kind in REVIEW_KINDS],
                completion_reviews=[item for item in open_items if item.kind == "completion_review"],
                pharmacy_concerns=[item for item in open_items if item.kind == "pharmacy_concern"],
                todays_appointments=appointments.day_list(by=by, day=today),
                high_dose_without_plan=_high_dose(clinic_id))


@dataclass(frozen=True)
class NewItem:
    """A patient to put on their clinic's worklist, under a unique key (so a job adds each item once)."""

    key: str
    kind: str  # overdue, did_not_attend, completion_review, pharmacy_concern
    clinic_id: int
    patient_id: int
    plan_id: int
    detail: str


def add_new(items: Sequence[NewItem]) -> int:
    """Put many patients on their clinics' worklists in a few statements, skipping keys already there (added
    earlier, or by a concurrent run); how many were added."""
    return unique_rows.insert_new(WorklistItem, [asdict(item) for item in items])


def resolve(*, by: User, item_id: int) -> WorklistItem:
    """A pharmacist has dealt with a worklist item (a pharmacy's concern is closed on its own page, with a note
    for the pharmacy)."""
    item = db.session.get(WorklistItem, item_id)
    if item is None:
        raise NotFound("no such worklist item")
    patient_in_scope(by, item.patient_id)  # another clinic's: not found, and audited
    if item.kind == "pharmacy_concern":
        raise InvalidInput({"note": "Close a pharmacy's concern on its page, with a note for the pharmacy"})
    if item.resolved_at is None:
        item.resolved_at = clock.now()
        audit.record(action="update", by=by, entity_type="worklist_item", entity_id=item.id,
                     patient_id=item.patient_id, changes={"resolved": item.kind})
    return item


def set_concern_open(*, concern_id: int, is_open: bool) -> None:
    """A concern closed leaves the worklist; reopened, it comes back (its item, kept under its key)."""
    item = db.session.scalar(select(WorklistItem).where(WorklistItem.key == concern_item_key(concern_id)))
    if item is not None:
        item.resolved_at = None if is_open else clock.now()


def concern_item_key(concern_id: int) -> str:
    return f"pharmacy_concern:{concern_id}"


def _running(clinic_id: int, page: int, per_page: int) -> Page[Plan]:
    return page_of(select(Plan).join(Plan.patient).options(contains_eager(Plan.patient))
                   .where(Patient.clinic_id == clinic_id, Plan.status.in_(RUNNING))
                   .order_by(Patient.family_name, Patient.given_name, Plan.id),
                   number=page, per_page=per_page, read=entities)


def _step_changes(clinic_id: int, today: date) -> list[StepChange]:
    """Steps of active plans' current versions starting from today to six days on, earliest first."""
    rows = db.session.execute(plan_steps.with_current_steps(
        select(Patient, Plan.id, Plan.number, PlanVersionStep.starts_on, PlanVersionStep.ome_mg_per_day)
        .select_from(Plan).join(Plan.patient))
        .where(Patient.clinic_id == clinic_id, Plan.status == PlanStatus.ACTIVE,
               PlanVersionStep.starts_on >= today, PlanVersionStep.starts_on < today + WEEK)
        .order_by(PlanVersionStep.starts_on, Patient.family_name, Patient.given_name, Plan.id))
    return [StepChange(*row) for row in rows]


def _high_dose(clinic_id: int) -> list[HighDose]:
    """Patients whose latest recorded regimen is above its high-dose threshold and who have no running plan,
    highest dose first."""
    latest = (select(RecordedRegimen.id).where(RecordedRegimen.patient_id == Patient.id)
              .order_by(RecordedRegimen.recorded_on.desc(), RecordedRegimen.id.desc()).limit(1)
              .correlate(Patient).scalar_subquery())
    running = select(Plan.id).where(Plan.patient_id == Patient.id, Plan.status.in_(RUNNING)).exists()
    rows = db.session.execute(select(Patient, RecordedRegimen.total_ome_mg_per_day)
                              .join(RecordedRegimen, RecordedRegimen.id == latest)
                              .where(Patient.clinic_id == clinic_id, ~running,
                                     RecordedRegimen.total_ome_mg_per_day >= RecordedRegimen.high_dose_threshold_mg)
                              .order_by(RecordedRegimen.total_ome_mg_per_day.desc(), Patient.id))
    return [HighDose(patient, ome) for patient, ome in rows if ome is not None]  # (the query returns no NULL)
