"""A pharmacist's appointments (day list, week, each appointment), clinic sessions and leave, calendars, and the
outbox of messages about their clinic's patients."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse

from taper import clock
from taper.domain.booking import CLINIC_TIMEZONE, Slot
from taper.domain.follow_up import Mode
from taper.domain.organisations import Role
from taper.domain.wording import clock_words, long_date
from taper.extensions import db
from taper.models import Appointment
from taper.services import appointments, booking, calendars, capacity, messages, patients
from taper.services.capacity import SessionDetails
from taper.services.errors import InvalidInput
from taper.web import once
from taper.web.appointments.forms import (
    OTHER_TIME,
    BookForm,
    ChooseAppointmentForm,
    FindPatientForm,
    LeaveForm,
    MoveForm,
    SessionForm,
    StatusForm,
)
from taper.web.arguments import record_id
from taper.web.fields import save
from taper.web.once import OnceForm
from taper.web.paging import page_number
from taper.web.security import roles

blueprint = Blueprint("appointments", __name__)

ACTIONS = {"confirm": appointments.confirm, "attended": appointments.mark_attended,
           "did_not_attend": appointments.mark_did_not_attend}


@blueprint.route("/appointments")
@roles(Role.PHARMACIST)
def day() -> str:
    """The pharmacist's day list: every appointment of the day, with what to do next."""
    shown = _day_argument("day") or clock.today()
    return render_template("appointments/day.html", day=shown, booked=appointments.day_list(by=current_user, day=shown),
                           labels=appointments.STATUS_LABELS, kinds=appointments.KIND_LABELS,
                           previous=shown - timedelta(days=1), next=shown + timedelta(days=1))


@blueprint.route("/appointments/week")
@roles(Role.PHARMACIST)
def week() -> str:
    start = _day_argument("start") or clock.today()
    monday = start - timedelta(days=start.weekday())
    return render_template("appointments/week.html", monday=monday,
                           days=appointments.week_list(by=current_user, monday=monday),
                           labels=appointments.STATUS_LABELS, kinds=appointments.KIND_LABELS,
                           previous=monday - timedelta(days=7), next=monday + timedelta(days=7))


@blueprint.route("/appointments/book", methods=["GET", "POST"])
@roles(Role.PHARMACIST)
def book() -> WerkzeugResponse | str:
    """Book an appointment: first the patient (if the link did not name one), then what kind, then one of the
    first free times in the pharmacist's sessions or another day and time."""
    patient_id, plan_id = record_id("patient_id"), record_id("plan_id")
    day = _day_argument("day")
    if patient_id is None:
        return _find_patient_to_book()
    patient = patients.view_patient(by=current_user, patient_id=patient_id)
    plan = booking.plan_for_booking(by=current_user, patient_id=patient_id, plan_id=plan_id)
    choose = ChooseAppointmentForm(formdata=request.args)
    choose.settle()
    mode = Mode(choose.mode.data)
    slots = booking.free_times(by=current_user, length_minutes=choose.length_minutes.data, mode=mode,
                                    from_day=day or clock.today())
    form = BookForm(prefix="book")
    form.when.choices = [(slot.starts.isoformat(), _slot_words(slot, mode)) for slot in slots] + [
        (OTHER_TIME, "Another day and time (below)")]
    if request.method == "GET" and day is not None:
        form.day.process(None, day)
    if form.validate_on_submit():
        booked = save(form, lambda: booking.book(
            by=current_user, patient_id=patient_id, plan_id=plan.id if plan else None, kind=choose.kind.data,
            starts_at=_chosen_start(form), length_minutes=choose.length_minutes.data, mode=mode,
            extra_session=form.extra_session.data),
            locate=lambda name: (form.when if form.when.data != OTHER_TIME else form.starts) if name == "starts_at"
            else getattr(form, name, None))
        if booked is not None:
            flash(f"Booked: {appointments.KIND_LABELS[booked.kind].lower()} on {appointments.describe(booked)}.",
                  "success")
            _if_not_told(booked)
            return redirect(url_for("appointments.detail", appointment_id=booked.id))
    db.session.commit()
    return render_template("appointments/book.html", patient=patient, plan=plan, choose=choose, form=form,
                           day=day, slots=slots, mode=mode, kinds=appointments.KIND_LABELS)


def _find_patient_to_book() -> str:
    find = FindPatientForm(formdata=request.args)
    found = None
    if find.query.data and find.validate():
        try:
            found = patients.search_patients(by=current_user, text=find.query.data, page=page_number())
        except InvalidInput as refusal:  # a date that cannot be read without guessing
            find.query.errors = list(refusal.errors.values())
    db.session.commit()
    carried = {name: request.args[name] for name in ("kind", "day") if request.args.get(name)}
    return render_template("appointments/book_patient.html", find=find, found=found, carried=carried)


