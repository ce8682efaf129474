"""What the document tests share: one plan request, its letterhead, and its stored schedule document."""

from __future__ import annotations

import json
from datetime import date

import pytest

from taper.documents.letterhead import Letterhead
from taper.domain.formulary import load_formulary
from taper.domain.schedule_contract import schedule_from_request

# Tablets in two strengths (morphine MR 55 mg = 30 + 15 + 10), an MR twice-daily line, a PRN line and a patch.
REQUEST = {
    "start_on": "2027-01-04",
    "regimen": [
        {"product": "morphine-mr-tablet-12h",
         "doses": [{"time": "08:00", "dose_mg": 60}, {"time": "20:00", "dose_mg": 60}]},
        {"product": "oxycodone-ir-capsule", "prn": {"dose_mg": 5, "usual_per_day": 2, "max_per_day": 4}},
        {"product": "fentanyl-patch-72h", "patch_mcg_per_hour": 25},
    ],
}
HEAD = Letterhead(patient_name="Ada Lovelace", nhs_number="943 476 5919", born="1960-12-10", plan_id=7,
                  plan_version=1, generated_on=date(2027, 1, 1), pharmacy_name="High Street Pharmacy",
                  pharmacy_ods_code="FA123", clinic_name="Community Pain Service", clinic_contact="0113 496 0000")


@pytest.fixture(scope="module")
def schedule() -> dict[str, object]:
    """The schedule document as stored (through real JSON text)."""
    return json.loads(json.dumps(schedule_from_request(REQUEST, load_formulary())))
