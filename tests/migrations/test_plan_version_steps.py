"""The plan_version_steps revision copies every stored version's steps from its schedule document: the same
rows the plan services write (taper.services.plan_steps)."""

from __future__ import annotations

from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from taper import PROJECT_ROOT
from taper.extensions import db
from taper.models import PlanVersion, PlanVersionStep
from taper.services import demo_data

MIGRATIONS = str(PROJECT_ROOT / "migrations")
BEFORE_STEPS = "f3c8a2d6b4e9"


def _steps() -> list[tuple[object, ...]]:
    return [tuple(row) for row in db.session.execute(select(
        PlanVersionStep.plan_version_id, PlanVersionStep.number, PlanVersionStep.starts_on, PlanVersionStep.ends_on,
        PlanVersionStep.ome_mg_per_day).order_by(PlanVersionStep.plan_version_id, PlanVersionStep.number))]


def test_the_revision_copies_every_versions_steps_as_the_services_write_them(empty_app: Flask) -> None:
    upgrade(directory=MIGRATIONS)
    demo_data.load_if_empty()
    db.session.commit()
    written = _steps()
    versions = list(db.session.scalars(select(PlanVersion)))
    assert versions and len(written) == sum(len(version.schedule["steps"]) for version in versions)
    db.session.remove()
    downgrade(directory=MIGRATIONS, revision=BEFORE_STEPS)
    upgrade(directory=MIGRATIONS)
    assert _steps() == written
