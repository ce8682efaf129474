"""Kinds of organisation, the roles of the people in them, and ODS codes."""

from __future__ import annotations

import re
from enum import StrEnum

import phonenumbers


class OrganisationKind(StrEnum):
    PAIN_CLINIC = "pain_clinic"
    GP_PRACTICE = "gp_practice"
    COMMUNITY_PHARMACY = "community_pharmacy"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


class Role(StrEnum):
    PHARMACIST = "pharmacist"
    GP = "gp"
    COMMUNITY_PHARMACIST = "community_pharmacist"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]

    @property
    def organisation_kind(self) -> OrganisationKind | None:
        """The kind of organisation a user with this role belongs to (None: admins need not belong to one)."""
        return _ROLE_ORGANISATION_KIND[self]


_KIND_LABELS = {
    OrganisationKind.PAIN_CLINIC: "Pain clinic",
    OrganisationKind.GP_PRACTICE: "GP practice",
    OrganisationKind.COMMUNITY_PHARMACY: "Community pharmacy",
}
_ROLE_LABELS = {
    Role.PHARMACIST: "Specialist pain pharmacist",
    Role.GP: "GP",
    Role.COMMUNITY_PHARMACIST: "Community pharmacist",
    Role.ADMIN: "Administrator",
}
_ROLE_ORGANISATION_KIND = {
    Role.PHARMACIST: OrganisationKind.PAIN_CLINIC,
    Role.GP: OrganisationKind.GP_PRACTICE,
    Role.COMMUNITY_PHARMACIST: OrganisationKind.COMMUNITY_PHARMACY,
    Role.ADMIN: None,
}

# An organisation's postal address, as a letter's sender block prints it: at most this many lines and characters
# (the admin form, the documents command and the database column share them).
MAX_ADDRESS_LINES = 6
MAX_ADDRESS_CHARACTERS = 300

# ODS codes are 3 to 10 upper-case letters and digits: trusts "RX1", trust sites "RX1AB",
# GP practices "A81001", pharmacies "FA123" (NHS ODS, https://digital.nhs.uk/services/organisation-data-service).
_ODS_CODE = re.compile(r"[A-Z0-9]{3,10}")


class InvalidOdsCode(ValueError):
    pass


def normalise_ods_code(raw: str) -> str:
    """Return the ODS code in its canonical upper-case form, or raise InvalidOdsCode."""
    code = raw.strip().upper()
    if not _ODS_CODE.fullmatch(code):
        raise InvalidOdsCode("Enter an ODS code of 3 to 10 letters and numbers, like A81001")
    return code


UK_COUNTRY_CODE = 44  # documents tell patients in England to call this number


class InvalidPhoneNumber(ValueError):
    pass


def normalise_phone_number(raw: str) -> str:
    """A UK phone number in the national format people dial ("0113 496 0000"), or raise InvalidPhoneNumber.
    Checked against the numbering plan by the `phonenumbers` package (Google's libphonenumber data)."""
    try:
        number = phonenumbers.parse(raw, "GB")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or number.country_code != UK_COUNTRY_CODE or not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber("Enter a UK phone number, like 0113 496 0000")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
