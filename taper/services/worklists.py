"""The clinic pharmacist's home page: who needs attention now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from taper import clock
from taper.domain.organisations import Role
from taper.domain.plans import PlanStatus
from taper.extensions import db
from taper.models import Appointment, Patient, Plan, RecordedRegimen, User, WorklistItem
from taper.services import appointments, audit
from taper.services.errors import NotFound, PermissionDenied
from taper.services.patients import patient_in_scope

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class StepChange:
    patient: Patient
    plan: Plan
    starts_on: date
    ome_mg_per_day: float


@dataclass(frozen=True)
class HighDose:
    patient: Patient
    ome_mg_per_day: Decimal


@dataclass(frozen=True)
class Home:
    running: list[tuple[Patient, Plan]]
    step_changes: list[StepChange]
    needs_review: list[WorklistItem]  # overdue or missed reviews (the overdue-reviews job and missed appointments)
    completion_reviews: list[WorklistItem]
    pharmacy_concerns: list[WorklistItem]
    todays_appointments: list[Appointment]
    high_dose_without_plan: list[HighDose]


def clinic_home(*, by: User) -> Home:
    """For the pharmacist's clinic: running plans, steps changing in the next seven days, the worklist (overdue
    and missed reviews, plans at their last step), the pharmacist's appointments today, and patients above the
    high-dose threshold with no running plan."""
    if by.role is not Role.PHARMACIST or by.organisation_id is None:
        raise PermissionDenied("only a clinic pharmacist has a clinic home page")
    today = clock.today()
    running = [(patient, plan) for patient, plan in db.session.execute(
        select(Patient, Plan).join(Plan, Plan.patient_id == Patient.id)
        .where(Patient.clinic_id == by.organisation_id, Plan.status.in_([PlanStatus.ACTIVE, PlanStatus.PAUSED]))
        .order_by(Patient.family_name, Patient.given_name))]
    step_changes = []
    for patient, plan in running:
        for step in plan.current.schedule["steps"]:
            starts_on = date.fromisoformat(step["starts_on"])
            if today <= starts_on < today + WEEK and plan.status is PlanStatus.ACTIVE:
                step_changes.append(StepChange(patient, plan, starts_on, step["ome_mg_per_day"]))
    open_items = list(db.session.scalars(select(WorklistItem).where(
        WorklistItem.clinic_id == by.organisation_id, WorklistItem.resolved_at.is_(None))
        .order_by(WorklistItem.created_at, WorklistItem.id)))
    with_running = {patient.id for patient, _ in running}
    return Home(running=running, step_changes=sorted(step_changes, key=lambda change: change.starts_on),
                needs_review=[item for item in open_items if item.kind in ("overdue", "did_not_attend")],
                completion_reviews=[item for item in open_items if item.kind == "completion_review"],
                pharmacy_concerns=[item for item in open_items if item.kind == "pharmacy_concern"],
                todays_appointments=appointments.day_list(by=by, day=today),
                high_dose_without_plan=_high_dose(by, with_running))


def resolve(*, by: User, item_id: int) -> WorklistItem:
    """A pharmacist has dealt with a worklist item."""
    item = db.session.get(WorklistItem, item_id)
    if item is None:
        raise NotFound("no such worklist item")
    patient_in_scope(by, item.patient_id)  # another clinic's: not found, and audited
    if item.resolved_at is None:
        item.resolved_at = clock.now()
        audit.record(action="update", by=by, entity_type="worklist_item", entity_id=item.id,
                     patient_id=item.patient_id, changes={"resolved": item.kind})
    return item


def _high_dose(by: User, with_running: set[int]) -> list[HighDose]:
    """Patients whose latest recorded regimen is above the clinic's threshold and who have no running plan."""
    latest: dict[int, tuple[Patient, RecordedRegimen]] = {}
    rows = db.session.execute(select(Patient, RecordedRegimen).join(RecordedRegimen,
                                                                    Patient.id == RecordedRegimen.patient_id)
                              .where(Patient.clinic_id == by.organisation_id)
                              .order_by(RecordedRegimen.recorded_on, RecordedRegimen.id)).all()
    for patient, record in rows:
        latest[patient.id] = (patient, record)
    found = []
    for patient, record in latest.values():
        if patient.id in with_running or record.total_ome_mg_per_day is None:
            continue
        if record.total_ome_mg_per_day > record.high_dose_threshold_mg:
            found.append(HighDose(patient, record.total_ome_mg_per_day))
    return sorted(found, key=lambda entry: -entry.ome_mg_per_day)
