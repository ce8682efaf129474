"""Appointments: reviews proposed when a plan starts or changes, and any appointment a pharmacist books (an
initial consultation, before a plan exists too, a review or an extra review), then confirmed, moved, cancelled,
attended or missed. A proposed or confirmed appointment holds its pharmacist's time; the database refuses an
overlap. Booking, moving and cancelling tell the patient by the channel they chose (the outbox). This module owns
the appointments once made, the proposed reviews, the day and week lists and the rules of the pharmacist's time;
booking by hand is in `booking`, which builds on this module (never the other way round)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, load_only

from taper import clock
from taper.domain.booking import (
    CLINIC_TIMEZONE,
    FOLLOW_UP_MINUTES,
    INITIAL_MINUTES,
    LENGTHS_MINUTES,
    WINDOW_DAYS,
    english_bank_holidays,
    first_free_slot,
    follow_up_targets,
    initial_window,
    outside_sessions,
    reconcile,
    session_at,
)
from taper.domain.follow_up import Mode
from taper.domain.wording import clock_words, long_date
from taper.extensions import db
from taper.models import Appointment, Patient, Plan, User, WorklistItem
from taper.models.booking import HOLDING
from taper.services import audit, capacity, messages
from taper.services.common import check_version, flush_or_stale
from taper.services.errors import InvalidInput, NotFound
from taper.services.patients import patient_in_scope

STATUS_LABELS = {"proposed": "Proposed", "confirmed": "Confirmed", "attended": "Attended",
                 "did_not_attend": "Did not attend", "cancelled": "Cancelled"}
KIND_LABELS = {"initial": "Initial consultation", "follow_up": "Follow-up", "extra_review": "Extra review"}
DOUBLE_BOOKED = "ex_appointments_no_double_booking"


@dataclass(frozen=True)
class Proposals:
    booked: list[Appointment]
    cancelled: list[Appointment]
    unplaced: list[date]  # review days with no free slot in their window: book these by hand


def propose_for_plan(*, by: User, plan: Plan) -> Proposals:
    """When a plan starts or changes: keep the future reviews that still fit its steps, cancel the others, and
    propose the initial consultation (if the patient has not had one, between today and the day step 1 starts)
    and a review for each review day left, each in the first free slot of the plan's pharmacist within its
    window, in their sessions on working days that are not bank holidays or their leave."""
    now, today = clock.now(), clock.today()
    targets = review_days(plan)
    future = list(db.session.scalars(select(Appointment).where(
        Appointment.plan_id == plan.id, Appointment.kind == "follow_up", Appointment.status.in_(HOLDING),
        Appointment.starts_at >= now)))
    plan_of = reconcile(targets, [(each.id, local_day(each.starts_at)) for each in future])
    cancelled = [each for each in future if each.id in plan_of.cancel]
    for appointment in cancelled:
        appointment.status = "cancelled"
        appointment.status_reason = f"The plan changed (version {plan.current.number})"
    db.session.flush()
    wanted: list[tuple[str, int, Mode, date, date]] = []
    before_step_1 = initial_window(today=today, step_1_starts_on=step_1_starts_on(plan))
    if before_step_1 is not None and not _had_initial(plan):
        wanted.append(("initial", INITIAL_MINUTES, Mode.FACE_TO_FACE, *before_step_1))
    wanted += [("follow_up", FOLLOW_UP_MINUTES, Mode.PHONE, day, day + timedelta(days=WINDOW_DAYS))
               for day in plan_of.to_book]
    booked, unplaced = [], []
    if wanted:
        last = max(window_end for *_, window_end in wanted)
        sessions = capacity.sessions_of(plan.created_by_id)
        closed = closed_days(plan.created_by_id, today, last)
        busy = busy_between(plan.created_by_id, today, last)
        for kind, minutes, mode, first, window_end in wanted:
            slot = first_free_slot(sessions=sessions, closed=closed, busy=busy, length_minutes=minutes, mode=mode,
                                   window=(first, window_end), not_before=now)
            if slot is None:
                unplaced.append(first)
                continue
            appointment = Appointment(plan_id=plan.id, patient_id=plan.patient_id, pharmacist_id=plan.created_by_id,
                                      kind=kind, starts_at=slot.starts, ends_at=slot.ends, length_minutes=minutes,
                                      mode=mode.value, location=slot.location if mode is Mode.FACE_TO_FACE else "")
            db.session.add(appointment)
            busy.append((slot.starts, slot.ends))
            booked.append(appointment)
    flush_refusing_double_booking()
    audit.record(action="create", by=by, entity_type="appointments", entity_id=plan.id, patient_id=plan.patient_id,
                 changes={"proposed": [when_in_words(each) for each in booked],
                          "cancelled": [each.id for each in cancelled],
                          "unplaced": [day.isoformat() for day in unplaced]})
    messages.tell_patient_about_plan(plan, key=f"appointments:v{plan.current.number}:{plan.version}",
                                     booked=[describe(each) for each in booked],
                                     cancelled=[describe(each) for each in cancelled])
    return Proposals(booked=booked, cancelled=cancelled, unplaced=unplaced)


def closed_days(pharmacist_id: int, first: date, last: date) -> dict[date, str]:
    """The days from `first` to `last` when the pharmacist sees no one, each with why: bank holidays and leave."""
    closed = {day: f"a bank holiday ({name})" for day, name in english_bank_holidays(
        range(first.year, last.year + 1)).items() if first <= day <= last}
    return closed | dict.fromkeys(capacity.leave_days(pharmacist_id, first, last), "a day of your leave")


def step_1_starts_on(plan: Plan) -> date:
    """The day the plan's first step starts (as its current version has it)."""
    return date.fromisoformat(plan.current.schedule["steps"][0]["starts_on"])


