"""A pack request (the JSON that `flask taper documents` reads, docs/documents-cli.md) read into a Pack.

Everything is checked before anything is rendered: unknown fields, a wrong NHS number, a date of birth in the
future, an instalment interval a pharmacy cannot dispense and every problem with the schedule request are all
reported together, each with the field it is about.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from taper.documents.letterhead import Letterhead, Sender
from taper.documents.pack import Pack
from taper.domain.formulary import load_formulary
from taper.domain.json_text import MalformedJson, read_json
from taper.domain.nhs_number import InvalidNhsNumber, format_nhs_number, normalise_nhs_number
from taper.domain.organisations import MAX_ADDRESS_LINES, InvalidPhoneNumber, normalise_phone_number
from taper.domain.regimen import FieldError, RegimenError
from taper.domain.registration import InvalidRegistration, read_registration
from taper.domain.schedule_contract import schedule_from_request
from taper.domain.wording import doses_that_cannot_be_made

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
INSTALMENT_DAYS = (7, 14, 28)  # the intervals a plan may dispense in (taper.models.plan.Plan)
PRESCRIBERS = ("gp", "pharmacist")
_FIELDS = {
    "": ({"patient", "clinic", "gp_practice", "pharmacy", "instalment_days", "schedule_request"},
         {"plan", "prescriber", "risk", "appointments", "appointment_times_sent", "sender", "pain_relief"}),
    "patient": ({"name", "nhs_number", "date_of_birth"}, {"needs"}),
    "patient.needs": (set(), {"large_print", "easy_read"}),
    "clinic": ({"name", "phone"}, {"address", "supplies_naloxone"}),
    "sender": ({"name", "job_title", "registration_body", "registration_number"}, set()),
    "gp_practice": ({"name"}, {"ods_code"}),
    "pharmacy": ({"name"}, {"ods_code"}),
    "plan": ({"id", "version"}, set()),
}


class PackRequestError(RegimenError):
    """The pack request cannot be read exactly; `errors` says where and why. Nothing is rendered."""


class DuplicateKey(ValueError):
    pass


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A key given twice is ambiguous (which one did the writer mean?): refused, never silently the last."""
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise DuplicateKey(f"the key {repeated[0]!r} is given more than once")
    return dict(pairs)


def read_pack_request(text: str, *, today: date) -> Pack:
    try:
        document = read_json(text, object_pairs_hook=_refuse_duplicate_keys)
    except MalformedJson as error:
        raise PackRequestError([FieldError("request", str(error))]) from None
    except DuplicateKey as error:
        raise PackRequestError([FieldError("request", f"malformed JSON: {error}")]) from None
    return pack_from_request(document, today=today)


def pack_from_request(document: Any, *, today: date) -> Pack:
    """The Pack a request describes, or PackRequestError listing every problem with it."""
    reader = _Reader()
    request = reader.object(document, "")
    patient = reader.object(request.get("patient"), "patient")
    needs = reader.object(patient.get("needs", {}), "patient.needs")
    clinic = reader.object(request.get("clinic"), "clinic")
    practice = reader.object(request.get("gp_practice"), "gp_practice")
    pharmacy = reader.object(request.get("pharmacy"), "pharmacy")
    plan = reader.object(request["plan"], "plan") if "plan" in request else None
    sender = reader.sender(request["sender"]) if "sender" in request else None
    name = reader.text(patient, "patient", "name")
    nhs_number = reader.nhs_number(patient.get("nhs_number"))
    born = reader.date_of_birth(patient.get("date_of_birth"), today=today)
    large_print, easy_read = reader.flag(needs, "large_print"), reader.flag(needs, "easy_read")
    clinic_name, clinic_phone = reader.text(clinic, "clinic", "name"), reader.phone(clinic.get("phone"))
    clinic_address = reader.address(clinic)
    naloxone = reader.flag(clinic, "supplies_naloxone", field="clinic")
    practice_name = reader.text(practice, "gp_practice", "name")
    practice_ods_code = reader.text(practice, "gp_practice", "ods_code", default="-")
    pharmacy_name = reader.text(pharmacy, "pharmacy", "name")
    pharmacy_ods_code = reader.text(pharmacy, "pharmacy", "ods_code", default="-")
    instalment_days = reader.choice(request.get("instalment_days"), "instalment_days", INSTALMENT_DAYS)
    prescriber = reader.choice(request.get("prescriber", "gp"), "prescriber", PRESCRIBERS)
    risk = reader.text(request, "", "risk", default="Not given")
    pain_relief = reader.text(request, "", "pain_relief", default="")
    appointments = reader.texts(request.get("appointments", []), "appointments")
    times_sent = reader.flag({"appointment_times_sent": True, **request}, "appointment_times_sent", field="")
    plan_id = reader.positive(plan.get("id"), "plan.id") if plan is not None else None
    plan_version = reader.positive(plan.get("version"), "plan.version") if plan is not None else 1
    schedule = reader.schedule(request)
    if reader.errors:
        raise PackRequestError(reader.errors)
    assert schedule is not None and born is not None and plan_version is not None
    head = Letterhead(patient_name=name, nhs_number=nhs_number, born=born.isoformat(), plan_number=plan_id,
                      plan_version=plan_version, generated_on=today, pharmacy_name=pharmacy_name,
                      pharmacy_ods_code=pharmacy_ods_code, clinic_name=clinic_name, clinic_contact=clinic_phone,
                      clinic_address=clinic_address, sender=sender)
    return Pack(head=head, version_request=request["schedule_request"], schedule=schedule,
                practice_name=practice_name, practice_ods_code=practice_ods_code, prescriber=prescriber, risk=risk,
                instalment_days=instalment_days, large_print=large_print, easy_read=easy_read,
                appointments=tuple(appointments), times_sent=times_sent, naloxone=naloxone, pain_relief=pain_relief)


