"""The engine's JSON contract (docs/schedule-api.md), shared by `flask taper schedule` and
`POST /api/v1/schedules/preview`: read a request exactly or refuse it field by field; write a schedule.

A stable interface: extend it, never rename or remove a field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Any

from taper.domain.engine import Basis, Hold, Policy, Schedule, Step, build_schedule
from taper.domain.formulary import Formulary, Product
from taper.domain.ladders import Dose, LineState
from taper.domain.limits import Limits
from taper.domain.makeable import Units
from taper.domain.ome import FactorSet, UnknownFactorSet, default_factor_set, get_factor_set, ome_mg_per_day
from taper.domain.regimen import FieldError, RegimenError, json_number, parse_regimen, unknown_fields
from taper.domain.starting_checks import refusals as starting_refusals
from taper.domain.starting_checks import warnings as starting_warnings
from taper.domain.switches import Switch

REQUEST_FIELDS = ("start_on", "regimen", "policy", "holds", "factor_set", "limits")
LIMIT_FIELDS = ("paracetamol_max_mg_per_day", "plausible_units_per_dose", "plausible_ome_mg_per_day")
POLICY_FIELDS = ("reduction_pct", "interval_days", "basis", "target_ome_mg_per_day", "order", "order_reason",
                 "larger_dose_at", "max_patches", "tail", "switches")
SWITCH_FIELDS = ("from", "to", "at_step", "confirmed", "brand")
HOLD_FIELDS = ("step", "extra_days")
_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def schedule_from_request(request: Any, formulary: Formulary) -> dict[str, Any]:
    """The response document for a request document; RegimenError lists every problem with the request.

    The starting regimen is checked first (taper.domain.starting_checks): one no plan should be made from is
    refused before the engine runs; what a pharmacist must look at in it leads the response's `warnings`."""
    if not isinstance(request, Mapping):
        raise RegimenError([FieldError("request", "must be a JSON object")])
    errors: list[FieldError] = unknown_fields(request, REQUEST_FIELDS, "")
    start_on = _start_on(request.get("start_on"), errors)
    factor_set = _factor_set(request.get("factor_set"), errors)
    policy = _policy(request.get("policy", {}), errors)
    holds = _holds(request.get("holds", []), errors)
    limits = _limits(request.get("limits", {}), errors)
    try:
        regimen = parse_regimen(request.get("regimen"), formulary)
    except RegimenError as refusal:
        errors.extend(refusal.errors)
        regimen = None
    if regimen is not None and factor_set is not None:
        errors.extend(starting_refusals(regimen, formulary, factor_set, given=request.get("regimen")))
    if errors or regimen is None or start_on is None or factor_set is None or policy is None or limits is None:
        raise RegimenError(errors)
    try:
        schedule = build_schedule(regimen, formulary=formulary, factor_set=factor_set, start_on=start_on,
                                  policy=policy, holds=holds)
    except OverflowError as error:  # a start so late that the plan would run past the year 9999
        raise RegimenError([FieldError("start_on", f"gives dates the calendar cannot hold: {error}")]) from None
    # The starting warnings travel with the schedule (a re-plan keeps them) ahead of the engine's own.
    schedule = replace(schedule, warnings=(*starting_warnings(regimen, formulary, factor_set, limits),
                                           *schedule.warnings))
    return schedule_document(schedule, formulary, policy, limits)


def stored_limits(document: Mapping[str, Any]) -> Limits | None:
    """The limits a stored schedule document was checked against (None in documents from before they existed)."""
    if "limits" not in document:
        return None
    errors: list[FieldError] = []
    limits = _limits(document["limits"], errors)
    if limits is None:
        raise ValueError(f"stored schedule has unreadable limits: {errors}")
    return limits