def _chosen_start(form: BookForm) -> datetime:
    """The start the form chose: a free time offered, or the day and time typed."""
    if form.when.data != OTHER_TIME:
        try:
            return datetime.fromisoformat(form.when.data or "")
        except ValueError:
            raise InvalidInput({"when": "Choose a time, or another day and time"}) from None
    errors = {name: message for name, message, missing in (
        ("day", "Enter the date", form.day.data is None), ("starts", "Enter the time, like 10:30",
                                                           form.starts.data is None)) if missing}
    if errors:
        raise InvalidInput(errors)
    return datetime.combine(form.day.data, form.starts.data, CLINIC_TIMEZONE)


def _slot_words(slot: Slot, mode: Mode) -> str:
    local = slot.starts.astimezone(CLINIC_TIMEZONE)
    where = f" ({slot.location})" if mode is Mode.FACE_TO_FACE and slot.location else ""
    return f"{local:%A} {long_date(local.date())} at {clock_words(local.strftime('%H:%M'))}{where}"


@blueprint.route("/appointments/<int:appointment_id>", methods=["GET", "POST"])
@roles(Role.PHARMACIST)
def detail(appointment_id: int) -> WerkzeugResponse | str:
    """One appointment: move it (rebook), confirm it, mark it attended or missed, or cancel it."""
    appointment = appointments.get(by=current_user, appointment_id=appointment_id)
    move = MoveForm(prefix="move")
    if request.method == "GET":
        local = appointment.starts_at.astimezone(CLINIC_TIMEZONE)
        move.day.process(None, local.date())
        move.starts.data, move.length_minutes.data = local.time(), appointment.length_minutes
        move.mode.data, move.version.data = appointment.mode, appointment.version
    elif move.validate_on_submit():
        moved = save(move, lambda: appointments.move(
            by=current_user, appointment_id=appointment_id, expected_version=move.version.data or 0,
            starts_at=datetime.combine(move.day.data, move.starts.data, CLINIC_TIMEZONE),
            length_minutes=move.length_minutes.data, mode=Mode(move.mode.data),
            extra_session=move.extra_session.data),
            locate=lambda name: move.starts if name == "starts_at" else getattr(move, name, None))
        if moved is not None:
            flash(f"Moved to {appointments.describe(moved)}.", "success")
            _if_not_told(moved)
            return redirect(url_for("appointments.detail", appointment_id=appointment_id))
    db.session.commit()
    return render_template("appointments/detail.html", appointment=appointment, move=move,
                           status=StatusForm(prefix="status"), labels=appointments.STATUS_LABELS,
                           kinds=appointments.KIND_LABELS, description=appointments.describe(appointment))


@blueprint.route("/appointments/<int:appointment_id>/status", methods=["POST"])
@roles(Role.PHARMACIST)
def change_status(appointment_id: int) -> WerkzeugResponse | str:
    form = StatusForm(prefix="status")
    if form.validate_on_submit():
        if form.action.data not in (*ACTIONS, "cancel"):
            abort(400)
        changed = save(form, lambda: _change(appointment_id, form))
        if changed is not None:
            flash(f"{appointments.KIND_LABELS[changed.kind]} marked "
                  f"{appointments.STATUS_LABELS[changed.status].lower()}.", "success")
            if changed.status == "cancelled":
                _if_not_told(changed)
            if request.form.get("back") == "day":
                return redirect(url_for("appointments.day", day=appointments.local_day(changed.starts_at)))
            return redirect(url_for("appointments.detail", appointment_id=appointment_id))
    appointment = appointments.get(by=current_user, appointment_id=appointment_id)
    return render_template("appointments/detail.html", appointment=appointment, move=MoveForm(prefix="move"),
                           status=form, labels=appointments.STATUS_LABELS, kinds=appointments.KIND_LABELS,
                           description=appointments.describe(appointment))


def _if_not_told(appointment: Appointment) -> None:
    """Taper sends this patient nothing (no way to contact them is recorded): the pharmacist must tell them."""
    if messages.to_patient(appointment.patient) is None:
        flash(f"{appointment.patient.display_name} is sent no messages (no way to contact them is recorded): "
              "tell them yourself.", "warning")


def _change(appointment_id: int, form: StatusForm) -> Appointment:
    version = form.version.data or 0
    if form.action.data == "cancel":
        return appointments.cancel(by=current_user, appointment_id=appointment_id, expected_version=version,
                                   reason=form.reason.data or "")
    return ACTIONS[form.action.data](by=current_user, appointment_id=appointment_id, expected_version=version)


