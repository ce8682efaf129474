"""Invitation pages (issue 18, item 4): the chosen patients posted from the worklist, Send (once), the batch of
letters with its progress and its PDF, the list, an answer recorded and corrected, the first consultation booked
from an acceptance; another clinic's records not found and a GP refused."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from datetime import time, timedelta

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import func, select

from taper import clock
from taper.domain.organisations import OrganisationKind, Role
from taper.extensions import db
from taper.models import Appointment, AuditEvent, Message, Organisation, Patient, User
from taper.models.finding import Invitation, InvitationBatch
from taper.services import capacity, invitations
from taper.services.capacity import SessionDetails
from taper.services.invitations import Choice
from taper.web import background
from tests.conftest import MONDAY, Maker, at, page_text, sign_in
from tests.query_counts import counting

ADDRESS = "12 St James's Square\nLondon\nSW1Y 4JH"
NEW = "/find/invitations/new"


@pytest.fixture(autouse=True)
def monday_morning() -> Iterator[None]:
    with clock.freeze(at(MONDAY, 8)):
        yield


@pytest.fixture
def practice(make: Maker) -> Organisation:
    return make.organisation(OrganisationKind.GP_PRACTICE, name="Riverside Surgery")


@pytest.fixture
def three(make: Maker, pharmacist: User, practice: Organisation) -> list[Patient]:
    """Ada (an address and a mobile), Bob (an address only; easy read) and Cy (neither)."""
    return [make.patient(pharmacist, gp_practice_id=practice.id, given_name="Ada", postal_address=ADDRESS,
                         mobile_phone="07700 900123"),
            make.patient(pharmacist, gp_practice_id=practice.id, given_name="Bob", family_name="Brown",
                         postal_address=ADDRESS, easy_read=True),
            make.patient(pharmacist, gp_practice_id=practice.id, given_name="Cy", family_name="Young")]


def _token(client: FlaskClient) -> str:
    page = client.get("/find/invitations/").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def _chosen(client: FlaskClient, patients: list[Patient]):  # type: ignore[no-untyped-def]
    """The worklist's post: its checked rows."""
    return client.post(NEW, data={"csrf_token": _token(client), "patient_id": [each.id for each in patients]})


def _send_form(page: str) -> dict[str, object]:
    """The Send form as the browser would post it, with the boxes ticked as the page ticked them."""
    fields: dict[str, object] = {name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1)  # type: ignore[union-attr]
                                 for name in ("csrf_token", "submission_key", "send")}
    fields["patient_id"] = re.findall(r'name="patient_id" value="(\d+)"', page)
    fields["letter"] = re.findall(r'name="letter" type="checkbox" value="(\d+)" checked', page)
    fields["text"] = re.findall(r'name="text" type="checkbox" value="(\d+)" checked', page)
    return fields


def _count(model: type) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def _finish(batch_id: int) -> None:
    """Wait for the thread making the batch's letters (named after it), if one is running."""
    for thread in threading.enumerate():
        if thread.name == f"{background.THREAD_PREFIX} invitation-letters-{batch_id}":
            thread.join(timeout=120)
            assert not thread.is_alive()
    db.session.expire_all()
    assert db.session.get(InvitationBatch, batch_id).status != "rendering"  # type: ignore[union-attr]


def test_the_chosen_patients_are_shown_with_how_each_can_be_invited(signed_in: FlaskClient,
                                                                     three: list[Patient]) -> None:
    ada, bob, cy = three
    response = _chosen(signed_in, three)
    assert response.status_code == 200
    page = page_text(response)
    assert "3 patients chosen" in page and "Riverside Surgery" in page
    assert "Address<br>Mobile" in page and "Address<br>No mobile" in page
    assert "No address<br>No mobile<br><strong>Needs contact details</strong>" in page and "Nothing to send" in page
    assert "Easy read" in page
    fields = _send_form(response.get_data(as_text=True))
    assert fields["letter"] == [str(ada.id), str(bob.id)] and fields["text"] == [str(ada.id)]  # the defaults
    assert fields["patient_id"] == [str(ada.id), str(bob.id), str(cy.id)]
    assert "Invite again" not in page  # nobody is waiting to answer


