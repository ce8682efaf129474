"""The outbox: messages are stored first (one per unique key), then delivered, retried after a failure, and
never sent twice, even when the process is killed half way (taper.messaging.delivery). Messages to patients go
out only in their daytime hours (TAPER_PATIENT_MESSAGE_HOURS); those to pharmacies and practices at any time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from taper import clock
from taper.clock import CLINIC_TIMEZONE
from taper.domain.booking import appointment_message, plan_appointments_message
from taper.extensions import db
from taper.messaging.delivery import Delivery, DeliveryFailed
from taper.models import Appointment, Message, Organisation, Patient, Plan, User
from taper.services import audit
from taper.services.errors import InvalidInput, NotFound
from taper.services.paging import Page, entities, page_of
from taper.services.patients import caseload_of, patient_in_scope

MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(minutes=5)  # doubled at each failure: 5, 10, 20, 40 minutes
SENDING_TIMEOUT = timedelta(minutes=10)  # a send that long unfinished was cut short
# Kinds whose words are about the day after they were written ("your next step starts tomorrow"): a patient gets
# one on the day it was written or not at all, never the next morning, when "tomorrow" would be wrong.
FOR_THE_NEXT_DAY = frozenset({"step_tomorrow"})
TOO_LATE = ("Not sent: it says the next step starts tomorrow, and it could not be sent on the day it was written "
            "(patients get messages only from {opens} to {closes}). The patient's plan has the dates.")


@dataclass(frozen=True)
class Outgoing:
    key: str
    kind: str
    channel: str
    to: str
    body: str
    subject: str = ""
    patient_id: int | None = None
    organisation_id: int | None = None


def queue(outgoing: Outgoing) -> bool:
    """Store a message unless one with its key exists; True if stored. Safe to call twice, or concurrently."""
    if db.session.scalar(select(Message.id).where(Message.key == outgoing.key)) is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(Message(key=outgoing.key, kind=outgoing.kind, channel=outgoing.channel, to=outgoing.to,
                                   subject=outgoing.subject, body=outgoing.body, patient_id=outgoing.patient_id,
                                   organisation_id=outgoing.organisation_id, next_attempt_at=clock.now()))
    except IntegrityError:
        return False
    return True


def to_patient(patient: Patient) -> tuple[str, str] | None:
    """(channel, address) as the patient agreed to be contacted, or None (no consent, or no address)."""
    address = {"sms": patient.mobile_phone, "email": patient.email, "letter": patient.postal_address}.get(
        patient.contact_by, "")
    return (patient.contact_by, address) if address.strip() else None


def tell_patient_about(appointment: Appointment, *, change: str, when: str) -> bool:
    """Queue a message telling the patient their appointment was booked, moved or cancelled (`change`), by the
    channel they chose; nothing if they chose none. Keyed by the appointment's version, so the same change is
    never told twice; True if a message was queued."""
    patient = appointment.patient
    contact = to_patient(patient)
    if contact is None:
        return False
    clinic = patient.clinic
    subject, body = appointment_message(change=change, when=when, mode=appointment.mode,
                                        location=appointment.location, length_minutes=appointment.length_minutes,
                                        clinic_name=clinic.name, clinic_phone=clinic.phone)
    return queue(Outgoing(key=f"appointment-{appointment.id}:{change}:v{appointment.version}",
                          kind=f"appointment_{change}", channel=contact[0], to=contact[1], subject=subject,
                          body=body, patient_id=patient.id))


def tell_patient_about_plan(plan: Plan, *, key: str, booked: list[str], cancelled: list[str]) -> bool:
    """Queue one message telling the patient the appointments booked and cancelled for their plan (`key` names
    the change, so the same change is never told twice); nothing when there is nothing to tell or no way to."""
    contact = to_patient(plan.patient)
    if contact is None or not (booked or cancelled):
        return False
    clinic = plan.patient.clinic
    subject, body = plan_appointments_message(booked=booked, cancelled=cancelled, clinic_name=clinic.name,
                                              clinic_phone=clinic.phone)
    return queue(Outgoing(key=f"plan-{plan.id}:{key}", kind="plan_appointments", channel=contact[0], to=contact[1],
                          subject=subject, body=body, patient_id=plan.patient_id))


def to_organisation(organisation: Organisation) -> tuple[str, str]:
    """An organisation's email when it has one; otherwise the message waits in the app for its users."""
    return ("email", organisation.email) if organisation.email else ("app", "")


def in_patient_hours(at: datetime, hours: tuple[time, time]) -> bool:
    """Whether `at` falls in `hours` (opens, closes: times of day in England, the closing time excluded)."""
    opens, closes = hours
    return opens <= at.astimezone(CLINIC_TIMEZONE).time() < closes


