"""The password policy (issue 15): length, and refusing common passwords and ones made from the account's own
details, by zxcvbn's estimate rather than a hand-made list."""

from __future__ import annotations

import pytest

from taper.services.passwords import password_problem

ACCOUNT = ("kwabena.asante@example.nhs.uk", "Kwabena Asante")


@pytest.mark.parametrize("password", ["password1234", "qwertyuiop123", "aaaaaaaaaaaaaaaa", "123456789012"])
def test_common_passwords_are_refused_however_long(password: str) -> None:
    assert (password_problem(password) or "").startswith("Choose a password that is harder to guess")


@pytest.mark.parametrize("password", ["kwabena12345", "asantekwabena"])
def test_a_password_made_from_the_accounts_own_name_is_refused_for_that_account_only(password: str) -> None:
    assert password_problem(password) is None  # for someone else, not guessable from their details
    assert (password_problem(password, user_inputs=ACCOUNT) or "").startswith("Choose a password that is harder")


def test_a_few_unrelated_words_are_accepted_and_length_is_still_checked() -> None:
    assert password_problem("correct horse battery staple", user_inputs=ACCOUNT) is None
    assert password_problem("short") == "Password must be at least 12 characters long"
    assert password_problem("x" * 129) == "Password must be 128 characters or fewer"
