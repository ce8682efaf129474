"""A tapering plan's lifecycle: draft -> active -> (paused) -> completed or stopped (Taper issue 5).

Only these moves are allowed; everything else is refused with a reason a pharmacist can act on.
"""

from __future__ import annotations

from enum import StrEnum


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
