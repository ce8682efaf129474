"""The schema comes only from migrations: up from empty, down to nothing and up again, and no difference
from the models (on whichever database this run uses: SQLite or PostgreSQL)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from taper import PROJECT_ROOT
from taper.database import include_name
from taper.extensions import db

MIGRATIONS = str(PROJECT_ROOT / "migrations")


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def _schema_differences() -> list[object]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include_name})
        return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_creates_every_model_table(empty_app: Flask) -> None:
    assert _tables() == set()
    upgrade(directory=MIGRATIONS)
    assert _tables() == set(db.metadata.tables)


def test_downgrade_to_base_then_upgrade_again(empty_app: Flask) -> None:
    upgrade(directory=MIGRATIONS)
    downgrade(directory=MIGRATIONS, revision="base")
    assert _tables() == set()
    upgrade(directory=MIGRATIONS)
    assert _tables() == set(db.metadata.tables)
    assert _schema_differences() == []


def test_models_and_migrations_agree(empty_app: Flask) -> None:
    upgrade(directory=MIGRATIONS)
    assert _schema_differences() == []


def test_models_and_migrations_disagree_is_detected(empty_app: Flask) -> None:
    """The comparison above can fail: a column the migrations lack is reported."""
    upgrade(directory=MIGRATIONS)
    with db.engine.begin() as connection:
        connection.execute(text("ALTER TABLE organisations ADD COLUMN stray INTEGER"))
    assert _schema_differences() != []


def test_downgrade_and_upgrade_with_data_keeps_the_data_that_survives(empty_app: Flask) -> None:
    """Every revision goes down and up again with the demo data loaded (SQLite rebuilds tables in batch mode)."""
    from sqlalchemy import func, select

    from taper.models import Patient
    from taper.services import demo_data

    upgrade(directory=MIGRATIONS)
    demo_data.load_if_empty()
    db.session.commit()
    patients = db.session.scalar(select(func.count()).select_from(Patient))
    db.session.remove()  # no open transaction may hold locks on the tables being altered
    downgrade(directory=MIGRATIONS, revision="4c262b727266")  # the first revision: patients survive it
    assert db.session.scalar(select(func.count()).select_from(Patient)) == patients
    db.session.remove()
    upgrade(directory=MIGRATIONS)
    assert db.session.scalar(select(func.count()).select_from(Patient)) == patients
    assert _schema_differences() == []


def test_a_recorded_fentanyl_line_needing_the_37_5_patch_is_given_its_only_brand(empty_app: Flask) -> None:
    """Issue 13 rule 8: an unbranded line cannot use a brand-only strength, so the data migration names Mezolar
    Matrix (the only maker of the 37.5 patch) on exactly the fentanyl lines whose rate needs it; going down
    removes every brand, which the earlier code refuses."""
    import sqlalchemy as sa

    from taper.services import demo_data

    regimens = sa.table("regimens", sa.column("id", sa.Integer()), sa.column("lines", sa.JSON()))

    def stored() -> dict[int, list[dict[str, object]]]:
        return {row.id: row.lines for row in db.session.execute(sa.select(regimens.c.id, regimens.c.lines))}

    upgrade(directory=MIGRATIONS)
    demo_data.load_if_empty()
    db.session.commit()
    db.session.remove()
    downgrade(directory=MIGRATIONS, revision="5b8e1d7c3a92")
    before = stored()
    assert before and not any("brand" in line for lines in before.values() for line in lines)
    first, second = sorted(before)[:2]
    needs_it = [{"product": "fentanyl-patch-72h", "patch_mcg_per_hour": 62.5},
                {"product": "morphine-mr-tablet-12h", "doses": [{"time": "08:00", "dose_mg": 10}]}]
    generic = [{"product": "fentanyl-patch-72h", "patch_mcg_per_hour": 75}]
    db.session.execute(regimens.update().where(regimens.c.id == first).values(lines=needs_it))
    db.session.execute(regimens.update().where(regimens.c.id == second).values(lines=generic))
    db.session.commit()
    db.session.remove()
    upgrade(directory=MIGRATIONS)
    after = stored()
    assert after[first] == [{**needs_it[0], "brand": "Mezolar Matrix"}, needs_it[1]]
    assert after[second] == generic
    assert all(after[key] == before[key] for key in before if key not in (first, second))
