"""Dates as people in the UK type them (issue 17): every real date written in each accepted way reads back as
itself; a date that could only be read by guessing (month first, a two-digit year) or that does not exist is
refused with words that say why."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taper.domain.typed_dates import UnreadableDate, date_from_parts, looks_like_date, parse_typed_date

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
FORMATS: dict[str, Callable[[date], str]] = {
    "14 March 1951": lambda on: f"{on.day} {MONTHS[on.month - 1]} {on.year}",
    "14 Mar 1951": lambda on: f"{on.day} {MONTHS[on.month - 1][:3]} {on.year}",
    "14/03/1951": lambda on: f"{on.day:02d}/{on.month:02d}/{on.year}",
    "14-3-1951": lambda on: f"{on.day}-{on.month}-{on.year}",
    "1951-03-14": lambda on: on.isoformat(),
    "14 MARCH 1951": lambda on: f"{on.day} {MONTHS[on.month - 1].upper()} {on.year}",
    "4/3/1951": lambda on: f"{on.day}/{on.month}/{on.year}",
    "14.03.1951": lambda on: f"{on.day:02d}.{on.month:02d}.{on.year}",
}
REAL_DATES = st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31))  # years written with 4 digits


@pytest.mark.parametrize("written", FORMATS.values(), ids=FORMATS.keys())
@given(on=REAL_DATES)
def test_any_real_date_written_an_accepted_way_reads_back_as_itself(written: Callable[[date], str],
                                                                    on: date) -> None:
    text = written(on)
    assert looks_like_date(text)
    assert parse_typed_date(text) == on
    assert parse_typed_date(f"  {text.lower()} ") == on


@given(on=REAL_DATES.filter(lambda on: on.day > 12))
def test_a_date_written_month_first_is_refused_never_turned_round(on: date) -> None:
    with pytest.raises(UnreadableDate, match="write the day first, then the month, then the year"):
        parse_typed_date(f"{on.month:02d}/{on.day:02d}/{on.year}")


@given(on=REAL_DATES.filter(lambda on: on.day <= 12))
def test_numbers_are_always_read_day_then_month(on: date) -> None:
    # 03/04/1951 is 3 April in the UK, whatever another country would make of it.
    assert parse_typed_date(f"{on.day:02d}/{on.month:02d}/{on.year}") == on


@given(on=REAL_DATES, separator=st.sampled_from("/-. "))
def test_a_two_digit_year_is_refused_rather_than_given_a_century(on: date, separator: str) -> None:
    with pytest.raises(UnreadableDate, match="write the year in full, with 4 digits"):
        parse_typed_date(separator.join((str(on.day), str(on.month), f"{on.year % 100:02d}")))


@given(year=st.integers(1000, 9999), month=st.integers(1, 12), day=st.integers(29, 31))
def test_a_day_the_month_does_not_have_is_refused(year: int, month: int, day: int) -> None:
    try:
        real = date(year, month, day)
    except ValueError:
        with pytest.raises(UnreadableDate, match=f"{MONTHS[month - 1]} {year} has no day {day}"):
            parse_typed_date(f"{day}/{month}/{year}")
    else:
        assert parse_typed_date(f"{day}/{month}/{year}") == real


@pytest.mark.parametrize(("typed", "reason"), [
    ("14/13/1951", "write the day first"),
    ("0/3/1951", "March 1951 has no day 0"),
    ("14 Smarch 1951", "“smarch” is not a month"),
    ("14/03/0000", "there is no year 0000"),
    ("14/03/19510", "write the year in full, with 4 digits"),
    ("March 14 1951", "write it like 14 March 1951 or 14/03/1951"),
    ("1951/03/14", "write it like"),
    ("14/03-1951", "write it like"),
])
def test_refusals_say_why(typed: str, reason: str) -> None:
    with pytest.raises(UnreadableDate, match=reason):
        parse_typed_date(typed)


@pytest.mark.parametrize("text", ["Holloway", "943 476 5919", "Ada Lovelace", "14", "March 1951", "O'Brien"])
def test_names_and_numbers_do_not_look_like_dates(text: str) -> None:
    assert not looks_like_date(text)


@pytest.mark.parametrize(("day", "month", "year", "expected"), [
    ("14", "3", "1951", date(1951, 3, 14)),
    ("14", "03", "1951", date(1951, 3, 14)),
    ("14", "Mar", "1951", date(1951, 3, 14)),
    ("14", "march", "1951", date(1951, 3, 14)),
    ("1", "Sept", "2026", date(2026, 9, 1)),
])
def test_day_month_and_year_boxes_take_the_month_as_a_number_or_a_name(day: str, month: str, year: str,
                                                                       expected: date) -> None:
    assert date_from_parts(day, month, year) == expected


@pytest.mark.parametrize(("day", "month", "year", "reason"), [
    ("14", "13", "1951", "there is no month 13"),
    ("14", "003", "1951", "there is no month 003"),
    ("x", "3", "1951", "the day must be a number"),
    ("14", "3", "51", "write the year in full"),
    ("29", "2", "2027", "February 2027 has no day 29"),
])
def test_day_month_and_year_boxes_refuse_what_is_not_a_date(day: str, month: str, year: str, reason: str) -> None:
    with pytest.raises(UnreadableDate, match=reason):
        date_from_parts(day, month, year)
