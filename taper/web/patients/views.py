"""The clinic's patients. Searches are POSTed so NHS numbers never appear in URLs or server logs."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from taper.domain.organisations import OrganisationKind, Role
from taper.domain.patients import CONTACT_BY
from taper.domain.risk import RiskFactor, SupportLevel
from taper.extensions import db
from taper.services import accounts, patients, plans, regimens, risk
from taper.services.errors import InvalidInput
from taper.services.patients import ListFilter
from taper.web.fields import organisation_choices, save
from taper.web.paging import page_number
from taper.web.patients.forms import PatientForm, SearchForm
from taper.web.security import roles

blueprint = Blueprint("patients", __name__, url_prefix="/patients")


@blueprint.route("/")
@roles(Role.PHARMACIST)
def index() -> str:
    """The caseload a page at a time, all of it or the part a filter picks (?show=running ...)."""
    show = _list_filter(request.args.get("show", ""))
    listed = patients.caseload(by=current_user, page=page_number(), show=show)
    return render_template("patients/index.html", page=listed, search=SearchForm(), results=None, show=show,
                           filters=list(ListFilter))


@blueprint.route("/search", methods=["POST"])
@roles(Role.PHARMACIST)
def search() -> str:
    """Results come a page at a time; the next page is asked for by posting the search again with its number."""
    form = SearchForm()
    results = None
    if form.validate_on_submit():
        try:
            results = patients.search_patients(by=current_user, text=form.query.data, page=page_number("form"))
        except InvalidInput as refusal:
            form.query.errors = [*form.query.errors, *refusal.errors.values()]
    page = render_template("patients/index.html", page=None, search=form, results=results, show=ListFilter.ALL,
                           filters=list(ListFilter))
    db.session.commit()  # after rendering: a commit would expire the patients shown, to be read again one by one
    return page


def _list_filter(value: str) -> ListFilter:
    """The filter named in the address; all patients for anything else."""
    try:
        return ListFilter(value)
    except ValueError:
        return ListFilter.ALL


@blueprint.route("/new", methods=["GET", "POST"])
@roles(Role.PHARMACIST)
def new() -> Response | str:
    form = _with_choices(PatientForm())
    if form.validate_on_submit():
        patient = save(form, lambda: patients.create_patient(by=current_user, details=form.details()))
        if patient is not None:
            flash(f"{patient.given_name} {patient.family_name} has been added.", "success")
            return redirect(url_for("patients.detail", patient_id=patient.id))
    return render_template("patients/form.html", form=form, patient=None)


@blueprint.route("/<int:patient_id>")
@roles(Role.PHARMACIST)
def detail(patient_id: int) -> str:
    patient = patients.view_patient(by=current_user, patient_id=patient_id)
    recorded = regimens.history(by=current_user, patient_id=patient_id)
    current = recorded[0] if recorded else None
    risk_assessment = risk.latest(by=current_user, patient_id=patient_id)
    patient_plans = plans.plans_of(by=current_user, patient_id=patient_id)
    db.session.commit()
    return render_template("patients/detail.html", patient=patient, regimen=current,
                           assessment=regimens.assessment_of(current) if current else None,
                           earlier_regimens=len(recorded) - 1, risk_assessment=risk_assessment, plans=patient_plans,
                           contact_by=CONTACT_BY,
                           factor_labels={factor.value: factor.label for factor in RiskFactor},
                           level_labels={level.value: level.label for level in SupportLevel})


@blueprint.route("/<int:patient_id>/edit", methods=["GET", "POST"])
@roles(Role.PHARMACIST)
def edit(patient_id: int) -> Response | str:
    patient = patients.view_patient(by=current_user, patient_id=patient_id)
    form = _with_choices(PatientForm(obj=patient if request.method == "GET" else None))
    if form.validate_on_submit():
        saved = save(form, lambda: patients.update_patient(
            by=current_user, patient_id=patient_id, expected_version=form.version.data or 0,
            details=form.details()))
        if saved is not None:
            flash("Patient details saved.", "success")
            return redirect(url_for("patients.detail", patient_id=patient_id))
        # The refused save rolled back the whole transaction, the first view's audit row included.
        patient = patients.view_patient(by=current_user, patient_id=patient_id)
    db.session.commit()
    return render_template("patients/form.html", form=form, patient=patient)


def _with_choices(form: PatientForm) -> PatientForm:
    organisation_choices(form.gp_practice_id, accounts.organisations(OrganisationKind.GP_PRACTICE),
                         blank="Select a GP practice")
    organisation_choices(form.pharmacy_id, accounts.organisations(OrganisationKind.COMMUNITY_PHARMACY),
                         blank="None nominated")
    return form


@blueprint.route("/<int:patient_id>/access")
@roles(Role.PHARMACIST)
def access_history(patient_id: int) -> str:
    """Everyone who looked at or changed this patient's records (clinic, GP practice, pharmacy), a page at a
    time."""
    patient = patients.view_patient(by=current_user, patient_id=patient_id)
    events = patients.access_history(by=current_user, patient_id=patient_id, page=page_number())
    page = render_template("patients/access.html", patient=patient, events=events)
    db.session.commit()  # after rendering, which then reads nothing again
    return page
