"""Importing a cohort: a CSV exported from a GP practice's search, previewed, confirmed, then imported in batches
(issue 18 item 2; docs/cohort-import.md).

Each row is checked (taper.domain.cohort_extract) and read with the one medication reader; a refused row refuses
every row of its patient, so nothing of a patient half-imports. Each row is stored once per clinic (its key), so
a re-import adds nothing twice. Patients with readable opioid lines and nothing to check by hand get a regimen
"from practice record, <date>" with its OME as services/regimens.py counts it. Everything is written in bulk
(Core inserts, one look-up per batch for patients, practices and rows already imported): 100,000 rows import in
seconds. The file itself is kept only until the import finishes.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Table, any_, bindparam, delete, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from taper import clock
from taper.domain.cohort_extract import FIELDS as EXTRACT_FIELDS
from taper.domain.cohort_extract import (
    ExtractRow,
    RowRefused,
    extract_nhs_number,
    header_key,
    missing,
    read_row,
    recognise,
)
from taper.domain.formulary import load_formulary
from taper.domain.makeable import plain
from taper.domain.medication_reader import Reading, add_patches, read_medication
from taper.domain.ome import get_factor_set
from taper.domain.organisations import InvalidOdsCode, OrganisationKind, Role, normalise_ods_code
from taper.domain.patients import InvalidContact, check_contact
from taper.domain.regimen import RegimenError, parse_regimen, regimen_to_json
from taper.domain.starting_checks import refusals as starting_refusals
from taper.extensions import db
from taper.models import AuditEvent, Organisation, Patient, RecordedRegimen, User
from taper.models.finding import CohortImport, CohortMapping, PracticeRecordLine
from taper.services import audit, regimens
from taper.services.common import check_version, flush_or_stale
from taper.services.errors import InvalidInput, NotFound, PermissionDenied, ServiceError
from taper.services.paging import Page, entities, page_of

FIELDS = EXTRACT_FIELDS  # (field, label, required), in the mapping form's order
BATCH_ROWS = 2_000  # rows written between commits (a patient's rows always in one batch)
LISTED = 200  # refused rows and hand checks a preview keeps to show
LOOKUP_CHUNK = 5_000  # values in one IN (...) look-up (SQLite allows 32,766 bound values)
PER_PAGE = 25
MAX_COLUMNS = 200  # a header with more columns is refused before anything is built from it
STALE_AFTER = timedelta(seconds=60)  # a run that has not reported progress this long has stopped
OTHER_CLINIC = "this NHS number cannot be imported into this clinic: ask the Taper administrator"
# What a finished import counts (docs/cohort-import.md, "Preview and result"). Of the patients with a new row and
# an opioid row in the file, each is counted once under regimens_recorded, patients_hand_check,
# regimens_checked_since, regimens_older or regimens_unchanged.
RESULT_COUNTS = ("patients_added", "patients_known", "lines_added", "lines_already_imported", "rows_refused",
                 "regimens_recorded", "patients_hand_check", "regimens_checked_since", "regimens_older",
                 "regimens_unchanged", "practices_added", "contact_details_added")


class ColumnsNeeded(ServiceError):
    """The file's columns do not give every required field: map them (the web page) or rename the headers."""

    def __init__(self, *, headers: list[str], columns: dict[str, str], missing: list[str]):
        labels = {name: label for name, label, _ in FIELDS}
        super().__init__("no column for " + ", ".join(labels[name] for name in missing))
        self.headers = headers
        self.columns = columns
        self.missing = missing


# --- the clinic and its mapping ----------------------------------------------------------------------------

def clinic_for(*, by: User | None, clinic_ods: str | None) -> Organisation:
    """The pain clinic an import goes into: a pharmacist's own (another ODS code refused); an admin or the
    command line (by=None) names it, unless there is exactly one pain clinic."""
    if by is not None and by.role is Role.PHARMACIST:
        own = db.session.get(Organisation, by.organisation_id)
        if own is None:
            raise PermissionDenied("only a clinic pharmacist may import a cohort")
        if clinic_ods and clinic_ods.strip().upper() != own.ods_code:
            raise InvalidInput({"clinic": "You can import patients only into your own clinic"})
        return own
    if by is not None and by.role is not Role.ADMIN:
        raise PermissionDenied("only a clinic pharmacist or an administrator may import a cohort")
    clinics = select(Organisation).where(Organisation.kind == OrganisationKind.PAIN_CLINIC)
    if clinic_ods:
        try:
            code = normalise_ods_code(clinic_ods)
        except InvalidOdsCode as problem:
            raise InvalidInput({"clinic": str(problem)}) from None
        clinic = db.session.scalar(clinics.where(Organisation.ods_code == code))
        if clinic is None:
            raise InvalidInput({"clinic": f"No pain clinic has the ODS code {code}"})
        return clinic
    found = list(db.session.scalars(clinics.limit(2)))
    if len(found) != 1:
        raise InvalidInput({"clinic": "Name the pain clinic the patients join (its ODS code)" if found
                            else "There is no pain clinic to import patients into"})
    return found[0]


def mapping_for(*, clinic_id: int) -> dict[str, str] | None:
    """The clinic's remembered columns {field: header}, or None."""
    return db.session.scalar(select(CohortMapping.columns).where(CohortMapping.clinic_id == clinic_id))


