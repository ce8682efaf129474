"""What a regimen amounts to: daily OME per line and in total, and the findings a pharmacist should see.

Each finding has a stable code, a severity and a message, and each rule names its source below.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from taper.domain.formulary import MIN_LIQUID_DOSE_ML, Formulary, Product
from taper.domain.limits import PARACETAMOL_MAX_MG_PER_DAY
from taper.domain.makeable import Units, fewest_units, plain
from taper.domain.ome import Factor, FactorSet, ome_mg_per_day
from taper.domain.regimen import Line, PatchLine, PrnLine, Regimen, RegularLine

# High-dose threshold: "The risk of harm increases substantially at doses above an oral morphine equivalent of
# 120mg/day, but there is no increased benefit" (FPM Opioids Aware key message; the national analysis Taper
# follows uses 120). FPM reportedly lowered it to 90 in 2025 (bennettoxford/openprescribing#5272; FPM page
# not seen), so clinics may choose 90. See docs/clinical-sources.md, High-dose thresholds.
HIGH_DOSE_THRESHOLDS_MG = (Decimal(120), Decimal(90))
DEFAULT_HIGH_DOSE_THRESHOLD_MG = Decimal(120)
# The very-high band asked for in Taper issue 3 (the national analysis's second band); no guidance source
# was found for 200 itself. NHS Sheffield suggests specialist support above about 300 mg/day.
VERY_HIGH_DOSE_MG = Decimal(200)
# Paracetamol: adult maximum 4 g in 24 hours (BNF paracetamol monograph; docs/clinical-sources.md, Paracetamol maximum).


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    DANGER = "danger"


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    line: int | None = None  # index of the regimen line it concerns, if one


@dataclass(frozen=True)
class LineOme:
    index: int
    line: Line
    product: Product
    kind: str  # "regular", "prn" or "patch"
    amount_per_day: Decimal  # mg a day (PRN: at the usual number of doses), or mcg/h for patches
    factor: Factor | None
    ome_mg_per_day: Decimal | None  # None: not calculable under this factor set
    max_ome_mg_per_day: Decimal | None  # PRN at its maximum doses a day; otherwise the same as above
    units: tuple[Units | None, ...]  # for each dose (regular), the one PRN dose, or the patches; None: not makeable


@dataclass(frozen=True)
class Assessment:
    factor_set: FactorSet
    high_dose_threshold_mg: Decimal
    lines: tuple[LineOme, ...]
    total_ome_mg_per_day: Decimal | None  # None if any line is not calculable: never a partial sum shown as total
    total_max_ome_mg_per_day: Decimal | None
    findings: tuple[Finding, ...]

    @property
    def is_high_dose(self) -> bool:
        return self.total_ome_mg_per_day is not None and self.total_ome_mg_per_day >= self.high_dose_threshold_mg


def assess(regimen: Regimen, *, formulary: Formulary, factor_set: FactorSet,
           high_dose_threshold_mg: Decimal = DEFAULT_HIGH_DOSE_THRESHOLD_MG,
           benzodiazepine: bool = False, gabapentinoid: bool = False,
           paracetamol_max_mg_per_day: Decimal = PARACETAMOL_MAX_MG_PER_DAY) -> Assessment:
    lines = tuple(_line_ome(index, line, formulary.as_prescribed(line.product, line.brand), factor_set)
                  for index, line in enumerate(regimen.lines))
    calculable = all(line.ome_mg_per_day is not None for line in lines)
    total = sum((line.ome_mg_per_day or Decimal(0) for line in lines), Decimal(0)) if calculable else None
    total_max = sum((line.max_ome_mg_per_day or Decimal(0) for line in lines), Decimal(0)) if calculable else None
    findings = [
        *_not_calculable(lines, factor_set),
        *_not_makeable(regimen, lines),
        *_above_maximum(regimen, lines),
        *_no_brand(regimen, formulary),
        *_paracetamol(regimen, lines, paracetamol_max_mg_per_day),
        *_same_release_kind(lines),
        *_specialist_only(lines),
        *_dose_bands(total, total_max, high_dose_threshold_mg),
        *_co_prescribing(benzodiazepine, gabapentinoid),
    ]
    return Assessment(factor_set=factor_set, high_dose_threshold_mg=high_dose_threshold_mg, lines=lines,
                      total_ome_mg_per_day=total, total_max_ome_mg_per_day=total_max, findings=tuple(findings))


def dose_units(product: Product, dose: Decimal) -> Units | None:
    """How one dose is made up (fewest tablets or capsules; for a liquid, the volume in mL as one 'unit' of
    that many mL), or None if it cannot be made exactly."""
    if product.concentration_mg_per_ml is not None:
        volume_ml = dose / product.concentration_mg_per_ml
        return ((volume_ml, 1),) if product.measurable(volume_ml) else None
    return fewest_units(dose, product.strengths)


def _line_ome(index: int, line: Line, product: Product, factor_set: FactorSet) -> LineOme:
    factor = factor_set.factor_for(product)
    if isinstance(line, RegularLine):
        amount = line.amount_per_day()
        units = tuple(dose_units(product, dose.dose_mg) for dose in line.doses)
        ome = ome_mg_per_day(product, amount, factor_set)
        return LineOme(index, line, product, "regular", amount, factor, ome, ome, units)
    if isinstance(line, PrnLine):
        amount = line.dose_mg * line.usual_per_day
        return LineOme(index, line, product, "prn", amount, factor, ome_mg_per_day(product, amount, factor_set),
                       ome_mg_per_day(product, line.dose_mg * line.max_per_day, factor_set),
                       (dose_units(product, line.dose_mg),))
    released = sum((product.release_rate(strength) * count for strength, count in line.patches), Decimal(0))
    ome = ome_mg_per_day(product, released, factor_set)
    return LineOme(index, line, product, "patch", line.mcg_per_hour, factor, ome, ome, (line.patches,))


def _not_calculable(lines: tuple[LineOme, ...], factor_set: FactorSet) -> list[Finding]:
    return [Finding("OME_NOT_CALCULABLE", Severity.WARNING,
                    f"OME is not calculable for {line.product.drug} under {factor_set.name}: "
                    f"{line.factor.notes if line.factor else 'this source gives no factor'}. "
                    "The total daily OME is therefore not calculable either.", line.index)
            for line in lines if line.ome_mg_per_day is None]


def _not_makeable(regimen: Regimen, lines: tuple[LineOme, ...]) -> list[Finding]:
    findings = []
    for line, assessed in zip(regimen.lines, lines, strict=True):
        product = assessed.product
        if isinstance(line, PatchLine):
            continue
        doses = [dose.dose_mg for dose in line.doses] if isinstance(line, RegularLine) else [line.dose_mg]
        for dose, units in zip(doses, assessed.units, strict=True):
            if units is None:
                how = (f"a volume measurable in {product.measure_ml} mL steps, at least {MIN_LIQUID_DOSE_ML} mL"
                       if product.is_liquid else
                       "the strengths available (" + ", ".join(f"{s} mg" for s in product.strengths) + ")")
                findings.append(Finding("DOSE_NOT_MAKEABLE", Severity.WARNING,
                                        f"{plain(dose)} mg of {product.label(in_sentence=True)} cannot be made "
                                        f"exactly from {how}.",
                                        assessed.index))
    return findings


def _no_brand(regimen: Regimen, formulary: Formulary) -> list[Finding]:
    """Modified-release oral opioids and patches are prescribed by brand (docs/clinical-sources.md: Brands), so
    that the patient always gets the same product: brands differ in their strengths (no 5 mg Morphgesic SR, no
    12 microgram/hour Fentalis) and are not all interchangeable (buprenorphine patches)."""
    findings = []
    for index, line in enumerate(regimen.lines):
        product = formulary.get(line.product)
        if line.brand is None and product.prescribed_by_brand:
            brands = ", ".join(brand.name for brand in product.brands)
            findings.append(Finding("NO_BRAND", Severity.WARNING,
                                    f"{product.label()} names no brand. Prescribe modified-release opioids and "
                                    f"patches by brand ({brands}), so that the patient always gets the same "
                                    "product; record the brand the patient takes, and the plan uses that "
                                    "brand's strengths.", index))
    return findings


def _above_maximum(regimen: Regimen, lines: tuple[LineOme, ...]) -> list[Finding]:
    """Licensed or usual maximum per product (formulary, with its BNF or SPC source); PRN lines count at their
    maximum doses a day. (More patches at once than allowed is refused when the regimen is read.)"""
    per_product: dict[str, Decimal] = defaultdict(Decimal)
    first_line: dict[str, int] = {}
    findings = []
    for line, assessed in zip(regimen.lines, lines, strict=True):
        product = assessed.product
        first_line.setdefault(product.key, assessed.index)
        if isinstance(line, PrnLine):
            per_product[product.key] += line.dose_mg * line.max_per_day
        else:
            per_product[product.key] += assessed.amount_per_day
    for key, amount in per_product.items():
        product = lines[first_line[key]].product
        if product.max_daily_dose is not None and amount > product.max_daily_dose:
            unit = "micrograms an hour" if product.is_patch else "mg a day"
            findings.append(Finding("ABOVE_MAXIMUM", Severity.WARNING,
                                    f"{product.label()}: {plain(amount)} {unit} (as-needed doses at their "
                                    "maximum) is above "
                                    f"the maximum of {plain(product.max_daily_dose)} {unit} "
                                    f"({product.max_daily_dose_source}).",
                                    first_line[key]))
    return findings


def _paracetamol(regimen: Regimen, lines: tuple[LineOme, ...], maximum_mg: Decimal) -> list[Finding]:
    """Paracetamol in combination products, with as-needed doses at their maximum, against the clinic's maximum
    (4 g a day for adults, lower where the clinic sets it; taper.domain.limits)."""
    total = Decimal(0)
    for line, assessed in zip(regimen.lines, lines, strict=True):
        product = assessed.product
        if product.paracetamol_mg_per_unit is None or isinstance(line, PatchLine):
            continue
        opioid_mg = line.dose_mg * line.max_per_day if isinstance(line, PrnLine) else assessed.amount_per_day
        total += opioid_mg / product.strengths[0] * product.paracetamol_mg_per_unit
    if total > maximum_mg:
        which = ("the adult maximum of 4 g in 24 hours (BNF)" if maximum_mg == PARACETAMOL_MAX_MG_PER_DAY
                 else f"the clinic's maximum of {plain(maximum_mg / 1000)} g in 24 hours")
        return [Finding("PARACETAMOL_OVER_4G", Severity.DANGER,
                        f"Combination products give {plain(total)} mg of paracetamol a day (as-needed doses at their "
                        f"maximum): above {which}. Check for other paracetamol too.")]
    return []


def _same_release_kind(lines: tuple[LineOme, ...]) -> list[Finding]:
    products_by_kind: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        products_by_kind[line.product.release.kind].add(line.product.key)
    return [Finding("SAME_RELEASE_TYPE", Severity.WARNING,
                    f"More than one {kind} opioid product ({', '.join(sorted(keys))}): consider whether both are "
                    "needed (usual practice is one modified-release and one immediate-release opioid at most).")
            for kind, keys in sorted(products_by_kind.items()) if len(keys) > 1]


def _specialist_only(lines: tuple[LineOme, ...]) -> list[Finding]:
    return [Finding("SPECIALIST_ONLY", Severity.INFO,
                    f"{line.product.label()} is recorded but never tapered automatically: reduce it only with "
                    "specialist advice (FPM Opioids Aware gives no conversion factor).", line.index)
            for line in lines if not line.product.taper_automatically]


def _dose_bands(total: Decimal | None, total_max: Decimal | None, threshold: Decimal) -> list[Finding]:
    if total is None:
        return []
    findings = []
    if total >= VERY_HIGH_DOSE_MG:
        findings.append(Finding("VERY_HIGH_DOSE", Severity.DANGER,
                                f"Total {plain(total)} mg OME a day is at or above {VERY_HIGH_DOSE_MG} mg a day: "
                                "a very high dose; consider specialist multidisciplinary support."))
    if total >= threshold:
        findings.append(Finding("HIGH_DOSE", Severity.WARNING,
                                f"Total {plain(total)} mg OME a day is at or above the high-dose threshold of "
                                f"{plain(threshold)} mg a day, where the risk of harm rises with no added benefit "
                                "(FPM Opioids Aware)."))
    elif total_max is not None and total_max >= threshold:
        findings.append(Finding("HIGH_DOSE_AT_MAXIMUM_PRN", Severity.INFO,
                                f"With as-needed doses at their maximum the total would be {plain(total_max)} mg OME a "
                                f"day, at or above the high-dose threshold of {plain(threshold)} mg a day."))
    return findings


def _co_prescribing(benzodiazepine: bool, gabapentinoid: bool) -> list[Finding]:
    findings = []
    if benzodiazepine:
        findings.append(Finding("BENZODIAZEPINE", Severity.WARNING,
                                "Co-prescribed benzodiazepine: opioids with benzodiazepines risk potentially fatal "
                                "respiratory depression (MHRA Drug Safety Update, March 2020)."))
    if gabapentinoid:
        findings.append(Finding("GABAPENTINOID", Severity.WARNING,
                                "Co-prescribed gabapentinoid: with opioids, pregabalin and gabapentin add to the risk "
                                "of respiratory depression (MHRA Drug Safety Updates, October 2019 and "
                                "February 2021)."))
    return findings
