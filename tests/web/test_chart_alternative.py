"""The plan chart on the builder's preview and the plan page: an image whose text alternative says what it
shows (from what dose, to what dose, from which date), the same words as the SVG's own description, with the
step table beside it."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ElementTree

from flask.testing import FlaskClient

from taper.extensions import db
from taper.models import Patient, User
from taper.services import plans, regimens
from taper.services.regimens import RegimenEntry
from tests.conftest import MORPHINE_BD, TODAY, Maker, page_text, submit

OPENING = "Daily oral morphine equivalent (OME) falls from 120 mg a day before 2 December 2026 to 0 mg a day from "


def _patient(make: Maker, pharmacist: User) -> Patient:
    patient = make.patient(pharmacist)
    regimens.record_regimen(by=pharmacist, patient_id=patient.id, entry=RegimenEntry(lines=[MORPHINE_BD]))
    db.session.commit()
    return patient


def _chart_alt(page: str) -> str:
    match = re.search(r'<img class="taper-chart"[^>]* alt="([^"]*)"', page)
    assert match, "no chart on the page"
    return html.unescape(match.group(1))


def _last_step_starts(page: str) -> str:
    """The date the step table's last step starts ("... onwards")."""
    return re.findall(r"(\d{1,2} \w+ \d{4}) onwards", page)[-1]


def test_the_preview_chart_says_what_it_shows_beside_the_step_table(signed_in: FlaskClient, make: Maker,
                                                                    pharmacist: User) -> None:
    patient = _patient(make, pharmacist)
    page = page_text(submit(signed_in, f"/patients/{patient.id}/plans/new", {
        "start_on-day": str(TODAY.day), "start_on-month": str(TODAY.month), "start_on-year": str(TODAY.year),
        "reduction_pct": "10", "interval_days": "14", "basis": "starting", "target": "stop",
        "order-0": "morphine-mr-tablet-12h", "instalment_days": "14", "preview": "1"}))
    alt, steps = _chart_alt(page), page.count('class="nhsuk-table__cell taper-nowrap"')  # a step's dates
    assert alt.startswith(OPENING) and alt.endswith(f"{_last_step_starts(page)}, in {steps} steps.")
    assert 'id="steps"' in page


def test_the_plan_page_chart_says_what_its_svg_describes(signed_in: FlaskClient, make: Maker,
                                                         pharmacist: User) -> None:
    patient = _patient(make, pharmacist)
    plan = plans.create_draft(by=pharmacist, patient_id=patient.id, settings=plans.PlanSettings(start_on=TODAY))
    db.session.commit()
    page = page_text(signed_in.get(f"/plans/{plan.id}"))
    svg = ElementTree.fromstring(signed_in.get(f"/plans/{plan.id}/chart.svg").get_data(as_text=True))
    desc = svg.find("{http://www.w3.org/2000/svg}desc")
    assert svg.get("role") == "img" and desc is not None
    assert _chart_alt(page) == desc.text
    assert _chart_alt(page).startswith(OPENING) and _last_step_starts(page) in _chart_alt(page)
    assert 'id="steps"' in page
