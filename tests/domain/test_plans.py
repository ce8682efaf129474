from itertools import product

import pytest

from taper.domain.plans import ALLOWED_MOVES, IllegalMove, PlanStatus, check_move

LEGAL = {("draft", "active"), ("draft", "stopped"), ("active", "paused"), ("active", "completed"),
         ("active", "stopped"), ("paused", "active"), ("paused", "completed"), ("paused", "stopped")}


@pytest.mark.parametrize(("current", "wanted"), list(product(PlanStatus, PlanStatus)))
def test_only_the_lifecycle_moves_are_allowed(current: PlanStatus, wanted: PlanStatus) -> None:
    if (current.value, wanted.value) in LEGAL:
        assert check_move(current, wanted) is wanted
    else:
        with pytest.raises(IllegalMove):
            check_move(current, wanted)


def test_an_ended_plan_says_to_start_a_new_one() -> None:
    with pytest.raises(IllegalMove, match="start a new plan"):
        check_move(PlanStatus.COMPLETED, PlanStatus.ACTIVE)
    assert not ALLOWED_MOVES[PlanStatus.STOPPED]
