"""Synthetic appointments, follow-ups and the worklist items missed reviews leave. Each plan's reviews are where
`taper.services.appointments.propose_for_plan` aims them (the initial consultation before step 1, a review a few
days after the steps at the plan's cadence) and each goes in its pharmacist's first free slot within the window,
in their sessions on working days: booked one after another in each session, so none overlaps another. Those
already over were attended (a few missed), each attended review with its follow-up; those to come are proposed,
or confirmed within the week."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from taper import clock
from taper.domain.booking import (
    FOLLOW_UP_MINUTES,
    INITIAL_MINUTES,
    WINDOW_DAYS,
    english_bank_holidays,
    follow_up_targets,
    is_working_day,
)
from taper.domain.follow_up import PEG_ITEMS, SOWS_GOSSOP_ITEMS, Mode
from taper.domain.plans import PlanStatus
from taper.domain.wording import clock_words, long_date
from taper.models import Appointment, FollowUp, WorklistItem
from taper.services.appointments import KIND_LABELS
from taper.services.synthetic.people import CLINIC_ROOM, WEEK
from taper.services.synthetic.plans import PlanRow
from taper.services.synthetic.writer import Writer

MISSED_SHARE = 0.08  # reviews the patient did not attend


@dataclass(frozen=True)
class Booked:
    plan: PlanRow
    kind: str
    starts_at: datetime
    minutes: int
    mode: Mode
    location: str
    status: str


class Diary:
    """One pharmacist's booked time: how far each session of each day is filled."""

    def __init__(self, closed: set[date]) -> None:
        self.closed = closed
        self.filled: dict[tuple[date, int], datetime] = {}

    def book(self, first: date, last: date, minutes: int, mode: Mode) -> tuple[datetime, str] | None:
        """The first free slot from `first` to `last` (both included) that suits `mode`, now taken."""
        length = timedelta(minutes=minutes)
        day = first
        while day <= last:
            if is_working_day(day, self.closed):
                for index, (weekday, starts, ends, remote) in enumerate(WEEK):
                    if weekday != day.weekday() or (remote and mode is Mode.FACE_TO_FACE):
                        continue
                    start = self.filled.get((day, index)) or datetime.combine(day, starts, clock.CLINIC_TIMEZONE)
                    if start + length <= datetime.combine(day, ends, clock.CLINIC_TIMEZONE):
                        self.filled[(day, index)] = start + length
                        return start, "" if remote else CLINIC_ROOM
            day += timedelta(days=1)
        return None


def make_appointments(writer: Writer, rng: random.Random, plans: list[PlanRow]) -> int:
    """Appointments, follow-ups and missed-review worklist items for every plan that started; the number of
    reviews no slot was found for (the services leave those for the pharmacist to book by hand)."""
    now, today = clock.now(), clock.today()
    closed = set(english_bank_holidays(range(today.year - 2, today.year + 3)))
    diaries: dict[int, Diary] = {}
    booked: list[Booked] = []
    unplaced = 0
    for plan in rng.sample(plans, len(plans)):
        if plan.status is PlanStatus.DRAFT:
            continue
        diary = diaries.setdefault(plan.pharmacist.user_id, Diary(closed))
        last_day = plan.ended_on or date.max
        step_1 = plan.built.step_starts[0]
        wanted = [("initial", INITIAL_MINUTES, Mode.FACE_TO_FACE, plan.created_on, max(step_1, plan.created_on))]
        wanted += [("follow_up", FOLLOW_UP_MINUTES, Mode.PHONE, day, day + timedelta(days=WINDOW_DAYS))
                   for day in follow_up_targets(plan.built.step_starts, cadence_days=plan.review_every_days)
                   if day <= last_day]
        for kind, minutes, mode, first, last in wanted:
            slot = diary.book(first, min(last, last_day), minutes, mode)
            if slot is None:
                unplaced += 1
                continue
            starts_at, location = slot
            status = _status(rng, starts_at, minutes, now)
            booked.append(Booked(plan, kind, starts_at, minutes, mode, location, status))
    booked.sort(key=lambda each: each.starts_at)
    ids = writer.insert(Appointment, [{
        "plan_id": each.plan.id, "patient_id": each.plan.patient.id, "pharmacist_id": each.plan.pharmacist.user_id,
        "kind": each.kind, "starts_at": each.starts_at, "ends_at": each.starts_at + timedelta(minutes=each.minutes),
        "length_minutes": each.minutes, "mode": each.mode.value, "location": each.location, "status": each.status,
        "status_reason": "", "extra_session": False, "created_at": _made(each.plan),
        "updated_at": _made(each.plan), "version": 1 if each.status == "proposed" else 2} for each in booked])
    _audit_proposals(writer, booked)
    _follow_ups(writer, rng, booked)
    _missed(writer, booked, ids)
    return unplaced


