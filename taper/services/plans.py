"""Tapering plans: drafted from the current regimen, agreed with the patient, run, revised and ended.

Every schedule a plan has ever had is an immutable version; a revision keeps every step already taken exactly
as it was and lets the engine plan the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from taper import clock
from taper.domain.booking import CADENCES_DAYS
from taper.domain.engine import Basis, default_order, hold, replan
from taper.domain.formulary import load_formulary
from taper.domain.plans import IllegalMove, PlanStatus, check_move
from taper.domain.regimen import RegimenError, parse_regimen
from taper.domain.schedule_contract import (
    limits_document,
    read_policy,
    schedule_document,
    schedule_from_document,
    schedule_from_request,
    stored_limits,
)
from taper.domain.switches import NEEDS_CONFIRMING as SWITCH_NEEDS_CONFIRMING
from taper.domain.switches import TARGETS as SWITCH_TARGETS
from taper.extensions import db
from taper.models import Organisation, Plan, PlanVersion, SharedDecision, User
from taper.services import appointments, audit, plan_documents, plan_steps, regimens
from taper.services.common import check_version, flush_or_stale
from taper.services.errors import InvalidInput, NotFound, StaleEdit
from taper.services.patients import patient_in_scope

# How far in the past a plan may start by default (a plan is agreed in clinic and starts then or soon after);
# each deployment sets its own (TAPER_PLAN_START_MAX_DAYS_AGO), and the web passes it in.
MAX_START_DAYS_IN_PAST = 7
INSTALMENT_DAYS = (7, 14, 28)


@dataclass(frozen=True)
class PlanSettings:
    """What the pharmacist chooses in the plan builder; the engine's policy plus dates and instalments."""

    start_on: date
    reduction_pct: Decimal = Decimal(10)
    interval_days: int = 14
    basis: str = Basis.STARTING.value
    target_ome_mg_per_day: Decimal = Decimal(0)
    order: tuple[str, ...] = ()
    order_reason: str = ""
    larger_dose_at: str | None = None
    instalment_days: int = 14
    review_every_days: int = 14  # reviews every one or two weeks (taper.domain.booking)
    holds: tuple[dict[str, int], ...] = field(default=())
    max_start_days_ago: int = MAX_START_DAYS_IN_PAST
    switch_from: str = ""  # a product to switch to the same drug in smaller steps at step 1 (taper.domain.switches)
    switch_brand: str = ""  # the brand of the product switched to ("": generic)


@dataclass(frozen=True)
class Decision:
    what_matters: str
    goals: str
    agreed_pace: str
    prescriber: str  # "pharmacist" (an independent prescriber) or "gp"
    consent_share_with_gp: bool
    consent_share_with_pharmacy: bool
    agreed_on: date
    pain_relief: str = ""  # what to take for pain instead as the opioid comes down, for the patient's plan


def preview(*, by: User, patient_id: int, settings: PlanSettings) -> dict[str, Any]:
    """The schedule these settings give from the patient's current regimen; nothing is saved."""
    patient = patient_in_scope(by, patient_id)
    return _schedule(_request(by, patient.id, settings))


def create_draft(*, by: User, patient_id: int, settings: PlanSettings) -> Plan:
    patient = patient_in_scope(by, patient_id)
    request = _request(by, patient.id, settings)
    schedule = _schedule(request)
    plan = Plan(patient_id=patient.id, status=PlanStatus.DRAFT, instalment_days=settings.instalment_days,
                review_every_days=settings.review_every_days, created_by_id=by.id)
    _add_with_next_number(plan)
    _add_version(plan, by, request, schedule, "First draft")
    audit.record(action="create", by=by, entity_type="plan", entity_id=plan.id, patient_id=patient.id,
                 changes={"status": plan.status.value, "version": 1, "number": plan.number})
    return plan


NUMBER_ATTEMPTS = 5


