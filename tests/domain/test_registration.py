import pytest

from taper.domain.registration import InvalidRegistration, RegulatoryBody, read_registration


@pytest.mark.parametrize(("body", "number", "printed"), [
    ("GPhC", "0001234", "GPhC registration number 0001234"),
    ("GMC", " 000 4321 ", "GMC registration number 0004321"),
    ("NMC", "12a3456e", "NMC registration number 12A3456E"),
])
def test_a_registration_is_read_in_its_registers_format(body: str, number: str, printed: str) -> None:
    assert str(read_registration(body, number)) == printed


@pytest.mark.parametrize(("body", "number", "message"), [
    ("GPhC", "123456", "A GPhC registration number is 7 digits"),
    ("GPhC", "12345678", "A GPhC registration number is 7 digits"),
    ("GMC", "G123456", "A GMC registration number is 7 digits"),
    ("NMC", "1234567", "A NMC registration number is like 12A3456E"),
    ("", "0001234", "Choose the register"),
    ("HCPC", "PH12345", "Choose the register"),
    ("GPhC", "", "A GPhC registration number is 7 digits"),
])
def test_a_number_without_its_register_or_in_the_wrong_format_is_refused(body: str, number: str,
                                                                         message: str) -> None:
    with pytest.raises(InvalidRegistration, match=message):
        read_registration(body, number)


def test_no_registration_at_all_is_none_and_every_register_has_a_label() -> None:
    assert read_registration(" ", "  ") is None
    assert all(body.value in body.label for body in RegulatoryBody)
