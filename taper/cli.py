"""`flask taper ...`: commands that call the same services as the web."""

from __future__ import annotations

import json
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from taper.domain.formulary import load_formulary
from taper.domain.formulary_document import formulary_document
from taper.domain.ome import UnknownFactorSet, default_factor_set, get_factor_set, load_factor_sets
from taper.domain.organisations import Role
from taper.domain.regimen import RegimenError
from taper.domain.schedule_contract import errors_document, schedule_from_request
from taper.extensions import db
from taper.services import accounts, audit, demo_data
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
def load_demo_data() -> None:
    """Load the synthetic demo clinic if the database is empty, and print the demo sign-ins."""
    if current_app.extensions["taper.settings"].is_production:
        raise click.ClickException("demo data is never loaded in production")
    with audit.origin("cli"):
        loaded = demo_data.load_if_empty()
        db.session.commit()
    if loaded:
        click.echo("Loaded synthetic demo data (no real patients).")
    else:
        click.echo("The database already has data: demo data not loaded.")
    click.echo(demo_data.sign_in_help())


@taper.command("formulary")
@click.option("--factor-set", "factor_set_key", default=None,
              help="Factor set for the OME factors (default: the default set, fpm-2020)")
def print_formulary(factor_set_key: str | None) -> None:
    """Print the formulary as JSON: products, strengths, units, wear times, and OME factors with sources."""
    try:
        factor_set = get_factor_set(factor_set_key) if factor_set_key else default_factor_set()
    except UnknownFactorSet:
        known = ", ".join(load_factor_sets())
        raise click.ClickException(f"unknown factor set {factor_set_key!r}: choose one of {known}") from None
    click.echo(json.dumps(formulary_document(load_formulary(), factor_set), indent=2))


@taper.command("schedule")
def print_schedule() -> None:
    """Read a schedule request (JSON) on standard input; write the schedule (JSON) on standard output.
    Invalid input: exit status 2 and {"errors": [...]} (docs/schedule-api.md)."""
    try:
        request = json.loads(sys.stdin.read())
    except json.JSONDecodeError as error:
        click.echo(json.dumps({"errors": [{"field": "request", "message": f"malformed JSON: {error}"}]}))
        sys.exit(2)
    try:
        document = schedule_from_request(request, load_formulary())
    except RegimenError as refusal:
        click.echo(json.dumps(errors_document(refusal)))
        sys.exit(2)
    click.echo(json.dumps(document, indent=2))


def init_app(app: Flask) -> None:
    app.cli.add_command(taper)