def limits_document(limits: Limits) -> dict[str, Any]:
    """The limits the starting regimen was checked against, every default filled in."""
    return {"paracetamol_max_mg_per_day": json_number(limits.paracetamol_max_mg_per_day),
            "plausible_units_per_dose": limits.plausible_units_per_dose,
            "plausible_ome_mg_per_day": json_number(limits.plausible_ome_mg_per_day)}


def schedule_document(schedule: Schedule, formulary: Formulary, policy: Policy,
                      limits: Limits | None = None) -> dict[str, Any]:
    """The response document; `limits`, the clinic's limits the starting regimen was checked against, are echoed
    when given (a revision passes on those of the version it revises)."""
    limits_echo = {"limits": limits_document(limits)} if limits is not None else {}
    return limits_echo | {
        "policy": _policy_document(policy, schedule),
        "factor_set": schedule.factor_set.key,
        "factor_set_version": schedule.factor_set.version,
        "formulary_version": formulary.version,
        "starting_ome_mg_per_day": json_number(schedule.starting_ome_mg_per_day),
        "steps": [_step(step) for step in schedule.steps],
        "warnings": list(schedule.warnings),
        "when_needed_supply": schedule.when_needed_supply,
    }


def schedule_from_document(document: Mapping[str, Any], formulary: Formulary) -> Schedule:
    """Read back a stored schedule document exactly (for re-planning from it). The document must be one this
    module wrote; anything else is a programming error, not user input."""
    factor_set = get_factor_set(document["factor_set"])
    steps = tuple(Step(
        number=step["number"], starts_on=date.fromisoformat(step["starts_on"]),
        ends_on=date.fromisoformat(step["ends_on"]) if step["ends_on"] else None,
        ome_mg_per_day=_exact(step["ome_mg_per_day"]),
        lines=tuple(_line_state(line, formulary, factor_set) for line in step["lines"]),
        explanation=step["explanation"], warnings=tuple(step["warnings"]),
        pace_mg_per_day=_exact(step.get("pace_mg_per_day", 0)),
        # Documents stored before these fields existed read as the engine's defaults.
        ome_at_max_mg_per_day=_exact(step["ome_at_max_mg_per_day"]) if "ome_at_max_mg_per_day" in step else None,
        held_days=step.get("held_days", 0)) for step in document["steps"])
    return Schedule(factor_set=factor_set, starting_ome_mg_per_day=_exact(document["starting_ome_mg_per_day"]),
                    steps=steps, warnings=tuple(document["warnings"]),
                    # Stored before issue 14: when-needed doses were supplied at their maximum.
                    when_needed_supply=document.get("when_needed_supply", "maximum"))


def _line_state(line: Mapping[str, Any], formulary: Formulary, factor_set: FactorSet) -> LineState:
    product = formulary.as_prescribed(line["product"], line.get("brand"))  # (units are read as stored)

    def units(entries: list[Mapping[str, Any]]) -> Units:
        if product.is_liquid:
            return tuple((_exact(entry["volume_ml"]), 1) for entry in entries)
        return tuple((_exact(entry["strength"]), entry["count"]) for entry in entries)

    if "patch_mcg_per_hour" in line:
        patches = units(line["units"])
        released = sum((product.release_rate(strength) * count for strength, count in patches), Decimal(0))
        return LineState(product=product, ome_mg_per_day=_ome(product, released, factor_set),
                         patch_mcg_per_hour=_exact(line["patch_mcg_per_hour"]), patch_units=patches)
    if "prn" in line:
        prn = line["prn"]
        dose = _exact(prn["dose_mg"])
        return LineState(product=product, ome_mg_per_day=_ome(product, dose * prn["usual_per_day"], factor_set),
                         prn_dose_mg=dose, prn_usual_per_day=prn["usual_per_day"], prn_max_per_day=prn["max_per_day"],
                         prn_units=units(prn["units"]))
    doses = tuple(Dose(time.fromisoformat(dose["time"]), _exact(dose["dose_mg"]), units(dose["units"]))
                  for dose in line["doses"])
    return LineState(product=product, ome_mg_per_day=_ome(product, sum((d.dose_mg for d in doses), Decimal(0)),
                                                         factor_set), doses=doses)