def save_mapping(*, by: User, clinic_id: int, columns: dict[str, str]) -> CohortMapping:
    """Remember the clinic's extract columns: every required field mapped to a header, no header used twice."""
    clinic = _clinic(by, clinic_id)
    names = {name for name, _, _ in FIELDS}
    chosen = {name: header.strip() for name, header in columns.items() if name in names and header.strip()}
    errors = {name: f"Choose the column for {label}" for name, label, required in FIELDS
              if required and name not in chosen}
    seen: dict[str, str] = {}
    for name, header in chosen.items():
        if header_key(header) in seen:
            errors[name] = f"The column {header!r} is already chosen for another field"
        seen.setdefault(header_key(header), name)
    if errors:
        raise InvalidInput(errors)
    mapping = db.session.scalar(select(CohortMapping).where(CohortMapping.clinic_id == clinic.id))
    if mapping is None:
        mapping = CohortMapping(clinic_id=clinic.id, columns=chosen, updated_by_id=by.id)
        db.session.add(mapping)
    else:
        mapping.columns, mapping.updated_by_id = chosen, by.id
    db.session.flush()
    audit.record(action="update", by=by, entity_type="cohort_mapping", entity_id=mapping.id,
                 changes={"clinic": clinic.ods_code, "columns": chosen})
    return mapping


# --- preview, confirm, run -----------------------------------------------------------------------------------

def preview(*, by: User | None, clinic_id: int, file_name: str, content: bytes) -> CohortImport:
    """Read the whole file and say what importing it would do, storing it as a previewed import (nothing else
    is written). ColumnsNeeded when a required field has no column; InvalidInput({"file": ...}) for a file that
    is not CSV text or has no rows."""
    clinic = _clinic(by, clinic_id)
    headers, table = _table(content)
    columns = recognise(headers, mapping_for(clinic_id=clinic.id))
    needed = missing(columns)
    if needed:
        raise ColumnsNeeded(headers=headers, columns=columns, missing=needed)
    with _collector_paused():
        extract = _Extract(headers, table, columns)
        outcome = _Outcome()
        readings, checks = _Readings(), _RegimenChecks(clinic)
        for batch in extract.batches():
            _plan(clinic, batch, readings, checks, outcome)
        shown = outcome.preview(extract.rows_total)
    record = CohortImport(clinic_id=clinic.id, uploaded_by_id=by.id if by else None, file_name=file_name[:255],
                          file_sha256=hashlib.sha256(content).hexdigest(), content=content, columns=columns,
                          status="previewed", rows_total=extract.rows_total, rows_done=0,
                          preview=shown)
    db.session.add(record)
    db.session.flush()
    audit.record(action="preview", by=by, entity_type="cohort_import", entity_id=record.id,
                 changes={"clinic": clinic.ods_code, "file_name": record.file_name,
                          **{name: value for name, value in record.preview.items()
                             if isinstance(value, int)}})
    for patient_id in outcome.denied:
        audit.record(action="access_denied", by=by, entity_type="patient", entity_id=patient_id,
                     patient_id=patient_id, changes={"cohort_import": record.id, "clinic": clinic.ods_code})
    return record


def discard(*, by: User, import_id: int, expected_version: int) -> None:
    """Leave a previewed import without importing it: the import and its file are deleted (nothing refers to a
    previewed import). Anything but a preview is refused."""
    record = _scoped(by, import_id)
    check_version(record.version, expected_version)
    _discard(by, record)


def discard_stale_previews(*, older_than: timedelta) -> int:
    """Delete every previewed import uploaded more than `older_than` ago and never confirmed (its file holds
    patients' details that nobody chose to import); how many. For a scheduled job or the command line."""
    stale = list(db.session.scalars(select(CohortImport).options(defer(CohortImport.content)).where(
        CohortImport.status == "previewed", CohortImport.created_at < clock.now() - older_than)))
    for record in stale:
        _discard(None, record)
    return len(stale)


def _discard(by: User | None, record: CohortImport) -> None:
    if record.status != "previewed":
        raise InvalidInput({"import": "Only an import that has not been confirmed can be left"})
    changes = {"file_name": record.file_name, "rows": record.rows_total, "clinic_id": record.clinic_id}
    record_id = record.id
    deleted = db.session.execute(delete(CohortImport).where(CohortImport.id == record_id,
                                                            CohortImport.status == "previewed"))
    if deleted.rowcount != 1:  # type: ignore[attr-defined]  # confirmed meanwhile
        raise InvalidInput({"import": "Only an import that has not been confirmed can be left"})
    db.session.expunge(record)
    audit.record(action="discard", by=by, entity_type="cohort_import", entity_id=record_id, changes=changes)


def confirm(*, by: User | None, import_id: int, expected_version: int) -> CohortImport:
    """The pharmacist has seen the preview and imports it: previewed -> importing. Anything else is refused (a
    second confirm never runs the import twice)."""
    record = _scoped(by, import_id)
    check_version(record.version, expected_version)
    if record.status != "previewed":
        raise InvalidInput({"import": "This import has already been confirmed"})
    record.status, record.confirmed_by_id, record.confirmed_at = "importing", by.id if by else None, clock.now()
    record.progress_at = None  # not claimed yet: see claim
    flush_or_stale()
    audit.record(action="confirm", by=by, entity_type="cohort_import", entity_id=record.id,
                 changes={"rows": record.rows_total})
    return record


def claim(*, import_id: int, stale_after: timedelta = STALE_AFTER) -> bool:
    """Claim a confirmed import for one run (the edge commits, then runs it only if this says True): one
    conditional UPDATE, so of two requests or processes at the same moment exactly one gets it. An import is
    free to claim when it is importing and no run has reported progress for `stale_after` (never claimed yet,
    or its run stopped: a restart). The run then reports progress after every batch (`progress_at`)."""
    imports = _table_of(CohortImport)
    now = clock.now()
    claimed = db.session.execute(
        imports.update().where(imports.c.id == import_id, imports.c.status == "importing",
                               or_(imports.c.progress_at.is_(None), imports.c.progress_at < now - stale_after))
        .values(progress_at=now, version=imports.c.version + 1))
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


