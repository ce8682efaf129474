"""Organisations, users, signing in and out."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from taper import clock
from taper.domain.assessment import HIGH_DOSE_THRESHOLDS_MG
from taper.domain.booking import LEAD_DAYS_RANGE
from taper.domain.limits import Limits
from taper.domain.ome import load_factor_sets
from taper.domain.organisations import (
    MAX_ADDRESS_CHARACTERS,
    MAX_ADDRESS_LINES,
    InvalidOdsCode,
    InvalidPhoneNumber,
    OrganisationKind,
    Role,
    normalise_ods_code,
    normalise_phone_number,
)
from taper.domain.registration import InvalidRegistration, RegulatoryBody, read_registration
from taper.extensions import db
from taper.models import Organisation, User
from taper.models.user import new_session_token
from taper.services import audit, lockout, two_factor
from taper.services.common import check_version, flush_or_stale, required
from taper.services.errors import InvalidInput, NotFound, PermissionDenied
from taper.services.passwords import hash_password, needs_rehash, password_problem, verify_password
from taper.services.two_factor import SecondFactor

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_USER_FIELDS = ("email", "full_name", "role", "organisation_id", "active", "job_title", "registration_body",
                "registration_number")
_ORGANISATION_FIELDS = ("kind", "name", "ods_code", "phone", "address", "factor_set", "high_dose_threshold_mg",
                        "plan_lead_days", "paracetamol_max_mg_per_day", "plausible_units_per_dose",
                        "plausible_ome_mg_per_day", "supplies_naloxone", "details_needed")


def _require_admin(by: User | None) -> None:
    if by is not None and by.role is not Role.ADMIN:
        raise PermissionDenied("only an administrator may manage users and organisations")


def _normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.fullmatch(email):
        raise InvalidInput({"email": "Enter an email address in the correct format, like name@example.nhs.uk"})
    return email


# Organisations ---------------------------------------------------------------------------------------------

def create_organisation(*, by: User | None, kind: OrganisationKind, name: str, ods_code: str,
                        phone: str = "", address: str = "") -> Organisation:
    _require_admin(by)
    organisation = Organisation(kind=kind, name=required(name, "name", "Enter the organisation's name"),
                                ods_code=_ods_code(ods_code), phone=_phone(phone, kind), address=_address(address))
    _refuse_duplicate_ods_code(organisation.ods_code, None)
    db.session.add(organisation)
    db.session.flush()
    audit.record(action="create", by=by, entity_type="organisation", entity_id=organisation.id,
                 changes=audit.snapshot(organisation, _ORGANISATION_FIELDS))
    return organisation


def update_organisation(*, by: User, organisation_id: int, expected_version: int, name: str, ods_code: str,
                        phone: str, address: str | None = None, factor_set: str | None = None,
                        high_dose_threshold_mg: Decimal | None = None,
                        plan_lead_days: int | None = None, limits: Limits | None = None,
                        supplies_naloxone: bool | None = None) -> Organisation:
    """Change an organisation; for a pain clinic, also its OME factor set, high-dose threshold, the lead
    time from a plan going out to its first step, and its limits for checking a starting regimen."""
    _require_admin(by)
    organisation = get_organisation(organisation_id)
    check_version(organisation.version, expected_version)
    before = audit.snapshot(organisation, _ORGANISATION_FIELDS)
    organisation.name = required(name, "name", "Enter the organisation's name")
    organisation.ods_code = _ods_code(ods_code)
    organisation.phone = _phone(phone, organisation.kind)
    if address is not None:
        organisation.address = _address(address)
    if organisation.kind is OrganisationKind.PAIN_CLINIC:
        if factor_set is not None:
            if factor_set not in load_factor_sets():
                raise InvalidInput({"factor_set": "Choose a factor set from the list"})
            organisation.factor_set = factor_set
        if high_dose_threshold_mg is not None:
            if high_dose_threshold_mg not in HIGH_DOSE_THRESHOLDS_MG:
                raise InvalidInput({"high_dose_threshold_mg": "Choose 120 or 90 mg a day"})
            organisation.high_dose_threshold_mg = high_dose_threshold_mg
        if plan_lead_days is not None:
            if plan_lead_days not in LEAD_DAYS_RANGE:
                raise InvalidInput({"plan_lead_days": f"Choose from {LEAD_DAYS_RANGE.start} to "
                                                      f"{LEAD_DAYS_RANGE.stop - 1} days"})
            organisation.plan_lead_days = plan_lead_days
        if limits is not None:
            _set_limits(organisation, limits)
        if supplies_naloxone is not None:
            organisation.supplies_naloxone = supplies_naloxone
    _refuse_duplicate_ods_code(organisation.ods_code, organisation.id)
    # A practice a cohort import added by its ODS code alone stays marked until it is really complete: saving
    # only part of its details (or none) keeps it on the admin's list, and keeps invitations from going out
    # in its name.
    if organisation.details_needed and not details_missing(organisation):
        organisation.details_needed = False
    flush_or_stale()
    audit.record(action="update", by=by, entity_type="organisation", entity_id=organisation.id,
                 changes=audit.differences(before, audit.snapshot(organisation, _ORGANISATION_FIELDS)))
    return organisation


def _set_limits(organisation: Organisation, limits: Limits) -> None:
    """A clinic's limits (whole mg and units, as the admin form gives them), each checked against its range."""
    problems = limits.problems()
    if problems:
        raise InvalidInput({name: message[0].upper() + message[1:] for name, message in problems.items()})
    organisation.paracetamol_max_mg_per_day = int(limits.paracetamol_max_mg_per_day)
    organisation.plausible_units_per_dose = limits.plausible_units_per_dose
    organisation.plausible_ome_mg_per_day = int(limits.plausible_ome_mg_per_day)


