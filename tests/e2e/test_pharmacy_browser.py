"""The community pharmacy's page in a real browser (Debian's chromium via Playwright, axe-core on each page,
issue 17): the whole instalment recorded in one form and a supply corrected; a plan revision appearing on "From
the clinic" with what changed; the clinic closing the pharmacy's concern with a note the pharmacy then sees."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from taper import clock
from taper.domain.organisations import OrganisationKind, Role
from taper.extensions import db
from taper.models import Concern, Supply
from taper.services import community_pharmacy, pharmacy_concerns, plans
from tests.conftest import PASSWORD, Maker
from tests.e2e.conftest import CHROMIUM_FLAGS, Accessibility

pytestmark = pytest.mark.e2e


def _browser(playwright, chromium_path: str):  # type: ignore[no-untyped-def]
    return playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)


def _signed_in(browser, live_server: str, email: str, axe_script: str):  # type: ignore[no-untyped-def]
    page = browser.new_context(bypass_csp=True).new_page()  # bypass_csp: axe is injected as a script
    page.goto(live_server + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return page, Accessibility(page, axe_script)


def test_the_pharmacy_records_a_whole_instalment_in_one_form_and_corrects_a_supply(
        live_server: str, make: Maker, chromium_path: str, axe_script: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    pharmacist = make.user(Role.PHARMACIST)
    pharmacy = make.organisation(OrganisationKind.COMMUNITY_PHARMACY, name="High Street Pharmacy")
    chemist = make.user(Role.COMMUNITY_PHARMACIST, pharmacy)
    patient = make.patient(pharmacist, pharmacy_id=pharmacy.id)
    plan = make.running_plan(pharmacist, patient, start_on=clock.today(), instalment_days=7)
    first = community_pharmacy.instalment_states(plan, patient)[0].instalment
    scheduled = {community_pharmacy.describe_item(each.product, each.strength, each.brand): each.quantity
                 for each in first.supplies}
    assert len(scheduled) >= 2

    with sync_playwright() as playwright:
        browser = _browser(playwright, chromium_path)
        counter, axe = _signed_in(browser, live_server, chemist.email, axe_script)
        counter.goto(f"{live_server}/pharmacy/patients/{patient.id}")
        expect(counter.get_by_role("heading", level=2).first).to_contain_text("Supply now: instalment 1")
        axe.check()
        for label, quantity in scheduled.items():  # every medicine on the one form, as the schedule has it
            expect(counter.get_by_label(label, exact=True)).to_have_value(str(quantity))
        counter.get_by_role("button", name="Record instalment 1").click()
        expect(counter.get_by_text(f"Instalment 1: {len(scheduled)} medicines recorded as supplied.")).to_be_visible()
        axe.check()
        counter.get_by_role("link", name="Correct the record of Morphine modified-release tablet 10 mg").click()
        expect(counter.get_by_role("heading", name="Correct a supply")).to_be_visible()
        axe.check()
        counter.get_by_label("Quantity really supplied").fill("12")
        counter.get_by_label("What was wrong with the record").fill("Two tablets short: owed")
        counter.get_by_role("button", name="Record the correction").click()
        expect(counter.get_by_text("Supply corrected")).to_be_visible()
        expect(counter.locator("#supplies + ul s")).to_have_count(1)
        axe.check()
        browser.close()

    db.session.expire_all()
    supplies = list(db.session.scalars(select(Supply).order_by(Supply.id)))
    assert len(supplies) == len(scheduled) + 1
    correction = supplies[-1]
    corrected = next(each for each in supplies if each.id == correction.corrects_id)
    assert (corrected.strength, corrected.quantity, correction.quantity) == (10, 14, 12)
    assert axe.problems == [], json.dumps(axe.problems, indent=2)


def test_a_revision_appears_on_the_pharmacys_page_and_a_closed_concern_shows_the_clinics_note(
        live_server: str, make: Maker, chromium_path: str, axe_script: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    pharmacist = make.user(Role.PHARMACIST)
    pharmacy = make.organisation(OrganisationKind.COMMUNITY_PHARMACY, name="High Street Pharmacy")
    chemist = make.user(Role.COMMUNITY_PHARMACIST, pharmacy)
    patient = make.patient(pharmacist, pharmacy_id=pharmacy.id)
    plan = make.running_plan(pharmacist, patient, start_on=clock.today(), instalment_days=7)
    plans.revise_running(by=pharmacist, plan_id=plan.id, expected_version=plan.version,
                         on=clock.today() + timedelta(days=2), hold_days=7, reason="Needs a rest")
    pharmacy_concerns.raise_concern(by=chemist, plan_id=plan.id, kind="withdrawal", detail="Yawning and sweating")
    db.session.commit()
    concern = db.session.scalar(select(Concern))

    with sync_playwright() as playwright:
        browser = _browser(playwright, chromium_path)
        counter, counter_axe = _signed_in(browser, live_server, chemist.email, axe_script)
        notices = counter.locator("#notices ~ ul.taper-revisions").first
        expect(notices).to_contain_text(f"plan {plan.id} revised, version 2")
        expect(notices).to_contain_text("What changed from version 1")
        expect(notices).to_contain_text("Step 1 held 7 more days")
        expect(notices.get_by_text("New", exact=True)).to_be_visible()
        counter_axe.check()
        counter.reload()  # seen: no longer new
        expect(counter.locator("#notices ~ ul.taper-revisions").first).to_contain_text(
            f"Seen by {chemist.full_name}")

        clinic, clinic_axe = _signed_in(browser, live_server, pharmacist.email, axe_script)
        clinic.locator("#concerns + ul").get_by_role("link", name="Close with a note").click()
        expect(clinic.get_by_role("heading", level=1)).to_contain_text("Concern from High Street Pharmacy")
        clinic_axe.check()
        clinic.get_by_role("button", name="Close the concern").click()
        expect(clinic.locator(".nhsuk-error-summary")).to_contain_text("Say what the clinic did")
        clinic_axe.check()
        clinic.get_by_label("What the clinic did").fill("Held the dose for a week")
        clinic.get_by_role("button", name="Close the concern").click()
        expect(clinic.locator("#status")).to_have_text("Closed")
        clinic_axe.check()

        counter.goto(f"{live_server}/pharmacy/patients/{patient.id}")
        expect(counter.locator("#concerns + ul")).to_contain_text("Held the dose for a week")
        expect(counter.locator("#notices + ul")).to_contain_text(f"Seen by {chemist.full_name}")
        counter_axe.check()
        browser.close()

    assert concern is not None
    problems = counter_axe.problems + clinic_axe.problems
    assert problems == [], json.dumps(problems, indent=2)
