"""Building, agreeing and running a tapering plan."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from taper import clock
from taper.documents.chart import ome_chart_description, ome_chart_svg
from taper.domain.follow_up import PEG_ITEMS, SOWS_GOSSOP_ITEMS
from taper.domain.formulary import load_formulary
from taper.domain.organisations import Role
from taper.domain.plan_diff import differences
from taper.domain.plans import PlanStatus, schedule_summary
from taper.extensions import db
from taper.models import Plan
from taper.services import (
    appointments,
    community_pharmacy,
    follow_ups,
    lead_time,
    messages,
    patients,
    pharmacy_concerns,
    plan_documents,
    plans,
    practice,
    regimens,
)
from taper.web.arguments import record_id
from taper.web.fields import save
from taper.web.plans.follow_up_form import FollowUpForm
from taper.web.plans.forms import DecisionForm, DeleteDraftForm, DraftForm, PlanForm, StatusForm
from taper.web.security import roles

blueprint = Blueprint("plans", __name__)


@blueprint.route("/patients/<int:patient_id>/plans/new", methods=["GET", "POST"])
@roles(Role.PHARMACIST)
def new(patient_id: int) -> WerkzeugResponse | str:
    """Choose the pace and see the schedule; "Preview" keeps everything typed, "Save draft" creates the plan."""
    current = regimens.history(by=current_user, patient_id=patient_id)
    products = plans.reduction_order(current[0].lines) if current else []
    form = _with_choices(PlanForm(), products)
    if not form.is_submitted():
        form.start_on.process(None, lead_time.default_start_on(current_user.organisation))
    schedule = None
    limit = current_app.config["TAPER_PLAN_START_MAX_DAYS_AGO"]
    if form.validate_on_submit():
        if "save" in request.form:
            plan = save(form, lambda: plans.create_draft(
                by=current_user, patient_id=patient_id, settings=form.settings(products, max_start_days_ago=limit)))
            if plan is not None:
                flash("Draft plan saved. Record the shared decision with the patient, then start it.", "success")
                return redirect(url_for("plans.detail", plan_id=plan.id))
        else:
            schedule = _preview(form, patient_id, products)
    patient = patients.view_patient(by=current_user, patient_id=patient_id)
    db.session.commit()
    return _builder_page(form, patient, schedule, has_regimen=bool(current))


@blueprint.route("/plans/<int:plan_id>/edit", methods=["GET", "POST"])
@roles(Role.PHARMACIST)
def edit(plan_id: int) -> WerkzeugResponse | str:
    """The builder opened on a draft with its settings; "Save changes" gives the same draft a new version."""
    plan = plans.get_plan(by=current_user, plan_id=plan_id)
    if plan.status is not PlanStatus.DRAFT:
        flash(f"Plan {plan.number} is {plan.status.value}: only a draft can be changed in the builder.", "info")
        return redirect(url_for("plans.detail", plan_id=plan_id))
    current = regimens.history(by=current_user, patient_id=plan.patient_id)
    products = plans.reduction_order(current[0].lines) if current else []
    form = _with_choices(DraftForm(version=plan.version), products)
    if not form.is_submitted() and not form.refilled:  # (work kept after a timed-out session is shown as typed)
        form.fill(plans.settings_of(plan), products)
    schedule = None
    limit = current_app.config["TAPER_PLAN_START_MAX_DAYS_AGO"]
    if form.validate_on_submit():
        if "save" in request.form:
            if save(form, lambda: plans.edit_draft(
                    by=current_user, plan_id=plan_id, expected_version=form.version.data,
                    settings=form.settings(products, max_start_days_ago=limit))) is not None:
                flash(f"Draft plan {plan.number} changed.", "success")
                return redirect(url_for("plans.detail", plan_id=plan_id))
            plan = plans.get_plan(by=current_user, plan_id=plan_id)
        else:
            schedule = _preview(form, plan.patient_id, products)
    patient = patients.view_patient(by=current_user, patient_id=plan.patient_id)
    db.session.commit()
    return _builder_page(form, patient, schedule, has_regimen=bool(current), plan=plan)


@blueprint.route("/plans/<int:plan_id>/delete", methods=["GET", "POST"])
@roles(Role.PHARMACIST)
def delete(plan_id: int) -> WerkzeugResponse | str:
    """Ask before deleting a draft; the confirmed form deletes it (refused once the plan has started)."""
    plan = plans.get_plan(by=current_user, plan_id=plan_id)
    form = DeleteDraftForm(version=plan.version)
    if form.validate_on_submit() and save(form, lambda: plans.delete_draft(
            by=current_user, plan_id=plan_id, expected_version=form.version.data)):
        flash(f"Draft plan {plan.number} deleted.", "success")
        return redirect(url_for("patients.detail", patient_id=plan.patient_id))
    plan = plans.get_plan(by=current_user, plan_id=plan_id)
    patient = patients.view_patient(by=current_user, patient_id=plan.patient_id)
    db.session.commit()
    return render_template("plans/delete.html", form=form, plan=plan, patient=patient)


def _with_choices(form: PlanForm, products: list[str]) -> PlanForm:
    form.set_order_choices(products, {key: load_formulary().get(key).label() for key in products})
    form.set_switch_choices(plans.switches_offered(products), plans.switch_brands_offered(products))
    return form


def _preview(form: PlanForm, patient_id: int, products: list[str]) -> dict[str, Any] | None:
    limit = current_app.config["TAPER_PLAN_START_MAX_DAYS_AGO"]
    return save(form, lambda: plans.preview(
        by=current_user, patient_id=patient_id, settings=form.settings(products, max_start_days_ago=limit)),
        commit=False)


def _builder_page(form: PlanForm, patient: Any, schedule: dict[str, Any] | None, *, has_regimen: bool,
                  plan: Plan | None = None) -> str:
    """The builder, with the previewed schedule (if any) at #result, where the Preview button lands."""
    early_start = lead_time.early_start_notice(current_user.organisation, form.start_on.data) if schedule else None
    return render_template("plans/new.html", form=form, patient=patient, schedule=schedule, plan=plan,
                           has_regimen=has_regimen, early_start=early_start,
                           summary=schedule_summary(schedule) if schedule else None,
                           chart=ome_chart_svg(schedule) if schedule else None,
                           chart_description=ome_chart_description(schedule) if schedule else None)


