"""Password hashing (Argon2id, OWASP ASVS 5.0 11.4.2) and the password policy (ASVS 6.2.1: length, no
composition rules)."""

from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128

_hasher = PasswordHasher()  # RFC 9106 low-memory profile: Argon2id, t=3, m=64 MiB, p=4
# Verified against when the email is unknown, so a failed sign-in takes as long either way.
_UNKNOWN_USER_HASH = _hasher.hash("taper-unknown-user-placeholder")


def use_fast_hashing_for_tests() -> None:
    """Switch to Argon2's cheapest parameters (still Argon2id) so a test suite can hash thousands of times."""
    global _hasher, _UNKNOWN_USER_HASH
    _hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    _UNKNOWN_USER_HASH = _hasher.hash("taper-unknown-user-placeholder")


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None if it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters long"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be {MAX_PASSWORD_LENGTH} characters or fewer"
    if password.strip() == "" or len(set(password)) < 4:
        return "Choose a password that is harder to guess"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if the password matches; always spends the same effort, even with no hash."""
    try:
        return _hasher.verify(password_hash or _UNKNOWN_USER_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
