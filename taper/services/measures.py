"""The service's measures for a clinic (or one GP practice's patients within it) over a period (issue 18 item 5).

Every figure comes from stored records, counted by the rules in taper.domain.measures (docs/measures.md). The
page and the CSV export show the same `Table`s, whose cells are already written as text, so they cannot differ.
A fixed number of statements whatever the caseload: the clinic, its practices, then one each for regimens,
plans, plan steps, follow-ups, appointments (counted in SQL) and invitations.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, case, func, literal, or_, select

from taper import clock
from taper.clock import CLINIC_TIMEZONE
from taper.domain import measures as rules
from taper.domain.follow_up import peg_score
from taper.domain.organisations import OrganisationKind, Role
from taper.domain.plans import PlanStatus
from taper.domain.wording import long_date
from taper.extensions import db
from taper.models import (
    Appointment,
    FollowUp,
    Invitation,
    Organisation,
    Patient,
    Plan,
    PlanVersion,
    PlanVersionStep,
    RecordedRegimen,
    User,
)
from taper.services.current_versions import is_current_version
from taper.services.errors import InvalidInput, NotFound, PermissionDenied

REDUCTION_MONTHS = (3, 6, 12)
LONGEST_PERIOD_YEARS = 5
REVIEW_KINDS = ("follow_up", "extra_review")
NOT_ENOUGH = "not enough plans yet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP, CSV injection: what a spreadsheet reads as a formula
PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?%?")  # a figure of these tables, negative or not: never a formula
CASELOAD_HEADERS = ("Day", "People on high doses", "Of them, from practice records not yet confirmed",
                    "Total OME (mg a day)", "People counted", "People whose OME is not known")
# Said in every "how it is counted" sentence whose figures count regimens imported from practice records.
PRACTICE_RECORDS = ("regimens imported from practice records are included, though not yet confirmed by a "
                    "pharmacist (their when-needed lines counted at their most), dated by their latest issue: so a "
                    "cohort imported during the period raises the figures at the end; a plan's final OME stands "
                    "until a regimen recorded by a pharmacist on or after the day it ended, or a practice record "
                    "with a later issue date")
TABLES = ("caseload", "month-ends", "plans", "stop-reasons", "reductions", "scores", "attendance", "invitations",
          "invitations-by-month")  # every table, in the order the page shows them


@dataclass(frozen=True)
class Table:
    """One table of figures as the page shows it and the CSV exports it: every cell written as text."""

    key: str  # its CSV's name: /measures/<key>.csv
    caption: str
    counted: str  # one sentence: how the figures are counted
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]


@dataclass(frozen=True)
class Series:
    """A chart's values: a label for each point, and one list of numbers for each named series."""

    labels: list[str]
    values: dict[str, list[float]]


@dataclass(frozen=True)
class Measures:
    clinic: Organisation
    practice: Organisation | None
    start: date
    end: date
    tables: dict[str, Table]
    charts: dict[str, Series]  # by the key of the table that is the chart's text alternative


def default_period() -> tuple[date, date]:
    """The last 12 months up to today: from the day after the same day a year ago."""
    today = clock.today()
    return rules.months_after(today, -12) + timedelta(days=1), today


def clinic_for(*, by: User, clinic_id: int | None) -> Organisation | None:
    """The clinic whose measures this user may see: a pharmacist's own clinic; for an admin, the clinic chosen
    (None: not chosen yet). NotFound for another clinic, PermissionDenied for other roles."""
    if by.role is Role.PHARMACIST and by.organisation_id is not None:
        if clinic_id is not None and clinic_id != by.organisation_id:
            raise NotFound("no such clinic")
        clinic_id = by.organisation_id
    elif by.role is not Role.ADMIN:
        raise PermissionDenied("only a clinic pharmacist or an admin may see the measures")
    if clinic_id is None:
        return None
    clinic = db.session.get(Organisation, clinic_id)
    if clinic is None or clinic.kind is not OrganisationKind.PAIN_CLINIC:
        raise NotFound("no such clinic")
    return clinic


def clinics(*, by: User) -> list[Organisation]:
    """The pain clinics an admin may choose from."""
    if by.role is not Role.ADMIN:
        raise PermissionDenied("only an admin chooses the clinic")
    return list(db.session.scalars(select(Organisation).where(Organisation.kind == OrganisationKind.PAIN_CLINIC)
                                   .order_by(Organisation.name, Organisation.id)))


