"""A clinic's patients: register, correct, find and view them, each change and view audited."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, Select, and_, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, load_only

from taper import clock
from taper.domain.nhs_number import InvalidNhsNumber, normalise_nhs_number
from taper.domain.organisations import OrganisationKind, Role
from taper.domain.patients import ImplausibleDateOfBirth, InvalidContact, Sex, check_contact, check_date_of_birth
from taper.domain.plans import PlanStatus
from taper.domain.typed_dates import UnreadableDate, looks_like_date, parse_typed_date
from taper.extensions import db
from taper.models import Appointment, Organisation, Patient, Plan, PlanVersionStep, RecordedRegimen, User, WorklistItem
from taper.models.booking import HOLDING
from taper.models.worklist import REVIEW_KINDS
from taper.services import audit, plan_steps
from taper.services.audit import Access
from taper.services.common import check_version, flush_or_stale, required
from taper.services.errors import InvalidInput, NotFound, PermissionDenied
from taper.services.paging import Page, page_of

RUNNING = tuple(status for status in PlanStatus if status.is_running)
PER_PAGE = 50  # patients on a page of the list or of search results; events on a page of an access history


@dataclass(frozen=True)
class PatientDetails:
    """What a pharmacist records about a patient; plain values, as typed (the service normalises them)."""

    nhs_number: str
    given_name: str
    family_name: str
    date_of_birth: date
    sex: Sex
    gp_practice_id: int
    pharmacy_id: int | None
    preferred_language: str = "English"
    interpreter_needed: bool = False
    large_print: bool = False
    easy_read: bool = False
    other_communication_needs: str = ""
    contact_by: str = "none"  # reminders: none, sms, email or letter (taper.domain.patients.CONTACT_BY)
    mobile_phone: str = ""
    email: str = ""
    postal_address: str = ""


_FIELDS = tuple(PatientDetails.__dataclass_fields__)


def caseload_of(by: User) -> int:
    """The clinic whose caseload this user works on (PermissionDenied for anyone but a clinic pharmacist)."""
    if by.role is not Role.PHARMACIST or by.organisation_id is None:
        raise PermissionDenied("only a clinic pharmacist may work on the clinic's patients")
    return by.organisation_id


class ListFilter(StrEnum):
    """Which of the caseload the patient list shows."""

    ALL = "all"
    RUNNING = "running"  # an active or paused plan
    HIGH_DOSE = "high_dose"  # latest regimen at or above the clinic's high-dose threshold, and no running plan
    OVERDUE = "overdue"  # on the worklist for a review (overdue or missed), or a booked one passed unrecorded

    @property
    def label(self) -> str:
        return _FILTER_LABELS[self]


_FILTER_LABELS = {ListFilter.ALL: "All patients", ListFilter.RUNNING: "Running plan",
                  ListFilter.HIGH_DOSE: "High dose, no running plan", ListFilter.OVERDUE: "Review overdue"}


@dataclass(frozen=True)
class Listed:
    """A patient as the list shows them. The OME (mg a day) is the running plan's step in force today, or, when
    no plan step is in force, the latest recorded regimen's (None: none recorded, or not calculable)."""

    patient: Patient
    plan_status: PlanStatus | None  # of the running plan, else of the newest plan; None: no plan
    ome_mg_per_day: Decimal | None
    ome_step: int | None  # the plan step the OME is from; None: from the latest recorded regimen
    next_review_at: datetime | None  # the next appointment that holds the pharmacist's time
    overdue: bool


def caseload(*, by: User, page: int = 1, show: ListFilter = ListFilter.ALL) -> Page[Listed]:
    """A page of the patients this user may see (all, or those `show` picks), in name order, with each one's
    plan status, current OME, next review and whether a review is overdue: two statements, however many."""
    query = _with_columns(_listed(by)).where(*_filtered(caseload_of(by), show))
    return page_of(query, number=page, per_page=PER_PAGE, read=_read_listed)


