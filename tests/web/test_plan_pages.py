"""Building, agreeing and running a plan in the browser's forms."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import func, select

from taper import clock
from taper.domain.plans import PlanStatus
from taper.extensions import db
from taper.models import AuditEvent, Patient, Plan, SharedDecision, User, WorklistItem
from taper.services import appointments, lead_time, regimens
from taper.services.regimens import RegimenEntry
from tests.conftest import TODAY, Maker, at, page_text, submit


@pytest.fixture
def patient(make: Maker, pharmacist: User) -> Patient:
    patient = make.patient(pharmacist)
    regimens.record_regimen(by=pharmacist, patient_id=patient.id, entry=RegimenEntry(lines=[
        {"product": "morphine-mr-tablet-12h", "doses": [{"time": "08:00", "dose_mg": 60},
                                                        {"time": "20:00", "dose_mg": 60}]},
        {"product": "oxycodone-ir-capsule", "prn": {"dose_mg": 5, "usual_per_day": 2, "max_per_day": 4}}]))
    db.session.commit()
    return patient


def _settings(**changes: str) -> dict[str, str]:
    return {"start_on-day": str(TODAY.day), "start_on-month": str(TODAY.month), "start_on-year": str(TODAY.year),
            "reduction_pct": "10", "interval_days": "14", "basis": "starting", "target": "stop",
            "order-0": "oxycodone-ir-capsule", "order-1": "morphine-mr-tablet-12h",
            "order_reason": "Rescue doses first", "instalment_days": "14",
            **changes}


def _plans() -> int:
    return db.session.scalar(select(func.count()).select_from(Plan))


def test_preview_shows_the_steps_and_chart_and_keeps_what_was_typed(signed_in: FlaskClient,
                                                                    patient: Patient) -> None:
    page = page_text(submit(signed_in, f"/patients/{patient.id}/plans/new", _settings(preview="1")))
    assert "from 135 mg OME a day" in page
    assert 'src="data:image/svg+xml;base64,' in page and 'id="steps"' in page
    assert "Morphine modified-release tablet: 08:00" in page and "No opioids" in page
    assert 'value="Rescue doses first"' in page or "Rescue doses first</textarea>" in page
    assert _plans() == 0


def test_save_draft_then_agree_and_start(signed_in: FlaskClient, patient: Patient) -> None:
    response = submit(signed_in, f"/patients/{patient.id}/plans/new", _settings(save="1"))
    plan = db.session.scalar(select(Plan))
    assert response.headers["Location"] == f"/plans/{plan.id}"
    assert plan.current.schedule["policy"]["order"] == ["oxycodone-ir-capsule", "morphine-mr-tablet-12h"]
    assert plan.current.schedule["policy"]["order_reason"] == "Rescue doses first"
    page = page_text(signed_in.get(f"/plans/{plan.id}"))
    assert "Draft" in page and "Record shared decision" in page
    chart = signed_in.get(f"/plans/{plan.id}/chart.svg")
    assert chart.mimetype == "image/svg+xml" and "<svg" in chart.get_data(as_text=True)
    assert chart.headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    refused = page_text(submit(signed_in, f"/plans/{plan.id}/status", {"to": "active", "version": str(plan.version)},
                           form_url=f"/plans/{plan.id}"))
    assert str(escape("Record the shared decision with the patient before the plan starts")) in refused
    submit(signed_in, f"/plans/{plan.id}/decision", {
        "what_matters": "Walking the dog", "goals": "Fewer side effects", "agreed_pace": "10% every 2 weeks",
        "pain_relief": " Paracetamol 1 g up to four times a day ", "prescriber": "gp",
        "consent_share_with_gp": "y", "consent_share_with_pharmacy": "y",
        "agreed_on-day": str(TODAY.day), "agreed_on-month": str(TODAY.month), "agreed_on-year": str(TODAY.year)},
        form_url=f"/plans/{plan.id}")
    assert db.session.scalar(select(SharedDecision.goals)) == "Fewer side effects"
    assert db.session.scalar(select(SharedDecision.pain_relief)) == "Paracetamol 1 g up to four times a day"
    submit(signed_in, f"/plans/{plan.id}/status", {"to": "active", "version": str(plan.version)},
           form_url=f"/plans/{plan.id}")
    db.session.expire_all()
    assert db.session.get(Plan, plan.id).status is PlanStatus.ACTIVE
    stopped = page_text(submit(signed_in, f"/plans/{plan.id}/status",
                           {"to": "stopped", "version": str(db.session.get(Plan, plan.id).version)},
                           form_url=f"/plans/{plan.id}"))
    assert "Say why the plan is ending" in stopped
    assert "No follow-ups yet" in stopped and "Letter to the GP (PDF)" in stopped  # the whole page, re-shown


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"reduction_pct": "80"}, "Choose from 1 to 50%"), ({"reduction_pct": "ten"}, "as a number"),
     # Read as decimals but not numbers: a 500 before issue 15.
     ({"reduction_pct": "NaN"}, "as a number"), ({"reduction_pct": "sNaN"}, "as a number"),
     ({"reduction_pct": "-Inf"}, "as a number"),
     ({"target": "maintenance", "maintenance_ome": "NaN"}, "Enter the maintenance dose in mg OME a day"),
     ({"interval_days": "2"}, "Choose from 3 to 56 days"),
     ({"start_on-day": str((TODAY - timedelta(days=30)).day), "start_on-month": str((TODAY - timedelta(days=30)).month),
       "start_on-year": str((TODAY - timedelta(days=30)).year)}, "at most 7 days ago"),
     ({"target": "maintenance", "maintenance_ome": ""}, "Enter the maintenance dose"),
     ({"target": "maintenance", "maintenance_ome": "500"}, "must be below the starting dose"),
     ({"order-1": "oxycodone-ir-capsule"}, "Choose each medicine once in the order")],
)
def test_bad_settings_are_refused_by_the_field(signed_in: FlaskClient, patient: Patient,
                                               changes: dict[str, str], message: str) -> None:
    page = page_text(submit(signed_in, f"/patients/{patient.id}/plans/new", _settings(save="1", **changes)))
    assert "There is a problem" in page and message in page
    assert _plans() == 0


def test_a_decision_with_missing_answers_is_refused(signed_in: FlaskClient, patient: Patient) -> None:
    submit(signed_in, f"/patients/{patient.id}/plans/new", _settings(save="1"))
    plan = db.session.scalar(select(Plan))
    page = page_text(submit(signed_in, f"/plans/{plan.id}/decision", {"what_matters": "", "agreed_on-day": "1"},
                        form_url=f"/plans/{plan.id}"))
    assert "Record what matters" in page and "Choose who prescribes" in page
    assert db.session.scalar(select(func.count()).select_from(SharedDecision)) == 0


def _running_plan(signed_in: FlaskClient, patient: Patient) -> Plan:
    from taper.services import plans

    submit(signed_in, f"/patients/{patient.id}/plans/new", _settings(save="1"))
    plan = db.session.scalar(select(Plan))
    pharmacist = db.session.get(User, plan.created_by_id)
    plans.record_decision(by=pharmacist, plan_id=plan.id, decision=plans.Decision(
        what_matters="Family", goals="Less", agreed_pace="10%", prescriber="gp", consent_share_with_gp=True,
        consent_share_with_pharmacy=True, agreed_on=TODAY))
    plans.change_status(by=pharmacist, plan_id=plan.id, expected_version=plan.version, to=PlanStatus.ACTIVE)
    db.session.commit()
    return plan


def _follow_up(**changes: str) -> dict[str, str]:
    from taper.domain.follow_up import SOWS_GOSSOP_ITEMS

    return {"held_on-day": str(TODAY.day), "held_on-month": str(TODAY.month), "held_on-year": str(TODAY.year),
            "mode": "phone", "duration_minutes": "20", "dose_taken": "As the plan says",
            "peg_pain": "6", "peg_enjoyment": "5", "peg_activity": "7", "notes": "Sleeping badly",
            "outcome": "hold", "hold_days": "14", **{f"sows_{item}": "1" for item in SOWS_GOSSOP_ITEMS}, **changes}


def test_a_follow_up_that_holds_the_step_makes_a_new_version(signed_in: FlaskClient, patient: Patient) -> None:
    from taper.models import FollowUp

    plan = _running_plan(signed_in, patient)
    before = plan.current.schedule["steps"]
    response = submit(signed_in, f"/plans/{plan.id}/follow-ups/new", _follow_up(version=str(plan.version)))
    assert response.status_code == 302
    db.session.expire_all()
    plan = db.session.get(Plan, plan.id)
    after = plan.current.schedule["steps"]
    assert plan.current.number == 2 and "hold" in plan.current.reason
    assert after[0]["starts_on"] == before[0]["starts_on"]
    assert [step["starts_on"] for step in after[1:]] == [
        (date.fromisoformat(step["starts_on"]) + timedelta(days=14)).isoformat() for step in before[1:]]
    held = db.session.scalar(select(FollowUp))
    assert (held.sows_total, held.peg["pain"], held.plan_version_after) == (10, 6, 2)
    assert "PEG 6.0; SOWS 10/30" in page_text(signed_in.get(f"/plans/{plan.id}"))  # PEG (6 + 5 + 7) / 3
    changes = page_text(signed_in.get(f"/plans/{plan.id}/versions/1/compare/2"))
    assert "Step 2: dates" in changes and "dose" not in changes.split('id="changes"')[1]
    assert signed_in.get(f"/plans/{plan.id}/versions/1/compare/9").status_code == 404


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"peg_pain": "11"}, "Score from 0 to 10"), ({"hold_days": "-3"}, "A hold must be from 1 to 365 days"),
     ({"dose_taken": ""}, "Record the dose the patient is actually taking"),
     ({"outcome": "slow", "hold_days": ""}, "Give the new percentage, the new interval, or both")],
)
def test_bad_follow_up_input_is_refused_and_nothing_saved(signed_in: FlaskClient, patient: Patient,
                                                          changes: dict[str, str], message: str) -> None:
    from taper.models import FollowUp

    plan = _running_plan(signed_in, patient)
    page = page_text(submit(signed_in, f"/plans/{plan.id}/follow-ups/new",
                        _follow_up(version=str(plan.version), **changes)))
    assert "There is a problem" in page and message in page
    assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 0
    db.session.expire_all()
    assert db.session.get(Plan, plan.id).current.number == 1


def test_home_shows_step_changes_overdue_follow_ups_and_high_doses_without_a_plan(
        signed_in: FlaskClient, patient: Patient, make: Maker, pharmacist: User) -> None:
    other = make.patient(pharmacist, family_name="Highdose")
    regimens.record_regimen(by=pharmacist, patient_id=other.id, entry=RegimenEntry(lines=[
        {"product": "oxycodone-mr-tablet-12h", "doses": [{"time": "08:00", "dose_mg": 60},
                                                         {"time": "20:00", "dose_mg": 60}]}]))
    db.session.commit()
    plan = _running_plan(signed_in, patient)
    page = page_text(signed_in.get("/"))
    assert "Today in clinic" in page
    running = page.split('id="running"')[1]
    assert "LOVELACE, Ada" in running and f"plan {plan.id}" in running
    assert "LOVELACE, Ada" in page.split('id="step-changes"')[1].split('id="today"')[0]  # step 1 starts today
    high = page.split('id="high-dose"')[1].split('id="running"')[0]
    assert "HIGHDOSE, Ada</a>: 180 mg OME a day" in high and "LOVELACE" not in high
    from taper import jobs

    assert "No one is overdue." in page
    with clock.freeze(datetime.combine(TODAY + timedelta(days=20), datetime.min.time(), tzinfo=UTC)):
        jobs.run("overdue-reviews")  # no review in 14 days and 4 days' grace, and nothing booked
    overdue = page_text(signed_in.get("/")).split('id="overdue"')[1].split('id="completion"')[0]
    assert "LOVELACE, Ada" in overdue and "No review since" in overdue
    item = db.session.scalar(select(WorklistItem))
    submit(signed_in, f"/worklist/{item.id}/done", {}, form_url="/")
    assert "No one is overdue." in page_text(signed_in.get("/"))


def test_the_start_date_limit_is_configured(databases, tmp_path, make: Maker) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from taper import create_app
    from tests.conftest import RequestIsolatedClient, sign_in
    from tests.databases import settings_for

    url = databases.migrated()
    app = create_app(replace(settings_for(url, tmp_path), plan_start_max_days_ago=30))
    app.test_client_class = RequestIsolatedClient
    try:
        with app.app_context():
            maker = Maker()
            pharmacist = maker.user()
            patient = maker.patient(pharmacist)
            regimens.record_regimen(by=pharmacist, patient_id=patient.id, entry=RegimenEntry(lines=[
                {"product": "morphine-mr-tablet-12h", "doses": [{"time": "08:00", "dose_mg": 30}]}]))
            db.session.commit()
            client = app.test_client()
            sign_in(client, pharmacist)
            twenty_days_ago = TODAY - timedelta(days=20)
            data = _settings(save="1", **{"start_on-day": str(twenty_days_ago.day),
                                          "start_on-month": str(twenty_days_ago.month),
                                          "start_on-year": str(twenty_days_ago.year)})
            data = {**{key: value for key, value in data.items() if not key.startswith("order-")},
                    "order-0": "morphine-mr-tablet-12h"}
            page = page_text(submit(client, f"/patients/{patient.id}/plans/new", data, follow_redirects=True))
            assert "Draft plan saved" in page
            db.session.remove()
            db.engine.dispose()
    finally:
        databases.drop(url)


def test_a_running_plans_documents_download_as_issued(signed_in: FlaskClient, patient: Patient, make: Maker) -> None:
    from taper.models import PlanDocument

    plan = _running_plan(signed_in, patient)
    page = page_text(signed_in.get(f"/plans/{plan.id}"))
    assert "Letter to the GP (PDF)" in page
    response = signed_in.get(f"/plans/{plan.id}/versions/1/gp_letter.pdf")
    stored = db.session.scalar(select(PlanDocument).where(PlanDocument.kind == "gp_letter"))
    assert response.mimetype == "application/pdf" and response.get_data() == stored.pdf
    assert response.headers["ETag"].strip('"') == stored.sha256
    assert signed_in.get(f"/plans/{plan.id}/versions/9/gp_letter.pdf").status_code == 404
    assert signed_in.get(f"/plans/{plan.id}/versions/1/anything.pdf").status_code == 404


def test_all_three_documents_print_as_one_pdf_of_the_stored_pages(signed_in: FlaskClient, patient: Patient) -> None:
    import io

    from pypdf import PdfReader

    from taper.models import PlanDocument

    plan = _running_plan(signed_in, patient)
    assert f"/plans/{plan.id}/versions/1/all.pdf" in page_text(signed_in.get(f"/plans/{plan.id}"))
    response = signed_in.get(f"/plans/{plan.id}/versions/1/all.pdf")
    assert response.mimetype == "application/pdf"
    joined = [page.extract_text() for page in PdfReader(io.BytesIO(response.get_data())).pages]
    stored = {document.kind: [page.extract_text() for page in PdfReader(io.BytesIO(document.pdf)).pages]
              for document in db.session.scalars(select(PlanDocument))}
    assert joined == stored["patient_plan"] + stored["gp_letter"] + stored["pharmacy_schedule"]
    printed = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "plan_documents",
                                                         AuditEvent.action == "view"))
    assert printed.changes["printed"] is True and printed.patient_id == patient.id
    assert signed_in.get(f"/plans/{plan.id}/versions/2/all.pdf").status_code == 404


def test_the_preview_warns_of_doses_nobody_can_make_up(signed_in: FlaskClient, make: Maker,
                                                        pharmacist: User) -> None:
    patient = make.patient(pharmacist, family_name="Sevenmg")
    regimens.record_regimen(by=pharmacist, patient_id=patient.id, entry=RegimenEntry(lines=[
        {"product": "oxycodone-ir-capsule", "doses": [{"time": "08:00", "dose_mg": 20}]},
        {"product": "morphine-mr-tablet-12h", "doses": [{"time": "08:00", "dose_mg": 7},
                                                        {"time": "20:00", "dose_mg": 60}]}]))
    db.session.commit()
    data = {key: value for key, value in _settings(preview="1", reduction_pct="5").items()
            if not key.startswith("order-")}
    page = page_text(submit(signed_in, f"/patients/{patient.id}/plans/new",
                        {**data, "order-0": "oxycodone-ir-capsule", "order-1": "morphine-mr-tablet-12h"}))
    assert "Doses that cannot be made up" in page
    assert "step 1, Morphine modified-release tablet at 08:00: 7 mg" in page
    morphine_first = page_text(submit(signed_in, f"/patients/{patient.id}/plans/new", {
        **data, "order-0": "morphine-mr-tablet-12h", "order-1": "oxycodone-ir-capsule", "reduction_pct": "10"}))
    assert "Preview:" in morphine_first and "Doses that cannot be made up" not in morphine_first


def test_the_builder_starts_a_week_ahead_on_a_working_day_and_warns_of_an_earlier_start(
        signed_in: FlaskClient, patient: Patient, pharmacist: User) -> None:
    """Step 1 by default starts the clinic's lead time from today (7 days: Wednesday 9 December 2026), moved to
    the next working day; a start before then is allowed, and the preview and the draft say what the GP and
    the pharmacy will not yet have."""
    builder = page_text(signed_in.get(f"/patients/{patient.id}/plans/new"))
    assert re.search(r'name="start_on-day"[^>]*value="9"', builder)
    assert re.search(r'name="start_on-month"[^>]*value="12"', builder)
    in_time = page_text(submit(signed_in, f"/patients/{patient.id}/plans/new", _settings(
        preview="1", **{"start_on-day": "9"})))
    assert 'id="steps"' in in_time and 'id="early-start"' not in in_time
    early = page_text(submit(signed_in, f"/patients/{patient.id}/plans/new", _settings(preview="1")))
    assert "Step 1 starts on 2 December 2026, before 9 December 2026" in early
    assert str(escape("The GP's first prescription cannot be dated before the plan goes out")) in early
    response = submit(signed_in, f"/patients/{patient.id}/plans/new", _settings(save="1"))
    assert "Step 1 starts on 2 December 2026, before 9 December 2026" in page_text(
        signed_in.get(response.headers["Location"]))
    clinic = pharmacist.organisation
    clinic.plan_lead_days = 2  # Friday 4 December, the first working day two days on
    db.session.commit()
    assert re.search(r'name="start_on-day"[^>]*value="4"', page_text(
        signed_in.get(f"/patients/{patient.id}/plans/new")))
    with clock.freeze(at(date(2026, 12, 22), 10)):  # 2 days on is Thursday 24 December, a working day
        assert lead_time.default_start_on(clinic) == date(2026, 12, 24)
    clinic.plan_lead_days = 7
    with clock.freeze(at(date(2026, 12, 18), 10)):  # 7 days on is Christmas Day; 26 to 28 are closed too
        assert lead_time.default_start_on(clinic) == date(2026, 12, 29)


def test_the_plan_page_says_when_no_initial_consultation_fits_before_step_1(
        signed_in: FlaskClient, patient: Patient, pharmacist: User, make: Maker) -> None:
    """The pharmacist has no face-to-face session before step 1: the page says so instead of booking the
    initial consultation after the plan has begun."""
    plan = make.running_plan(pharmacist, patient, start_on=TODAY + timedelta(days=7))
    assert not any(each.kind == "initial" for each in appointments.upcoming(plan.id))
    page = page_text(signed_in.get(f"/plans/{plan.id}"))
    assert "No initial consultation is booked before step 1 starts on 9 December 2026" in page


def test_the_builder_shows_what_to_check_in_the_starting_regimen_and_the_dose_at_the_maximum(
        signed_in: FlaskClient, pharmacist: User, make: Maker) -> None:
    """Co-codamol 30/500 three tablets four times a day (6 g of paracetamol) and Oramorph when needed: the preview
    (the same fragment the live preview swaps in) says what to check first, with the switch that brings
    paracetamol within 4 g, and each step shows the dose with when-needed doses at their most."""
    patient = make.patient(pharmacist)
    regimens.record_regimen(by=pharmacist, patient_id=patient.id, entry=RegimenEntry(lines=[
        {"product": "co-codamol-30-500-tablet", "doses": [{"time": at, "dose_mg": 90} for at in
                                                          ("08:00", "12:00", "16:00", "22:00")]},
        {"product": "morphine-oral-solution-10mg-5ml", "prn": {"dose_mg": 10, "usual_per_day": 0, "max_per_day": 2}}]))
    db.session.commit()
    page = page_text(submit(signed_in, f"/patients/{patient.id}/plans/new", _settings(
        preview="1", **{"order-0": "morphine-oral-solution-10mg-5ml", "order-1": "co-codamol-30-500-tablet"})))
    callout = page.split('id="schedule-warnings"')[1].split("</div>")[0]
    assert "Check before agreeing this plan" in callout and "paracetamol" in callout
    assert "switching co-codamol 30/500 tablets (co-codamol-30-500-tablet) to codeine tablets (codeine-tablet) at " \
           "the same codeine doses" in callout
    assert "above the maximum of 240 mg" in callout
    assert "with when-needed doses at their most" in page


def test_the_builder_checks_paracetamol_against_the_clinics_own_maximum(signed_in: FlaskClient, pharmacist: User,
                                                                       make: Maker) -> None:
    """Co-codamol 30/500 two tablets three times a day is 3 g of paracetamol: within the adult 4 g, above a clinic
    maximum of 2.5 g; the builder's preview and the plan stored use the clinic's setting (rule 1)."""
    patient = make.patient(pharmacist)
    regimens.record_regimen(by=pharmacist, patient_id=patient.id, entry=RegimenEntry(lines=[
        {"product": "co-codamol-30-500-tablet", "doses": [{"time": at, "dose_mg": 60} for at in
                                                          ("08:00", "14:00", "20:00")]}]))
    db.session.commit()
    url = f"/patients/{patient.id}/plans/new"
    fields = {key: value for key, value in _settings().items() if not key.startswith("order")}
    assert "of paracetamol a day" not in page_text(submit(signed_in, url, {**fields, "preview": "1"}))
    pharmacist.organisation.paracetamol_max_mg_per_day = 2500
    db.session.commit()
    page = page_text(submit(signed_in, url, {**fields, "preview": "1"}))
    assert "3000 mg of paracetamol a day" in page and "the clinic&#39;s maximum of 2.5 g in 24 hours" in page
    assert submit(signed_in, url, {**fields, "save": "1"}).status_code == 302
    plan = db.session.scalar(select(Plan).where(Plan.patient_id == patient.id))
    assert plan.current.schedule["limits"]["paracetamol_max_mg_per_day"] == 2500
    assert any("the clinic's maximum of 2.5 g" in warning for warning in plan.current.schedule["warnings"])


def test_the_builder_offers_the_engines_order_when_needed_doses_first(signed_in: FlaskClient,
                                                                      patient: Patient) -> None:
    """The regimen was recorded MR first; the builder's starting order reduces the when-needed capsules first."""
    page = page_text(signed_in.get(f"/patients/{patient.id}/plans/new"))
    first = page.split('name="order-0"')[1].split("</select>")[0]
    assert re.search(r'<option selected value="oxycodone-ir-capsule"|<option value="oxycodone-ir-capsule" selected',
                     first), first


