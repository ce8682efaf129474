"""A community pharmacy's view of its patients' plans: what is due this week, and the supplies made against each
instalment of the dispensing schedule (more than the schedule, or early, only with a recorded reason; a wrong
record put right by a correction naming it). This module owns instalments and supplies; concerns raised with the
clinic are in `pharmacy_concerns`, notices of revised plans in `revision_notices`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import aliased, defer

from taper import clock
from taper.domain.dispensing import Instalment, instalments
from taper.domain.dispensing import Supply as DispensedItem
from taper.domain.formulary import load_formulary
from taper.domain.makeable import plain
from taper.domain.organisations import Role
from taper.domain.schedule_contract import schedule_from_document
from taper.domain.wording import long_date
from taper.extensions import db
from taper.models import Patient, Plan, PlanDocument, PlanVersion, Supply, User
from taper.services import audit, sharing
from taper.services.current_versions import current_versions, is_current_version
from taper.services.errors import InvalidInput, NotFound, PermissionDenied

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
    require_community_pharmacist(by)
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


def patient_view(*, by: User, patient_id: int) -> tuple[Patient, Plan, list[InstalmentState], list[SupplyRecord]]:
    """A patient's plan as the pharmacy needs it: instalments and supplies only (no risk assessment, no
    consultation notes). Nominating the pharmacy is not enough: a patient with no plan shared with it (none yet,
    or consent withdrawn) is "not found", as for a GP, and the refusal is audited."""
    require_community_pharmacist(by)
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


def record_instalment(*, by: User, plan_id: int, instalment: int, version_number: int, supplied_on: date,
                       quantities: Mapping[str, str], override_reason: str = "") -> list[Supply]:
    """Record what was supplied of a whole instalment at once, all or nothing: `quantities` gives each medicine
    and strength of the instalment (keyed by `item_key`) the quantity handed over (tablets, capsules or patches;
    mL of a liquid), 0 for none of it this time. More than the schedule has left, or before the instalment
    starts, is refused unless the pharmacist records why. A form opened before the clinic revised the plan
    (`version_number` no longer current) is refused, so its quantities are checked against the new schedule."""
    require_community_pharmacist(by)
    plan = sharing.shared_plan(by, plan_id)
    if not plan.status.is_running:
        raise InvalidInput({"plan": "This plan is not running: supply only as the clinic agrees"})
    state, version = _locked_state(plan, instalment)
    if version.number != version_number:
        raise InvalidInput({"instalment": "The clinic changed this plan after you opened the page: check the "
                                          "quantities of the new schedule below and record again"})
    if state is None:
        raise InvalidInput({"instalment": "Choose an instalment of the schedule"})
    errors: dict[str, str] = {}
    amounts: list[tuple[DispensedItem, Decimal]] = []
    for each in state.instalment.supplies:
        key = item_key(each.product, each.strength)
        amount = _decimal(quantities.get(key, ""))
        if amount is None or not _valid_quantity(amount):
            errors[key] = (f"Enter the quantity of {describe_item(each.product, each.strength, each.brand)} "
                           f"supplied: 0 or more, at most {MAX_QUANTITY}, to 3 decimal places")
        elif amount:
            amounts.append((each, amount))
    if supplied_on > clock.today():
        errors["supplied_on"] = "The date supplied must be today or in the past"
    if errors:
        raise InvalidInput(errors)
    if not amounts:
        raise InvalidInput({"quantities": "Enter the quantity supplied of at least one medicine"})
    over = [(each, state.remaining(each.product, each.strength)) for each, amount in amounts
            if amount > state.remaining(each.product, each.strength)]
    early = supplied_on < state.instalment.starts_on
    _require_reason(override_reason, over=over, early=early, starts_on=state.instalment.starts_on)
    recorded = []
    for each, amount in amounts:
        exceeds = amount > state.remaining(each.product, each.strength)
        supply = Supply(plan_id=plan.id, plan_version_id=version.id, instalment=instalment,
                        pharmacy_id=by.organisation_id, supplied_on=supplied_on, product=each.product,
                        strength=each.strength, quantity=amount,
                        override_reason=override_reason.strip() if exceeds or early else "", recorded_by_id=by.id)
        db.session.add(supply)
        recorded.append((supply, exceeds))
    db.session.flush()
    for supply, exceeds in recorded:
        audit.record(action="create", by=by, entity_type="supply", entity_id=supply.id, patient_id=plan.patient_id,
                     changes={"plan": plan.id, "instalment": instalment, "product": supply.product,
                              "strength": None if supply.strength is None else str(supply.strength),
                              "quantity": str(supply.quantity), "over_schedule": exceeds, "early": early,
                              "override_reason": supply.override_reason})
    return [supply for supply, _ in recorded]


def correct_supply(*, by: User, supply_id: int, quantity: str, supplied_on: date, note: str,
                   override_reason: str = "") -> Supply:
    """Correct a recorded supply with a new record that names it (the records are never changed): what was
    really supplied of that medicine and strength, 0 if nothing was, on which day, and why the record was wrong.
    Only the latest record of a chain can be corrected, by the pharmacy that recorded it; the same rules for
    more than the schedule, or early, apply as when recording."""
    require_community_pharmacist(by)
    corrected, plan = _own_supply(by, supply_id)
    state, version = _locked_state(plan, corrected.instalment)
    if db.session.scalar(select(Supply.id).where(Supply.corrects_id == corrected.id)) is not None:
        raise InvalidInput({"quantity": "This record has already been corrected: correct the latest record"})
    errors = {}
    amount = _decimal(quantity)
    if amount is None or not _valid_quantity(amount):
        errors["quantity"] = (f"Enter the quantity really supplied: 0 or more, at most {MAX_QUANTITY}, "
                              "to 3 decimal places")
    if supplied_on > clock.today():
        errors["supplied_on"] = "The date supplied must be today or in the past"
    if not note.strip():
        errors["note"] = "Say what was wrong with the record"
    if errors:
        raise InvalidInput(errors)
    assert amount is not None
    # What is left once the corrected record no longer counts (none, if the schedule no longer has it).
    left = Decimal(0) if state is None else \
        state.remaining(corrected.product, corrected.strength) + corrected.quantity
    over = [(_item_of(state, corrected), left)] if amount > left else []
    early = amount > 0 and state is not None and supplied_on < state.instalment.starts_on
    _require_reason(override_reason, over=over, early=early,
                    starts_on=state.instalment.starts_on if state else supplied_on)
    correction = Supply(plan_id=plan.id, plan_version_id=version.id, instalment=corrected.instalment,
                        pharmacy_id=by.organisation_id, supplied_on=supplied_on, product=corrected.product,
                        strength=corrected.strength, quantity=amount,
                        override_reason=override_reason.strip() if over or early else "", recorded_by_id=by.id,
                        corrects_id=corrected.id, correction_note=note.strip())
    db.session.add(correction)
    db.session.flush()
    audit.record(action="correct", by=by, entity_type="supply", entity_id=correction.id,
                 patient_id=plan.patient_id,
                 changes={"corrects": corrected.id, "quantity": {"before": str(corrected.quantity),
                                                                 "after": str(amount)},
                          "supplied_on": {"before": corrected.supplied_on.isoformat(),
                                          "after": supplied_on.isoformat()},
                          "note": correction.correction_note, "override_reason": correction.override_reason})
    return correction


def supply_to_correct(*, by: User, supply_id: int) -> tuple[Supply, InstalmentState | None]:
    """A supply this pharmacy recorded, for its correction form, with its instalment as it stands now."""
    require_community_pharmacist(by)
    supply, plan = _own_supply(by, supply_id)
    patient = db.session.get(Patient, plan.patient_id)
    assert patient is not None
    state = next((each for each in instalment_states(plan, patient)
                  if each.instalment.number == supply.instalment), None)
    return supply, state


def _own_supply(by: User, supply_id: int) -> tuple[Supply, Plan]:
    """A supply this pharmacy recorded, of a plan shared with it; otherwise not found, and audited."""
    supply = db.session.get(Supply, supply_id)
    if supply is None:
        raise NotFound("no such supply")
    plan = sharing.shared_plan(by, supply.plan_id)
    if supply.pharmacy_id != by.organisation_id:
        audit.record(action="access_denied", by=by, entity_type="supply", entity_id=supply.id,
                     patient_id=plan.patient_id, changes={"reason": "recorded by another pharmacy"})
        raise NotFound("no such supply")
    return supply, plan


def item_key(product: str, strength: Decimal | None) -> str:
    """How a form names a medicine and strength of an instalment: "morphine-mr-tablet-12h|10" ("...|" for mL)."""
    return f"{product}|{'' if strength is None else plain(strength)}"


def _locked_state(plan: Plan, instalment: int) -> tuple[InstalmentState | None, PlanVersion]:
    """The instalment as it stands, read after locking the plan (a PostgreSQL row lock), so that two supplies
    recorded at once cannot both see the same amount left."""
    db.session.execute(select(Plan.id).where(Plan.id == plan.id).with_for_update())
    patient = db.session.get(Patient, plan.patient_id)
    assert patient is not None
    version = current_versions([plan.id], with_schedule=True)[plan.id]
    states = _states(plan, patient, version, _supplied([plan.id])[plan.id])
    return next((state for state in states if state.instalment.number == instalment), None), version


def _require_reason(reason: str, *, over: Sequence[tuple[DispensedItem | None, Decimal]], early: bool,
                    starts_on: date) -> None:
    if reason.strip():
        return
    if over:
        item, left = over[0]
        what = "" if item is None else f" of {describe_item(item.product, item.strength, item.brand)}"
        raise InvalidInput({"override_reason": f"The schedule has {plain(max(left, Decimal(0)))}{what} left to "
                                               "supply in this instalment: record why you are supplying more"})
    if early:
        raise InvalidInput({"override_reason": f"This instalment starts on {long_date(starts_on)}: "
                                               "record why you are supplying it early"})


def _item_of(state: InstalmentState | None, supply: Supply) -> DispensedItem | None:
    if state is None:
        return None
    return next((each for each in state.instalment.supplies
                 if (each.product, each.strength) == (supply.product, supply.strength)), None)


def _valid_quantity(amount: Decimal) -> bool:
    """0 (none of it) or more, at most MAX_QUANTITY, to the three decimal places the table keeps."""
    return amount == amount.quantize(QUANTITY_STEP) and 0 <= amount <= MAX_QUANTITY


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
    added up in one query: {plan id: {instalment number: {(product, strength): quantity}}}. A corrected record
    does not count: its correction (the last of the chain) does."""
    totals: defaultdict[int, Supplied] = defaultdict(dict)
    correction = aliased(Supply)
    if plan_ids:
        for plan_id, number, product, strength, quantity in db.session.execute(
                select(Supply.plan_id, Supply.instalment, Supply.product, Supply.strength, func.sum(Supply.quantity))
                .where(Supply.plan_id.in_(plan_ids), ~select(correction.id)
                       .where(correction.corrects_id == Supply.id).exists())
                .group_by(Supply.plan_id, Supply.instalment, Supply.product, Supply.strength)):
            totals[plan_id].setdefault(number, {})[(product, strength)] = quantity
    return totals