def _ome(product: Product, amount: Decimal, factor_set: FactorSet) -> Decimal:
    value = ome_mg_per_day(product, amount, factor_set)
    if value is None:
        raise ValueError(f"stored schedule names {product.key}, which has no factor in {factor_set.key}")
    return value


def _exact(number: int | float | str) -> Decimal:
    """A JSON number as the decimal it was written from (floats through their shortest text: 187.5, 1.3)."""
    return Decimal(str(number))


def _policy_document(policy: Policy, schedule: Schedule) -> dict[str, Any]:
    """The settings the schedule was built with, defaults filled in, so a stored plan can say exactly how."""
    return {
        "reduction_pct": json_number(policy.reduction_pct), "interval_days": policy.interval_days,
        "basis": policy.basis.value, "target_ome_mg_per_day": json_number(policy.target_ome_mg_per_day),
        "order": list(policy.order or schedule.order),
        "order_reason": policy.order_reason,
        "larger_dose_at": policy.larger_dose_at.strftime("%H:%M") if policy.larger_dose_at else None,
        "max_patches": policy.max_patches,
        "tail": policy.tail,
        "switches": [{"from": switch.from_product, "to": switch.to_product, "at_step": switch.at_step,
                      "confirmed": switch.confirmed} | ({"brand": switch.brand} if switch.brand else {})
                     for switch in policy.switches],
    }


def errors_document(refusal: RegimenError) -> dict[str, Any]:
    return {"errors": [{"field": error.field, "message": error.message} for error in refusal.errors]}


def _step(step: Step) -> dict[str, Any]:
    return {
        "number": step.number,
        "starts_on": step.starts_on.isoformat(),
        "ends_on": step.ends_on.isoformat() if step.ends_on else None,
        "ome_mg_per_day": json_number(step.ome_mg_per_day),
        "lines": [_line(line) for line in step.lines],
        "explanation": step.explanation,
        "warnings": list(step.warnings),
        "pace_mg_per_day": json_number(step.pace_mg_per_day),
        # With when-needed doses at their maximum (the same as ome_mg_per_day when the engine gives none).
        "ome_at_max_mg_per_day": json_number(step.ome_mg_per_day if step.ome_at_max_mg_per_day is None
                                             else step.ome_at_max_mg_per_day),
        "held_days": step.held_days,
    }


def _line(line: LineState) -> dict[str, Any]:
    product = line.product
    named: dict[str, Any] = {"product": product.key} | ({"brand": product.brand} if product.brand else {})
    if line.patch_mcg_per_hour is not None:
        return named | {"patch_mcg_per_hour": json_number(line.patch_mcg_per_hour),
                        "units": _units(line.patch_units, liquid=False)}
    if line.prn_dose_mg is not None:
        return named | {"prn": {
            "dose_mg": json_number(line.prn_dose_mg), "usual_per_day": line.prn_usual_per_day,
            "max_per_day": line.prn_max_per_day, "units": _units(line.prn_units, liquid=product.is_liquid)}}
    return named | {"doses": [
        {"time": dose.at.strftime("%H:%M"), "dose_mg": json_number(dose.dose_mg),
         "units": _units(dose.units, liquid=product.is_liquid)} for dose in line.doses]}


def _units(units: Units, *, liquid: bool) -> list[dict[str, Any]]:
    if liquid:
        return [{"volume_ml": json_number(volume)} for volume, _ in units]
    return [{"strength": json_number(strength), "count": count} for strength, count in units]


def _start_on(raw: Any, errors: list[FieldError]) -> date | None:
    if raw is None:
        errors.append(FieldError("start_on", "give the date the first step starts, like 2027-01-04"))
        return None
    try:
        if isinstance(raw, str):
            return date.fromisoformat(raw)
    except ValueError:
        pass
    errors.append(FieldError("start_on", f"{raw!r} is not a date like 2027-01-04"))
    return None