def practices_of(clinic: Organisation) -> list[Organisation]:
    """The GP practices of the clinic's patients, by name."""
    used = select(Patient.gp_practice_id).where(Patient.clinic_id == clinic.id).distinct()
    return list(db.session.scalars(select(Organisation).where(Organisation.id.in_(used))
                                   .order_by(Organisation.name, Organisation.id)))


def check_period(start: date, end: date) -> None:
    """InvalidInput for a period that ends before it starts, ends after today, or is longer than 5 years."""
    if end > clock.today():
        raise InvalidInput({"end": "The end must be today or earlier: measures count only what has happened"})
    if start > end:
        raise InvalidInput({"start": "The start must be on or before the end"})
    if start < rules.months_after(end, -12 * LONGEST_PERIOD_YEARS):
        raise InvalidInput({"start": f"Choose a period of at most {LONGEST_PERIOD_YEARS} years"})


def measure(*, clinic: Organisation, practices: list[Organisation], start: date, end: date,
            practice_id: int | None = None) -> Measures:
    """Every measure of the clinic's caseload (or of the patients of `practice_id`, one of `practices`) over the
    period from `start` to `end` (both included)."""
    check_period(start, end)
    practice = None
    if practice_id is not None:
        practice = next((each for each in practices if each.id == practice_id), None)
        if practice is None:
            raise NotFound("no such GP practice among the clinic's patients")
    caseload = [Patient.clinic_id == clinic.id]
    if practice is not None:
        caseload.append(Patient.gp_practice_id == practice.id)
    courses, reasons = _plans(caseload)
    histories = _histories(caseload, courses, end)
    tables: dict[str, Table] = {}
    charts: dict[str, Series] = {}
    threshold = clinic.high_dose_threshold_mg
    _caseload_tables(tables, charts, histories, threshold, start, end)
    _plan_tables(tables, courses, reasons, start, end)
    _reduction_table(tables, courses, histories, start, end)
    _score_table(tables, caseload, courses, start, end)
    _attendance_table(tables, caseload, start, end)
    _invitation_tables(tables, charts, clinic, practice, start, end)
    return Measures(clinic=clinic, practice=practice, start=start, end=end, tables=tables, charts=charts)


def _plans(caseload: list[ColumnElement[bool]]) -> tuple[list[rules.PlanCourse], dict[int, tuple[str, str]]]:
    """The caseload's plans that left draft, with their current version's steps; and each one's status and
    recorded reason for ending. Two statements."""
    plans = db.session.execute(
        select(Plan.id, Plan.patient_id, Plan.status, Plan.ended_on, Plan.final_ome_mg_per_day, Plan.outcome_reason,
               PlanVersion.starting_ome_mg_per_day)
        .join(Patient, Patient.id == Plan.patient_id).join(PlanVersion, is_current_version())
        .where(*caseload, Plan.deleted_at.is_(None), Plan.status != PlanStatus.DRAFT)).all()
    steps: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    for plan_id, starts_on, ome in db.session.execute(
            select(Plan.id, PlanVersionStep.starts_on, PlanVersionStep.ome_mg_per_day)
            .join(Patient, Patient.id == Plan.patient_id).join(PlanVersion, is_current_version())
            .join(PlanVersionStep, PlanVersionStep.plan_version_id == PlanVersion.id)
            .where(*caseload, Plan.deleted_at.is_(None), Plan.status != PlanStatus.DRAFT)
            .order_by(Plan.id, PlanVersionStep.number)):
        steps[plan_id].append((starts_on, ome))
    courses, reasons = [], {}
    for plan_id, patient_id, status, ended_on, final_ome, reason, starting in plans:
        if not steps[plan_id]:
            continue
        courses.append(rules.PlanCourse(plan_id=plan_id, patient_id=patient_id, steps=tuple(steps[plan_id]),
                                        starting_ome=starting, ended_on=ended_on, final_ome=final_ome))
        reasons[plan_id] = (PlanStatus(status).value, reason)
    return courses, reasons