def stalled(record: CohortImport, *, stale_after: timedelta = STALE_AFTER) -> bool:
    """Whether an import is importing with no run reporting progress for `stale_after` (a restart stopped it;
    `claim` would give it to a new run)."""
    if record.status != "importing":
        return False
    last = record.progress_at or record.confirmed_at or record.created_at
    return clock.now() - last > stale_after


def run(*, import_id: int, after_batch: Callable[[], None]) -> CohortImport:
    """Perform a confirmed import in batches, calling `after_batch()` after each (the edge commits there); the
    caller has claimed it (`claim`). Safe to run again after a stop halfway: batches already done (rows_done)
    are passed over, and any row already stored is skipped by its key. Progress is reported (`progress_at`)
    after each batch. At the end: "imported", the counts in `result`, the file emptied."""
    # The import's own row is read and written with Core statements: the ORM would load it again, file and all,
    # after every commit.
    imports = _table_of(CohortImport)
    state = db.session.execute(select(imports.c.status, imports.c.clinic_id, imports.c.confirmed_by_id,
                                      imports.c.columns, imports.c.rows_done, imports.c.result)
                               .where(imports.c.id == import_id)).one_or_none()
    if state is None:
        raise NotFound("no such import")
    if state.status == "imported":
        return _reloaded(import_id)
    if state.status != "importing":
        raise InvalidInput({"import": "Only a confirmed import can run"})
    clinic = db.session.get(Organisation, state.clinic_id)
    assert clinic is not None
    by = db.session.get(User, state.confirmed_by_id) if state.confirmed_by_id is not None else None
    counts = {name: 0 for name in RESULT_COUNTS} | dict(state.result or {})
    mine = imports.update().where(imports.c.id == import_id)
    with _collector_paused():
        headers, table = _table(db.session.scalar(select(imports.c.content).where(imports.c.id == import_id)) or b"")
        extract = _Extract(headers, table, state.columns)
        readings, checks = _Readings(), _RegimenChecks(clinic)
        done = 0
        for batch in extract.batches():
            size = sum(len(rows) for _, rows in batch)
            if done + size <= state.rows_done:  # written before a stop halfway
                done += size
                continue
            outcome = _Outcome()
            _plan(clinic, batch, readings, checks, outcome)
            _write(import_id, clinic, by, outcome, counts, checks)
            done += size
            db.session.execute(mine.values(rows_done=done, result=dict(counts), progress_at=clock.now(),
                                           version=imports.c.version + 1))
            after_batch()
    db.session.execute(mine.values(status="imported", finished_at=clock.now(), content=b"", result=dict(counts),
                                   version=imports.c.version + 1))
    audit.record(action="imported", by=by, entity_type="cohort_import", entity_id=import_id, changes=counts)
    return _reloaded(import_id)


def rows_done(*, import_id: int) -> int:
    """How many rows of the import are done (its progress), read without loading the file."""
    return db.session.scalar(select(CohortImport.rows_done).where(CohortImport.id == import_id)) or 0


def _reloaded(import_id: int) -> CohortImport:
    record = db.session.get(CohortImport, import_id)
    assert record is not None
    db.session.refresh(record)
    return record


def mark_failed(*, import_id: int, error: str) -> CohortImport:
    """Record that an import stopped on an unexpected error (the edge calls this after rolling back); its file
    is emptied (the rows already imported stay; upload the file again for the rest). `error` must name no
    patient: the edges give the exception's type, never its text (a database error quotes the row's values)."""
    record = db.session.get(CohortImport, import_id)
    if record is None:
        raise NotFound("no such import")
    record.status, record.error, record.finished_at = "failed", error[:2000], clock.now()
    record.content = b""
    db.session.flush()
    audit.record(action="fail", by=None, entity_type="cohort_import", entity_id=record.id,
                 changes={"error": record.error, "rows_done": record.rows_done})
    return record


def get_import(*, by: User, import_id: int) -> CohortImport:
    """One import, if this user may see it: a pharmacist their own clinic's, an admin any (NotFound otherwise)."""
    return _scoped(by, import_id)


def imports_of(*, by: User, clinic_id: int, page: int) -> Page[CohortImport]:
    """A page of the clinic's imports, newest first (their files not loaded)."""
    clinic = _clinic(by, clinic_id)
    query = (select(CohortImport).where(CohortImport.clinic_id == clinic.id).options(defer(CohortImport.content))
             .order_by(CohortImport.created_at.desc(), CohortImport.id.desc()))
    return page_of(query, number=page, per_page=PER_PAGE, read=entities)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while an extract is read: it would otherwise walk the hundreds of
    thousands of live objects a large file makes again and again, costing as much as the import itself
    (measured: benchmarks/README.md). Reference counting still frees everything that is let go meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _clinic(by: User | None, clinic_id: int) -> Organisation:
    clinic = db.session.get(Organisation, clinic_id)
    if clinic is None or clinic.kind is not OrganisationKind.PAIN_CLINIC:
        raise NotFound("no such clinic")
    if by is None or by.role is Role.ADMIN:
        return clinic
    if by.role is not Role.PHARMACIST:
        raise PermissionDenied("only a clinic pharmacist or an administrator may import a cohort")
    if by.organisation_id != clinic.id:
        raise NotFound("no such clinic")
    return clinic


def _scoped(by: User | None, import_id: int) -> CohortImport:
    record = db.session.get(CohortImport, import_id)
    if record is None:
        raise NotFound("no such import")
    if by is not None and by.role is not Role.ADMIN:
        if by.role is not Role.PHARMACIST:
            raise PermissionDenied("only a clinic pharmacist or an administrator may see imports")
        if record.clinic_id != by.organisation_id:
            audit.record(action="access_denied", by=by, entity_type="cohort_import", entity_id=record.id)
            raise NotFound("no such import")
    return record


