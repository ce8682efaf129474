"""Invitations (issue 18, item 4): patients chosen on the find worklist invited to the clinic in their GP
practice's name, by letter and/or text; the letters of one sending rendered together as one PDF to print; each
patient's answer, and the first consultation booked from an acceptance.

- A patient with neither a postal address nor a mobile number gets an invitation marked "needs contact details":
  nothing is sent, and the list shows it, so that the practice can be asked for them.
- A patient who was sent an invitation in the last REINVITE_DAYS and has not answered is not invited again unless
  the pharmacist says so: two letters a few days apart read as pressure, and the first may still be on its way.
- Texts go through the outbox (taper.services.messages), one per invitation (keyed by its id), delivered in the
  patient's daytime hours by the scheduler through GOV.UK Notify or the log.
- A batch of letters is made by one run at a time: a run claims it (`claim_rendering`, a conditional UPDATE on
  its status and `progress_at`), and moves `progress_at` on with each letter; a batch with no progress for
  STALLED_AFTER was stopped (a restart of the server) and may be claimed again. Finishing and failing are audited.
- Nothing here names a medicine or a dose (taper.documents.invitation_letters says what the letter says).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.orm import selectinload

from taper import clock
from taper.documents import invitation_letters, workers
from taper.documents.invitation_letters import InvitationLetter
from taper.domain.nhs_number import format_nhs_number
from taper.domain.organisations import Role
from taper.domain.wording import long_date
from taper.extensions import db
from taper.models import Appointment, Message, Organisation, Patient, User
from taper.models.finding import ANSWERS, Invitation, InvitationBatch
from taper.services import audit, messages
from taper.services.common import check_version, flush_or_stale
from taper.services.errors import InvalidInput, NotFound, PermissionDenied, StaleEdit
from taper.services.paging import Page, entities, page_of
from taper.services.patients import caseload_of, patient_in_scope

REINVITE_DAYS = 28
PER_PAGE = 50
MAX_CHOSEN = 500  # patients invited in one sending: a batch of letters a practice can print and post in a day
ANSWER_LABELS = {"accepted": "Accepted", "declined": "Declined"}
# A batch "rendering" whose run wrote no progress for this long was stopped (a restart of the server): a letter
# takes a second or two, so a live run moves `progress_at` on far more often.
STALLED_AFTER = timedelta(seconds=60)


class Shown(StrEnum):
    """Which invitations the list shows."""

    ALL = "all"
    WAITING = "waiting"  # sent, no answer yet
    ACCEPTED = "accepted"
    DECLINED = "declined"
    NEEDS_CONTACT_DETAILS = "needs_contact_details"

    @property
    def label(self) -> str:
        return {"all": "All", "waiting": "Waiting for an answer", "accepted": "Accepted", "declined": "Declined",
                "needs_contact_details": "Needs contact details"}[self.value]


@dataclass(frozen=True)
class Candidate:
    """A chosen patient as the new invitations page shows them, with how they can be invited."""

    patient: Patient
    practice: Organisation
    has_address: bool
    has_mobile: bool
    latest: Invitation | None  # their latest invitation, if they had one
    waiting: bool  # sent an invitation in the last REINVITE_DAYS that is not answered

    @property
    def needs_contact_details(self) -> bool:
        return not (self.has_address or self.has_mobile)

    @property
    def practice_needs_details(self) -> bool:
        """The practice is known by its ODS code alone (added by an import): nothing goes out in its name."""
        return self.practice.details_needed


@dataclass(frozen=True)
class Choice:
    """How one patient is to be invited (neither, for a patient with no contact details: recorded only)."""

    patient_id: int
    by_letter: bool
    by_text: bool


@dataclass
class Claim:
    """One run's hold on a batch of letters: it holds the batch while the batch's `progress_at` still reads `at`
    (the run moves both on as it commits each letter; a carry-on that claims the batch writes its own)."""

    batch_id: int
    at: datetime


@dataclass(frozen=True)
class Sending:
    """What one sending made: an invitation for each patient, the batch of letters (if any), texts queued."""

    invitations: list[Invitation]
    batch: InvitationBatch | None
    texts_queued: int

    @property
    def needing_contact_details(self) -> list[Invitation]:
        return [invitation for invitation in self.invitations if invitation.needs_contact_details]


def candidates(*, by: User, patient_ids: Sequence[int]) -> list[Candidate]:
    """The chosen patients of the pharmacist's clinic (another clinic's: NotFound, audited), in the order given,
    each with their contact details, needs and latest invitation. Each is audited as a look at their record."""
    _pharmacist(by)
    if len(patient_ids) > MAX_CHOSEN:
        raise InvalidInput({"patient_id": f"Choose no more than {MAX_CHOSEN} patients at a time"})
    chosen = _patients(by, patient_ids)
    latest = _latest_invitations([patient.id for patient in chosen])
    since = clock.now() - timedelta(days=REINVITE_DAYS)
    found = []
    for patient in chosen:
        audit.record(action="view", by=by, entity_type="patient", entity_id=patient.id, patient_id=patient.id,
                     changes={"view": "invitation"})
        last = latest.get(patient.id)
        found.append(Candidate(patient=patient, practice=patient.gp_practice,
                               has_address=bool(patient.postal_address.strip()),
                               has_mobile=bool(patient.mobile_phone.strip()), latest=last,
                               waiting=last is not None and _waiting(last, since)))
    return found


def send(*, by: User, choices: Sequence[Choice], invite_again: bool = False) -> Sending:
    """Invite each chosen patient as chosen: one Invitation each; the letters in one InvitationBatch (claimed by
    `claim_rendering` and made by `render_batch`); each text queued in the outbox. A patient with no address and
    no mobile is recorded as needing contact details (nothing sent). Refused (InvalidInput, nothing saved): a
    letter without an address, a text without a mobile, a patient with contact details but no way chosen, a
    practice whose details are not complete, a clinic with no phone for patients to answer on, and a patient with
    an unanswered invitation from the last REINVITE_DAYS unless `invite_again`."""
    clinic = db.session.get(Organisation, _pharmacist(by))
    assert clinic is not None
    if not choices:
        raise InvalidInput({"patient_id": "Choose at least one patient to invite"})
    chosen = {each.patient_id: each for each in choices}
    found = candidates(by=by, patient_ids=list(chosen))
    errors = _refusals(found, chosen, invite_again)
    if not clinic.phone.strip() and any(each.by_letter or each.by_text for each in choices):
        errors.append(f"{clinic.name} has no phone number recorded, and an invitation asks patients to call it: "
                      "ask your Taper administrator to add it")
    if errors:
        raise InvalidInput({f"choice-{number}": error for number, error in enumerate(errors, start=1)})
    letters = [each for each in found if chosen[each.patient.id].by_letter]
    batch = None
    if letters:
        batch = InvitationBatch(clinic_id=clinic.id, created_by_id=by.id, status="rendering",
                                letters_total=len(letters), letters_done=0)
        db.session.add(batch)
        db.session.flush()
    invitations, texts = [], 0
    for candidate in found:
        choice, patient = chosen[candidate.patient.id], candidate.patient
        invitation = Invitation(
            clinic_id=clinic.id, patient_id=patient.id, gp_practice_id=patient.gp_practice_id,
            batch_id=batch.id if batch is not None and choice.by_letter else None, by_letter=choice.by_letter,
            by_text=choice.by_text, needs_contact_details=candidate.needs_contact_details,
            large_print=patient.large_print and choice.by_letter, easy_read=patient.easy_read and choice.by_letter,
            sent_by_id=by.id, sent_at=clock.now())
        db.session.add(invitation)
        db.session.flush()
        if choice.by_text:
            texts += _queue_text(invitation, patient, candidate.practice, clinic)
        audit.record(action="create", by=by, entity_type="invitation", entity_id=invitation.id,
                     patient_id=patient.id, changes={
                         "by_letter": invitation.by_letter, "by_text": invitation.by_text,
                         "needs_contact_details": invitation.needs_contact_details, "batch_id": invitation.batch_id,
                         "invited_again": candidate.waiting})
        invitations.append(invitation)
    return Sending(invitations=invitations, batch=batch, texts_queued=texts)


def _refusals(found: list[Candidate], chosen: dict[int, Choice], invite_again: bool) -> list[str]:
    errors = []
    for candidate in found:
        choice, name = chosen[candidate.patient.id], candidate.patient.display_name
        if choice.by_letter and not candidate.has_address:
            errors.append(f"{name} has no postal address: a letter cannot be sent")
        if choice.by_text and not candidate.has_mobile:
            errors.append(f"{name} has no mobile number: a text cannot be sent")
        if not candidate.needs_contact_details and not (choice.by_letter or choice.by_text):
            errors.append(f"Choose a letter or a text for {name}, or take them off the list")
        if (choice.by_letter or choice.by_text) and candidate.practice_needs_details:
            errors.append(f"{name}'s GP practice ({candidate.practice.ods_code}) has no name, address and phone "
                          "yet, and the invitation goes in its name: ask your Taper administrator to complete it")
        if candidate.waiting and not invite_again and candidate.latest is not None:
            errors.append(f"{name} was invited on {_local_day(candidate.latest)} and has not answered yet: tick "
                          "\"Invite again\" to send another invitation")
    return errors


def _queue_text(invitation: Invitation, patient: Patient, practice: Organisation, clinic: Organisation) -> int:
    key = f"invitation-{invitation.id}"
    queued = messages.queue(messages.Outgoing(
        key=key, kind="invitation", channel="sms", to=patient.mobile_phone.strip(),
        body=invitation_letters.text_message(practice_name=practice.name, clinic_name=clinic.name,
                                             clinic_phone=clinic.phone),
        patient_id=patient.id))
    invitation.message_id = db.session.scalar(select(Message.id).where(Message.key == key))
    return int(queued)


def claim_rendering(*, by: User, batch_id: int, carrying_on: bool = False) -> Claim:
    """Claim the batch's letters for one run, with one conditional UPDATE, so that only one run makes them: a
    batch "rendering" that no run holds (never claimed, or no progress for STALLED_AFTER: a restart of the
    server stopped its run), or, when `carrying_on`, one that failed (its run let go of it when it marked it
    failed; the claim makes it "rendering" again, so a second carry-on finds it held). The claim sets
    `progress_at` (the run moves it on with each letter) and starts the count again. Refused (InvalidInput,
    nothing changed) when another run holds the batch or it is ready. A carry-on is audited."""
    batch = get_batch(by=by, batch_id=batch_id)
    now = clock.now()
    free = and_(InvitationBatch.status == "rendering",
                or_(InvitationBatch.progress_at.is_(None), InvitationBatch.progress_at < now - STALLED_AFTER))
    claimed = db.session.execute(
        update(InvitationBatch).where(InvitationBatch.id == batch.id,
                                      or_(free, InvitationBatch.status == "failed") if carrying_on else free)
        .values(status="rendering", progress_at=now, letters_done=0, error="", version=InvitationBatch.version + 1))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidInput({"batch": "These letters are not stopped: they are still being made, or they are ready."})
    if carrying_on:
        audit.record(action="render", by=by, entity_type="invitation_batch", entity_id=batch.id,
                     changes={"letters": batch.letters_total})
    return Claim(batch_id=batch.id, at=now)


def stalled(batch: InvitationBatch) -> bool:
    """The batch is "rendering" but no run holds it: never claimed, or no letter done for STALLED_AFTER (a
    restart of the server stopped its run). The page then offers to start again."""
    return batch.status == "rendering" and (batch.progress_at is None
                                            or batch.progress_at < clock.now() - STALLED_AFTER)


def render_batch(*, claim: Claim, progress: Callable[[], None]) -> InvitationBatch:
    """Render the claimed batch's letters (in worker processes, through the letters' locked renderer), counting
    each done in `letters_done` and calling `progress` (the edge commits there, so a page can show it), then
    store them joined as one PDF, with the letters' template version, and mark the batch ready (audited; the
    edge commits). Each write moves `progress_at` on from the value the claim holds: one that finds another
    value (another run claimed the batch, thinking this one stopped) raises StaleEdit and this run stops."""
    batch = db.session.get(InvitationBatch, claim.batch_id)
    if batch is None:
        raise NotFound("no such batch of letters")
    letters = letters_of(batch)
    _step(claim, progress, letters_done=0, letters_total=len(letters))
    done = 0

    def one_done() -> None:
        nonlocal done
        done = min(done + 1, len(letters))  # a pool that lost a worker renders every letter again
        _step(claim, progress, letters_done=done)

    pdfs = workers.run(invitation_letters.render_letter, [(letter,) for letter in letters], on_done=one_done)
    from pypdf import PdfReader, PdfWriter  # here: only joining letters needs it (about 90 ms to import)

    joined = PdfWriter()
    for number, pdf in enumerate(pdfs, start=1):
        joined.append(PdfReader(io.BytesIO(pdf)))
        if number % 100 == 0:
            _step(claim, progress)  # still alive: joining hundreds of letters takes a while
    joined.add_metadata({"/Title": f"Invitation letters, batch {batch.id}"})
    buffer = io.BytesIO()
    joined.write(buffer)
    _step(claim, None, pdf=buffer.getvalue(), status="ready", letters_done=len(letters),
          template_version=invitation_letters.TEMPLATE_VERSION)
    audit.record(action="rendered", by=None, entity_type="invitation_batch", entity_id=batch.id,
                 changes={"letters": len(letters), "template_version": invitation_letters.TEMPLATE_VERSION})
    db.session.refresh(batch)
    return batch


def batch_failed(*, claim: Claim, error: str) -> bool:
    """Record that the claimed run failed (the page says so and offers to start again), audited; the edge calls
    this after rolling back. Nothing is changed (False) when another run has claimed the batch since."""
    failed = db.session.execute(update(InvitationBatch).where(
        InvitationBatch.id == claim.batch_id, InvitationBatch.status == "rendering",
        InvitationBatch.progress_at == claim.at).values(status="failed", error=error[:2000],
                                                        version=InvitationBatch.version + 1))
    if failed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    audit.record(action="fail", by=None, entity_type="invitation_batch", entity_id=claim.batch_id,
                 changes={"error": error[:2000]})
    return True


def _step(claim: Claim, after: Callable[[], None] | None, **values: object) -> None:
    """Write `values` and move `progress_at` on, if the claim still holds the batch (StaleEdit if not); then
    `after()` (a commit), and only then does the claim hold the new time (a commit that fails leaves it)."""
    now = clock.now()
    moved = db.session.execute(update(InvitationBatch).where(
        InvitationBatch.id == claim.batch_id, InvitationBatch.status == "rendering",
        InvitationBatch.progress_at == claim.at).values(progress_at=now, version=InvitationBatch.version + 1,
                                                        **values))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleEdit("another run has claimed these letters")
    if after is not None:
        after()
        claim.at = now


def letters_of(batch: InvitationBatch) -> list[InvitationLetter]:
    """What each letter of the batch prints, in the order the invitations were made (plain values)."""
    clinic = db.session.get(Organisation, batch.clinic_id)
    assert clinic is not None
    invitations = db.session.scalars(
        select(Invitation).where(Invitation.batch_id == batch.id).order_by(Invitation.id)
        .options(selectinload(Invitation.patient).selectinload(Patient.gp_practice))).all()
    dated = batch.created_at.astimezone(clock.CLINIC_TIMEZONE).date()
    return [InvitationLetter(
        patient_name=f"{invitation.patient.given_name} {invitation.patient.family_name}",
        patient_address=invitation.patient.postal_address, nhs_number=format_nhs_number(invitation.patient.nhs_number),
        practice_name=invitation.patient.gp_practice.name, practice_address=invitation.patient.gp_practice.address,
        practice_phone=invitation.patient.gp_practice.phone, clinic_name=clinic.name, clinic_phone=clinic.phone,
        dated=dated, large_print=invitation.large_print, easy_read=invitation.easy_read) for invitation in invitations]


def get_batch(*, by: User, batch_id: int) -> InvitationBatch:
    """A batch of the pharmacist's clinic (another clinic's: NotFound, and the attempt audited)."""
    clinic_id = _pharmacist(by)
    batch = db.session.get(InvitationBatch, batch_id)
    if batch is None:
        raise NotFound("no such batch of letters")
    if batch.clinic_id != clinic_id:
        audit.record(action="access_denied", by=by, entity_type="invitation_batch", entity_id=batch.id)
        raise NotFound("no such batch of letters")
    return batch


def batch_pdf(*, by: User, batch_id: int) -> bytes:
    """The batch's letters as one PDF, to print; audited on each patient's record (who printed their letter)."""
    batch = get_batch(by=by, batch_id=batch_id)
    if batch.status != "ready" or batch.pdf is None:
        raise NotFound("the letters are not ready")
    patient_ids = db.session.scalars(select(Invitation.patient_id).where(Invitation.batch_id == batch.id)
                                     .order_by(Invitation.id)).all()
    for patient_id in patient_ids:
        audit.record(action="print", by=by, entity_type="invitation_batch", entity_id=batch.id,
                     patient_id=patient_id, changes={"letters": len(patient_ids)})
    return batch.pdf


def invitations_of_batch(*, by: User, batch_id: int) -> list[Invitation]:
    batch = get_batch(by=by, batch_id=batch_id)
    return list(db.session.scalars(select(Invitation).where(Invitation.batch_id == batch.id)
                                   .order_by(Invitation.id).options(selectinload(Invitation.patient))))


def listing(*, by: User, page: int = 1, shown: Shown = Shown.ALL) -> Page[Invitation]:
    """A page of the clinic's invitations, latest first, with their patients."""
    clinic_id = _pharmacist(by)
    query: Select[Invitation] = (
        select(Invitation).where(Invitation.clinic_id == clinic_id)
        .order_by(Invitation.sent_at.desc(), Invitation.id.desc())
        .options(selectinload(Invitation.patient).selectinload(Patient.gp_practice)))
    if shown is Shown.WAITING:
        query = query.where(Invitation.answer.is_(None), Invitation.needs_contact_details.is_(False))
    elif shown in (Shown.ACCEPTED, Shown.DECLINED):
        query = query.where(Invitation.answer == shown.value)
    elif shown is Shown.NEEDS_CONTACT_DETAILS:
        query = query.where(Invitation.needs_contact_details.is_(True))
    found = page_of(query, number=page, per_page=PER_PAGE, read=entities)
    audit.record(action="view", by=by, entity_type="invitations",
                 changes={"shown": shown.value, "results": found.total, "page": page})
    return found


