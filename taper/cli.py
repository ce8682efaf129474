"""`flask taper ...`: commands that call the same services as the web."""

from __future__ import annotations

import hashlib
import json
import secrets
import signal
import sys
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import text

from taper import clock, jobs
from taper.documents.pack import FILE_NAMES, render_pack
from taper.documents.pack_request import PackRequestError, read_pack_request
from taper.domain.formulary import load_formulary
from taper.domain.formulary_document import formulary_document
from taper.domain.json_text import MalformedJson, read_json
from taper.domain.medication_reader import read_medication
from taper.domain.ome import UnknownFactorSet, default_factor_set, get_factor_set, load_factor_sets
from taper.domain.organisations import Role
from taper.domain.regimen import RegimenError
from taper.domain.schedule_contract import errors_document, schedule_from_request
from taper.extensions import db
from taper.services import accounts, audit, demo_data, plans, synthetic_data
from taper.services.errors import InvalidInput

taper = AppGroup("taper", help="Taper's own commands.")


@taper.command("create-user")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True)
@click.option("--role", type=click.Choice([role.value for role in Role]), default=Role.ADMIN.value,
              show_default=True)
@click.option("--organisation-ods", help="ODS code of the user's organisation (not needed for an admin)")
@click.password_option(help="Asked for if not given; at least 12 characters")
def create_user(email: str, full_name: str, role: str, organisation_ods: str | None, password: str) -> None:
    """Create an account, such as the first administrator."""
    organisation_id = None
    if organisation_ods:
        organisation = accounts.organisation_by_ods_code(organisation_ods)
        if organisation is None:
            raise click.ClickException(f"no organisation has the ODS code {organisation_ods}")
        organisation_id = organisation.id
    with audit.origin("cli"):
        try:
            user = accounts.create_user(by=None, email=email, full_name=full_name, role=Role(role),
                                        organisation_id=organisation_id, password=password)
        except InvalidInput as refusal:
            db.session.rollback()
            raise click.ClickException("; ".join(refusal.errors.values())) from None
        db.session.commit()
    click.echo(f"Created {user.role.label.lower()} account for {user.email}")


@taper.command("demo-data")
@click.option("--reset", is_flag=True, help="Start again from fresh demo data: make this SQLite database anew "
                                            "(refused unless it holds demo data only)")
def load_demo_data(reset: bool) -> None:
    """Load the synthetic demo clinic if the database is empty, and print the demo sign-ins."""
    if current_app.extensions["taper.settings"].is_production:
        raise click.ClickException("demo data is never loaded in production")
    if reset:
        _make_demo_database_anew()
    with audit.origin("cli"):
        loaded = demo_data.load_if_empty()
        db.session.commit()
    if loaded:
        click.echo("Loaded synthetic demo data (no real patients).")
    else:
        click.echo("The database already has data: demo data not loaded.")
    click.echo(demo_data.sign_in_help())


def _make_demo_database_anew() -> None:
    """Delete the SQLite database file and migrate a new one, only if it holds nothing but demo data."""
    from flask_migrate import upgrade

    problem = demo_data.not_demo_data()
    if problem:
        raise click.ClickException(problem)
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        raise click.ClickException("--reset starts again on the SQLite database only; on PostgreSQL, drop and "
                                   "create the database, then run `flask db upgrade` and `flask taper demo-data`")
    db.session.remove()
    db.engine.dispose()
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{url.database}{suffix}").unlink(missing_ok=True)
    upgrade()
    click.echo("Deleted the demo database and migrated a new one.")


@taper.command("synthetic-data")
@click.option("--patients", type=click.IntRange(1), required=True, help="How many patients (20,000: an ICS)")
@click.option("--plans", "running_plans", type=click.IntRange(0), required=True,
              help="How many of them on a running plan (3,376 for an ICS); drafts, completed and stopped plans "
                   "are added in proportion")
@click.option("--password", default=None,
              help="The password of every synthetic user (default: a random one, printed once)")
@click.option("--alongside-real-data", is_flag=True,
              help="Add synthetic data even though the database holds data that is not synthetic")