# --- reading the file ------------------------------------------------------------------------------------------

def _table(content: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the data rows (with their spreadsheet row numbers; blank rows left out)."""
    if not content.strip():
        raise InvalidInput({"file": "The file is empty"})
    if b"\x00" in content:
        raise InvalidInput({"file": "The file is not CSV text"})
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("cp1252")  # EMIS Web exports often are
        except UnicodeDecodeError:
            raise InvalidInput({"file": "The file is not CSV text"}) from None
    try:
        rows = [(number, row) for number, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1)
                if "".join(row).strip()]
    except csv.Error:
        raise InvalidInput({"file": "The file is not CSV text"}) from None
    if not rows:
        raise InvalidInput({"file": "The file is empty"})
    (_, headers), data = rows[0], rows[1:]
    if len(headers) > MAX_COLUMNS:  # before the columns page builds a select of each, with every header a choice
        raise InvalidInput({"file": f"The file has {len(headers)} columns: a practice's search gives fewer than "
                                    f"{MAX_COLUMNS}. Check it is the right file, or export only the columns needed"})
    if len(headers) < 2:
        raise InvalidInput({"file": "The file is not CSV with a header row (columns separated by commas)"})
    if not data:
        raise InvalidInput({"file": "The file has a header but no rows"})
    return [header.strip() for header in headers], data


Group = tuple[str, list[tuple[int, ExtractRow | str]]]  # a patient's key and rows (each read, or refused: why)


class _Extract:
    """The file's rows read and grouped by patient (their NHS number), in the order they first appear."""

    def __init__(self, headers: list[str], table: list[tuple[int, list[str]]], columns: dict[str, str]):
        index = {name: headers.index(header) for name, header in columns.items() if header in headers}
        today = clock.today()
        groups: dict[str, list[tuple[int, ExtractRow | str]]] = {}
        for number, cells in table:
            values = {name: cells[position] if position < len(cells) else "" for name, position in index.items()}
            row: ExtractRow | str
            try:
                row = read_row(number, values, today=today)
            except RowRefused as refusal:
                row = str(refusal)
            groups.setdefault(_patient_key(values.get("nhs_number", "")), []).append((number, row))
        self.groups = list(groups.items())
        self.rows_total = len(table)

    def batches(self) -> Iterator[list[Group]]:
        batch: list[Group] = []
        size = 0
        for group in self.groups:
            batch.append(group)
            size += len(group[1])
            if size >= BATCH_ROWS:
                yield batch
                batch, size = [], 0
        if batch:
            yield batch


def _patient_key(written: str) -> str:
    try:
        return extract_nhs_number(" ".join(written.split()))
    except RowRefused:
        return "?" + " ".join(written.split())


class _Readings:
    """The one reader, once per (drug, dosage) pair of a run (extracts repeat them)."""

    def __init__(self) -> None:
        self._formulary = load_formulary()
        self._read: dict[tuple[str, str], Reading] = {}

    def __call__(self, drug: str, dosage: str) -> Reading:
        pair = (drug, dosage)
        if pair not in self._read:
            self._read[pair] = read_medication(drug, dosage, self._formulary)
        return self._read[pair]


# --- deciding what a batch adds ------------------------------------------------------------------------------

@dataclass
class _Patient:
    """An accepted patient of a batch and what their rows add."""

    first: ExtractRow
    known_id: int | None
    known_address: str = ""
    known_mobile: str = ""
    mobile: str = ""
    rows: list[tuple[ExtractRow, Reading]] = field(default_factory=list)  # all of the patient's rows in the file
    new_rows: list[tuple[ExtractRow, Reading]] = field(default_factory=list)  # those not stored yet
    hand_check: bool = False
    regimen: _Regimen | None = None  # what the rows say, when it can be recorded

    @property
    def opioid(self) -> bool:
        """Whether any of the patient's rows in the file is an opioid (read or not)."""
        return any(reading.non_opioid is None for _, reading in self.rows)


@dataclass
class _Regimen:
    """A patient's regimen as all of their rows in the file give it, accepted by the starting checks."""

    entry: regimens.RegimenEntry
    key: str
    source_date: date
    notes: list[str]


@dataclass
class _Outcome:
    """What a batch (or, summed, a whole preview) would add."""

    rows: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)
    already_imported: int = 0
    patients: list[_Patient] = field(default_factory=list)
    practices: dict[str, int | None] = field(default_factory=dict)  # ODS code -> id (None: to add)
    notes: list[tuple[int, str]] = field(default_factory=list)
    hand_checks: list[tuple[ExtractRow, Reading]] = field(default_factory=list)
    denied: list[int] = field(default_factory=list)  # patients of another clinic (their attempt audited)

    def preview(self, rows_total: int) -> dict[str, Any]:
        lines = [(row, reading) for patient in self.patients for row, reading in patient.new_rows]
        new = [patient for patient in self.patients if patient.known_id is None]
        return {
            "rows": rows_total,
            "patients_new": len(new),
            "patients_known": len(self.patients) - len(new),
            "lines_read": sum(1 for _, reading in lines if reading.line is not None),
            "lines_hand_check": sum(1 for _, reading in lines if _needs_hand_check(reading)),
            "non_opioid_lines": sum(1 for _, reading in lines if reading.non_opioid is not None),
            "rows_refused": len(self.refused),
            "rows_already_imported": self.already_imported,
            "practices_new": sorted(code for code, known in self.practices.items() if known is None),
            "needs_contact_details": sum(1 for patient in self.patients if not _contactable(patient)),
            "refused": [{"row": number, "reason": reason} for number, reason in sorted(self.refused)[:LISTED]],
            "hand_check": [{"row": row.number, "nhs_number": row.nhs_number, "drug": row.drug, "dosage": row.dosage,
                            "problems": list(reading.problems)} for row, reading in self.hand_checks[:LISTED]],
            "notes": [{"row": number, "note": note} for number, note in self.notes[:LISTED]],
        }


