from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from taper.domain.formulary import (
    FORMULARY_FILE,
    DoseUnit,
    FormularyDataError,
    Release,
    UnitForm,
    UnknownProduct,
    load_formulary,
)

# The stable product keys (Taper issue 3) and their strengths; other tools rely on these names.
REQUIRED = {
    "morphine-mr-tablet-12h": "5 10 15 30 60 100 200", "morphine-mr-capsule-24h": "30 60 90 120 150 200",
    "morphine-ir-tablet": "10 20 50", "morphine-oral-solution-10mg-5ml": None,
    "oxycodone-mr-tablet-12h": "5 10 15 20 30 40 60 80 120", "oxycodone-ir-capsule": "5 10 20",
    "oxycodone-oral-solution-5mg-5ml": None, "codeine-tablet": "15 30 60", "dihydrocodeine-tablet": "30",
    "dihydrocodeine-mr-tablet-12h": "60 90 120", "co-codamol-8-500-tablet": None,
    "co-codamol-15-500-tablet": None, "co-codamol-30-500-tablet": None, "tramadol-capsule": "50",
    "tramadol-mr-tablet-12h": "50 75 100 150 200", "tapentadol-ir-tablet": "50 75",
    "tapentadol-mr-tablet-12h": "50 100 150 200 250", "hydromorphone-ir-capsule": "1.3 2.6",
    "hydromorphone-mr-capsule-12h": "2 4 8 16 24", "buprenorphine-patch-7day": "5 10 15 20",
    "buprenorphine-patch-96h": "35 52.5 70", "fentanyl-patch-72h": "12 25 37.5 50 75 100",
    "methadone-oral-solution-1mg-ml": None,
}


def test_every_required_product_key_is_present_with_its_strengths() -> None:
    formulary = load_formulary()
    assert set(REQUIRED) <= set(formulary.products)
    for key, strengths in REQUIRED.items():
        if strengths is not None:
            assert formulary.get(key).strengths == tuple(Decimal(value) for value in strengths.split()), key


def test_every_row_is_valid() -> None:
    """Loading validates each row; here the facts that rules elsewhere depend on are checked once more."""
    for product in load_formulary():
        assert all(strength > 0 for strength in product.strengths)
        assert product.strengths_source and product.reviewed_on.year >= 2026
        assert product.dose_unit in DoseUnit and product.unit_form in UnitForm and product.release in Release
        if product.is_patch:
            assert product.patch_wear_hours in (72, 96, 168) and product.dose_unit is DoseUnit.MCG_PER_HOUR
        if product.max_daily_dose is not None:
            assert product.max_daily_dose_source
        assert not product.may_halve  # no product here may be split (MR must never be)


def test_patch_wear_times_and_the_12_microgram_fentanyl_patch() -> None:
    formulary = load_formulary()
    assert formulary.get("buprenorphine-patch-7day").wear_days == 7
    assert formulary.get("buprenorphine-patch-96h").wear_days == 4
    fentanyl = formulary.get("fentanyl-patch-72h")
    assert fentanyl.wear_days == 3
    assert fentanyl.release_rate(Decimal(12)) == Decimal("12.5")
    assert fentanyl.release_rate(Decimal(25)) == Decimal(25)


def test_methadone_is_recorded_but_never_tapered_automatically() -> None:
    assert load_formulary().get("methadone-oral-solution-1mg-ml").taper_automatically is False


def test_unknown_product_is_refused() -> None:
    with pytest.raises(UnknownProduct):
        load_formulary().get("morphine-mr-tablet-8h")


@pytest.mark.parametrize(
    ("column", "bad", "message"),
    [
        ("strengths", "5;-10", "positive"),
        ("strengths", "10;5", "rising order"),
        ("dose_unit", "grains", "unknown value"),
        ("strengths_source", "", "source"),
        ("max_daily_dose", "abc", "not a number"),
    ],
)
def test_a_broken_row_is_refused_with_its_place(tmp_path: Path, column: str, bad: str, message: str) -> None:
    import csv

    with FORMULARY_FILE.open(newline="") as source:
        rows = list(csv.DictReader(source))
    rows[0][column] = bad
    broken = tmp_path / "formulary.csv"
    with broken.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(FormularyDataError, match=f"row 2, column {column}: .*{message}"):
        load_formulary(broken)


def test_formulary_version_is_the_data_files_hash(tmp_path: Path) -> None:
    copy = tmp_path / "formulary.csv"
    shutil.copyfile(FORMULARY_FILE, copy)
    assert load_formulary(copy).version == load_formulary().version
    changed = tmp_path / "changed.csv"
    changed.write_text(copy.read_text().replace("MST Continus", "MST"))
    assert load_formulary(changed).version != load_formulary().version