def _histories(caseload: list[ColumnElement[bool]], courses: list[rules.PlanCourse],
               end: date) -> dict[int, rules.History]:
    """Each patient's regimens dated by `end` and plans, by patient id. One statement."""
    histories: dict[int, rules.History] = defaultdict(rules.History)
    # A regimen imported from a practice record stands from the record's date (its latest issue), not the import's.
    dated = case((RecordedRegimen.source == "practice_record", RecordedRegimen.source_date),
                 else_=RecordedRegimen.recorded_on)
    for patient_id, recorded_on, regimen_id, ome, source in db.session.execute(
            select(RecordedRegimen.patient_id, dated, RecordedRegimen.id, RecordedRegimen.total_ome_mg_per_day,
                   RecordedRegimen.source)
            .join(Patient, Patient.id == RecordedRegimen.patient_id)
            .where(*caseload, dated <= end)):
        histories[patient_id].regimens.append(rules.Recorded(
            on=recorded_on, order=regimen_id, ome=ome, from_practice_record=source == "practice_record"))
    for course in courses:
        histories[course.patient_id].plans.append(course)
    return histories


def _caseload_tables(tables: dict[str, Table], charts: dict[str, Series], histories: dict[int, rules.History],
                     threshold: Decimal, start: date, end: date) -> None:
    rule = (f"A person's OME on a day is their running plan's step on that day if a plan was running, else the "
            f"latest regimen (or the OME in force when a plan ended, if later) on or before that day; "
            f"{PRACTICE_RECORDS}; high dose is at or above the clinic's threshold of {number(threshold)} mg a day, "
            f"and those of them whose OME is from a practice record not yet confirmed are counted beside; people "
            f"whose latest regimen's OME could not be calculated are counted apart, not in the total.")
    at_ends = [rules.caseload_on(day, histories.values(), threshold) for day in (start, end)]
    tables["caseload"] = Table(
        key="caseload", caption="People on high doses and total OME a day, at the start and end of the period",
        counted=rule, headers=CASELOAD_HEADERS,
        rows=[_caseload_row(label, each) for label, each in zip(("Start", "End"), at_ends, strict=True)])
    monthly = [rules.caseload_on(day, histories.values(), threshold) for day in rules.month_ends(start, end)]
    tables["month-ends"] = Table(
        key="month-ends", caption="People on high doses and total OME a day at each month end", counted=rule,
        headers=CASELOAD_HEADERS, rows=[_caseload_row(None, each) for each in monthly])
    labels = [f"{each.day:%b %Y}" if each.day == rules.month_end(each.day) else f"{each.day.day} {each.day:%b %Y}"
              for each in monthly]
    charts["month-ends-high-dose"] = Series(labels, {"People on high doses": [each.high_dose for each in monthly]})
    charts["month-ends-ome"] = Series(labels, {"Total OME (mg a day)": [float(each.total_ome) for each in monthly]})


def _caseload_row(label: str | None, figures: rules.CaseloadOnDay) -> tuple[str, ...]:
    day = long_date(figures.day)
    return (f"{label}: {day}" if label else day, str(figures.high_dose),
            str(figures.high_dose_from_practice_record), number(figures.total_ome), str(figures.counted),
            str(figures.not_known))


def _plan_tables(tables: dict[str, Table], courses: list[rules.PlanCourse], reasons: dict[int, tuple[str, str]],
                 start: date, end: date) -> None:
    started = sum(1 for course in courses if course.began and start <= course.starts_on <= end)
    ended = [(reasons[course.plan_id], course) for course in courses
             if course.ended_on is not None and start <= course.ended_on <= end]
    completed = sum(1 for (status, _), _ in ended if status == PlanStatus.COMPLETED.value)
    stopped = Counter(reason for (status, reason), _ in ended if status == PlanStatus.STOPPED.value)
    tables["plans"] = Table(
        key="plans", caption="Plans started, completed and stopped",
        counted="A plan started on its first step's day (plans stopped before that day never started); it was "
                "completed or stopped on the day it was ended; drafts and deleted drafts are not counted.",
        headers=("Plans", "Number"),
        rows=[("Started", str(started)), ("Completed", str(completed)), ("Stopped", str(sum(stopped.values())))])
    tables["stop-reasons"] = Table(
        key="stop-reasons", caption="Why plans stopped",
        counted="The reason recorded when each plan stopped in the period, word for word as the pharmacist wrote "
                "it (plans with the same words counted together).",
        headers=("Reason recorded", "Plans"),
        rows=[(reason or "(no reason recorded)", str(plans))
              for reason, plans in sorted(stopped.items(), key=lambda item: (-item[1], item[0]))])


