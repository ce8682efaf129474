"""A pharmacist's clinic, end to end in a real browser (Debian's chromium via Playwright), with axe-core
checking every page visited for serious or critical accessibility problems."""

from __future__ import annotations

import json
import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from taper import clock
from taper.domain.organisations import OrganisationKind
from taper.extensions import db
from taper.models import Plan
from taper.services import capacity
from tests.conftest import PASSWORD, TODAY, Maker, at
from tests.e2e.conftest import CHROMIUM_FLAGS, Accessibility, fill_patient_form

pytestmark = pytest.mark.e2e


def test_a_pharmacists_clinic_from_new_patient_to_a_held_step(live_server: str, make: Maker, chromium_path: str,
                                                              axe_script: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    pharmacist = make.user(email="clinic@example.nhs.uk")
    make.organisation(OrganisationKind.GP_PRACTICE, name="Riverside Surgery")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_context(bypass_csp=True).new_page()  # bypass_csp: axe is injected as a script
        axe = Accessibility(page, axe_script)

        page.goto(live_server + "/login")
        axe.check()
        page.get_by_label("Email address").fill(pharmacist.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        axe.check()

        page.get_by_role("link", name="Appointments").click()
        page.get_by_role("link", name="Your sessions and leave").click()
        page.get_by_label("Day of the week").select_option("Monday")
        page.get_by_label("Starts").fill("09:00")
        page.get_by_label("Ends").fill("17:00")
        page.get_by_label("Site", exact=True).fill("Room 4")
        axe.check()
        page.get_by_role("button", name="Add session").click()
        expect(page.get_by_text("Monday 09:00 to 17:00, Room 4")).to_be_visible()
        for weekday in range(1, 5):  # every other weekday too (remote), so that reviews can always be booked
            capacity.add_session(by=pharmacist, details=capacity.SessionDetails(weekday, time(9), time(17),
                                                                                 remote=True))
        db.session.commit()

        page.goto(live_server + "/")
        page.get_by_role("link", name="Add a patient").click()
        fill_patient_form(page, nhs_number="943 476 5919", given="Ada", family="Lovelace", born=(10, 12, 1950),
                          practice="Riverside Surgery (T00002)")
        axe.check()
        page.get_by_role("button", name="Save patient").click()
        expect(page.get_by_text("Ada Lovelace has been added")).to_be_visible()
        axe.check()

        page.get_by_role("link", name="Record current regimen").click()
        page.locator("#lines-0-product").select_option("morphine-mr-tablet-12h")
        page.locator("#lines-0-dose_1").fill("60")
        page.locator("#lines-0-dose_3").fill("60")
        page.locator("#lines-1-product").select_option("oxycodone-ir-capsule")
        page.locator("#lines-1-taken-2").check()
        page.locator("#lines-1-prn_dose").fill("5")
        page.locator("#lines-1-prn_usual").fill("2")
        page.locator("#lines-1-prn_max").fill("4")
        page.get_by_role("button", name="Check").click()
        expect(page.locator("#total-ome")).to_contain_text("135 mg a day")  # 120 regular + 2 x 5 mg x 1.5
        axe.check()
        page.get_by_role("button", name="Save regimen").click()
        expect(page.get_by_text("Regimen recorded.")).to_be_visible()

        page.get_by_role("link", name="Assess risk").click()
        page.get_by_label("Depression").check()
        page.get_by_role("group", name=re.compile("pre-adolescent sexual abuse")).get_by_label("No", exact=True).check()
        page.get_by_role("button", name="Check").click()
        expect(page.locator("#suggestion")).to_contain_text("Suggested: Level")
        axe.check()
        page.get_by_role("button", name="Save assessment").click()
        expect(page.get_by_text("Risk assessment recorded.")).to_be_visible()

        page.get_by_role("link", name="Build a plan").click()
        # Step 1 starts a week from today by default (Wednesday 9 December), so the GP and pharmacy have the plan.
        for label, value in (("Day", "9"), ("Month", "12"), ("Year", "2026")):
            expect(page.get_by_label(label, exact=True)).to_have_value(value)
        page.get_by_label("Reduce by (%)").fill("25")
        page.get_by_label("Every (days)").focus()  # leaving the field changes it: the preview appears by itself
        expect(page.locator("#preview h2")).to_contain_text("from 135 mg OME a day")
        faster = page.locator("#steps tbody tr").count()
        page.get_by_label("Reduce by (%)").fill("10")
        page.get_by_label("Every (days)").focus()
        expect(page.locator("#steps tbody tr")).not_to_have_count(faster)  # redrawn at the new pace
        # The live preview is the Preview button's fragment: the OME with when-needed doses at their most too.
        expect(page.locator("#steps")).to_contain_text("with when-needed doses at their most")
        page.get_by_role("button", name="Preview").click()
        expect(page.locator("#steps")).to_be_visible()
        axe.check()
        page.get_by_role("button", name="Save draft plan").click()
        expect(page.get_by_text("Draft plan saved.")).to_be_visible()
        axe.check()

        page.get_by_label("What matters to the patient").fill("Gardening again")
        page.get_by_label("Their goals").fill("Fewer side effects")
        page.get_by_label("The pace they agreed").fill("10% every 2 weeks")
        page.get_by_label("The GP").check()
        page.get_by_label("The patient agrees to share the plan with their GP").check()
        page.get_by_label("The patient agrees to share the plan with their pharmacy").check()
        page.get_by_role("button", name="Record shared decision").click()
        page.get_by_label("Start or resume").check()
        page.get_by_role("button", name="Change status").click()
        expect(page.locator("#status")).to_have_text("Active")
        axe.check()
        plan_url = page.url
        # No way to contact Ada is recorded: Taper sends her nothing, so the pharmacist is asked to give the times.
        expect(page.locator("#not-messaged")).to_contain_text("these times yourself")
        booked = page.locator("#appointments ~ ul").first
        # The initial consultation is before step 1: the first face-to-face session, Monday 7 December.
        expect(booked.locator("li").first).to_contain_text(
            "7 December 2026 at 9:00am: initial, 60 minutes, face to face (proposed)")
        booked.get_by_role("link").first.click()
        expect(page.get_by_role("heading", name="Initial consultation")).to_be_visible()
        axe.check()
        page.get_by_role("button", name="Confirm").first.click()
        expect(page.get_by_text("Initial consultation marked confirmed.")).to_be_visible()
        page.get_by_role("link", name="Appointments").click()
        axe.check()
        page.get_by_role("link", name="Week").click()
        axe.check()
        page.get_by_role("link", name="Messages").click()
        axe.check()
        # The next morning after step 1 starts, the first review: the pharmacist signs in again (a week has passed).
        clock.start_at(at(TODAY + timedelta(days=8), 10))
        page.goto(plan_url)
        page.get_by_label("Email address").fill(pharmacist.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(plan_url)

        page.get_by_role("link", name="Record a follow-up").click()
        page.get_by_label("Phone").check()
        page.get_by_label("Length (minutes)").fill("20")
        page.get_by_label("The dose the patient is actually taking").fill("As planned")
        for label, score in (("Average pain", "6"), ("enjoyment of life", "5"), ("general activity", "6")):
            page.get_by_label(label).fill(score)
        page.get_by_label("Hold the current step for some days").check()
        page.get_by_label("Hold for how many more days").fill("14")
        axe.check()
        page.get_by_role("button", name="Save follow-up").click()
        expect(page.get_by_text("Follow-up recorded.")).to_be_visible()
        axe.check()
        browser.close()

    plan = db.session.scalar(select(Plan))
    db.session.refresh(plan)
    first, second = plan.versions[0].schedule["steps"], plan.versions[1].schedule["steps"]
    held, was = second[0], first[0]  # the step in force keeps its start and doses, and lasts 14 days longer
    assert (held["starts_on"], held["lines"], held["ome_mg_per_day"]) == (was["starts_on"], was["lines"],
                                                                         was["ome_mg_per_day"])
    assert date.fromisoformat(held["ends_on"]) == date.fromisoformat(was["ends_on"]) + timedelta(days=14)
    moved = [date.fromisoformat(step["starts_on"]) for step in second[1:]]
    assert moved == [date.fromisoformat(step["starts_on"]) + timedelta(days=14) for step in first[1:]]
    assert axe.problems == [], json.dumps(axe.problems, indent=2)
