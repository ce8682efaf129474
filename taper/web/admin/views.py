"""Administration: user accounts and organisations."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from taper.domain.limits import Limits
from taper.domain.makeable import plain
from taper.domain.organisations import OrganisationKind, Role
from taper.services import accounts
from taper.web.admin.forms import (
    ClinicSettingsForm,
    EditUserForm,
    OrganisationForm,
    PasswordForm,
    ResetTwoFactorForm,
    UserForm,
)
from taper.web.fields import organisation_choices, save
from taper.web.security import roles

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


@blueprint.route("/users")
@roles(Role.ADMIN)
def users() -> str:
    return render_template("admin/users.html", users=accounts.users())


@blueprint.route("/users/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def new_user() -> Response | str:
    form = _with_organisations(UserForm())
    if form.validate_on_submit():
        user = save(form, lambda: accounts.create_user(
            by=current_user, email=form.email.data, full_name=form.full_name.data, role=Role(form.role.data),
            organisation_id=form.organisation_id.data, password=form.password.data,
            job_title=form.job_title.data or "", registration_body=form.registration_body.data or "",
            registration_number=form.registration_number.data or ""))
        if user is not None:
            flash(f"Account created for {user.full_name}.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


@blueprint.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@roles(Role.ADMIN)
def edit_user(user_id: int) -> Response | str:
    user = accounts.get_user(user_id)
    form = _with_organisations(EditUserForm(obj=user if request.method == "GET" else None))
    if form.validate_on_submit():
        saved = save(form, lambda: accounts.update_user(
            by=current_user, user_id=user_id, expected_version=form.version.data or 0,
            full_name=form.full_name.data, role=Role(form.role.data),
            organisation_id=form.organisation_id.data, active=form.active.data,
            job_title=form.job_title.data or "", registration_body=form.registration_body.data or "",
            registration_number=form.registration_number.data or ""))
        if saved is not None:
            flash(f"Account for {saved.full_name} saved.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=accounts.get_user(user_id))


@blueprint.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@roles(Role.ADMIN)
def set_password(user_id: int) -> Response | str:
    user = accounts.get_user(user_id)
    form = PasswordForm()
    if form.validate_on_submit():
        saved = save(form, lambda: accounts.set_password(by=current_user, user_id=user_id,
                                                         password=form.password.data))
        if saved is not None:
            flash(f"New password set for {user.full_name}. They have been signed out everywhere.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/password_form.html", form=form, user=user)


@blueprint.route("/users/<int:user_id>/two-factor", methods=["GET", "POST"])
@roles(Role.ADMIN)
def reset_two_factor(user_id: int) -> Response | str:
    """For someone who lost their authenticator app and recovery codes: they set up a new app at next sign-in."""
    user = accounts.get_user(user_id)
    form = ResetTwoFactorForm()
    if form.validate_on_submit():
        saved = save(form, lambda: accounts.reset_two_factor(by=current_user, user_id=user_id))
        if saved is not None:
            flash(f"Two-factor sign-in reset for {user.full_name}. They have been signed out everywhere and will set "
                  "up their authenticator app again when they next sign in.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/reset_two_factor.html", form=form, user=user)


@blueprint.route("/organisations")
@roles(Role.ADMIN)
def organisations() -> str:
    return render_template("admin/organisations.html", organisations=accounts.organisations(),
                           needing_details=accounts.practices_needing_details())


@blueprint.route("/organisations/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def new_organisation() -> Response | str:
    form = OrganisationForm()
    if form.validate_on_submit():
        organisation = save(form, lambda: accounts.create_organisation(
            by=current_user, kind=OrganisationKind(form.kind.data), name=form.name.data,
            ods_code=form.ods_code.data, phone=form.phone.data or "", address=form.address.data or ""))
        if organisation is not None:
            flash(f"{organisation.name} added.", "success")
            return redirect(url_for("admin.organisations"))
    return render_template("admin/organisation_form.html", form=form, organisation=None)


@blueprint.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@roles(Role.ADMIN)
def edit_organisation(organisation_id: int) -> Response | str:
    organisation = accounts.get_organisation(organisation_id)
    is_clinic = organisation.kind is OrganisationKind.PAIN_CLINIC
    form_class = ClinicSettingsForm if is_clinic else OrganisationForm
    form = form_class(obj=organisation if request.method == "GET" else None)
    if is_clinic and request.method == "GET":
        form.high_dose_threshold_mg.data = plain(organisation.high_dose_threshold_mg)
    del form.kind  # the type of an existing organisation is fixed
    if form.validate_on_submit():
        saved = save(form, lambda: accounts.update_organisation(
            by=current_user, organisation_id=organisation_id, expected_version=form.version.data or 0,
            name=form.name.data, ods_code=form.ods_code.data, phone=form.phone.data or "",
            address=form.address.data or "", factor_set=form.factor_set.data if is_clinic else None,
            high_dose_threshold_mg=Decimal(form.high_dose_threshold_mg.data) if is_clinic else None,
            plan_lead_days=form.plan_lead_days.data if is_clinic else None,
            limits=Limits(paracetamol_max_mg_per_day=Decimal(form.paracetamol_max_mg_per_day.data),
                          plausible_units_per_dose=form.plausible_units_per_dose.data,
                          plausible_ome_mg_per_day=Decimal(form.plausible_ome_mg_per_day.data)) if is_clinic else None,
            supplies_naloxone=form.supplies_naloxone.data if is_clinic else None))
        if saved is not None:
            missing = accounts.details_missing(saved) if saved.details_needed else []
            flash(f"{saved.name} saved." + (f" Still needed before invitations can go out in its name: "
                                             f"{'; '.join(missing)}." if missing else ""), "success")
            return redirect(url_for("admin.organisations"))
    organisation = accounts.get_organisation(organisation_id)
    return render_template("admin/organisation_form.html", form=form, organisation=organisation,
                           details_missing=accounts.details_missing(organisation))


def _with_organisations(form: UserForm) -> UserForm:
    organisation_choices(form.organisation_id, accounts.organisations(),
                         blank="None (administrators only)")
    return form