def test_the_builder_can_switch_mxl_to_12_hourly_morphine_at_step_1(signed_in: FlaskClient, pharmacist: User,
                                                                    make: Maker) -> None:
    """MXL 60 mg once a day cannot come down gently (30 mg capsules): the builder offers the same-drug switch,
    and with it step 1 is 30 mg of 12-hourly morphine twice a day; the draft stores the switch."""
    patient = make.patient(pharmacist)
    regimens.record_regimen(by=pharmacist, patient_id=patient.id, entry=RegimenEntry(lines=[
        {"product": "morphine-mr-capsule-24h", "doses": [{"time": "08:00", "dose_mg": 60}]}]))
    db.session.commit()
    url = f"/patients/{patient.id}/plans/new"
    builder = page_text(signed_in.get(url))
    assert ("Switch morphine modified-release capsule to morphine modified-release tablet at step 1 (the same "
            "morphine dose)") in builder
    fields = {key: value for key, value in _settings().items() if not key.startswith("order")}
    without = page_text(submit(signed_in, url, {**fields, "preview": "1"}))
    assert "12-hourly morphine modified-release tablets" in without  # proposed in a step's warning
    switched = page_text(submit(signed_in, url, {**fields, "preview": "1", "switch_from": "morphine-mr-capsule-24h"}))
    assert "Switch from morphine modified-release capsule to morphine modified-release tablet" in switched
    response = submit(signed_in, url, {**fields, "save": "1", "switch_from": "morphine-mr-capsule-24h"})
    assert response.status_code == 302
    plan = db.session.scalar(select(Plan).where(Plan.patient_id == patient.id))
    first = plan.current.schedule["steps"][0]
    assert [line["product"] for line in first["lines"]] == ["morphine-mr-tablet-12h"]
    assert plan.current.schedule["policy"]["switches"][0]["to"] == "morphine-mr-tablet-12h"


