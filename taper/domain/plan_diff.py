"""A readable difference between two versions of a plan's schedule (schedule documents, docs/schedule-api.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

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
