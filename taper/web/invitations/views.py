"""Invitations (issue 18, item 4): the patients chosen on the find worklist invited in their GP practice's name,
by letter and/or text; the letters of a sending rendered in the background as one PDF to print; the answers
recorded, and the first consultation booked from an acceptance."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from taper.domain.organisations import Role
from taper.extensions import db
from taper.services import invitations
from taper.services.errors import StaleEdit
from taper.services.invitations import Choice, Claim, Sending, Shown
from taper.web import background
from taper.web.arguments import MAX_RECORD_ID
from taper.web.fields import save
from taper.web.invitations.forms import AnswerForm, CarryOnForm, InviteForm, ShowForm
from taper.web.paging import page_number
from taper.web.security import roles

blueprint = Blueprint("invitations", __name__, url_prefix="/find/invitations")

REFRESH_SECONDS = 2
_DIGITS = re.compile(r"[0-9]{1,10}")


@blueprint.route("/")
@roles(Role.PHARMACIST)
def index() -> str:
    """The clinic's invitations, latest first, by answer."""
    show = ShowForm(formdata=request.args)
    shown = Shown(show.show.data) if show.show.data in {each.value for each in Shown} else Shown.ALL
    found = invitations.listing(by=current_user, page=page_number(), shown=shown)
    page = render_template("invitations/index.html", found=found, show=show, shown=shown,
                           booked=invitations.with_first_consultation(found.items),
                           answers=invitations.ANSWER_LABELS)
    db.session.commit()  # after drawing the page: a commit would expire the rows and load each one again
    return page


@blueprint.route("/new", methods=["GET", "POST"])
@roles(Role.PHARMACIST)
def new() -> WerkzeugResponse | str:
    """The patients chosen (`patient_id`, repeated: the find worklist posts its checked rows here), how each can
    be invited, and Send."""
    patient_ids = _ids("patient_id")
    sending = request.method == "POST" and request.form.get("send") == "yes"
    form = InviteForm() if sending else InviteForm(formdata=None)  # the worklist's post is not this form's
    if sending and form.validate_on_submit():
        letters, texts = set(_ids("letter")), set(_ids("text"))
        choices = [Choice(patient_id=patient_id, by_letter=patient_id in letters, by_text=patient_id in texts)
                   for patient_id in patient_ids]
        done = save(form, lambda: _send_and_claim(choices, invite_again=bool(form.invite_again.data)))
        if done is not None:
            sent, claim = done
            flash(_sent_words(sent), "success")
            if sent.batch is not None and claim is not None:
                _start(claim)
                return redirect(url_for("invitations.batch", batch_id=sent.batch.id))
            return redirect(url_for("invitations.index"))
    found = invitations.candidates(by=current_user, patient_ids=patient_ids)
    if sending:
        letters, texts = set(_ids("letter")), set(_ids("text"))
    else:  # the defaults: a letter when there is an address, a text when there is a mobile
        letters = {each.patient.id for each in found if each.has_address}
        texts = {each.patient.id for each in found if each.has_mobile}
    page = render_template("invitations/new.html", form=form, found=found, letters=letters, texts=texts,
                           reinvite_days=invitations.REINVITE_DAYS, answers=invitations.ANSWER_LABELS)
    db.session.commit()  # the looks at each record (audited), after drawing the page from the rows loaded
    return page


@blueprint.route("/batches/<int:batch_id>")
@roles(Role.PHARMACIST)
def batch(batch_id: int) -> str:
    """A sending's letters: their progress while they render (the page refreshes itself), then the PDF."""
    found = invitations.get_batch(by=current_user, batch_id=batch_id)
    invited = invitations.invitations_of_batch(by=current_user, batch_id=batch_id)
    db.session.commit()
    stalled = invitations.stalled(found)
    return render_template("invitations/batch.html", batch=found, invited=invited, stalled=stalled,
                           booked=invitations.with_first_consultation(invited),
                           carry_on=CarryOnForm(),
                           refresh=REFRESH_SECONDS if found.status == "rendering" and not stalled else None)


@blueprint.route("/batches/<int:batch_id>/letters.pdf")
@roles(Role.PHARMACIST)
def batch_pdf(batch_id: int) -> WerkzeugResponse:
    """The letters in one PDF, to print (audited: who printed them); the batch's page while they render."""
    found = invitations.get_batch(by=current_user, batch_id=batch_id)
    if found.status != "ready":
        db.session.commit()
        flash("The letters are not ready yet.", "info")
        return redirect(url_for("invitations.batch", batch_id=batch_id))
    pdf = invitations.batch_pdf(by=current_user, batch_id=batch_id)
    db.session.commit()
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="invitation-letters-{batch_id}.pdf"'
    return response


