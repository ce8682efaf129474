"""A GP's letters after a revision, in a real browser (Debian's chromium via Playwright, axe-core on each page):
the first letter shows as replaced by version 2 and is not counted as needing acknowledgement; its page points
to the current letter, which the GP acknowledges from its own page, and the inbox then has nothing to do."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from taper import clock
from taper.domain.organisations import OrganisationKind, Role
from taper.extensions import db
from taper.services import plans
from tests.conftest import PASSWORD, Maker
from tests.e2e.conftest import CHROMIUM_FLAGS, Accessibility

pytestmark = pytest.mark.e2e


def test_the_gp_sees_a_replaced_letter_and_acknowledges_the_current_one_from_its_page(
        live_server: str, make: Maker, chromium_path: str, axe_script: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    pharmacist = make.user(Role.PHARMACIST)
    practice = make.organisation(OrganisationKind.GP_PRACTICE, name="Riverside Surgery")
    gp = make.user(Role.GP, practice, email="gp@example.nhs.uk")
    patient = make.patient(pharmacist, gp_practice_id=practice.id)
    plan = make.running_plan(pharmacist, patient, start_on=clock.today())
    plans.revise_running(by=pharmacist, plan_id=plan.id, expected_version=plan.version,
                         on=clock.today() + timedelta(days=1), hold_days=7, reason="Hold a week: poor sleep")
    db.session.commit()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_context(bypass_csp=True).new_page()  # bypass_csp: axe is injected as a script
        axe = Accessibility(page, axe_script)
        page.goto(live_server + "/login")
        page.get_by_label("Email address").fill(gp.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()

        expect(page.get_by_role("heading", name="Plan letters")).to_be_visible()
        expect(page.locator("#to-acknowledge")).to_have_text("1 letter needs acknowledging.")
        first = page.locator("tr", has_text=f"plan {plan.number} version 1")
        expect(first).to_contain_text("Replaced by version 2")
        expect(first.get_by_role("button", name="Acknowledge")).to_have_count(0)
        axe.check()

        first.get_by_role("link", name="Letter page").click()
        expect(page.get_by_role("heading", name="Replaced by version 2")).to_be_visible()
        expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
        axe.check()
        page.get_by_role("link", name="Go to the current letter (version 2)").click()

        expect(page.get_by_role("heading", level=1)).to_contain_text(f"plan {plan.number} version 2")
        expect(page.get_by_text("Hold a week: poor sleep")).to_be_visible()
        pdf = page.get_by_role("link", name="Open the letter (PDF)").get_attribute("href") or ""
        assert pdf and page.request.get(live_server + pdf).body().startswith(b"%PDF")
        axe.check()
        page.get_by_role("button", name="Acknowledge").click()
        expect(page.get_by_text("Letter acknowledged: the clinic can see that you have it.")).to_be_visible()
        expect(page.locator("#letter-state")).to_have_text(f"Acknowledged by {gp.full_name}, 2 December 2026 at "
                                                           "10:00am", timeout=5000)
        axe.check()

        page.locator(".nhsuk-back-link").click()
        expect(page.locator("#to-acknowledge")).to_have_text("0 letters need acknowledging.")
        page.get_by_role("link", name="To acknowledge (0)").click()
        expect(page.get_by_text("No letters need acknowledging.")).to_be_visible()
        axe.check()
        browser.close()

    assert axe.problems == [], json.dumps(axe.problems, indent=2)
