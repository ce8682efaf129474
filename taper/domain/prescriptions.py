"""The prescriptions a plan needs (issue 14): one for each supply period of the plan's instalments (7, 14 or 28
days), dated no earlier than the letter that asks for them, each for exactly what its days take.

Rules and their sources (docs/clinical-sources.md, Controlled drugs):
- One prescription per supply period; instalment dispensing on one form (FP10MDA) is for treating addiction,
  not for pain.
- A prescription for a Schedule 2, 3 or 4 controlled drug should not be for more than 30 days' supply (Department
  of Health and Social Care and Home Office good practice, quoted in the BNF): Taper's periods are at most 28
  days, and a longer one is refused rather than written.
- A period that began before the letter is prescribed from the letter's date, for its remaining days only.
- A period with nothing to supply (the last patch is still being worn) has no prescription.
- When-needed doses are prescribed at the agreed usual use (taper.domain.dispensing), with the step's maximum in
  the directions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from taper.domain.dispensing import Supply, instalments, supplies_between
from taper.domain.engine import Schedule
from taper.domain.formulary import Formulary

MAX_CONTROLLED_DRUG_DAYS = 30
SCHEDULES_LIMITED_TO_30_DAYS = (2, 3, 4)


@dataclass(frozen=True)
class Prescription:
    on: date  # the day it is written (the period's first day, or the letter's date if later)
    covers_to: date  # the last day it supplies (it supplies from `on`)
    supplies: tuple[Supply, ...]
    steps: tuple[int, ...]  # the plan's steps in force on the days it covers

    @property
    def days(self) -> int:
        return (self.covers_to - self.on).days + 1


class TooLongForAControlledDrug(ValueError):
    """A prescription of a Schedule 2, 3 or 4 drug would cover more than 30 days."""


def prescriptions(schedule: Schedule, *, instalment_days: int, issued_on: date,
                  formulary: Formulary) -> list[Prescription]:
    """The prescriptions for every supply period still to come on `issued_on` (the letter's date)."""
    result = []
    for period in instalments(schedule, instalment_days=instalment_days):
        if period.ends_on < issued_on:
            continue
        if period.starts_on >= issued_on:
            written = Prescription(period.starts_on, period.ends_on, period.supplies, period.steps)
        else:
            supplies, steps = supplies_between(schedule, issued_on, period.ends_on)
            written = Prescription(issued_on, period.ends_on, supplies, steps)
        if not written.supplies:
            continue  # nothing to supply (the last patch still on, say): no prescription at all
        limited = any(formulary.get(supply.product).cd_schedule(supply.strength) in SCHEDULES_LIMITED_TO_30_DAYS
                      for supply in written.supplies)
        if limited and written.days > MAX_CONTROLLED_DRUG_DAYS:
            raise TooLongForAControlledDrug(f"a prescription from {written.on} covers {written.days} days")
        result.append(written)
    return result