def initial_not_booked(plan: Plan) -> date | None:
    """The day step 1 starts, when a running plan's patient has no initial consultation booked before it and
    there is still time to hold one: the pharmacist books it by hand, or moves step 1 later."""
    starts = step_1_starts_on(plan)
    if not plan.status.is_running or starts < clock.today() or _had_initial(plan):
        return None
    return starts


def cancel_future(plan: Plan, reason: str) -> list[Appointment]:
    """The plan ended: its proposed and confirmed appointments from now on are cancelled."""
    cancelled = upcoming(plan.id)
    for appointment in cancelled:
        appointment.status, appointment.status_reason = "cancelled", reason
    messages.tell_patient_about_plan(plan, key="appointments:ended", booked=[],
                                     cancelled=[describe(each) for each in cancelled])
    return cancelled


def release_from_deleted_draft(plan: Plan) -> None:
    """A draft was deleted: its initial consultations stay booked, for no plan; its other appointments are
    cancelled (and the patient told)."""
    cancelled = []
    for appointment in upcoming(plan.id):
        if appointment.kind == "initial":
            appointment.plan_id = None
        else:
            appointment.status, appointment.status_reason = "cancelled", "The draft plan was deleted"
            cancelled.append(appointment)
    messages.tell_patient_about_plan(plan, key="appointments:draft-deleted", booked=[],
                                     cancelled=[describe(each) for each in cancelled])


def review_days(plan: Plan) -> list[date]:
    """The days from today on that the plan's current version aims its reviews at."""
    steps = [date.fromisoformat(step["starts_on"]) for step in plan.current.schedule["steps"]]
    return [day for day in follow_up_targets(steps, cadence_days=plan.review_every_days) if day >= clock.today()]


def unbooked_reviews(plan: Plan) -> list[date]:
    """Review days of a running plan that have no proposed or confirmed review in their window."""
    if not plan.status.is_running:
        return []
    targets = review_days(plan)
    booked = [(each.id, local_day(each.starts_at)) for each in upcoming(plan.id) if each.kind == "follow_up"]
    return list(reconcile(targets, booked).to_book)


def upcoming(plan_id: int) -> list[Appointment]:
    """A plan's proposed and confirmed appointments from now on, earliest first."""
    return list(db.session.scalars(select(Appointment).where(
        Appointment.plan_id == plan_id, Appointment.status.in_(HOLDING), Appointment.starts_at >= clock.now())
        .order_by(Appointment.starts_at)))


def of_plan(*, by: User, plan: Plan) -> list[Appointment]:
    patient_in_scope(by, plan.patient_id)
    return list(db.session.scalars(select(Appointment).where(Appointment.plan_id == plan.id)
                                   .order_by(Appointment.starts_at)))


def get(*, by: User, appointment_id: int) -> Appointment:
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound("no such appointment")
    patient_in_scope(by, appointment.patient_id)
    return appointment


def confirm(*, by: User, appointment_id: int, expected_version: int) -> Appointment:
    return _change(by, appointment_id, expected_version, {"proposed"}, "confirmed")


def cancel(*, by: User, appointment_id: int, expected_version: int, reason: str) -> Appointment:
    """Cancel a proposed or confirmed appointment, and tell the patient."""
    if not reason.strip():
        raise InvalidInput({"reason": "Say why the appointment is cancelled"})
    appointment = _change(by, appointment_id, expected_version, set(HOLDING), "cancelled", reason.strip())
    messages.tell_patient_about(appointment, change="cancelled", when=when_in_words(appointment))
    return appointment