def _reduction_table(tables: dict[str, Table], courses: list[rules.PlanCourse], histories: dict[int, rules.History],
                     start: date, end: date) -> None:
    rows: list[tuple[str, ...]] = []
    for months in REDUCTION_MONTHS:
        found, left_out = rules.reductions_at(months, courses, histories, start=start, end=end)
        mg = rules.median([each.mg for each in found])
        percent = rules.median([each.percent for each in found if each.percent is not None])
        rows.append((f"{months} months", str(len(found)),
                     NOT_ENOUGH if mg is None else number(mg),
                     NOT_ENOUGH if percent is None else f"{number(percent, 1)}%", str(left_out)))
    tables["reductions"] = Table(
        key="reductions", caption="Median OME reduction after a plan started",
        counted="For each plan whose 3, 6 or 12 month point (the same day that many months after its first step) "
                "fell in the period: its starting OME minus the person's OME in force on that day, by the rule "
                f"above ({PRACTICE_RECORDS}); the median of those plans (the mean of the middle two for an even "
                "number); plans whose OME on that day is not known are left out and counted.",
        headers=("After", "Plans", "Median reduction (mg OME a day)", "Median reduction (% of starting OME)",
                 "Plans left out: OME not known"),
        rows=rows)


def _score_table(tables: dict[str, Table], caseload: list[ColumnElement[bool]], courses: list[rules.PlanCourse],
                 start: date, end: date) -> None:
    scores: dict[int, list[rules.FollowUpScores]] = defaultdict(list)
    plan_ids = {course.plan_id for course in courses}
    chosen = _first_and_latest_follow_ups(caseload, start, end)
    for plan_id, held_on, follow_up_id, peg, sows in db.session.execute(chosen):
        if plan_id in plan_ids:
            scores[plan_id].append(rules.FollowUpScores(held_on=held_on, order=follow_up_id,
                                                        peg=Decimal(str(peg_score(peg))), sows=sows))
    pairs = [pair for each in scores.values() if (pair := rules.first_and_latest(each, start=start, end=end))]
    rows = []
    for label, changes in (("PEG score (0 to 10)", rules.peg_changes(pairs)),
                           ("Withdrawal, SOWS-Gossop (items assessed at both)", rules.sows_changes(pairs))):
        rows.append((label, str(len(changes.changes)), *(_median_words(values, decimals=1) for values in
                                                         (changes.first, changes.latest, changes.changes)),
                     str(changes.left_out)))
    tables["scores"] = Table(
        key="scores", caption="Pain and function (PEG) and withdrawal (SOWS) scores",
        counted="For each plan with at least two follow-ups by the end of the period, the latest held in it: its "
                "first and latest follow-up's scores and the change (latest minus first; below 0 is better); a "
                "withdrawal item not assessed at either follow-up is left out of that plan's comparison (never "
                "read as 0), and a plan with no item assessed at both is left out and counted.",
        headers=("Score", "Plans", "Median first", "Median latest", "Median change", "Plans left out"),
        rows=rows)


def _first_and_latest_follow_ups(caseload: list[ColumnElement[bool]], start: date,
                                 end: date) -> Select[int, date, int, dict[str, int], dict[str, int | None]]:
    """Each plan's first follow-up and its latest held by `end`, for the plans with at least two by then whose
    latest was held from `start` (window functions: only these rows are read, with their scores)."""
    plan = FollowUp.plan_id
    ranked = (select(FollowUp.id.label("id"),
                     func.row_number().over(partition_by=plan, order_by=(FollowUp.held_on, FollowUp.id)).label("first"),
                     func.row_number().over(partition_by=plan, order_by=(FollowUp.held_on.desc(), FollowUp.id.desc()))
                     .label("last"),
                     func.count().over(partition_by=plan).label("held"),
                     func.max(FollowUp.held_on).over(partition_by=plan).label("latest"))
              .join(Plan, Plan.id == FollowUp.plan_id).join(Patient, Patient.id == Plan.patient_id)
              .where(*caseload, FollowUp.held_on <= end).subquery())
    return (select(FollowUp.plan_id, FollowUp.held_on, FollowUp.id, FollowUp.peg, FollowUp.sows)
            .join(ranked, ranked.c.id == FollowUp.id)
            .where(or_(ranked.c.first == 1, ranked.c.last == 1), ranked.c.held >= 2, ranked.c.latest >= start))


def _median_words(values: list[Decimal], *, decimals: int) -> str:
    middle = rules.median(values)
    return NOT_ENOUGH if middle is None else number(middle, decimals)


