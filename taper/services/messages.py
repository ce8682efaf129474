"""The outbox: messages are stored first (one per unique key), then delivered, retried after a failure, and
never sent twice, even when the process is killed half way (taper.messaging.delivery)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from taper import clock
from taper.extensions import db
from taper.messaging.delivery import Delivery, DeliveryFailed
from taper.models import Message, Organisation, Patient, User
from taper.services import audit
from taper.services.errors import InvalidInput, NotFound
from taper.services.patients import patient_in_scope

MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(minutes=5)  # doubled at each failure: 5, 10, 20, 40 minutes
SENDING_TIMEOUT = timedelta(minutes=10)  # a send that long unfinished was cut short


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


def to_organisation(organisation: Organisation) -> tuple[str, str]:
    """An organisation's email when it has one; otherwise the message waits in the app for its users."""
    return ("email", organisation.email) if organisation.email else ("app", "")


def deliver_due(delivery: Delivery, *, limit: int = 500) -> dict[str, int]:
    """Send what is due, committing after each message so that a crash loses or repeats nothing: a message is
    marked "sending" (committed) before it goes, and one found still "sending" later is checked with the
    provider before it is tried again."""
    counts = {"sent": 0, "failed": 0, "recovered": 0}
    now = clock.now()
    for message in db.session.scalars(select(Message).where(
            Message.status == "sending", Message.next_attempt_at <= now - SENDING_TIMEOUT)).all():
        counts["recovered"] += _recover(delivery, message)
    due = db.session.scalars(select(Message).where(
        Message.status.in_(("pending", "failed")), Message.attempts < MAX_ATTEMPTS,
        Message.next_attempt_at <= now).order_by(Message.id).limit(limit)).all()
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


def outbox(*, patient_ids: set[int] | None = None, organisation_id: int | None = None,
           limit: int = 200) -> list[Message]:
    query = select(Message).order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)
    if patient_ids is not None:
        query = query.where(Message.patient_id.in_(patient_ids))
    if organisation_id is not None:
        query = query.where(Message.organisation_id == organisation_id)
    return list(db.session.scalars(query))


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