def _add_with_next_number(plan: Plan) -> None:
    """Insert the plan as the patient's next plan number. Two plans made at once for the same patient both read
    the same highest number; the database's unique (patient, number) refuses the second, which takes the next."""
    for _ in range(NUMBER_ATTEMPTS):
        plan.number = 1 + (db.session.scalar(select(func.max(Plan.number))
                                             .where(Plan.patient_id == plan.patient_id)) or 0)
        try:
            with db.session.begin_nested():
                db.session.add(plan)
        except IntegrityError:
            continue
        return
    raise StaleEdit("Another plan was being made for this patient at the same time: try again")


def edit_draft(*, by: User, plan_id: int, expected_version: int, settings: PlanSettings) -> Plan:
    """A draft's settings changed before the patient agreed it: the same draft gets a new version, built from
    the current regimen (versions are never changed, so the earlier one stays in its history)."""
    plan = _draft_to_change(by, plan_id, expected_version)
    if latest_decision(plan) is not None:
        raise InvalidInput({"plan": "The patient has agreed this draft: to change it, delete it and build a new plan"})
    request = _request(by, plan.patient_id, settings)
    schedule = _schedule(request)
    plan.instalment_days = settings.instalment_days
    plan.review_every_days = settings.review_every_days
    _add_version(plan, by, request, schedule, "Draft changed")
    return plan


def delete_draft(*, by: User, plan_id: int, expected_version: int) -> Plan:
    """Delete a draft that never started. Its versions are append-only, so the plan is kept, marked deleted
    (no longer shown or changed). An initial consultation booked from it stays booked, for no plan (the
    patient is still coming to talk about one); any other appointment of it is cancelled, and the patient told."""
    plan = _draft_to_change(by, plan_id, expected_version)
    plan.deleted_at = clock.now()
    plan.deleted_by_id = by.id
    flush_or_stale()
    appointments.release_from_deleted_draft(plan)
    audit.record(action="delete", by=by, entity_type="plan", entity_id=plan.id, patient_id=plan.patient_id,
                 changes={"number": plan.number, "status": plan.status.value})
    return plan


def settings_of(plan: Plan) -> PlanSettings:
    """The builder's settings that made the plan's current version, to open the builder with them again."""
    request = plan.current.request
    policy = request.get("policy", {})
    switch = (policy.get("switches") or [{}])[0]
    return PlanSettings(
        start_on=date.fromisoformat(request["start_on"]), reduction_pct=Decimal(str(policy["reduction_pct"])),
        interval_days=int(policy["interval_days"]), basis=policy.get("basis", Basis.STARTING.value),
        target_ome_mg_per_day=Decimal(str(policy.get("target_ome_mg_per_day", "0"))),
        order=tuple(policy.get("order", ())), order_reason=policy.get("order_reason", ""),
        larger_dose_at=policy.get("larger_dose_at"), instalment_days=plan.instalment_days,
        review_every_days=plan.review_every_days, holds=tuple(request.get("holds", ())),
        switch_from=switch.get("from", ""), switch_brand=switch.get("brand", ""))


def _draft_to_change(by: User, plan_id: int, expected_version: int) -> Plan:
    plan = get_plan(by=by, plan_id=plan_id)
    check_version(plan.version, expected_version)
    if plan.status is not PlanStatus.DRAFT:
        raise InvalidInput({"plan": f"This plan is {plan.status.value}: only a draft can be changed or deleted"})
    return plan


def record_decision(*, by: User, plan_id: int, decision: Decision) -> SharedDecision:
    plan = get_plan(by=by, plan_id=plan_id)
    errors = {name: message for name, message in (
        ("what_matters", "Record what matters to the patient"), ("goals", "Record the patient's goals"),
        ("agreed_pace", "Record the pace the patient agreed")) if not getattr(decision, name).strip()}
    if decision.prescriber not in ("pharmacist", "gp"):
        errors["prescriber"] = "Choose who prescribes"
    if decision.agreed_on > clock.today():
        errors["agreed_on"] = "The date agreed must be today or in the past"
    if errors:
        raise InvalidInput(errors)
    record = SharedDecision(plan_id=plan.id, what_matters=decision.what_matters.strip(),
                            goals=decision.goals.strip(), agreed_pace=decision.agreed_pace.strip(),
                            pain_relief=decision.pain_relief.strip(),
                            prescriber=decision.prescriber, consent_share_with_gp=decision.consent_share_with_gp,
                            consent_share_with_pharmacy=decision.consent_share_with_pharmacy,
                            agreed_on=decision.agreed_on, recorded_by_id=by.id)
    db.session.add(record)
    db.session.flush()
    audit.record(action="create", by=by, entity_type="shared_decision", entity_id=record.id,
                 patient_id=plan.patient_id, changes={"plan": plan.id, "prescriber": record.prescriber,
                                                      "consent_gp": record.consent_share_with_gp,
                                                      "consent_pharmacy": record.consent_share_with_pharmacy})
    return record


