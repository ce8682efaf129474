"""The counting rules of the measures, on plain values worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from taper.domain.follow_up import SOWS_GOSSOP_ITEMS
from taper.domain.measures import (
    FollowUpScores,
    History,
    PlanCourse,
    Recorded,
    Source,
    caseload_on,
    first_and_latest,
    median,
    month_ends,
    months_after,
    months_between,
    peg_changes,
    reductions_at,
    sows_changes,
    sows_compared,
)

D = Decimal


def _plan(plan_id: int = 1, patient_id: int = 1, *, ended_on: date | None = None,
          final: str | None = None) -> PlanCourse:
    """200 mg a day before; 180 from 1 March 2026, 150 from 1 April, 100 from 1 May."""
    return PlanCourse(plan_id=plan_id, patient_id=patient_id, starting_ome=D(200), ended_on=ended_on,
                      final_ome=D(final) if final else None,
                      steps=((date(2026, 3, 1), D(180)), (date(2026, 4, 1), D(150)), (date(2026, 5, 1), D(100))))


def test_the_ome_in_force_is_the_running_plans_step_else_the_latest_record() -> None:
    history = History(regimens=[Recorded(date(2026, 1, 10), 1, D(200)), Recorded(date(2026, 2, 1), 2, D(210))],
                      plans=[_plan()])
    assert history.ome_on(date(2026, 1, 9)) == (None, None)  # nothing recorded yet
    assert history.ome_on(date(2026, 1, 10)) == (D(200), Source.REGIMEN)
    assert history.ome_on(date(2026, 2, 28)) == (D(210), Source.REGIMEN)  # the later regimen
    assert history.ome_on(date(2026, 3, 1)) == (D(180), Source.PLAN_STEP)  # step 1's first day
    assert history.ome_on(date(2026, 3, 31)) == (D(180), Source.PLAN_STEP)
    assert history.ome_on(date(2026, 4, 1)) == (D(150), Source.PLAN_STEP)
    assert history.ome_on(date(2027, 1, 1)) == (D(100), Source.PLAN_STEP)  # the last step runs on


def test_after_a_plan_ends_its_final_ome_counts_until_a_later_regimen() -> None:
    history = History(regimens=[Recorded(date(2026, 1, 10), 1, D(200))],
                      plans=[_plan(ended_on=date(2026, 4, 15), final="150")])
    assert history.ome_on(date(2026, 4, 14)) == (D(150), Source.PLAN_STEP)
    assert history.ome_on(date(2026, 4, 15)) == (D(150), Source.PLAN_END)  # ended that day: not running
    history.regimens.append(Recorded(date(2026, 4, 15), 2, D(90)))  # recorded on the day it ended: the later
    assert history.ome_on(date(2026, 4, 15)) == (D(90), Source.REGIMEN)
    history.regimens.append(Recorded(date(2026, 6, 1), 3, None))  # not calculable: not known, never estimated
    assert history.ome_on(date(2026, 6, 1)) == (None, Source.REGIMEN)


def test_a_practice_record_stands_from_its_latest_issue_and_a_pharmacists_regimen_wins_that_day() -> None:
    history = History(regimens=[Recorded(date(2026, 1, 10), 1, D(200)),
                                Recorded(date(2026, 2, 1), 9, D(300), from_practice_record=True),
                                Recorded(date(2026, 2, 1), 5, D(60))])
    assert history.ome_on(date(2026, 1, 31)) == (D(200), Source.REGIMEN)
    # The same day: the pharmacist's regimen, whichever was stored first (the import, here, was stored later).
    assert history.ome_on(date(2026, 2, 1)) == (D(60), Source.REGIMEN)
    history.regimens.append(Recorded(date(2026, 2, 2), 3, D(300), from_practice_record=True))
    assert history.ome_on(date(2026, 2, 2)) == (D(300), Source.PRACTICE_RECORD)


def test_a_plans_final_ome_stands_until_a_pharmacists_regimen_or_a_later_issue() -> None:
    """Ended 15 April with 150 mg a day: a practice record issued during the plan, or on the day it ended (the
    plan's own last prescription, perhaps), does not undo it; one issued the next day does; a pharmacist's
    regimen recorded on the day it ended does."""
    history = History(plans=[_plan(ended_on=date(2026, 4, 15), final="150")])
    history.regimens.append(Recorded(date(2026, 4, 10), 2, D(500), from_practice_record=True))
    history.regimens.append(Recorded(date(2026, 4, 15), 3, D(400), from_practice_record=True))
    assert history.ome_on(date(2026, 4, 15)) == (D(150), Source.PLAN_END)
    assert history.ome_on(date(2026, 4, 20)) == (D(150), Source.PLAN_END)
    history.regimens.append(Recorded(date(2026, 4, 16), 4, D(90), from_practice_record=True))
    assert history.ome_on(date(2026, 4, 16)) == (D(90), Source.PRACTICE_RECORD)
    pharmacist = History(regimens=[Recorded(date(2026, 4, 15), 5, D(120))],
                         plans=[_plan(ended_on=date(2026, 4, 15), final="150")])
    assert pharmacist.ome_on(date(2026, 4, 15)) == (D(120), Source.REGIMEN)


def test_a_plan_stopped_before_its_first_step_never_ran() -> None:
    plan = _plan(ended_on=date(2026, 2, 20), final="200")
    assert not plan.began
    assert not plan.running_on(date(2026, 3, 5))


def test_the_caseload_on_a_day_counts_high_doses_and_the_total_apart_from_the_unknown() -> None:
    histories = [History(regimens=[Recorded(date(2026, 1, 1), 1, D(120))]),  # at the threshold: high
                 History(regimens=[Recorded(date(2026, 1, 1), 2, D("119.5"))]),
                 History(regimens=[Recorded(date(2026, 1, 1), 3, None)]),  # not known
                 History(regimens=[Recorded(date(2026, 2, 1), 4, D(300))]),  # not yet recorded on the day
                 History(plans=[_plan(patient_id=5)])]  # no regimen, but a running plan: 180
    on = caseload_on(date(2026, 3, 2), histories, D(120))
    assert (on.counted, on.high_dose, on.total_ome, on.not_known) == (4, 3, D("719.5"), 1)
    assert on.high_dose_from_practice_record == 0
    before = caseload_on(date(2026, 1, 31), histories, D(120))
    assert (before.counted, before.high_dose, before.total_ome, before.not_known) == (2, 1, D("239.5"), 1)


def test_people_on_high_doses_from_practice_records_not_yet_confirmed_are_counted_apart_too() -> None:
    histories = [History(regimens=[Recorded(date(2026, 1, 1), 1, D(200), from_practice_record=True)]),
                 History(regimens=[Recorded(date(2026, 1, 1), 2, D(90), from_practice_record=True)]),  # not high
                 History(regimens=[Recorded(date(2026, 1, 1), 3, D(150))]),
                 History(regimens=[Recorded(date(2026, 1, 1), 4, None, from_practice_record=True)])]  # not known
    on = caseload_on(date(2026, 1, 1), histories, D(120))
    assert (on.counted, on.high_dose, on.high_dose_from_practice_record, on.total_ome, on.not_known) == (
        3, 2, 1, D(440), 1)


def test_months_after_keeps_the_day_or_takes_the_months_last() -> None:
    assert months_after(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert months_after(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert months_after(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert months_after(date(2026, 3, 31), -1) == date(2026, 2, 28)


def test_month_ends_and_months_of_a_period() -> None:
    assert month_ends(date(2026, 1, 15), date(2026, 3, 31)) == [date(2026, 1, 31), date(2026, 2, 28),
                                                                date(2026, 3, 31)]
    assert month_ends(date(2026, 1, 15), date(2026, 3, 2)) == [date(2026, 1, 31), date(2026, 2, 28),
                                                               date(2026, 3, 2)]
    assert month_ends(date(2026, 1, 15), date(2026, 1, 20)) == [date(2026, 1, 20)]
    assert months_between(date(2025, 12, 3), date(2026, 2, 1)) == [date(2025, 12, 1), date(2026, 1, 1),
                                                                   date(2026, 2, 1)]


def test_median() -> None:
    assert median([]) is None
    assert median([D(5)]) == D(5)
    assert median([D(9), D(1), D(5)]) == D(5)
    assert median([D(1), D(10), D(2), D(4)]) == D(3)  # the mean of the middle two


def test_reductions_at_a_point_that_falls_in_the_period() -> None:
    plans = [_plan(1, 1), _plan(2, 2, ended_on=date(2026, 2, 1), final="200")]  # plan 2 never began
    histories = {1: History(plans=[plans[0]]), 2: History(plans=[plans[1]])}
    # 3 months after 1 March 2026 is 1 June: the step then is 100 mg, from 200: 100 mg, 50%.
    found, left_out = reductions_at(3, plans, histories, start=date(2026, 6, 1), end=date(2026, 6, 30))
    assert [(each.plan_id, each.mg, each.percent) for each in found] == [(1, D(100), D(50))]
    assert left_out == 0
    assert reductions_at(3, plans, histories, start=date(2026, 6, 2), end=date(2026, 12, 1)) == ([], 0)


def _scores(day: int, peg: str, **sows: int | None) -> FollowUpScores:
    return FollowUpScores(held_on=date(2026, 5, day), order=day, peg=D(peg),
                          sows={item: sows.get(item) for item in SOWS_GOSSOP_ITEMS})


def test_first_and_latest_follow_up_the_latest_held_in_the_period() -> None:
    held = [_scores(20, "6"), _scores(1, "7"), _scores(10, "5")]
    assert first_and_latest(held, start=date(2026, 5, 15), end=date(2026, 5, 31)) == (held[1], held[0])
    assert first_and_latest(held, start=date(2026, 5, 1), end=date(2026, 5, 15)) == (held[1], held[2])
    assert first_and_latest(held, start=date(2026, 5, 21), end=date(2026, 5, 31)) is None  # latest before it
    assert first_and_latest(held, start=date(2026, 5, 1), end=date(2026, 5, 5)) is None  # only one by then


def test_withdrawal_is_compared_over_the_items_assessed_at_both() -> None:
    first = _scores(1, "7", feeling_sick=2, yawning=3, insomnia=None)
    latest = _scores(20, "4", feeling_sick=1, yawning=None, insomnia=2)
    assert sows_compared(first.sows, latest.sows) == (2, 1)  # only feeling sick was assessed at both
    nothing_shared = (_scores(2, "5", yawning=1), _scores(21, "5", insomnia=1))
    changes = sows_changes([(first, latest), nothing_shared])
    assert (changes.first, changes.latest, changes.changes, changes.left_out) == ([D(2)], [D(1)], [D(-1)], 1)
    assert peg_changes([(first, latest)]).changes == [D(-3)]