def get_organisation(organisation_id: int) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("no such organisation")
    return organisation


def organisation_by_ods_code(ods_code: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(Organisation.ods_code == ods_code.strip().upper()))


def organisations(kind: OrganisationKind | None = None) -> list[Organisation]:
    query = select(Organisation).order_by(Organisation.name)
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    return list(db.session.scalars(query))


def details_missing(organisation: Organisation) -> list[str]:
    """What a practice still needs before a letter can go in its name, in words for the admin (a name other
    than its ODS code, which is all an import knows; an address; a phone number); [] when complete."""
    missing = []
    if organisation.name.strip().upper() == organisation.ods_code.strip().upper():
        missing.append("its name (it is named by its ODS code)")
    if not organisation.address.strip():
        missing.append("its address")
    if not organisation.phone.strip():
        missing.append("its phone number")
    return missing


def practices_needing_details() -> list[Organisation]:
    """GP practices a cohort import added by their ODS code alone, for an admin to name and complete."""
    return list(db.session.scalars(select(Organisation).where(
        Organisation.kind == OrganisationKind.GP_PRACTICE, Organisation.details_needed.is_(True))
        .order_by(Organisation.ods_code)))


def _ods_code(raw: str) -> str:
    try:
        return normalise_ods_code(raw)
    except InvalidOdsCode as error:
        raise InvalidInput({"ods_code": str(error)}) from None


def _phone(raw: str, kind: OrganisationKind) -> str:
    """Optional, except for a pain clinic: its number is the one patients are told to call on their plan."""
    if not raw.strip():
        if kind is OrganisationKind.PAIN_CLINIC:
            raise InvalidInput({"phone": "Enter the clinic's phone number: patients are told to call it"})
        return ""
    try:
        return normalise_phone_number(raw)
    except InvalidPhoneNumber as error:
        raise InvalidInput({"phone": str(error)}) from None


def _address(raw: str) -> str:
    """A postal address as printed in a letter's sender block: its non-empty lines, each trimmed."""
    lines = [line.strip() for line in raw.splitlines() if line.strip()]
    if len(lines) > MAX_ADDRESS_LINES:
        raise InvalidInput({"address": f"Write the address in at most {MAX_ADDRESS_LINES} lines"})
    address = "\n".join(lines)
    if len(address) > MAX_ADDRESS_CHARACTERS:
        raise InvalidInput({"address": f"Write the address in at most {MAX_ADDRESS_CHARACTERS} characters"})
    return address


