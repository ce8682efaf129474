"""The formulary: opioid products available in England, their strengths and how they are given.

The facts live in `data/formulary.csv`, one row per product with the source of its strengths, and
`data/brands.csv`, one row per UK brand of a product with the strengths that brand comes in; this module loads
and validates them. Product keys are a stable interface (the engine's JSON, the CLI, other tools):
never rename one. Amounts are `Decimal` throughout, so that no dose is ever rounded by binary floating point.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TypeVar

DATA = Path(__file__).resolve().parent / "data"
FORMULARY_FILE = DATA / "formulary.csv"
BRANDS_FILE = DATA / "brands.csv"
# Liquid doses (issue 13 rule 4): measured in steps of the product's `measure_ml` (0.5 mL, which a patient can
# draw up reliably with an oral syringe; finer steps are false precision) and never below 1 mL.
MIN_LIQUID_DOSE_ML = Decimal(1)

E = TypeVar("E", bound=StrEnum)


class Release(StrEnum):
    IR = "ir"
    MR_12H = "mr-12h"
    MR_24H = "mr-24h"
    PATCH = "patch"

    @property
    def kind(self) -> str:
        """Immediate release, modified release or patch: the classes that should not be doubled up."""
        return {"ir": "immediate-release", "mr-12h": "modified-release", "mr-24h": "modified-release",
                "patch": "transdermal patch"}[self.value]


class UnitForm(StrEnum):
    TABLET = "tablet"
    CAPSULE = "capsule"
    PATCH = "patch"
    ML = "mL"


class DoseUnit(StrEnum):
    MG = "mg"
    MCG_PER_HOUR = "mcg/h"


class FormularyDataError(ValueError):
    """A row of a data file breaks a rule; the message names the file, row and column."""


class UnknownProduct(KeyError):
    """No product has this key."""


class UnknownBrand(KeyError):
    """The product has no brand of this name."""


@dataclass(frozen=True)
class Brand:
    """A UK brand of a product and the strengths it comes in (a brand need not have every strength: no 5 mg
    Morphgesic SR, no 12 microgram/hour Fentalis)."""

    name: str
    strengths: tuple[Decimal, ...]
    source: str


@dataclass(frozen=True)
class Product:
    key: str
    drug: str
    form: str
    release: Release
    route: str
    unit_form: UnitForm
    dose_unit: DoseUnit
    strengths: tuple[Decimal, ...]
    release_rates: dict[Decimal, Decimal] = field(hash=False)
    concentration_mg_per_ml: Decimal | None
    measure_ml: Decimal | None  # liquids only: the step a dose is measured in
    usual_doses_per_day: int | None
    patch_wear_hours: int | None
    max_patches: int | None
    paracetamol_mg_per_unit: Decimal | None
    max_daily_dose: Decimal | None
    max_daily_dose_source: str
    may_halve: bool
    taper_automatically: bool
    strengths_source: str
    reviewed_on: date
    notes: str
    # Strengths made by some brands only (fentanyl 37.5 micrograms/hour: Mezolar Matrix); a line that names no
    # brand never uses them, since a pharmacy supplying it generically may not have them.
    brand_only_strengths: tuple[Decimal, ...] = ()
    brands: tuple[Brand, ...] = ()
    # The brand a line names; `strengths` are then that brand's (Formulary.as_prescribed).
    brand: str | None = None
    # The Misuse of Drugs Regulations 2001 schedule (2, 3 or 5) of each strength (docs/clinical-sources.md:
    # Controlled drugs): it decides what a prescription must say (quantity in words and figures for 2 and 3).
    cd_schedules: dict[Decimal, int] = field(default_factory=dict, hash=False)
    # Immediate-release products taken when needed: the fewest hours from one when-needed dose to the next (the
    # shorter figure of the BNF's adult "every 4 to 6 hours"; docs/clinical-sources.md: Minimum gap between
    # when-needed doses). None for modified-release products, patches and methadone, never taken when needed here.
    min_hours_between_doses: int | None = None
    # How the maximum was entered and what is left to check ("entered from the BNF without a stored copy: verify
    # against the current BNF"): data provenance for the people who keep the formulary, never shown to users,
    # whom `max_daily_dose_source` (the citation) is shown to in findings.
    max_daily_dose_provenance: str = ""

    @property
    def is_patch(self) -> bool:
        return self.release is Release.PATCH

    @property
    def is_liquid(self) -> bool:
        return self.unit_form is UnitForm.ML

    @property
    def wear_days(self) -> Decimal | None:
        return None if self.patch_wear_hours is None else Decimal(self.patch_wear_hours) / 24

    def measurable(self, volume_ml: Decimal) -> bool:
        """A liquid volume a patient can measure: a whole number of measures, and at least 1 mL."""
        assert self.measure_ml is not None, f"{self.key} is not a liquid"
        return volume_ml >= MIN_LIQUID_DOSE_ML and volume_ml % self.measure_ml == 0

    def release_rate(self, strength: Decimal) -> Decimal:
        """Micrograms an hour a patch of this labelled strength releases (the '12' fentanyl patch gives 12.5)."""
        return self.release_rates.get(strength, strength)

    @property
    def prescribed_by_brand(self) -> bool:
        """Modified-release oral opioids and patches are prescribed by brand, so that a patient always gets
        the same product (docs/clinical-sources.md: Brands)."""
        return self.release is not Release.IR and bool(self.brands)

    def cd_schedule(self, strength: Decimal | None = None) -> int:
        """The controlled-drug schedule of a strength (of the product, for a liquid: None)."""
        return self.cd_schedules[strength if strength is not None else self.strengths[0]]

    def brand_named(self, name: str) -> Brand:
        """The brand of this name, matched without regard to case or repeated spaces; UnknownBrand if none."""
        wanted = " ".join(name.split()).casefold()
        for brand in self.brands:
            if brand.name.casefold() == wanted:
                return brand
        raise UnknownBrand(name)

    def label(self, *, in_sentence: bool = False) -> str:
        """'Morphine modified-release tablet', with the brand when the line names one ('Morphine modified-release
        tablet (MST Continus)'); `in_sentence`: lower case but for the brand."""
        # A combination product is named by its own name ("co-codamol 30/500 tablet"), never as "codeine
        # co-codamol", which can be read as codeine 30 mg alone.
        generic = self.form if self.paracetamol_mg_per_unit is not None else f"{self.drug} {self.form}"
        generic = generic if in_sentence else generic[0].upper() + generic[1:]
        return f"{generic} ({self.brand})" if self.brand else generic


@dataclass(frozen=True)
class Formulary:
    products: dict[str, Product]
    version: str  # the first 12 hex digits of the data file's SHA-256: every figure can name the data it used

    def get(self, key: str) -> Product:
        """The product with every strength any brand has (what the formulary lists)."""
        try:
            return self.products[key]
        except KeyError:
            raise UnknownProduct(key) from None

    def as_prescribed(self, key: str, brand: str | None) -> Product:
        """The product as a line prescribes it, with the strengths the patient can be given: those of the named
        brand, or with no brand those a pharmacy can supply generically (no brand-only strength). UnknownProduct
        or UnknownBrand if there is no such product or brand."""
        return _as_prescribed(self.get(key), brand)

    def __contains__(self, key: object) -> bool:
        return key in self.products

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.products.values())