class _Reader:
    """Reads fields, collecting every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field or "request", message))

    def object(self, value: Any, field: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(field, "is missing" if value is None else "must be a JSON object")
            return {}
        required, optional = _FIELDS[field]
        prefix = f"{field}." if field else ""
        for unknown in sorted(set(value) - required - optional):
            self.fail(prefix + unknown, f"unknown field: expected one of {', '.join(sorted(required | optional))}")
        for missing in sorted(required - set(value)):
            self.fail(prefix + missing, "is missing")
        return value

    def text(self, data: Mapping[str, Any], field: str, key: str, *, default: str | None = None) -> str:
        if key not in data:
            return default or ""  # a missing required field is reported by `object`
        value = data[key]
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{field}.{key}" if field else key, "must be text")
            return ""
        return value.strip()

    def texts(self, value: Any, field: str) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            self.fail(field, "must be a list of text")
            return []
        return [item.strip() for item in value]

    def flag(self, data: Mapping[str, Any], key: str, *, field: str = "patient.needs") -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.fail(f"{field}.{key}" if field else key, "must be true or false")
            return False
        return value

    def choice(self, value: Any, field: str, choices: tuple[Any, ...]) -> Any:
        if type(value) is not type(choices[0]) or value not in choices:  # 7.0 is not 7, nor True 1
            self.fail(field, "must be one of " + ", ".join(str(choice) for choice in choices))
        return value

    def positive(self, value: Any, field: str) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.fail(field, "must be a whole number, 1 or more")
            return None
        return value

    def nhs_number(self, value: Any) -> str:
        try:
            return format_nhs_number(normalise_nhs_number(value if isinstance(value, str) else ""))
        except InvalidNhsNumber as error:
            self.fail("patient.nhs_number", str(error))
            return ""

    def date_of_birth(self, value: Any, *, today: date) -> date | None:
        try:
            born = date.fromisoformat(value) if isinstance(value, str) and ISO_DATE.fullmatch(value) else None
        except ValueError:
            born = None
        if born is None:
            self.fail("patient.date_of_birth", "must be a date written YYYY-MM-DD")
        elif born > today:
            self.fail("patient.date_of_birth", "must not be in the future")
        return born

    def phone(self, value: Any) -> str:
        try:
            return normalise_phone_number(value if isinstance(value, str) else "")
        except InvalidPhoneNumber as error:
            self.fail("clinic.phone", str(error))
            return ""

    def address(self, clinic: Mapping[str, Any]) -> str:
        if "address" not in clinic:
            return ""
        value = clinic["address"]
        lines = value if isinstance(value, list) else None
        if lines is None or not lines or len(lines) > MAX_ADDRESS_LINES or not all(
                isinstance(line, str) and line.strip() for line in lines):
            self.fail("clinic.address", f"must be a list of 1 to {MAX_ADDRESS_LINES} lines of text")
            return ""
        return "\n".join(line.strip() for line in lines)

    def sender(self, value: Any) -> Sender | None:
        sender = self.object(value, "sender")
        name, job_title = self.text(sender, "sender", "name"), self.text(sender, "sender", "job_title")
        body, number = sender.get("registration_body", ""), sender.get("registration_number", "")
        if not isinstance(body, str) or not isinstance(number, str):
            self.fail("sender.registration_number", "must be text")
            return None
        try:
            registration = read_registration(body, number)
        except InvalidRegistration as error:
            self.fail("sender.registration_number", str(error))
            return None
        if registration is None:
            self.fail("sender.registration_number", "is missing")
            return None
        return Sender(name=name, job_title=job_title, registration=str(registration))

    def schedule(self, request: Mapping[str, Any]) -> dict[str, Any] | None:
        if "schedule_request" not in request:
            return None  # reported as missing already
        try:
            # Through JSON text, as the app stores it, so the documents read exactly what a plan version holds.
            schedule = json.loads(json.dumps(schedule_from_request(request["schedule_request"], load_formulary())))
        except RegimenError as refusal:
            self.errors.extend(FieldError(f"schedule_request.{error.field}", error.message)
                               for error in refusal.errors)
            return None
        except (OverflowError, ValueError) as error:  # a start date so late the plan runs past year 9999
            self.fail("schedule_request.start_on", f"gives dates the calendar cannot hold: {error}")
            return None
        for dose in doses_that_cannot_be_made(schedule):
            self.fail("schedule_request", f"cannot be made from the strengths available: {dose}")
        return schedule
