from taper.domain.plan_diff import differences


def _step(number: int, starts: str, ends: str | None, ome: int) -> dict[str, object]:
    return {"number": number, "starts_on": starts, "ends_on": ends, "ome_mg_per_day": ome, "lines": []}


OLD = {"policy": {"reduction_pct": 10, "interval_days": 14},
       "steps": [_step(1, "2027-01-04", "2027-01-17", 110), _step(2, "2027-01-18", None, 0)]}


def test_no_differences_is_said() -> None:
    assert differences(OLD, OLD) == ["No differences."]


def test_settings_dates_doses_and_added_steps_are_described() -> None:
    new = {"policy": {"reduction_pct": 5, "interval_days": 14},
           "steps": [_step(1, "2027-01-04", "2027-01-31", 110), _step(2, "2027-02-01", "2027-02-14", 100),
                     _step(3, "2027-02-15", None, 0)]}
    assert differences(OLD, new) == [
        "Setting reduction (%): 10 became 5.",
        "Step 1: dates 4 Jan 2027 to 17 Jan 2027 became 4 Jan 2027 to 31 Jan 2027.",
        "Step 2: dates 18 Jan 2027 onwards became 1 Feb 2027 to 14 Feb 2027; dose 0 became 100 mg OME a day.",
        "Step 3 added: 15 Feb 2027 onwards, 0 mg OME a day.",
    ]


# What a revised GP letter opens with (revision_in_words), from versions the engine really makes.

from dataclasses import replace  # noqa: E402
from datetime import date  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from taper.domain.engine import hold, replan  # noqa: E402
from taper.domain.formulary import load_formulary  # noqa: E402
from taper.domain.plan_diff import revision_in_words  # noqa: E402
from taper.domain.schedule_contract import (  # noqa: E402
    read_policy,
    schedule_document,
    schedule_from_document,
    schedule_from_request,
)

MORPHINE = {"start_on": "2027-01-04", "regimen": [{"product": "morphine-mr-tablet-12h", "doses": [
    {"time": "08:00", "dose_mg": 60}, {"time": "20:00", "dose_mg": 60}]}]}


def _first_version() -> dict[str, object]:
    return schedule_from_request(MORPHINE, load_formulary())


def _revised(old: dict[str, object], change: str, on: date, **settings: object) -> dict[str, object]:
    formulary = load_formulary()
    schedule, policy = schedule_from_document(old, formulary), read_policy(old["policy"])  # type: ignore[arg-type]
    if change == "hold":
        return schedule_document(hold(schedule, on=on, extra_days=int(settings["days"])), formulary, policy)  # type: ignore[call-overload]
    policy = replace(policy, **settings)  # type: ignore[arg-type]
    return schedule_document(replan(schedule, formulary=formulary, on=on, policy=policy,
                                    go_back=change == "back"), formulary, policy)


def test_a_hold_is_said_as_the_step_held_and_every_later_step_moved() -> None:
    old = _first_version()
    on = date(2027, 2, 4)  # in step 3, 1 to 14 February
    new = _revised(old, "hold", on, days=14)
    assert revision_in_words(old, new) == [
        "Step 3 held 14 more days, to 28 February 2027.",
        "Every later step starts 14 days later.",
        "The last opioid dose is now on 4 July 2027 (was 20 June 2027).",
    ]


@settings(max_examples=40, deadline=None)
@given(step=st.integers(min_value=1, max_value=10), days=st.integers(min_value=1, max_value=60))
def test_any_hold_names_its_step_and_days_and_nothing_else_changes(step: int, days: int) -> None:
    old = _first_version()
    starts = date.fromisoformat(old["steps"][step - 1]["starts_on"])  # type: ignore[index]
    said = revision_in_words(old, _revised(old, "hold", starts, days=days))
    held = f"Step {step} held {days} more {'day' if days == 1 else 'days'}"
    assert said[0].startswith(held)
    assert said[1] == f"Every later step starts {days} {'day' if days == 1 else 'days'} later."
    assert not any("dose" in sentence and "last opioid dose" not in sentence for sentence in said)


def test_a_slower_pace_says_the_pace_the_first_new_dose_and_the_new_end() -> None:
    old = _first_version()
    new = _revised(old, "slower", date(2027, 2, 1), interval_days=28)
    said = revision_in_words(old, new)
    assert said[0] == ("The pace is now 10% of the starting dose every 28 days "
                       "(was 10% of the starting dose every 14 days).")
    assert said[1] == "Step 3 held 14 more days, to 28 February 2027."  # its dose is the same, for 28 days
    assert said[2].startswith("Steps 4 to ") and "have new doses from 1 March 2027: step 4 is now " in said[2]
    assert said[-1].startswith("The last opioid dose is now on ") and "(was 20 June 2027)" in said[-1]


def test_going_back_a_step_says_the_dose_goes_back_up() -> None:
    old = _first_version()
    on = date(2027, 2, 4)  # in step 3: back to step 2's dose
    said = revision_in_words(old, _revised(old, "back", on))
    assert "Step 3 now ends on 3 February 2027, 11 days sooner." in said
    back_up = next(sentence for sentence in said if "goes back up to" in sentence)
    step_2 = old["steps"][1]["ome_mg_per_day"]  # type: ignore[index]
    assert f"step 4 goes back up to {step_2} mg OME a day" in back_up


def test_an_unchanged_version_says_so() -> None:
    old = _first_version()
    assert revision_in_words(old, old) == ["No change to the doses or dates of any step."]
