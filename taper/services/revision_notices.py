"""Notices of plan revisions for a community pharmacy: each plan version whose dispensing schedule was issued
after an earlier version's, with what changed in plain sentences and whether (and by whom) the pharmacy has seen
it. This module owns working the notices out from the stored versions and recording that a pharmacy saw them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from taper import clock
from taper.domain.plan_diff import revision_in_words
from taper.extensions import db
from taper.models import Patient, Plan, PlanDocument, PlanVersion, RevisionNoticeRead, User
from taper.services import audit, sharing
from taper.services.community_pharmacy import require_community_pharmacist


@dataclass(frozen=True)
class RevisionNotice:
    """A plan version issued after the plan's first (a revision), as the pharmacy is told of it: what changed
    from the version issued before it, in plain sentences, and whether this pharmacy has seen it."""

    plan_version_id: int
    plan_id: int
    plan_number: int  # the patient's own numbering, as people call the plan
    patient: Patient
    number: int
    previous_number: int
    issued_at: datetime
    changes: list[str]
    read_at: datetime | None
    read_by: str | None  # the name of who at the pharmacy saw it first

    @property
    def is_new(self) -> bool:
        return self.read_at is None


def revision_notices(*, by: User, plan_id: int | None = None, limit: int = 20) -> list[RevisionNotice]:
    """The newest revisions of the plans shared with this pharmacy (of one plan, if given), newest first: a
    plan version whose dispensing schedule was issued after an earlier version's was. Worked out from the
    stored versions in two queries, whatever the number of plans and versions."""
    require_community_pharmacist(by)
    issued, earlier, earlier_issued = aliased(PlanDocument), aliased(PlanVersion), aliased(PlanDocument)
    after_the_first = (select(earlier.id).join(earlier_issued, and_(earlier_issued.plan_version_id == earlier.id,
                                                                    earlier_issued.kind == "pharmacy_schedule"))
                       .where(earlier.plan_id == PlanVersion.plan_id, earlier.number < PlanVersion.number).exists())
    query = (select(PlanVersion.id, PlanVersion.plan_id, Plan.number, PlanVersion.number, issued.created_at, Patient,
                    RevisionNoticeRead.read_at, User.full_name)
             .join(Plan, Plan.id == PlanVersion.plan_id).join(Patient, Patient.id == Plan.patient_id)
             .join(issued, and_(issued.plan_version_id == PlanVersion.id, issued.kind == "pharmacy_schedule"))
             .outerjoin(RevisionNoticeRead, and_(RevisionNoticeRead.plan_version_id == PlanVersion.id,
                                                 RevisionNoticeRead.organisation_id == by.organisation_id))
             .outerjoin(User, User.id == RevisionNoticeRead.read_by_id)
             .where(sharing.shared_with(by), after_the_first)
             .order_by(issued.created_at.desc(), PlanVersion.id.desc()).limit(limit))
    if plan_id is not None:
        query = query.where(Plan.id == plan_id)
    found = db.session.execute(query).all()
    schedules: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
    if found:
        for each_plan, number, schedule in db.session.execute(
                select(PlanVersion.plan_id, PlanVersion.number, PlanVersion.schedule)
                .join(issued, and_(issued.plan_version_id == PlanVersion.id, issued.kind == "pharmacy_schedule"))
                .where(PlanVersion.plan_id.in_({row.plan_id for row in found}))):
            schedules[each_plan][number] = schedule
    notices = []
    for version_id, each_plan, plan_number, number, issued_at, patient, read_at, read_by in found:
        previous = max(earlier_number for earlier_number in schedules[each_plan] if earlier_number < number)
        notices.append(RevisionNotice(version_id, each_plan, plan_number, patient, number, previous, issued_at,
                                      revision_in_words(schedules[each_plan][previous], schedules[each_plan][number]),
                                      read_at, read_by))
    return notices


def mark_seen(*, by: User, notices: list[RevisionNotice]) -> int:
    """This pharmacy has seen these notices: record who and when for each not seen before (a notice seen by
    two people at once is recorded once). How many were new."""
    require_community_pharmacist(by)
    rows = [{"plan_version_id": notice.plan_version_id, "organisation_id": by.organisation_id,
             "read_by_id": by.id, "read_at": clock.now()} for notice in notices if notice.is_new]
    if not rows:
        return 0
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = db.session.connection().execute(
        dialect.insert(RevisionNoticeRead).on_conflict_do_nothing(
            index_elements=["plan_version_id", "organisation_id"]).returning(RevisionNoticeRead.id), rows).all()
    if inserted:
        audit.record(action="read", by=by, entity_type="revision_notices", entity_id=by.organisation_id,
                     changes={"plan_versions": [notice.plan_version_id for notice in notices if notice.is_new]})
    return len(inserted)
