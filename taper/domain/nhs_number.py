"""NHS numbers: ten digits whose last is a modulus-11 check digit.

The check follows the NHS Data Dictionary (https://www.datadictionary.nhs.uk/attributes/nhs_number.html),
computed by the `nhs-number` package. That package accepts 0000000000, whose check digit happens to work
out; no such number is ever issued, so we refuse it ourselves.
"""

from __future__ import annotations

import re

import nhs_number

_SEPARATORS = re.compile(r"[\s-]")


class InvalidNhsNumber(ValueError):
    """The text is not a valid NHS number; the message says why, in words a user can act on."""


def normalise_nhs_number(raw: str) -> str:
    """Return the ten digits of a valid NHS number (spaces and dashes removed) or raise InvalidNhsNumber."""
    digits = _SEPARATORS.sub("", raw or "")
    if not digits:
        raise InvalidNhsNumber("Enter the NHS number")
    if not digits.isascii() or not digits.isdigit():
        raise InvalidNhsNumber("NHS number must contain only numbers")
    if len(digits) != 10:
        raise InvalidNhsNumber("NHS number must be 10 digits long")
    if digits == "0000000000" or not nhs_number.is_valid(digits):
        raise InvalidNhsNumber("NHS number is not valid: check the digits and try again")
    return digits


def format_nhs_number(digits: str) -> str:
    """Show an NHS number the way the NHS prints it: 3 3 4 digits."""
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
