"""Patient demographics that rules elsewhere depend on."""

from __future__ import annotations

from datetime import date
from enum import StrEnum


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