@cache
def _as_prescribed(product: Product, brand: str | None) -> Product:
    if brand is None:
        generic = tuple(strength for strength in product.strengths if strength not in product.brand_only_strengths)
        return replace(product, strengths=generic) if generic != product.strengths else product
    named = product.brand_named(brand)
    return replace(product, strengths=named.strengths, brand=named.name)


@cache
def load_formulary(path: Path = FORMULARY_FILE, brands_path: Path = BRANDS_FILE) -> Formulary:
    """Read and validate the formulary and brands files (once per process)."""
    raw = path.read_bytes()
    raw_brands = brands_path.read_bytes()
    products: dict[str, Product] = {}
    for number, row in enumerate(csv.DictReader(raw.decode("utf-8").splitlines()), start=2):
        product = _product(row, _Row(path.name, number))
        if product.key in products:
            raise FormularyDataError(f"{path.name} row {number}: duplicate key {product.key}")
        products[product.key] = product
    _add_brands(products, raw_brands.decode("utf-8"), brands_path.name)
    return Formulary(products=products, version=hashlib.sha256(raw + raw_brands).hexdigest()[:12])


def _add_brands(products: dict[str, Product], text: str, file: str) -> None:
    """Each product's brands from the brands file: every brand's strengths are strengths of its product, and
    every brand-only strength of a product is made by at least one of its brands."""
    brands: dict[str, list[Brand]] = {key: [] for key in products}
    for number, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        where = _Row(file, number)
        key = _required(row["product"], "product", where)
        if key not in products:
            raise where.fail("product", f"unknown product {key!r}")
        name = " ".join(_required(row["brand"], "brand", where).split())
        strengths = tuple(_decimal(value, "strengths", where) for value in row["strengths"].split(";"))
        if list(strengths) != sorted(set(strengths)) or not set(strengths) <= set(products[key].strengths):
            raise where.fail("strengths", f"need strengths of {key} in rising order, each once")
        if any(brand.name.casefold() == name.casefold() for brand in brands[key]):
            raise where.fail("brand", f"{name} is listed twice for {key}")
        _required(row["source"], "source", where)
        _date(row["reviewed_on"], "reviewed_on", where)
        brands[key].append(Brand(name=name, strengths=strengths, source=row["source"].strip()))
    for key, product in products.items():
        unmade = [strength for strength in product.brand_only_strengths
                  if not any(strength in brand.strengths for brand in brands[key])]
        if unmade:
            raise FormularyDataError(f"{file}: no brand of {key} has its brand-only strength {unmade[0]}")
        products[key] = replace(product, brands=tuple(brands[key]))


