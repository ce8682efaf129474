"""The community pharmacist's pages: what is due this week, the pharmacy's patients, and for each the
dispensing schedule, supplies and concerns. Nothing about risk assessments or consultations is shown here."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from taper import clock
from taper.domain.makeable import plain
from taper.domain.organisations import Role
from taper.extensions import db
from taper.services import community_pharmacy, messages, pharmacy_concerns, revision_notices, sharing
from taper.services.community_pharmacy import InstalmentState
from taper.web.fields import save
from taper.web.paging import page_number
from taper.web.pharmacy.forms import ConcernForm, CorrectionForm, InstalmentForm, instalment_form
from taper.web.security import roles

blueprint = Blueprint("pharmacy", __name__, url_prefix="/pharmacy")


@blueprint.route("/")
@roles(Role.COMMUNITY_PHARMACIST)
def due() -> str:
    """What to supply to whom, and when, this week; and what the clinic has told the pharmacy."""
    states = community_pharmacy.due_this_week(by=current_user)
    revisions = revision_notices.revision_notices(by=current_user)
    notices = messages.outbox(organisation_id=current_user.organisation_id, limit=20)
    # Drawn before the commit, which would expire every row loaded and have the page read each one again.
    page = render_template("pharmacy/due.html", states=states, notices=notices, revisions=revisions,
                           describe=community_pharmacy.describe_item)
    revision_notices.mark_seen(by=current_user, notices=revisions)
    db.session.commit()
    return page


@blueprint.route("/patients")
@roles(Role.COMMUNITY_PHARMACIST)
def patients() -> str:
    found = sharing.organisation_patients(current_user, page=page_number())
    return render_template("pharmacy/patients.html", found=found)


@blueprint.route("/patients/<int:patient_id>")
@roles(Role.COMMUNITY_PHARMACIST)
def patient(patient_id: int) -> str:
    """The instalment due now with one form to record it, what the clinic has told the pharmacy, the concerns
    it raised, the supplies recorded and the whole schedule."""
    return _patient_page(patient_id)


@blueprint.route("/patients/<int:patient_id>/supplies", methods=["POST"])
@roles(Role.COMMUNITY_PHARMACIST)
def supply(patient_id: int) -> WerkzeugResponse | str:
    """Record the whole instalment: every medicine in one submission, all saved or none."""
    _, plan, states, _ = community_pharmacy.patient_view(by=current_user, patient_id=patient_id)
    form = _instalment_form(_posted_state(states))
    if form.validate_on_submit():
        quantities = {key: field.data or "" for key, field in form.quantity_fields.items()}
        recorded = save(form, lambda: community_pharmacy.record_instalment(
            by=current_user, plan_id=plan.id, instalment=form.instalment.data or 0,
            version_number=form.plan_version.data or 0, supplied_on=form.supplied_on.data, quantities=quantities,
            override_reason=form.override_reason.data or ""),
            locate=lambda name: form.quantity_fields.get(name, getattr(form, name, None)))
        if recorded is not None:
            flash(f"Instalment {form.instalment.data}: {len(recorded)} "
                  f"{'medicine' if len(recorded) == 1 else 'medicines'} recorded as supplied.", "success")
            return redirect(url_for("pharmacy.patient", patient_id=patient_id))
    db.session.rollback()
    return _patient_page(patient_id, supply_form=form)


@blueprint.route("/patients/<int:patient_id>/supplies/<int:supply_id>/correction", methods=["GET", "POST"])
@roles(Role.COMMUNITY_PHARMACIST)
def correct(patient_id: int, supply_id: int) -> WerkzeugResponse | str:
    """Correct a recorded supply: a new record that names the one it corrects, which is kept as it was."""
    corrected, state = community_pharmacy.supply_to_correct(by=current_user, supply_id=supply_id)
    if corrected.plan.patient_id != patient_id:
        abort(404)
    form = CorrectionForm()
    if not form.is_submitted():
        form.quantity.data = plain(corrected.quantity)
        form.supplied_on.process(None, corrected.supplied_on)
    if form.validate_on_submit():
        correction = save(form, lambda: community_pharmacy.correct_supply(
            by=current_user, supply_id=supply_id, quantity=form.quantity.data or "",
            supplied_on=form.supplied_on.data, note=form.note.data or "",
            override_reason=form.override_reason.data or ""))
        if correction is not None:
            flash("Supply corrected: the earlier record is kept, marked corrected.", "success")
            return redirect(url_for("pharmacy.patient", patient_id=patient_id, _anchor="supplies"))
    page = render_template("pharmacy/correct.html", form=form, supply=corrected, state=state,
                           patient=corrected.plan.patient, describe=community_pharmacy.describe_item)
    db.session.commit()
    return page


@blueprint.route("/patients/<int:patient_id>/concerns", methods=["POST"])
@roles(Role.COMMUNITY_PHARMACIST)
def concern(patient_id: int) -> WerkzeugResponse | str:
    _, plan, _, _ = community_pharmacy.patient_view(by=current_user, patient_id=patient_id)
    form = ConcernForm(prefix="concern")
    if form.validate_on_submit():
        raised = save(form, lambda: pharmacy_concerns.raise_concern(
            by=current_user, plan_id=plan.id, kind=form.kind.data or "", detail=form.detail.data or ""))
        if raised is not None:
            flash("Concern sent to the clinic: it is on their worklist.", "success")
            return redirect(url_for("pharmacy.patient", patient_id=patient_id))
    db.session.rollback()
    return _patient_page(patient_id, concern_form=form)


@blueprint.route("/documents/<int:document_id>.pdf")
@roles(Role.COMMUNITY_PHARMACIST)
def document(document_id: int) -> Response:
    """The dispensing schedule as issued."""
    opened, _, _ = sharing.shared_document(current_user, document_id)
    pdf = opened.pdf  # (read before the commit expires it)
    db.session.commit()
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="dispensing-schedule-{document_id}.pdf"'
    return response


def _patient_page(patient_id: int, *, supply_form: InstalmentForm | None = None,
                  concern_form: ConcernForm | None = None) -> str:
    shown, plan, states, supplies = community_pharmacy.patient_view(by=current_user, patient_id=patient_id)
    supply_now = community_pharmacy.to_supply_now(states) if plan.status.is_running else None
    if supply_form is not None:  # a refused submission: the instalment it was for, with what was typed
        supply_now = _posted_state(states) or supply_now
        if supply_now is not None and supply_form.plan_version.data != supply_now.version_number:
            # Opened before the clinic revised the plan: the new schedule's quantities, and why.
            refused, supply_form = supply_form, _prefilled(supply_now)
            supply_form.form_errors.extend(refused.instalment.errors)
    elif supply_now is not None:
        supply_form = _prefilled(supply_now)
    revisions = revision_notices.revision_notices(by=current_user, plan_id=plan.id)
    concerns = pharmacy_concerns.concerns_of(plan, pharmacy_id=current_user.organisation_id)
    schedule = community_pharmacy.dispensing_schedule(plan)
    concern_form = concern_form or ConcernForm(prefix="concern", formdata=None)
    page = render_template("pharmacy/patient.html", patient=shown, plan=plan, states=states, supplies=supplies,
                           supply_form=supply_form, concern_form=concern_form, supply_now=supply_now,
                           revisions=revisions, concerns=concerns, concern_labels=pharmacy_concerns.CONCERN_LABELS,
                           schedule=schedule, describe=community_pharmacy.describe_item,
                           item_key=community_pharmacy.item_key)
    revision_notices.mark_seen(by=current_user, notices=revisions)
    db.session.commit()  # (after drawing the page: the commit expires what it shows)
    return page


def _prefilled(state: InstalmentState) -> InstalmentForm:
    """The form for an instalment, each quantity what the schedule has left to supply (all of it, at first)."""
    form = _instalment_form(state, formdata=None)
    form.supplied_on.process(None, clock.today())
    form.instalment.data = state.instalment.number
    form.plan_version.data = state.version_number
    for each in state.instalment.supplies:
        left = state.remaining(each.product, each.strength)
        form.quantity_fields[community_pharmacy.item_key(each.product, each.strength)].data = \
            plain(max(left, Decimal(0)))
    return form


def _posted_state(states: list[InstalmentState]) -> InstalmentState | None:
    """The instalment a posted form was for."""
    number = request.form.get("supply-instalment", "")
    return next((state for state in states if str(state.instalment.number) == number.strip()), None)


def _instalment_form(state: InstalmentState | None, **kwargs: object) -> InstalmentForm:
    items = [] if state is None else [
        (community_pharmacy.item_key(each.product, each.strength),
         community_pharmacy.describe_item(each.product, each.strength, each.brand))
        for each in state.instalment.supplies]
    return instalment_form(items, prefix="supply", **kwargs)