def test_send_invites_renders_the_letters_and_offers_the_pdf_once_ready(signed_in: FlaskClient,
                                                                        three: list[Patient]) -> None:
    fields = _send_form(_chosen(signed_in, three).get_data(as_text=True))
    sent = signed_in.post(NEW, data=fields)
    assert sent.status_code == 302
    batch = db.session.scalars(select(InvitationBatch)).one()
    assert sent.location == f"/find/invitations/batches/{batch.id}"
    _finish(batch.id)
    assert (batch.status, batch.letters_done, batch.letters_total) == ("ready", 2, 2)
    assert batch.template_version == "2"
    page = page_text(signed_in.get(sent.location))
    assert ("3 invitations recorded: 2 letters being made, 1 text queued, 1 patient needs contact details "
            "(nothing sent).") in page
    assert "All 2 letters are ready." in page and "<progress" not in page and 'http-equiv="refresh"' not in page
    assert "BROWN, Bob</a> (easy read)" in page and "LOVELACE, Ada</a>, and a text" in page
    pdf = signed_in.get(f"/find/invitations/batches/{batch.id}/letters.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Dear Ada Lovelace," in text and "Dear Bob Brown," in text and "Cy Young" not in text
    assert "Yours sincerely, The GPs and team at Riverside Surgery" in text  # Ada's letter
    assert "From the GPs and team at Riverside Surgery" in text  # Bob's, easy read
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "print", AuditEvent.entity_type == "invitation_batch")) == 2
    # The same form again (a double click, Back and Send): nothing more.
    again = signed_in.post(NEW, data=fields, follow_redirects=True)
    assert "This was already saved at" in page_text(again)
    assert (_count(Invitation), _count(InvitationBatch), _count(Message)) == (3, 1, 1)
    listed = page_text(signed_in.get("/find/invitations/"))
    assert "Needs contact details" in listed and listed.count("Waiting for an answer") >= 2


def test_the_batch_page_shows_progress_and_refreshes_until_ready(signed_in: FlaskClient, pharmacist: User,
                                                                 three: list[Patient]) -> None:
    sent = invitations.send(by=pharmacist, choices=[Choice(three[0].id, by_letter=True, by_text=False),
                                                    Choice(three[1].id, by_letter=True, by_text=False)])
    assert sent.batch is not None
    invitations.claim_rendering(by=pharmacist, batch_id=sent.batch.id)  # as Send does; this run is never started
    db.session.commit()
    url = f"/find/invitations/batches/{sent.batch.id}"
    page = page_text(signed_in.get(url))
    assert '<meta http-equiv="refresh" content="2">' in page
    assert '<progress id="letters-progress" class="taper-progress" max="2" value="0">' in page
    assert "0 of 2 letters" in page and "Start again" not in page
    assert signed_in.get(url + "/letters.pdf").location == url  # not ready: back to the progress
    with clock.freeze(at(MONDAY, 8) + timedelta(seconds=59)):  # its run is making letters: no "Start again"
        assert "Start again" not in page_text(signed_in.get(url))
    with clock.freeze(at(MONDAY, 8) + timedelta(minutes=5)):  # no progress for a minute: a restart stopped it
        stalled = page_text(signed_in.get(url))
        assert "Start again" in stalled and 'http-equiv="refresh"' not in stalled
        assert signed_in.post(url + "/carry-on", data=_carry_on_form(stalled)).location == url
        _finish(sent.batch.id)
    assert db.session.get(InvitationBatch, sent.batch.id).status == "ready"  # type: ignore[union-attr]


