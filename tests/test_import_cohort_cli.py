"""`flask taper import-cohort FILE [--clinic ODS]` and `flask taper synthetic-extract FILE --rows N` (issue 18):
a generated extract imported end to end from the command line, its audit origin "cli"; a file whose columns
cannot be recognised exits 2 naming the fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from taper.domain.organisations import OrganisationKind
from taper.extensions import db
from taper.models import AuditEvent, CohortImport, Patient, PracticeRecordLine, RecordedRegimen
from taper.services import cohort_import
from tests.conftest import Maker


def test_an_extract_written_then_imported_from_the_command_line(app: Flask, make: Maker, tmp_path: Path) -> None:
    make.organisation(OrganisationKind.PAIN_CLINIC)  # the only pain clinic: no --clinic needed
    extract = tmp_path / "extract.csv"
    runner = app.test_cli_runner()
    written = runner.invoke(args=["taper", "synthetic-extract", str(extract), "--rows", "120", "--seed", "3",
                                  "--broken-rows", "2"])
    assert written.exit_code == 0, written.output
    assert "Wrote 120 rows" in written.output
    result = runner.invoke(args=["taper", "import-cohort", str(extract)])
    assert result.exit_code == 0, result.output
    assert "patients new" in result.output and "refused: row" in result.output
    record = db.session.scalar(select(CohortImport))
    assert record is not None and record.status == "imported" and record.content == b""
    assert record.uploaded_by_id is None and record.confirmed_by_id is None
    assert record.result is not None
    assert record.result["lines_added"] == db.session.scalar(select(func.count()).select_from(PracticeRecordLine))
    assert record.result["patients_added"] == db.session.scalar(select(func.count()).select_from(Patient)) > 20
    assert f"patients added {record.result['patients_added']}" in result.output
    regimens = list(db.session.scalars(select(RecordedRegimen)))
    assert regimens and {(regimen.source, regimen.recorded_by_id) for regimen in regimens} == {
        ("practice_record", None)}
    origins = set(db.session.scalars(select(AuditEvent.origin).where(AuditEvent.entity_type == "cohort_import")))
    assert origins == {"cli"}
    again = runner.invoke(args=["taper", "import-cohort", str(extract)])
    assert again.exit_code == 0 and "patients added 0, patients known" in again.output


def test_columns_the_command_line_cannot_map_exit_2_naming_the_fields(app: Flask, make: Maker,
                                                                        tmp_path: Path) -> None:
    clinic = make.organisation(OrganisationKind.PAIN_CLINIC)
    make.organisation(OrganisationKind.PAIN_CLINIC)
    extract = tmp_path / "custom.csv"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["taper", "synthetic-extract", str(extract), "--rows", "10",
                               "--headers", "custom"]).exit_code == 0
    without_clinic = runner.invoke(args=["taper", "import-cohort", str(extract)])
    assert without_clinic.exit_code == 1 and "Name the pain clinic" in without_clinic.output
    result = runner.invoke(args=["taper", "import-cohort", str(extract), "--clinic", clinic.ods_code])
    assert result.exit_code == 2
    assert "No column for: NHS Number, Surname" in result.output and "import page" in result.output
    assert db.session.scalar(select(func.count()).select_from(CohortImport)) == 0


def test_a_failure_stores_and_audits_only_the_errors_type(app: Flask, make: Maker, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    make.organisation(OrganisationKind.PAIN_CLINIC)
    extract = tmp_path / "extract.csv"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["taper", "synthetic-extract", str(extract), "--rows", "20"]).exit_code == 0

    def failing(*args: Any, **kwargs: Any) -> None:  # as a database error quoting the row would read
        raise RuntimeError("duplicate key value (nhs_number)=(9434765919)")

    monkeypatch.setattr(cohort_import, "_write", failing)
    result = runner.invoke(args=["taper", "import-cohort", str(extract)])
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)
    record = db.session.scalar(select(CohortImport))
    assert record is not None and record.status == "failed" and record.content == b""
    assert "(RuntimeError)" in record.error and "9434765919" not in record.error
    failed = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "fail"))
    assert failed is not None and "9434765919" not in str(failed.changes)