def switches_offered(products: list[str]) -> dict[str, str]:
    """The same-drug switches the builder offers for these products: {from: what the pharmacist agrees to}."""
    formulary = load_formulary()
    offered = {}
    for key in products:
        if key in SWITCH_TARGETS:
            old, new = formulary.get(key), formulary.get(SWITCH_TARGETS[key])
            what = ("one patch at the nearest lower rate, which is itself a reduction: I confirm it"
                    if key in SWITCH_NEEDS_CONFIRMING else f"the same {old.drug} dose")
            offered[key] = f"Switch {old.label(in_sentence=True)} to {new.label(in_sentence=True)} at step 1 ({what})"
    return offered


def switch_brands_offered(products: list[str]) -> list[str]:
    """The brands of the products the offered switches go to, for the pharmacist to prescribe the new one by."""
    formulary = load_formulary()
    targets = dict.fromkeys(SWITCH_TARGETS[key] for key in products if key in SWITCH_TARGETS)
    return list(dict.fromkeys(brand.name for target in targets for brand in formulary.get(target).brands))


def reduction_order(regimen_lines: list[dict[str, Any]]) -> list[str]:
    """The products of a recorded regimen in the engine's default order of reduction (when-needed doses first),
    which the builder offers until the pharmacist changes it."""
    formulary = load_formulary()
    return list(default_order(parse_regimen(regimen_lines, formulary), formulary))


def latest_decision(plan: Plan) -> SharedDecision | None:
    return db.session.scalar(select(SharedDecision).where(SharedDecision.plan_id == plan.id)
                             .order_by(SharedDecision.id.desc()).limit(1))


def change_status(*, by: User, plan_id: int, expected_version: int, to: PlanStatus, reason: str = "") -> Plan:
    """Move a plan through its lifecycle. Starting needs the shared decision; ending needs a reason; only one
    plan per patient may be running (the database refuses a second)."""
    plan = get_plan(by=by, plan_id=plan_id)
    check_version(plan.version, expected_version)
    try:
        check_move(plan.status, to)
    except IllegalMove as refusal:
        raise InvalidInput({"status": str(refusal)}) from None
    if to is PlanStatus.ACTIVE and plan.status is PlanStatus.DRAFT and latest_decision(plan) is None:
        raise InvalidInput({"status": "Record the shared decision with the patient before the plan starts"})
    if to.is_ended:
        if not reason.strip():
            raise InvalidInput({"reason": "Say why the plan is ending"})
        plan.ended_on = clock.today()
        plan.outcome_reason = reason.strip()
        plan.final_ome_mg_per_day = _ome_on(plan.current.schedule, clock.today())
    before = plan.status
    plan.status = to
    try:
        flush_or_stale()
    except IntegrityError:
        raise InvalidInput({"status": "This patient already has a running plan: end it before starting another"}) \
            from None
    if to is PlanStatus.ACTIVE:
        _propose_reviews_and_issue(by, plan)
    if to.is_ended:
        appointments.cancel_future(plan, f"The plan ended ({to.value})")
    audit.record(action="update", by=by, entity_type="plan", entity_id=plan.id, patient_id=plan.patient_id,
                 changes={"status": {"before": before.value, "after": to.value}, "reason": reason.strip()})
    return plan