def test_a_controlled_drug_schedule_that_is_not_one_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "formulary.csv"
    text = FORMULARY_FILE.read_text()
    broken.write_text(text.replace(",5;120=2,\n", ",5;110=2,\n", 1))
    with pytest.raises(FormularyDataError, match="cd_schedule: 110 is not one of the strengths"):
        load_formulary.__wrapped__(broken)
    broken.write_text(text.replace(",5;120=2,\n", ",1,\n", 1))
    with pytest.raises(FormularyDataError, match=r"'1' is not a controlled-drug schedule"):
        load_formulary.__wrapped__(broken)


# Issue 14, item 2: the immediate-release products a patient may take when needed, and the least gap between their
# when-needed doses in hours (docs/clinical-sources.md: Minimum gap between when-needed doses).
WHEN_NEEDED_GAP_HOURS = {
    "morphine-ir-tablet": 4, "morphine-oral-solution-10mg-5ml": 4, "oxycodone-ir-capsule": 4,
    "oxycodone-oral-solution-5mg-5ml": 4, "codeine-tablet": 6, "dihydrocodeine-tablet": 4,
    "co-codamol-8-500-tablet": 4, "co-codamol-15-500-tablet": 4, "co-codamol-30-500-tablet": 4,
    "tramadol-capsule": 4, "tapentadol-ir-tablet": 4, "hydromorphone-ir-capsule": 4,
}


def test_every_product_taken_when_needed_has_its_gap_and_no_other_product_has_one() -> None:
    formulary = load_formulary()
    for product in formulary:
        if product.key in WHEN_NEEDED_GAP_HOURS:
            assert product.release is Release.IR, product.key
            assert product.min_hours_between_doses == WHEN_NEEDED_GAP_HOURS[product.key], product.key
        else:
            assert product.min_hours_between_doses is None, product.key
    # every immediate-release product but methadone (recorded only, never taken when needed here) has a gap
    immediate = {product.key for product in formulary if product.release is Release.IR and product.taper_automatically}
    assert immediate == set(WHEN_NEEDED_GAP_HOURS)
    assert all(product.min_hours_between_doses is None for product in formulary
               if product.release is not Release.IR or product.is_patch)
    assert formulary.get("methadone-oral-solution-1mg-ml").min_hours_between_doses is None


def test_a_products_usual_doses_a_day_fit_into_24_hours_at_its_gap() -> None:
    for product in load_formulary():
        if product.min_hours_between_doses is not None and product.usual_doses_per_day is not None:
            assert product.usual_doses_per_day * product.min_hours_between_doses <= 24, product.key


def _with(tmp_path: Path, key: str, column: str, value: str) -> Path:
    import csv

    with FORMULARY_FILE.open(newline="") as source:
        rows = list(csv.DictReader(source))
    next(row for row in rows if row["key"] == key)[column] = value
    changed = tmp_path / "formulary.csv"
    with changed.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return changed


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("morphine-mr-tablet-12h", "12", "only an immediate-release product is taken when needed"),
        ("fentanyl-patch-72h", "4", "only an immediate-release product is taken when needed"),
        ("morphine-ir-tablet", "5", "6 usual doses a day cannot be 5 hours apart in 24 hours"),
        ("codeine-tablet", "25", "25 hours is more than a day"),
        ("codeine-tablet", "4.5", "must be a whole number"),
        ("codeine-tablet", "0", "must be a positive number"),
        ("codeine-tablet", "four", "is not a number"),
    ],
)
def test_a_gap_between_when_needed_doses_that_cannot_be_is_refused_with_its_place(
        tmp_path: Path, key: str, value: str, message: str) -> None:
    with pytest.raises(FormularyDataError, match=rf"row \d+, column min_hours_between_doses: .*{message}"):
        load_formulary.__wrapped__(_with(tmp_path, key, "min_hours_between_doses", value))


def test_the_formulary_document_gives_each_products_gap_between_when_needed_doses() -> None:
    from taper.domain.formulary_document import formulary_document
    from taper.domain.ome import get_factor_set

    document = formulary_document(load_formulary(), get_factor_set("fpm-2020"))
    gaps = {product["key"]: product["min_hours_between_doses"] for product in document["products"]}
    assert gaps == {product.key: WHEN_NEEDED_GAP_HOURS.get(product.key) for product in load_formulary()}
