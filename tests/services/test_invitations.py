"""Invitations (issue 18, item 4): one per patient, in the practice's name, by letter and/or text; a patient with
no contact details recorded as needing them; a text queued once; the batch of letters claimed and made by one run
(audited when it finishes or fails); the re-invite rule; answers recorded and corrected; the first consultation
booked from an acceptance linked to it; only the clinic's own patients."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import time, timedelta

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import func, select

from taper import clock
from taper.documents import invitation_letters
from taper.domain.follow_up import Mode
from taper.domain.organisations import OrganisationKind, Role
from taper.extensions import db
from taper.models import AuditEvent, Message, Organisation, Patient, User
from taper.models.finding import Invitation, InvitationBatch
from taper.services import appointments, booking, capacity, invitations
from taper.services.capacity import SessionDetails
from taper.services.errors import InvalidInput, NotFound, PermissionDenied, StaleEdit
from taper.services.invitations import Choice, Shown
from tests.conftest import MONDAY, Maker, at

ADDRESS = "12 St James's Square\nLondon\nSW1Y 4JH"


@pytest.fixture(autouse=True)
def monday_morning() -> Iterator[None]:
    with clock.freeze(at(MONDAY, 8)):
        yield


@pytest.fixture
def pharmacist(make: Maker) -> User:
    """Monday 9 to 12 in Room 4."""
    pharmacist = make.user()
    capacity.add_session(by=pharmacist, details=SessionDetails(0, time(9), time(12), remote=False,
                                                               location="Room 4"))
    db.session.commit()
    return pharmacist


@pytest.fixture
def practice(make: Maker) -> Organisation:
    return make.organisation(OrganisationKind.GP_PRACTICE, name="Riverside Surgery")


@pytest.fixture
def three(make: Maker, pharmacist: User, practice: Organisation) -> list[Patient]:
    """Ada (an address and a mobile), Bob (an address only; large print) and Cy (neither)."""
    return [make.patient(pharmacist, gp_practice_id=practice.id, given_name="Ada", postal_address=ADDRESS,
                         mobile_phone="07700 900123"),
            make.patient(pharmacist, gp_practice_id=practice.id, given_name="Bob", family_name="Brown",
                         postal_address=ADDRESS, large_print=True),
            make.patient(pharmacist, gp_practice_id=practice.id, given_name="Cy", family_name="Young")]


def _defaults(found: list[invitations.Candidate]) -> list[Choice]:
    return [Choice(each.patient.id, by_letter=each.has_address, by_text=each.has_mobile) for each in found]


def _send(pharmacist: User, patients: list[Patient], **options: bool) -> invitations.Sending:
    found = invitations.candidates(by=pharmacist, patient_ids=[patient.id for patient in patients])
    sent = invitations.send(by=pharmacist, choices=_defaults(found), **options)
    db.session.commit()
    return sent


def test_send_invites_each_patient_as_their_details_allow(pharmacist: User, three: list[Patient],
                                                          practice: Organisation) -> None:
    ada, bob, cy = three
    sent = _send(pharmacist, three)
    by_patient = {invitation.patient_id: invitation for invitation in sent.invitations}
    assert [(by_patient[each.id].by_letter, by_patient[each.id].by_text, by_patient[each.id].needs_contact_details)
            for each in three] == [(True, True, False), (True, False, False), (False, False, True)]
    assert sent.needing_contact_details == [by_patient[cy.id]]
    assert all(each.gp_practice_id == practice.id and each.sent_by_id == pharmacist.id for each in sent.invitations)
    assert by_patient[bob.id].large_print and not by_patient[ada.id].large_print
    batch = sent.batch
    assert batch is not None and (batch.status, batch.letters_total, batch.letters_done) == ("rendering", 2, 0)
    assert {by_patient[ada.id].batch_id, by_patient[bob.id].batch_id, by_patient[cy.id].batch_id} == {batch.id, None}
    assert by_patient[cy.id].batch_id is None
    [message] = db.session.scalars(select(Message)).all()
    assert (message.key, message.kind, message.channel, message.to, message.patient_id) == (
        f"invitation-{by_patient[ada.id].id}", "invitation", "sms", "07700 900123", ada.id)
    assert by_patient[ada.id].message_id == message.id and sent.texts_queued == 1
    assert message.body.startswith("Riverside Surgery: ") and pharmacist.organisation.phone in message.body
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "create", AuditEvent.entity_type == "invitation")) == 3


def test_a_text_is_queued_once_per_invitation(pharmacist: User, three: list[Patient]) -> None:
    sent = _send(pharmacist, three[:1])
    invitation = sent.invitations[0]
    again = invitations._queue_text(invitation, three[0], three[0].gp_practice, pharmacist.organisation)
    db.session.commit()
    assert again == 0 and db.session.scalar(select(func.count()).select_from(Message)) == 1
    assert invitation.message_id == db.session.scalar(select(Message.id))


def test_the_batch_renders_every_letter_into_one_pdf_with_progress(pharmacist: User, three: list[Patient]) -> None:
    sent = _send(pharmacist, three)
    assert sent.batch is not None
    claim = invitations.claim_rendering(by=pharmacist, batch_id=sent.batch.id)
    db.session.commit()
    seen: list[int] = []
    batch = invitations.render_batch(claim=claim, progress=lambda: seen.append(sent.batch.letters_done))
    db.session.commit()
    assert seen == [0, 1, 2] and (batch.status, batch.letters_done, batch.letters_total) == ("ready", 2, 2)
    assert batch.template_version == invitation_letters.TEMPLATE_VERSION == "2" and batch.progress_at == clock.now()
    assert batch.pdf is not None
    pages = [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(batch.pdf)).pages]
    text = " ".join(pages)
    assert text.count("Yours sincerely, The GPs and team at Riverside Surgery") == 2
    assert "Dear Ada Lovelace," in text and "Dear Bob Brown," in text and "Cy Young" not in text
    assert pages[0].count("Riverside Surgery") >= 2  # the letterhead and the sign-off on the same sheet
    # The batch's letters are exactly the letters the renderer makes one by one (no second way of making them).
    letters = invitations.letters_of(batch)
    assert " ".join(pages[:1]) == " ".join(" ".join(page.extract_text().split()) for page in PdfReader(
        io.BytesIO(invitation_letters.render_letter(letters[0]))).pages)
    [finished] = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "invitation_batch",
                                                             AuditEvent.action == "rendered")).all()
    assert finished.entity_id == str(batch.id) and finished.changes == {"letters": 2, "template_version": "2"}
    assert finished.actor_user_id is None  # Taper's own work, after the pharmacist sent the invitations


def test_a_batch_is_claimed_by_one_run_until_it_stops(pharmacist: User, three: list[Patient]) -> None:
    sent = _send(pharmacist, three[:2])
    assert sent.batch is not None
    batch_id = sent.batch.id
    assert invitations.stalled(sent.batch)  # never claimed: no run is making it
    first = invitations.claim_rendering(by=pharmacist, batch_id=batch_id)
    db.session.commit()
    assert not invitations.stalled(sent.batch) and sent.batch.progress_at == clock.now()
    for carrying_on in (False, True):  # held: neither a second start nor a carry-on claims it
        with pytest.raises(InvalidInput, match="still being made"):
            invitations.claim_rendering(by=pharmacist, batch_id=batch_id, carrying_on=carrying_on)
        db.session.rollback()
    with clock.freeze(at(MONDAY, 8) + timedelta(seconds=59)):
        assert not invitations.stalled(sent.batch)
    with clock.freeze(at(MONDAY, 8) + timedelta(seconds=61)):  # no progress for a minute: a restart stopped it
        assert invitations.stalled(sent.batch)
        second = invitations.claim_rendering(by=pharmacist, batch_id=batch_id, carrying_on=True)
        db.session.commit()
        # The first run, slow rather than stopped, finds the batch claimed by the second and stops, and cannot
        # mark it failed; the second makes the letters.
        with pytest.raises(StaleEdit):
            invitations.render_batch(claim=first, progress=db.session.commit)
        db.session.rollback()
        assert invitations.batch_failed(claim=first, error="Too late") is False
        db.session.commit()
        assert invitations.render_batch(claim=second, progress=db.session.commit).status == "ready"
        db.session.commit()
    with pytest.raises(InvalidInput, match="or they are ready"):
        invitations.claim_rendering(by=pharmacist, batch_id=batch_id, carrying_on=True)
    db.session.rollback()
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "invitation_batch")
                              .order_by(AuditEvent.id)).all() == ["render", "rendered"]


def test_a_failed_batch_is_recorded_audited_and_carried_on_once(pharmacist: User, three: list[Patient]) -> None:
    sent = _send(pharmacist, three[:1])
    assert sent.batch is not None
    claim = invitations.claim_rendering(by=pharmacist, batch_id=sent.batch.id)
    db.session.commit()
    assert invitations.batch_failed(claim=claim, error="The letters could not be made (OSError).") is True
    db.session.commit()
    db.session.refresh(sent.batch)
    assert (sent.batch.status, sent.batch.error) == ("failed", "The letters could not be made (OSError).")
    assert not invitations.stalled(sent.batch)
    failed = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "invitation_batch")).one()
    assert (failed.action, failed.entity_id, failed.actor_user_id) == ("fail", str(sent.batch.id), None)
    assert failed.changes == {"error": "The letters could not be made (OSError)."}
    with pytest.raises(InvalidInput):  # only a carry-on starts a failed batch again
        invitations.claim_rendering(by=pharmacist, batch_id=sent.batch.id)
    db.session.rollback()
    again = invitations.claim_rendering(by=pharmacist, batch_id=sent.batch.id, carrying_on=True)
    db.session.commit()
    assert (sent.batch.status, sent.batch.error, sent.batch.letters_done) == ("rendering", "", 0)
    with pytest.raises(InvalidInput):  # a second carry-on (another page, another person): no second run
        invitations.claim_rendering(by=pharmacist, batch_id=sent.batch.id, carrying_on=True)
    db.session.rollback()
    assert invitations.render_batch(claim=again, progress=db.session.commit).status == "ready"
    db.session.commit()


def test_two_carry_ons_at_the_same_moment_make_one_claim(app: Flask, pharmacist: User,
                                                         three: list[Patient]) -> None:
    """Two requests claim the same stopped batch at once, each in its own connection: the database lets one
    UPDATE through and the other finds the batch held."""
    sent = _send(pharmacist, three[:1])
    assert sent.batch is not None
    batch_id, pharmacist_id = sent.batch.id, pharmacist.id
    claim = invitations.claim_rendering(by=pharmacist, batch_id=batch_id)
    invitations.batch_failed(claim=claim, error="Stopped")
    db.session.commit()
    ready = threading.Barrier(2)
    outcomes: list[str] = []

    def carry_on() -> None:
        with app.app_context():
            try:
                by = db.session.get(User, pharmacist_id)
                assert by is not None
                ready.wait(timeout=10)
                invitations.claim_rendering(by=by, batch_id=batch_id, carrying_on=True)
                db.session.commit()
                outcomes.append("claimed")
            except InvalidInput:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    runs = [threading.Thread(target=carry_on) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=60)
    assert sorted(outcomes) == ["claimed", "refused"]
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.entity_type == "invitation_batch", AuditEvent.action == "render")) == 1


def test_pdf_download_is_audited_on_each_patients_record(pharmacist: User, three: list[Patient]) -> None:
    sent = _send(pharmacist, three)
    assert sent.batch is not None
    with pytest.raises(NotFound):
        invitations.batch_pdf(by=pharmacist, batch_id=sent.batch.id)  # not made yet
    claim = invitations.claim_rendering(by=pharmacist, batch_id=sent.batch.id)
    invitations.render_batch(claim=claim, progress=db.session.commit)
    pdf = invitations.batch_pdf(by=pharmacist, batch_id=sent.batch.id)
    db.session.commit()
    assert pdf.startswith(b"%PDF")
    printed = db.session.scalars(select(AuditEvent.patient_id).where(
        AuditEvent.action == "print", AuditEvent.entity_type == "invitation_batch")).all()
    assert sorted(printed) == sorted([three[0].id, three[1].id])


@pytest.mark.parametrize("case", ["letter without address", "text without mobile", "no way chosen",
                                  "practice needs details", "clinic has no phone", "nobody"])
def test_send_refuses_what_cannot_go_and_saves_nothing(pharmacist: User, three: list[Patient], practice: Organisation,
                                                       case: str) -> None:
    ada, bob, cy = three
    choices = {"letter without address": [Choice(cy.id, by_letter=True, by_text=False)],
               "text without mobile": [Choice(bob.id, by_letter=True, by_text=True)],
               "no way chosen": [Choice(ada.id, by_letter=False, by_text=False)],
               "practice needs details": [Choice(ada.id, by_letter=True, by_text=False)],
               "clinic has no phone": [Choice(ada.id, by_letter=False, by_text=True)],
               "nobody": []}[case]
    if case == "practice needs details":
        practice.details_needed = True
    if case == "clinic has no phone":
        pharmacist.organisation.phone = ""
    db.session.commit()
    with pytest.raises(InvalidInput) as refused:
        invitations.send(by=pharmacist, choices=choices)
    db.session.rollback()
    message = " ".join(refused.value.errors.values())
    assert {"letter without address": "has no postal address", "text without mobile": "has no mobile number",
            "no way chosen": "Choose a letter or a text for LOVELACE, Ada",
            "practice needs details": "ask your Taper administrator to complete it",
            "clinic has no phone": "has no phone number recorded",
            "nobody": "Choose at least one patient"}[case] in message
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0
    assert db.session.scalar(select(func.count()).select_from(InvitationBatch)) == 0


def test_a_patient_waiting_to_answer_is_invited_again_only_when_asked(pharmacist: User,
                                                                        three: list[Patient]) -> None:
    ada, bob, cy = three
    _send(pharmacist, [ada, cy])
    assert [each.waiting for each in invitations.candidates(by=pharmacist, patient_ids=[ada.id, cy.id])] == [
        True, False]  # recorded as needing contact details is not an invitation sent
    with pytest.raises(InvalidInput) as refused:
        _send(pharmacist, [ada])
    db.session.rollback()
    assert "LOVELACE, Ada was invited on 4 January 2027 and has not answered yet" in str(refused.value)
    _send(pharmacist, [cy])  # nothing was sent to Cy: no refusal
    again = _send(pharmacist, [ada], invite_again=True)
    assert len(again.invitations) == 1
    created = db.session.scalars(select(AuditEvent.changes).where(
        AuditEvent.action == "create", AuditEvent.entity_type == "invitation",
        AuditEvent.entity_id == str(again.invitations[0].id))).one()
    assert created["invited_again"] is True
    with clock.freeze(at(MONDAY + timedelta(days=invitations.REINVITE_DAYS + 1), 8)):
        assert len(_send(pharmacist, [ada]).invitations) == 1  # 28 days on: the rule no longer applies
    answered = _send(pharmacist, [bob]).invitations[0]
    invitations.record_answer(by=pharmacist, invitation_id=answered.id, expected_version=answered.version,
                              answer="declined")
    db.session.commit()
    assert len(_send(pharmacist, [bob]).invitations) == 1  # answered: the pharmacist may ask again


def test_answer_is_recorded_and_corrected_with_the_version_seen(pharmacist: User, three: list[Patient]) -> None:
    invitation = _send(pharmacist, three[:1]).invitations[0]
    first = invitation.version
    invitations.record_answer(by=pharmacist, invitation_id=invitation.id, expected_version=first, answer="accepted",
                              note="  Mornings are best ")
    db.session.commit()
    assert (invitation.answer, invitation.answer_note, invitation.answered_by_id) == (
        "accepted", "Mornings are best", pharmacist.id)
    assert invitation.answered_at == clock.now()
    with pytest.raises(StaleEdit):
        invitations.record_answer(by=pharmacist, invitation_id=invitation.id, expected_version=first,
                                  answer="declined")
    db.session.rollback()
    invitations.record_answer(by=pharmacist, invitation_id=invitation.id, expected_version=invitation.version,
                              answer="declined", note="Changed their mind")
    db.session.commit()
    assert invitation.answer == "declined"
    changes = db.session.scalars(select(AuditEvent.changes).where(
        AuditEvent.action == "update", AuditEvent.entity_type == "invitation").order_by(AuditEvent.id)).all()
    assert [each["answer"]["after"] for each in changes] == ["accepted", "declined"]
    with pytest.raises(InvalidInput):
        invitations.record_answer(by=pharmacist, invitation_id=invitation.id, expected_version=invitation.version,
                                  answer="maybe")
    db.session.rollback()


def test_no_answer_is_recorded_for_an_invitation_that_sent_nothing(pharmacist: User, three: list[Patient]) -> None:
    invitation = _send(pharmacist, three[2:]).invitations[0]
    with pytest.raises(InvalidInput, match="Nothing was sent"):
        invitations.record_answer(by=pharmacist, invitation_id=invitation.id, expected_version=invitation.version,
                                  answer="accepted")


def test_booking_the_first_consultation_links_the_accepted_invitation(pharmacist: User,
                                                                       three: list[Patient]) -> None:
    ada, bob, _ = three
    accepted, declined = _send(pharmacist, [ada, bob]).invitations[:2]
    for invitation, answer in ((accepted, "accepted"), (declined, "declined")):
        invitations.record_answer(by=pharmacist, invitation_id=invitation.id, expected_version=invitation.version,
                                  answer=answer)
    db.session.commit()
    first = booking.book(by=pharmacist, patient_id=ada.id, plan_id=None, kind="initial", starts_at=at(MONDAY, 9),
                         length_minutes=60, mode=Mode.FACE_TO_FACE)
    booked_bob = booking.book(by=pharmacist, patient_id=bob.id, plan_id=None, kind="initial",
                              starts_at=at(MONDAY, 10), length_minutes=60, mode=Mode.PHONE)
    db.session.commit()
    assert accepted.appointment_id == first.id and declined.appointment_id is None and booked_bob.id
    second = booking.book(by=pharmacist, patient_id=ada.id, plan_id=None, kind="initial", starts_at=at(MONDAY, 11),
                          length_minutes=60, mode=Mode.PHONE)
    db.session.commit()
    assert accepted.appointment_id == first.id != second.id  # the first one booked stays the invitation's
    with pytest.raises(InvalidInput, match="cancel the appointment first"):
        invitations.record_answer(by=pharmacist, invitation_id=accepted.id, expected_version=accepted.version,
                                  answer="declined")
    db.session.rollback()
    appointments.cancel(by=pharmacist, appointment_id=first.id, expected_version=first.version, reason="Unwell")
    db.session.commit()
    assert invitations.first_consultation_of(accepted) is None  # cancelled: the next one booked is linked
    third = booking.book(by=pharmacist, patient_id=ada.id, plan_id=None, kind="initial", starts_at=at(MONDAY, 9),
                         length_minutes=60, mode=Mode.PHONE)
    db.session.commit()
    assert accepted.appointment_id == third.id and invitations.first_consultation_of(accepted) == third
    appointments.cancel(by=pharmacist, appointment_id=third.id, expected_version=third.version, reason="Declined")
    invitations.record_answer(by=pharmacist, invitation_id=accepted.id, expected_version=accepted.version,
                              answer="declined")
    db.session.commit()
    assert accepted.answer == "declined"


def test_a_booking_that_fails_links_nothing(pharmacist: User, three: list[Patient]) -> None:
    invitation = _send(pharmacist, three[:1]).invitations[0]
    invitations.record_answer(by=pharmacist, invitation_id=invitation.id, expected_version=invitation.version,
                              answer="accepted")
    db.session.commit()
    with pytest.raises(InvalidInput):
        booking.book(by=pharmacist, patient_id=three[0].id, plan_id=None, kind="initial",
                     starts_at=at(MONDAY, 9) - timedelta(days=7), length_minutes=60, mode=Mode.PHONE)
    db.session.rollback()
    db.session.refresh(invitation)
    assert invitation.appointment_id is None


def test_another_clinics_pharmacist_finds_nothing_and_a_gp_may_not_invite(make: Maker, pharmacist: User,
                                                                           three: list[Patient]) -> None:
    sent = _send(pharmacist, three)
    assert sent.batch is not None
    other = make.user(Role.PHARMACIST)
    for attempt in (lambda: invitations.candidates(by=other, patient_ids=[three[0].id]),
                    lambda: invitations.send(by=other, choices=[Choice(three[0].id, by_letter=True, by_text=False)]),
                    lambda: invitations.get(by=other, invitation_id=sent.invitations[0].id),
                    lambda: invitations.record_answer(by=other, invitation_id=sent.invitations[0].id,
                                                      expected_version=sent.invitations[0].version,
                                                      answer="accepted"),
                    lambda: invitations.get_batch(by=other, batch_id=sent.batch.id),
                    lambda: invitations.batch_pdf(by=other, batch_id=sent.batch.id)):
        with pytest.raises(NotFound):
            attempt()
        db.session.commit()  # the refusal's audit row is kept
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.actor_user_id == other.id, AuditEvent.action == "access_denied")) == 6
    assert invitations.listing(by=other).total == 0
    gp = make.user(Role.GP, three[0].gp_practice)
    with pytest.raises(PermissionDenied):
        invitations.send(by=gp, choices=[Choice(three[0].id, by_letter=True, by_text=False)])


def test_list_is_latest_first_and_filtered_by_answer(pharmacist: User, three: list[Patient]) -> None:
    ada, bob, cy = three
    first = _send(pharmacist, [ada]).invitations[0]
    with clock.freeze(at(MONDAY, 9)):
        later = _send(pharmacist, [bob, cy]).invitations
    invitations.record_answer(by=pharmacist, invitation_id=first.id, expected_version=first.version,
                              answer="accepted")
    db.session.commit()
    listed = invitations.listing(by=pharmacist)
    assert [each.id for each in listed.items] == [later[1].id, later[0].id, first.id]
    assert [each.id for each in invitations.listing(by=pharmacist, shown=Shown.ACCEPTED).items] == [first.id]
    assert [each.id for each in invitations.listing(by=pharmacist, shown=Shown.WAITING).items] == [later[0].id]
    assert [each.id for each in invitations.listing(by=pharmacist, shown=Shown.NEEDS_CONTACT_DETAILS).items] == [
        later[1].id]
    assert invitations.listing(by=pharmacist, shown=Shown.DECLINED).total == 0
    assert invitations.latest_of_patient(by=pharmacist, patient_id=ada.id) == first
