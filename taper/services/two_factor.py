"""Two-factor sign-in (OWASP ASVS level 2): time-based one-time codes from an authenticator app (RFC 6238, pyotp)
and single-use recovery codes for when the app is lost.

A code is accepted for its own 30-second step or the one either side (clock drift), and never twice: the last
accepted step is stored and a code from it or an earlier step is refused. Recovery codes are shown once, at
enrolment, and stored only as salted hashes. Every wrong code counts towards the lockout (taper.services.lockout).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from enum import Enum

import pyotp
from sqlalchemy import delete, or_, select, update

from taper import clock
from taper.extensions import db
from taper.models import RecoveryCode, User
from taper.services import audit, lockout

ISSUER = "Taper"
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
# 16 characters from 31 that cannot be mistaken for one another (no 0/o, 1/l/i): about 79 bits each.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 16
_SIX_DIGITS = re.compile(r"\d{6}")


class SecondFactor(Enum):
    """How a person proved the second factor."""

    AUTHENTICATOR = "authenticator"
    RECOVERY_CODE = "recovery_code"


def new_secret() -> str:
    """A new TOTP secret (base32, 160 bits), held in the session until the first code confirms it."""
    return pyotp.random_base32()


def provisioning_uri(*, secret: str, email: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def enrol(*, user: User, secret: str, code: str) -> list[str] | None:
    """Confirm enrolment with a first code from the app: store the secret and ten new recovery codes and return
    the codes (to show once). None if the code is wrong (audited and counted towards the lockout). Raises
    SignInLocked (audited) while the account is locked out."""
    lockout.refuse_while_locked(user.email, user)
    step = _matching_step(secret, _normalise(code))
    if step is None:
        _refuse(user, "two_factor_enrolment_failure")
        return None
    _store(user, totp_secret=secret, totp_last_step=step)
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(code)) for code in codes)
    db.session.flush()
    audit.record(action="two_factor_enrolled", by=user, entity_type="user", entity_id=user.id)
    return [_readable(code) for code in codes]


def forget(user: User) -> None:
    """Take away the account's authenticator app and recovery codes (taper.services.accounts.reset_two_factor)."""
    _store(user, totp_secret=None, totp_last_step=None)
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def verify(*, user: User, code: str) -> SecondFactor | None:
    """How `code` proves the second factor: a current code from the app not used before, or an unused recovery
    code (then used up). None if neither (audited and counted towards the lockout). Raises SignInLocked (audited)
    while the account is locked out, whatever the code."""
    lockout.refuse_while_locked(user.email, user)
    typed = _normalise(code)
    if user.totp_secret is not None and _SIX_DIGITS.fullmatch(typed):
        step = _matching_step(user.totp_secret, typed)
        if step is not None and _claim_step(user, step):
            return SecondFactor.AUTHENTICATOR
    elif len(typed) == _RECOVERY_LENGTH and _use_recovery_code(user, typed):
        audit.record(action="recovery_code_used", by=user, entity_type="user", entity_id=user.id,
                     changes={"recovery_codes_left": recovery_codes_left(user)})
        return SecondFactor.RECOVERY_CODE
    _refuse(user, "two_factor_failure")
    return None


def recovery_codes_left(user: User) -> int:
    return len(db.session.scalars(select(RecoveryCode.id).where(RecoveryCode.user_id == user.id,
                                                                RecoveryCode.used_at.is_(None))).all())


def _matching_step(secret: str, code: str) -> int | None:
    """The time step, of now's and the one either side, whose code this is."""
    if not _SIX_DIGITS.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    now_step = int(clock.now().timestamp()) // STEP_SECONDS
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _claim_step(user: User, step: int) -> bool:
    """Record `step` as the last one used, unless it (or a later one) was used already. One conditional UPDATE,
    so two requests with the same code cannot both succeed."""
    claimed = db.session.execute(
        update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


def _use_recovery_code(user: User, typed: str) -> bool:
    unused = db.session.execute(select(RecoveryCode.id, RecoveryCode.code_hash).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all()
    for code_id, code_hash in unused:
        if _matches(code_hash, typed):
            used = db.session.execute(
                update(RecoveryCode).where(RecoveryCode.id == code_id, RecoveryCode.used_at.is_(None))
                .values(used_at=clock.now()).execution_options(synchronize_session=False))
            return bool(used.rowcount)  # type: ignore[attr-defined]
    return False


def _store(user: User, **values: object) -> None:
    """Two-factor columns, written without the account's version check (like the sign-in time): not an edit
    the optimistic lock guards, and a sign-in must not fail because an admin saved the account meanwhile."""
    db.session.execute(update(User).where(User.id == user.id).values(**values)
                       .execution_options(synchronize_session=False))
    db.session.expire(user, list(values))


def _refuse(user: User, action: str) -> None:
    audit.record(action=action, by=None, entity_type="user", entity_id=user.id, actor_label=user.email)
    lockout.record_failure(user.email)


def _new_recovery_code() -> str:
    return "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))


def _readable(code: str) -> str:
    """abcd-efgh-jkmn-pqrs: four groups, easier to copy down."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def _normalise(typed: str) -> str:
    """What was typed without spaces or hyphens, in lower case: "abcd-EFGH jkmn" and "123 456" are accepted."""
    return re.sub(r"[\s-]+", "", typed).lower()


def _hash(code: str) -> str:
    salt = secrets.token_hex(16)
    return f"{salt}${hashlib.sha256((salt + code).encode()).hexdigest()}"


def _matches(code_hash: str, code: str) -> bool:
    salt, _, digest = code_hash.partition("$")
    return hmac.compare_digest(digest, hashlib.sha256((salt + code).encode()).hexdigest())
