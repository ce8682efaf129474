"""A community pharmacy's view of its patients' plans: what is due this week, the supplies made against each
instalment of the dispensing schedule (more than the schedule only with a recorded reason), and concerns raised
with the clinic, which go on the clinic's worklist."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import defer

from taper import clock
from taper.domain.dispensing import Instalment, instalments
from taper.domain.formulary import load_formulary
from taper.domain.makeable import plain
from taper.domain.organisations import Role
from taper.domain.schedule_contract import schedule_from_document
from taper.domain.wording import long_date
from taper.extensions import db
from taper.models import Concern, Patient, Plan, PlanDocument, PlanVersion, Supply, User
from taper.models.sharing import CONCERN_KINDS
from taper.services import appointments, audit, sharing
from taper.services.current_versions import current_versions, is_current_version
from taper.services.errors import InvalidInput, NotFound, PermissionDenied

CONCERN_LABELS = {"early_or_extra_request": "Asked for an early or extra supply",
                  "withdrawal": "Signs of withdrawal", "possible_misuse": "Signs of possible misuse",
                  "change_of_pace": "Asked to change the pace", "other": "Something else"}
WEEK = timedelta(days=7)
QUANTITY_STEP = Decimal("0.001")  # the supplies table keeps three decimal places (mL of a liquid)
MAX_QUANTITY = Decimal(100000)
# What was supplied against a plan's instalments: {instalment number: {(product, strength): quantity}}.
Supplied = dict[int, dict[tuple[str, Decimal | None], Decimal]]


@dataclass(frozen=True)
class InstalmentState:
    """An instalment of a plan's current version, with what has been supplied against it."""

    plan: Plan
    patient: Patient
    version_number: int  # the plan's current version, whose schedule gives the instalment
    instalment: Instalment
    supplied: dict[tuple[str, Decimal | None], Decimal]

    def remaining(self, product: str, strength: Decimal | None) -> Decimal:
        scheduled = sum((each.quantity for each in self.instalment.supplies
                         if (each.product, each.strength) == (product, strength)), Decimal(0))
        return scheduled - self.supplied.get((product, strength), Decimal(0))

    @property
    def complete(self) -> bool:
        return all(self.remaining(each.product, each.strength) <= 0 for each in self.instalment.supplies)


def due_this_week(*, by: User) -> list[InstalmentState]:
    """Instalments starting in the next seven days, and earlier ones of the running plans still not fully
    supplied, soonest first: three queries (the running plans shared with the pharmacy, their current versions'
    schedules, and their supplies added up), whatever the number of plans."""
    _require_pharmacist(by)
    today = clock.today()
    running = sharing.running_plans(by)
    plan_ids = [plan.id for _, plan in running]
    versions = current_versions(plan_ids, with_schedule=True)
    supplied = _supplied(plan_ids)
    due = [state for patient, plan in running
           for state in _states(plan, patient, versions[plan.id], supplied[plan.id])
           if today <= state.instalment.starts_on < today + WEEK
           or (state.instalment.starts_on < today <= state.instalment.ends_on and not state.complete)]
    audit.record(action="view", by=by, entity_type="dispensing_due", entity_id=by.organisation_id,
                 changes={"instalments": len(due)})
    return sorted(due, key=lambda state: (state.instalment.starts_on, state.patient.family_name))


def to_supply_now(states: list[InstalmentState]) -> InstalmentState | None:
    """The instalment to supply next: the earliest not fully supplied that has started or starts within a week."""
    horizon = clock.today() + WEEK
    return next((state for state in states if not state.complete and state.instalment.starts_on < horizon), None)