@blueprint.app_context_processor
def clinic_today() -> dict[str, object]:
    """For the steps table (templates/plans/_steps.html), which marks the step the clinic's today falls in."""
    return {"clinic_today": clock.today}


@blueprint.route("/plans/<int:plan_id>")
@roles(Role.PHARMACIST)
def detail(plan_id: int) -> str:
    return _detail_page(plan_id)


def _detail_page(plan_id: int, *, decision_form: DecisionForm | None = None,
                 status_form: StatusForm | None = None) -> str:
    """The plan page; a refused decision or status form is shown again with its messages and what was typed."""
    plan = plans.view_plan(by=current_user, plan_id=plan_id)
    patient = patients.view_patient(by=current_user, patient_id=plan.patient_id)
    decision = plans.latest_decision(plan)
    held = follow_ups.follow_ups_of(by=current_user, plan_id=plan_id)
    issued = plan_documents.documents_of(plan.current)
    booked, unbooked = appointments.of_plan(by=current_user, plan=plan), appointments.unbooked_reviews(plan)
    initial_not_booked = appointments.initial_not_booked(plan)
    early_start = lead_time.early_start_notice_for_draft(plan)
    receipts, supplies = practice.receipts_of(plan), community_pharmacy.supplies_of(plan)
    concerns = pharmacy_concerns.concerns_of(plan)
    db.session.commit()
    if decision_form is None:
        decision_form = DecisionForm(formdata=None)
        decision_form.agreed_on.process(None, clock.today())
    return render_template("plans/detail.html", plan=plan, patient=patient, decision=decision,
                           decision_form=decision_form, status_form=status_form or StatusForm(version=plan.version),
                           follow_ups=held, documents=issued, titles=plan_documents.TITLES, booked=booked,
                           unbooked=unbooked, initial_not_booked=initial_not_booked, early_start=early_start,
                           chart_description=ome_chart_description(plan.current.schedule),
                           receipts=receipts, supplies=supplies, concerns=concerns,
                           concern_labels=pharmacy_concerns.CONCERN_LABELS,
                           describe=community_pharmacy.describe_item,
                           patient_is_messaged=messages.to_patient(patient) is not None)


@blueprint.route("/plans/<int:plan_id>/versions/<int:old>/compare/<int:new>")
@roles(Role.PHARMACIST)
def compare(plan_id: int, old: int, new: int) -> str:
    """What changed between two versions of the plan, in plain sentences."""
    plan = plans.get_plan(by=current_user, plan_id=plan_id)
    versions = {version.number: version for version in plan.versions}
    if old not in versions or new not in versions:
        abort(404)
    patient = patients.view_patient(by=current_user, patient_id=plan.patient_id)
    db.session.commit()
    return render_template("plans/compare.html", plan=plan, patient=patient, old=versions[old], new=versions[new],
                           changes=differences(versions[old].schedule, versions[new].schedule))