@click.option("--seed", type=int, default=16, show_default=True, help="The same seed makes the same data")
def load_synthetic_data(patients: int, running_plans: int, password: str | None, alongside_real_data: bool,
                        seed: int) -> None:
    """Fill an empty database with synthetic data at any size, for load tests and measurements; never in
    production. Plans are made by the real engine and everything is written in bulk. Documents are one-page
    placeholders that name their own patient and say they are not real (rendering every plan's documents would
    take hours). Users sign in as pharmacist-0001@synthetic.taper.invalid, gp-0001@..., pharmacy-0001@...,
    admin-0001@... (docs/synthetic-data.md)."""
    if current_app.extensions["taper.settings"].is_production:
        raise click.ClickException("synthetic data is never generated in production")
    password = password or secrets.token_urlsafe(18)
    started = time.perf_counter()
    try:  # its audit events say they come from the synthetic data, not from the command line
        summary = synthetic_data.generate(patients=patients, running_plans=running_plans, password=password,
                                          alongside_real_data=alongside_real_data, seed=seed)
    except InvalidInput as refusal:
        db.session.rollback()
        raise click.ClickException("; ".join(refusal.errors.values())) from None
    except synthetic_data.Refused as refusal:
        db.session.rollback()
        raise click.ClickException(str(refusal)) from None
    db.session.commit()
    db.session.execute(text("ANALYZE"))  # the planner's statistics, stale after a bulk write, made afresh
    db.session.commit()
    click.echo(f"Wrote synthetic data in {time.perf_counter() - started:.1f} s "
               f"({summary.engine_runs} schedules built by the engine):")
    for table, count in sorted(summary.counts.items()):
        click.echo(f"  {table:<20} {count:>9,}")
    if summary.unplaced_reviews:
        click.echo(f"  {summary.unplaced_reviews:,} reviews found no free slot and were left unbooked")
    click.echo("Sign in as pharmacist-0001@synthetic.taper.invalid (gp-, pharmacy-, admin- likewise) with the "
               f"password {password}")


@taper.command("formulary")
@click.option("--factor-set", "factor_set_key", default=None,
              help="Factor set for the OME factors (default: the default set, fpm-2020)")
def print_formulary(factor_set_key: str | None) -> None:
    """Print the formulary as JSON: products, strengths, units, wear times, and OME factors with sources.
    An unknown factor set: exit status 2 and {"errors": [...]}, as `flask taper schedule`."""
    try:
        factor_set = get_factor_set(factor_set_key) if factor_set_key is not None else default_factor_set()
    except UnknownFactorSet:
        known = ", ".join(load_factor_sets())
        message = f"unknown factor set {factor_set_key!r}: choose one of {known}"
        click.echo(json.dumps({"errors": [{"field": "factor_set", "message": message}]}))
        sys.exit(2)
    click.echo(json.dumps(formulary_document(load_formulary(), factor_set), indent=2))


@taper.command("schedule")
def print_schedule() -> None:
    """Read a schedule request (JSON) on standard input; write the schedule (JSON) on standard output.
    Invalid input: exit status 2 and {"errors": [...]} (docs/schedule-api.md)."""
    try:
        request = read_json(sys.stdin.buffer.read())
    except MalformedJson as refusal:
        click.echo(json.dumps({"errors": [{"field": "request", "message": str(refusal)}]}))
        sys.exit(2)
    try:
        document = schedule_from_request(request, load_formulary())
    except RegimenError as refusal:
        click.echo(json.dumps(errors_document(refusal)))
        sys.exit(2)
    click.echo(json.dumps(document, indent=2))


@taper.command("read-medication")
def print_medication_readings() -> None:
    """Read a JSON array of {"drug": ..., "dosage": ...} on standard input; write one reading for each, in order:
    {"product", "line", "problems", "notes", "non_opioid"} (docs/read-medication.md). Malformed input: exit
    status 2 and {"errors": [...]}, as `flask taper schedule`."""
    try:
        request = read_json(sys.stdin.buffer.read())
    except MalformedJson as refusal:
        click.echo(json.dumps({"errors": [{"field": "request", "message": str(refusal)}]}))
        sys.exit(2)
    errors = _medication_request_errors(request)
    if errors:
        click.echo(json.dumps({"errors": errors}))
        sys.exit(2)
    formulary = load_formulary()
    click.echo(json.dumps([read_medication(entry["drug"], entry["dosage"], formulary).to_json()
                           for entry in request], indent=2))


