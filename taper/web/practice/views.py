"""The GP's pages: the inbox of plan letters, each letter's own page, the practice's patients with plans, and
each patient's plan."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse

from taper.domain.organisations import Role
from taper.extensions import db
from taper.services import practice, sharing
from taper.services.plan_documents import TITLES
from taper.web import once
from taper.web.once import OnceForm
from taper.web.paging import page_number
from taper.web.security import roles

blueprint = Blueprint("practice", __name__, url_prefix="/practice")


@blueprint.route("/")
@roles(Role.GP)
def inbox() -> str:
    showing = request.args.get("show", "all")
    shown = practice.inbox(by=current_user, page=page_number(), showing=showing)
    # Drawn before the commit, which would expire every letter loaded and have the page read each one again.
    page = render_template("practice/inbox.html", inbox=shown, letters=shown.letters, form=FlaskForm())
    db.session.commit()
    return page


@blueprint.route("/patients")
@roles(Role.GP)
def patients() -> str:
    found = sharing.organisation_patients(current_user, page=page_number())
    return render_template("practice/patients.html", found=found)


@blueprint.route("/patients/<int:patient_id>")
@roles(Role.GP)
def patient(patient_id: int) -> str:
    shown = practice.patient_plan(by=current_user, patient_id=patient_id)
    page = render_template("practice/patient.html", shown=shown, form=FlaskForm(), titles=TITLES)
    db.session.commit()
    return page


@blueprint.route("/documents/<int:document_id>.pdf")
@roles(Role.GP)
def document(document_id: int) -> Response:
    """A letter or patient plan as issued; opening a letter marks it read for the practice."""
    opened = practice.open_letter(by=current_user, document_id=document_id)
    pdf = opened.pdf  # (read before the commit expires it)
    db.session.commit()
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{opened.kind}-{document_id}.pdf"'
    return response


@blueprint.route("/letters/<int:document_id>")
@roles(Role.GP)
def letter(document_id: int) -> str:
    """One letter's page: its summary, the PDF, and Acknowledge (or who acknowledged it, or what replaced it)."""
    shown = practice.letter(by=current_user, document_id=document_id)
    page = render_template("practice/letter.html", shown=shown, letter=shown.letter, form=FlaskForm())
    db.session.commit()
    return page


@blueprint.route("/letters/<int:document_id>/acknowledge", methods=["POST"])
@roles(Role.GP)
def acknowledge(document_id: int) -> WerkzeugResponse:
    """Acknowledge a letter, from the inbox or from the letter's own page (`?from=letter`), and go back there.
    A letter a revision replaced is refused, pointing to the current one."""
    back = (url_for("practice.letter", document_id=document_id) if request.args.get("from") == "letter"
            else url_for("practice.inbox"))
    form = OnceForm()
    if form.validate_on_submit():
        once.claim(form)
        try:
            practice.acknowledge(by=current_user, document_id=document_id)
        except practice.LetterReplaced as replaced:
            db.session.rollback()
            flash(" ".join(replaced.errors.values()), "error")
            return redirect(url_for("practice.letter", document_id=replaced.current_document_id or document_id))
        db.session.commit()
        flash("Letter acknowledged: the clinic can see that you have it.", "success")
    return redirect(back)
