"""What makes a form's change happen once (issue 15, item 4) and what keeps a form's typed fields through a
session that ended before it was saved (item 5). Both are short-lived: rows are purged after a few hours."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from taper import clock
from taper.models.base import Base, UtcDateTime


class SubmissionKey(Base):
    """A form's one-time key, written in the same transaction as the change it guards: a second submission of
    the key finds it (or, at the same moment, breaks the unique constraint) and changes nothing. The key is
    unique per user, so one person's key can never block another's change."""

    __tablename__ = "submission_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(500))  # the address the form was posted to
    fingerprint: Mapped[str | None] = mapped_column(String(64))  # keyed hash of the fields, to spot a resend
    result_url: Mapped[str | None] = mapped_column(String(500))  # where the change was shown
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now, index=True)


class KeptWork(Base):
    """The fields of a form posted after its session ended, kept for the same user to check and save after
    signing in again. Never a password: those fields are dropped before this is written."""

    __tablename__ = "kept_work"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    form_id: Mapped[str] = mapped_column(String(200))  # the form class that was filled in
    page_path: Mapped[str] = mapped_column(String(500))  # the page that showed the form
    fields: Mapped[str] = mapped_column(Text)  # JSON: [[name, value], ...] in the order posted
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now, index=True)
