"""Forms of the cohort import pages: the upload, the columns of a file Taper does not recognise, and the
confirmation (once only) of a previewed import."""

from __future__ import annotations

import json
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from taper.services.cohort_import import FIELDS, MAX_COLUMNS
from taper.web.once import OnceForm

NOT_IN_FILE = ""


class UploadForm(FlaskForm):
    """An extract to preview. Not a once-only form: its fields other than the file are the same for every upload,
    so a second, different file sent to the same page would look like a repeat."""

    clinic = SelectField("Pain clinic", validators=[Optional()])
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file to import")],
                     description="A CSV file exported from a GP practice's search (EMIS Web or SystmOne), "
                                 "up to 32 MB.")

    def set_clinics(self, clinics: list[Any]) -> None:
        """For an admin: the pain clinics to choose from (by ODS code). A pharmacist imports for their own."""
        self.clinic.choices = [SelectChoice("", "Choose a pain clinic")] + [
            SelectChoice(clinic.ods_code, f"{clinic.name} ({clinic.ods_code})") for clinic in clinics]


class _ColumnsBase(FlaskForm):
    """Which of the file's columns holds each field. The file's headers travel in a hidden field (they are names
    of columns, not patients' details), and the file is chosen again with the columns: Taper keeps an uploaded
    file only as a previewed import, and a file whose columns are not known cannot be previewed yet."""

    clinic = HiddenField()
    headers = HiddenField()
    file = FileField("Choose the same file again", validators=[FileRequired("Choose the file again")],
                     description="Taper does not keep a file it cannot read yet: choose it again to see "
                                 "the preview.")

    def file_headers(self) -> list[str]:
        try:
            headers = json.loads(self.headers.data or "[]")
        except ValueError:
            return []
        if not isinstance(headers, list):
            return []
        return [str(header) for header in headers if str(header).strip()][:MAX_COLUMNS]

    def set_headers(self, headers: list[str], recognised: dict[str, str] | None = None) -> None:
        """The file's headers as each select's choices; pre-filled with what was recognised (on a first view)."""
        self.headers.data = json.dumps(headers)
        choices = [SelectChoice(NOT_IN_FILE, "Not in this file")] + [SelectChoice(h, h) for h in headers]
        for field in self.mapping_fields():
            field.choices = choices
            if recognised and field.data in (None, NOT_IN_FILE):
                field.data = recognised.get(field.name, NOT_IN_FILE)

    def mapping_fields(self) -> list[SelectField]:
        return [getattr(self, name) for name, _label, _required in FIELDS]

    def columns(self) -> dict[str, str]:
        """{field: header} for every field given a column."""
        return {field.name: field.data for field in self.mapping_fields() if field.data}


def _columns_form() -> type[_ColumnsBase]:
    attributes: dict[str, Any] = {}
    for name, label, required in FIELDS:
        validators = [InputRequired(f"Choose the column that holds the {label.lower()}")] if required else []
        attributes[name] = SelectField(label if required else f"{label} (optional)", validators=validators,
                                       default=NOT_IN_FILE)
    return type("ColumnsForm", (_ColumnsBase,), attributes)


ColumnsForm = _columns_form()


class ConfirmForm(OnceForm):
    """Confirm a previewed import; once only, at the version previewed."""

    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])


class CarryOnForm(OnceForm):
    """Carry on an import that stopped halfway (the server restarted): it resumes where its rows reached."""

    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])


class DiscardForm(OnceForm):
    """Leave a previewed import without importing it (the import and its file are deleted), at the version seen."""

    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])
