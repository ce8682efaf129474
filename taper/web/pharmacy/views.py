"""The community pharmacist's pages: what is due this week, the pharmacy's patients, and for each the
dispensing schedule, supplies and concerns. Nothing about risk assessments or consultations is shown here."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from taper import clock
from taper.domain.makeable import plain
from taper.domain.organisations import Role
from taper.extensions import db
from taper.services import community_pharmacy, messages, sharing
from taper.services.community_pharmacy import InstalmentState
from taper.web.fields import save
from taper.web.paging import page_number
from taper.web.pharmacy.forms import ConcernForm, SupplyForm
from taper.web.security import roles

blueprint = Blueprint("pharmacy", __name__, url_prefix="/pharmacy")


@blueprint.route("/")
@roles(Role.COMMUNITY_PHARMACIST)
def due() -> str:
    """What to supply to whom, and when, this week."""
    states = community_pharmacy.due_this_week(by=current_user)
    notices = messages.outbox(organisation_id=current_user.organisation_id, limit=20)
    # Drawn before the commit, which would expire every row loaded and have the page read each one again.
    page = render_template("pharmacy/due.html", states=states, notices=notices,
                           describe=community_pharmacy.describe_item)
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
    """The patient's instalments, with a form to record each supply and one to raise a concern."""
    return _patient_page(patient_id)


@blueprint.route("/patients/<int:patient_id>/supplies", methods=["POST"])
@roles(Role.COMMUNITY_PHARMACIST)
def supply(patient_id: int) -> WerkzeugResponse | str:
    _, plan, states, _ = community_pharmacy.patient_view(by=current_user, patient_id=patient_id)
    form = SupplyForm(prefix="supply")
    form.item.choices = {state.instalment.number: _items(state) for state in states}.get(form.instalment.data or 0,
                                                                                        [])
    if form.validate_on_submit():
        product, _, strength = (form.item.data or "").partition("|")
        recorded = save(form, lambda: community_pharmacy.record_supply(
            by=current_user, plan_id=plan.id, instalment=form.instalment.data or 0, supplied_on=form.supplied_on.data,
            product=product, strength=strength, quantity=form.quantity.data or "",
            override_reason=form.override_reason.data or ""),
            locate=lambda name: form.item if name in ("product", "strength") else getattr(form, name, None))
        if recorded is not None:
            flash("Supply recorded.", "success")
            return redirect(url_for("pharmacy.patient", patient_id=patient_id))
    db.session.rollback()
    return _patient_page(patient_id, supply_form=form)


@blueprint.route("/patients/<int:patient_id>/concerns", methods=["POST"])
@roles(Role.COMMUNITY_PHARMACIST)
def concern(patient_id: int) -> WerkzeugResponse | str:
    _, plan, _, _ = community_pharmacy.patient_view(by=current_user, patient_id=patient_id)
    form = ConcernForm(prefix="concern")
    if form.validate_on_submit():
        raised = save(form, lambda: community_pharmacy.raise_concern(
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


def _patient_page(patient_id: int, *, supply_form: SupplyForm | None = None,
                  concern_form: ConcernForm | None = None) -> str:
    shown, plan, states, supplies = community_pharmacy.patient_view(by=current_user, patient_id=patient_id)
    supply_now = community_pharmacy.to_supply_now(states) if plan.status.is_running else None
    if supply_form is None:
        supply_form = SupplyForm(prefix="supply", formdata=None)
        supply_form.supplied_on.process(None, clock.today())
        if supply_now is not None:
            supply_form.instalment.data = supply_now.instalment.number
    elif supply_form.instalment.data is not None:
        supply_now = next((state for state in states if state.instalment.number == supply_form.instalment.data),
                          supply_now)
    if supply_now is not None:
        supply_form.item.choices = _items(supply_now)
    schedule = community_pharmacy.dispensing_schedule(plan)
    concern_form = concern_form or ConcernForm(prefix="concern", formdata=None)
    page = render_template("pharmacy/patient.html", patient=shown, plan=plan, states=states, supplies=supplies,
                           supply_form=supply_form, concern_form=concern_form, supply_now=supply_now,
                           schedule=schedule, describe=community_pharmacy.describe_item)
    db.session.commit()  # (after drawing the page: the commit expires what it shows)
    return page


def _items(state: InstalmentState) -> list[tuple[str, str]]:
    return [(f"{each.product}|{'' if each.strength is None else plain(each.strength)}",
             community_pharmacy.describe_item(each.product, each.strength, each.brand))
            for each in state.instalment.supplies]
