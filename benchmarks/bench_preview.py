"""How fast the plan builder's preview answers, how fast its chart is drawn, and how long `flask taper schedule`
takes from the shell (Taper issue 16).

Three measures: the daily OME chart alone (`taper.documents.chart.ome_chart_svg`, the schedule of
docs/schedule-api.md's example request, 10 steps); the builder's Preview (a POST of the builder form: engine,
chart and page) through the app's test client on SQLite (or the PostgreSQL server TAPER_DATABASE_URL names),
signed in as a clinic pharmacist; and `flask --app wsgi taper schedule < request.json` end to end, a new
process each time (start-up, imports, the engine, JSON out). Prints median, p10 and p90 in ms. Goals: the
chart under 50 ms, the preview under 100 ms median, the command under 1.5 s.

    make bench
    BENCH_RUNS=100 BENCH_COMMAND_RUNS=5 .venv/bin/python benchmarks/bench_preview.py
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from taper import clock, create_app
from taper.documents.chart import ome_chart_svg
from taper.domain.formulary import load_formulary
from taper.domain.organisations import OrganisationKind, Role
from taper.domain.patients import Sex
from taper.domain.schedule_contract import schedule_from_request
from taper.extensions import db
from taper.services import accounts, patients, regimens
from taper.services.patients import PatientDetails
from taper.services.regimens import RegimenEntry
from tests.databases import ThrowawayDatabases, settings_for

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_RUNS", "300"))
PREVIEW_RUNS = int(os.environ.get("BENCH_PREVIEW_RUNS", "50"))
COMMAND_RUNS = int(os.environ.get("BENCH_COMMAND_RUNS", "10"))
PASSWORD = "benchmark passphrase"
REQUEST = {  # docs/schedule-api.md's example request
    "start_on": "2027-01-04",
    "regimen": [
        {"product": "morphine-mr-tablet-12h", "brand": "MST Continus",
         "doses": [{"time": "08:00", "dose_mg": 60}, {"time": "20:00", "dose_mg": 60}]},
        {"product": "oxycodone-ir-capsule", "prn": {"dose_mg": 5, "usual_per_day": 2, "max_per_day": 4}},
        {"product": "fentanyl-patch-72h", "brand": "Matrifen", "patch_mcg_per_hour": 25}],
    "policy": {"reduction_pct": 10, "interval_days": 14, "basis": "starting", "target_ome_mg_per_day": 0,
               "order": ["oxycodone-ir-capsule", "morphine-mr-tablet-12h", "fentanyl-patch-72h"],
               "larger_dose_at": "20:00", "max_patches": 2, "tail": True},
    "holds": [{"step": 3, "extra_days": 14}],
    "factor_set": "fpm-2020",
}
# The builder's regimen: morphine MR twice a day and oxycodone capsules when needed.
BUILDER_REGIMEN: list[dict[str, Any]] = [
    {"product": "morphine-mr-tablet-12h",
     "doses": [{"time": "08:00", "dose_mg": 60}, {"time": "20:00", "dose_mg": 60}]},
    {"product": "oxycodone-ir-capsule", "prn": {"dose_mg": 5, "usual_per_day": 2, "max_per_day": 4}}]
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def timed(action: Callable[[], object], runs: int, *, warm_up: int = 5) -> list[float]:
    """`runs` timings of `action` in ms, after `warm_up` untimed runs."""
    for _ in range(warm_up):
        action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> str:
    deciles = statistics.quantiles(samples, n=10)
    return f"{statistics.median(samples):>9.2f}{deciles[0]:>9.2f}{deciles[-1]:>9.2f}"


def chart() -> list[float]:
    schedule = json.loads(json.dumps(schedule_from_request(REQUEST, load_formulary())))
    return timed(lambda: ome_chart_svg(schedule), RUNS)


def preview() -> tuple[str, list[float]]:
    """POST the builder form with Preview, as the button and the live preview do; every answer checked. The
    database's dialect and the timings."""
    with tempfile.TemporaryDirectory() as workdir:
        databases = ThrowawayDatabases(Path(workdir))
        url = databases.migrated()
        app = create_app(settings_for(url, Path(workdir)))
        try:
            with app.app_context():
                clinic = accounts.create_organisation(by=None, kind=OrganisationKind.PAIN_CLINIC, name="Clinic",
                                                      ods_code="ZZC98", phone="0113 496 0000")
                practice = accounts.create_organisation(by=None, kind=OrganisationKind.GP_PRACTICE, name="Practice",
                                                        ods_code="ZZG98")
                pharmacist = accounts.create_user(by=None, email="bench@example.nhs.uk", full_name="Bench",
                                                  role=Role.PHARMACIST, organisation_id=clinic.id, password=PASSWORD)
                patient = patients.create_patient(by=pharmacist, details=PatientDetails(
                    nhs_number="9434765919", given_name="Ada", family_name="Lovelace",
                    date_of_birth=date(1960, 12, 10), sex=Sex.FEMALE, gp_practice_id=practice.id,
                    pharmacy_id=None))
                regimens.record_regimen(by=pharmacist, patient_id=patient.id,
                                        entry=RegimenEntry(lines=BUILDER_REGIMEN))
                db.session.commit()
                builder = f"/patients/{patient.id}/plans/new"
            client = app.test_client()
            signed_in = client.post("/login", data={"csrf_token": _token(client, "/login"),
                                                    "email": "bench@example.nhs.uk", "password": PASSWORD})
            assert signed_in.status_code == 302
            today = clock.today()
            form = {"csrf_token": _token(client, builder), "preview": "1", "start_on-day": str(today.day),
                    "start_on-month": str(today.month), "start_on-year": str(today.year), "reduction_pct": "10",
                    "interval_days": "14", "basis": "starting", "target": "stop",
                    "order-0": "oxycodone-ir-capsule", "order-1": "morphine-mr-tablet-12h",
                    "order_reason": "Rescue doses first", "instalment_days": "14"}

            def post() -> None:
                response = client.post(builder, data=form)
                assert response.status_code == 200 and b'id="preview"' in response.data, response.status_code

            samples = timed(post, PREVIEW_RUNS)
            with app.app_context():
                db.engine.dispose()
            return databases.dialect, samples
        finally:
            databases.drop(url)
            databases.close()


def command() -> list[float]:
    """`flask --app wsgi taper schedule < request.json`, a new process each run (its own instance folder)."""
    request = json.dumps(REQUEST).encode()
    flask = Path(sys.executable).with_name("flask")
    with tempfile.TemporaryDirectory() as instance:
        environment = {**os.environ, "TAPER_INSTANCE_PATH": instance}

        def run() -> None:
            subprocess.run([str(flask), "--app", "wsgi", "taper", "schedule"], input=request, cwd=ROOT,
                           env=environment, check=True, capture_output=True)

        samples = timed(run, COMMAND_RUNS, warm_up=1)
    return samples


def _token(client: FlaskClient, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    match = _CSRF.search(page)
    assert match, f"no CSRF token at {url}"
    return match.group(1)


def main() -> None:
    print(f"{'case (ms)':<44}{'median':>9}{'p10':>9}{'p90':>9}")
    print(f"{f'chart alone, 10 steps ({RUNS} runs)':<44}{summary(chart())}")
    dialect, samples = preview()
    print(f"{f'builder preview, {dialect} ({PREVIEW_RUNS} runs)':<44}{summary(samples)}")
    print(f"{f'flask taper schedule ({COMMAND_RUNS} runs)':<44}{summary(command())}")


if __name__ == "__main__":
    main()