def _factor_set(raw: Any, errors: list[FieldError]) -> FactorSet | None:
    if raw is None:
        return default_factor_set()
    try:
        if isinstance(raw, str):
            return get_factor_set(raw)
    except UnknownFactorSet:
        pass
    errors.append(FieldError("factor_set", f"unknown factor set {raw!r}"))
    return None


def read_policy(raw: Any) -> Policy:
    """A policy object of a request (or a stored schedule's echo of one) as the engine's Policy."""
    errors: list[FieldError] = []
    policy = _policy(raw, errors)
    if policy is None:
        raise RegimenError(errors)
    return policy


def _known_object(raw: Any, field: str, expected: tuple[str, ...], errors: list[FieldError]) -> bool:
    """Whether `raw` is an object; any field of it not `expected` is added to `errors` by its path."""
    if not isinstance(raw, Mapping):
        errors.append(FieldError(field, "must be an object"))
        return False
    errors.extend(unknown_fields(raw, expected, field))
    return True


def _policy(raw: Any, errors: list[FieldError]) -> Policy | None:
    before = len(errors)
    if not _known_object(raw, "policy", POLICY_FIELDS, errors):
        return None
    defaults = Policy()
    reduction = _number(raw.get("reduction_pct", defaults.reduction_pct), "policy.reduction_pct", errors)
    interval = _whole(raw.get("interval_days", defaults.interval_days), "policy.interval_days", errors)
    target = _number(raw.get("target_ome_mg_per_day", 0), "policy.target_ome_mg_per_day", errors)
    max_patches = _whole(raw.get("max_patches", defaults.max_patches), "policy.max_patches", errors)
    basis_raw = raw.get("basis", defaults.basis.value)
    basis = Basis(basis_raw) if isinstance(basis_raw, str) and basis_raw in {basis.value for basis in Basis} else None
    if basis is None:
        errors.append(FieldError("policy.basis", f"{basis_raw!r} is not one of starting, current, phased"))
    order_reason = raw.get("order_reason", "")
    if not isinstance(order_reason, str):
        errors.append(FieldError("policy.order_reason", "must be text"))
        order_reason = ""
    order = raw.get("order", [])
    if not isinstance(order, list) or not all(isinstance(key, str) for key in order):
        errors.append(FieldError("policy.order", "must be a list of product keys"))
        order = []
    larger_at = raw.get("larger_dose_at")
    larger_time = None
    if larger_at is not None:
        match = _TIME.fullmatch(larger_at) if isinstance(larger_at, str) else None
        if match is None:
            errors.append(FieldError("policy.larger_dose_at", f"{larger_at!r} is not a time of day like 20:00"))
        else:
            larger_time = time(int(match[1]), int(match[2]))
    tail = raw.get("tail", defaults.tail)
    if not isinstance(tail, bool):
        errors.append(FieldError("policy.tail", f"must be true or false, not {tail!r}"))
    switches = _switches(raw.get("switches", []), errors)
    if len(errors) > before or reduction is None or interval is None or target is None or max_patches is None \
            or basis is None:
        return None
    return Policy(reduction_pct=reduction, interval_days=interval, basis=basis, target_ome_mg_per_day=target,
                  order=tuple(order), order_reason=order_reason.strip(), larger_dose_at=larger_time,
                  max_patches=max_patches, tail=tail, switches=switches)


