"""What changes from one step of a plan to the next, in plain words for the patient (Taper issue 14).

"Your morphine at 8pm goes down from 30 mg to 20 mg." "Your fentanyl patch goes down from 25 to 12 micrograms
an hour." "You stop taking co-codamol 30/500." A step with the same medicines as the step before
says so: "No change to your medicines: this step is a pause."

Worked out from two consecutive steps of a stored schedule document (docs/schedule-api.md), never from the
engine's own explanation, which is written for clinicians (it speaks of OME). Amounts are said as the patient
measures them: milligrams for tablets and capsules of one opioid, tablets for a combination product (a "30 mg"
co-codamol dose is two tablets, and the patient counts tablets), millilitres for a liquid, micrograms an hour
for a patch. Times of day are said as the timetable's columns say them ("8am", "12 noon").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from taper.domain.formulary import Product
from taper.domain.makeable import plain
from taper.domain.wording import clock_words, count_words, line_product, scheduled_units, units_words

PAUSE = "No change to your medicines: this step is a pause."

REGULAR, WHEN_NEEDED, PATCH = "regular", "when needed", "patch"


@dataclass(frozen=True)
class _Line:
    """One line of a step: its product (as prescribed, with its brand) and how it is taken."""

    kind: str
    product: Product
    raw: Mapping[str, Any]

    @property
    def key(self) -> tuple[str, str | None, str]:
        return (self.product.key, self.product.brand, self.kind)


def step_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """What changes from step `before` to step `after` (two steps of a schedule document), one sentence for
    each medicine that changes (or each of its changes), in the order the lines are listed; `[PAUSE]` when
    nothing does."""
    old = {line.key: line for line in _lines(before)}
    new = {line.key: line for line in _lines(after)}
    names = _names([*old.values(), *new.values()])
    said: list[str] = []
    for key in [*old, *(key for key in new if key not in old)]:
        name = names[key]
        if key not in new:
            # "You stop taking morphine" only when no other morphine goes on (a liquid when needed, say).
            alone = not any(line.product.drug == old[key].product.drug for line in new.values())
            said.append(_stopped(old[key], name, alone=alone))
        elif key not in old:
            said.append(_started(new[key], name))
        elif old[key].kind == PATCH:
            said += _patch(old[key], new[key], name)
        elif old[key].kind == WHEN_NEEDED:
            said += _when_needed(old[key], new[key], name)
        else:
            said += _regular(old[key], new[key], name)
    return said or [PAUSE]


def plain_name(product: Product) -> str:
    """The medicine as a patient calls it: 'morphine' (a tablet or capsule), 'morphine liquid', 'fentanyl
    patch', 'co-codamol 30/500' (a combination product by its own name, never by its opioid)."""
    if product.paracetamol_mg_per_unit is not None:
        return product.form.removesuffix(f" {product.unit_form.value}")
    if product.is_liquid:
        return f"{product.drug} liquid"
    return f"{product.drug} patch" if product.is_patch else product.drug


def _lines(step: Mapping[str, Any]) -> list[_Line]:
    return [_Line(PATCH if "patch_mcg_per_hour" in line else WHEN_NEEDED if "prn" in line else REGULAR,
                  line_product(line), line) for line in step["lines"]]


def _names(lines: Sequence[_Line]) -> dict[tuple[str, str | None, str], str]:
    """Each line's plain name; its full label ('morphine modified-release tablet (MST Continus)') where two
    medicines taken the same way share a plain name (morphine modified-release and immediate-release tablets
    at set times). Taken at set times, when needed or as a patch, the sentences themselves tell lines apart."""
    products: dict[tuple[str, str], set[tuple[str, str | None]]] = {}
    for line in lines:
        products.setdefault((line.kind, plain_name(line.product)), set()).add((line.product.key, line.product.brand))
    return {line.key: plain_name(line.product) if len(products[(line.kind, plain_name(line.product))]) == 1
            else line.product.label(in_sentence=True) for line in lines}


def _amount(product: Product, dose: Mapping[str, Any]) -> str:
    """A regular or when-needed dose as the patient measures it: '20 mg', 'two tablets', '2.5 mL'."""
    units = scheduled_units(product, dose["units"])
    if units is not None and product.is_liquid:
        return f"{plain(units[0][0])} mL"
    if units is not None and product.paracetamol_mg_per_unit is not None:
        count = sum(number for _, number in units)
        return f"{count_words(count)} {product.unit_form.value}{'s' if count != 1 else ''}"
    return f"{plain(_decimal(dose['dose_mg']))} mg"


def _direction(old: Decimal, new: Decimal) -> str:
    return "goes down" if new < old else "goes up"


