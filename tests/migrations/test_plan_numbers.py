"""The plans_per_patient revision numbers existing plans 1, 2, ... per patient in the order they were made."""

from __future__ import annotations

from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from taper import PROJECT_ROOT
from taper.extensions import db
from taper.services import demo_data

MIGRATIONS = str(PROJECT_ROOT / "migrations")
BEFORE_NUMBERS = "e7a4c2d9b1f6"


def test_existing_plans_are_numbered_per_patient_in_id_order(empty_app: Flask) -> None:
    upgrade(directory=MIGRATIONS)
    demo_data.load_if_empty()
    db.session.commit()
    db.session.remove()
    downgrade(directory=MIGRATIONS, revision=BEFORE_NUMBERS)
    with db.engine.begin() as connection:
        patient_id = connection.execute(text("SELECT patient_id FROM plans ORDER BY id LIMIT 1")).scalar_one()
        # Another, later plan for that patient (a stopped draft), made before plans had numbers.
        connection.execute(text(
            "INSERT INTO plans (patient_id, status, instalment_days, review_every_days, created_by_id, created_at,"
            " outcome_reason, current_version_number, version) SELECT patient_id, 'stopped', instalment_days,"
            " review_every_days, created_by_id, created_at, 'Changed', current_version_number, version"
            " FROM plans WHERE patient_id = :patient ORDER BY id LIMIT 1"), {"patient": patient_id})
    upgrade(directory=MIGRATIONS)
    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT patient_id, id, number FROM plans ORDER BY patient_id, id")).all()
    expected, seen = [], {}
    for patient, _, _ in rows:
        seen[patient] = seen.get(patient, 0) + 1
        expected.append(seen[patient])
    assert [number for _, _, number in rows] == expected
    assert [number for patient, _, number in rows if patient == patient_id][-1] >= 2