def _medication_request_errors(request: object) -> list[dict[str, str]]:
    """Every way the request is not an array of {"drug": text, "dosage": text}, each named by its path."""
    if not isinstance(request, list):
        return [{"field": "request", "message": 'must be a JSON array of {"drug": ..., "dosage": ...}'}]
    errors = []
    for index, entry in enumerate(request):
        if not isinstance(entry, dict):
            errors.append({"field": f"request[{index}]", "message": 'must be an object {"drug": ..., "dosage": ...}'})
            continue
        errors.extend({"field": f"request[{index}].{name}", "message": "unknown field: expected drug and dosage"}
                      for name in sorted(set(entry) - {"drug", "dosage"}))
        errors.extend({"field": f"request[{index}].{name}", "message": "must be text (up to 1000 characters)"}
                      for name in ("drug", "dosage")
                      if not isinstance(entry.get(name), str) or len(entry[name]) > 1000)
    return errors


@taper.command("documents")
@click.option("--request", "request_file", required=True, type=click.Path(path_type=Path),
              help="A pack request (JSON, docs/documents-cli.md)")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write patient-plan.pdf, gp-letter.pdf and pharmacy-schedule.pdf into")
def write_documents(request_file: Path, out_dir: Path) -> None:
    """Render the three documents of a plan from a JSON request, without a database, exactly as the app does.
    Writes a JSON summary on standard output; invalid input: exit status 2 and {"errors": [...]}."""
    try:
        text = request_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        click.echo(json.dumps({"errors": [{"field": "request", "message": f"cannot read {request_file}: {error}"}]}))
        sys.exit(2)
    try:
        pack = read_pack_request(text, today=clock.today())
    except PackRequestError as refusal:
        click.echo(json.dumps(errors_document(refusal)))
        sys.exit(2)
    rendered = render_pack(pack)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, pdf in rendered.items():
        (out_dir / FILE_NAMES[kind]).write_bytes(pdf)
        written.append({"kind": kind, "file": FILE_NAMES[kind], "bytes": len(pdf),
                        "sha256": hashlib.sha256(pdf).hexdigest()})
    click.echo(json.dumps({"out": str(out_dir), "documents": written}, indent=2))


@taper.command("issue-documents")
@click.argument("version_ids", nargs=-1, type=int)
@click.option("--missing", is_flag=True, help="Every running plan whose current version has no documents yet")
def issue_documents(version_ids: tuple[int, ...], missing: bool) -> None:
    """Render and store the documents of many plan versions in parallel processes, with a progress bar.
    A version that already has its documents is left as it is: a version's documents never change."""
    if bool(version_ids) == missing:
        raise click.UsageError("give plan version ids, or --missing (not both)")
    with audit.origin("cli"):
        try:
            chosen = plans.versions_to_issue(list(version_ids) if version_ids else None)
        except InvalidInput as refusal:
            raise click.ClickException("; ".join(refusal.errors.values())) from None
        if not chosen:
            click.echo("Nothing to render: every chosen version has its documents.")
            return
        with click.progressbar(length=len(chosen) * len(FILE_NAMES), label="Rendering documents") as bar:
            skipped = plans.issue_documents_of(chosen, on_document=lambda: bar.update(1))
        db.session.commit()
    click.echo(f"Stored the documents of {len(chosen) - len(skipped)} plan version(s).")
    for version_id, why in skipped.items():
        click.echo(f"Plan version {version_id} was not issued: {why}", err=True)
    if skipped:
        sys.exit(1)


