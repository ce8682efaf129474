"""`flask taper demo-data --reset` and `make reset-demo`: start again from fresh demo data, and never wipe a
database that holds anything but demo data."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from taper import PROJECT_ROOT
from taper.domain.organisations import OrganisationKind, Role
from taper.extensions import db
from taper.models import Organisation, Patient, RecordedRegimen, User
from taper.services import demo_data, regimens
from taper.services.regimens import RegimenEntry
from tests.conftest import MORPHINE_BD, TODAY, Maker
from tests.databases import server_url

ON_POSTGRESQL = server_url() is not None


def _counts() -> tuple[int, int, int, int]:
    db.session.expire_all()
    return tuple(db.session.scalar(select(func.count()).select_from(model))  # type: ignore[return-value]
                 for model in (Organisation, User, Patient, RecordedRegimen))


def _load_demo(app: Flask) -> None:
    loaded = app.test_cli_runner().invoke(args=["taper", "demo-data"])
    assert loaded.exit_code == 0 and "Loaded synthetic demo data" in loaded.output, loaded.output


def _record_a_regimen_for_janet_clarke() -> None:
    clarke = db.session.scalars(select(Patient).where(Patient.family_name == "Clarke")).one()
    pharmacist = db.session.scalars(select(User).where(User.email == "pharmacist@demo.taper.invalid")).one()
    regimens.record_regimen(by=pharmacist, patient_id=clarke.id, entry=RegimenEntry(lines=[MORPHINE_BD]))
    db.session.commit()


@pytest.mark.skipif(ON_POSTGRESQL, reason="--reset makes a SQLite database anew; PostgreSQL is refused (below)")
def test_reset_demo_makes_the_sqlite_database_anew_with_fresh_demo_data(app: Flask) -> None:
    _load_demo(app)
    fresh = _counts()
    _record_a_regimen_for_janet_clarke()  # what someone trying the demo does
    assert _counts() == (*fresh[:3], fresh[3] + 1)

    reset = app.test_cli_runner().invoke(args=["taper", "demo-data", "--reset"])

    assert reset.exit_code == 0, reset.output
    assert "Deleted the demo database and migrated a new one." in reset.output
    assert "Loaded synthetic demo data" in reset.output and "gp@demo.taper.invalid" in reset.output
    assert _counts() == fresh  # Janet Clarke's regimen has gone with the rest of what was done
    clarke = db.session.scalars(select(Patient).where(Patient.family_name == "Clarke")).one()
    assert db.session.scalar(select(RecordedRegimen).where(RecordedRegimen.patient_id == clarke.id)) is None


def _a_user_from_elsewhere(make: Maker) -> None:
    clinic = db.session.scalars(select(Organisation).where(Organisation.ods_code == "ZZC01")).one()
    make.user(Role.PHARMACIST, clinic, email="real.pharmacist@nhs.net")


def _a_real_organisation(make: Maker) -> None:
    make.organisation(OrganisationKind.GP_PRACTICE, name="Infirmary Street Surgery")


def _a_patient_outside_the_test_range(make: Maker) -> None:
    practice = db.session.scalars(select(Organisation).where(Organisation.ods_code == "ZZG01")).one()
    pharmacist = db.session.scalars(select(User).where(User.email == "pharmacist@demo.taper.invalid")).one()
    make.patient(pharmacist, nhs_number="9434765919", gp_practice_id=practice.id)


@pytest.mark.parametrize(("add", "said"), [
    (_a_user_from_elsewhere, "1 user who is not a demo user"),
    (_a_real_organisation, "1 organisation that is not the demo's"),
    (_a_patient_outside_the_test_range, "1 patient with an NHS number outside the 999 test range"),
])
def test_reset_demo_refuses_a_database_that_holds_more_than_demo_data(app: Flask, make: Maker,
                                                                      add: Callable[[Maker], None],
                                                                      said: str) -> None:
    _load_demo(app)
    add(make)
    before = _counts()

    refused = app.test_cli_runner().invoke(args=["taper", "demo-data", "--reset"])

    assert refused.exit_code != 0
    assert said in refused.output and "it is never wiped" in refused.output
    assert "Deleted" not in refused.output and "Loaded" not in refused.output
    assert _counts() == before
    assert demo_data.not_demo_data() is not None


def test_reset_demo_refuses_in_production_before_looking_at_the_database(app: Flask, make: Maker) -> None:
    from dataclasses import replace

    _a_real_organisation(make)
    settings = app.extensions["taper.settings"]
    app.extensions["taper.settings"] = replace(settings, environment="production")
    try:
        refused = app.test_cli_runner().invoke(args=["taper", "demo-data", "--reset"])
    finally:
        app.extensions["taper.settings"] = settings
    assert refused.exit_code != 0 and "never loaded in production" in refused.output
    assert _counts()[0] == 1


@pytest.mark.skipif(not ON_POSTGRESQL, reason="PostgreSQL only (TAPER_DATABASE_URL)")
def test_reset_demo_on_postgresql_says_how_and_changes_nothing(app: Flask) -> None:
    _load_demo(app)
    _record_a_regimen_for_janet_clarke()
    before = _counts()

    refused = app.test_cli_runner().invoke(args=["taper", "demo-data", "--reset"])

    assert refused.exit_code != 0 and "on the SQLite database only" in refused.output
    assert _counts() == before


@pytest.mark.e2e
def test_make_reset_demo_starts_again_and_then_refuses_once_a_real_user_is_added(tmp_path: Path) -> None:
    """The Makefile target, as a person runs it, on its own instance folder (SQLite)."""
    environment = {name: value for name, value in os.environ.items()
                   if name not in {"TAPER_DATABASE_URL", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    environment |= {"TAPER_INSTANCE_PATH": str(tmp_path), "TAPER_TODAY": f"{TODAY.isoformat()}T10:00"}

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True,
                              timeout=300)

    def users() -> list[str]:
        with closing(sqlite3.connect(tmp_path / "taper.db")) as connection:
            return sorted(row[0] for row in connection.execute("SELECT email FROM users"))

    first = run("make", "--no-print-directory", "reset-demo")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Loaded synthetic demo data" in first.stdout
    assert users() == sorted(demo_data.DEMO_EMAILS)

    added = run(str(PROJECT_ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "taper", "create-user",
                "--email", "lead@nhs.net", "--name", "Lead Administrator", "--password", "a long enough password")
    assert added.returncode == 0, added.stderr

    refused = run("make", "--no-print-directory", "reset-demo")
    assert refused.returncode != 0
    assert "1 user who is not a demo user" in refused.stderr and "it is never wiped" in refused.stderr
    assert users() == sorted([*demo_data.DEMO_EMAILS, "lead@nhs.net"])
