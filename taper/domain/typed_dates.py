"""Dates as people in the UK type them: "14 March 1951", "14 Mar 1951", "14/03/1951", "14-3-1951", "1951-03-14".

Numbers are read day, month, year (UK order) and never swapped to make a date fit: "03/14/1951" is refused, not
read as 14 March. A year must have four digits, so "14/03/51" (which century?) is refused too. Standard library
only.
"""

from __future__ import annotations

import re
from datetime import date

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
_MONTH_NUMBERS = {name: number for number, name in enumerate(MONTHS, start=1)}
_MONTH_NUMBERS.update({name[:3]: number for name, number in list(_MONTH_NUMBERS.items())})
_MONTH_NUMBERS["sept"] = 9

_WORDS = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s([a-z]+)\.?,?\s(\d+)")  # 14 March 1951, 1st Sept. 1951
_NUMBERS = re.compile(r"(\d{1,2})([/.\- ])(\d{1,2})\2(\d+)")  # 14/03/1951, 14-3-1951, 14.3.1951, 14 3 1951
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")  # 1951-03-14
EXAMPLE = "14 March 1951 or 14/03/1951"


class UnreadableDate(ValueError):
    """What was typed is not a date that can be read without guessing; the message says why, in words for the
    person who typed it, starting in lower case ("there is no month 13") to follow "must be a real date: "."""


def looks_like_date(text: str) -> bool:
    """Whether `text` is written in one of the date shapes (right or wrong), rather than, say, a name."""
    typed = _normalised(text)
    return any(pattern.fullmatch(typed) for pattern in (_WORDS, _NUMBERS, _ISO))


def parse_typed_date(text: str) -> date:
    """The date `text` writes, read in UK order (day, month, year); UnreadableDate for anything else, including
    a month above 12 (never read as month/day), a two-digit year and a day the month does not have."""
    typed = _normalised(text)
    if match := _ISO.fullmatch(typed):
        return date_from_parts(match.group(3), match.group(2), match.group(1))
    if match := _NUMBERS.fullmatch(typed):
        if int(match.group(3)) > 12:
            raise UnreadableDate(f"write the day first, then the month, then the year, like {EXAMPLE}")
        return date_from_parts(match.group(1), match.group(3), match.group(4))
    if match := _WORDS.fullmatch(typed):
        return date_from_parts(match.group(1), match.group(2), match.group(3))
    raise UnreadableDate(f"write it like {EXAMPLE}")


def date_from_parts(day: str, month: str, year: str) -> date:
    """The date of a day (digits), a month (a number, or a name in full or shortened: "3", "Mar", "March") and
    a year (four digits); UnreadableDate if there is no such date."""
    day, month, year = day.strip(), month.strip().lower().rstrip("."), year.strip()
    if not day.isdecimal() or len(day) > 2:  # isdecimal: what int() reads ("²" is a digit int() refuses)
        raise UnreadableDate("the day must be a number, like 14")
    if not year.isdecimal() or len(year) != 4:
        raise UnreadableDate("write the year in full, with 4 digits, like 1951")
    if month.isdecimal():
        month_number = int(month) if len(month) <= 2 else 0
        if not 1 <= month_number <= 12:
            raise UnreadableDate(f"there is no month {month}")
    elif month in _MONTH_NUMBERS:
        month_number = _MONTH_NUMBERS[month]
    else:
        raise UnreadableDate(f"“{month}” is not a month")
    if int(year) < 1:
        raise UnreadableDate(f"there is no year {year}")
    try:
        return date(int(year), month_number, int(day))
    except ValueError:
        raise UnreadableDate(f"{MONTHS[month_number - 1].capitalize()} {year} has no day {int(day)}") from None


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())