def test_the_builders_switch_can_name_the_brand_switched_to(signed_in: FlaskClient, pharmacist: User,
                                                           make: Maker) -> None:
    """Rule 8: the 12-hourly morphine is prescribed by brand; the builder offers the brands of the product switched
    to, and the brand chosen is in every step of the saved draft."""
    patient = make.patient(pharmacist)
    regimens.record_regimen(by=pharmacist, patient_id=patient.id, entry=RegimenEntry(lines=[
        {"product": "morphine-mr-capsule-24h", "brand": "MXL", "doses": [{"time": "08:00", "dose_mg": 60}]}]))
    db.session.commit()
    url = f"/patients/{patient.id}/plans/new"
    builder = signed_in.get(url).get_data(as_text=True)
    assert re.search(r'<option value="MST Continus"\s*>MST Continus</option>', builder)
    fields = {key: value for key, value in _settings().items() if not key.startswith("order")}
    switch = {"switch_from": "morphine-mr-capsule-24h", "switch_brand": "MST Continus"}
    previewed = page_text(submit(signed_in, url, {**fields, "preview": "1", **switch}))
    assert "to morphine modified-release tablet (MST Continus) at the same morphine dose" in previewed
    assert submit(signed_in, url, {**fields, "save": "1", **switch}).status_code == 302
    plan = db.session.scalar(select(Plan).where(Plan.patient_id == patient.id))
    assert {line.get("brand") for step in plan.current.schedule["steps"] for line in step["lines"]} == {"MST Continus"}
    assert plan.current.schedule["policy"]["switches"][0]["brand"] == "MST Continus"