def _refuse_duplicate_ods_code(ods_code: str, own_id: int | None) -> None:
    existing = db.session.scalar(select(Organisation).where(Organisation.ods_code == ods_code))
    if existing is not None and existing.id != own_id:
        raise InvalidInput({"ods_code": f"ODS code {ods_code} is already used by {existing.name}"})


# Users -----------------------------------------------------------------------------------------------------

def create_user(*, by: User | None, email: str, full_name: str, role: Role, organisation_id: int | None,
                password: str, job_title: str = "", registration_body: str = "",
                registration_number: str = "") -> User:
    """Create an account. `by=None` only for bootstrapping the first admin from the command line."""
    _require_admin(by)
    email = _normalise_email(email)
    if db.session.scalar(select(User).where(User.email == email)) is not None:
        raise InvalidInput({"email": f"An account with the email address {email} already exists"})
    _check_new_password(password, email, full_name)
    user = User(email=email, full_name=required(full_name, "full_name", "Enter the person's full name"),
                role=role, organisation_id=_organisation_for_role(role, organisation_id),
                password_hash=hash_password(password))
    _set_sender_details(user, job_title, registration_body, registration_number)
    db.session.add(user)
    db.session.flush()
    audit.record(action="create", by=by, entity_type="user", entity_id=user.id,
                 changes=audit.snapshot(user, _USER_FIELDS))
    return user


def update_user(*, by: User, user_id: int, expected_version: int, full_name: str, role: Role,
                organisation_id: int | None, active: bool, job_title: str | None = None,
                registration_body: str | None = None, registration_number: str | None = None) -> User:
    """Change an account. Deactivating it, or changing its role or organisation, ends its sessions. The job
    title and registration, printed on the letters the person sends, stay as they are when not given."""
    _require_admin(by)
    user = get_user(user_id)
    check_version(user.version, expected_version)
    if user.id == by.id and (not active or role is not Role.ADMIN):
        raise InvalidInput({"role": "You cannot remove your own administrator access"})
    before = audit.snapshot(user, _USER_FIELDS)
    user.full_name = required(full_name, "full_name", "Enter the person's full name")
    user.role = role
    user.organisation_id = _organisation_for_role(role, organisation_id)
    user.active = active
    _set_sender_details(user, user.job_title if job_title is None else job_title,
                        user.registration_body if registration_body is None else registration_body,
                        user.registration_number if registration_number is None else registration_number)
    changes = audit.differences(before, audit.snapshot(user, _USER_FIELDS))
    if changes.keys() & {"role", "organisation_id", "active"}:
        user.session_token = new_session_token()
    flush_or_stale()
    audit.record(action="update", by=by, entity_type="user", entity_id=user.id, changes=changes)
    return user


def _set_sender_details(user: User, job_title: str, registration_body: str, registration_number: str) -> None:
    """The job title and professional registration a letter's sender block prints, the registration checked
    against its register's format (taper.domain.registration)."""
    job_title = " ".join(job_title.split())
    if len(job_title) > 120:
        raise InvalidInput({"job_title": "Write the job title in at most 120 characters"})
    try:
        registration = read_registration(registration_body, registration_number)
    except InvalidRegistration as error:
        field = "registration_number" if registration_body.strip() in set(RegulatoryBody) else "registration_body"
        raise InvalidInput({field: str(error)}) from None
    user.job_title = job_title
    user.registration_body = registration.body.value if registration else ""
    user.registration_number = registration.number if registration else ""


def set_password(*, by: User | None, user_id: int, password: str) -> User:
    """Set a new password (an admin for anyone; `by=None` from the command line). Ends the user's sessions."""
    _require_admin(by)
    user = get_user(user_id)
    _check_new_password(password, user.email, user.full_name)
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()
    db.session.flush()
    lockout.clear(user.email)  # a new password ends a lockout: the way back in for someone locked out
    audit.record(action="set_password", by=by, entity_type="user", entity_id=user.id)
    return user


