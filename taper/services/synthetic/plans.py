"""Synthetic regimens and plans. Each plan's version is what `taper.services.plans` stores: the engine request made
as `plans._request` makes it (the recorded regimen, the policy, the clinic's factor set and limits) and the schedule
document `schedule_from_request` gives for it, built once for each distinct regimen and start date and reused."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from taper import clock
from taper.domain.assessment import assess
from taper.domain.engine import Basis
from taper.domain.formulary import load_formulary
from taper.domain.ome import get_factor_set
from taper.domain.plans import PlanStatus
from taper.domain.regimen import parse_regimen, regimen_to_json
from taper.domain.schedule_contract import limits_document, schedule_from_request
from taper.extensions import db
from taper.models import Organisation, Plan, PlanVersion, PlanVersionStep, RecordedRegimen, SharedDecision
from taper.services import plan_steps
from taper.services.synthetic.people import PatientRow, People
from taper.services.synthetic.writer import Actor, Writer, at

# Of every 100 running plans, the other plans there are: drafts being agreed, plans completed and plans stopped.
DRAFTS_PER_100_RUNNING, COMPLETED_PER_100_RUNNING, STOPPED_PER_100_RUNNING = 10, 20, 10
PAUSED_SHARE = 0.05  # of running plans
OTHER_PATIENTS_WITH_A_REGIMEN = 0.25  # patients with no plan whose regimen is recorded (some above the threshold)


def _twice_daily(product: str, dose_mg: int, brand: str | None = None) -> dict[str, Any]:
    line: dict[str, Any] = {"product": product, "doses": [{"time": "08:00", "dose_mg": dose_mg},
                                                          {"time": "20:00", "dose_mg": dose_mg}]}
    return line | ({"brand": brand} if brand else {})


# (regimen lines, benzodiazepine, gabapentinoid, reduction %, interval in days): long-term opioid regimens seen in
# pain clinics, each with the pace the plan takes.
TEMPLATES: list[tuple[list[dict[str, Any]], bool, bool, int, int]] = [
    ([_twice_daily("morphine-mr-tablet-12h", 60, "MST Continus"), {
        "product": "morphine-oral-solution-10mg-5ml", "prn": {"dose_mg": 10, "usual_per_day": 2, "max_per_day": 4}}],
     False, True, 10, 14),
    ([_twice_daily("morphine-mr-tablet-12h", 30, "MST Continus")], False, False, 10, 14),
    ([_twice_daily("morphine-mr-tablet-12h", 90, "MST Continus")], True, False, 10, 14),
    ([_twice_daily("oxycodone-mr-tablet-12h", 40, "OxyContin"), {
        "product": "oxycodone-ir-capsule", "prn": {"dose_mg": 10, "usual_per_day": 1, "max_per_day": 4}}],
     True, False, 10, 14),
    ([_twice_daily("oxycodone-mr-tablet-12h", 20, "OxyContin")], False, True, 10, 7),
    ([{"product": "co-codamol-30-500-tablet", "doses": [
        {"time": at_, "dose_mg": 60} for at_ in ("08:00", "12:00", "16:00", "22:00")]}], False, False, 10, 14),
    ([{"product": "fentanyl-patch-72h", "brand": "Matrifen", "patch_mcg_per_hour": 50}], False, True, 10, 14),
    ([{"product": "fentanyl-patch-72h", "brand": "Matrifen", "patch_mcg_per_hour": 25}], False, False, 10, 14),
    ([{"product": "buprenorphine-patch-7day", "brand": "BuTrans", "patch_mcg_per_hour": 20}], False, False, 10, 14),
    ([_twice_daily("tramadol-mr-tablet-12h", 150, "Zydol SR")], False, False, 10, 14),
    ([_twice_daily("tramadol-mr-tablet-12h", 100, "Zydol SR")], False, True, 5, 14),
    ([_twice_daily("morphine-mr-tablet-12h", 120, "MST Continus")], False, True, 5, 14),
]
WHAT_MATTERS = ("Walking to the allotment without stopping", "Playing with my grandchildren", "Going back to work",
                "Sleeping through the night", "Driving again", "Feeling less foggy in the mornings")
GOALS = ("Off strong opioids by the summer", "Half my dose by the new year", "Fewer side effects",
         "Off morphine altogether", "Only take something on bad days")
PAIN_RELIEF = ("Paracetamol as needed, a hot water bottle, pacing", "Ibuprofen gel, gentle stretching",
               "TENS machine, walking little and often", "")
STOPPED_BECAUSE = ("The patient chose to stop reducing for now", "Moved out of the area",
                   "Pain much worse: referred back to the pain team", "Did not attend three reviews")


@dataclass(frozen=True)
class Built:
    """One engine run: the request `taper.services.plans` would store and the schedule document it gave."""

    template: int
    request: dict[str, Any]
    schedule: dict[str, Any]

    @property
    def step_starts(self) -> list[date]:
        return [date.fromisoformat(step["starts_on"]) for step in self.schedule["steps"]]


@dataclass
class PlanRow:
    id: int
    patient: PatientRow
    pharmacist: Actor
    status: PlanStatus
    built: Built
    created_on: date
    ended_on: date | None
    instalment_days: int
    review_every_days: int
    outcome_reason: str = ""
    version_id: int = 0
    decided: bool = False
    consent_gp: bool = False
    consent_pharmacy: bool = False


class Engine:
    """Schedules by (template, clinic settings, start date): the engine runs once for each."""

    def __init__(self) -> None:
        self.formulary = load_formulary()
        self.built: dict[tuple[int, str, date], Built] = {}
        self.runs = 0

    def build(self, template: int, clinic: Organisation, start_on: date) -> Built:
        key = (template, clinic.factor_set, start_on)
        if key not in self.built:
            *_, reduction_pct, interval_days = TEMPLATES[template]
            # As plans._request makes it, from the recorded regimen and the builder's settings.
            policy = {"reduction_pct": str(Decimal(reduction_pct)), "interval_days": interval_days,
                      "basis": Basis.STARTING.value, "target_ome_mg_per_day": str(Decimal(0)), "order_reason": ""}
            request = {"start_on": start_on.isoformat(), "regimen": self.recorded_lines(template), "policy": policy,
                       "holds": [], "factor_set": clinic.factor_set, "limits": limits_document(clinic.starting_limits)}
            self.built[key] = Built(template, request, schedule_from_request(request, self.formulary))
            self.runs += 1
        return self.built[key]

    def recorded_lines(self, template: int) -> list[dict[str, Any]]:
        return regimen_to_json(parse_regimen(TEMPLATES[template][0], self.formulary))


def make_plans(writer: Writer, rng: random.Random, people: People, engine: Engine, *,
               running_plans: int) -> list[PlanRow]:
    """Running plans for `running_plans` patients; drafts, completed and stopped plans for others in proportion;
    a recorded regimen for every patient with a plan and for a quarter of the rest."""
    today = clock.today()
    organisations = {clinic.id: db.session.get_one(Organisation, clinic.id) for clinic in people.clinics}
    shuffled = rng.sample(people.patients, len(people.patients))
    counts = [(PlanStatus.ACTIVE, running_plans)] + [
        (status, min(round(running_plans * per_100 / 100), len(shuffled))) for status, per_100 in (
            (PlanStatus.DRAFT, DRAFTS_PER_100_RUNNING), (PlanStatus.COMPLETED, COMPLETED_PER_100_RUNNING),
            (PlanStatus.STOPPED, STOPPED_PER_100_RUNNING))]
    specs, taken = [], 0
    for status, count in counts:
        count = min(count, len(shuffled) - taken)
        for patient in shuffled[taken:taken + count]:
            specs.append(_spec(rng, engine, organisations[patient.clinic.id], patient, status, today))
        taken += count
    plans = [PlanRow(0, patient, rng.choice(patient.clinic.pharmacists), status, built, created_on, ended_on,
                     rng.choices((14, 7, 28), (60, 30, 10))[0], rng.choices((14, 7), (90, 10))[0],
                     _outcome(rng, status))
             for patient, status, built, created_on, ended_on in specs]
    _regimens(writer, rng, engine, organisations, plans, shuffled[taken:], today)
    _write(writer, rng, plans)
    return plans


def _spec(rng: random.Random, engine: Engine, clinic: Organisation, patient: PatientRow, status: PlanStatus,
          today: date) -> tuple[PatientRow, PlanStatus, Built, date, date | None]:
    """When the plan was agreed and starts, and when it ended. Running plans start on a working day, so their steps
    change on every weekday (the step-reminders job has work every working day); the others, long over or not yet
    started, on a Monday or a Thursday. So the distinct start dates (and engine runs) stay few whatever the number
    of plans."""
    monday = today - timedelta(days=today.weekday())
    weeks = {PlanStatus.ACTIVE: (-24, 1), PlanStatus.DRAFT: (1, 2), PlanStatus.COMPLETED: (-70, -40),
             PlanStatus.STOPPED: (-40, -6)}[status]
    weekdays = range(5) if status is PlanStatus.ACTIVE else (0, 3)
    start_on = monday + timedelta(weeks=rng.randint(*weeks), days=rng.choice(weekdays))
    built = engine.build(rng.randrange(len(TEMPLATES)), clinic, start_on)
    created_on = min(start_on - timedelta(days=clinic.plan_lead_days), today)
    if status is PlanStatus.DRAFT:
        created_on = today - timedelta(days=rng.randint(0, 5))
    ended_on = None
    if status is PlanStatus.COMPLETED:
        ended_on = min(built.step_starts[-1] + timedelta(days=14), today - timedelta(days=1))
    elif status is PlanStatus.STOPPED:
        ended_on = min(start_on + timedelta(days=rng.randint(14, 120)), today - timedelta(days=1))
    elif status is PlanStatus.ACTIVE and rng.random() < PAUSED_SHARE and start_on < today:
        status = PlanStatus.PAUSED
    return patient, status, built, created_on, ended_on


def _regimens(writer: Writer, rng: random.Random, engine: Engine, organisations: dict[int, Organisation],
              plans: list[PlanRow], others: list[PatientRow], today: date) -> None:
    recorded = [(plan.patient, plan.built.template, plan.created_on - timedelta(days=rng.randint(0, 14)),
                 plan.pharmacist) for plan in plans]
    recorded += [(patient, rng.randrange(len(TEMPLATES)), today - timedelta(days=rng.randint(0, 200)),
                  rng.choice(patient.clinic.pharmacists))
                 for patient in others if rng.random() < OTHER_PATIENTS_WITH_A_REGIMEN]
    assessed: dict[tuple[int, int], tuple[Decimal, Decimal | None, str, str]] = {}
    rows: list[dict[str, Any]] = []
    for patient, template, recorded_on, pharmacist in recorded:
        clinic = organisations[patient.clinic.id]
        if (template, clinic.id) not in assessed:
            assessed[(template, clinic.id)] = _assessed(engine, template, clinic)
        threshold, total, factor_set, factor_set_version = assessed[(template, clinic.id)]
        _, benzodiazepine, gabapentinoid, _, _ = TEMPLATES[template]
        rows.append({"patient_id": patient.id, "recorded_on": recorded_on, "recorded_by_id": pharmacist.user_id,
                     "lines": engine.recorded_lines(template), "benzodiazepine": benzodiazepine,
                     "gabapentinoid": gabapentinoid, "notes": "Synthetic regimen.", "factor_set": factor_set,
                     "factor_set_version": factor_set_version, "formulary_version": engine.formulary.version,
                     "high_dose_threshold_mg": threshold, "total_ome_mg_per_day": total,
                     "created_at": at(recorded_on, 9, 30)})
    ids = writer.insert(RecordedRegimen, rows)
    for id, row, (patient, _, _, pharmacist) in zip(ids, rows, recorded, strict=True):
        writer.audit(action="create", by=pharmacist, entity_type="regimen", entity_id=id, patient_id=patient.id,
                     occurred_at=row["created_at"], changes={
                         "lines": row["lines"], "recorded_on": row["recorded_on"].isoformat(),
                         "total_ome_mg_per_day": None if row["total_ome_mg_per_day"] is None
                         else str(row["total_ome_mg_per_day"])})


def _assessed(engine: Engine, template: int, clinic: Organisation) -> tuple[Decimal, Decimal | None, str, str]:
    """The OME `taper.services.regimens.record_regimen` stores for this regimen at this clinic."""
    lines, benzodiazepine, gabapentinoid, _, _ = TEMPLATES[template]
    factor_set = get_factor_set(clinic.factor_set)
    assessment = assess(parse_regimen(lines, engine.formulary), formulary=engine.formulary, factor_set=factor_set,
                        high_dose_threshold_mg=Decimal(clinic.high_dose_threshold_mg), benzodiazepine=benzodiazepine,
                        gabapentinoid=gabapentinoid,
                        paracetamol_max_mg_per_day=Decimal(clinic.paracetamol_max_mg_per_day))
    return (assessment.high_dose_threshold_mg, assessment.total_ome_mg_per_day, assessment.factor_set.key,
            assessment.factor_set.version)


def _write(writer: Writer, rng: random.Random, plans: list[PlanRow]) -> None:
    """The plans, their first versions, the shared decisions and what the services audit for each."""
    numbers = _numbers_per_patient(plans)
    ids = writer.insert(Plan, [{
        "patient_id": plan.patient.id, "number": number, "status": plan.status,
        "instalment_days": plan.instalment_days, "review_every_days": plan.review_every_days,
        "created_by_id": plan.pharmacist.user_id, "created_at": at(plan.created_on, 11), "ended_on": plan.ended_on,
        "final_ome_mg_per_day": _ome_on(plan.built.schedule, plan.ended_on) if plan.ended_on else None,
        "outcome_reason": plan.outcome_reason, "current_version_number": 1,
        # The plan row changed as often as the services would have changed it: created, started, paused or ended.
        "version": 1 if plan.status is PlanStatus.DRAFT else 2 if plan.status is PlanStatus.ACTIVE else 3}
        for plan, number in zip(plans, numbers, strict=True)])
    for plan, id in zip(plans, ids, strict=True):
        plan.id = id
    version_ids = writer.insert(PlanVersion, [_version(plan) for plan in plans])
    # Each version's steps as rows, made as the plan services make them for every version they store.
    writer.insert_rows(PlanVersionStep, [plan_steps.step_row(version_id, step) for plan, version_id in zip(
        plans, version_ids, strict=True) for step in plan.built.schedule["steps"]])
    for plan, version_id in zip(plans, version_ids, strict=True):
        plan.version_id = version_id
        plan.decided = plan.status is not PlanStatus.DRAFT or rng.random() < 0.4
        plan.consent_gp = plan.decided and rng.random() < 0.97
        plan.consent_pharmacy = plan.decided and plan.patient.pharmacy_id is not None and rng.random() < 0.9
    decided = [plan for plan in plans if plan.decided]
    decision_rows: list[dict[str, Any]] = [{
        "plan_id": plan.id, "what_matters": rng.choice(WHAT_MATTERS), "goals": rng.choice(GOALS),
        "agreed_pace": f"{TEMPLATES[plan.built.template][3]}% every {TEMPLATES[plan.built.template][4]} days",
        "pain_relief": rng.choice(PAIN_RELIEF), "prescriber": rng.choices(("gp", "pharmacist"), (85, 15))[0],
        "consent_share_with_gp": plan.consent_gp, "consent_share_with_pharmacy": plan.consent_pharmacy,
        "agreed_on": plan.created_on, "recorded_by_id": plan.pharmacist.user_id,
        "created_at": at(plan.created_on, 11, 30)} for plan in decided]
    decision_ids = writer.insert(SharedDecision, decision_rows)
    for plan, number in zip(plans, numbers, strict=True):
        _audit_plan(writer, plan, number)
    for plan, id, row in zip(decided, decision_ids, decision_rows, strict=True):
        writer.audit(action="create", by=plan.pharmacist, entity_type="shared_decision", entity_id=id,
                     patient_id=plan.patient.id, occurred_at=row["created_at"], changes={
                         "plan": plan.id, "prescriber": row["prescriber"], "consent_gp": plan.consent_gp,
                         "consent_pharmacy": plan.consent_pharmacy})


def _numbers_per_patient(plans: list[PlanRow]) -> list[int]:
    """Each plan's number for its patient (1, 2, ...) in the order they are inserted, as the services number them."""
    made: dict[int, int] = {}
    numbers = []
    for plan in plans:
        made[plan.patient.id] = made.get(plan.patient.id, 0) + 1
        numbers.append(made[plan.patient.id])
    return numbers