def _needs_hand_check(reading: Reading) -> bool:
    return reading.line is None and reading.non_opioid is None


def _contactable(patient: _Patient) -> bool:
    return bool(patient.known_address or patient.first.address or patient.known_mobile or patient.mobile)


class _RegimenChecks:
    """The starting checks (a product on two lines, doses past the hard limits: taper.domain.starting_checks) and
    the OME assessment of a regimen, each once per distinct regimen of a run."""

    def __init__(self, clinic: Organisation) -> None:
        self.clinic = clinic
        self.formulary = load_formulary()
        self._factor_set = get_factor_set(clinic.factor_set)
        self._refused: dict[str, tuple[str, ...]] = {}
        self._assessed: dict[str, tuple[list[dict[str, Any]], Any]] = {}

    def refusals(self, key: str, entry: regimens.RegimenEntry) -> tuple[str, ...]:
        """Why no regimen can be recorded from these lines, in words for the pharmacist (empty: it can)."""
        if key not in self._refused:
            self._refused[key] = self._refusals(entry)
        return self._refused[key]

    def _refusals(self, entry: regimens.RegimenEntry) -> tuple[str, ...]:
        try:
            regimen = parse_regimen(entry.lines, self.formulary)
        except RegimenError as refusal:
            return tuple(dict.fromkeys(f"the lines read from the record do not make one regimen ({error.message}): "
                                       "check the regimen by hand" for error in refusal.errors))
        found = []
        for error in starting_refusals(regimen, self.formulary, self._factor_set, given=entry.lines):
            if error.field.endswith(".product"):  # the same product on two lines of one kind
                index = int(error.field[error.field.index("[") + 1:error.field.index("]")])
                product = self.formulary.get(regimen.lines[index].product).label(in_sentence=True)
                found.append(f"the record names {product} on more than one line: check the regimen by hand")
            else:
                found.append(f"the regimen these lines make is refused: {error.message}")
        return tuple(dict.fromkeys(found))

    def assessed(self, key: str, entry: regimens.RegimenEntry) -> tuple[list[dict[str, Any]], Any]:
        """The regimen's lines as stored, and its assessment (OME) with the clinic's settings."""
        if key not in self._assessed:
            self._assessed[key] = (regimen_to_json(parse_regimen(entry.lines, self.formulary)),
                                   regimens.assess_entry(entry, self.clinic))
        return self._assessed[key]


def _check_regimen(patient: _Patient, checks: _RegimenChecks, outcome: _Outcome) -> None:
    """Work out the regimen all of the patient's rows in the file give (not only the new ones: a re-import with
    one new issue date must not drop the lines already stored), when at least one row is new and none needs a
    hand check. When the starting checks refuse it, each new opioid row of the patient is stored with the
    reason as its problem, so it is a hand check like a line that could not be read (never merged by guess)."""
    if patient.hand_check or not patient.new_rows:
        return
    opioid = [(row, reading) for row, reading in patient.rows if reading.line is not None]
    if not opioid:
        return
    lines: list[dict[str, Any]] = []
    for _, reading in opioid:  # the same line issued twice is one line
        if reading.line not in lines:
            lines.append(reading.line)  # type: ignore[arg-type]
    kinds = {reading.non_opioid for _, reading in patient.rows}
    entry = regimens.RegimenEntry(lines=add_patches(lines), benzodiazepine="benzodiazepine" in kinds,
                                  gabapentinoid="gabapentinoid" in kinds)
    key = json.dumps([entry.lines, entry.benzodiazepine, entry.gabapentinoid], sort_keys=True, default=str)
    refused = checks.refusals(key, entry)
    if not refused:
        patient.regimen = _Regimen(entry=entry, key=key, source_date=max(row.last_issue_date for row, _ in opioid),
                                   notes=sorted({note for _, reading in opioid for note in reading.notes}))
        return
    patient.hand_check = True
    new_rows = []
    for row, reading in patient.new_rows:
        if reading.line is not None:
            reading = Reading(product=reading.product, line=None, problems=(*reading.problems, *refused),
                              notes=reading.notes)
            outcome.hand_checks.append((row, reading))
        new_rows.append((row, reading))
    patient.new_rows = new_rows