@blueprint.route("/batches/<int:batch_id>/carry-on", methods=["POST"])
@roles(Role.PHARMACIST)
def carry_on(batch_id: int) -> WerkzeugResponse:
    """Render a stopped or failed batch's letters again, from the first: only when this request claims them (two
    carry-ons at once, from two pages or two people, start one run)."""
    invitations.get_batch(by=current_user, batch_id=batch_id)
    form = CarryOnForm()
    if form.validate_on_submit():
        claim = save(form, lambda: invitations.claim_rendering(by=current_user, batch_id=batch_id,
                                                               carrying_on=True))
        if claim is not None:
            _start(claim)
            flash("The letters are being made again.", "success")
        for error in form.form_errors:
            flash(error, "info")
    db.session.commit()
    return redirect(url_for("invitations.batch", batch_id=batch_id))


@blueprint.route("/<int:invitation_id>", methods=["GET", "POST"])
@roles(Role.PHARMACIST)
def detail(invitation_id: int) -> WerkzeugResponse | str:
    """One patient's invitation: record or correct their answer; from an acceptance, book the first
    consultation."""
    invitation = invitations.get(by=current_user, invitation_id=invitation_id)
    form = AnswerForm()
    if request.method == "GET":
        form.answer.data, form.note.data, form.version.data = (invitation.answer, invitation.answer_note,
                                                               invitation.version)
    elif form.validate_on_submit():
        answered = save(form, lambda: invitations.record_answer(
            by=current_user, invitation_id=invitation_id, expected_version=form.version.data or 0,
            answer=form.answer.data or "", note=form.note.data or ""))
        if answered is not None:
            flash(f"Answer recorded: {invitations.ANSWER_LABELS[answered.answer or ''].lower()}.", "success")
            return redirect(url_for("invitations.detail", invitation_id=invitation_id))
        invitation = invitations.get(by=current_user, invitation_id=invitation_id)
    booked = invitations.first_consultation_of(invitation)
    db.session.commit()
    return render_template("invitations/detail.html", invitation=invitation, form=form, booked=booked,
                           answers=invitations.ANSWER_LABELS)


@blueprint.app_context_processor
def patient_invitations() -> dict[str, object]:
    """For the patient page's line about their latest invitation."""
    return {"latest_invitation_of": lambda patient_id: invitations.latest_of_patient(
        by=current_user, patient_id=patient_id), "answers_of_invitations": invitations.ANSWER_LABELS,
        "first_consultation_booked": lambda invitation: bool(invitations.with_first_consultation([invitation]))}


def _sent_words(sent: Sending) -> str:
    made = len(sent.invitations)
    words = [f"{made} invitation{'s' if made != 1 else ''} recorded"]
    if sent.batch is not None:
        words.append(f"{sent.batch.letters_total} letter{'s' if sent.batch.letters_total != 1 else ''} being made")
    if sent.texts_queued:
        words.append(f"{sent.texts_queued} text{'s' if sent.texts_queued != 1 else ''} queued")
    if sent.needing_contact_details:
        count = len(sent.needing_contact_details)
        words.append(f"{count} patient{'s' if count != 1 else ''} need{'s' if count == 1 else ''} contact details "
                     "(nothing sent)")
    return ": ".join([words[0], ", ".join(words[1:])]) + "." if len(words) > 1 else words[0] + "."


def _send_and_claim(choices: list[Choice], *, invite_again: bool) -> tuple[Sending, Claim | None]:
    """The invitations, and the claim on their letters for the run this request starts (in one transaction: a
    batch is never committed unclaimed, and nothing else can claim it before this request's run)."""
    sent = invitations.send(by=current_user, choices=choices, invite_again=invite_again)
    claim = None if sent.batch is None else invitations.claim_rendering(by=current_user, batch_id=sent.batch.id)
    return sent, claim


def _start(claim: Claim) -> None:
    """Make the claimed letters in a thread (called after the claim is committed)."""
    background.start(lambda: _render(claim), name=f"invitation-letters-{claim.batch_id}")


def _render(claim: Claim) -> None:
    """The batch's letters, each counted as it is done (committed, for the page's progress); on an error the
    batch is marked failed (the thread logs it). A run that finds another has claimed the letters (it was
    thought stopped) leaves them to it."""
    try:
        invitations.render_batch(claim=claim, progress=db.session.commit)
        db.session.commit()
    except StaleEdit:
        db.session.rollback()
    except Exception as error:
        db.session.rollback()
        invitations.batch_failed(claim=claim, error=f"The letters could not be made ({type(error).__name__}). "
                                                    "Start again; if it fails again, tell your Taper "
                                                    "administrator.")
        db.session.commit()
        raise


def _ids(name: str) -> list[int]:
    """The record ids posted (or in the query string) as `name`, each once, in order; 404 for one that is no id."""
    ids: list[int] = []
    for text in request.values.getlist(name):
        if not _DIGITS.fullmatch(text) or not 1 <= int(text) <= MAX_RECORD_ID:
            abort(404)
        if int(text) not in ids:
            ids.append(int(text))
    return ids
