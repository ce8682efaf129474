"""A patient's current opioid regimen: regular doses at times of day, as-needed (PRN) doses and patches.

`parse_regimen` reads the JSON shape shared with the tapering engine's contract (docs/schedule-api.md):

    [{"product": "morphine-mr-tablet-12h", "doses": [{"time": "08:00", "dose_mg": 30}, ...]},
     {"product": "oxycodone-ir-capsule", "prn": {"dose_mg": 5, "usual_per_day": 2, "max_per_day": 4}},
     {"product": "fentanyl-patch-72h", "brand": "Matrifen", "patch_mcg_per_hour": 37}]

and refuses anything it cannot read exactly, naming the field (`regimen[1].prn.max_per_day`) and the value, and
any field it does not know (`regimen[0].every_hours`). A line may name the `brand` it is prescribed by; its
doses are then made from that brand's strengths, and without one from the strengths any pharmacy can supply.
Doses are in mg of the opioid (for co-codamol: mg of codeine); patches in micrograms an hour, as labelled.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Any

from taper.domain.formulary import Formulary, Product, UnknownBrand, UnknownProduct
from taper.domain.makeable import Units, fewest_units

# More patches than this at once is not a regimen anyone is on; refuse it as a typing error.
MAX_PATCHES_RECORDED = 6
MAX_DOSES_PER_DAY = 24
# The fields each object may have: anything else is refused by its path, so a misspelt or unsupported field
# is never silently ignored.
LINE_FIELDS = ("product", "brand", "doses", "prn", "patch_mcg_per_hour")
DOSE_FIELDS = ("time", "dose_mg")
PRN_FIELDS = ("dose_mg", "usual_per_day", "max_per_day")
_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True)
class TimedDose:
    at: time
    dose_mg: Decimal
    # The tablets or capsules it is taken as, when a step of a plan says so (a re-plan goes on from them);
    # empty when only the dose is known (the engine then makes it from the fewest units).
    units: Units = ()


@dataclass(frozen=True)
class RegularLine:
    product: str
    doses: tuple[TimedDose, ...]
    brand: str | None = None  # the brand prescribed (its name as the formulary spells it); None: generic

    def amount_per_day(self) -> Decimal:
        return sum((dose.dose_mg for dose in self.doses), Decimal(0))


@dataclass(frozen=True)
class PrnLine:
    product: str
    dose_mg: Decimal
    usual_per_day: int
    max_per_day: int
    brand: str | None = None


@dataclass(frozen=True)
class PatchLine:
    product: str
    mcg_per_hour: Decimal  # the sum of the labelled strengths of the patches worn together
    patches: Units  # which patches make it up (fewest patches)
    brand: str | None = None


Line = RegularLine | PrnLine | PatchLine


@dataclass(frozen=True)
class Regimen:
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class RegimenError(ValueError):
    """The regimen cannot be read exactly; `errors` says where and why. Nothing about it may be saved."""

    def __init__(self, errors: Sequence[FieldError]):
        super().__init__("; ".join(f"{error.field}: {error.message}" for error in errors))
        self.errors = list(errors)


def parse_regimen(data: Any, formulary: Formulary, *, field: str = "regimen") -> Regimen:
    """Read a regimen from its JSON shape, or raise RegimenError listing every problem found."""
    errors: list[FieldError] = []
    if not isinstance(data, list) or not data:
        raise RegimenError([FieldError(field, "must list at least one medicine")])
    lines = []
    for index, raw in enumerate(data):
        line = _line(raw, formulary, f"{field}[{index}]", errors)
        if line is not None:
            lines.append(line)
    if errors:
        raise RegimenError(errors)
    return Regimen(lines=tuple(lines))


def regimen_to_json(regimen: Regimen) -> list[dict[str, Any]]:
    """The JSON shape `parse_regimen` reads (numbers as JSON numbers, exact for these decimals)."""
    shaped: list[dict[str, Any]] = []
    for line in regimen.lines:
        named: dict[str, Any] = {"product": line.product} | ({"brand": line.brand} if line.brand else {})
        if isinstance(line, RegularLine):
            shaped.append(named | {"doses": [
                {"time": dose.at.strftime("%H:%M"), "dose_mg": json_number(dose.dose_mg)} for dose in line.doses]})
        elif isinstance(line, PrnLine):
            shaped.append(named | {"prn": {
                "dose_mg": json_number(line.dose_mg), "usual_per_day": line.usual_per_day,
                "max_per_day": line.max_per_day}})
        else:
            shaped.append(named | {"patch_mcg_per_hour": json_number(line.mcg_per_hour)})
    return shaped


def unknown_fields(raw: Mapping[str, Any], expected: Sequence[str], field: str) -> list[FieldError]:
    """One error for each field of `raw` not in `expected`, each named by its path (`regimen[0].brand`)."""
    return [FieldError(f"{field}.{name}" if field else str(name),
                       f"unknown field {name!r}: expected one of " + ", ".join(expected))
            for name in sorted(map(str, set(raw) - set(expected)))]


def json_number(value: Decimal) -> int | float:
    """A decimal as a JSON number: whole numbers as integers; the others (52.5, 1.3) as their shortest float."""
    return int(value) if value == value.to_integral_value() else float(value)


def _line(raw: Any, formulary: Formulary, field: str, errors: list[FieldError]) -> Line | None:
    if not isinstance(raw, Mapping):
        errors.append(FieldError(field, "must be an object with a product"))
        return None
    errors.extend(unknown_fields(raw, LINE_FIELDS, field))
    key = raw.get("product")
    try:
        product = formulary.get(key) if isinstance(key, str) else None
    except UnknownProduct:
        product = None
    if product is None:
        errors.append(FieldError(f"{field}.product", f"unknown product {key!r}: choose one from the formulary"))
        return None
    product = _as_prescribed(formulary, product, raw.get("brand"), f"{field}.brand", errors)
    if product is None:
        return None
    kinds = [name for name in ("doses", "prn", "patch_mcg_per_hour") if name in raw]
    if len(kinds) != 1:
        errors.append(FieldError(field, "give exactly one of doses (regular), prn (as needed) or "
                                        "patch_mcg_per_hour (patches)"))
        return None
    kind = kinds[0]
    if product.is_patch != (kind == "patch_mcg_per_hour"):
        message = (f"{product.label()} is a patch: record the patches worn (patch_mcg_per_hour)" if product.is_patch
                   else f"{product.label()} is not a patch: record regular doses or as-needed doses")
        errors.append(FieldError(f"{field}.{kind}", message))
        return None
    if kind == "doses":
        return _regular(product, raw["doses"], f"{field}.doses", errors)
    if kind == "prn":
        return _prn(product, raw["prn"], f"{field}.prn", errors)
    return _patch(product, raw["patch_mcg_per_hour"], f"{field}.patch_mcg_per_hour", errors)


def _as_prescribed(formulary: Formulary, product: Product, brand: Any, field: str,
                   errors: list[FieldError]) -> Product | None:
    """The product with the strengths of the brand the line names (none: those supplied generically)."""
    choices = ", ".join(known.name for known in product.brands)
    if brand is not None and (not isinstance(brand, str) or not brand.strip()):
        errors.append(FieldError(field, f"must be the name of a brand ({choices or 'none known'}), not {brand!r}"))
        return None
    try:
        return formulary.as_prescribed(product.key, brand)
    except UnknownBrand:
        errors.append(FieldError(field, f"{product.label()} has no brand {brand!r} in the formulary: "
                                        + (f"choose one of {choices}" if choices else "leave the brand out")))
        return None


def _regular(product: Product, raw: Any, field: str, errors: list[FieldError]) -> RegularLine | None:
    if not isinstance(raw, list) or not raw:
        errors.append(FieldError(field, "list at least one dose with its time"))
        return None
    if len(raw) > MAX_DOSES_PER_DAY:
        errors.append(FieldError(field, f"at most {MAX_DOSES_PER_DAY} doses a day"))
        return None
    doses: list[TimedDose] = []
    for index, entry in enumerate(raw):
        where = f"{field}[{index}]"
        if not isinstance(entry, Mapping):
            errors.append(FieldError(where, "must give a time and a dose_mg"))
            continue
        errors.extend(unknown_fields(entry, DOSE_FIELDS, where))
        at = _time(entry.get("time"), f"{where}.time", errors)
        dose = _positive(entry.get("dose_mg"), f"{where}.dose_mg", "dose", errors)
        if at is not None and dose is not None:
            doses.append(TimedDose(at=at, dose_mg=dose))
    times = [dose.at for dose in doses]
    if len(times) != len(set(times)):
        errors.append(FieldError(field, "two doses at the same time: give each time once, with its total dose"))
        return None
    if len(doses) != len(raw):
        return None
    return RegularLine(product=product.key, doses=tuple(sorted(doses, key=lambda dose: dose.at)),
                       brand=product.brand)


def _prn(product: Product, raw: Any, field: str, errors: list[FieldError]) -> PrnLine | None:
    if not isinstance(raw, Mapping):
        errors.append(FieldError(field, "give dose_mg, usual_per_day and max_per_day"))
        return None
    errors.extend(unknown_fields(raw, PRN_FIELDS, field))
    dose = _positive(raw.get("dose_mg"), f"{field}.dose_mg", "dose", errors)
    usual = _count(raw.get("usual_per_day"), f"{field}.usual_per_day", errors, allow_zero=True,
                   missing="give the usual number of doses a day (0 if rarely used)")
    maximum = _count(raw.get("max_per_day"), f"{field}.max_per_day", errors, allow_zero=False,
                     missing="an as-needed medicine needs a maximum number of doses a day")
    if usual is not None and maximum is not None and usual > maximum:
        errors.append(FieldError(f"{field}.usual_per_day", f"usual doses a day ({usual}) cannot be more than "
                                                           f"the maximum ({maximum})"))
        return None
    if dose is None or usual is None or maximum is None:
        return None
    return PrnLine(product=product.key, dose_mg=dose, usual_per_day=usual, max_per_day=maximum, brand=product.brand)


def _patch(product: Product, raw: Any, field: str, errors: list[FieldError]) -> PatchLine | None:
    rate = _positive(raw, field, "patch strength", errors)
    if rate is None:
        return None
    limit = product.max_patches or MAX_PATCHES_RECORDED
    # More than `limit` of the largest patch can never be made: say so before the change-making search, whose
    # work grows with the rate (99999.999 took 45 seconds).
    patches = fewest_units(rate, product.strengths, max_units=limit) if rate <= limit * product.strengths[-1] \
        else None
    if patches is None:
        strengths = ", ".join(str(strength) for strength in product.strengths)
        which = f"{product.brand} " if product.brand else ""
        hint = _brand_only_hint(product, rate, limit)
        errors.append(FieldError(field, f"{rate} micrograms an hour cannot be made from at most {limit} "
                                        f"{which}{product.key} patches ({strengths}){hint}"))
        return None
    return PatchLine(product=product.key, mcg_per_hour=rate, patches=patches, brand=product.brand)


def _brand_only_hint(product: Product, rate: Decimal, limit: int) -> str:
    """For a line with no brand whose rate only a brand-only strength makes: the brands that make it."""
    if product.brand or not product.brand_only_strengths:
        return ""
    every_strength = tuple(sorted({*product.strengths, *product.brand_only_strengths}))
    # (the same bound as above, before a search whose work grows with the rate)
    if rate > limit * every_strength[-1] or fewest_units(rate, every_strength, max_units=limit) is None:
        return ""  # no brand makes it either: naming one would mislead
    return "".join(f"; the {strength} is made only as " + " and ".join(
        brand.name for brand in product.brands if strength in brand.strengths) + ": name the brand"
        for strength in product.brand_only_strengths)


def _time(raw: Any, field: str, errors: list[FieldError]) -> time | None:
    match = _TIME.fullmatch(raw) if isinstance(raw, str) else None
    if match is None:
        errors.append(FieldError(field, f"{raw!r} is not a time of day like 08:00"))
        return None
    return time(int(match[1]), int(match[2]))


def _positive(raw: Any, field: str, what: str, errors: list[FieldError]) -> Decimal | None:
    """A positive amount, exactly as given. Floats are read through their shortest decimal text (0.1 -> 0.1)."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        errors.append(FieldError(field, f"{what} must be a number, not {raw!r}"))
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        errors.append(FieldError(field, f"{what} must be a number, not {raw!r}"))
        return None
    if not value.is_finite() or value <= 0:
        errors.append(FieldError(field, f"{what} must be more than zero, not {raw!r}"))
        return None
    if value.as_tuple().exponent < -3 or value > 100_000:  # type: ignore[operator]
        errors.append(FieldError(field, f"{what} {raw!r} is not a plausible amount"))
        return None
    return value


def _count(raw: Any, field: str, errors: list[FieldError], *, allow_zero: bool, missing: str) -> int | None:
    if raw is None or raw == "":
        errors.append(FieldError(field, missing))
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < (0 if allow_zero else 1) or raw > MAX_DOSES_PER_DAY:
        lowest = 0 if allow_zero else 1
        errors.append(FieldError(field, f"must be a whole number from {lowest} to {MAX_DOSES_PER_DAY}, not {raw!r}"))
        return None
    return raw
