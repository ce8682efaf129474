"""Checks on the regimen a schedule starts from (issue 13, rule 1). The engine's JSON contract makes them, so
the command line, the API and the plan builder agree.

- `refusals`: regimens no plan should be made from (the contract refuses the request, naming the field): the
  same product on two lines of the same kind, and doses past the hard limits. They need no change-making
  search, so they run before `assess` and the engine, whose work grows with the dose: a 99,999 mg dose kept
  the engine busy for minutes.
- `warnings`: the plan is still made, and says at the top what the pharmacist must look at: a product above
  its licensed or usual maximum, paracetamol above 4 g a day (with the switch that brings it down without
  cutting the opioid), a dose that cannot be made or measured, a regimen too large to be plausible, and a
  modified-release or patch line that names no brand (rule 8). The rules for the first three are `assess`'s
  (taper.domain.assessment), the same findings the regimen form shows.

Doses are mg of the opioid (for co-codamol, mg of codeine); patches micrograms an hour; OME mg a day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from decimal import ROUND_CEILING, Decimal
from typing import Any

from taper.domain.assessment import Assessment, LineOme, assess, dose_units
from taper.domain.formulary import Formulary, Product
from taper.domain.limits import DEFAULT_LIMITS, Limits
from taper.domain.makeable import plain
from taper.domain.ome import FactorSet, ome_mg_per_day
from taper.domain.regimen import FieldError, Line, PatchLine, PrnLine, Regimen, RegularLine

# Hard limits (refusals), three and five times the default plausible ones (taper.domain.limits, where a clinic's
# plausibility settings are kept below these): no tapering plan makes sense from a dose past them, so it is
# refused as a typing error, and the engine never spends minutes on it.
MAX_UNITS_PER_DOSE = 60
MAX_OME_MG_PER_DAY = Decimal(5000)

_KIND_WORDS = {"regular": "regular doses", "prn": "when-needed doses", "patch": "patches"}
_ONE_LINE = {"regular": "give each time of day once, on one line, with its total dose",
             "prn": "give one when-needed line with its dose and maximum doses a day",
             "patch": "give one line with the total of the patches worn together"}


def refusals(regimen: Regimen, formulary: Formulary, factor_set: FactorSet, *, given: Any = None,
             field: str = "regimen") -> list[FieldError]:
    """Every reason no plan should be made from this regimen, each naming its field. `given` is the regimen
    as the request gave it (its JSON list), used only to name doses by the request's own index: parse_regimen
    sorts a line's doses by time."""
    return [*_same_product_twice(regimen, field),
            *_past_hard_limits(regimen, formulary, factor_set, given if isinstance(given, list) else [], field)]