def _plan(clinic: Organisation, batch: list[Group], readings: _Readings, checks: _RegimenChecks,
          outcome: _Outcome) -> None:
    """Decide, for each patient of the batch, whether their rows are refused (all of them) or what they add,
    and the regimen their rows give; the batch's patients, practices and rows already stored are looked up in
    a few queries."""
    accepted: list[tuple[str, list[ExtractRow]]] = []
    for key, rows in batch:
        outcome.rows += len(rows)
        reasons = {number: row for number, row in rows if isinstance(row, str)}
        read = [row for _, row in rows if isinstance(row, ExtractRow)]
        if not reasons:
            disagreement = _disagreement(read)
            if disagreement:
                reasons = {read[0].number: disagreement}
        if reasons:
            _refuse(outcome, rows, reasons)
        else:
            accepted.append((key, read))
    numbers = [key for key, _ in accepted]
    if _dialect() is postgresql:
        # Plan each look-up for its own array: a generic plan of a statement the driver has prepared cannot hash the
        # array, and compares every row with every value (measured: 0.25 s a look-up instead of 1 ms).
        db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    known = {row.nhs_number: row for row in db.session.execute(
        select(Patient.id, Patient.nhs_number, Patient.clinic_id, Patient.date_of_birth, Patient.postal_address,
               Patient.mobile_phone).where(_among(Patient.nhs_number, numbers)))} if numbers else {}
    codes = sorted({read[0].practice_code for _, read in accepted})
    organisations = {row.ods_code: row for row in db.session.execute(
        select(Organisation.id, Organisation.ods_code, Organisation.kind).where(_among(Organisation.ods_code, codes)))
    } if codes else {}
    ours = [row.id for row in known.values() if row.clinic_id == clinic.id]  # new patients have no lines yet
    # By patient alone (its index), the clinic compared here: SQLite would otherwise walk the clinic's every line.
    stored = {key for key, clinic_id in db.session.execute(
        select(PracticeRecordLine.row_key, PracticeRecordLine.clinic_id)
        .where(_among(PracticeRecordLine.patient_id, ours))) if clinic_id == clinic.id} if ours else set()
    for _, patient_rows in accepted:
        first = patient_rows[0]
        existing = known.get(first.nhs_number)
        organisation = organisations.get(first.practice_code)
        reason = None
        if existing is not None and existing.clinic_id != clinic.id:
            reason = OTHER_CLINIC  # never says that another clinic has the patient
            outcome.denied.append(existing.id)
        elif existing is not None and existing.date_of_birth != first.date_of_birth:
            reason = "date of birth differs from Taper's record"
        elif organisation is not None and organisation.kind is not OrganisationKind.GP_PRACTICE:
            reason = f"practice code {first.practice_code} is a {organisation.kind.label.lower()} in Taper"
        if reason is not None:
            _refuse(outcome, [(row.number, row) for row in patient_rows], {first.number: reason})
            continue
        if first.practice_code not in outcome.practices:
            outcome.practices[first.practice_code] = organisation.id if organisation is not None else None
        patient = _Patient(first=first, known_id=existing.id if existing else None,
                           known_address=existing.postal_address if existing else "",
                           known_mobile=existing.mobile_phone if existing else "")
        patient.mobile = _mobile(patient_rows, outcome)
        for row in patient_rows:
            reading = readings(row.drug, row.dosage)
            patient.hand_check = patient.hand_check or _needs_hand_check(reading)
            patient.rows.append((row, reading))
            if row.key in stored:
                outcome.already_imported += 1
                continue
            stored.add(row.key)  # the same row twice in one file is stored once
            patient.new_rows.append((row, reading))
            if _needs_hand_check(reading):
                outcome.hand_checks.append((row, reading))
        _check_regimen(patient, checks, outcome)
        outcome.patients.append(patient)


def _refuse(outcome: _Outcome, rows: Sequence[tuple[int, object]], reasons: dict[int, str]) -> None:
    first = min(reasons)
    for number, _ in rows:
        outcome.refused.append((number, reasons.get(number, f"another row for this patient was refused (row {first})")))


def _disagreement(rows: list[ExtractRow]) -> str | None:
    """Why the rows of one NHS number cannot be one patient, or None."""
    first = rows[0]
    for row in rows[1:]:
        if row.date_of_birth != first.date_of_birth:
            return f"rows for this NHS number give different dates of birth (rows {first.number} and {row.number})"
        if (row.family_name.lower(), row.given_name.lower()) != (first.family_name.lower(), first.given_name.lower()):
            return f"rows for this NHS number give different names (rows {first.number} and {row.number})"
        if row.practice_code != first.practice_code:
            return f"rows for this NHS number give different practice codes (rows {first.number} and {row.number})"
    return None


def _mobile(rows: list[ExtractRow], outcome: _Outcome) -> str:
    """The first mobile number of the patient's rows that is a UK mobile (national format); others are left out
    with a note, never a refusal."""
    for row in rows:
        if not row.mobile:
            continue
        mobile = _uk_mobile(row.mobile)
        if mobile:
            return mobile
        outcome.notes.append((row.number, "the mobile number is not a UK mobile number: left out"))
    return ""


@lru_cache(maxsize=100_000)
def _uk_mobile(written: str) -> str:
    """The mobile number as the patient form keeps it, or "" for one that is not a UK mobile."""
    try:
        mobile, _, _ = check_contact("none", mobile_phone=written, email="", postal_address="")
    except InvalidContact:
        return ""
    return mobile


def _among(column: Any, values: Sequence[Any]) -> Any:
    """`column IN values` for a batch's thousands of values: on PostgreSQL one array parameter (`= ANY(...)`),
    so the statement is not rendered with a parameter per value; on SQLite in chunks the driver allows."""
    if _dialect() is postgresql:
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return or_(*(column.in_(values[start:start + LOOKUP_CHUNK]) for start in range(0, len(values), LOOKUP_CHUNK)))


# --- writing a batch -----------------------------------------------------------------------------------------