def get(*, by: User, invitation_id: int) -> Invitation:
    """One invitation of the pharmacist's clinic (another clinic's: NotFound, audited); the look is audited."""
    invitation = _in_scope(by, invitation_id)
    audit.record(action="view", by=by, entity_type="invitation", entity_id=invitation.id,
                 patient_id=invitation.patient_id)
    return invitation


def record_answer(*, by: User, invitation_id: int, expected_version: int, answer: str, note: str = "") -> Invitation:
    """Record the patient's answer (accepted or declined, with an optional note), or correct an earlier one. A
    refusal: an invitation that sent nothing (needs contact details); declining an invitation whose first
    consultation is booked and not cancelled (cancel the appointment first)."""
    invitation = _in_scope(by, invitation_id)
    check_version(invitation.version, expected_version)
    if answer not in ANSWERS:
        raise InvalidInput({"answer": "Choose whether the patient accepted or declined"})
    note = (note or "").strip()
    if len(note) > 2000:
        raise InvalidInput({"note": "The note must be 2,000 characters or fewer"})
    if invitation.needs_contact_details:
        raise InvalidInput({"answer": "Nothing was sent to this patient (no address or mobile number), so there "
                                      "is no answer to record: invite them again once the practice gives the "
                                      "details"})
    if answer == "declined" and first_consultation_of(invitation) is not None:
        raise InvalidInput({"answer": "A first consultation is booked from this acceptance: cancel the "
                                      "appointment first, then record that the patient declined"})
    before = {"answer": invitation.answer, "answer_note": invitation.answer_note}
    if before == {"answer": answer, "answer_note": note}:
        return invitation
    invitation.answer, invitation.answer_note = answer, note
    invitation.answered_at, invitation.answered_by_id = clock.now(), by.id
    flush_or_stale()
    audit.record(action="update", by=by, entity_type="invitation", entity_id=invitation.id,
                 patient_id=invitation.patient_id,
                 changes=audit.differences(before, {"answer": answer, "answer_note": note}))
    return invitation


