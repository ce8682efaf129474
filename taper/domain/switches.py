"""Same-drug switches (issue 13 rule 6): where a product cannot come down gently, the same opioid in a form that
comes in smaller steps. The engine proposes them in its warnings, and a request can ask for one at the start of
a plan (`policy.switches`). Switching between different opioids stays the pharmacist's decision, outside the
engine. Sources: docs/clinical-sources.md, Order of medicines and Patches; BNF and SPC strengths in the
formulary.

- 24-hourly morphine (MXL, 30 mg the smallest capsule) to 12-hourly morphine MR tablets (5 mg steps) at the
  same daily dose, half at the time the next 24-hourly dose was due and half twelve hours later.
- Co-codamol to codeine tablets at the same codeine doses, so that codeine can come down while paracetamol
  (prescribed on its own, outside the plan) stays where it is.
- The 96-hour buprenorphine patch (Transtec, 35 micrograms an hour the smallest) to a 7-day patch at the
  nearest lower rate one patch gives (35 to 20). The switch is itself a reduction, and the brands are not
  interchangeable at the same rate, so the pharmacist must confirm it; a rate that would more than halve is
  refused.

A switch may name the `brand` of the new product (rule 8); the old line's brand is left behind with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from taper.domain.formulary import Formulary, Product, UnknownBrand
from taper.domain.makeable import fewest_units, plain
from taper.domain.regimen import FieldError, Line, PatchLine, Regimen, RegimenError, RegularLine, TimedDose

# from -> to; and what the engine's warnings propose where the `from` product cannot step down gently.
TARGETS = {
    "morphine-mr-capsule-24h": "morphine-mr-tablet-12h",
    "co-codamol-8-500-tablet": "codeine-tablet",
    "co-codamol-15-500-tablet": "codeine-tablet",
    "co-codamol-30-500-tablet": "codeine-tablet",
    "buprenorphine-patch-96h": "buprenorphine-patch-7day",
}
PROPOSALS = {
    "morphine-mr-capsule-24h": "switching to 12-hourly morphine modified-release tablets at the same daily dose "
                               "(the first 12-hourly dose when the next 24-hourly dose was due), which come in 5 mg "
                               "steps (policy.switches)",
    "buprenorphine-patch-96h": "switching to a 7-day buprenorphine patch at the nearest lower rate (for example 20 "
                               "micrograms an hour), which comes in 5 microgram steps; the switch is itself a "
                               "reduction, and the brands are not interchangeable at the same rate "
                               "(policy.switches, confirmed)",
}
NEEDS_CONFIRMING = {"buprenorphine-patch-96h"}


@dataclass(frozen=True)
class Switch:
    from_product: str
    to_product: str
    at_step: int = 1
    confirmed: bool = False  # the pharmacist confirms a switch that is itself a reduction
    brand: str | None = None  # the brand of the new product; None: prescribed generically


def apply(regimen: Regimen, switches: tuple[Switch, ...], formulary: Formulary) -> tuple[Regimen, list[str]]:
    """The regimen after the switches, and a sentence for each. RegimenError names any switch that cannot be
    made (not a same-drug switch Taper knows, a product not in the regimen, a later step, a dose the new
    product cannot make, an unconfirmed or too large reduction)."""
    errors: list[FieldError] = []
    lines = list(regimen.lines)
    said = []
    for index, switch in enumerate(switches):
        where = f"policy.switches[{index}]"
        if TARGETS.get(switch.from_product) != switch.to_product:
            known = "; ".join(f"{key} to {to}" for key, to in TARGETS.items())
            errors.append(FieldError(where, f"{switch.from_product} to {switch.to_product} is not a same-drug switch "
                                            f"Taper makes: {known}"))
            continue
        if switch.at_step != 1:
            errors.append(FieldError(f"{where}.at_step", "a switch is made at the start of a plan (step 1); to switch "
                                                         "later, re-plan from that day with the switch"))
            continue
        position = next((number for number, line in enumerate(lines) if line.product == switch.from_product), None)
        if position is None:
            errors.append(FieldError(f"{where}.from", f"{switch.from_product} is not in the regimen"))
            continue
        if any(line.product == switch.to_product and type(line) is type(lines[position]) for line in lines):
            errors.append(FieldError(f"{where}.to", f"{switch.to_product} is already in the regimen: add the doses "
                                                    "together on one line instead"))
            continue
        try:
            lines[position], sentence = _switched(lines[position], switch, formulary, where)
        except RegimenError as refusal:
            errors.extend(refusal.errors)
            continue
        said.append(sentence)
    if errors:
        raise RegimenError(errors)
    return Regimen(lines=tuple(lines)), said


def _new_product(switch: Switch, formulary: Formulary, where: str) -> Product:
    try:
        return formulary.as_prescribed(switch.to_product, switch.brand)
    except UnknownBrand:
        brands = ", ".join(brand.name for brand in formulary.get(switch.to_product).brands)
        raise RegimenError([FieldError(f"{where}.brand", f"{switch.to_product} has no brand {switch.brand!r}: "
                                                         f"choose one of {brands}")]) from None


def _by_brand(new: Product) -> str:
    return " Prescribe it by brand (policy.switches brand)." if new.prescribed_by_brand and not new.brand else ""


def _switched(line: Line, switch: Switch, formulary: Formulary, where: str) -> tuple[Line, str]:
    old, new = formulary.as_prescribed(switch.from_product, line.brand), _new_product(switch, formulary, where)
    if isinstance(line, PatchLine):
        return _lower_patch(line, switch, formulary, where)
    if not isinstance(line, RegularLine):
        raise RegimenError([FieldError(f"{where}.from", "only regular doses and patches are switched; when-needed "
                                                        "doses come down on their own line")])
    if old.release.value == "mr-24h":
        daily = line.amount_per_day()
        first = line.doses[0].at
        second = (datetime.combine(date(2027, 1, 4), first) + timedelta(hours=12)).time()
        half = daily / 2
        doses = tuple(sorted((TimedDose(first, half), TimedDose(second, half)), key=lambda dose: dose.at))
    else:
        doses = line.doses
    unmade = [dose for dose in doses if fewest_units(dose.dose_mg, new.strengths) is None]
    if unmade:
        raise RegimenError([FieldError(f"{where}.to", f"{plain(unmade[0].dose_mg)} mg cannot be made from "
                                                      f"{new.label(in_sentence=True)}s (" + ", ".join(
                                                          f"{plain(strength)} mg" for strength in new.strengths)
                                                      + ")")])
    words = ", ".join(f"{plain(dose.dose_mg)} mg at {dose.at:%H:%M}" for dose in doses)
    return RegularLine(new.key, doses, new.brand), (
        f"Switch from {old.label(in_sentence=True)} to {new.label(in_sentence=True)} at the same {old.drug} dose "
        f"({words}); nothing else changes in this step.{_by_brand(new)}")


def _lower_patch(line: PatchLine, switch: Switch, formulary: Formulary, where: str) -> tuple[Line, str]:
    old, new = formulary.as_prescribed(switch.from_product, line.brand), _new_product(switch, formulary, where)
    rate = sum((old.release_rate(strength) * count for strength, count in line.patches), Decimal(0))
    lower = [strength for strength in new.strengths if new.release_rate(strength) <= rate]
    if not lower or new.release_rate(lower[-1]) * 2 < rate:
        raise RegimenError([FieldError(f"{where}.to", f"no single {new.label(in_sentence=True)} keeps at least half of "
                                                      f"{plain(rate)} micrograms an hour: this switch would more than "
                                                      "halve the dose at once")])
    chosen = lower[-1]
    if not switch.confirmed:
        raise RegimenError([FieldError(f"{where}.confirmed", f"switching to a {plain(chosen)} microgram/hour "
                                                             f"{new.label(in_sentence=True)} lowers the rate from "
                                                             f"{plain(rate)}, and the brands are not interchangeable "
                                                             "at the same rate: confirm it (confirmed: true)")])
    return PatchLine(new.key, chosen, ((chosen, 1),), new.brand), (
        f"Switch from {old.label(in_sentence=True)} ({plain(rate)} micrograms an hour) to one {plain(chosen)} "
        f"microgram/hour {new.label(in_sentence=True)}, as the pharmacist confirmed: this is itself a reduction."
        f"{_by_brand(new)}")