def _version(plan: PlanRow) -> dict[str, Any]:
    """Version 1, as `plans._add_version` stores it."""
    schedule = plan.built.schedule
    return {"plan_id": plan.id, "number": 1, "request": plan.built.request, "schedule": schedule,
            "reason": "First draft", "starting_ome_mg_per_day": Decimal(str(schedule["starting_ome_mg_per_day"])),
            "factor_set": schedule["factor_set"], "factor_set_version": schedule["factor_set_version"],
            "formulary_version": schedule["formulary_version"], "created_by_id": plan.pharmacist.user_id,
            "created_at": at(plan.created_on, 11)}


def _audit_plan(writer: Writer, plan: PlanRow, number: int) -> None:
    made = at(plan.created_on, 11)
    writer.audit(action="create", by=plan.pharmacist, entity_type="plan", entity_id=plan.id,
                 patient_id=plan.patient.id, occurred_at=made,
                 changes={"status": "draft", "version": 1, "number": number})
    writer.audit(action="create", by=plan.pharmacist, entity_type="plan_version", entity_id=plan.version_id,
                 patient_id=plan.patient.id, occurred_at=made,
                 changes={"plan": plan.id, "number": 1, "reason": "First draft"})
    if plan.status is PlanStatus.DRAFT:
        return
    writer.audit(action="update", by=plan.pharmacist, entity_type="plan", entity_id=plan.id,
                 patient_id=plan.patient.id, occurred_at=at(plan.created_on, 12),
                 changes={"status": {"before": "draft", "after": "active"}, "reason": ""})
    if plan.status is not PlanStatus.ACTIVE:
        when = at(plan.ended_on, 15) if plan.ended_on else at(clock.today() - timedelta(days=1), 15)
        writer.audit(action="update", by=plan.pharmacist, entity_type="plan", entity_id=plan.id,
                     patient_id=plan.patient.id, occurred_at=when,
                     changes={"status": {"before": "active", "after": plan.status.value},
                              "reason": plan.outcome_reason})


def _outcome(rng: random.Random, status: PlanStatus) -> str:
    if status is PlanStatus.COMPLETED:
        return "Completed the plan"
    return rng.choice(STOPPED_BECAUSE) if status is PlanStatus.STOPPED else ""


def _ome_on(schedule: dict[str, Any], on: date) -> Decimal:
    """As `taper.services.plans` records a plan's final dose: the step in force on the day it ended."""
    for step in reversed(schedule["steps"]):
        if date.fromisoformat(step["starts_on"]) <= on:
            return Decimal(str(step["ome_mg_per_day"]))
    return Decimal(str(schedule["starting_ome_mg_per_day"]))