def revise_running(*, by: User, plan_id: int, expected_version: int, on: date, reason: str,
                   hold_days: int = 0, reduction_pct: Decimal | None = None, interval_days: int | None = None,
                   go_back: bool = False) -> Plan:
    """Change a running plan from `on`: hold the current step `hold_days` more days, slow the pace, or go back
    one step. Every step begun before `on` is kept exactly; a new version records why and who."""
    plan = get_plan(by=by, plan_id=plan_id)
    check_version(plan.version, expected_version)
    if not plan.status.is_running:
        raise InvalidInput({"plan": "Only an active or paused plan can be revised"})
    if not reason.strip():
        raise InvalidInput({"reason": "Say why the plan is changing"})
    if hold_days < 0 or hold_days > 365:
        raise InvalidInput({"hold_days": "A hold must be from 0 to 365 days"})
    current = plan.current
    stored = read_policy(current.request.get("policy", {}))
    policy = replace(stored, reduction_pct=stored.reduction_pct if reduction_pct is None else reduction_pct,
                     interval_days=stored.interval_days if interval_days is None else interval_days)
    formulary = load_formulary()
    schedule = schedule_from_document(current.schedule, formulary)
    try:
        if hold_days:
            schedule = hold(schedule, on=on, extra_days=hold_days)
        revised = schedule
        if go_back or reduction_pct is not None or interval_days is not None:
            start = on if go_back else _next_change(schedule, on)
            revised = replan(schedule, formulary=formulary, on=start, policy=policy, go_back=go_back)
    except RegimenError as refusal:
        raise InvalidInput({error.field: error.message for error in refusal.errors}) from None
    if revised is schedule and not hold_days:
        raise InvalidInput({"reason": "Choose a change: a hold, a slower pace or going back a step"})
    request = {**current.request, "policy": schedule_document(revised, formulary, policy)["policy"]}
    _add_version(plan, by, request, schedule_document(revised, formulary, policy, stored_limits(current.schedule)),
                 reason.strip())
    _propose_reviews_and_issue(by, plan)
    return plan


def _propose_reviews_and_issue(by: User, plan: Plan) -> None:
    """The running plan's reviews are proposed around its current version's steps, then that version goes out
    to the patient (with those appointments), the GP and the pharmacy."""
    appointments.propose_for_plan(by=by, plan=plan)
    plan_documents.issue(by=by, plan=plan, version=plan.current, prescriber=_prescriber(plan))


def versions_to_issue(version_ids: list[int] | None) -> list[tuple[Plan, PlanVersion]]:
    """Plan versions for the batch command that have no documents: those listed (each of a plan that has
    started), or with None, the current version of every running plan."""
    if version_ids is None:
        return plan_documents.current_versions_without_documents()
    chosen = []
    for version_id in dict.fromkeys(version_ids):  # each once, in the order given
        version = db.session.get(PlanVersion, version_id)
        if version is None or version.plan.status is PlanStatus.DRAFT:
            raise InvalidInput({"version": f"plan version {version_id} does not exist or its plan has not started"})
        if not plan_documents.documents_of(version):
            chosen.append((version.plan, version))
    return chosen


def issue_documents_of(versions: list[tuple[Plan, PlanVersion]], *,
                       on_document: Callable[[], None]) -> dict[int, str]:
    """Render and store the documents of many versions side by side (the batch command; audited as the CLI).
    Returns the versions skipped, with why."""
    return plan_documents.issue_many(by=None, versions=[(plan, version, _prescriber(plan))
                                                        for plan, version in versions], on_document=on_document)


def _prescriber(plan: Plan) -> str:
    decision = latest_decision(plan)
    return decision.prescriber if decision else "gp"


def get_plan(*, by: User, plan_id: int) -> Plan:
    plan = db.session.get(Plan, plan_id)
    if plan is None or plan.deleted_at is not None:
        raise NotFound("no such plan")
    patient_in_scope(by, plan.patient_id)
    return plan


def view_plan(*, by: User, plan_id: int) -> Plan:
    """A plan, for its page (audited as a view)."""
    plan = get_plan(by=by, plan_id=plan_id)
    audit.record(action="view", by=by, entity_type="plan", entity_id=plan.id, patient_id=plan.patient_id)
    return plan


def plans_of(*, by: User, patient_id: int) -> list[Plan]:
    patient = patient_in_scope(by, patient_id)
    return list(db.session.scalars(select(Plan).where(Plan.patient_id == patient.id, Plan.deleted_at.is_(None))
                                 .order_by(Plan.id.desc())))