@blueprint.route("/appointments/calendar.ics")
@roles(Role.PHARMACIST)
def calendar() -> Response:
    """The pharmacist's own appointments, to import into a calendar."""
    body = calendars.pharmacist_calendar(by=current_user)
    db.session.commit()
    return _ics(body, "taper-appointments.ics")


@blueprint.app_context_processor
def patient_appointments() -> dict[str, object]:
    """For the patient page's appointments section (templates/patients/_appointments.html)."""
    return {"upcoming_appointments_of": lambda patient_id: booking.upcoming_of_patient(
        by=current_user, patient_id=patient_id), "appointment_kinds": appointments.KIND_LABELS}


@blueprint.route("/patients/<int:patient_id>/appointments.ics")
@roles(Role.PHARMACIST)
def patient_calendar(patient_id: int) -> Response:
    """A patient's upcoming appointments, to give to the patient."""
    body = calendars.patient_calendar(by=current_user, patient_id=patient_id)
    db.session.commit()
    return _ics(body, f"appointments-{patient_id}.ics")


@blueprint.route("/clinic/sessions", methods=["GET", "POST"])
@roles(Role.PHARMACIST)
def sessions() -> WerkzeugResponse | str:
    """The pharmacist's weekly clinic sessions and leave: where automatic booking finds its slots."""
    session_form, leave_form = SessionForm(prefix="session"), LeaveForm(prefix="leave")
    if "session-weekday" in request.form and session_form.validate_on_submit():
        added = save(session_form, lambda: capacity.add_session(by=current_user, details=SessionDetails(
            weekday=session_form.weekday.data, starts=session_form.starts.data, ends=session_form.ends.data,
            remote=session_form.remote.data == "remote", location=session_form.location.data or "")))
        if added is not None:
            flash("Session added.", "success")
            return redirect(url_for("appointments.sessions"))
    if "leave-note" in request.form and leave_form.validate_on_submit():
        added_leave = save(leave_form, lambda: capacity.add_leave(
            by=current_user, first_day=leave_form.first_day.data, last_day=leave_form.last_day.data,
            note=leave_form.note.data or ""))
        if added_leave is not None:
            flash("Leave added: nothing new is booked on those days.", "success")
            return redirect(url_for("appointments.sessions"))
    weekly, leave = capacity.capacity_of(by=current_user)
    return render_template("appointments/sessions.html", weekly=weekly, leave=leave, session_form=session_form,
                           leave_form=leave_form, weekdays=capacity.WEEKDAYS, remove=FlaskForm())


@blueprint.route("/clinic/sessions/<int:session_id>/remove", methods=["POST"])
@roles(Role.PHARMACIST)
def remove_session(session_id: int) -> WerkzeugResponse:
    form = OnceForm()
    if form.validate_on_submit():
        once.claim(form)
        capacity.remove_session(by=current_user, session_id=session_id)
        db.session.commit()
        flash("Session removed. Appointments already booked in it stay booked.", "success")
    return redirect(url_for("appointments.sessions"))


@blueprint.route("/clinic/leave/<int:leave_id>/remove", methods=["POST"])
@roles(Role.PHARMACIST)
def remove_leave(leave_id: int) -> WerkzeugResponse:
    form = OnceForm()
    if form.validate_on_submit():
        once.claim(form)
        capacity.remove_leave(by=current_user, leave_id=leave_id)
        db.session.commit()
        flash("Leave removed.", "success")
    return redirect(url_for("appointments.sessions"))


@blueprint.route("/messages")
@roles(Role.PHARMACIST)
def outbox() -> str:
    """Messages about the clinic's patients: reminders to patients and pharmacies, with how each went."""
    return render_template("appointments/messages.html",
                           sent=messages.clinic_outbox(by=current_user, page=page_number()), retry_form=FlaskForm())


@blueprint.route("/messages/<int:message_id>/retry", methods=["POST"])
@roles(Role.PHARMACIST)
def retry_message(message_id: int) -> WerkzeugResponse:
    form = OnceForm()
    if form.validate_on_submit() and save(form, lambda: messages.retry(by=current_user, message_id=message_id)):
        flash("The message will be sent again in the next few minutes.", "success")
    return redirect(url_for("appointments.outbox"))


def _day_argument(name: str) -> date | None:
    """The day in the query string; a page for a day the calendar cannot show with its neighbours (within a
    week of the year 1 or 9999: a 500 before issue 15) does not exist."""
    text = request.args.get(name, "")
    try:
        day = date.fromisoformat(text) if text else None
    except ValueError:
        abort(404)
    if day is not None and not date.min + timedelta(days=7) <= day <= date.max - timedelta(days=7):
        abort(404)
    return day


def _ics(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