def mark_attended(*, by: User, appointment_id: int, expected_version: int) -> Appointment:
    appointment = _change(by, appointment_id, expected_version, set(HOLDING), "attended", started=True)
    if appointment.plan_id is not None:
        resolve_reviews_due(appointment.plan_id)
    return appointment


def mark_did_not_attend(*, by: User, appointment_id: int, expected_version: int) -> Appointment:
    """A missed appointment of a plan puts the patient on the clinic's worklist (once, however often it is
    marked). A missed first consultation before any plan stays on the day list and the patient's page."""
    appointment = _change(by, appointment_id, expected_version, set(HOLDING), "did_not_attend", started=True)
    if appointment.plan_id is not None:
        add_to_worklist(key=f"did_not_attend:{appointment.id}", kind="did_not_attend", plan_id=appointment.plan_id,
                        detail=f"Did not attend the {KIND_LABELS[appointment.kind].lower()} on "
                               f"{when_in_words(appointment)}")
    return appointment


def move(*, by: User, appointment_id: int, expected_version: int, starts_at: datetime, length_minutes: int,
         mode: Mode, extra_session: bool = False) -> Appointment:
    """Rebook at another time. A time outside the pharmacist's sessions (a weekend, a bank holiday, their
    leave, or outside the hours of their sessions) is refused unless they confirm it as an extra session; the
    database still refuses an overlap."""
    appointment = get(by=by, appointment_id=appointment_id)
    check_version(appointment.version, expected_version)
    if appointment.status not in HOLDING:
        raise InvalidInput({"starts_at": "Only a proposed or confirmed appointment can be moved"})
    if length_minutes not in LENGTHS_MINUTES:
        raise InvalidInput({"length_minutes": "Choose 15, 20, 30, 60 or 90 minutes"})
    if starts_at < clock.now():
        raise InvalidInput({"starts_at": "Choose a time in the future"})
    ends_at = starts_at + timedelta(minutes=length_minutes)
    why, location = place(appointment.pharmacist_id, starts_at, ends_at, mode, extra_session)
    before = when_in_words(appointment)
    appointment.starts_at, appointment.length_minutes, appointment.mode = starts_at, length_minutes, mode.value
    appointment.ends_at, appointment.extra_session = ends_at, bool(why)
    # An extra session has no known site: the patient is told to come to the clinic, never an old room.
    appointment.location = location or ""
    flush_refusing_double_booking()
    audit.record(action="update", by=by, entity_type="appointment", entity_id=appointment.id,
                 patient_id=appointment.patient_id,
                 changes={"when": {"before": before, "after": when_in_words(appointment)}, "extra_session": why or ""})
    messages.tell_patient_about(appointment, change="moved", when=when_in_words(appointment))
    return appointment


def place(pharmacist_id: int, starts_at: datetime, ends_at: datetime, mode: Mode,
           extra_session: bool) -> tuple[str | None, str | None]:
    """(why the time is outside the pharmacist's sessions or None, the site of the session it is in or "" when
    not face to face, or None when unknown: an extra session). Refused outside sessions unless `extra_session`."""
    day = local_day(starts_at)
    sessions = capacity.sessions_of(pharmacist_id)
    why = outside_sessions(starts=starts_at, ends=ends_at, mode=mode, sessions=sessions,
                           closed=closed_days(pharmacist_id, day, day))
    if why and not extra_session:
        raise InvalidInput({"starts_at": f"Not booked: {why}. Choose another time, or confirm that you will hold "
                                         "an extra session then"})
    if mode is not Mode.FACE_TO_FACE:
        return why, ""
    session = session_at(starts=starts_at, ends=ends_at, mode=mode, sessions=sessions)
    return why, session.location if session is not None else None


def day_list(*, by: User, day: date) -> list[Appointment]:
    """The pharmacist's appointments on one day (local time), every status, in time order, each with its
    patient's name (one query)."""
    return _listed(by.id, day, day)


def week_list(*, by: User, monday: date) -> list[tuple[date, list[Appointment]]]:
    """The pharmacist's appointments in the week from `monday`, day by day, as `day_list` (one query)."""
    booked = _listed(by.id, monday, monday + timedelta(days=6))
    days = [monday + timedelta(days=offset) for offset in range(7)]
    return [(day, [each for each in booked if local_day(each.starts_at) == day]) for day in days]


def between(*, pharmacist_id: int, first: date, last: date) -> list[Appointment]:
    return list(db.session.scalars(_between(pharmacist_id, first, last)))