def _attendance_table(tables: dict[str, Table], caseload: list[ColumnElement[bool]], start: date,
                      end: date) -> None:
    counted: dict[str, int] = {status: count for status, count in db.session.execute(
        select(Appointment.status, func.count()).join(Patient, Patient.id == Appointment.patient_id)
        .where(*caseload, Appointment.kind.in_(REVIEW_KINDS), Appointment.starts_at >= _midnight(start),
               Appointment.starts_at < _midnight(end + timedelta(days=1)))
        .group_by(Appointment.status))}
    booked = counted.get("proposed", 0) + counted.get("confirmed", 0)
    rows: list[tuple[str, ...]] = [
        ("Attended", str(counted.get("attended", 0))), ("Did not attend", str(counted.get("did_not_attend", 0))),
        ("Cancelled", str(counted.get("cancelled", 0))), ("Booked, not yet recorded", str(booked))]
    tables["attendance"] = Table(
        key="attendance", caption="Follow-up attendance",
        counted="Review appointments (plan reviews and extra reviews) booked to start in the period, by what was "
                "recorded of them.",
        headers=("Reviews", "Number"), rows=rows)


def _invitation_tables(tables: dict[str, Table], charts: dict[str, Series], clinic: Organisation,
                       practice: Organisation | None, start: date, end: date) -> None:
    where = [Invitation.clinic_id == clinic.id, Invitation.sent_at >= _midnight(start),
             Invitation.sent_at < _midnight(end + timedelta(days=1))]
    if practice is not None:
        where.append(Invitation.gp_practice_id == practice.id)
    starts = rules.months_between(start, end)
    # Each invitation's month, counted in SQL: the index of the month whose start (in England) it was sent before.
    month = (case(*[(Invitation.sent_at < _midnight(first), index) for index, first in enumerate(starts[1:])],
                  else_=len(starts) - 1) if len(starts) > 1 else literal(0))
    booked = case((Invitation.appointment_id.is_(None), 0), else_=1)
    months = {first: Counter[str]() for first in starts}
    totals = Counter[str]()
    for index, answer, with_booking, count in db.session.execute(
            select(month, Invitation.answer, booked, func.count()).where(*where)
            .group_by(month, Invitation.answer, booked)):
        for counter in (months[starts[index]], totals):
            counter["sent"] += count
            counter[answer or "unanswered"] += count
            counter["booked"] += count * with_booking
    tables["invitations"] = Table(
        key="invitations", caption="Invitations and answers",
        counted="Invitations sent in the period, by the answer recorded so far, and the first consultations "
                "booked from them.",
        headers=("Invitations", "Number"),
        rows=[("Sent", str(totals["sent"])), ("Accepted", str(totals["accepted"])),
              ("Declined", str(totals["declined"])), ("Not answered yet", str(totals["unanswered"])),
              ("First consultations booked", str(totals["booked"]))])
    tables["invitations-by-month"] = Table(
        key="invitations-by-month", caption="Invitations and answers by month sent",
        counted="Invitations by the month they were sent, with the answers recorded so far.",
        headers=("Month", "Sent", "Accepted", "Declined", "Not answered yet"),
        rows=[(f"{first:%B %Y}", *(str(counter[name]) for name in ("sent", "accepted", "declined", "unanswered")))
              for first, counter in months.items()])
    charts["invitations-by-month"] = Series(
        [f"{first:%b %Y}" for first in months],
        {label: [counter[name] for counter in months.values()]
         for label, name in (("Sent", "sent"), ("Accepted", "accepted"), ("Declined", "declined"),
                             ("Not answered yet", "unanswered"))})


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), CLINIC_TIMEZONE)


def number(value: Decimal | float | int, decimals: int = 1) -> str:
    """A figure as the page and the CSV write it: at most `decimals` places, no trailing zeros."""
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals))
    text = f"{rounded:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def csv_rows(table: Table) -> list[tuple[str, ...]]:
    """The table as its CSV writes it: the headers, then its rows, each cell safe to open in a spreadsheet."""
    return [tuple(spreadsheet_text(cell) for cell in row) for row in (table.headers, *table.rows)]


def spreadsheet_text(cell: str) -> str:
    """A CSV cell a spreadsheet will not run: one starting with = + - @ tab or carriage return, which a
    spreadsheet would read as a formula (a stop reason is free text), gets a single quote first (OWASP, CSV
    injection); a plain number such as -0.7 or -12.5% stays a number."""
    if cell.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(cell):
        return f"'{cell}"
    return cell