def test_two_people_starting_stopped_letters_again_start_one_run(client: FlaskClient, make: Maker,
                                                                 pharmacist: User, three: list[Patient]) -> None:
    sent = invitations.send(by=pharmacist, choices=[Choice(three[0].id, by_letter=True, by_text=False)])
    assert sent.batch is not None
    invitations.claim_rendering(by=pharmacist, batch_id=sent.batch.id)  # a run a restart of the server stopped
    db.session.commit()
    url = f"/find/invitations/batches/{sent.batch.id}"
    colleague = make.user(Role.PHARMACIST, pharmacist.organisation)
    first, second = client, client.application.test_client()
    sign_in(first, pharmacist)
    sign_in(second, colleague)
    with clock.freeze(at(MONDAY, 8) + timedelta(minutes=5)):
        pages = [page_text(each.get(url)) for each in (first, second)]  # both see it stopped
        assert all("Start again" in page for page in pages)
        started = first.post(url + "/carry-on", data=_carry_on_form(pages[0]), follow_redirects=True)
        assert "The letters are being made again." in page_text(started)
        refused = second.post(url + "/carry-on", data=_carry_on_form(pages[1]), follow_redirects=True)
        assert "These letters are not stopped: they are still being made, or they are ready." in page_text(refused)
        _finish(sent.batch.id)
    assert db.session.get(InvitationBatch, sent.batch.id).status == "ready"  # type: ignore[union-attr]
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "invitation_batch")
                              .order_by(AuditEvent.id)).all() == ["render", "rendered"]  # one run
    assert db.session.scalars(select(AuditEvent.actor_user_id).where(AuditEvent.action == "render")).one() == (
        pharmacist.id)