class _Row:
    """Where a value came from, for error messages."""

    def __init__(self, file: str, number: int):
        self.where = f"{file} row {number}"

    def fail(self, column: str, problem: str) -> FormularyDataError:
        return FormularyDataError(f"{self.where}, column {column}: {problem}")


def _product(row: dict[str, str], where: _Row) -> Product:
    strengths = tuple(_decimal(value, "strengths", where) for value in row["strengths"].split(";"))
    if not strengths or any(strength <= 0 for strength in strengths) or list(strengths) != sorted(set(strengths)):
        raise where.fail("strengths", "need positive strengths in rising order, each once")
    release = _enum(Release, row["release"], "release", where)
    unit_form = _enum(UnitForm, row["unit_form"], "unit_form", where)
    dose_unit = _enum(DoseUnit, row["dose_unit"], "dose_unit", where)
    is_patch = release is Release.PATCH
    if is_patch != (unit_form is UnitForm.PATCH) or is_patch != (dose_unit is DoseUnit.MCG_PER_HOUR):
        raise where.fail("release", "patches, and only patches, are dosed in mcg/h and given as patches")
    wear_hours = _optional_int(row["patch_wear_hours"], "patch_wear_hours", where)
    if is_patch != (wear_hours is not None):
        raise where.fail("patch_wear_hours", "every patch, and nothing else, has a wear time")
    concentration = _optional_decimal(row["concentration_mg_per_ml"], "concentration_mg_per_ml", where)
    if (unit_form is UnitForm.ML) != (concentration is not None):
        raise where.fail("concentration_mg_per_ml", "every liquid, and nothing else, has a concentration")
    if concentration is not None and strengths != (concentration,):
        raise where.fail("strengths", "a liquid's only strength is its concentration in mg per mL")
    measure_ml = _optional_decimal(row["measure_ml"], "measure_ml", where)
    if (concentration is not None) != (measure_ml is not None and measure_ml > 0):
        raise where.fail("measure_ml", "every liquid, and nothing else, has a positive measure in mL")
    max_daily_dose = _optional_decimal(row["max_daily_dose"], "max_daily_dose", where)
    if max_daily_dose is not None and not row["max_daily_dose_source"].strip():
        raise where.fail("max_daily_dose_source", "a maximum needs its source")
    if not row["strengths_source"].strip():
        raise where.fail("strengths_source", "strengths need their source")
    usual_doses_per_day = _optional_int(row["usual_doses_per_day"], "usual_doses_per_day", where)
    min_gap_hours = _min_hours_between_doses(row["min_hours_between_doses"], release, usual_doses_per_day, where)
    return Product(
        key=_required(row["key"], "key", where),
        drug=_required(row["drug"], "drug", where),
        form=_required(row["form"], "form", where),
        release=release,
        route=_required(row["route"], "route", where),
        unit_form=unit_form,
        dose_unit=dose_unit,
        strengths=strengths,
        release_rates=_release_rates(row["release_rate_overrides"], strengths, where),
        concentration_mg_per_ml=concentration,
        measure_ml=measure_ml,
        usual_doses_per_day=usual_doses_per_day,
        patch_wear_hours=wear_hours,
        max_patches=_optional_int(row["max_patches"], "max_patches", where),
        paracetamol_mg_per_unit=_optional_decimal(row["paracetamol_mg_per_unit"], "paracetamol_mg_per_unit", where),
        max_daily_dose=max_daily_dose,
        max_daily_dose_source=row["max_daily_dose_source"].strip(),
        may_halve=_yes_no(row["may_halve"], "may_halve", where),
        taper_automatically=_yes_no(row["taper_automatically"], "taper_automatically", where),
        strengths_source=row["strengths_source"].strip(),
        reviewed_on=_date(row["reviewed_on"], "reviewed_on", where),
        notes=row["notes"].strip(),
        brand_only_strengths=_brand_only(row["brand_only_strengths"], strengths, where),
        cd_schedules=_cd_schedules(row["cd_schedule"], strengths, where),
        min_hours_between_doses=min_gap_hours,
        max_daily_dose_provenance=row["max_daily_dose_provenance"].strip(),
    )


