from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from taper import clock
from taper.domain.organisations import Role
from taper.domain.registration import Registration, read_registration
from taper.models.base import Base, UtcDateTime
from taper.models.organisation import Organisation


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(Base):
    """A person who signs in. One role each; everyone but an admin belongs to an organisation.

    The session cookie carries `session_token`, not the id: rotating the token (at logout, password
    change or deactivation) ends every session the user has, wherever the cookie was copied.
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role = 'admin' OR organisation_id IS NOT NULL", name="organisation_unless_admin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    # Printed in a letter's sender block (taper.domain.registration): "Specialist pain pharmacist, independent
    # prescriber" and a GPhC number. Empty for people who send no letters.
    job_title: Mapped[str] = mapped_column(String(120), default="", server_default="")
    registration_body: Mapped[str] = mapped_column(String(10), default="", server_default="")
    registration_number: Mapped[str] = mapped_column(String(12), default="", server_default="")
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="role", native_enum=False, create_constraint=True, length=30,
             values_callable=lambda roles: [role.value for role in roles])
    )
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Two-factor sign-in (taper.services.two_factor): the TOTP secret (base32) once enrolment is confirmed, and
    # the last 30-second time step whose code was accepted, so that no code is accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger())
    version: Mapped[int] = mapped_column(default=1)

    organisation: Mapped[Organisation | None] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    # The attributes Flask-Login asks of a user object.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def registration(self) -> Registration | None:
        """The stored registration, as read when it was saved (taper.services.accounts checks it)."""
        return read_registration(self.registration_body, self.registration_number)

    @property
    def has_two_factor(self) -> bool:
        return self.totp_secret is not None

    def get_id(self) -> str:
        return self.session_token

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