def _listed(by: User, *conditions: ColumnElement[bool]) -> Select[Patient]:
    """The caseload's patients meeting the conditions, in name order, loading only the columns a list shows."""
    clinic_id = caseload_of(by)
    return (select(Patient).where(Patient.clinic_id == clinic_id, *conditions)
            .options(load_only(Patient.nhs_number, Patient.given_name, Patient.family_name, Patient.date_of_birth))
            .order_by(Patient.family_name, Patient.given_name, Patient.id))


_CURRENT_PLAN = aliased(Plan, name="current_plan")
_LATEST_REGIMEN = aliased(RecordedRegimen, name="latest_regimen")


def _current_plan_id() -> ScalarSelect[int]:
    """Each patient's running plan, or else their newest plan."""
    return (select(Plan.id).where(Plan.patient_id == Patient.id, Plan.deleted_at.is_(None))
            .order_by(case((Plan.status.in_(RUNNING), 0), else_=1), Plan.id.desc()).limit(1)
            .correlate(Patient).scalar_subquery())


def _latest_regimen_id() -> ScalarSelect[int]:
    return (select(RecordedRegimen.id).where(RecordedRegimen.patient_id == Patient.id)
            .order_by(RecordedRegimen.recorded_on.desc(), RecordedRegimen.id.desc()).limit(1)
            .correlate(Patient).scalar_subquery())


def _step_in_force(column: Any) -> ScalarSelect[Any]:
    """`column` of the running plan's step in force today (its current version's latest step started)."""
    return (plan_steps.with_current_steps(select(column).select_from(Plan))
            .where(Plan.patient_id == Patient.id, Plan.status.in_(RUNNING), PlanVersionStep.starts_on <= clock.today())
            .order_by(PlanVersionStep.starts_on.desc()).limit(1).correlate(Patient).scalar_subquery())


def _overdue() -> ColumnElement[bool]:
    """A review is overdue: the patient is on the worklist for one (overdue or missed, as on the home page), or
    a booked appointment has ended without being recorded as attended or missed."""
    on_worklist = select(WorklistItem.id).where(
        WorklistItem.patient_id == Patient.id, WorklistItem.kind.in_(REVIEW_KINDS), WorklistItem.resolved_at.is_(None))
    unrecorded = select(Appointment.id).where(
        Appointment.patient_id == Patient.id, Appointment.status.in_(HOLDING), Appointment.ends_at < clock.now())
    return or_(on_worklist.correlate(Patient).exists(), unrecorded.correlate(Patient).exists())


def _with_columns(query: Select[Patient]) -> Select[Any]:
    """The list's query with each patient's plan status, OME, next review and whether a review is overdue, all
    in the same statement."""
    next_review = (select(func.min(Appointment.starts_at))
                   .where(Appointment.patient_id == Patient.id, Appointment.status.in_(HOLDING),
                          Appointment.starts_at >= clock.now()).correlate(Patient).scalar_subquery())
    return (query.outerjoin_from(Patient, _CURRENT_PLAN, _CURRENT_PLAN.id == _current_plan_id())
            .outerjoin_from(Patient, _LATEST_REGIMEN, _LATEST_REGIMEN.id == _latest_regimen_id())
            .add_columns(_CURRENT_PLAN.status, _step_in_force(PlanVersionStep.ome_mg_per_day),
                         _step_in_force(PlanVersionStep.number), _LATEST_REGIMEN.total_ome_mg_per_day,
                         next_review, _overdue()))


def _filtered(clinic_id: int, show: ListFilter) -> list[ColumnElement[bool]]:
    """Conditions on `_with_columns`'s query picking the patients `show` asks for."""
    if show is ListFilter.RUNNING:
        return [_CURRENT_PLAN.status.in_(RUNNING)]
    if show is ListFilter.HIGH_DOSE:
        threshold = select(Organisation.high_dose_threshold_mg).where(Organisation.id == clinic_id).scalar_subquery()
        return [or_(_CURRENT_PLAN.id.is_(None), _CURRENT_PLAN.status.not_in(RUNNING)),
                _LATEST_REGIMEN.total_ome_mg_per_day >= threshold]
    if show is ListFilter.OVERDUE:
        return [_overdue()]
    return []


