"""Finding the patients who need help (issue 18): cohorts imported from GP practices' searches, the medication
lines those records held, and the invitations a clinic sends in the practice's name.

- A `CohortMapping` is a clinic's column names for the fields an extract must give, kept once and reused.
- A `CohortImport` is one uploaded file: previewed, then confirmed and imported (with progress), or left.
- A `PracticeRecordLine` is one medication row of an extract as the practice recorded it, with what the
  medication reader made of it. `row_key` (unique per clinic) makes a re-import add nothing twice.
- An `Invitation` is one patient invited by letter and/or text, with their answer and the first consultation
  booked from it; an `InvitationBatch` is the letters of one sending, rendered together with progress.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from taper import clock
from taper.models.base import Base, UtcDateTime
from taper.models.patient import Patient
from taper.models.user import User

IMPORT_STATUSES = ("previewed", "importing", "imported", "failed")
BATCH_STATUSES = ("rendering", "ready", "failed")
ANSWERS = ("accepted", "declined")


class CohortMapping(Base):
    """A clinic's extract columns: {field: header as its practices' searches write it} (taper.domain.cohort_extract
    names the fields). One per clinic; saving it again replaces it."""

    __tablename__ = "cohort_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), unique=True)
    columns: Mapped[dict[str, str]] = mapped_column(JSON)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now, onupdate=clock.now)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class CohortImport(Base):
    """One uploaded extract. `content` holds the file only until it is imported (then emptied: the rows it made
    are the record); `preview` holds the counts and the rows to show (no more than the preview page lists)."""

    __tablename__ = "cohort_imports"
    __table_args__ = (
        CheckConstraint("status IN ('previewed', 'importing', 'imported', 'failed')", name="status"),
        CheckConstraint("rows_done >= 0 AND rows_done <= rows_total", name="rows_done"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # empty: the command line
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    columns: Mapped[dict[str, str]] = mapped_column(JSON)  # the mapping this file was read with
    status: Mapped[str] = mapped_column(String(20), default="previewed")
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_done: Mapped[int] = mapped_column(default=0)
    preview: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # counts of what the import added
    error: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # When the run last claimed the import or finished a batch: a run is taken over (carry on) only by a
    # conditional update when this is old, so two threads or workers never run one import at once.
    progress_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(default=1)

    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])

    __mapper_args__ = {"version_id_col": version}


class PracticeRecordLine(Base):
    """A medication line from a practice's record, as imported, with the reader's result (product and regimen
    line, or the problems that need a hand check, or the kind of non-opioid). Never changed."""

    __tablename__ = "practice_record_lines"
    __table_args__ = (Index("uq_practice_record_lines_clinic_row", "clinic_id", "row_key", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("cohort_imports.id"), index=True)
    row_key: Mapped[str] = mapped_column(String(64))  # sha256 of the row's normalised fields
    drug: Mapped[str] = mapped_column(Text)
    dosage: Mapped[str] = mapped_column(Text)
    quantity: Mapped[str] = mapped_column(String(100), default="")
    last_issue_date: Mapped[date]
    first_issue_date: Mapped[date | None]
    product: Mapped[str | None] = mapped_column(String(60))
    line: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    problems: Mapped[list[str]] = mapped_column(JSON)
    non_opioid: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)


class InvitationBatch(Base):
    """The letters of one sending, rendered as one PDF to print (with progress while rendering)."""

    __tablename__ = "invitation_batches"
    __table_args__ = (
        CheckConstraint("status IN ('rendering', 'ready', 'failed')", name="status"),
        CheckConstraint("letters_done >= 0 AND letters_done <= letters_total", name="letters_done"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
    status: Mapped[str] = mapped_column(String(20), default="rendering")
    letters_total: Mapped[int] = mapped_column(default=0)
    letters_done: Mapped[int] = mapped_column(default=0)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    error: Mapped[str] = mapped_column(Text, default="", server_default="")
    # As CohortImport.progress_at: when rendering was last claimed or a letter done.
    progress_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The invitation letter template's version the batch was rendered with (letters/invitation).
    template_version: Mapped[str] = mapped_column(String(20), default="", server_default="")
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class Invitation(Base):
    """A patient invited to the clinic in their GP practice's name, by letter and/or text; their answer, and the
    first consultation booked from it. `needs_contact_details`: no address for a letter and no mobile for a text."""

    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint("answer IS NULL OR answer IN ('accepted', 'declined')", name="answer"),
        CheckConstraint("(answer IS NULL) = (answered_at IS NULL)", name="answered"),
        CheckConstraint("by_letter OR by_text OR needs_contact_details", name="some_way"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    gp_practice_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("invitation_batches.id"), index=True)
    by_letter: Mapped[bool] = mapped_column(default=False)
    by_text: Mapped[bool] = mapped_column(default=False)
    needs_contact_details: Mapped[bool] = mapped_column(default=False)
    large_print: Mapped[bool] = mapped_column(default=False)  # the letter as sent (from the patient's needs)
    easy_read: Mapped[bool] = mapped_column(default=False)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    sent_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=clock.now)
    answer: Mapped[str | None] = mapped_column(String(20))
    answer_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    version: Mapped[int] = mapped_column(default=1)

    patient: Mapped[Patient] = relationship()

    __mapper_args__ = {"version_id_col": version}