def _status(rng: random.Random, starts_at: datetime, minutes: int, now: datetime) -> str:
    if starts_at + timedelta(minutes=minutes) <= now:
        return "did_not_attend" if rng.random() < MISSED_SHARE else "attended"
    return "confirmed" if starts_at < now + timedelta(days=7) else "proposed"


def _made(plan: PlanRow) -> datetime:
    """The reviews were proposed when the plan started."""
    return datetime.combine(plan.created_on, datetime.min.time(), clock.CLINIC_TIMEZONE) + timedelta(hours=12)


def _audit_proposals(writer: Writer, booked: list[Booked]) -> None:
    """One event for each plan's proposals, as `propose_for_plan` writes when a plan starts."""
    by_plan: dict[int, list[Booked]] = {}
    for each in booked:
        by_plan.setdefault(each.plan.id, []).append(each)
    for plan_id, made in by_plan.items():
        plan = made[0].plan
        writer.audit(action="create", by=plan.pharmacist, entity_type="appointments", entity_id=plan_id,
                     patient_id=plan.patient.id, occurred_at=_made(plan), changes={
                         "proposed": [each.starts_at.isoformat() for each in made], "cancelled": [], "unplaced": []})


def _follow_ups(writer: Writer, rng: random.Random, booked: list[Booked]) -> None:
    """A follow-up for each review attended: the patient carries on with the plan."""
    held = [each for each in booked if each.kind == "follow_up" and each.status == "attended"]
    rows: list[dict[str, Any]] = []
    for each in held:
        sows = {item: rng.choices((0, 1, 2), (60, 30, 10))[0] for item in SOWS_GOSSOP_ITEMS}
        rows.append({"plan_id": each.plan.id, "held_on": each.starts_at.astimezone(clock.CLINIC_TIMEZONE).date(),
                     "mode": each.mode.value, "duration_minutes": each.minutes,
                     "dose_taken": "As the plan says", "peg": {item: rng.randint(3, 8) for item in PEG_ITEMS},
                     "sows": sows, "sows_total": sum(sows.values()), "notes": "", "outcome": "continue",
                     "outcome_detail": "", "plan_version_after": 1, "recorded_by_id": each.plan.pharmacist.user_id,
                     "created_at": each.starts_at + timedelta(minutes=each.minutes)})
    ids = writer.insert(FollowUp, rows)
    for id, row, each in zip(ids, rows, held, strict=True):
        writer.audit(action="create", by=each.plan.pharmacist, entity_type="follow_up", entity_id=id,
                     patient_id=each.plan.patient.id, occurred_at=row["created_at"], changes={
                         "plan": each.plan.id, "outcome": "continue", "sows_total": row["sows_total"],
                         "plan_version_after": 1})


def _missed(writer: Writer, booked: list[Booked], ids: list[int]) -> None:
    """A missed review puts the patient on the clinic's worklist (worded as `mark_did_not_attend` words it) until
    a later review is held."""
    attended: dict[int, list[datetime]] = {}
    for each in booked:  # in time order
        if each.status == "attended":
            attended.setdefault(each.plan.id, []).append(each.starts_at + timedelta(minutes=each.minutes))
    rows: list[dict[str, Any]] = []
    for each, id in zip(booked, ids, strict=True):
        if each.status != "did_not_attend":
            continue
        ended = each.starts_at + timedelta(minutes=each.minutes)
        local = each.starts_at.astimezone(clock.CLINIC_TIMEZONE)
        when = f"{local:%A} {long_date(local.date())} at {clock_words(local.strftime('%H:%M'))}"
        rows.append({"key": f"did_not_attend:{id}", "kind": "did_not_attend", "clinic_id": each.plan.patient.clinic.id,
                     "patient_id": each.plan.patient.id, "plan_id": each.plan.id,
                     "detail": f"Did not attend the {KIND_LABELS[each.kind].lower()} on {when}", "created_at": ended,
                     "resolved_at": next((held for held in attended.get(each.plan.id, []) if held > ended), None)})
    writer.insert(WorklistItem, rows)
