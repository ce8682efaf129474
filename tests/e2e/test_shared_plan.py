"""One plan, three organisations, in a real browser (Debian's chromium via Playwright, axe-core on each page):
the pharmacist starts a plan; the GP finds the letter in the inbox, opens and acknowledges it; the community
pharmacist sees the first instalment due, records the supply and flags an early request; the pharmacist sees
the acknowledgement and the flag."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from taper import clock
from taper.domain.organisations import OrganisationKind, Role
from taper.extensions import db
from taper.models import Plan, Supply
from taper.services import plans, regimens
from taper.services.regimens import RegimenEntry
from tests.conftest import PASSWORD, Maker
from tests.e2e.conftest import CHROMIUM_FLAGS, Accessibility

pytestmark = pytest.mark.e2e


def test_the_gp_and_the_pharmacy_work_from_the_plan_the_pharmacist_started(live_server: str, make: Maker,
                                                                           chromium_path: str,
                                                                           axe_script: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    pharmacist = make.user(Role.PHARMACIST, email="clinic@example.nhs.uk")
    practice = make.organisation(OrganisationKind.GP_PRACTICE, name="Riverside Surgery")
    pharmacy = make.organisation(OrganisationKind.COMMUNITY_PHARMACY, name="High Street Pharmacy")
    gp = make.user(Role.GP, practice, email="gp@example.nhs.uk")
    chemist = make.user(Role.COMMUNITY_PHARMACIST, pharmacy, email="chemist@example.nhs.uk")
    patient = make.patient(pharmacist, gp_practice_id=practice.id, pharmacy_id=pharmacy.id)
    regimens.record_regimen(by=pharmacist, patient_id=patient.id, entry=RegimenEntry(lines=[
        {"product": "morphine-mr-tablet-12h", "doses": [{"time": "08:00", "dose_mg": 60},
                                                        {"time": "20:00", "dose_mg": 60}]}]))
    draft = plans.create_draft(by=pharmacist, patient_id=patient.id,
                               settings=plans.PlanSettings(start_on=clock.today(), instalment_days=7))
    plans.record_decision(by=pharmacist, plan_id=draft.id, decision=plans.Decision(
        what_matters="Gardening", goals="Less medicine", agreed_pace="10% every 2 weeks", prescriber="gp",
        consent_share_with_gp=True, consent_share_with_pharmacy=True, agreed_on=clock.today()))
    db.session.commit()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)

        def signed_in(email: str):  # type: ignore[no-untyped-def]
            page = browser.new_context(bypass_csp=True).new_page()  # bypass_csp: axe is injected as a script
            page.goto(live_server + "/login")
            page.get_by_label("Email address").fill(email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            return page, Accessibility(page, axe_script)

        clinic, clinic_axe = signed_in(pharmacist.email)
        clinic.goto(f"{live_server}/plans/{draft.id}")
        clinic.get_by_label("Start or resume").check()
        clinic.get_by_role("button", name="Change status").click()
        expect(clinic.locator("#status")).to_have_text("Active")

        surgery, surgery_axe = signed_in(gp.email)
        expect(surgery.get_by_role("heading", name="Plan letters")).to_be_visible()
        surgery_axe.check()
        letter = surgery.get_by_role("link", name=f"New plan: plan {draft.number} version 1 (PDF)")
        opened = surgery.request.get(live_server + letter.get_attribute("href"))  # as the browser would fetch it
        assert opened.headers["content-type"] == "application/pdf" and opened.body().startswith(b"%PDF")
        surgery.reload()
        expect(surgery.get_by_text("Read, not acknowledged")).to_be_visible()
        surgery.get_by_role("button", name="Acknowledge").click()
        expect(surgery.get_by_text("Letter acknowledged")).to_be_visible()
        surgery_axe.check()
        surgery.get_by_role("link", name="Patients with plans", exact=True).click()
        surgery.get_by_role("link", name="LOVELACE, Ada").click()
        expect(surgery.get_by_role("heading", name="Prescriptions due")).to_be_visible()
        surgery_axe.check()

        counter, counter_axe = signed_in(chemist.email)
        expect(counter.get_by_role("heading", name="Due this week")).to_be_visible()
        expect(counter.locator("table")).to_contain_text("LOVELACE, Ada")
        counter_axe.check()
        counter.get_by_role("link", name="LOVELACE, Ada").click()
        counter_axe.check()
        # 55 mg twice a day: a 10 each, the whole instalment pre-filled from the schedule on one form
        expect(counter.get_by_label("Morphine modified-release tablet 10 mg")).to_have_value("14")
        counter.get_by_role("button", name="Record instalment 1").click()
        expect(counter.get_by_text("recorded as supplied")).to_be_visible()
        counter.get_by_text("Tell the clinic about a concern").click()
        counter.get_by_label("Asked for an early or extra supply").check()
        counter.get_by_label("What happened").fill("Asked for next week's tablets today")
        counter.get_by_role("button", name="Send to the clinic").click()
        expect(counter.get_by_text("Concern sent to the clinic")).to_be_visible()
        counter_axe.check()

        clinic.goto(live_server + "/")
        expect(clinic.locator("#concerns + ul")).to_contain_text("Asked for next week's tablets today")
        clinic_axe.check()
        clinic.goto(f"{live_server}/plans/{draft.id}")
        expect(clinic.locator("#shared + ul")).to_contain_text(f"acknowledged by {gp.full_name}")
        clinic_axe.check()
        clinic.goto(f"{live_server}/patients/{patient.id}/access")
        expect(clinic.locator("table")).to_contain_text(gp.email)
        clinic_axe.check()
        browser.close()

    db.session.expire_all()
    supply = db.session.scalar(select(Supply).where(Supply.strength == 10))
    assert (supply.quantity, supply.instalment, supply.plan_id) == (14, 1, draft.id)
    assert db.session.get(Plan, draft.id).status.value == "active"
    problems = clinic_axe.problems + surgery_axe.problems + counter_axe.problems
    assert problems == [], json.dumps(problems, indent=2)