def _read_listed(query: Select[Any]) -> list[Listed]:
    return [Listed(patient=patient, plan_status=status, ome_mg_per_day=step_ome if step_ome is not None else ome,
                   ome_step=step, next_review_at=next_review, overdue=bool(overdue))
            for patient, status, step_ome, step, ome, next_review, overdue in db.session.execute(query)]


def create_patient(*, by: User | None, details: PatientDetails, clinic_id: int | None = None) -> Patient:
    """Register a patient on the pharmacist's clinic caseload (`by=None` with `clinic_id`: the system,
    loading demo data)."""
    if by is not None:
        clinic_id = caseload_of(by)
    elif clinic_id is None:
        raise PermissionDenied("the system must name the clinic a patient joins")
    patient = Patient(clinic_id=clinic_id, **asdict(_validated(details, own_id=None)))
    db.session.add(patient)
    _flush_or_duplicate(patient.nhs_number)
    audit.record(action="create", by=by, entity_type="patient", entity_id=patient.id, patient_id=patient.id,
                 changes=audit.snapshot(patient, _FIELDS))
    return patient


def update_patient(*, by: User, patient_id: int, expected_version: int, details: PatientDetails) -> Patient:
    patient = patient_in_scope(by, patient_id)
    check_version(patient.version, expected_version)
    before = audit.snapshot(patient, _FIELDS)
    for field, value in asdict(_validated(details, own_id=patient.id)).items():
        setattr(patient, field, value)
    changes = audit.differences(before, audit.snapshot(patient, _FIELDS))
    if not changes:
        return patient
    flush_or_stale()
    audit.record(action="update", by=by, entity_type="patient", entity_id=patient.id, patient_id=patient.id,
                 changes=changes)
    return patient


def view_patient(*, by: User, patient_id: int) -> Patient:
    """The patient's record, for display; the view is audited."""
    patient = patient_in_scope(by, patient_id)
    audit.record(action="view", by=by, entity_type="patient", entity_id=patient.id, patient_id=patient.id)
    return patient


def search_patients(*, by: User, text: str, page: int = 1) -> Page[Listed]:
    """A page of the patients on the caseload matching an NHS number, a date of birth (as people write one:
    taper.domain.typed_dates; InvalidInput for one that cannot be read without guessing) or names, each with
    what the list shows.

    The search term is not written to the audit trail (it may be an NHS number); the count and page are.
    """
    text = text.strip()
    if not text:
        raise InvalidInput({"query": "Enter an NHS number, a name or a date of birth"})
    found = page_of(_with_columns(_listed(by, _search_condition(text))), number=page, per_page=PER_PAGE,
                    read=_read_listed)
    audit.record(action="search", by=by, entity_type="patient", changes={"results": found.total, "page": page})
    return found


def _search_condition(text: str) -> ColumnElement[bool]:
    digits = re.sub(r"[\s-]", "", text)
    if digits.isdecimal() and len(digits) == 10:
        return Patient.nhs_number == digits
    if looks_like_date(text):
        try:
            return Patient.date_of_birth == parse_typed_date(text)
        except UnreadableDate as refusal:
            raise InvalidInput({"query": f"The date of birth must be a real date: {refusal}"}) from None
    terms = [term for term in re.split(r"[\s,]+", text) if term]
    return and_(*(or_(Patient.given_name.ilike(f"%{_escape_like(term)}%", escape="\\"),
                      Patient.family_name.ilike(f"%{_escape_like(term)}%", escape="\\")) for term in terms))


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def patient_in_scope(by: User, patient_id: int) -> Patient:
    """The patient if on this user's caseload; otherwise NotFound, and an attempt on another clinic's
    patient is audited."""
    clinic_id = caseload_of(by)
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("no such patient")
    if patient.clinic_id != clinic_id:
        audit.record(action="access_denied", by=by, entity_type="patient", entity_id=patient.id,
                     patient_id=patient.id)
        raise NotFound("no such patient")
    return patient


