"""The plan pages in a real browser (Debian's chromium, axe on each page): the steps table at 375 px wide with
nothing wider than the screen and today's step marked; the plan printed without navigation, buttons or forms;
Preview lands on the result; a draft changed and deleted."""

from __future__ import annotations

from datetime import timedelta

import pytest

from taper import clock
from taper.domain.organisations import Role
from taper.extensions import db
from taper.services import plans, regimens
from taper.services.regimens import RegimenEntry
from tests.conftest import MORPHINE_BD, PASSWORD, Maker
from tests.e2e.conftest import CHROMIUM_FLAGS, Accessibility

pytestmark = pytest.mark.e2e

WIDER_THAN_THE_SCREEN = """() => [...document.querySelectorAll('body *')]
    .filter(element => element.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
    .map(element => element.tagName + (element.id ? '#' + element.id : '') + '.' + element.className)"""


def test_the_plan_pages_at_375_px(live_server: str, make: Maker, chromium_path: str, axe_script: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    pharmacist = make.user(Role.PHARMACIST, email="clinic@example.nhs.uk")
    running = make.running_plan(pharmacist, make.patient(pharmacist), start_on=clock.today() - timedelta(days=7))
    patient = make.patient(pharmacist, given_name="Grace", family_name="Hopper")
    regimens.record_regimen(by=pharmacist, patient_id=patient.id, entry=RegimenEntry(lines=[
        MORPHINE_BD, {"product": "oxycodone-ir-capsule", "prn": {"dose_mg": 5, "usual_per_day": 2, "max_per_day": 4}}]))
    draft = plans.create_draft(by=pharmacist, patient_id=patient.id,
                               settings=plans.PlanSettings(start_on=clock.today()))
    db.session.commit()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_context(bypass_csp=True, viewport={"width": 375, "height": 740}).new_page()
        axe = Accessibility(page, axe_script)
        page.goto(live_server + "/login")
        page.get_by_label("Email address").fill(pharmacist.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()

        page.goto(f"{live_server}/plans/{running.id}")
        today = page.locator('#steps tr[aria-current="date"]')
        expect(today).to_have_count(1)
        expect(today).to_contain_text("Step 1 Today")
        assert page.evaluate(WIDER_THAN_THE_SCREEN) == []
        axe.check()
        page.emulate_media(media="print")  # printed: the steps and key facts, no navigation, buttons or forms
        expect(page.locator("#steps")).to_be_visible()
        expect(page.get_by_role("heading", name="Tapering plan 1")).to_be_visible()
        for hidden in (page.locator("header.nhsuk-header"), page.get_by_role("button", name="Change status"),
                       page.get_by_role("link", name="Print all three (one PDF)")):
            expect(hidden).to_be_hidden()
        page.emulate_media(media="screen")

        page.goto(f"{live_server}/plans/{draft.id}")
        page.get_by_role("link", name="Change this draft").click()
        expect(page.get_by_role("heading", name="Change draft plan 1")).to_be_visible()
        page.get_by_label("Every (days)").fill("28")
        page.get_by_role("button", name="Preview").click()
        result = page.locator("#result")
        expect(result).to_be_in_viewport()  # the answer opens at the schedule, not at the top of the form
        assert page.evaluate("window.scrollY") > 1000
        assert page.evaluate(WIDER_THAN_THE_SCREEN) == []
        axe.check()
        page.get_by_role("button", name="Save changes to the draft").click()
        expect(page.get_by_text("Draft plan 1 changed.")).to_be_visible()
        axe.check()

        page.get_by_role("link", name="Delete this draft").click()
        expect(page.get_by_role("heading", name="Delete draft plan 1?")).to_be_visible()
        axe.check()
        page.get_by_role("button", name="Yes, delete this draft").click()
        expect(page.get_by_text("Draft plan 1 deleted.")).to_be_visible()
        browser.close()
    assert axe.problems == []