@blueprint.route(f"/plans/<int:plan_id>/versions/<int:number>/<any({', '.join(plan_documents.KINDS)}):kind>.pdf")
@roles(Role.PHARMACIST)
def document(plan_id: int, number: int, kind: str) -> Response:
    """A stored document of a plan version, exactly as issued."""
    plan = plans.get_plan(by=current_user, plan_id=plan_id)
    stored = plan_documents.stored(by=current_user, plan=plan, version_number=number, kind=kind)
    db.session.commit()
    response = Response(stored.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="plan-{plan_id}-v{number}-{kind}.pdf"'
    response.headers["ETag"] = stored.sha256
    return response


@blueprint.route("/plans/<int:plan_id>/versions/<int:number>/all.pdf")
@roles(Role.PHARMACIST)
def print_all(plan_id: int, number: int) -> Response:
    """The three stored documents of a plan version in one PDF, to print in one go."""
    plan = plans.get_plan(by=current_user, plan_id=plan_id)
    pdf = plan_documents.print_all(by=current_user, plan=plan, version_number=number)
    db.session.commit()
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="plan-{plan_id}-v{number}-all.pdf"'
    return response


@blueprint.route("/plans/<int:plan_id>/chart.svg")
@roles(Role.PHARMACIST)
def chart(plan_id: int) -> Response:
    plan = plans.get_plan(by=current_user, plan_id=plan_id)
    response = Response(ome_chart_svg(plan.current.schedule), mimetype="image/svg+xml")
    # The SVG styles itself inline and runs nothing: allow exactly that when it is opened on its own.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@blueprint.route("/plans/<int:plan_id>/follow-ups/new", methods=["GET", "POST"])
@roles(Role.PHARMACIST)
def new_follow_up(plan_id: int) -> WerkzeugResponse | str:
    """Record a follow-up; `?appointment=<id>` (an appointment of this plan) records it from that appointment,
    which is marked attended in the same transaction (another plan's: 404; a cancelled one: 400)."""
    plan = plans.get_plan(by=current_user, plan_id=plan_id)
    appointment_id = record_id("appointment")
    appointment = follow_ups.attendable(by=current_user, plan_id=plan.id, appointment_id=appointment_id) \
        if appointment_id is not None else None
    form = FollowUpForm(version=plan.version)
    if not form.is_submitted():
        form.held_on.process(None, appointments.local_day(appointment.starts_at) if appointment else clock.today())
        if appointment is not None:
            form.mode.data, form.duration_minutes.data = appointment.mode, appointment.length_minutes
    if form.validate_on_submit() and save(form, lambda: follow_ups.record_follow_up(
            by=current_user, plan_id=plan_id, expected_version=form.version.data, details=form.details(),
            appointment_id=appointment_id)):
        flash("Follow-up recorded." + (" The appointment is marked attended." if appointment_id else ""), "success")
        return redirect(url_for("plans.detail", plan_id=plan_id))
    plan = plans.get_plan(by=current_user, plan_id=plan_id)
    patient = patients.view_patient(by=current_user, patient_id=plan.patient_id)
    described = appointments.describe(appointment) if appointment is not None else None
    db.session.commit()
    return render_template("plans/follow_up.html", form=form, plan=plan, patient=patient,
                           peg_items=PEG_ITEMS, sows_items=SOWS_GOSSOP_ITEMS, appointment=described)


@blueprint.route("/plans/<int:plan_id>/decision", methods=["POST"])
@roles(Role.PHARMACIST)
def decision(plan_id: int) -> WerkzeugResponse | str:
    form = DecisionForm()
    if form.validate_on_submit() and save(form, lambda: plans.record_decision(by=current_user, plan_id=plan_id,
                                                                               decision=form.decision())):
        flash("Shared decision recorded.", "success")
        return redirect(url_for("plans.detail", plan_id=plan_id))
    return _detail_page(plan_id, decision_form=form)


@blueprint.route("/plans/<int:plan_id>/status", methods=["POST"])
@roles(Role.PHARMACIST)
def status(plan_id: int) -> WerkzeugResponse | str:
    form = StatusForm()
    if form.validate_on_submit() and save(form, lambda: plans.change_status(
            by=current_user, plan_id=plan_id, expected_version=form.version.data, to=PlanStatus(form.to.data),
            reason=form.reason.data or "")):
        flash(f"Plan {PlanStatus(form.to.data).value}.", "success")
        return redirect(url_for("plans.detail", plan_id=plan_id))
    return _detail_page(plan_id, status_form=form)
