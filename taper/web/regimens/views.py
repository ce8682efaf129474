"""Recording a patient's current regimen and seeing its OME breakdown and findings."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from taper.domain.formulary import load_formulary
from taper.domain.organisations import Role
from taper.domain.pasted_record import PastedReading, PasteTooLong, read_pasted
from taper.extensions import db
from taper.services import patients, regimens
from taper.web.arguments import record_id
from taper.web.fields import save
from taper.web.regimens.forms import MAX_LINES, RegimenForm
from taper.web.security import roles

blueprint = Blueprint("regimens", __name__, url_prefix="/patients/<int:patient_id>/regimens")


@blueprint.route("/new", methods=["GET", "POST"])
@roles(Role.PHARMACIST)
def new(patient_id: int) -> Response | str:
    """Record the current regimen. "Check" shows the OME and findings without saving; "Save" records it.
    A "did you mean" button reads a line's doses as counts of tablets and checks again, saving nothing.
    "Read the pasted lines" reads medication lines pasted from the GP record into the form, saving nothing;
    `?confirm=<regimen id>` opens the form with a practice record's regimen in it, to check and save."""
    form = RegimenForm()
    assessment = None
    pasted: PastedReading | None = None
    left_out: list[str] = []
    confirming = None
    confirm_id = record_id("confirm")
    if not form.is_submitted() and confirm_id is not None:
        # "Check and confirm" a regimen from a practice record: its lines in the form, saved as a new regimen.
        confirming = regimens.practice_record(by=current_user, patient_id=patient_id, regimen_id=confirm_id)
        left_out = form.fill(confirming.lines, benzodiazepine=confirming.benzodiazepine,
                             gabapentinoid=confirming.gabapentinoid)
    elif form.validate_on_submit():
        if "read_pasted" in request.form:  # read the pasted lines into the form; nothing is saved
            try:
                pasted = read_pasted(form.pasted.data or "", load_formulary())
            except PasteTooLong as refusal:
                form.pasted.errors = [*form.pasted.errors, str(refusal)]
            else:
                left_out = form.fill(pasted.lines, benzodiazepine=pasted.benzodiazepine or form.benzodiazepine.data,
                                     gabapentinoid=pasted.gabapentinoid or form.gabapentinoid.data)
        elif "add_line" in request.form:
            if len(form.lines) < MAX_LINES:
                form.lines.append_entry()
        else:
            if request.form.get("use_units", "").isdecimal():  # "did you mean 2 tablets?": shown, then checked
                form.use_suggestion(int(request.form["use_units"]))
            entry = form.entry()
            if not form.has_field_errors():
                if "save" in request.form:
                    record = save(form, lambda: regimens.record_regimen(by=current_user, patient_id=patient_id,
                                                                        entry=entry), locate=form.field_for)
                    if record is not None:
                        flash("Regimen recorded.", "success")
                        return redirect(url_for("patients.detail", patient_id=patient_id))
                else:
                    assessment = save(form, lambda: regimens.preview(by=current_user, patient_id=patient_id,
                                                                     entry=entry),
                                      locate=form.field_for, commit=False)
    form.name_units()
    patient = patients.view_patient(by=current_user, patient_id=patient_id)
    db.session.commit()
    return render_template("regimens/new.html", form=form, patient=patient, assessment=assessment, pasted=pasted,
                           left_out=left_out, confirming=confirming)


@blueprint.route("/")
@roles(Role.PHARMACIST)
def history(patient_id: int) -> str:
    records = regimens.history(by=current_user, patient_id=patient_id)
    patient = patients.view_patient(by=current_user, patient_id=patient_id)
    db.session.commit()
    return render_template("regimens/history.html", patient=patient,
                           records=[(record, regimens.assessment_of(record)) for record in records])