def _write(import_id: int, clinic: Organisation, by: User | None, outcome: _Outcome,
           counts: dict[str, int], checks: _RegimenChecks) -> None:
    """Write what the batch adds, in a few bulk statements: practices, patients, contact details, lines,
    regimens, and an audit event for each patient, practice and regimen added (and for each patient of another
    clinic refused)."""
    events: list[dict[str, Any]] = [
        _event(by, "access_denied", "patient", patient_id, patient_id,
               {"cohort_import": import_id, "clinic": clinic.ods_code}) for patient_id in outcome.denied]
    practices = _add_practices(import_id, by, outcome, counts, events)
    new = [patient for patient in outcome.patients if patient.known_id is None]
    known = [patient for patient in outcome.patients if patient.known_id is not None]
    if new:
        ids = _insert(_table_of(Patient), [
            {"nhs_number": patient.first.nhs_number, "given_name": patient.first.given_name,
             "family_name": patient.first.family_name, "date_of_birth": patient.first.date_of_birth,
             "sex": patient.first.sex.value, "clinic_id": clinic.id,
             "gp_practice_id": practices[patient.first.practice_code], "contact_by": "none",
             "postal_address": patient.first.address, "mobile_phone": patient.mobile}
            for patient in new], ids=True)
        for patient, patient_id in zip(new, ids, strict=True):
            patient.known_id = patient_id
            events.append(_event(by, "import", "patient", patient.known_id, patient.known_id,
                                 {"cohort_import": import_id, "gp_practice": patient.first.practice_code}))
    counts["patients_added"] += len(new)
    counts["patients_known"] += len(outcome.patients) - len(new)
    _fill_contact_details(import_id, by, known, counts, events)
    lines = [{"clinic_id": clinic.id, "patient_id": patient.known_id, "import_id": import_id, "row_key": row.key,
              "drug": row.drug, "dosage": row.dosage, "quantity": row.quantity,
              "last_issue_date": row.last_issue_date, "first_issue_date": row.first_issue_date,
              "product": reading.product, "line": reading.line, "problems": list(reading.problems),
              "non_opioid": reading.non_opioid}
             for patient in outcome.patients for row, reading in patient.new_rows]
    added_lines = _insert_new_lines(lines)
    counts["lines_added"] += added_lines
    counts["lines_already_imported"] += outcome.already_imported + len(lines) - added_lines
    counts["rows_refused"] += len(outcome.refused)
    counts["patients_hand_check"] += sum(1 for patient in outcome.patients
                                         if patient.hand_check and patient.new_rows and patient.opioid)
    _record_regimens(import_id, by, outcome, counts, events, checks)
    _insert(_table_of(AuditEvent), events)


def _add_practices(import_id: int, by: User | None, outcome: _Outcome, counts: dict[str, int],
                   events: list[dict[str, Any]]) -> dict[str, int]:
    """The batch's practices by ODS code; one Taper does not know is added as a GP practice named by its code,
    marked for an admin to complete."""
    wanted = sorted(code for code, known in outcome.practices.items() if known is None)
    if wanted:
        statement = _dialect().insert(_table_of(Organisation)).on_conflict_do_nothing(index_elements=["ods_code"])
        db.session.execute(statement, [
            {"kind": OrganisationKind.GP_PRACTICE, "name": code, "ods_code": code, "details_needed": True}
            for code in wanted])
        found: dict[str, int] = {code: organisation_id for code, organisation_id in db.session.execute(
            select(Organisation.ods_code, Organisation.id).where(Organisation.ods_code.in_(wanted)))}
        for code in wanted:
            outcome.practices[code] = found[code]
            events.append(_event(by, "create", "organisation", found[code], None,
                                 {"ods_code": code, "name": code, "kind": OrganisationKind.GP_PRACTICE.value,
                                  "details_needed": True, "cohort_import": import_id}))
        counts["practices_added"] += len(wanted)
    return {code: known for code, known in outcome.practices.items() if known is not None}


def _fill_contact_details(import_id: int, by: User | None, known: list[_Patient], counts: dict[str, int],
                          events: list[dict[str, Any]]) -> None:
    """A known patient's empty address or mobile filled from the extract (their names are never changed)."""
    for patient in known:
        assert patient.known_id is not None
        values: dict[str, Any] = {}
        if patient.first.address and not patient.known_address:
            values["postal_address"] = patient.first.address
        if patient.mobile and not patient.known_mobile:
            values["mobile_phone"] = patient.mobile
        if not values:
            continue
        db.session.execute(update(Patient).where(Patient.id == patient.known_id)
                           .values(**values, version=Patient.version + 1, updated_at=clock.now()))
        events.append(_event(by, "update", "patient", patient.known_id, patient.known_id,
                             {**{name: {"before": "", "after": value} for name, value in values.items()},
                              "cohort_import": import_id}))
        counts["contact_details_added"] += 1


def _insert_new_lines(lines: list[dict[str, Any]]) -> int:
    """Insert the lines, their keys already checked against the clinic's; how many were inserted. A row stored
    meanwhile (another import of an overlapping file, running at the same moment) is skipped, not an error: the
    fast bulk insert runs in a savepoint, and if it breaks the unique index the batch is inserted again row by
    row with ON CONFLICT DO NOTHING, counting only the rows it added."""
    if not lines:
        return 0
    broken = (IntegrityError, db.session.get_bind().dialect.loaded_dbapi.IntegrityError)  # COPY: the driver's own
    try:
        with db.session.begin_nested():
            _insert(_table_of(PracticeRecordLine), lines)
        return len(lines)
    except broken:
        pass
    table = _table_of(PracticeRecordLine)
    statement = (_dialect().insert(table).on_conflict_do_nothing(index_elements=["clinic_id", "row_key"])
                 .returning(table.c.id))
    return sum(1 for line in lines if db.session.execute(statement, line).first() is not None)


def _insert(table: Table, rows: list[dict[str, Any]], *, ids: bool = False) -> list[int]:
    """Insert the rows (each with the same keys) in bulk, with the column defaults the ORM would give; their new
    ids in order when `ids`. PostgreSQL: ids taken from the table's sequence in one statement, then COPY (tens of
    times faster than INSERT for 100,000 rows); SQLite: one executemany."""
    if not rows:
        return []
    names = list(rows[0])
    defaults = {column.name: column.default for column in table.columns
                if column.name not in names and not column.primary_key and column.default is not None}
    if _dialect() is not postgresql:
        statement = insert(table)
        if ids:
            result = db.session.execute(statement.returning(table.c.id, sort_by_parameter_order=True), rows)
            return [row[0] for row in result]
        db.session.execute(statement, rows)
        return []
    new_ids: list[int] = []
    if ids:
        new_ids = list(db.session.scalars(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"),
            {"table": table.name, "count": len(rows)}))
    values = {name: _default_value(default) for name, default in defaults.items()}
    columns = (["id"] if ids else []) + names + list(values)
    cursor = db.session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    copy_sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    json_columns = {column.name for column in table.columns if isinstance(column.type, JSON)}
    with cursor.copy(copy_sql) as copy:
        for index, row in enumerate(rows):
            cells = [json.dumps(row[name]) if name in json_columns and row[name] is not None else row[name]
                     for name in names]
            copy.write_row(([new_ids[index]] if ids else []) + cells + list(values.values()))
    return new_ids