def patient_view(*, by: User, patient_id: int) -> tuple[Patient, Plan, list[InstalmentState], list[Supply]]:
    """A patient's plan as the pharmacy needs it: instalments and supplies only (no risk assessment, no
    consultation notes). Nominating the pharmacy is not enough: a patient with no plan shared with it (none yet,
    or consent withdrawn) is "not found", as for a GP, and the refusal is audited."""
    _require_pharmacist(by)
    patient = sharing.shared_patient(by, patient_id)
    plans = sharing.shared_plans(by, patient)
    if not plans:
        audit.record(action="access_denied", by=by, entity_type="patient", entity_id=patient.id,
                     patient_id=patient.id, changes={"reason": "no plan shared with this pharmacy"})
        raise NotFound("no plan shared with this pharmacy")
    audit.record(action="view", by=by, entity_type="patient", entity_id=patient.id, patient_id=patient.id,
                 changes={"view": "dispensing"})
    plan = plans[0]
    return patient, plan, instalment_states(plan, patient), supplies_of(plan)


def record_supply(*, by: User, plan_id: int, instalment: int, supplied_on: date, product: str, strength: str,
                  quantity: str, override_reason: str = "") -> Supply:
    """Record a supply against an instalment of the plan's current version. More than the schedule has left
    for that instalment is refused unless the pharmacist records why."""
    _require_pharmacist(by)
    plan = sharing.shared_plan(by, plan_id)
    if not plan.status.is_running:
        raise InvalidInput({"plan": "This plan is not running: supply only as the clinic agrees"})
    # One supply at a time per plan (PostgreSQL row lock), so two at once cannot both see the same amount left.
    db.session.execute(select(Plan.id).where(Plan.id == plan.id).with_for_update())
    patient = db.session.get(Patient, plan.patient_id)
    assert patient is not None
    version = current_versions([plan.id], with_schedule=True)[plan.id]
    states = {state.instalment.number: state
              for state in _states(plan, patient, version, _supplied([plan.id])[plan.id])}
    errors = {}
    state = states.get(instalment)
    if state is None:
        errors["instalment"] = "Choose an instalment of the schedule"
    strength_value = _decimal(strength) if strength else None
    amount = _decimal(quantity)
    if amount is None or amount != amount.quantize(QUANTITY_STEP) or not 0 < amount <= MAX_QUANTITY:
        errors["quantity"] = f"Enter the quantity supplied: more than 0, at most {MAX_QUANTITY}, to 3 decimal places"
    if strength and strength_value is None:
        errors["strength"] = "Choose a strength from the schedule"
    if supplied_on > clock.today():
        errors["supplied_on"] = "The date supplied must be today or in the past"
    if state is not None and not any((each.product, each.strength) == (product, strength_value)
                                     for each in state.instalment.supplies):
        errors["product"] = "Choose a medicine and strength from this instalment of the schedule"
    if errors:
        raise InvalidInput(errors)
    assert state is not None and amount is not None
    remaining = state.remaining(product, strength_value)
    over, early = amount > remaining, supplied_on < state.instalment.starts_on
    if over and not override_reason.strip():
        raise InvalidInput({"override_reason": f"The schedule has {plain(max(remaining, Decimal(0)))} left to "
                                               "supply in this instalment: record why you are supplying more"})
    if early and not override_reason.strip():
        raise InvalidInput({"override_reason": f"This instalment starts on {long_date(state.instalment.starts_on)}: "
                                               "record why you are supplying it early"})
    supply = Supply(plan_id=plan.id, plan_version_id=version.id, instalment=instalment,
                    pharmacy_id=by.organisation_id, supplied_on=supplied_on, product=product,
                    strength=strength_value, quantity=amount,
                    override_reason=override_reason.strip() if over or early else "", recorded_by_id=by.id)
    db.session.add(supply)
    db.session.flush()
    audit.record(action="create", by=by, entity_type="supply", entity_id=supply.id, patient_id=plan.patient_id,
                 changes={"plan": plan.id, "instalment": instalment, "product": product,
                          "strength": None if strength_value is None else str(strength_value),
                          "quantity": str(amount), "over_schedule": over, "early": early,
                          "override_reason": supply.override_reason})
    return supply


