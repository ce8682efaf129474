"""The community pharmacy's dispensing schedule: its context (plain values) from a stored plan version."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from taper.documents.letterhead import Letterhead, banner
from taper.documents.render import render_pdf
from taper.domain.dispensing import Supply, instalments
from taper.domain.formulary import load_formulary
from taper.domain.makeable import plain
from taper.domain.schedule_contract import schedule_from_document
from taper.domain.wording import describe_scheduled, long_date

TEMPLATE = "pharmacy_schedule/template.html"
TEMPLATE_VERSION = "2"


def pharmacy_schedule_context(head: Letterhead, schedule_document: dict[str, Any], *, instalment_days: int,
                              notes: str = "") -> dict[str, Any]:
    schedule = schedule_from_document(schedule_document, load_formulary())
    periods = instalments(schedule, instalment_days=instalment_days)
    steps = {step["number"]: step for step in schedule_document["steps"]}
    totals: dict[tuple[str, Decimal | None, str | None], Decimal] = defaultdict(Decimal)
    for period in periods:
        for supply in period.supplies:
            totals[(supply.product, supply.strength, supply.brand)] += supply.quantity
    return {
        **banner(head),
        "plan": {**banner(head)["plan"], "instalment_days": instalment_days,
                 "starts": long_date(schedule.steps[0].starts_on)},
        "pharmacy": {"name": head.pharmacy_name, "ods_code": head.pharmacy_ods_code},
        "clinic": {"name": head.clinic_name, "contact": head.clinic_contact},
        "instalments": [{
            "number": period.number, "starts": long_date(period.starts_on), "ends": long_date(period.ends_on),
            "supplies": [_supply(supply) for supply in period.supplies],
            "instructions": [f"Step {number}: " + "; ".join(describe_scheduled(line) for line in steps[number]["lines"])
                             for number in period.steps if steps[number]["lines"]]} for period in periods],
        "totals": [_supply(Supply(product, strength, quantity, brand))
                   for (product, strength, brand), quantity in totals.items()],
        "notes": notes,
    }


def render_pharmacy_schedule(head: Letterhead, schedule_document: dict[str, Any], *, instalment_days: int,
                             notes: str = "") -> bytes:
    return render_pdf(TEMPLATE, pharmacy_schedule_context(head, schedule_document, instalment_days=instalment_days,
                                                          notes=notes))


def _supply(supply: Supply) -> dict[str, str]:
    product = load_formulary().as_prescribed(supply.product, supply.brand)
    schedule = f"CD{product.cd_schedule(supply.strength)}"  # as the BNF labels it: CD2, CD3, CD5
    if supply.strength is None:
        return {"item": f"{product.label()} ({plain(product.concentration_mg_per_ml or Decimal(0))} mg/mL)",
                "quantity": f"{plain(supply.quantity)} mL", "schedule": schedule}
    unit = "micrograms/hour" if product.is_patch else "mg"
    noun = product.unit_form.value + ("es" if product.unit_form.value == "patch" else "s")
    return {"item": f"{product.label()} {plain(supply.strength)} {unit}",
            "quantity": f"{plain(supply.quantity)} {noun}", "schedule": schedule}
