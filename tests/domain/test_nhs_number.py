import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from taper.domain.nhs_number import InvalidNhsNumber, format_nhs_number, normalise_nhs_number

VALID = "9434765919"  # NHS Digital's published example


@pytest.mark.parametrize("typed", ["9434765919", "943 476 5919", "943-476-5919", "  943 476 5919 "])
def test_normalise_nhs_number_accepts_valid_forms(typed: str) -> None:
    assert normalise_nhs_number(typed) == VALID


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("9434765918", "not valid"),  # wrong check digit
        ("943476591", "10 digits"),  # too short
        ("94347659190", "10 digits"),  # too long
        ("94347A5919", "only numbers"),  # letters
        ("943476591O", "only numbers"),  # letter O for zero
        ("", "Enter the NHS number"),
        ("0000000000", "not valid"),  # check digit works out, but never issued
        ("٩٤٣٤٧٦٥٩١٩", "only numbers"),  # Arabic-Indic digits are not NHS numbers
    ],
)
def test_normalise_nhs_number_refuses_invalid(typed: str, message: str) -> None:
    with pytest.raises(InvalidNhsNumber, match=message):
        normalise_nhs_number(typed)


def _check_digit(stem: str) -> int:
    """Modulus 11, weights 10 down to 2 (NHS Data Dictionary), written out independently of the package."""
    remainder = sum(int(digit) * weight for digit, weight in zip(stem, range(10, 1, -1), strict=True)) % 11
    return 11 - remainder if remainder else 0


def _in_scottish_chi_range(number: str) -> bool:
    """CHI numbers begin with a DDMMYY date of birth, and nhs-number also checks that date; its Scottish range is
    0100000000-3112999999 (nhs_number.constants.RANGE_SCOTLAND), so 01000000xx is CHI too (day 01, month 00)."""
    return "0100000000" <= number <= "3112999999"


def test_normalise_nhs_number_refuses_a_chi_number_whose_date_is_impossible() -> None:
    stem = "310200000"  # 31 February
    with pytest.raises(InvalidNhsNumber):
        normalise_nhs_number(stem + str(_check_digit(stem)))


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_normalise_nhs_number_agrees_with_modulus_11(stem: str) -> None:
    assume(not _in_scottish_chi_range(stem + "0"))
    check = _check_digit(stem)
    if check == 10 or stem + str(check % 10) == "0000000000":
        for digit in "0123456789":
            with pytest.raises(InvalidNhsNumber):
                normalise_nhs_number(stem + digit)
    else:
        assert normalise_nhs_number(stem + str(check)) == stem + str(check)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.integers(0, 9), st.integers(1, 9))
def test_normalise_nhs_number_catches_any_single_digit_error(stem: str, position: int, shift: int) -> None:
    check = _check_digit(stem)
    if check == 10 or stem == "000000000":
        return
    number = stem + str(check)
    wrong = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1:]
    with pytest.raises(InvalidNhsNumber):
        normalise_nhs_number(wrong)


def test_format_nhs_number_groups_3_3_4() -> None:
    assert format_nhs_number(VALID) == "943 476 5919"