HOURS_A_DAY = 24


def _min_hours_between_doses(raw: str, release: Release, usual_doses_per_day: int | None,
                             where: _Row) -> int | None:
    """Whole hours from one when-needed dose to the next: only an immediate-release product has one, and its
    usual doses a day fit into 24 hours at that gap (6 doses 4 hours apart, 4 doses 6 hours apart)."""
    hours = _optional_int(raw, "min_hours_between_doses", where)
    if hours is None:
        return None
    if release is not Release.IR:
        raise where.fail("min_hours_between_doses", "only an immediate-release product is taken when needed")
    if hours > HOURS_A_DAY:
        raise where.fail("min_hours_between_doses", f"{hours} hours is more than a day")
    if usual_doses_per_day is not None and usual_doses_per_day * hours > HOURS_A_DAY:
        raise where.fail("min_hours_between_doses",
                         f"{usual_doses_per_day} usual doses a day cannot be {hours} hours apart in 24 hours")
    return hours


CD_SCHEDULES = (2, 3, 4, 5)


def _cd_schedules(raw: str, strengths: tuple[Decimal, ...], where: _Row) -> dict[Decimal, int]:
    """'2' (every strength), or '5;120=2' (Schedule 5 but the 120 mg, Schedule 2)."""
    default, *overrides = raw.split(";")
    schedules = dict.fromkeys(strengths, _schedule(default, where))
    for pair in overrides:
        label, _, value = pair.partition("=")
        strength = _decimal(label, "cd_schedule", where)
        if strength not in strengths:
            raise where.fail("cd_schedule", f"{label} is not one of the strengths")
        schedules[strength] = _schedule(value, where)
    return schedules


def _schedule(value: str, where: _Row) -> int:
    if not value.strip().isdigit() or int(value) not in CD_SCHEDULES:
        raise where.fail("cd_schedule", f"{value!r} is not a controlled-drug schedule (2, 3, 4 or 5)")
    return int(value)


def _brand_only(raw: str, strengths: tuple[Decimal, ...], where: _Row) -> tuple[Decimal, ...]:
    only = tuple(_decimal(value, "brand_only_strengths", where) for value in filter(None, raw.split(";")))
    if not set(only) <= set(strengths) or set(only) == set(strengths):
        raise where.fail("brand_only_strengths", "must be some, not all, of the product's strengths")
    return only


def _release_rates(raw: str, strengths: tuple[Decimal, ...], where: _Row) -> dict[Decimal, Decimal]:
    rates: dict[Decimal, Decimal] = {}
    for pair in filter(None, raw.split(";")):
        label, _, rate = pair.partition("=")
        strength = _decimal(label, "release_rate_overrides", where)
        if strength not in strengths:
            raise where.fail("release_rate_overrides", f"{label} is not one of the strengths")
        rates[strength] = _decimal(rate, "release_rate_overrides", where)
    return rates


def _required(value: str, column: str, where: _Row) -> str:
    if not value.strip():
        raise where.fail(column, "is empty")
    return value.strip()


def _decimal(value: str, column: str, where: _Row) -> Decimal:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise where.fail(column, f"{value!r} is not a number") from None
    if not number.is_finite() or number <= 0:
        raise where.fail(column, f"{value!r} must be a positive number")
    return number


def _optional_decimal(value: str, column: str, where: _Row) -> Decimal | None:
    return _decimal(value, column, where) if value.strip() else None


def _optional_int(value: str, column: str, where: _Row) -> int | None:
    if not value.strip():
        return None
    number = _decimal(value, column, where)
    if number != number.to_integral_value():
        raise where.fail(column, f"{value!r} must be a whole number")
    return int(number)


def _enum(kind: type[E], value: str, column: str, where: _Row) -> E:
    try:
        return kind(value.strip())
    except ValueError:
        raise where.fail(column, f"unknown value {value!r}: expected one of {', '.join(kind)}") from None


def _yes_no(value: str, column: str, where: _Row) -> bool:
    if value.strip() not in ("yes", "no"):
        raise where.fail(column, f"expected yes or no, not {value!r}")
    return value.strip() == "yes"


def _date(value: str, column: str, where: _Row) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise where.fail(column, f"{value!r} is not a date like 2026-11-28") from None
