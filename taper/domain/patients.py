"""Patient demographics that rules elsewhere depend on."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

import phonenumbers


class Sex(StrEnum):
    """Stated sex, as the NHS Data Dictionary's person stated gender codes (1, 2, 9, X)."""

    MALE = "male"
    FEMALE = "female"
    INDETERMINATE = "indeterminate"
    NOT_KNOWN = "not_known"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


OLDEST_PLAUSIBLE_AGE_YEARS = 125


class ImplausibleDateOfBirth(ValueError):
    pass


def check_date_of_birth(born_on: date, *, today: date) -> date:
    """Refuse a date of birth in the future or more than 125 years ago (almost certainly a typing error)."""
    if born_on > today:
        raise ImplausibleDateOfBirth("Date of birth must be today or in the past")
    if born_on.year < today.year - OLDEST_PLAUSIBLE_AGE_YEARS:
        raise ImplausibleDateOfBirth(f"Date of birth must be after {today.year - OLDEST_PLAUSIBLE_AGE_YEARS}")
    return born_on


def age_in_years(born_on: date, *, on: date) -> int:
    """Completed years of age on the given date."""
    return on.year - born_on.year - ((on.month, on.day) < (born_on.month, born_on.day))


CONTACT_BY = {"none": "No reminders", "sms": "Text message", "email": "Email", "letter": "Letter"}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class InvalidContact(ValueError):
    """The way the patient agreed to be contacted cannot be used; `field` says which answer is wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def check_contact(contact_by: str, *, mobile_phone: str, email: str, postal_address: str) -> tuple[str, str, str]:
    """The mobile number (national format), email and address to keep for the chosen way of contact; the
    chosen one must be usable. UK mobiles start 07 (numbers from Ofcom's drama range are accepted: demo data)."""
    if contact_by not in CONTACT_BY:
        raise InvalidContact("contact_by", "Choose how the patient wants reminders")
    mobile = mobile_phone.strip()
    if mobile:
        try:
            number = phonenumbers.parse(mobile, "GB")
        except phonenumbers.NumberParseException:
            number = None
        national = "" if number is None else phonenumbers.format_number(number,
                                                                         phonenumbers.PhoneNumberFormat.NATIONAL)
        if number is None or number.country_code != 44 or not phonenumbers.is_possible_number(number) \
                or not national.startswith("07"):
            raise InvalidContact("mobile_phone", "Enter a UK mobile number, like 07700 900123")
        mobile = national
    if contact_by == "sms" and not mobile:
        raise InvalidContact("mobile_phone", "Enter the mobile number for text message reminders")
    email = email.strip()
    if email and not _EMAIL.fullmatch(email):
        raise InvalidContact("email", "Enter an email address in the correct format, like name@example.com")
    if contact_by == "email" and not email:
        raise InvalidContact("email", "Enter the email address for reminders")
    lines = [line.strip() for line in postal_address.splitlines() if line.strip()]
    if contact_by == "letter" and not 3 <= len(lines) <= 7:
        raise InvalidContact("postal_address", "Enter the address on 3 to 7 lines, the last being the postcode")
    return mobile, email, "\n".join(lines)
