"""A readable difference between two versions of a plan's schedule (schedule documents, docs/schedule-api.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from taper.domain.makeable import plain
from taper.domain.wording import long_date

POLICY_LABELS = {"reduction_pct": "reduction (%)", "interval_days": "interval (days)", "basis": "basis",
                 "target_ome_mg_per_day": "target (mg OME a day)", "order": "order", "larger_dose_at":
                 "larger dose at", "max_patches": "most patches at once"}


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed from `old` to `new`, one plain sentence each, settings first, then step by step."""
    changes = []
    old_policy, new_policy = old.get("policy", {}), new.get("policy", {})
    for key, label in POLICY_LABELS.items():
        if old_policy.get(key) != new_policy.get(key):
            changes.append(f"Setting {label}: {_show(old_policy.get(key))} became {_show(new_policy.get(key))}.")
    old_steps = {step["number"]: step for step in old["steps"]}
    new_steps = {step["number"]: step for step in new["steps"]}
    for number in sorted(old_steps.keys() | new_steps.keys()):
        before, after = old_steps.get(number), new_steps.get(number)
        if before is None and after is not None:
            changes.append(f"Step {number} added: {_dates(after)}, {after['ome_mg_per_day']} mg OME a day.")
        elif after is None and before is not None:
            changes.append(f"Step {number} removed (was {_dates(before)}, {before['ome_mg_per_day']} mg OME a day).")
        elif before is not None and after is not None:
            parts = []
            if (before["starts_on"], before["ends_on"]) != (after["starts_on"], after["ends_on"]):
                parts.append(f"dates {_dates(before)} became {_dates(after)}")
            if before["ome_mg_per_day"] != after["ome_mg_per_day"] or before["lines"] != after["lines"]:
                parts.append(f"dose {before['ome_mg_per_day']} became {after['ome_mg_per_day']} mg OME a day")
            if parts:
                changes.append(f"Step {number}: " + "; ".join(parts) + ".")
    return changes or ["No differences."]


def _dates(step: dict[str, Any]) -> str:
    start = _day(step["starts_on"])
    return f"{start} to {_day(step['ends_on'])}" if step["ends_on"] else f"{start} onwards"


def _day(text: str) -> str:
    day = date.fromisoformat(text)
    return f"{day.day} {day:%b %Y}"


def _show(value: Any) -> str:
    if value in (None, "", []):
        return "none"
    return ", ".join(value) if isinstance(value, list) else str(value)