@taper.command("scheduler")
def run_scheduler() -> None:
    """Run the scheduler: Taper's jobs on their timetable, until stopped (Ctrl+C or SIGTERM). One per database."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    from taper.scheduler import TIMETABLE, AlreadyRunning, configure, only_scheduler

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        with only_scheduler(app):
            scheduler = configure(BlockingScheduler(), app)
            signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=True))
            click.echo(f"Taper scheduler running {', '.join(TIMETABLE)} (Ctrl+C to stop)")
            scheduler.start()
    except AlreadyRunning as refusal:
        raise click.ClickException(str(refusal)) from None


@taper.command("run-job")
@click.argument("name", type=click.Choice(sorted(jobs.JOBS)))
def run_job(name: str) -> None:
    """Run one scheduler job now (safe to run twice) and print what it did as JSON."""
    click.echo(json.dumps({"job": name, **jobs.run(name)}))


@taper.command("import-cohort")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--clinic", "clinic_ods", default=None,
              help="ODS code of the pain clinic the patients join (not needed when there is one)")
def import_cohort(file: Path, clinic_ods: str | None) -> None:
    """Import a CSV extract of a GP practice's search (docs/cohort-import.md): print the preview, then import it
    with a progress bar, committing after each batch. Columns that cannot be recognised: exit status 2."""
    from taper.services import cohort_import

    with audit.origin("cli"):
        try:
            clinic = cohort_import.clinic_for(by=None, clinic_ods=clinic_ods)
            record = cohort_import.preview(by=None, clinic_id=clinic.id, file_name=file.name,
                                           content=file.read_bytes())
        except cohort_import.ColumnsNeeded as refusal:
            db.session.rollback()
            labels = {name: label for name, label, _ in cohort_import.FIELDS}
            click.echo(f"No column for: {', '.join(labels[name] for name in refusal.missing)}. The command line "
                       "cannot map columns: map them once on the import page (the clinic's mapping is then "
                       "remembered), or rename the headers.", err=True)
            sys.exit(2)
        except InvalidInput as refusal:
            db.session.rollback()
            raise click.ClickException("; ".join(refusal.errors.values())) from None
        db.session.commit()
        _print_cohort_preview(record.preview)
        record = cohort_import.confirm(by=None, import_id=record.id, expected_version=record.version)
        claimed = cohort_import.claim(import_id=record.id)
        db.session.commit()
        import_id, done = record.id, 0
        if not claimed:  # not possible for an import confirmed just now, unless the clock went back
            raise click.ClickException(f"Import {import_id} is already being run elsewhere")
        with click.progressbar(length=record.rows_total, label="Importing rows") as bar:
            def after_batch() -> None:
                nonlocal done
                db.session.commit()
                now_done = cohort_import.rows_done(import_id=import_id)
                bar.update(now_done - done)
                done = now_done

            try:
                record = cohort_import.run(import_id=import_id, after_batch=after_batch)
                db.session.commit()
            except Exception as failure:
                db.session.rollback()
                # Only the type: an exception's text can quote the row's values (NHS numbers, names).
                cohort_import.mark_failed(import_id=import_id, error=f"The import stopped on an unexpected error "
                                                                     f"({type(failure).__name__}). Nothing more "
                                                                     "was added: import the file again to import "
                                                                     "the rest.")
                db.session.commit()
                raise
    result = record.result or {}
    click.echo(f"Imported (import {import_id}): " + ", ".join(
        f"{name.replace('_', ' ')} {result.get(name, 0):,}" for name in cohort_import.RESULT_COUNTS))


def _print_cohort_preview(preview: dict[str, object]) -> None:
    for name in ("rows", "patients_new", "patients_known", "lines_read", "lines_hand_check", "non_opioid_lines",
                 "rows_refused", "rows_already_imported", "needs_contact_details"):
        click.echo(f"  {name.replace('_', ' '):<24} {preview[name]:>9,}")
    practices = preview["practices_new"]
    if practices:
        click.echo(f"  new GP practices (for an admin to complete): {', '.join(practices)}")  # type: ignore[arg-type]
    refused = preview["refused"]
    for row in refused[:10]:  # type: ignore[index]
        click.echo(f"  refused: row {row['row']}: {row['reason']}")


@taper.command("synthetic-extract")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--rows", type=click.IntRange(1), required=True, help="How many data rows")
@click.option("--seed", type=int, default=18, show_default=True, help="The same seed makes the same file")
@click.option("--practice", "practices", multiple=True, default=("ZZG01", "ZZG02", "ZZG03"), show_default=True,
              help="ODS codes of the practices the rows name (repeat the option)")
@click.option("--headers", "header_style", type=click.Choice(["emis", "systmone", "custom"]), default="emis",
              show_default=True)
@click.option("--broken-rows", type=click.IntRange(0), default=0, help="Rows broken as real files are")
def write_synthetic_extract(file: Path, rows: int, seed: int, practices: tuple[str, ...], header_style: str,
                            broken_rows: int) -> None:
    """Write a synthetic extract of GP practices' searches (made-up patients) for `import-cohort`."""
    from taper.services.synthetic.cohort_extract import write_extract

    patients = write_extract(file, rows, seed=seed, practices=list(practices), header_style=header_style,
                             broken_rows=broken_rows)
    click.echo(f"Wrote {rows:,} rows for {patients:,} patients to {file}")


def init_app(app: Flask) -> None:
    app.cli.add_command(taper)
