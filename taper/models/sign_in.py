"""What sign-in protection keeps between requests, in the database so that every worker sees the same: failed
attempts per email address typed, and the hashed recovery codes of two-factor sign-in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from taper import clock
from taper.models.base import Base, UtcDateTime


class FailedSignIns(Base):
    """Consecutive failed sign-ins (wrong password or wrong code) to one email address as typed and normalised.

    Kept for any address, an account's or not, so that a lockout says nothing about whether an account exists.
    A successful sign-in deletes the row; rows untouched for a day are deleted as others are written.
    """

    __tablename__ = "failed_sign_ins"

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_failure_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now, index=True)

    def __repr__(self) -> str:
        return f"<FailedSignIns {self.email} {self.failures}>"


class RecoveryCode(Base):
    """One single-use recovery code for two-factor sign-in, stored only as a salted SHA-256 hash (each code is
    random, 80 bits: a slow hash adds nothing but cost). `used_at` is set once, when it is used."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    def __repr__(self) -> str:
        return f"<RecoveryCode {self.id} of user {self.user_id}>"