def raise_concern(*, by: User, plan_id: int, kind: str, detail: str) -> Concern:
    """Tell the clinic: the concern is stored and goes on the clinic pharmacist's worklist."""
    _require_pharmacist(by)
    plan = sharing.shared_plan(by, plan_id)
    errors = {}
    if kind not in CONCERN_KINDS:
        errors["kind"] = "Choose what the concern is about"
    if not detail.strip():
        errors["detail"] = "Say what happened"
    if errors:
        raise InvalidInput(errors)
    concern = Concern(plan_id=plan.id, pharmacy_id=by.organisation_id, kind=kind, detail=detail.strip(),
                      raised_by_id=by.id)
    db.session.add(concern)
    db.session.flush()
    appointments.add_to_worklist(key=f"pharmacy_concern:{concern.id}", kind="pharmacy_concern", plan_id=plan.id,
                                 detail=f"{CONCERN_LABELS[kind]} ({by.full_name}, community pharmacy): "
                                        f"{concern.detail}")
    audit.record(action="create", by=by, entity_type="concern", entity_id=concern.id, patient_id=plan.patient_id,
                 changes={"plan": plan.id, "kind": kind})
    return concern


def instalment_states(plan: Plan, patient: Patient) -> list[InstalmentState]:
    """The current version's instalments with everything supplied against them under any version: a revision
    keeps the plan's start, so instalment N covers the same days, and what was supplied stays supplied."""
    version = current_versions([plan.id], with_schedule=True)[plan.id]
    return _states(plan, patient, version, _supplied([plan.id])[plan.id])


def _states(plan: Plan, patient: Patient, version: PlanVersion, supplied: Supplied) -> list[InstalmentState]:
    """The instalments of this version's stored schedule, worked out here (no query), with what was supplied."""
    schedule = schedule_from_document(version.schedule, load_formulary())
    return [InstalmentState(plan, patient, version.number, period, supplied.get(period.number, {}))
            for period in instalments(schedule, instalment_days=plan.instalment_days)]


def _supplied(plan_ids: list[int]) -> defaultdict[int, Supplied]:
    """What has been supplied against each instalment of each of these plans, of each medicine and strength,
    added up in one query: {plan id: {instalment number: {(product, strength): quantity}}}."""
    totals: defaultdict[int, Supplied] = defaultdict(dict)
    if plan_ids:
        for plan_id, number, product, strength, quantity in db.session.execute(
                select(Supply.plan_id, Supply.instalment, Supply.product, Supply.strength, func.sum(Supply.quantity))
                .where(Supply.plan_id.in_(plan_ids))
                .group_by(Supply.plan_id, Supply.instalment, Supply.product, Supply.strength)):
            totals[plan_id].setdefault(number, {})[(product, strength)] = quantity
    return totals


def dispensing_schedule(plan: Plan) -> PlanDocument | None:
    """The current version's dispensing schedule as issued (its PDF is not loaded: the page links to it)."""
    return db.session.scalar(select(PlanDocument).options(defer(PlanDocument.pdf))
                             .join(PlanVersion, PlanVersion.id == PlanDocument.plan_version_id)
                             .join(Plan, is_current_version())
                             .where(Plan.id == plan.id, PlanDocument.kind == "pharmacy_schedule"))


def supplies_of(plan: Plan) -> list[Supply]:
    return list(db.session.scalars(select(Supply).where(Supply.plan_id == plan.id)
                                   .order_by(Supply.supplied_on.desc(), Supply.id.desc())))


def concerns_of(plan: Plan) -> list[Concern]:
    return list(db.session.scalars(select(Concern).where(Concern.plan_id == plan.id)
                                   .order_by(Concern.created_at.desc())))


def describe_item(product: str, strength: Decimal | None, brand: str | None = None) -> str:
    """'Morphine modified-release tablet (MST Continus) 30 mg', as the dispensing schedule names an item."""
    found = load_formulary().as_prescribed(product, brand)
    if strength is None:
        return f"{found.label()} (mL)"
    return f"{found.label()} {plain(strength)} {'micrograms/hour' if found.is_patch else 'mg'}"


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _require_pharmacist(by: User) -> None:
    if by.role is not Role.COMMUNITY_PHARMACIST:
        raise PermissionDenied("only a community pharmacist records supplies")