def _table_of(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _default_value(default: Any) -> Any:
    """A column's default as the ORM computes it (a value, or a function such as clock.now called now)."""
    return default.arg(None) if default.is_callable else default.arg


def _record_regimens(import_id: int, by: User | None, outcome: _Outcome, counts: dict[str, int],
                     events: list[dict[str, Any]], checks: _RegimenChecks) -> None:
    """A regimen "from practice record" for each patient whose rows in the file give one the starting checks
    accept (`_check_regimen`: at least one row new, none needing a hand check); its OME as services/regimens.py
    counts it. Not recorded, and counted, when a pharmacist recorded the patient's regimen on or after the
    record's latest issue (their check is newer than what the practice record says: it stays the current one:
    regimens_checked_since), when the patient's latest practice-record regimen is from an issue on or after this
    one (an older file never replaces newer information: regimens_older), or when it is the same as the
    patient's latest regimen (regimens_unchanged)."""
    wanted = [patient for patient in outcome.patients if patient.regimen is not None]
    if not wanted:
        return
    latest, checked, from_record = _latest_regimens(
        [patient.known_id for patient in wanted if patient.known_id is not None])
    rows = []
    for patient in wanted:
        assert patient.known_id is not None and patient.regimen is not None
        entry, source_date = patient.regimen.entry, patient.regimen.source_date
        stored_lines, assessment = checks.assessed(patient.regimen.key, entry)
        checked_on = checked.get(patient.known_id)
        if checked_on is not None and checked_on >= source_date:
            counts["regimens_checked_since"] += 1
            continue
        recorded_issue = from_record.get(patient.known_id)
        if recorded_issue is not None and recorded_issue >= source_date:
            counts["regimens_older"] += 1
            continue
        if latest.get(patient.known_id) == json.dumps([stored_lines, entry.benzodiazepine, entry.gabapentinoid],
                                                      sort_keys=True):
            counts["regimens_unchanged"] += 1
            continue
        notes = patient.regimen.notes
        rows.append({
            "patient_id": patient.known_id, "recorded_on": clock.today(), "recorded_by_id": by.id if by else None,
            "lines": stored_lines, "benzodiazepine": entry.benzodiazepine, "gabapentinoid": entry.gabapentinoid,
            "notes": "\n".join([f"Imported from the practice record (cohort import {import_id}).", *notes]),
            "factor_set": assessment.factor_set.key, "factor_set_version": assessment.factor_set.version,
            "formulary_version": checks.formulary.version, "high_dose_threshold_mg": assessment.high_dose_threshold_mg,
            "total_ome_mg_per_day": assessment.total_ome_mg_per_day, "source": "practice_record",
            "source_date": source_date})
    if not rows:
        return
    added = _insert(_table_of(RecordedRegimen), rows, ids=True)
    for regimen_id, row in zip(added, rows, strict=True):
        patient_id = row["patient_id"]
        events.append(_event(by, "import", "regimen", regimen_id, patient_id, {
            "lines": row["lines"], "benzodiazepine": row["benzodiazepine"], "gabapentinoid": row["gabapentinoid"],
            "source_date": row["source_date"].isoformat(), "cohort_import": import_id,
            "total_ome_mg_per_day": None if row["total_ome_mg_per_day"] is None else plain(row["total_ome_mg_per_day"]),
            "factor_set": f"{row['factor_set']} {row['factor_set_version']}"}))
    counts["regimens_recorded"] += len(added)


def _latest_regimens(patient_ids: list[int]) -> tuple[dict[int, str], dict[int, date], dict[int, date]]:
    """Each patient's latest regimen as a comparable text (lines and risk flags), the day a pharmacist last
    recorded one, and the latest issue date a practice-record regimen was recorded from."""
    latest: dict[int, str] = {}
    checked: dict[int, date] = {}
    from_record: dict[int, date] = {}
    if not patient_ids:
        return latest, checked, from_record
    for patient_id, lines, benzodiazepine, gabapentinoid, source, recorded_on, source_date in db.session.execute(
            select(RecordedRegimen.patient_id, RecordedRegimen.lines, RecordedRegimen.benzodiazepine,
                   RecordedRegimen.gabapentinoid, RecordedRegimen.source, RecordedRegimen.recorded_on,
                   RecordedRegimen.source_date)
            .where(_among(RecordedRegimen.patient_id, patient_ids))
            .order_by(RecordedRegimen.recorded_on, RecordedRegimen.id)):
        latest[patient_id] = json.dumps([lines, benzodiazepine, gabapentinoid], sort_keys=True)
        if source == "pharmacist":
            checked[patient_id] = recorded_on
        elif source_date is not None and source_date > from_record.get(patient_id, date.min):
            from_record[patient_id] = source_date
    return latest, checked, from_record


def _event(by: User | None, action: str, entity_type: str, entity_id: object, patient_id: int | None,
           changes: dict[str, Any]) -> dict[str, Any]:
    """An audit event as a row for a bulk insert, as audit.record writes it."""
    return {"occurred_at": clock.now(), "actor_user_id": by.id if by else None,
            "actor_label": by.email if by else "system", "actor_role": by.role.value if by else None,
            "action": action, "entity_type": entity_type, "entity_id": str(entity_id), "patient_id": patient_id,
            "changes": changes, "origin": audit.current_origin()}


def _dialect() -> Any:
    return postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
