"""The formulary as a plain JSON document under one factor set: the contract of `flask taper formulary`.

Keys and fields are a stable interface: extend it, never rename or remove a field.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from taper.domain.formulary import Formulary, Product
from taper.domain.ome import FactorSet
from taper.domain.regimen import json_number

OME_UNITS = {"oral": "mg oral morphine per mg", "transdermal": "mg oral morphine per 24 hours per microgram/hour"}


def formulary_document(formulary: Formulary, factor_set: FactorSet) -> dict[str, Any]:
    return {
        "formulary_version": formulary.version,
        "factor_set": {"key": factor_set.key, "version": factor_set.version, "name": factor_set.name,
                       "description": factor_set.description},
        "products": [_product(product, factor_set) for product in formulary],
    }


def _product(product: Product, factor_set: FactorSet) -> dict[str, Any]:
    factor = factor_set.factor_for(product)
    return {
        "key": product.key,
        "drug": product.drug,
        "form": product.form,
        "release": product.release.value,
        "route": product.route,
        "unit_form": product.unit_form.value,
        "dose_unit": product.dose_unit.value,
        "strengths": [json_number(strength) for strength in product.strengths],
        "release_rates_mcg_per_hour": {f"{json_number(strength)}": json_number(product.release_rate(strength))
                                       for strength in product.strengths} if product.is_patch else None,
        "concentration_mg_per_ml": _number(product.concentration_mg_per_ml),
        "measure_ml": _number(product.measure_ml),
        "usual_doses_per_day": product.usual_doses_per_day,
        "patch_wear_hours": product.patch_wear_hours,
        "patch_wear_days": _number(product.wear_days),
        "max_patches": product.max_patches,
        "paracetamol_mg_per_unit": _number(product.paracetamol_mg_per_unit),
        "max_daily_dose": _number(product.max_daily_dose),
        "max_daily_dose_source": product.max_daily_dose_source or None,
        "may_halve": product.may_halve,
        "taper_automatically": product.taper_automatically,
        "strengths_source": product.strengths_source,
        "reviewed_on": product.reviewed_on.isoformat(),
        "notes": product.notes,
        # Rule 8 (issue 13): the UK brands and their strengths; a line naming no brand never uses a brand-only one.
        "brands": [{"name": brand.name, "strengths": [json_number(strength) for strength in brand.strengths],
                    "source": brand.source} for brand in product.brands],
        "brand_only_strengths": [json_number(strength) for strength in product.brand_only_strengths],
        "prescribed_by_brand": product.prescribed_by_brand,
        # The controlled-drug schedule of each strength (Misuse of Drugs Regulations 2001).
        "cd_schedules": {f"{json_number(strength)}": schedule for strength, schedule in product.cd_schedules.items()},
        # The fewest hours between when-needed doses (issue 14, item 2); null for products not taken when needed.
        "min_hours_between_doses": product.min_hours_between_doses,
        "ome": {
            "calculable": factor is not None and factor.value is not None,
            "factor": _number(factor.value) if factor else None,
            "unit": OME_UNITS[product.route],
            "source": factor.source if factor else None,
            "link": factor.link if factor else None,
            "source_date": factor.source_date if factor else None,
            "notes": factor.notes if factor else "this factor set has no row for this drug",
        },
    }


def _number(value: Decimal | None) -> int | float | None:
    return None if value is None else json_number(value)