def _switches(raw: Any, errors: list[FieldError]) -> tuple[Switch, ...]:
    """`[{"from": key, "to": key, "at_step": 1, "confirmed": false}]`: same-drug switches (taper.domain.switches)."""
    if not isinstance(raw, list):
        errors.append(FieldError("policy.switches", "must be a list of {\"from\": key, \"to\": key}"))
        return ()
    switches = []
    for index, entry in enumerate(raw):
        where = f"policy.switches[{index}]"
        if not isinstance(entry, Mapping):
            errors.append(FieldError(where, "must be an object with from and to"))
            continue
        errors.extend(unknown_fields(entry, SWITCH_FIELDS, where))
        source, target = entry.get("from"), entry.get("to")
        for name, key in (("from", source), ("to", target)):
            if not isinstance(key, str):
                errors.append(FieldError(f"{where}.{name}", f"must be a product key, not {key!r}"))
        at_step = _whole(entry.get("at_step", 1), f"{where}.at_step", errors)
        confirmed = entry.get("confirmed", False)
        brand = entry.get("brand")
        if brand is not None and (not isinstance(brand, str) or not brand.strip()):
            errors.append(FieldError(f"{where}.brand", f"must be the name of a brand, not {brand!r}"))
        elif not isinstance(confirmed, bool):
            errors.append(FieldError(f"{where}.confirmed", f"must be true or false, not {confirmed!r}"))
        elif isinstance(source, str) and isinstance(target, str) and at_step is not None:
            switches.append(Switch(source, target, at_step, confirmed, brand))
    return tuple(switches)


def _limits(raw: Any, errors: list[FieldError]) -> Limits | None:
    """`{"paracetamol_max_mg_per_day": 4000, "plausible_units_per_dose": 20, "plausible_ome_mg_per_day": 1000}`:
    the clinic's limits for the starting checks (taper.domain.limits); each field defaults."""
    before = len(errors)
    if not _known_object(raw, "limits", LIMIT_FIELDS, errors):
        return None
    defaults = Limits()
    paracetamol = _number(raw.get("paracetamol_max_mg_per_day", defaults.paracetamol_max_mg_per_day),
                          "limits.paracetamol_max_mg_per_day", errors)
    units = _whole(raw.get("plausible_units_per_dose", defaults.plausible_units_per_dose),
                   "limits.plausible_units_per_dose", errors)
    ome = _number(raw.get("plausible_ome_mg_per_day", defaults.plausible_ome_mg_per_day),
                  "limits.plausible_ome_mg_per_day", errors)
    if len(errors) > before or paracetamol is None or units is None or ome is None:
        return None
    limits = Limits(paracetamol_max_mg_per_day=paracetamol, plausible_units_per_dose=units,
                    plausible_ome_mg_per_day=ome)
    problems = limits.problems()
    errors.extend(FieldError(f"limits.{name}", message) for name, message in problems.items())
    return None if problems else limits


def _holds(raw: Any, errors: list[FieldError]) -> list[Hold]:
    if not isinstance(raw, list):
        errors.append(FieldError("holds", "must be a list of {\"step\": n, \"extra_days\": n}"))
        return []
    holds = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            errors.append(FieldError(f"holds[{index}]", "must be an object with step and extra_days"))
            continue
        errors.extend(unknown_fields(entry, HOLD_FIELDS, f"holds[{index}]"))
        step = _whole(entry.get("step"), f"holds[{index}].step", errors)
        extra = _whole(entry.get("extra_days"), f"holds[{index}].extra_days", errors)
        if step is not None and extra is not None:
            holds.append(Hold(step=step, extra_days=extra))
    return holds


def _number(raw: Any, field: str, errors: list[FieldError]) -> Decimal | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        errors.append(FieldError(field, f"must be a number, not {raw!r}"))
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        errors.append(FieldError(field, f"must be a number, not {raw!r}"))
        return None
    if not value.is_finite():
        errors.append(FieldError(field, f"must be a number, not {raw!r}"))
        return None
    return value


def _whole(raw: Any, field: str, errors: list[FieldError]) -> int | None:
    if isinstance(raw, bool) or not isinstance(raw, int):
        errors.append(FieldError(field, f"must be a whole number, not {raw!r}"))
        return None
    return raw