def _validated(details: PatientDetails, *, own_id: int | None) -> PatientDetails:
    errors: dict[str, str] = {}
    try:
        nhs_number = normalise_nhs_number(details.nhs_number)
    except InvalidNhsNumber as error:
        errors["nhs_number"] = str(error)
        nhs_number = details.nhs_number
    else:
        duplicate = db.session.scalar(select(Patient).where(Patient.nhs_number == nhs_number))
        if duplicate is not None and duplicate.id != own_id:
            errors["nhs_number"] = _duplicate_message(nhs_number)
    try:
        check_date_of_birth(details.date_of_birth, today=clock.today())
    except ImplausibleDateOfBirth as error:
        errors["date_of_birth"] = str(error)
    if not _is_kind(details.gp_practice_id, OrganisationKind.GP_PRACTICE):
        errors["gp_practice_id"] = "Select the patient's registered GP practice"
    if details.pharmacy_id is not None and not _is_kind(details.pharmacy_id, OrganisationKind.COMMUNITY_PHARMACY):
        errors["pharmacy_id"] = "Select a community pharmacy from the list"
    given_name = _name(details.given_name, "given_name", "Enter the patient's first name", errors)
    family_name = _name(details.family_name, "family_name", "Enter the patient's last name", errors)
    try:
        mobile_phone, email, postal_address = check_contact(
            details.contact_by, mobile_phone=details.mobile_phone, email=details.email,
            postal_address=details.postal_address)
    except InvalidContact as error:
        errors[error.field] = str(error)
    if errors:
        raise InvalidInput(errors)
    return PatientDetails(
        nhs_number=nhs_number,
        given_name=given_name,
        family_name=family_name,
        date_of_birth=details.date_of_birth,
        sex=Sex(details.sex),
        gp_practice_id=details.gp_practice_id,
        pharmacy_id=details.pharmacy_id,
        preferred_language=details.preferred_language.strip() or "English",
        interpreter_needed=details.interpreter_needed,
        large_print=details.large_print,
        easy_read=details.easy_read,
        other_communication_needs=details.other_communication_needs.strip(),
        contact_by=details.contact_by,
        mobile_phone=mobile_phone,
        email=email,
        postal_address=postal_address,
    )


def _name(value: str, field: str, message: str, errors: dict[str, str]) -> str:
    try:
        return required(value, field, message)
    except InvalidInput as error:
        errors.update(error.errors)
        return ""


def _is_kind(organisation_id: int | None, kind: OrganisationKind) -> bool:
    organisation = db.session.get(Organisation, organisation_id) if organisation_id is not None else None
    return organisation is not None and organisation.kind is kind


def _duplicate_message(nhs_number: str) -> str:
    return f"A patient with NHS number {nhs_number} is already registered. Search for them instead."


def _flush_or_duplicate(nhs_number: str) -> None:
    """Flush; two people registering the same NHS number at once: the database's unique constraint decides."""
    try:
        db.session.flush()
    except IntegrityError:
        raise InvalidInput({"nhs_number": _duplicate_message(nhs_number)}) from None


def access_history(*, by: User, patient_id: int, page: int = 1) -> Page[Access]:
    """A page of who looked at or changed this patient's records, and when, newest first (the pharmacist's own
    look at this history is recorded too, and is the first line of the first page)."""
    patient = patient_in_scope(by, patient_id)
    audit.record(action="view", by=by, entity_type="access_history", entity_id=patient.id, patient_id=patient.id)
    return audit.accesses(patient_id=patient.id, page=page, per_page=PER_PAGE)