def _request(by: User, patient_id: int, settings: PlanSettings) -> dict[str, Any]:
    current = regimens.history(by=by, patient_id=patient_id)
    if not current:
        raise InvalidInput({"regimen": "Record the patient's current regimen before building a plan"})
    if current[0].source == "practice_record":  # issue 18: a plan starts only from a regimen a pharmacist checked
        raise InvalidInput({"regimen": "Check the regimen from the practice record with the patient and confirm it "
                                       "before building a plan"})
    if settings.instalment_days not in INSTALMENT_DAYS:
        raise InvalidInput({"instalment_days": "Choose instalments of 7, 14 or 28 days"})
    if settings.review_every_days not in CADENCES_DAYS:
        raise InvalidInput({"review_every_days": "Choose reviews every 7 or 14 days"})
    if settings.start_on < clock.today() - timedelta(days=settings.max_start_days_ago):
        raise InvalidInput({"start_on": f"The start date can be at most {settings.max_start_days_ago} days ago"})
    policy: dict[str, Any] = {
        "reduction_pct": str(settings.reduction_pct), "interval_days": settings.interval_days,
        "basis": settings.basis, "target_ome_mg_per_day": str(settings.target_ome_mg_per_day),
        "order_reason": settings.order_reason}
    if settings.order:
        policy["order"] = list(settings.order)
    if settings.larger_dose_at:
        policy["larger_dose_at"] = settings.larger_dose_at
    if settings.switch_from:
        # The builder offers a switch that is itself a reduction (Transtec) only as one the pharmacist confirms.
        policy["switches"] = [{"from": settings.switch_from, "to": SWITCH_TARGETS.get(settings.switch_from, ""),
                               "confirmed": True} | ({"brand": settings.switch_brand} if settings.switch_brand else {})]
    # The starting checks use the clinic's limits (its paracetamol maximum and plausibility settings).
    return {"start_on": settings.start_on.isoformat(), "regimen": current[0].lines, "policy": policy,
            "holds": list(settings.holds), "factor_set": current[0].factor_set,
            "limits": limits_document(_clinic_of(by).starting_limits)}


def _clinic_of(by: User) -> Organisation:
    assert by.organisation is not None, "a pharmacist belongs to a pain clinic"
    return by.organisation


def _schedule(request: dict[str, Any]) -> dict[str, Any]:
    try:
        return schedule_from_request(request, load_formulary())
    except RegimenError as refusal:
        raise InvalidInput({error.field: error.message for error in refusal.errors}) from None


def _add_version(plan: Plan, by: User, request: dict[str, Any], schedule: dict[str, Any], reason: str) -> None:
    number = len(plan.versions) + 1
    version = PlanVersion(plan=plan, number=number, request=request, schedule=schedule, reason=reason,
                          starting_ome_mg_per_day=Decimal(str(schedule["starting_ome_mg_per_day"])),
                          factor_set=schedule["factor_set"], factor_set_version=schedule["factor_set_version"],
                          formulary_version=schedule["formulary_version"], created_by_id=by.id)
    db.session.add(version)
    # Naming the current version changes the plan row, so its version counter refuses a concurrent revision.
    plan.current_version_number = number
    flush_or_stale()
    plan_steps.add_steps({version.id: schedule})
    audit.record(action="create", by=by, entity_type="plan_version", entity_id=version.id,
                 patient_id=plan.patient_id, changes={"plan": plan.id, "number": number, "reason": reason})


def _next_change(schedule: Any, on: date) -> date:
    """The first day on or after `on` when a new step was due: a hold of N days delays it by N."""
    for step in schedule.steps:
        if step.starts_on >= on:
            return step.starts_on
    return on


def _ome_on(schedule: dict[str, Any], on: date) -> Decimal | None:
    for step in reversed(schedule["steps"]):
        if date.fromisoformat(step["starts_on"]) <= on:
            return Decimal(str(step["ome_mg_per_day"]))
    return Decimal(str(schedule["starting_ome_mg_per_day"]))
