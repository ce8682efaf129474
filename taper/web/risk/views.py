"""Risk assessment: the factors, the suggested level of support with its reasons, and the level chosen."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from taper.domain.organisations import Role
from taper.domain.risk import SupportLevel
from taper.extensions import db
from taper.services import patients, risk
from taper.web.fields import save
from taper.web.risk.forms import RiskForm
from taper.web.security import roles

blueprint = Blueprint("risk", __name__, url_prefix="/patients/<int:patient_id>/risk")


@blueprint.route("/new", methods=["GET", "POST"])
@roles(Role.PHARMACIST)
def new(patient_id: int) -> Response | str:
    """First "Check" shows the suggested level and why; then "Save" records the level chosen."""
    form = RiskForm()
    suggestion = None
    if form.validate_on_submit() and not _unanswered(form, patient_id):
        suggestion = save(form, lambda: risk.suggest(by=current_user, patient_id=patient_id, answers=form.answers()),
                          commit=False)
        if suggestion is not None and "save" in request.form:
            if not form.chosen_level.data:
                form.chosen_level.errors = ["Choose the level of support"]
            else:
                record = save(form, lambda: risk.record_assessment(
                    by=current_user, patient_id=patient_id, answers=form.answers(),
                    chosen_level=SupportLevel(int(form.chosen_level.data)),
                    override_reason=form.override_reason.data or ""))
                if record is not None:
                    flash("Risk assessment recorded.", "success")
                    return redirect(url_for("patients.detail", patient_id=patient_id) + "#risk")
        if suggestion is not None and not form.chosen_level.data:
            form.chosen_level.data = str(suggestion.level.value)
    patient = patients.view_patient(by=current_user, patient_id=patient_id)
    db.session.commit()
    return render_template("risk/new.html", form=form, patient=patient, suggestion=suggestion)


def _unanswered(form: RiskForm, patient_id: int) -> bool:
    """Put a message by each question put to this patient but not answered; True if there was one."""
    missing = risk.unanswered(by=current_user, patient_id=patient_id, answers=form.answers())
    for name, message in missing.items():
        getattr(form, name).errors = [message]
    return bool(missing)