def link_first_consultation(*, by: User, appointment: Appointment) -> Invitation | None:
    """Called when an initial consultation is booked: the patient's latest invitation, if accepted and with no
    appointment yet, is linked to it (in the same transaction). The invitation linked, or None."""
    if appointment.kind != "initial":
        return None
    latest = _latest_invitations([appointment.patient_id]).get(appointment.patient_id)
    if latest is None or latest.answer != "accepted" or first_consultation_of(latest) is not None:
        return None
    latest.appointment_id = appointment.id
    flush_or_stale()
    audit.record(action="update", by=by, entity_type="invitation", entity_id=latest.id,
                 patient_id=appointment.patient_id, changes={"appointment_id": appointment.id})
    return latest


def first_consultation_of(invitation: Invitation) -> Appointment | None:
    """The first consultation booked from the invitation, unless it was cancelled (then another may be booked,
    and the next initial consultation booked is linked instead)."""
    if invitation.appointment_id is None:
        return None
    appointment = db.session.get(Appointment, invitation.appointment_id)
    return appointment if appointment is not None and appointment.status != "cancelled" else None


def with_first_consultation(invitations: Sequence[Invitation]) -> set[int]:
    """Of these invitations, the ids of those whose first consultation is booked and not cancelled (one query)."""
    linked = {invitation.appointment_id: invitation.id for invitation in invitations
              if invitation.appointment_id is not None}
    if not linked:
        return set()
    return {linked[appointment_id] for appointment_id in db.session.scalars(
        select(Appointment.id).where(Appointment.id.in_(linked), Appointment.status != "cancelled"))}


