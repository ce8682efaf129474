"""Appointments as iCalendar (RFC 5545), made with the `icalendar` package: a pharmacist's own calendar, and a
patient's appointments to give to the patient. A patient's events say who and where, never why."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar, Event
from sqlalchemy import select

from taper import clock
from taper.domain.booking import MODE_WORDS
from taper.extensions import db
from taper.models import Appointment, Patient, User
from taper.services import appointments, audit
from taper.services.patients import patient_in_scope

PAST_DAYS = 30  # the pharmacist's calendar also shows the last month, for reference


def pharmacist_calendar(*, by: User) -> bytes:
    """The pharmacist's proposed and confirmed appointments from a month ago on."""
    since = clock.now() - timedelta(days=PAST_DAYS)
    booked = db.session.scalars(select(Appointment).where(
        Appointment.pharmacist_id == by.id, Appointment.status.in_(appointments.HOLDING),
        Appointment.starts_at >= since).order_by(Appointment.starts_at))
    calendar = _calendar(f"Taper: {by.full_name}'s appointments")
    for appointment in booked:
        patient = appointment.patient
        calendar.add_component(_event(
            appointment, summary=f"{appointments.KIND_LABELS[appointment.kind]}: {patient.display_name} "
                                 f"({MODE_WORDS[appointment.mode]})",
            description=f"NHS number {patient.nhs_number_display}. "
                        + (f"Plan {appointment.plan_id}." if appointment.plan_id else "No plan yet.")))
    audit.record(action="view", by=by, entity_type="calendar", entity_id=by.id, changes={"calendar": "pharmacist"})
    return calendar.to_ical()


def patient_calendar(*, by: User, patient_id: int) -> bytes:
    """A patient's upcoming appointments, to send or give to them."""
    patient: Patient = patient_in_scope(by, patient_id)
    booked = db.session.scalars(select(Appointment).where(
        Appointment.patient_id == patient.id, Appointment.status.in_(appointments.HOLDING),
        Appointment.starts_at >= clock.now()).order_by(Appointment.starts_at))
    clinic = patient.clinic
    calendar = _calendar(f"Appointments with {clinic.name}")
    for appointment in booked:
        calendar.add_component(_event(
            appointment, summary=f"Appointment with {clinic.name} ({MODE_WORDS[appointment.mode]})",
            description=f"If you cannot come, call {clinic.phone}."))
    audit.record(action="view", by=by, entity_type="calendar", entity_id=patient.id, patient_id=patient.id,
                 changes={"calendar": "patient"})
    return calendar.to_ical()


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//Taper//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    return calendar


def _event(appointment: Appointment, *, summary: str, description: str) -> Event:
    event = Event()
    event.add("uid", f"appointment-{appointment.id}@taper")
    event.add("dtstamp", clock.now())
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    event.add("summary", summary)
    event.add("description", description)
    event.add("status", "CONFIRMED" if appointment.status == "confirmed" else "TENTATIVE")
    event.add("sequence", appointment.version)
    if appointment.location:
        event.add("location", appointment.location)
    return event