def dispensing_schedule(plan: Plan) -> PlanDocument | None:
    """The current version's dispensing schedule as issued (its PDF is not loaded: the page links to it)."""
    return db.session.scalar(select(PlanDocument).options(defer(PlanDocument.pdf))
                             .join(PlanVersion, PlanVersion.id == PlanDocument.plan_version_id)
                             .join(Plan, is_current_version())
                             .where(Plan.id == plan.id, PlanDocument.kind == "pharmacy_schedule"))


@dataclass(frozen=True)
class SupplyRecord:
    """A supply record as the pages show it: plain values, so that a commit before the page is drawn (which
    expires every row loaded) costs no query per record."""

    id: int
    instalment: int
    supplied_on: date
    product: str
    strength: Decimal | None
    quantity: Decimal
    override_reason: str
    recorded_by: Person
    created_at: datetime
    corrects_id: int | None
    correction_note: str
    corrected_by: SupplyRecord | None  # the record that corrects this one


@dataclass(frozen=True)
class Person:
    full_name: str


def supplies_of(plan: Plan) -> list[SupplyRecord]:
    """The plan's supply records, newest first, each with who recorded it and the record correcting it, if
    any (two queries, however many records)."""
    rows = list(db.session.execute(select(Supply, User.full_name).join(User, User.id == Supply.recorded_by_id)
                                   .where(Supply.plan_id == plan.id).order_by(Supply.id)))
    records: dict[int, SupplyRecord] = {}
    corrections = {supply.corrects_id: supply.id for supply, _ in rows if supply.corrects_id is not None}
    for supply, name in reversed(rows):  # the correcting record (always the later one) first
        correction = corrections.get(supply.id)
        records[supply.id] = SupplyRecord(
            supply.id, supply.instalment, supply.supplied_on, supply.product, supply.strength, supply.quantity,
            supply.override_reason, Person(name), supply.created_at, supply.corrects_id, supply.correction_note,
            records[correction] if correction is not None else None)
    return list(records.values())


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


def require_community_pharmacist(by: User) -> None:
    if by.role is not Role.COMMUNITY_PHARMACIST:
        raise PermissionDenied("only a community pharmacist records supplies")