def deliver_due(delivery: Delivery, *, patient_hours: tuple[time, time], limit: int = 500) -> dict[str, int]:
    """Send what is due, committing after each message so that a crash loses or repeats nothing: a message is
    marked "sending" (committed) before it goes, and one found still "sending" later is checked with the
    provider before it is tried again. Messages to patients wait until `patient_hours` (opens, closes, in
    England) and then go out; a patient's message about "tomorrow" that missed its day is not sent (TOO_LATE)."""
    counts = {"sent": 0, "failed": 0, "recovered": 0}
    now = clock.now()
    for message in db.session.scalars(select(Message).where(
            Message.status == "sending", Message.next_attempt_at <= now - SENDING_TIMEOUT)).all():
        counts["recovered"] += _recover(delivery, message)
    counts["too_late"] = _give_up_on_missed_days(patient_hours)
    query = select(Message).where(
        Message.status.in_(("pending", "failed")), Message.attempts < MAX_ATTEMPTS,
        Message.next_attempt_at <= now).order_by(Message.id).limit(limit)
    if not in_patient_hours(now, patient_hours):
        query = query.where(Message.organisation_id.is_not(None))  # staff's messages only: patients' wait
    due = db.session.scalars(query).all()
    for message in due:
        # Claim the message (only one process sends it, even if a job is run by hand beside the scheduler).
        claimed = db.session.execute(update(Message).where(
            Message.id == message.id, Message.status.in_(("pending", "failed"))).values(
            status="sending", attempts=Message.attempts + 1, next_attempt_at=clock.now()))
        db.session.commit()
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        db.session.refresh(message)
        try:
            provider_id = "" if message.channel == "app" else delivery.deliver(message)  # app: read in Taper
        except DeliveryFailed as failure:
            message.status, message.last_error = "failed", str(failure)
            if failure.permanent:
                message.attempts = MAX_ATTEMPTS  # a retry would fail the same way: a person must look
            message.next_attempt_at = clock.now() + FIRST_RETRY * 2 ** (message.attempts - 1)
            counts["failed"] += 1
        else:
            message.status, message.provider_id, message.sent_at, message.last_error = (
                "sent", provider_id, clock.now(), "")
            counts["sent"] += 1
        db.session.commit()
    return counts


def retry(*, by: User, message_id: int) -> Message:
    """A clinic pharmacist asks for a failed message about one of their patients to be tried again now (for
    example after correcting an address)."""
    message = db.session.get(Message, message_id)
    if message is None or message.patient_id is None:
        raise NotFound("no such message")
    patient = patient_in_scope(by, message.patient_id)  # another clinic's: not found, and audited
    if message.status != "failed":
        raise InvalidInput({"message": "Only a failed message is sent again"})
    if message.organisation_id is None and _missed_its_day(message):
        raise InvalidInput({"message": "This reminder was about a step that has now started, so it is not sent "
                                       "again"})
    if message.organisation_id is not None:
        organisation = db.session.get(Organisation, message.organisation_id)
        assert organisation is not None
        message.channel, message.to = to_organisation(organisation)
    else:
        contact = to_patient(patient)  # as the record says now: a corrected number, or no more reminders
        if contact is None:
            raise InvalidInput({"message": "The patient no longer wants reminders this way: nothing is sent"})
        message.channel, message.to = contact
    message.status, message.attempts, message.next_attempt_at = "pending", 0, clock.now()
    audit.record(action="update", by=by, entity_type="message", entity_id=message.id, patient_id=message.patient_id,
                 changes={"retry": True})
    return message


def outbox(*, organisation_id: int, limit: int = 200) -> list[Message]:
    """The newest messages to an organisation."""
    return list(db.session.scalars(select(Message).where(Message.organisation_id == organisation_id)
                                   .order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)))


def clinic_outbox(*, by: User, page: int, per_page: int = 50) -> Page[Message]:
    """A page of the messages about the pharmacist's clinic's patients (to them or to their pharmacies), newest
    first."""
    query = (select(Message).join(Patient, Patient.id == Message.patient_id)
             .where(Patient.clinic_id == caseload_of(by))
             .order_by(Message.created_at.desc(), Message.id.desc()))
    return page_of(query, number=page, per_page=per_page, read=entities)


def _give_up_on_missed_days(patient_hours: tuple[time, time]) -> int:
    """Mark unsent patients' messages about "tomorrow" written before today as not sent, with the reason; how
    many."""
    opens, closes = patient_hours
    given_up = db.session.execute(update(Message).where(
        Message.organisation_id.is_(None), Message.kind.in_(FOR_THE_NEXT_DAY),
        Message.status.in_(("pending", "failed")), Message.attempts < MAX_ATTEMPTS,
        Message.created_at < _start_of_today()).values(
        status="failed", attempts=MAX_ATTEMPTS,
        last_error=TOO_LATE.format(opens=f"{opens:%H:%M}", closes=f"{closes:%H:%M}")))
    db.session.commit()
    return int(given_up.rowcount)  # type: ignore[attr-defined]


def _missed_its_day(message: Message) -> bool:
    return message.kind in FOR_THE_NEXT_DAY and message.created_at < _start_of_today()


def _start_of_today() -> datetime:
    return datetime.combine(clock.today(), time(0, 0), CLINIC_TIMEZONE)


def _recover(delivery: Delivery, message: Message) -> int:
    try:
        provider_id = delivery.already_sent(message)
    except DeliveryFailed:
        return 0  # ask again next time
    if provider_id is None:
        message.status = "pending"  # it never went: send it again
    else:
        message.status, message.provider_id, message.sent_at = "sent", provider_id, clock.now()
    db.session.commit()
    return 1