def _between(pharmacist_id: int, first: date, last: date) -> Select[Appointment]:
    """The pharmacist's appointments from the start of `first` to the end of `last` (local days), in time order."""
    starts = datetime.combine(first, datetime.min.time(), CLINIC_TIMEZONE)
    ends = datetime.combine(last + timedelta(days=1), datetime.min.time(), CLINIC_TIMEZONE)
    return select(Appointment).where(
        Appointment.pharmacist_id == pharmacist_id, Appointment.starts_at >= starts, Appointment.starts_at < ends
    ).order_by(Appointment.starts_at)


def _listed(pharmacist_id: int, first: date, last: date) -> list[Appointment]:
    """As `between`, each appointment's patient (the name a list shows) loaded in the same query."""
    return list(db.session.scalars(_between(pharmacist_id, first, last).options(
        joinedload(Appointment.patient).options(load_only(Patient.given_name, Patient.family_name)))))


def add_to_worklist(*, key: str, kind: str, plan_id: int, detail: str) -> bool:
    """Put a plan's patient on their clinic's worklist under a unique key; False if that key is there already
    (so jobs and repeated events add nothing twice)."""
    if db.session.scalar(select(WorklistItem.id).where(WorklistItem.key == key)) is not None:
        return False
    plan = db.session.get(Plan, plan_id)
    patient = db.session.get(Patient, plan.patient_id) if plan else None
    assert plan is not None and patient is not None
    try:
        with db.session.begin_nested():  # a concurrent run may add the same key first: then this adds nothing
            db.session.add(WorklistItem(key=key, kind=kind, clinic_id=patient.clinic_id, patient_id=patient.id,
                                        plan_id=plan.id, detail=detail))
    except IntegrityError:
        return False
    return True


def resolve_reviews_due(plan_id: int) -> None:
    """A review was held: the plan's overdue and missed-review items are dealt with."""
    for item in db.session.scalars(select(WorklistItem).where(
            WorklistItem.plan_id == plan_id, WorklistItem.kind.in_(("overdue", "did_not_attend")),
            WorklistItem.resolved_at.is_(None))):
        item.resolved_at = clock.now()


def local_day(instant: datetime) -> date:
    return instant.astimezone(CLINIC_TIMEZONE).date()


def describe(appointment: Appointment) -> str:
    """'Tuesday 12 January 2027 at 10:30am, by phone (20 minutes)': for letters, messages and pages."""
    mode = {"face_to_face": f"face to face{' at ' + appointment.location if appointment.location else ''}",
            "phone": "by phone", "video": "by video call"}[appointment.mode]
    return f"{when_in_words(appointment)}, {mode} ({appointment.length_minutes} minutes)"


def when_in_words(appointment: Appointment) -> str:
    local = appointment.starts_at.astimezone(CLINIC_TIMEZONE)
    return f"{local:%A} {long_date(local.date())} at {clock_words(local.strftime('%H:%M'))}"


def _change(by: User, appointment_id: int, expected_version: int, allowed: set[str], to: str, reason: str = "",
            *, started: bool = False) -> Appointment:
    appointment = get(by=by, appointment_id=appointment_id)
    check_version(appointment.version, expected_version)
    if appointment.status not in allowed:
        raise InvalidInput({"status": f"A {STATUS_LABELS[appointment.status].lower()} appointment cannot be "
                                      f"marked {STATUS_LABELS[to].lower()}"})
    if started and appointment.starts_at > clock.now():
        raise InvalidInput({"status": "This appointment has not started yet"})
    before = appointment.status
    appointment.status, appointment.status_reason = to, reason
    flush_or_stale()
    audit.record(action="update", by=by, entity_type="appointment", entity_id=appointment.id,
                 patient_id=appointment.patient_id, changes={"status": {"before": before, "after": to},
                                                             "reason": reason})
    return appointment


def busy_between(pharmacist_id: int, first: date, last: date) -> list[tuple[datetime, datetime]]:
    return [(each.starts_at, each.ends_at) for each in between(pharmacist_id=pharmacist_id, first=first, last=last)
            if each.status in HOLDING]


def _had_initial(plan: Plan) -> bool:
    return db.session.scalar(select(Appointment.id).where(
        Appointment.patient_id == plan.patient_id, Appointment.kind == "initial",
        Appointment.status.in_(("proposed", "confirmed", "attended"))).limit(1)) is not None


def flush_refusing_double_booking() -> None:
    try:
        flush_or_stale()
    except IntegrityError as error:
        if DOUBLE_BOOKED not in str(error.orig):
            raise
        raise InvalidInput({"starts_at": "That time overlaps another appointment of the pharmacist"}) from None
