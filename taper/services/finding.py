"""The find worklist (issue 18, item 3): a clinic's patients ranked by need, with their reasons, the level of
support suggested, and their place in the pathway.

The facts of every patient of the clinic are read in one statement (a few columns each, computed in SQL), the
reasons, levels and order worked out by taper.domain.finding (the one place the rule is written), and the
page's names and practices read in a second statement: a fixed number of queries however many patients.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, and_, cast, exists, func, not_, or_, select
from sqlalchemy.orm import aliased

from taper import clock
from taper.domain.finding import Facts, Need, PathwayState, need_of, rank_key, state_of
from taper.domain.patients import age_in_years
from taper.domain.plans import PlanStatus
from taper.extensions import db
from taper.models import (
    Appointment,
    Concern,
    Organisation,
    Patient,
    Plan,
    RecordedRegimen,
    RecordedRiskAssessment,
    User,
)
from taper.models.booking import HOLDING
from taper.models.finding import Invitation, PracticeRecordLine
from taper.services.errors import NotFound
from taper.services.paging import Page
from taper.services.patients import caseload_of

PER_PAGE = 50
RUNNING = tuple(status.value for status in PlanStatus if status.is_running)


class StateFilter(StrEnum):
    """Which pathway states the worklist shows: by default everyone not on a running plan and not finished one."""

    TO_FIND = "to_find"
    ALL = "all"

    @property
    def label(self) -> str:
        return {"to_find": "Not on a running or completed plan", "all": "Every state"}[self.value]


@dataclass(frozen=True)
class FindFilter:
    """The worklist's filters: a pathway state (a PathwayState value, or a StateFilter), a GP practice (its
    organisation id) and a minimum level of support."""

    state: str = StateFilter.TO_FIND.value
    gp_practice_id: int | None = None
    min_level: int | None = None


@dataclass(frozen=True)
class Found:
    """A patient as the worklist shows them."""

    patient_id: int
    nhs_number: str
    display_name: str
    age_years: int
    gp_practice: str
    facts: Facts
    need: Need
    state: PathwayState


_LATEST_REGIMEN = aliased(RecordedRegimen, name="latest_regimen")


def worklist(*, by: User, page: int = 1, show: FindFilter | None = None) -> Page[Found]:
    """Page `page` of the clinic's find worklist, ranked by need (taper.domain.finding.rank_key), filtered by
    `show`: the same few statements however many patients (the clinic's threshold, every patient's facts, then
    the page's names)."""
    clinic_id = caseload_of(by)
    show = show or FindFilter()
    if show.gp_practice_id is not None and db.session.get(Organisation, show.gp_practice_id) is None:
        raise NotFound("no such GP practice")
    threshold = db.session.scalar(select(Organisation.high_dose_threshold_mg).where(Organisation.id == clinic_id))
    today = clock.today()
    ranked: list[tuple[Facts, Need, PathwayState]] = []
    for row in db.session.execute(_facts_query(clinic_id, show.gp_practice_id)):
        facts = _facts(row, Decimal(threshold or 0), today)
        state = state_of(plan_running=bool(row.plan_running), plan_draft=bool(row.plan_draft),
                         plan_completed=bool(row.plan_completed), booked=bool(row.booked),
                         invited=bool(row.invited), latest_answer=row.latest_answer)
        if not _shown(state, bool(row.plan_running), show):
            continue
        need = need_of(facts, on=today)
        if show.min_level is not None and need.level < show.min_level:
            continue
        ranked.append((facts, need, state))
    ranked.sort(key=lambda item: rank_key(item[0], item[1]))
    number = max(1, page)
    shown = ranked[(number - 1) * PER_PAGE:number * PER_PAGE]
    return Page(items=_named(shown, today), number=number, per_page=PER_PAGE, total=len(ranked))


def practices(*, by: User) -> list[tuple[int, str]]:
    """The GP practices of the clinic's patients (id, "Name (ODS)"), for the filter, in name order."""
    clinic_id = caseload_of(by)
    query = (select(Organisation.id, Organisation.name, Organisation.ods_code)
             .where(Organisation.id.in_(select(Patient.gp_practice_id).where(Patient.clinic_id == clinic_id)))
             .order_by(Organisation.name, Organisation.id))
    return [(row.id, f"{row.name} ({row.ods_code})") for row in db.session.execute(query)]


def _shown(state: PathwayState, plan_running: bool, show: FindFilter) -> bool:
    if show.state == StateFilter.ALL.value:
        return True
    if show.state == StateFilter.TO_FIND.value:
        return not plan_running and state is not PathwayState.COMPLETED
    return state.value == show.state


def _facts(row: Any, threshold: Decimal, today: date) -> Facts:
    since = [day for day in (row.first_regimen_on, row.first_record_issue_on) if day is not None]
    return Facts(
        patient_id=row.id, sex=row.sex, age_years=age_in_years(row.date_of_birth, on=today),
        ome_mg_per_day=row.total_ome_mg_per_day, ome_from_practice_record=row.source == "practice_record",
        needs_hand_check=bool(row.hand_check), high_dose_threshold_mg=threshold,
        benzodiazepine=bool(row.benzodiazepine or row.record_benzodiazepine),
        gabapentinoid=bool(row.gabapentinoid or row.record_gabapentinoid),
        opioid_products=max(row.regimen_products or 0, row.record_products or 0),
        on_opioids_since=min(since) if since else None, early_requests=row.early_requests or 0,
        assessed_level=row.assessed_level)


def _named(shown: Sequence[tuple[Facts, Need, PathwayState]], today: date) -> list[Found]:
    """The page's patients with their names, NHS numbers and practices (one statement)."""
    if not shown:
        return []
    ids = [facts.patient_id for facts, _, _ in shown]
    query = (select(Patient.id, Patient.nhs_number, Patient.given_name, Patient.family_name, Patient.date_of_birth,
                    Organisation.name.label("practice"), Organisation.ods_code)
             .join(Organisation, Organisation.id == Patient.gp_practice_id).where(Patient.id.in_(ids)))
    rows = {row.id: row for row in db.session.execute(query)}
    return [Found(patient_id=facts.patient_id, nhs_number=rows[facts.patient_id].nhs_number,
                  display_name=f"{rows[facts.patient_id].family_name.upper()}, {rows[facts.patient_id].given_name}",
                  age_years=age_in_years(rows[facts.patient_id].date_of_birth, on=today),
                  gp_practice=f"{rows[facts.patient_id].practice} ({rows[facts.patient_id].ods_code})",
                  facts=facts, need=need, state=state)
            for facts, need, state in shown]


# --- the facts, in one statement ---------------------------------------------------------------------------

def _latest_regimen_id() -> Any:
    return (select(RecordedRegimen.id).where(RecordedRegimen.patient_id == Patient.id)
            .order_by(RecordedRegimen.recorded_on.desc(), RecordedRegimen.id.desc()).limit(1)
            .correlate(Patient).scalar_subquery())


def _not_superseded() -> ColumnElement[bool]:
    """A practice record line no pharmacist regimen recorded on or after its last issue has taken the place of."""
    confirmed = select(RecordedRegimen.id).where(
        RecordedRegimen.patient_id == PracticeRecordLine.patient_id, RecordedRegimen.source == "pharmacist",
        RecordedRegimen.recorded_on >= PracticeRecordLine.last_issue_date)
    return and_(PracticeRecordLine.patient_id == Patient.id, not_(exists(confirmed.correlate(PracticeRecordLine))))


def _no_line() -> ColumnElement[bool]:
    """A practice record line the reader gave no regimen line (SQL NULL, or JSON null as a JSON column keeps
    Python's None)."""
    return or_(PracticeRecordLine.line.is_(None), cast(PracticeRecordLine.line, Text) == "null")


def _record_lines(column: Any, *conditions: ColumnElement[bool]) -> Any:
    return (select(column).where(_not_superseded(), *conditions).correlate(Patient).scalar_subquery())


def _facts_query(clinic_id: int, gp_practice_id: int | None) -> Select[Any]:
    """Every patient of the clinic (of one practice, if chosen) with the facts the worklist needs."""
    first_regimen_on = (select(func.min(func.coalesce(RecordedRegimen.source_date, RecordedRegimen.recorded_on)))
                        .where(RecordedRegimen.patient_id == Patient.id).correlate(Patient).scalar_subquery())
    first_record_issue_on = (
        select(func.min(func.coalesce(PracticeRecordLine.first_issue_date, PracticeRecordLine.last_issue_date)))
        .where(PracticeRecordLine.patient_id == Patient.id, PracticeRecordLine.product.is_not(None))
        .correlate(Patient).scalar_subquery())
    early_requests = (select(func.count(Concern.id)).join(Plan, Plan.id == Concern.plan_id)
                      .where(Plan.patient_id == Patient.id, Concern.kind == "early_or_extra_request")
                      .correlate(Patient).scalar_subquery())
    assessed_level = (select(RecordedRiskAssessment.chosen_level)
                      .where(RecordedRiskAssessment.patient_id == Patient.id)
                      .order_by(RecordedRiskAssessment.id.desc()).limit(1).correlate(Patient).scalar_subquery())

    def plan_with(*statuses: str) -> ColumnElement[bool]:
        return exists(select(Plan.id).where(Plan.patient_id == Patient.id, Plan.deleted_at.is_(None),
                                            Plan.status.in_(statuses)).correlate(Patient))

    booked = exists(select(Appointment.id).where(Appointment.patient_id == Patient.id, Appointment.kind == "initial",
                                                 Appointment.status.in_(HOLDING)).correlate(Patient))
    invited = exists(select(Invitation.id).where(Invitation.patient_id == Patient.id).correlate(Patient))
    latest_answer = (select(Invitation.answer).where(Invitation.patient_id == Patient.id)
                     .order_by(Invitation.sent_at.desc(), Invitation.id.desc()).limit(1)
                     .correlate(Patient).scalar_subquery())
    query = (
        select(Patient.id, Patient.sex, Patient.date_of_birth, _LATEST_REGIMEN.total_ome_mg_per_day,
               _LATEST_REGIMEN.source, _LATEST_REGIMEN.benzodiazepine, _LATEST_REGIMEN.gabapentinoid,
               # One product a line (the regimen form and the starting checks refuse a product on two lines).
               func.json_array_length(_LATEST_REGIMEN.lines).label("regimen_products"),
               first_regimen_on.label("first_regimen_on"),
               first_record_issue_on.label("first_record_issue_on"),
               exists(select(PracticeRecordLine.id).where(
                   _not_superseded(), _no_line(), PracticeRecordLine.non_opioid.is_(None))
                   .correlate(Patient)).label("hand_check"),
               exists(select(PracticeRecordLine.id).where(
                   _not_superseded(), PracticeRecordLine.non_opioid == "benzodiazepine")
                   .correlate(Patient)).label("record_benzodiazepine"),
               exists(select(PracticeRecordLine.id).where(
                   _not_superseded(), PracticeRecordLine.non_opioid == "gabapentinoid")
                   .correlate(Patient)).label("record_gabapentinoid"),
               _record_lines(func.count(PracticeRecordLine.product.distinct()),
                             PracticeRecordLine.product.is_not(None)).label("record_products"),
               early_requests.label("early_requests"), assessed_level.label("assessed_level"),
               plan_with(*RUNNING).label("plan_running"), plan_with(PlanStatus.DRAFT.value).label("plan_draft"),
               plan_with(PlanStatus.COMPLETED.value).label("plan_completed"), booked.label("booked"),
               invited.label("invited"), latest_answer.label("latest_answer"))
        .outerjoin(_LATEST_REGIMEN, _LATEST_REGIMEN.id == _latest_regimen_id())
        .where(Patient.clinic_id == clinic_id))
    if gp_practice_id is not None:
        query = query.where(Patient.gp_practice_id == gp_practice_id)
    return query
