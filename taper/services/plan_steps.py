"""Each plan version's steps as rows (`plan_version_steps`), copied from its schedule document when the version
is stored, so that pages and jobs find "whose step starts on this day" with one indexed query.

Whatever writes plan versions writes their steps with `add_steps`, in the same transaction: the plan services
for each version they make, and a bulk loader (such as a synthetic-data generator) once for all the versions
it has inserted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, TypeVarTuple

from sqlalchemy import Select, insert

from taper.extensions import db
from taper.models import PlanVersion, PlanVersionStep
from taper.services.current_versions import is_current_version

Columns = TypeVarTuple("Columns")


def add_steps(schedules: Mapping[int, Mapping[str, Any]]) -> int:
    """Write the steps of plan versions already flushed: `schedules` maps each version's id to its schedule
    document (as stored in PlanVersion.schedule). One INSERT for them all; returns how many steps were written."""
    rows = [step_row(version_id, step) for version_id, schedule in schedules.items() for step in schedule["steps"]]
    if rows:
        db.session.execute(insert(PlanVersionStep), rows)
    return len(rows)


def step_row(version_id: int, step: Mapping[str, Any]) -> dict[str, Any]:
    """One step of a schedule document as a `plan_version_steps` row (daily OME in mg, as the document has it)."""
    return {"plan_version_id": version_id, "number": step["number"],
            "starts_on": date.fromisoformat(step["starts_on"]),
            "ends_on": date.fromisoformat(step["ends_on"]) if step["ends_on"] else None,
            "ome_mg_per_day": Decimal(str(step["ome_mg_per_day"]))}


def with_current_steps(statement: Select[*Columns]) -> Select[*Columns]:
    """`statement`, which selects from Plan, joined to the steps of each plan's current version (the version
    numbered Plan.current_version_number), so it can filter and select PlanVersionStep's columns."""
    return (statement.join(PlanVersion, is_current_version())
            .join(PlanVersionStep, PlanVersionStep.plan_version_id == PlanVersion.id))
