"""The find worklist (issue 18, item 3): a clinic's patients ranked by need, with reasons, the level of support
and their place in the pathway; filters kept across pages; another clinic's patients never listed; the same
number of SQL statements at two sizes."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from taper import clock
from taper.domain.organisations import OrganisationKind, Role
from taper.domain.patients import Sex
from taper.domain.plans import PlanStatus
from taper.extensions import db
from taper.models import Appointment, Concern, Organisation, Patient, RecordedRiskAssessment, User
from taper.models.finding import CohortImport, Invitation, PracticeRecordLine
from taper.services import plans, regimens
from taper.services.regimens import RegimenEntry
from tests.conftest import TODAY, Maker, page_text, sign_in
from tests.query_counts import counting
from tests.web.test_practice_record_regimens import practice_record_regimen

ROW = re.compile(r'<tr class="nhsuk-table__row" id="patient-(\d+)">')


def born(age: int) -> date:
    return date(TODAY.year - age, 1, 1)


def morphine(dose_mg: int) -> dict[str, Any]:
    """Morphine MR tablets twice a day, `dose_mg` each time."""
    return {"product": "morphine-mr-tablet-12h",
            "doses": [{"time": "08:00", "dose_mg": dose_mg}, {"time": "20:00", "dose_mg": dose_mg}]}


def pharmacist_regimen(by: User, patient: Patient, lines: list[dict[str, Any]], *, on: date,
                       benzodiazepine: bool = False) -> None:
    regimens.record_regimen(by=by, patient_id=patient.id, entry=RegimenEntry(
        lines=lines, recorded_on=on, benzodiazepine=benzodiazepine))
    db.session.commit()


def record_lines(patient: Patient, *rows: tuple[str, str, dict[str, Any] | None, list[str], str | None, date]) -> None:
    """Practice record lines as the cohort import keeps them: (drug, dosage, line, problems, non_opioid, last
    issue date)."""
    extract = CohortImport(clinic_id=patient.clinic_id, file_name="search.csv", file_sha256="0" * 64, content=b"",
                           columns={}, status="imported", preview={})
    db.session.add(extract)
    db.session.flush()
    for serial, (drug, dosage, line, problems, non_opioid, issued) in enumerate(rows):
        db.session.add(PracticeRecordLine(
            clinic_id=patient.clinic_id, patient_id=patient.id, import_id=extract.id,
            row_key=f"{patient.id}-{extract.id}-{serial}", drug=drug, dosage=dosage, last_issue_date=issued,
            first_issue_date=None, product=line["product"] if line else None, line=line, problems=problems,
            non_opioid=non_opioid))
    db.session.commit()


def invite(by: User, patient: Patient, *, answer: str | None = None) -> Invitation:
    invitation = Invitation(clinic_id=patient.clinic_id, patient_id=patient.id, gp_practice_id=patient.gp_practice_id,
                            by_letter=True, sent_by_id=by.id, answer=answer,
                            answered_at=clock.now() if answer else None, answered_by_id=by.id if answer else None)
    db.session.add(invitation)
    db.session.commit()
    return invitation


def book_initial(by: User, patient: Patient) -> None:
    starts = datetime.combine(TODAY + timedelta(days=3), datetime.min.time(), clock.CLINIC_TIMEZONE) + timedelta(
        hours=10, minutes=patient.id)
    db.session.add(Appointment(patient_id=patient.id, pharmacist_id=by.id, kind="initial", starts_at=starts,
                               ends_at=starts + timedelta(minutes=30), length_minutes=30, mode="phone",
                               status="proposed"))
    db.session.commit()


@pytest.fixture
def practice(make: Maker) -> Organisation:
    return make.organisation(OrganisationKind.GP_PRACTICE, name="Chapel Allerton Surgery")


@pytest.fixture
def cohort(make: Maker, pharmacist: User, practice: Organisation) -> dict[str, Patient]:
    """Patients made for the ranking, one of each kind."""
    def patient(name: str, age: int, sex: Sex = Sex.FEMALE, **overrides: Any) -> Patient:
        return make.patient(pharmacist, family_name=name, date_of_birth=born(age), sex=sex,
                            gp_practice_id=overrides.pop("gp_practice_id", practice.id), **overrides)

    made = {name: patient(name, age, sex) for name, age, sex in (
        ("Archer", 70, Sex.MALE), ("Baxter", 50, Sex.FEMALE), ("Carter", 40, Sex.FEMALE),
        ("Dunn", 50, Sex.FEMALE), ("Ellis", 45, Sex.FEMALE), ("Foster", 45, Sex.FEMALE))}
    # Archer: 200 mg (at or above 120), a benzodiazepine, on opioids since June, 70: level 3.
    pharmacist_regimen(pharmacist, made["Archer"], [morphine(100)], on=date(2026, 6, 1), benzodiazepine=True)
    # Baxter: 360 mg from the practice record (300 or more): level 4.
    practice_record_regimen(made["Baxter"], [morphine(180)], source_date=date(2026, 11, 10))
    record_lines(made["Baxter"], ("MST Continus 100mg tablets", "1 bd", morphine(100), [], None, date(2026, 2, 1)))
    # Carter: 20 mg from the record, a gabapentinoid and a second opioid in it, one line unread: level 3.
    practice_record_regimen(made["Carter"], [morphine(10)], source_date=date(2026, 11, 1))
    record_lines(made["Carter"],
                 ("MST Continus 10mg tablets", "1 bd", morphine(10), [], None, date(2026, 11, 1)),
                 ("Pregabalin 75mg capsules", "1 bd", None, [], "gabapentinoid", date(2026, 11, 1)),
                 ("Oramorph 10mg/5ml oral solution", "as directed", None,
                  ['the dosage says "as directed": the dose must be read from the record by hand'], None,
                  date(2026, 11, 1)),
                 ("Tramadol 50mg capsules", "1-2 qds prn", {"product": "tramadol-capsule", "prn": {
                     "dose_mg": 100, "usual_per_day": 4, "max_per_day": 4}}, [], None, date(2026, 11, 1)))
    # Dunn: nothing recorded: level 1, OME not known.
    # Ellis: 60 mg, assessed at level 4 by a pharmacist.
    pharmacist_regimen(pharmacist, made["Ellis"], [morphine(30)], on=date(2026, 11, 1))
    db.session.add(RecordedRiskAssessment(
        patient_id=made["Ellis"].id, assessed_on=TODAY, assessed_by_id=pharmacist.id, age_years=45,
        total_ome_mg_per_day=Decimal(60), high_dose_threshold_mg=Decimal(120), answers=["past_substance_misuse"],
        active_substance_misuse=True, abuse_history_answer="no", factors=["past_substance_misuse"],
        reasons=["Active substance misuse"], suggested_level=4, chosen_level=4))
    db.session.commit()
    # Foster: 60 mg, two early requests raised by pharmacies on a plan since stopped: level 1.
    plan = make.running_plan(pharmacist, made["Foster"], start_on=TODAY - timedelta(days=5))
    community = make.user(Role.COMMUNITY_PHARMACIST)
    for _ in range(2):
        db.session.add(Concern(plan_id=plan.id, pharmacy_id=community.organisation_id, kind="early_or_extra_request",
                               detail="Asked for more", raised_by_id=community.id))
    db.session.commit()
    plans.change_status(by=pharmacist, plan_id=plan.id, expected_version=plan.version, to=PlanStatus.STOPPED,
                        reason="Chose to stop")
    db.session.commit()
    return made


def _rows(page: str) -> list[int]:
    return [int(found) for found in ROW.findall(page)]


def _row(page: str, patient: Patient) -> str:
    start = page.index(f'id="patient-{patient.id}"')
    return page[start:page.index("</tr>", start)]


def test_patients_are_ranked_by_need_with_their_reasons(signed_in: FlaskClient, cohort: dict[str, Patient]) -> None:
    page = page_text(signed_in.get("/find/"))
    # Carter, level 3 with a line needing a hand check, comes before Archer, level 3 with every line read.
    order = [name for name in ("Baxter", "Ellis", "Carter", "Archer", "Foster", "Dunn")]
    assert _rows(page) == [cohort[name].id for name in order]
    baxter = _row(page, cohort["Baxter"])
    assert "360 <br><span class=\"nhsuk-u-font-size-16\">from practice record</span>" in baxter or \
        "360<br><span class=\"nhsuk-u-font-size-16\">from practice record" in baxter
    assert "360 mg OME a day: above the clinic&#39;s threshold of 120 mg" in baxter
    assert "On opioids for over 10 months (long-term: over 3)" in baxter  # from the record line issued in February
    assert "Level 4: specialist multidisciplinary team" in baxter and "suggested" in baxter
    ellis = _row(page, cohort["Ellis"])
    assert "Level 4" in ellis and "assessed" in ellis
    archer = _row(page, cohort["Archer"])
    for reason in ("200 mg OME a day: above", "On opioids for over 6 months", "With a benzodiazepine",
                   "Aged 70 (65 or over)"):
        assert reason in archer
    assert "Level 3" in archer and "from practice record" not in archer
    carter = _row(page, cohort["Carter"])
    for reason in ("With a gabapentinoid", "2 opioids", "A line of the practice record needs a hand check"):
        assert reason in carter
    assert "needs hand check" in carter and "from practice record" in carter and "Level 3" in carter
    assert "2 early or extra requests (pharmacy concerns)" in _row(page, cohort["Foster"])
    dunn = _row(page, cohort["Dunn"])
    assert "Not known" in dunn and "None found" in dunn and "Level 1" in dunn
    assert "Not invited" in dunn and "Chapel Allerton Surgery" in dunn
    assert 'action="/find/invitations/new"' in page and 'name="patient_id" value="' in page
    assert 'href="/find/imports/"' in page


def test_a_patient_whose_opioid_needs_a_hand_check_is_not_ranked_last(signed_in: FlaskClient, pharmacist: User,
                                                                      make: Maker, practice: Organisation) -> None:
    """Imported with "oxycodone 80mg MR as directed" only: its dose is not known, so the row says why it needs
    looking at, the level is at least 3, and it comes before the level-3 patients whose dose is known."""
    def patient(name: str, sex: Sex = Sex.FEMALE) -> Patient:
        return make.patient(pharmacist, family_name=name, date_of_birth=born(50), sex=sex, gp_practice_id=practice.id)

    unread, high, male = patient("Unread"), patient("High"), patient("Male", Sex.MALE)
    record_lines(unread, ("Oxycodone 80mg modified-release tablets", "as directed", None,
                          ['the dosage says "as directed": the dose must be read from the record by hand'], None,
                          date(2026, 11, 1)))
    pharmacist_regimen(pharmacist, high, [morphine(100)], on=date(2026, 11, 1))  # 200 mg: level 3
    pharmacist_regimen(pharmacist, male, [morphine(20)], on=date(2026, 11, 1))  # male: level 2
    page = page_text(signed_in.get("/find/"))
    assert _rows(page) == [unread.id, high.id, male.id]
    row = _row(page, unread)
    assert ("A line of the practice record needs a hand check: its dose could not be read, so the OME leaves it "
            "out") in row
    assert "Level 3: pharmacist-led tapering service" in row and "at least, until the regimen is checked" in row
    assert "Not known" in row and "needs hand check" in row
    assert set(_rows(page_text(signed_in.get("/find/?min_level=3")))) == {unread.id, high.id}


def test_each_place_in_the_pathway_is_shown_and_filtered(signed_in: FlaskClient, pharmacist: User, make: Maker,
                                                         practice: Organisation) -> None:
    def patient(name: str) -> Patient:
        return make.patient(pharmacist, family_name=name, gp_practice_id=practice.id)

    invited, declined, accepted, booked, waiting, running, completed, draft = (
        patient(name) for name in ("Invited", "Declined", "Accepted", "Booked", "Waiting", "Running", "Completed",
                                   "Draft"))
    invite(pharmacist, invited)
    invite(pharmacist, declined, answer="accepted")
    invite(pharmacist, declined, answer="declined")  # the latest answer counts
    invite(pharmacist, accepted, answer="accepted")
    invite(pharmacist, booked, answer="accepted")
    book_initial(pharmacist, booked)
    make.running_plan(pharmacist, running, start_on=TODAY)
    done = make.running_plan(pharmacist, completed, start_on=TODAY - timedelta(days=5))
    plans.change_status(by=pharmacist, plan_id=done.id, expected_version=done.version, to=PlanStatus.COMPLETED,
                        reason="Reached the goal")
    pharmacist_regimen(pharmacist, draft, [morphine(30)], on=TODAY)
    plans.create_draft(by=pharmacist, patient_id=draft.id, settings=plans.PlanSettings(start_on=TODAY))
    db.session.commit()

    shown = page_text(signed_in.get("/find/"))
    assert set(_rows(shown)) == {invited.id, declined.id, accepted.id, booked.id, waiting.id, draft.id}
    expected = {invited: "Invited", declined: "Declined", accepted: "Accepted, not yet booked", booked: "Booked",
                waiting: "Not invited", draft: "On a plan"}
    for each, label in expected.items():
        assert f'<td class="nhsuk-table__cell">{label}</td>' in _row(shown, each), label
    everyone = page_text(signed_in.get("/find/?state=all"))
    assert set(_rows(everyone)) == {each.id for each in (invited, declined, accepted, booked, waiting, running,
                                                         completed, draft)}
    assert '<td class="nhsuk-table__cell">Completed a plan</td>' in _row(everyone, completed)
    assert '<td class="nhsuk-table__cell">On a plan</td>' in _row(everyone, running)
    for state, patients in (("invited", {invited}), ("declined", {declined}), ("booked", {booked}),
                            ("not_invited", {waiting}), ("on_a_plan", {running, draft}),
                            ("completed", {completed})):
        assert set(_rows(page_text(signed_in.get(f"/find/?state={state}")))) == {each.id for each in patients}


def test_filters_by_practice_and_level_are_kept_across_pages(signed_in: FlaskClient, pharmacist: User,
                                                             make: Maker, practice: Organisation) -> None:
    other_practice = make.organisation(OrganisationKind.GP_PRACTICE, name="Moortown Medical Centre")
    for serial in range(52):
        each = make.patient(pharmacist, family_name=f"High{serial:02d}", gp_practice_id=practice.id)
        pharmacist_regimen(pharmacist, each, [morphine(100 + serial)], on=TODAY)
    elsewhere = make.patient(pharmacist, family_name="Elsewhere", gp_practice_id=other_practice.id)
    pharmacist_regimen(pharmacist, elsewhere, [morphine(100)], on=TODAY)
    low = make.patient(pharmacist, family_name="Low", gp_practice_id=practice.id)

    first = page_text(signed_in.get(f"/find/?practice={practice.id}&min_level=3"))
    assert len(_rows(first)) == 50 and low.id not in _rows(first) and elsewhere.id not in _rows(first)
    assert "53 patients" not in first and "52 patients: showing 1 to 50" in first
    assert f'href="/find/?page=2&amp;practice={practice.id}&amp;min_level=3"' in first
    assert "HIGH51" in first.split("</tr>")[1]  # the highest dose first
    second = page_text(signed_in.get(f"/find/?page=2&practice={practice.id}&min_level=3"))
    assert len(_rows(second)) == 2 and "HIGH00" in second and "HIGH01" in second
    assert f'<option value="{practice.id}" selected' in second and '<option value="3" selected' in second
    assert set(_rows(page_text(signed_in.get(f"/find/?practice={other_practice.id}")))) == {elsewhere.id}
    assert low.id in _rows(page_text(signed_in.get("/find/?page=2")))


def test_another_clinics_patients_are_never_listed(app: Flask, client: FlaskClient, pharmacist: User,
                                                   make: Maker, cohort: dict[str, Patient]) -> None:
    other = make.user(Role.PHARMACIST)
    theirs = make.patient(other, family_name="Theirs")
    sign_in(client, pharmacist)
    page = page_text(client.get("/find/?state=all"))
    assert theirs.id not in _rows(page) and "THEIRS" not in page
    assert client.get(f"/find/?practice={theirs.gp_practice_id}").status_code == 200  # not a choice: the default
    assert "THEIRS" not in page_text(client.get(f"/find/?practice={theirs.gp_practice_id}&state=all"))
    for role in (Role.GP, Role.COMMUNITY_PHARMACIST, Role.ADMIN):
        other_client = app.test_client()
        sign_in(other_client, make.user(role))
        assert other_client.get("/find/").status_code == 403


def _grow(make: Maker, pharmacist: User, practice: Organisation, to: int) -> None:
    """Patients of every kind the worklist reads, up to `to`."""
    made = len(_all(pharmacist))
    for serial in range(made, to):
        each = make.patient(pharmacist, family_name=f"Count{serial:02d}", gp_practice_id=practice.id)
        if serial % 3 == 0:
            pharmacist_regimen(pharmacist, each, [morphine(60)], on=TODAY)
        elif serial % 3 == 1:
            practice_record_regimen(each, [morphine(30)])
            record_lines(each, ("Diazepam 2mg tablets", "1 on", None, [], "benzodiazepine", date(2026, 11, 1)),
                         ("Oramorph", "as directed", None, ["as directed"], None, date(2026, 11, 1)))
        else:
            invite(pharmacist, each, answer="declined" if serial % 2 else None)


def _all(pharmacist: User) -> list[Patient]:
    return list(db.session.scalars(db.select(Patient).where(Patient.clinic_id == pharmacist.organisation_id)))


def test_the_worklist_runs_as_many_statements_with_30_patients_as_with_3(
        signed_in: FlaskClient, pharmacist: User, make: Maker, practice: Organisation) -> None:
    counts = []
    for size in (3, 30):
        _grow(make, pharmacist, practice, size)
        with counting() as statements:
            page = page_text(signed_in.get("/find/"))
        assert len(_rows(page)) == size
        counts.append(statements)
    assert counts[0].count == counts[1].count, f"{counts[0]}\n{counts[1]}"
    assert counts[1].count <= 12, str(counts[1])


@pytest.mark.parametrize("page", ["²", "x", "-3"])
def test_a_page_argument_that_is_not_a_page_number_shows_the_first_page(signed_in: FlaskClient, page: str) -> None:
    assert signed_in.get("/find/", query_string={"page": page}).status_code == 200
