from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from taper.domain.organisations import Role
from taper.extensions import db
from taper.models import AuditEvent, Organisation, Patient, User


def test_create_user_makes_the_first_admin(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=[
        "taper", "create-user", "--email", "Admin@Example.nhs.uk", "--name", "First Admin",
        "--password", "a long enough passphrase"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User))
    assert (user.email, user.role, user.organisation_id) == ("admin@example.nhs.uk", Role.ADMIN, None)
    created = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "create"))
    assert (created.actor_label, created.origin) == ("system", "cli")


def test_create_user_refuses_a_weak_password_and_saves_nothing(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=[
        "taper", "create-user", "--email", "a@example.nhs.uk", "--name", "A", "--password", "short"])
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_demo_data_loads_once_and_is_marked_synthetic(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["taper", "demo-data"])
    assert first.exit_code == 0 and "Loaded synthetic demo data" in first.output
    assert "pharmacist@demo.taper.invalid" in first.output
    patients = db.session.scalars(select(Patient)).all()
    assert len(patients) >= 20
    assert all(patient.nhs_number.startswith("999") for patient in patients)
    assert all(organisation.synthetic for organisation in db.session.scalars(select(Organisation)))
    assert {user.role for user in db.session.scalars(select(User))} == set(Role)
    second = runner.invoke(args=["taper", "demo-data"])
    assert "already has data" in second.output
    assert db.session.scalar(select(func.count()).select_from(Patient)) == len(patients)


def test_formulary_prints_every_stable_key_with_factor_and_source(app: Flask) -> None:
    import json

    from tests.domain.test_formulary import REQUIRED

    result = app.test_cli_runner().invoke(args=["taper", "formulary"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    products = {product["key"]: product for product in document["products"]}
    assert set(REQUIRED) <= set(products)
    assert document["factor_set"]["key"] == "fpm-2020"
    fentanyl = products["fentanyl-patch-72h"]
    assert (fentanyl["strengths"], fentanyl["patch_wear_hours"], fentanyl["dose_unit"]) == (
        [12, 25, 37.5, 50, 75, 100], 72, "mcg/h")
    assert fentanyl["ome"]["factor"] == 2.4 and fentanyl["ome"]["source"].startswith("FPM Opioids Aware")
    # Brands (issue 13 rule 8): each with its strengths and source; the brand-only strength named.
    assert fentanyl["brand_only_strengths"] == [37.5] and fentanyl["prescribed_by_brand"] is True
    brands = {brand["name"]: brand["strengths"] for brand in fentanyl["brands"]}
    assert brands["Mezolar Matrix"] == [12, 25, 37.5, 50, 75, 100] and brands["Fentalis"] == [25, 50, 75, 100]
    assert all(brand["source"] for brand in fentanyl["brands"])
    assert products["codeine-tablet"]["brands"] == [] and products["codeine-tablet"]["prescribed_by_brand"] is False
    methadone = products["methadone-oral-solution-1mg-ml"]["ome"]
    assert (methadone["calculable"], methadone["factor"]) == (False, None)
    assert "specialist" in methadone["notes"]


def test_formulary_under_another_factor_set_and_an_unknown_one(app: Flask) -> None:
    import json

    runner = app.test_cli_runner()
    cdc = json.loads(runner.invoke(args=["taper", "formulary", "--factor-set", "cdc-2022"]).output)
    tramadol = next(product for product in cdc["products"] if product["key"] == "tramadol-capsule")
    assert tramadol["ome"]["factor"] == 0.2
    unknown = runner.invoke(args=["taper", "formulary", "--factor-set", "who-1986"])
    assert unknown.exit_code != 0 and "unknown factor set 'who-1986'" in unknown.output


def test_demo_data_includes_recorded_regimens_with_their_ome(app: Flask) -> None:
    from taper.models import RecordedRegimen

    app.test_cli_runner().invoke(args=["taper", "demo-data"])
    records = db.session.scalars(select(RecordedRegimen).where(RecordedRegimen.source == "pharmacist")).all()
    assert len(records) >= 5
    totals = {record.lines[0]["product"]: record.total_ome_mg_per_day for record in records}
    assert totals["morphine-mr-tablet-12h"] == 140  # 2 x 60 mg regular + usually 2 x 10 mg when needed
    assert totals["fentanyl-patch-72h"] == 120  # FPM: 50 micrograms/hour = 120 mg a day