def reset_two_factor(*, by: User | None, user_id: int) -> User:
    """An administrator takes away an account's authenticator app and recovery codes (a lost phone). The person
    is signed out everywhere and sets up a new app at their next sign-in where two factors are required."""
    _require_admin(by)
    user = get_user(user_id)
    if by is not None and by.id == user.id:  # a stolen session must not be able to remove its own second factor
        raise InvalidInput({"form": "You cannot reset your own two-factor sign-in: ask another administrator"})
    two_factor.forget(user)
    user.session_token = new_session_token()
    db.session.flush()
    audit.record(action="reset_two_factor", by=by, entity_type="user", entity_id=user.id)
    return user


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


def users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.full_name)))


def _organisation_for_role(role: Role, organisation_id: int | None) -> int | None:
    needed_kind = role.organisation_kind
    if organisation_id is None:
        if needed_kind is None:
            return None
        raise InvalidInput({"organisation_id": f"Select the {needed_kind.label.lower()} this person works for"})
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise InvalidInput({"organisation_id": "Select an organisation from the list"})
    if needed_kind is not None and organisation.kind is not needed_kind:
        raise InvalidInput({"organisation_id": f"A {role.label.lower()} must belong to a {needed_kind.label.lower()}"})
    return organisation.id


def _check_new_password(password: str, *account_details: str) -> None:
    """A new password, checked against the policy and against the account's own email address and name."""
    problem = password_problem(password, user_inputs=account_details)
    if problem:
        raise InvalidInput({"password": problem})


# Signing in and out ----------------------------------------------------------------------------------------

def typed_email(email: str) -> str:
    """An email address as typed at sign-in, trimmed and in lower case: the key for the lockout and rate limits."""
    return email.strip().lower()[:254]


def authenticate(*, email: str, password: str) -> User | None:
    """The active user with this email and password, or None ("login_failure", audited and counted towards the
    lockout). Raises SignInLocked (audited) while the address is locked out, before any hashing: the right password
    is refused too. The caller completes the sign-in with `complete_sign_in`, after a second factor if needed."""
    typed = typed_email(email)
    user = db.session.scalar(select(User).where(func.lower(User.email) == typed))
    lockout.refuse_while_locked(typed, user)
    if not verify_password(user.password_hash if user else None, password) or user is None or not user.active:
        audit.record(action="login_failure", by=None, entity_type="user",
                     entity_id=user.id if user else None, actor_label=typed or "(blank)")
        lockout.record_failure(typed)
        return None
    if needs_rehash(user.password_hash):
        _write_sign_in_columns(user, password_hash=hash_password(password))
    return user


def complete_sign_in(*, user: User, second_factor: SecondFactor | None = None) -> None:
    """The user has proved who they are: their failed attempts are forgotten and the sign-in recorded."""
    lockout.clear(user.email)
    _write_sign_in_columns(user, last_login_at=clock.now())
    audit.record(action="login_success", by=user, entity_type="user", entity_id=user.id,
                 changes={"second_factor": second_factor.value if second_factor else None})


def _write_sign_in_columns(user: User, **values: Any) -> None:
    """The sign-in time (or the password rehashed when its hashing settings are out of date), written without
    the account's version check: two sign-ins at once (a double click) both succeed, the later time stands.
    Neither is an edit of the account that the optimistic lock guards (issue 15)."""
    db.session.execute(update(User).where(User.id == user.id).values(**values)
                       .execution_options(synchronize_session=False))
    for name, value in values.items():
        set_committed_value(user, name, value)


def user_for_session(session_token: str) -> User | None:
    """The active user whose current session token this is (a rotated token finds no one)."""
    user = db.session.scalar(select(User).where(User.session_token == session_token))
    return user if user is not None and user.active else None


def sign_out(*, user: User) -> None:
    """End every session of this user by rotating their session token."""
    user.session_token = new_session_token()
    db.session.flush()
    audit.record(action="logout", by=user, entity_type="user", entity_id=user.id)
