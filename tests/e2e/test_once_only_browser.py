"""Once only and the session timeout warning, in a real browser (Debian's chromium via Playwright)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from taper.extensions import db
from taper.models import FollowUp, Plan
from tests.conftest import PASSWORD, TODAY, Maker
from tests.e2e.conftest import CHROMIUM_FLAGS

pytestmark = pytest.mark.e2e


def _sign_in(page, base_url: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_back_and_save_again_leaves_one_follow_up_and_one_new_version(live_server: str, make: Maker,
                                                                     chromium_path: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    pharmacist = make.user(email="clinic@example.nhs.uk")
    plan = make.running_plan(pharmacist, make.patient(pharmacist), start_on=TODAY)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        _sign_in(page, live_server, pharmacist.email)
        page.goto(f"{live_server}/plans/{plan.id}/follow-ups/new")
        page.get_by_label("Phone", exact=True).check()
        page.locator("#duration_minutes").fill("20")
        page.locator("#dose_taken").fill("As the plan says")
        for item in ("pain", "enjoyment", "activity"):
            page.locator(f"#peg_{item}").fill("5")
        page.locator("#notes").fill("Sleeping badly")
        page.get_by_label("Hold the current step for some days").check()
        page.locator("#hold_days").fill("7")
        page.get_by_role("button", name="Save follow-up").click()
        expect(page.get_by_text("Follow-up recorded.")).to_be_visible()

        page.go_back()
        expect(page.locator("#notes")).to_have_value("Sleeping badly")  # the browser filled it in again
        page.get_by_role("button", name="Save follow-up").click()
        expect(page.get_by_text("This was already saved at")).to_be_visible()
        expect(page.get_by_text("Nothing was changed.")).to_be_visible()
        browser.close()
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 1
    assert db.session.get(Plan, plan.id).current.number == 2


def test_the_session_timeout_warning_offers_to_stay_signed_in(live_server: str, make: Maker,
                                                             chromium_path: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    pharmacist = make.user(email="clinic@example.nhs.uk")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        page.clock.install()
        _sign_in(page, live_server, pharmacist.email)
        dialog = page.locator("dialog[data-session-timeout]")
        idle = int(dialog.get_attribute("data-idle-seconds") or 0)
        warn = int(dialog.get_attribute("data-warn-seconds") or 0)
        expect(dialog).to_be_hidden()
        page.clock.run_for((idle - warn - 5) * 1000)
        expect(dialog).to_be_hidden()
        page.clock.run_for(10_000)
        expect(dialog).to_be_visible()
        expect(dialog.get_by_role("heading")).to_have_text("You're about to be signed out")
        with page.expect_response(lambda response: response.url.endswith("/session/keep-alive")) as pinged:
            dialog.get_by_role("button", name="Stay signed in").click()
        assert pinged.value.status == 204
        expect(dialog).to_be_hidden()
        page.clock.run_for((idle - warn - 5) * 1000)
        expect(dialog).to_be_hidden()  # the idle time started again
        page.clock.run_for((warn + 10) * 1000)
        expect(dialog.get_by_text("You have been signed out")).to_be_visible()
        browser.close()