def _regular(old: _Line, new: _Line, name: str) -> list[str]:
    was = {dose["time"]: dose for dose in old.raw["doses"]}
    now = {dose["time"]: dose for dose in new.raw["doses"]}
    # Times with the same change are said together: "Your morphine at 8am and 8pm goes down from 30 mg to 20 mg."
    changed: dict[tuple[str, str, str], list[str]] = {}
    made_up: dict[tuple[str, str], list[str]] = {}
    stopped, started = [], []
    for time in sorted(was.keys() | now.keys()):
        if time not in now:
            stopped.append(time)
        elif time not in was:
            started.append(time)
        elif _decimal(was[time]["dose_mg"]) != _decimal(now[time]["dose_mg"]):
            amounts = (_amount(old.product, was[time]), _amount(new.product, now[time]))
            if amounts[0] == amounts[1]:  # (as many tablets of another strength: say the mg)
                amounts = (f"{plain(_decimal(was[time]['dose_mg']))} mg", f"{plain(_decimal(now[time]['dose_mg']))} mg")
            verb = _direction(_decimal(was[time]["dose_mg"]), _decimal(now[time]["dose_mg"]))
            changed.setdefault((verb, *amounts), []).append(time)
        elif _units(was[time]) != _units(now[time]):
            made_up.setdefault((_amount(new.product, now[time]),
                                units_words(new.product, scheduled_units(new.product, now[time]["units"]))),
                               []).append(time)
    said = [f"Your {name} {_at(times)} {verb} from {before} to {after}."
            for (verb, before, after), times in changed.items()]
    said += [f"Your {name} {_at(times)} is still {amount}, made up of {units}."
             for (amount, units), times in made_up.items()]
    if stopped:
        said.append(f"You stop taking {name} {_at(stopped)}.")
    said += [f"You start taking {name} {_at([time])}: {_amount(new.product, now[time])}." for time in started]
    return said


def _when_needed(old: _Line, new: _Line, name: str) -> list[str]:
    was, now = old.raw["prn"], new.raw["prn"]
    said = []
    if _decimal(was["dose_mg"]) != _decimal(now["dose_mg"]):
        said.append(f"Your {name} for when you need it "
                    f"{_direction(_decimal(was['dose_mg']), _decimal(now['dose_mg']))} from "
                    f"{_amount(old.product, was)} to {_amount(new.product, now)} each time.")
    elif _units(was) != _units(now):
        said.append(f"Your {name} for when you need it is still {_amount(new.product, now)}, made up of "
                    f"{units_words(new.product, scheduled_units(new.product, now['units']))}.")
    if was["max_per_day"] != now["max_per_day"]:
        said.append(f"You may take {name} when you need it, but now no more than {times_a_day(now['max_per_day'])}. "
                    f"It was {times_a_day(was['max_per_day'])}.")
    elif was["usual_per_day"] != now["usual_per_day"]:
        # (The engine lowers the usual use with the maximum; on its own it still changes what is supplied.)
        said.append(f"On most days, try to need {name} no more than {times_a_day(now['usual_per_day'])}."
                    if now["usual_per_day"] else f"On most days, try not to need {name} at all.")
    return said


def _patch(old: _Line, new: _Line, name: str) -> list[str]:
    was, now = _decimal(old.raw["patch_mcg_per_hour"]), _decimal(new.raw["patch_mcg_per_hour"])
    if was != now:
        return [f"Your {name} {_direction(was, now)} from {plain(was)} to {plain(now)} micrograms an hour."]
    if _units(old.raw) != _units(new.raw):
        return [f"Your {name} is still {plain(now)} micrograms an hour, made up of "
                f"{units_words(new.product, scheduled_units(new.product, new.raw['units']))}."]
    return []


def _stopped(line: _Line, name: str, *, alone: bool) -> str:
    if line.kind == PATCH:
        return f"You stop using your {name}."
    if line.kind == WHEN_NEEDED:
        return f"You no longer have {name} for when you need it."
    if alone:
        return f"You stop taking {name}."
    return f"You stop taking {name} {_at([dose['time'] for dose in line.raw['doses']])}."


def _started(line: _Line, name: str) -> str:
    if line.kind == PATCH:
        return f"You start using a {name}: {plain(_decimal(line.raw['patch_mcg_per_hour']))} micrograms an hour."
    if line.kind == WHEN_NEEDED:
        prn = line.raw["prn"]
        return (f"You may take {name} when you need it: {_amount(line.product, prn)}, no more than "
                f"{times_a_day(prn['max_per_day'])}.")
    by_amount: dict[str, list[str]] = {}
    for dose in line.raw["doses"]:
        by_amount.setdefault(_amount(line.product, dose), []).append(dose["time"])
    return f"You start taking {name}: " + ", ".join(f"{amount} {_at(times)}" for amount, times in by_amount.items()) \
        + "."


def times_a_day(count: int) -> str:
    """'once a day', 'twice a day', '3 times a day'."""
    return {1: "once a day", 2: "twice a day"}.get(count, f"{count} times a day")


def _at(times: Sequence[str]) -> str:
    """'at 8am', 'at 8am and 8pm', 'at 7am, 12 noon and 5pm'."""
    said = [clock_words(time) for time in times]
    return "at " + (said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1])


def _units(dose: Mapping[str, Any]) -> list[tuple[Decimal, int]]:
    return sorted((_decimal(unit.get("strength", unit.get("volume_ml"))), unit.get("count", 1))
                  for unit in dose["units"])


def _decimal(value: int | float | str) -> Decimal:
    return Decimal(str(value))