def _carry_on_form(page: str) -> dict[str, str]:
    return {name: re.search(rf'name="{name}"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            for name in ("csrf_token", "submission_key")}


def test_an_unanswered_invitation_is_sent_again_only_when_ticked(signed_in: FlaskClient, pharmacist: User,
                                                                 three: list[Patient]) -> None:
    invitations.send(by=pharmacist, choices=[Choice(three[0].id, by_letter=False, by_text=True)])
    db.session.commit()
    chosen = _chosen(signed_in, three[:1])
    page = page_text(chosen)
    assert "4 January 2027, text" in page and "Waiting for an answer" in page and "Invite again" in page
    fields = _send_form(chosen.get_data(as_text=True))
    refused = page_text(signed_in.post(NEW, data=fields))
    assert "LOVELACE, Ada was invited on 4 January 2027 and has not answered yet" in refused
    assert _count(Invitation) == 1
    fields = _send_form(signed_in.post(NEW, data={"csrf_token": fields["csrf_token"],
                                                  "patient_id": [three[0].id]}).get_data(as_text=True))
    assert signed_in.post(NEW, data={**fields, "invite_again": "y"}).status_code == 302
    assert _count(Invitation) == 2 and _count(Message) == 2
    _finish(db.session.scalars(select(InvitationBatch.id)).one())  # the letter of the second invitation


def test_answer_is_recorded_corrected_and_an_acceptance_books_the_first_consultation(
        signed_in: FlaskClient, pharmacist: User, three: list[Patient]) -> None:
    capacity.add_session(by=pharmacist, details=SessionDetails(0, time(9), time(12), remote=False,
                                                               location="Room 4"))
    invitation = invitations.send(by=pharmacist, choices=[Choice(three[0].id, by_letter=False,
                                                                 by_text=True)]).invitations[0]
    db.session.commit()
    url = f"/find/invitations/{invitation.id}"
    page = signed_in.get(url).get_data(as_text=True)
    assert "Record the answer" in page and "Book the first consultation" not in page
    form = {name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1)  # type: ignore[union-attr]
            for name in ("csrf_token", "submission_key", "version")}
    saved = signed_in.post(url, data={**form, "answer": "accepted", "note": "Mornings"}, follow_redirects=True)
    shown = page_text(saved)
    assert "Answer recorded: accepted." in shown and "Mornings" in shown and "Correct the answer" in shown
    book = re.search(r'href="(/appointments/book\?[^"]+)"', saved.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    assert book.replace("&amp;", "&") in (f"/appointments/book?patient_id={three[0].id}&kind=initial",
                                          f"/appointments/book?kind=initial&patient_id={three[0].id}")
    booking = signed_in.get(book.replace("&amp;", "&")).get_data(as_text=True)
    assert re.search(r'name="kind"[^>]*value="initial"[^>]*checked', booking)
    first = re.search(r'name="book-when"[^>]*value="([^"]+)"', booking).group(1)  # type: ignore[union-attr]
    keyed = {name: re.search(rf'name="{name}"[^>]*value="([^"]+)"', booking).group(1)  # type: ignore[union-attr]
             for name in ("csrf_token", "book-submission_key")}
    booked = signed_in.post(book.replace("&amp;", "&"), data={**keyed, "book-when": first})
    assert booked.status_code == 302, page_text(booked)
    db.session.expire_all()
    appointment = db.session.scalars(select(Appointment)).one()
    assert db.session.get(Invitation, invitation.id).appointment_id == appointment.id  # type: ignore[union-attr]
    after = page_text(signed_in.get(url))
    assert "first consultation booked" in after and "Book the first consultation" not in after
    assert "Accepted</strong> <span class=\"taper-nowrap\">first consultation booked" in page_text(
        signed_in.get("/find/invitations/?show=accepted"))
    patient_page = page_text(signed_in.get(f"/patients/{three[0].id}"))
    assert "Invited on 4 January 2027 by text: accepted, first consultation booked." in patient_page
    # Correcting the answer from a page opened before the booking: refused as stale, nothing changed.
    stale = page_text(signed_in.post(url, data={**form, "submission_key": "", "answer": "declined"}))
    assert "Someone else saved changes" in stale
    assert db.session.get(Invitation, invitation.id).answer == "accepted"  # type: ignore[union-attr]


def test_another_clinics_records_are_not_found_and_a_gp_is_refused(client: FlaskClient, make: Maker,
                                                                   pharmacist: User, three: list[Patient]) -> None:
    sent = invitations.send(by=pharmacist, choices=[Choice(three[0].id, by_letter=True, by_text=False)])
    db.session.commit()
    assert sent.batch is not None
    other = make.user(Role.PHARMACIST)
    sign_in(client, other)
    assert _chosen(client, three[:1]).status_code == 404
    assert client.get(f"{NEW}?patient_id={three[0].id}").status_code == 404
    for url in (f"/find/invitations/{sent.invitations[0].id}", f"/find/invitations/batches/{sent.batch.id}",
                f"/find/invitations/batches/{sent.batch.id}/letters.pdf"):
        assert client.get(url).status_code == 404, url
    assert "No invitations yet." in page_text(client.get("/find/invitations/"))
    assert client.get(f"{NEW}?patient_id=x1").status_code == 404
    gp = make.user(Role.GP, three[0].gp_practice)
    gp_client = client.application.test_client()
    sign_in(gp_client, gp)
    for url in (NEW, "/find/invitations/", f"/find/invitations/{sent.invitations[0].id}"):
        assert gp_client.get(url).status_code == 403, url


def test_the_list_and_batch_pages_run_the_same_statements_for_3_and_30_invitations(
        signed_in: FlaskClient, make: Maker, pharmacist: User, practice: Organisation) -> None:
    def grow(to: int) -> int:
        for serial in range(_count(Invitation), to):
            patient = make.patient(pharmacist, gp_practice_id=practice.id, given_name=f"Pat{serial:02d}",
                                   postal_address=ADDRESS, mobile_phone="07700 900123")
            sent = invitations.send(by=pharmacist, choices=[Choice(patient.id, by_letter=True, by_text=True)])
            db.session.commit()
            if serial % 2:
                invitations.record_answer(by=pharmacist, invitation_id=sent.invitations[0].id,
                                          expected_version=sent.invitations[0].version, answer="accepted")
                db.session.commit()
        return int(db.session.scalar(select(func.max(InvitationBatch.id))) or 0)

    def statements(batch_id: int) -> list[int]:
        counts = []
        for url in ("/find/invitations/", "/find/invitations/?show=accepted", f"/find/invitations/batches/{batch_id}"):
            with counting() as run:
                assert signed_in.get(url).status_code == 200
            counts.append(run.count)
        return counts

    small = statements(grow(3))
    large = statements(grow(30))
    assert small == large, (small, large)
    assert len(re.findall(r'href="/find/invitations/\d+"', signed_in.get("/find/invitations/").get_data(
        as_text=True))) == 30