def revision_in_words(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What a revised version changes, as the GP letter opens with it (issue 14, item 1): the pace, then step
    by step in plan order, a run of steps that only moved said once ("Step 3 held 14 more days." "Every later
    step starts 14 days later."), then steps added or removed and the new end date."""
    said = _policy_in_words(old.get("policy", {}), new.get("policy", {}))
    old_steps = {step["number"]: step for step in old["steps"]}
    new_steps = {step["number"]: step for step in new["steps"]}
    common = sorted(old_steps.keys() & new_steps.keys())
    moved: list[tuple[int, int]] = []  # (step number, days later) of steps that only moved
    new_doses: list[int] = []  # a run of steps whose doses changed

    def say_moved() -> None:
        if moved:
            first, days = moved[0]
            last = moved[-1][0]
            later = f"{_days(abs(days))} {'later' if days > 0 else 'earlier'}"
            if last == common[-1] and first > common[0]:
                said.append(f"Every later step starts {later}.")
            elif first == last:
                said.append(f"Step {first} starts {later}.")
            else:
                said.append(f"Steps {first} to {last} start {later}.")
            moved.clear()

    def say_new_doses() -> None:
        if new_doses:
            first, last = new_doses[0], new_doses[-1]
            before, after = old_steps[first], new_steps[first]
            up = first > 1 and first - 1 in new_steps and \
                Decimal(str(after["ome_mg_per_day"])) > Decimal(str(new_steps[first - 1]["ome_mg_per_day"]))
            dose = (f"{'goes back up to' if up else 'is now'} {_plain(after['ome_mg_per_day'])} mg OME a day "
                    f"(was {_plain(before['ome_mg_per_day'])})")
            if first == last:
                said.append(f"From {_long(after['starts_on'])}, step {first} {dose}.")
            else:
                said.append(f"Steps {first} to {last} have new doses from {_long(after['starts_on'])}: step {first} "
                            f"{dose}; the table below gives each step.")
            new_doses.clear()

    for number in common:
        before, after = old_steps[number], new_steps[number]
        shift = (_start(after) - _start(before)).days
        longer = _length_change(before, after)
        if before["lines"] != after["lines"] or before["ome_mg_per_day"] != after["ome_mg_per_day"]:
            say_moved()
            new_doses.append(number)
            continue
        say_new_doses()
        if longer:
            say_moved()
            starts = f"starts {_days(abs(shift))} {'later' if shift > 0 else 'earlier'} and " if shift else ""
            how = (f"held {longer} more {'day' if longer == 1 else 'days'}, to {_long(after['ends_on'])}"
                   if longer > 0 else f"now ends on {_long(after['ends_on'])}, {_days(-longer)} sooner")
            said.append(f"Step {number} {starts}{how}.")
        elif shift:
            if moved and moved[-1][1] != shift:
                say_moved()
            moved.append((number, shift))
        else:
            say_moved()
    say_new_doses()
    say_moved()
    said.extend(_added_and_removed(old_steps, new_steps))
    old_end, new_end = _end(old), _end(new)
    if old_end != new_end and new_end is not None:
        said.append(f"The last opioid dose is now on {_long(new_end)}"
                    + (f" (was {_long(old_end)})." if old_end else "."))
    return said or ["No change to the doses or dates of any step."]


def _policy_in_words(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    said = []
    pace = ("reduction_pct", "interval_days", "basis")
    if any(old.get(key) != new.get(key) for key in pace) and all(key in old and key in new for key in pace):
        said.append(f"The pace is now {_pace(new)} (was {_pace(old)}).")
    if old.get("target_ome_mg_per_day") != new.get("target_ome_mg_per_day"):
        said.append(f"The target is now {_target(new)} (was {_target(old)}).")
    return said


def _added_and_removed(old_steps: dict[int, Any], new_steps: dict[int, Any]) -> list[str]:
    said = []
    added = sorted(new_steps.keys() - old_steps.keys())
    if added:
        which = f"Step {added[0]} is" if len(added) == 1 else f"Steps {added[0]} to {added[-1]} are"
        said.append(f"{which} new, from {_long(new_steps[added[0]]['starts_on'])}.")
    removed = sorted(old_steps.keys() - new_steps.keys())
    if removed:
        which = f"Step {removed[0]} is" if len(removed) == 1 else f"Steps {removed[0]} to {removed[-1]} are"
        said.append(f"{which} no longer in the plan.")
    return said


def _pace(policy: dict[str, Any]) -> str:
    return f"{policy['reduction_pct']}% of the {policy['basis']} dose every {_days(policy['interval_days'])}"


def _target(policy: dict[str, Any]) -> str:
    target = policy.get("target_ome_mg_per_day")
    return "stopping" if target in (None, 0, "0") else f"{_plain(target)} mg OME a day"


def _end(schedule: dict[str, Any]) -> str | None:
    """The last day with an opioid dose, when the plan stops them."""
    last = schedule["steps"][-1]
    return None if last["lines"] or len(schedule["steps"]) < 2 else schedule["steps"][-2]["ends_on"]


def _start(step: dict[str, Any]) -> date:
    return date.fromisoformat(step["starts_on"])


def _length_change(before: dict[str, Any], after: dict[str, Any]) -> int:
    """Days longer (negative: shorter); 0 when either step runs on with no end."""
    if before["ends_on"] is None or after["ends_on"] is None:
        return 0
    return ((date.fromisoformat(after["ends_on"]) - _start(after))
            - (date.fromisoformat(before["ends_on"]) - _start(before))).days


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


def _long(text: str) -> str:
    return long_date(date.fromisoformat(text))


def _plain(value: Any) -> str:
    return plain(Decimal(str(value)))