def latest_of_patient(*, by: User, patient_id: int) -> Invitation | None:
    """The patient's latest invitation (for their page; the page's own view is audited)."""
    patient = patient_in_scope(by, patient_id)
    return _latest_invitations([patient.id]).get(patient.id)


def _patients(by: User, patient_ids: Sequence[int]) -> list[Patient]:
    """The patients, in the order given, with their practices, in one query; NotFound for one that is not on the
    clinic's caseload (another clinic's: the attempt audited, as patient_in_scope does)."""
    found = {patient.id: patient for patient in db.session.scalars(
        select(Patient).where(Patient.id.in_(patient_ids)).options(selectinload(Patient.gp_practice)))}
    for patient_id in patient_ids:
        if patient_id not in found or found[patient_id].clinic_id != caseload_of(by):
            patient_in_scope(by, patient_id)  # raises NotFound, and audits another clinic's
    return [found[patient_id] for patient_id in patient_ids]


def _in_scope(by: User, invitation_id: int) -> Invitation:
    clinic_id = _pharmacist(by)
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound("no such invitation")
    if invitation.clinic_id != clinic_id:
        audit.record(action="access_denied", by=by, entity_type="invitation", entity_id=invitation.id,
                     patient_id=invitation.patient_id)
        raise NotFound("no such invitation")
    return invitation


def _latest_invitations(patient_ids: Sequence[int]) -> dict[int, Invitation]:
    """Each patient's latest invitation, in one query."""
    latest: dict[int, Invitation] = {}
    if not patient_ids:
        return latest
    for invitation in db.session.scalars(select(Invitation).where(Invitation.patient_id.in_(patient_ids))
                                         .order_by(Invitation.sent_at.desc(), Invitation.id.desc())):
        latest.setdefault(invitation.patient_id, invitation)
    return latest


def _waiting(invitation: Invitation, since: datetime) -> bool:
    """Sent (not just recorded as needing contact details), not answered, and recent."""
    return invitation.answer is None and not invitation.needs_contact_details and invitation.sent_at >= since


def _local_day(invitation: Invitation) -> str:
    return long_date(invitation.sent_at.astimezone(clock.CLINIC_TIMEZONE).date())


def _pharmacist(by: User) -> int:
    if by.role is not Role.PHARMACIST:
        raise PermissionDenied("only a clinic pharmacist invites patients")
    return caseload_of(by)
