"""The limits a starting regimen is checked against (issue 13 rule 1), with their defaults: each is a pain
clinic's setting, carried into the schedule contract as its `limits` object (docs/schedule-api.md).

- Paracetamol: at most 4 g in 24 hours for adults (BNF; docs/clinical-sources.md, Paracetamol maximum). A clinic
  may set a lower maximum (3 g is usual under 50 kg or with a risk to the liver), never a higher one.
- Plausibility: above these a starting regimen is much more often a slip in typing it (an extra zero, mg for
  micrograms) than a regimen anyone takes, though very high doses do occur in specialist practice, so the plan
  is still made and a warning asks for a check. Taper's own figures, not from guidance: 20 units is a handful of
  tablets in one dose; 1,000 mg OME a day is five times the very-high band (200) and over eight times the FPM
  high-dose threshold (120). Each must stay below the hard limits at which a request is refused
  (taper.domain.starting_checks), so that a clinic's setting can never turn a refusal into a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

PARACETAMOL_MAX_MG_PER_DAY = Decimal(4000)
PARACETAMOL_RANGE_MG = (Decimal(1000), PARACETAMOL_MAX_MG_PER_DAY)
PLAUSIBLE_UNITS_RANGE = (1, 59)  # below the hard limit of 60 units in one dose
PLAUSIBLE_OME_RANGE_MG = (Decimal(100), Decimal(4999))  # below the hard limit of 5,000 mg OME a day


@dataclass(frozen=True)
class Limits:
    paracetamol_max_mg_per_day: Decimal = PARACETAMOL_MAX_MG_PER_DAY
    plausible_units_per_dose: int = 20
    plausible_ome_mg_per_day: Decimal = Decimal(1000)

    def problems(self) -> dict[str, str]:
        """Each setting outside its range, by name, with the range: {} when all are usable."""
        found = {}
        low, high = PARACETAMOL_RANGE_MG
        if not low <= self.paracetamol_max_mg_per_day <= high:
            found["paracetamol_max_mg_per_day"] = f"must be from {low} to {high} mg a day (4 g is the adult maximum)"
        low_units, high_units = PLAUSIBLE_UNITS_RANGE
        if not low_units <= self.plausible_units_per_dose <= high_units:
            found["plausible_units_per_dose"] = f"must be from {low_units} to {high_units} units in one dose"
        low, high = PLAUSIBLE_OME_RANGE_MG
        if not low <= self.plausible_ome_mg_per_day <= high:
            found["plausible_ome_mg_per_day"] = f"must be from {low} to {high} mg OME a day"
        return found


DEFAULT_LIMITS = Limits()
