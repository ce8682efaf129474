"""Cohort import pages (issue 18, item 2): upload a practice's extract, map its columns once for the clinic if
Taper does not recognise them, check the preview, confirm, and watch the import run in the background.

An uploaded file is kept only inside a previewed import (taper.services.cohort_import). A file whose columns
are not recognised is not kept at all: the columns page shows its headers (names of columns, no patient's
details) in the form, and asks for the file again with the columns chosen, so no patient data waits in a
session, a cookie or a temporary file."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from taper.domain.organisations import OrganisationKind, Role
from taper.extensions import db
from taper.models.finding import CohortImport
from taper.services import accounts, cohort_import
from taper.services.errors import InvalidInput
from taper.web import background
from taper.web.errors import render_error
from taper.web.fields import save
from taper.web.imports.forms import CarryOnForm, ColumnsForm, ConfirmForm, DiscardForm, UploadForm
from taper.web.paging import page_number
from taper.web.security import roles

blueprint = Blueprint("imports", __name__, url_prefix="/find/imports")

MAX_UPLOAD_BYTES = 32 * 1024 * 1024  # an extract of 100,000 rows is about 15 MB
UPLOADS = ("imports.index", "imports.columns")
REFRESH_SECONDS = 2
WAIT_FOR_SMALL_IMPORTS = timedelta(seconds=2)  # a few thousand rows import in this time

# The import threads this process started, by import, so that a test can wait for them. Nothing is decided from
# it: whether an import runs or has stopped is in the database (cohort_import.claim and stalled), for every
# process of the server.
running: dict[int, list[threading.Thread]] = {}


@blueprint.url_value_preprocessor
def _allow_large_uploads(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """The upload routes accept files up to MAX_UPLOAD_BYTES (the app's limit, for forms, is 1 MB). This runs
    before every before_request function, so before the CSRF check first reads the form."""
    if endpoint in UPLOADS and request.method == "POST":
        request.max_content_length = MAX_UPLOAD_BYTES


@blueprint.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    db.session.rollback()
    return render_error(413, f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB, so nothing was "
                             "imported. Split the practice's search into smaller files and import each one.")


@blueprint.route("/", methods=["GET", "POST"])
@roles(Role.PHARMACIST, Role.ADMIN)
def index() -> Response | str:
    """The clinic's imports, newest first, and the upload form. An admin chooses the pain clinic."""
    form = UploadForm()
    admin = current_user.role is Role.ADMIN
    if admin:
        form.set_clinics(accounts.organisations(OrganisationKind.PAIN_CLINIC))
    else:
        del form.clinic
    clinic = _clinic_shown(form if admin else None)
    if form.validate_on_submit():
        upload = form.file.data
        chosen = form.clinic.data if admin else None
        outcome = _preview(form, chosen, upload.filename or "extract.csv", upload.read())
        if isinstance(outcome, Response):
            return outcome
        if outcome is not None:
            return _columns_page(outcome, chosen)
    imports = cohort_import.imports_of(by=current_user, clinic_id=clinic.id, page=page_number()) if clinic else None
    db.session.commit()
    return render_template("imports/index.html", form=form, clinic=clinic, imports=imports)


@blueprint.route("/columns", methods=["POST"])
@roles(Role.PHARMACIST, Role.ADMIN)
def columns() -> Response | str:
    """Save the columns chosen for a file Taper did not recognise (remembered for the clinic), then preview the
    file chosen again with them."""
    form = ColumnsForm()
    headers = form.file_headers()
    if not headers:
        flash("Choose the file to import again.", "info")
        return redirect(url_for("imports.index"))
    form.set_headers(headers)
    chosen = form.clinic.data or None
    if form.validate_on_submit():
        try:
            clinic = cohort_import.clinic_for(by=current_user, clinic_ods=chosen)
        except InvalidInput as refusal:
            form.form_errors.extend(refusal.errors.values())
        else:
            mapping = save(form, lambda: cohort_import.save_mapping(by=current_user, clinic_id=clinic.id,
                                                                    columns=form.columns()))
            if mapping is not None:
                upload = form.file.data
                outcome = _preview(form, chosen, upload.filename or "extract.csv", upload.read())
                if isinstance(outcome, Response):
                    return outcome
                if outcome is not None:
                    return _columns_page(outcome, chosen)
    return render_template("imports/columns.html", form=form, missing=[], fields=cohort_import.FIELDS)


@blueprint.route("/<int:import_id>")
@roles(Role.PHARMACIST, Role.ADMIN)
def detail(import_id: int) -> str:
    """A previewed import (its counts, the rows refused and to check by hand, and Confirm), an import running
    (its progress, refreshed), or what an import added."""
    record = cohort_import.get_import(by=current_user, import_id=import_id)
    db.session.commit()
    return _detail_page(record, ConfirmForm(version=record.version), CarryOnForm(version=record.version))


@blueprint.route("/<int:import_id>/discard", methods=["POST"])
@roles(Role.PHARMACIST, Role.ADMIN)
def discard(import_id: int) -> Response | str:
    """Leave a previewed import without importing it: it is deleted with its file (patients' details nobody
    chose to import are not kept)."""
    cohort_import.get_import(by=current_user, import_id=import_id)  # another clinic's: not found, audited
    form = DiscardForm()

    def leave() -> bool:
        cohort_import.discard(by=current_user, import_id=import_id, expected_version=form.version.data or 0)
        return True

    if form.validate_on_submit() and save(form, leave):
        flash("Nothing was imported: the file has been deleted.", "success")
        return redirect(url_for("imports.index"))
    record = cohort_import.get_import(by=current_user, import_id=import_id)
    db.session.commit()
    return _detail_page(record, ConfirmForm(version=record.version), CarryOnForm(version=record.version),
                        discard_form=form)


@blueprint.route("/<int:import_id>/confirm", methods=["POST"])
@roles(Role.PHARMACIST, Role.ADMIN)
def confirm(import_id: int) -> Response | str:
    record = cohort_import.get_import(by=current_user, import_id=import_id)
    form = ConfirmForm()
    if form.validate_on_submit() and save(form, lambda: cohort_import.confirm(
            by=current_user, import_id=import_id, expected_version=form.version.data or 0)):
        finished = _start(import_id)
        flash("Import finished." if finished else "Import confirmed: the patients are being added.", "success")
        return redirect(url_for("imports.detail", import_id=import_id))
    record = cohort_import.get_import(by=current_user, import_id=import_id)
    db.session.commit()
    return _detail_page(record, form, CarryOnForm(version=record.version))


@blueprint.route("/<int:import_id>/carry-on", methods=["POST"])
@roles(Role.PHARMACIST, Role.ADMIN)
def carry_on(import_id: int) -> Response | str:
    """Start an import again where it stopped (its batches already written are passed over). Only the request
    whose claim succeeds starts a run: two at once (two people, two server processes) start one."""
    record = cohort_import.get_import(by=current_user, import_id=import_id)
    form = CarryOnForm()
    if form.validate_on_submit():
        if not cohort_import.stalled(record):
            form.form_errors.append("This import is not stopped: it is still running, or it has finished.")
        elif form.version.data != record.version:
            form.form_errors.append("This import changed after you opened the page: reload it and try again.")
        elif save(form, lambda: record) is not None:  # claims the form's key: a double click starts one run
            finished = _start(import_id)
            if finished is None:
                form.form_errors.append("This import is not stopped: it is still running, or it has finished.")
            else:
                flash("Import finished." if finished else "The import is carrying on from where it stopped.",
                      "success")
                return redirect(url_for("imports.detail", import_id=import_id))
    record = cohort_import.get_import(by=current_user, import_id=import_id)
    db.session.commit()
    return _detail_page(record, ConfirmForm(version=record.version), form)


def _clinic_shown(form: UploadForm | None) -> Any:
    """The clinic whose imports the page lists: a pharmacist's own; for an admin the one chosen (in the address
    or the upload form), or the only one. None when an admin has several and chose none."""
    if form is None:
        return cohort_import.clinic_for(by=current_user, clinic_ods=None)
    if not form.clinic.data and request.args.get("clinic"):
        form.clinic.data = request.args.get("clinic")
    try:
        return cohort_import.clinic_for(by=current_user, clinic_ods=form.clinic.data or None)
    except InvalidInput:
        return None


def _preview(form: Any, clinic_ods: str | None, file_name: str,
             content: bytes) -> Response | cohort_import.ColumnsNeeded | None:
    """Preview the file and go to it; the columns still needed when Taper does not recognise them; None, with
    the refusal on the form, for a file it cannot read."""
    try:
        clinic = cohort_import.clinic_for(by=current_user, clinic_ods=clinic_ods)
        record = cohort_import.preview(by=current_user, clinic_id=clinic.id, file_name=file_name, content=content)
    except cohort_import.ColumnsNeeded as needed:
        db.session.rollback()
        return needed
    except InvalidInput as refusal:
        db.session.rollback()
        for name, message in refusal.errors.items():
            field = getattr(form, name, None)
            if field is None:
                form.form_errors.append(message)
            else:
                field.errors = [*field.errors, message]
        return None
    db.session.commit()
    return redirect(url_for("imports.detail", import_id=record.id))


def _columns_page(needed: cohort_import.ColumnsNeeded, clinic_ods: str | None) -> str:
    form = ColumnsForm(formdata=None)
    form.clinic.data = clinic_ods or ""
    form.set_headers(needed.headers, needed.columns)
    labels = {name: label for name, label, _ in cohort_import.FIELDS}
    return render_template("imports/columns.html", form=form, fields=cohort_import.FIELDS,
                           missing=[labels[name] for name in needed.missing])


def _detail_page(record: CohortImport, confirm_form: ConfirmForm, carry_on_form: CarryOnForm,
                 discard_form: DiscardForm | None = None) -> str:
    stalled = cohort_import.stalled(record)
    return render_template("imports/detail.html", record=record, confirm_form=confirm_form,
                           carry_on_form=carry_on_form,
                           discard_form=discard_form or DiscardForm(version=record.version),
                           stalled=stalled, find_url=_find_url(), result_counts=cohort_import.RESULT_COUNTS,
                           refresh=REFRESH_SECONDS if record.status == "importing" and not stalled else None)


def _find_url() -> str:
    """The find worklist (its own blueprint; its address while that page is not there yet)."""
    try:
        return url_for("find.index")
    except BuildError:
        return "/find/"


def _start(import_id: int) -> bool | None:
    """Claim the import and run it in the background; wait a moment for it, so that a small file's page shows
    what it added at once (a large one shows its progress): whether it finished. None when another request or
    process holds the import (its run reported progress within the last minute): no second run starts."""
    claimed = cohort_import.claim(import_id=import_id)
    db.session.commit()
    if not claimed:
        return None
    thread = background.start(lambda: _run(import_id), name=f"cohort-import-{import_id}")
    running.setdefault(import_id, []).append(thread)
    thread.join(timeout=WAIT_FOR_SMALL_IMPORTS.total_seconds())
    return not thread.is_alive()


def _run(import_id: int) -> None:
    """The import, committed batch by batch; on an unexpected error it is marked failed (the thread logs it)."""
    try:
        cohort_import.run(import_id=import_id, after_batch=db.session.commit)
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        cohort_import.mark_failed(import_id=import_id, error=f"The import stopped on an unexpected error "
                                                             f"({type(error).__name__}). Nothing more was added: "
                                                             "upload the file again to import the rest.")
        db.session.commit()
        raise


