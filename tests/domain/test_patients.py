from datetime import date

import pytest

from taper.domain.patients import ImplausibleDateOfBirth, age_in_years, check_date_of_birth

TODAY = date(2026, 11, 28)


def test_check_date_of_birth_refuses_the_future() -> None:
    with pytest.raises(ImplausibleDateOfBirth, match="past"):
        check_date_of_birth(date(2026, 11, 29), today=TODAY)


def test_check_date_of_birth_refuses_more_than_125_years_ago() -> None:
    with pytest.raises(ImplausibleDateOfBirth):
        check_date_of_birth(date(1900, 1, 1), today=TODAY)


def test_check_date_of_birth_accepts_today_and_the_plausible_past() -> None:
    assert check_date_of_birth(TODAY, today=TODAY) == TODAY
    assert check_date_of_birth(date(1930, 5, 1), today=TODAY) == date(1930, 5, 1)


@pytest.mark.parametrize(("born_on", "age"), [(date(1960, 11, 28), 66), (date(1960, 11, 29), 65)])
def test_age_in_years_counts_completed_years(born_on: date, age: int) -> None:
    assert age_in_years(born_on, on=TODAY) == age
