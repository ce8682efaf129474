"""Oral morphine equivalents (OME): factor sets with provenance, and the one place OME is computed.

A factor set is a table of (drug, route) -> factor from one source, with a version. Oral factors are mg of
oral morphine per mg of the drug; transdermal factors are mg of oral morphine per 24 hours per microgram an
hour released. Where a set gives no factor (methadone in the UK set, buprenorphine in CDC 2022) the OME is
not calculable: `None`, never zero and never a guess. Sources: `data/ome_factors.csv` (a source and link on every
row), and docs/clinical-sources.md, OME conversion factors and their sets, which says where the rows were taken from.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from taper.domain.formulary import DATA, DoseUnit, FormularyDataError, Product

FACTOR_SETS_FILE = DATA / "factor_sets.csv"
FACTORS_FILE = DATA / "ome_factors.csv"
FACTOR_UNITS = {"oral": DoseUnit.MG, "transdermal": DoseUnit.MCG_PER_HOUR}


class UnknownFactorSet(KeyError):
    pass


@dataclass(frozen=True)
class Factor:
    drug: str
    route: str
    value: Decimal | None  # None: this source gives no factor, so OME is not calculable
    source: str
    link: str
    source_date: str
    notes: str


@dataclass(frozen=True)
class FactorSet:
    key: str
    version: str
    name: str
    description: str
    is_default: bool
    factors: tuple[Factor, ...]

    def factor_for(self, product: Product) -> Factor | None:
        """This set's row for the product's drug and route (None if the set has no row for it at all)."""
        for factor in self.factors:
            if factor.drug == product.drug and factor.route == product.route:
                return factor
        return None

    @property
    def label(self) -> str:
        return f"{self.name}, version {self.version}"


@cache
def load_factor_sets(sets_path: Path = FACTOR_SETS_FILE, factors_path: Path = FACTORS_FILE) -> dict[str, FactorSet]:
    """Every factor set, validated: known routes and units, positive factors, a source on every row."""
    factors: dict[str, list[Factor]] = {}
    for number, row in enumerate(_rows(factors_path), start=2):
        where = f"{factors_path.name} row {number}"
        route = row["route"]
        if FACTOR_UNITS.get(route) != row["unit"]:
            raise FormularyDataError(f"{where}: route {route!r} with unit {row['unit']!r} is not a known pairing")
        if not (row["source"].strip() and row["link"].startswith("https://") and row["source_date"].strip()):
            raise FormularyDataError(f"{where}: every factor needs a source, an https link and a date")
        value = _factor(row["factor"], where)
        if value is None and not row["notes"].strip():
            raise FormularyDataError(f"{where}: a missing factor needs a note saying why")
        factors.setdefault(row["factor_set"], []).append(Factor(
            drug=row["drug"], route=route, value=value, source=row["source"], link=row["link"],
            source_date=row["source_date"], notes=row["notes"]))
    sets: dict[str, FactorSet] = {}
    for number, row in enumerate(_rows(sets_path), start=2):
        key = row["key"]
        if key not in factors:
            raise FormularyDataError(f"{sets_path.name} row {number}: factor set {key} has no factors")
        rows = factors.pop(key)
        pairs = [(factor.drug, factor.route) for factor in rows]
        if len(pairs) != len(set(pairs)):
            raise FormularyDataError(f"{factors_path.name}: factor set {key} lists a drug and route twice")
        sets[key] = FactorSet(key=key, version=row["version"], name=row["name"], description=row["description"],
                              is_default=row["default"] == "yes", factors=tuple(rows))
    if factors:
        raise FormularyDataError(f"{factors_path.name}: factors for unknown sets {sorted(factors)}")
    if sum(factor_set.is_default for factor_set in sets.values()) != 1:
        raise FormularyDataError(f"{sets_path.name}: exactly one factor set must be the default")
    return sets


def default_factor_set() -> FactorSet:
    return next(factor_set for factor_set in load_factor_sets().values() if factor_set.is_default)


def get_factor_set(key: str) -> FactorSet:
    try:
        return load_factor_sets()[key]
    except KeyError:
        raise UnknownFactorSet(key) from None


def ome_mg_per_day(product: Product, amount_per_day: Decimal, factor_set: FactorSet) -> Decimal | None:
    """Oral morphine equivalent, in mg a day, of `amount_per_day` of the product (mg a day for oral products;
    micrograms an hour released, for patches). None when the set has no factor for the product."""
    factor = factor_set.factor_for(product)
    if factor is None or factor.value is None:
        return None
    return amount_per_day * factor.value


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _factor(raw: str, where: str) -> Decimal | None:
    if not raw.strip():
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise FormularyDataError(f"{where}: factor {raw!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise FormularyDataError(f"{where}: factor {raw!r} must be positive")
    return value
