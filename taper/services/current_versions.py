"""Plans' current versions for lists: the version a plan names as current (Plan.current_version_number, set
whenever a version is added), found for many plans in one query, without the others and their schedules.
`Plan.current` loads every version of a plan, one query per plan: right for one plan's page, not for a list."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import load_only
from sqlalchemy.orm.interfaces import LoaderOption

from taper.extensions import db
from taper.models import Plan, PlanVersion


def is_current_version() -> ColumnElement[bool]:
    """The join condition from Plan to its current PlanVersion (the unique (plan_id, number) index finds it)."""
    return and_(PlanVersion.plan_id == Plan.id, PlanVersion.number == Plan.current_version_number)


def current_versions(plan_ids: Collection[int], *, with_schedule: bool = False) -> dict[int, PlanVersion]:
    """Each of these plans' current version by plan id, in one query: its number, reason and when it was made,
    and its schedule document only when asked for (the engine request is never loaded)."""
    if not plan_ids:
        return {}
    columns = [PlanVersion.plan_id, PlanVersion.number, PlanVersion.reason, PlanVersion.created_at]
    options: list[LoaderOption] = [load_only(*columns, *([PlanVersion.schedule] if with_schedule else []))]
    versions = db.session.scalars(select(PlanVersion).join(Plan, is_current_version())
                                  .where(Plan.id.in_(plan_ids)).options(*options))
    return {version.plan_id: version for version in versions}
