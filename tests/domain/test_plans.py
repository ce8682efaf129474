from itertools import product

import pytest

from taper.domain.plans import ALLOWED_MOVES, IllegalMove, PlanStatus, check_move, reason_in_words

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


def test_a_version_reason_shows_iso_dates_as_people_write_them() -> None:
    assert reason_in_words("Follow-up on 2026-12-03: hold (7 days)") == "Follow-up on 3 December 2026: hold (7 days)"


def test_a_version_reason_keeps_what_is_not_a_real_date() -> None:
    assert reason_in_words("Batch 2026-13-45 and 12-03") == "Batch 2026-13-45 and 12-03"
