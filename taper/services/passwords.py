"""Password hashing (Argon2id, OWASP ASVS 5.0 11.4.2) and the password policy (ASVS 6.2.1: length, no
composition rules; 6.2.4 and 6.2.11: refuse common and guessable passwords, including ones made from the
account's own details, measured by zxcvbn, Dropbox's estimator of guesses, rather than a hand-made list)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
# zxcvbn scores 0 to 4; 3 is "safely unguessable: moderate protection from an offline slow-hash attack"
# (its documentation), and the hash here is Argon2id. "password1234" scores 1.
MIN_STRENGTH_SCORE = 3

_hasher = PasswordHasher()  # RFC 9106 low-memory profile: Argon2id, t=3, m=64 MiB, p=4
# Verified against when the email is unknown, so a failed sign-in takes as long either way. Made at the first
# sign-in, not on import: a full hash costs about a quarter of a second, which every command would pay.
_unknown_user_hash: str | None = None


def use_fast_hashing_for_tests() -> None:
    """Switch to Argon2's cheapest parameters (still Argon2id) so a test suite can hash thousands of times."""
    global _hasher, _unknown_user_hash
    _hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    _unknown_user_hash = None


def _hash_for_unknown_users() -> str:
    global _unknown_user_hash
    if _unknown_user_hash is None:
        _unknown_user_hash = _hasher.hash("taper-unknown-user-placeholder")
    return _unknown_user_hash


def password_problem(password: str, *, user_inputs: Sequence[str] = ()) -> str | None:
    """Why a new password is refused, or None if it is acceptable. `user_inputs`: the account's own details
    (email address, name), which make a password easier to guess."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters long"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be {MAX_PASSWORD_LENGTH} characters or fewer"
    if password.strip() == "" or len(set(password)) < 4:
        return "Choose a password that is harder to guess"
    # zxcvbn matches whole inputs, so each detail goes in word by word as well ("Kwabena Asante": "kwabena").
    words = {word for text in user_inputs for word in re.split(r"[^\w]+", text.lower()) if len(word) > 2}
    estimate = zxcvbn(password, user_inputs=[*sorted(words), *(text for text in user_inputs if text)])
    if estimate["score"] < MIN_STRENGTH_SCORE:
        warning = estimate["feedback"]["warning"].rstrip(".")
        return "Choose a password that is harder to guess" + (f": {warning[0].lower()}{warning[1:]}" if warning
                                                              else "")
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if the password matches; always spends the same effort, even with no hash."""
    try:
        return _hasher.verify(password_hash or _hash_for_unknown_users(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