def warnings(regimen: Regimen, formulary: Formulary, factor_set: FactorSet,
             limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """What the pharmacist must look at in the starting regimen, in words, before agreeing a plan from it, against
    the clinic's `limits`. Call only for a regimen `refusals` accepts (so every dose is within the hard limits)."""
    assessment = assess(regimen, formulary=formulary, factor_set=factor_set,
                        paracetamol_max_mg_per_day=limits.paracetamol_max_mg_per_day)
    found: list[str] = []
    for finding in assessment.findings:
        if finding.code == "ABOVE_MAXIMUM":
            found.append(f"Starting regimen: {finding.message} The plan starts from the dose as taken: consider "
                         "bringing it within the maximum at step 1.")
        elif finding.code == "PARACETAMOL_OVER_4G":
            found.append(f"Starting regimen: {finding.message} "
                         f"{_separate_paracetamol(regimen, formulary, limits.paracetamol_max_mg_per_day)}")
        elif finding.code == "NO_BRAND":
            found.append(f"Starting regimen: {finding.message}")
    found += _not_makeable(assessment)
    found += _implausible(assessment, limits)
    return found


# Refusals -------------------------------------------------------------------------------------------------

def _kind(line: Line) -> str:
    return "regular" if isinstance(line, RegularLine) else "prn" if isinstance(line, PrnLine) else "patch"


def _same_product_twice(regimen: Regimen, field: str) -> list[FieldError]:
    """Two lines of one product and one kind (two regular lines, two when-needed lines, two patch lines) would
    be tapered as two medicines and their doses never added up. Regular and when-needed doses of one product
    (Oramorph regularly and when needed) are ordinary practice and allowed."""
    first: dict[tuple[str, str], int] = {}
    errors = []
    for index, line in enumerate(regimen.lines):
        kind = _kind(line)
        earlier = first.setdefault((line.product, kind), index)
        if earlier != index:
            errors.append(FieldError(f"{field}[{index}].product",
                                     f"{line.product} is already on {field}[{earlier}] as {_KIND_WORDS[kind]}: "
                                     f"{_ONE_LINE[kind]}"))
    return errors


def _past_hard_limits(regimen: Regimen, formulary: Formulary, factor_set: FactorSet, given: list[Any],
                      field: str) -> list[FieldError]:
    """A dose needing more than MAX_UNITS_PER_DOSE units, and a total above MAX_OME_MG_PER_DAY (when-needed
    doses at their maximum; lines with no factor in the set are left out, and the engine refuses them).
    The total's error names the largest dose of the line with the most OME: the likeliest typing slip."""
    errors = []
    total = Decimal(0)
    largest: tuple[Decimal, str, str] | None = None  # (OME of the line, path of its largest dose, that dose)
    for index, line in enumerate(regimen.lines):
        product = formulary.as_prescribed(line.product, line.brand)
        where = f"{field}[{index}]"
        doses = _dose_paths(line, given[index] if index < len(given) else None, where)
        for path, dose_mg in doses:
            needed = _units_at_least(product, dose_mg)
            if needed > MAX_UNITS_PER_DOSE:
                errors.append(FieldError(path, f"{plain(dose_mg)} mg of {product.label(in_sentence=True)} needs at "
                                               f"least {needed} {product.unit_form.value}s in one dose (the largest "
                                               f"strength is {plain(product.strengths[-1])} mg): more than "
                                               f"{MAX_UNITS_PER_DOSE} is refused as a mistyped dose"))
        ome = _ome_at_max_mg_per_day(line, product, factor_set)
        if ome is None:
            continue
        total += ome
        if largest is None or ome > largest[0]:
            path, amount = max(doses, key=lambda pair: pair[1])
            largest = (ome, path, f"{plain(amount)} {'micrograms an hour' if product.is_patch else 'mg'} of "
                                  f"{product.label(in_sentence=True)}")
    if largest is not None and total > MAX_OME_MG_PER_DAY:
        errors.append(FieldError(largest[1], f"the regimen comes to {plain(total)} mg OME a day (when-needed doses "
                                             f"at their maximum), above the limit of {plain(MAX_OME_MG_PER_DAY)} mg "
                                             f"OME a day beyond which no tapering plan makes sense: check this dose "
                                             f"({largest[2]}), the largest part of it"))
    return errors


def _dose_paths(line: Line, given: Any, where: str) -> list[tuple[str, Decimal]]:
    """Each dose of the line (mg; a patch line: its micrograms an hour) with its path in the request."""
    if isinstance(line, PatchLine):
        return [(f"{where}.patch_mcg_per_hour", line.mcg_per_hour)]
    if isinstance(line, PrnLine):
        return [(f"{where}.prn.dose_mg", line.dose_mg)]
    entries = given.get("doses") if isinstance(given, Mapping) else None
    times = [entry.get("time") if isinstance(entry, Mapping) else None
             for entry in (entries if isinstance(entries, list) else [])]
    paths = []
    for position, dose in enumerate(line.doses):
        at = dose.at.strftime("%H:%M")
        index = times.index(at) if at in times else position  # parse_regimen read "HH:MM" exactly
        paths.append((f"{where}.doses[{index}].dose_mg", dose.dose_mg))
    return paths


def _units_at_least(product: Product, dose_mg: Decimal) -> int:
    """The fewest tablets or capsules any dose of `dose_mg` could be made from (all of the largest strength):
    a bound found without the change-making search. Liquids are measured, not counted (0); a patch line's
    count is bounded when it is read (taper.domain.regimen.MAX_PATCHES_RECORDED)."""
    if product.is_liquid or product.is_patch:
        return 0
    return int((dose_mg / product.strengths[-1]).to_integral_value(rounding=ROUND_CEILING))


def _ome_at_max_mg_per_day(line: Line, product: Product, factor_set: FactorSet) -> Decimal | None:
    """The line's OME in mg a day with when-needed doses at their maximum; None with no factor in the set."""
    if isinstance(line, PatchLine):
        released = sum((product.release_rate(strength) * count for strength, count in line.patches), Decimal(0))
        return ome_mg_per_day(product, released, factor_set)
    if isinstance(line, PrnLine):
        return ome_mg_per_day(product, line.dose_mg * line.max_per_day, factor_set)
    return ome_mg_per_day(product, line.amount_per_day(), factor_set)


# Warnings -------------------------------------------------------------------------------------------------

def _separate_paracetamol(regimen: Regimen, formulary: Formulary, maximum_mg: Decimal) -> str:
    """The way out of too much paracetamol that keeps the opioid where it is (issue 13 rules 1 and 6): cutting
    co-codamol far enough to bring paracetamol within 4 g would cut the codeine as far, at once (by a third from
    6 g a day). When-needed lines count at their maximum doses a day, as `assess` counts them."""
    switches = []
    for line in regimen.lines:
        product = formulary.get(line.product)
        if product.paracetamol_mg_per_unit is None or isinstance(line, PatchLine):
            continue
        separate = _opioid_alone(product, formulary)
        doses = [dose.dose_mg for dose in line.doses] if isinstance(line, RegularLine) else [line.dose_mg]
        per_day = line.amount_per_day() if isinstance(line, RegularLine) else line.dose_mg * line.max_per_day
        target = f"{separate.label(in_sentence=True)}s ({separate.key})" if separate else f"{product.drug} on its own"
        made = separate is None or all(dose_units(separate, dose) is not None for dose in doses)
        up_to = "" if isinstance(line, RegularLine) else "up to "
        switches.append(f"{product.form}s ({product.key}) to {target} at the same {product.drug} doses "
                        f"({up_to}{plain(per_day)} mg of {product.drug} a day"
                        + ("" if made else ", or the nearest doses those tablets make") + ")")
    return ("Proposed: bring paracetamol within the maximum at step 1 by switching " + "; and ".join(switches)
            + f", with paracetamol prescribed on its own at no more than {plain(maximum_mg / 1000)} g "
              "a day (less under 50 kg or with a risk to the liver), then taper the opioid from that same dose, "
              "rather than cutting the opioid at once by as much as the paracetamol must come down.")


def _opioid_alone(product: Product, formulary: Formulary) -> Product | None:
    """The formulary's tablets or capsules of the same opioid, released the same way, with no paracetamol."""
    return next((other for other in formulary if other.drug == product.drug and other.release is product.release
                 and other.paracetamol_mg_per_unit is None and not other.is_liquid and not other.is_patch), None)


def _not_makeable(assessment: Assessment) -> list[str]:
    """One warning per line with doses `assess` found cannot be made or measured, with what follows from it."""
    messages: dict[int, list[str]] = defaultdict(list)
    for finding in assessment.findings:
        if finding.code == "DOSE_NOT_MAKEABLE" and finding.line is not None:
            messages[finding.line].append(finding.message)
    messages = {index: list(dict.fromkeys(said)) for index, said in messages.items()}  # 20 mg twice: say it once
    found = []
    for index, said in messages.items():
        line = assessment.lines[index]
        volumes = ""
        if line.product.is_liquid and line.product.concentration_mg_per_ml is not None:
            unmeasured = [dose / line.product.concentration_mg_per_ml
                          for dose, units in zip(_doses(line), line.units, strict=True) if units is None]
            volumes = " As given: " + ", ".join(f"{plain(volume)} mL" for volume in unmeasured) + "."
        found.append("Starting regimen: " + " ".join(said) + volumes
                     + " The plan keeps it until a step changes it, and a plan with a dose nobody can make up "
                       "cannot be issued: correct the dose, or agree one that can be made.")
    return found


def _implausible(assessment: Assessment, limits: Limits) -> list[str]:
    """A dose of more units than the clinic's plausible number, and a total above its plausible OME with
    when-needed doses at their maximum."""
    found = []
    for line in assessment.lines:
        product = line.product
        if product.is_liquid:
            continue
        for dose, units in zip(_doses(line), line.units, strict=True):
            counted = sum(count for _, count in units) if units is not None else _units_at_least(product, dose)
            if counted > limits.plausible_units_per_dose:
                amount = f"{plain(dose)} {'micrograms an hour' if product.is_patch else 'mg'}"
                found.append(f"Starting regimen: {amount} of {product.label(in_sentence=True)} is "
                             f"{'' if units is not None else 'at least '}{counted} {product.unit_form.value}s in "
                             f"one dose, more than {limits.plausible_units_per_dose}: check it was entered correctly "
                             "(an extra zero, or mg for micrograms) before agreeing a plan.")
    total = assessment.total_max_ome_mg_per_day
    if total is not None and total > limits.plausible_ome_mg_per_day:
        found.append(f"Starting regimen: {plain(total)} mg OME a day (when-needed doses at their maximum) is above "
                     f"{plain(limits.plausible_ome_mg_per_day)} mg OME a day, which is rarely a real regimen: check "
                     "every dose was entered correctly; at such doses seek specialist multidisciplinary support.")
    return found


def _doses(line: LineOme) -> list[Decimal]:
    """The amounts `LineOme.units` describes, in the same order: each regular dose, the when-needed dose, or
    the patch line's micrograms an hour."""
    if isinstance(line.line, RegularLine):
        return [dose.dose_mg for dose in line.line.doses]
    if isinstance(line.line, PrnLine):
        return [line.line.dose_mg]
    return [line.line.mcg_per_hour]
