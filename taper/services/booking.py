"""Booking by hand: the pharmacist picks a patient, the plan the appointment is for (the one named, else the
patient's running plan), one of the first free times in their sessions or another time (outside them only as a
confirmed extra session), and books an initial consultation, a review or an extra review; the patient is told.
This module owns booking by hand and the free times and upcoming appointments the booking and patient pages
show; the appointments themselves and the rules of time they share with proposed reviews and moves stay in
`appointments`, which does not import this module."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from taper import clock
from taper.domain.booking import KIND_LENGTHS_MINUTES, Slot, free_slots
from taper.domain.follow_up import Mode
from taper.domain.organisations import Role
from taper.domain.plans import PlanStatus
from taper.extensions import db
from taper.models import Appointment, Patient, Plan, User
from taper.models.booking import HOLDING
from taper.services import audit, capacity, invitations, messages
from taper.services.appointments import (
    KIND_LABELS,
    busy_between,
    closed_days,
    describe,
    flush_refusing_double_booking,
    place,
    when_in_words,
)
from taper.services.errors import InvalidInput, NotFound, PermissionDenied
from taper.services.patients import patient_in_scope

SLOTS_OFFERED = 6  # the first free slots a booking page offers
SLOTS_SEARCHED_DAYS = 42  # how far ahead it looks for them


def book(*, by: User, patient_id: int, plan_id: int | None, kind: str, starts_at: datetime, length_minutes: int,
         mode: Mode, extra_session: bool = False) -> Appointment:
    """Book an appointment with the pharmacist `by`: an initial consultation (with or without a plan), a
    review or an extra review (of a plan: the patient's running plan when none is named). The session rules of
    `move` apply: outside the pharmacist's sessions only as a confirmed extra session; the database refuses an
    overlap. The patient is told by the channel they chose."""
    if by.role is not Role.PHARMACIST:
        raise PermissionDenied("only a clinic pharmacist books appointments")
    patient = patient_in_scope(by, patient_id)
    errors = {}
    if kind not in KIND_LENGTHS_MINUTES:
        errors["kind"] = "Choose the kind of appointment"
    elif length_minutes not in KIND_LENGTHS_MINUTES[kind]:
        errors["length_minutes"] = (f"{KIND_LABELS[kind]}: choose "
                                    f"{' or '.join(map(str, sorted(KIND_LENGTHS_MINUTES[kind])))} minutes")
    plan = _plan_for(patient, plan_id, kind, errors)
    if starts_at < clock.now():
        errors["starts_at"] = "Choose a time in the future"
    if errors:
        raise InvalidInput(errors)
    ends_at = starts_at + timedelta(minutes=length_minutes)
    why, location = place(by.id, starts_at, ends_at, mode, extra_session)
    appointment = Appointment(plan_id=plan.id if plan else None, patient_id=patient.id, pharmacist_id=by.id,
                              kind=kind, starts_at=starts_at, ends_at=ends_at, length_minutes=length_minutes,
                              mode=mode.value, location=location or "", extra_session=bool(why),
                              status="confirmed")
    db.session.add(appointment)
    flush_refusing_double_booking()
    audit.record(action="create", by=by, entity_type="appointment", entity_id=appointment.id, patient_id=patient.id,
                 changes={"booked": describe(appointment), "kind": kind, "plan_id": appointment.plan_id,
                          "extra_session": why or ""})
    messages.tell_patient_about(appointment, change="booked", when=when_in_words(appointment))
    invitations.link_first_consultation(by=by, appointment=appointment)  # an accepted invitation's first one
    return appointment


def free_times(*, by: User, length_minutes: int, mode: Mode, from_day: date,
               count: int = SLOTS_OFFERED) -> list[Slot]:
    """The first `count` free slots of that length and mode in the pharmacist's sessions from `from_day` (and
    from now), on working days that are not bank holidays or their leave, within SLOTS_SEARCHED_DAYS; each
    starting when the one before ends, so that they are real choices (9am, 9:20am, ... for 20 minutes)."""
    first, now = max(from_day, clock.today()), clock.now()
    last = first + timedelta(days=SLOTS_SEARCHED_DAYS)
    offered: list[Slot] = []
    for slot in free_slots(sessions=capacity.sessions_of(by.id), closed=closed_days(by.id, first, last),
                           busy=busy_between(by.id, first, last), length_minutes=length_minutes, mode=mode,
                           window=(first, last), not_before=now):
        if len(offered) == count:
            break
        if not offered or slot.starts >= offered[-1].ends:
            offered.append(slot)
    return offered


def upcoming_of_patient(*, by: User, patient_id: int) -> list[Appointment]:
    """A patient's proposed and confirmed appointments from now on, earliest first (for their page)."""
    patient_in_scope(by, patient_id)
    return list(db.session.scalars(select(Appointment).where(
        Appointment.patient_id == patient_id, Appointment.status.in_(HOLDING), Appointment.starts_at >= clock.now())
        .order_by(Appointment.starts_at)))


def plan_for_booking(*, by: User, patient_id: int, plan_id: int | None) -> Plan | None:
    """The plan a new appointment of the patient would be for: the one named, else their running plan."""
    return _plan_for(patient_in_scope(by, patient_id), plan_id, "initial", {})


def _plan_for(patient: Patient, plan_id: int | None, kind: str, errors: dict[str, str]) -> Plan | None:
    """The plan an appointment is for: the one named (it must be the patient's), else the patient's running
    plan for a review; an initial consultation may have none."""
    if plan_id is not None:
        plan = db.session.get(Plan, plan_id)
        if plan is None or plan.patient_id != patient.id or plan.deleted_at is not None:
            raise NotFound("no such plan")
        if kind != "initial" and not plan.status.is_running:
            errors["kind"] = (f"A review is of a running plan, and this plan is {plan.status.label.lower()}: "
                              "book an initial consultation, or a review once the plan has started")
        return plan
    running = db.session.scalar(select(Plan).where(Plan.patient_id == patient.id, Plan.status.in_(
        [status for status in PlanStatus if status.is_running])).order_by(Plan.id.desc()).limit(1))
    if running is None and kind != "initial":
        errors["kind"] = ("A review is of a running plan, and this patient has none: book an initial "
                          "consultation")
    return running
