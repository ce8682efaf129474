"""A tapering plan's lifecycle: draft -> active -> (paused) -> completed or stopped (Taper issue 5).

Only these moves are allowed; everything else is refused with a reason a pharmacist can act on.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Any

from taper.domain.wording import long_date


class PlanStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    STOPPED = "stopped"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def is_running(self) -> bool:
        """Active or paused: the patient's one current plan."""
        return self in (PlanStatus.ACTIVE, PlanStatus.PAUSED)

    @property
    def is_ended(self) -> bool:
        return self in (PlanStatus.COMPLETED, PlanStatus.STOPPED)


ALLOWED_MOVES: dict[PlanStatus, frozenset[PlanStatus]] = {
    PlanStatus.DRAFT: frozenset({PlanStatus.ACTIVE, PlanStatus.STOPPED}),
    PlanStatus.ACTIVE: frozenset({PlanStatus.PAUSED, PlanStatus.COMPLETED, PlanStatus.STOPPED}),
    PlanStatus.PAUSED: frozenset({PlanStatus.ACTIVE, PlanStatus.COMPLETED, PlanStatus.STOPPED}),
    PlanStatus.COMPLETED: frozenset(),
    PlanStatus.STOPPED: frozenset(),
}


class IllegalMove(ValueError):
    pass


def check_move(current: PlanStatus, wanted: PlanStatus) -> PlanStatus:
    """Return `wanted` if a plan may move there from `current`; otherwise raise IllegalMove saying why."""
    if wanted in ALLOWED_MOVES[current]:
        return wanted
    if current.is_ended:
        raise IllegalMove(f"This plan is {current.value}: start a new plan instead")
    raise IllegalMove(f"A {current.value} plan cannot be made {wanted.value}")


_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def reason_in_words(reason: str) -> str:
    """A version's reason as people read it: a date stored the ISO way ("Follow-up on 2026-12-03: hold", as older
    versions were named) written "3 December 2026". Anything that is not a real date is left as typed."""
    def spelt(match: re.Match[str]) -> str:
        try:
            return long_date(date(int(match[1]), int(match[2]), int(match[3])))
        except ValueError:
            return match[0]
    return _ISO_DAY.sub(spelt, reason)


def schedule_summary(schedule: dict[str, Any]) -> str:
    """One sentence on a schedule document (docs/schedule-api.md), shown where the builder's result starts:
    how many steps, from what to what, and when they start."""
    steps = schedule["steps"]
    first, last = steps[0], steps[-1]
    return (f"{len(steps)} step{'s' if len(steps) != 1 else ''} from {schedule['starting_ome_mg_per_day']} to "
            f"{last['ome_mg_per_day']} mg OME a day: step 1 starts "
            f"{long_date(date.fromisoformat(first['starts_on']))}"
            + ("." if len(steps) == 1 else f", step {last['number']} "
               f"{long_date(date.fromisoformat(last['starts_on']))}."))
