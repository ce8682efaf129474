"""Every list page and every job at a given size of data (issue 16): SQL statements and time.

Makes a throwaway PostgreSQL database (on TAPER_DATABASE_URL's server, by default
postgresql+psycopg://postgres@127.0.0.1:5432/test) and fills it with `flask taper synthetic-data` (BENCH_PATIENTS,
default 20,000, and BENCH_PLANS, 3,376: an integrated care system). It runs every job twice (the second run finds
its work done), so that the pages show the worklist and messages the jobs make; then, through the Flask test
client, signs in as the pharmacist, GP and community pharmacist whose organisations hold the most patients and
opens each list page BENCH_RUNS times (default 30) after one warm-up, counting statements.
Goals: each page at most 40 statements and 150 ms median, 400 ms p95; each job under 5 s.

    .venv/bin/python benchmarks/bench_pages.py
"""

from __future__ import annotations

import contextvars
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import event, func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import load_settings  # noqa: E402
from taper import clock, create_app, jobs  # noqa: E402
from taper.domain.organisations import Role  # noqa: E402
from taper.extensions import db  # noqa: E402
from taper.models import AuditEvent, Patient, User  # noqa: E402
from tests.databases import migrated_database  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "30"))
PATIENTS = os.environ.get("BENCH_PATIENTS", "20000")
PLANS = os.environ.get("BENCH_PLANS", "3376")
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"  # unless TAPER_DATABASE_URL names another
SEARCH = "/patients/search"  # posted, with the form's CSRF token, so that no NHS number is in an address
PAGES = {
    Role.PHARMACIST: ["/", "/patients/", SEARCH, "/appointments", "/appointments/week", "/messages",
                      "/patients/{busiest_patient}/access"],
    Role.GP: ["/practice/", "/practice/patients"],
    Role.COMMUNITY_PHARMACIST: ["/pharmacy/", "/pharmacy/patients"],
}
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_BY_ROLE = {Role.PHARMACIST: Patient.clinic_id, Role.GP: Patient.gp_practice_id,
            Role.COMMUNITY_PHARMACIST: Patient.pharmacy_id}


def busiest_user(role: Role) -> User:
    """The first account of the organisation (of this role's kind) with the most patients."""
    column = _BY_ROLE[role]
    organisation = db.session.execute(select(column).where(column.is_not(None)).group_by(column).order_by(
        func.count().desc()).limit(1)).scalar()
    return db.session.scalars(select(User).where(User.role == role, User.organisation_id == organisation,
                                                 User.active).order_by(User.id)).first()  # type: ignore[return-value]


class IsolatedClient(FlaskClient):
    """Each request in an empty context, as in a real server (not in the benchmark's own app context, whose
    signed-in user and CSRF token Flask would otherwise reuse)."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        return contextvars.Context().run(super().open, *args, **kwargs)


def _csrf(client: FlaskClient, url: str) -> str:
    found = _CSRF.search(client.get(url).get_data(as_text=True))
    return found.group(1) if found else ""


def _load(client: FlaskClient, url: str) -> Any:
    if url == SEARCH:
        return client.post(url, data={"query": "smith", "csrf_token": _csrf(client, "/patients/")})
    return client.get(url)


def busiest_record(pharmacist: User) -> int | None:
    """The patient on this pharmacist's caseload with the longest access history (for its first page)."""
    return db.session.execute(select(AuditEvent.patient_id).join(Patient, Patient.id == AuditEvent.patient_id)
                              .where(Patient.clinic_id == pharmacist.organisation_id)
                              .group_by(AuditEvent.patient_id).order_by(func.count().desc()).limit(1)).scalar()


def timed_page(client: FlaskClient, url: str) -> tuple[list[float], int, int]:
    """Times in ms of RUNS loads after one warm-up, the statements of the last, and its status."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    _load(client, url)
    samples = []
    for _ in range(RUNS):
        token = _csrf(client, "/patients/") if url == SEARCH else ""
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", record)
        started = time.perf_counter()
        answer = client.post(url, data={"query": "smith", "csrf_token": token}) if url == SEARCH else client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        event.remove(db.engine, "before_cursor_execute", record)
    return samples, len(statements), answer.status_code


def main() -> None:
    password = secrets.token_urlsafe(18)
    os.environ.setdefault("TAPER_DATABASE_URL", SERVER)
    with tempfile.TemporaryDirectory() as workdir, migrated_database(Path(workdir)) as url:
        environment = {**os.environ, "TAPER_ENV": "development", "TAPER_DATABASE_URL": url}
        environment.pop("TAPER_TODAY", None)
        flask = [str(Path(sys.executable).parent / "flask"), "--app", "wsgi"]
        started = time.perf_counter()
        subprocess.run([*flask, "taper", "synthetic-data", "--patients", PATIENTS, "--plans", PLANS,
                        "--password", password], cwd=ROOT, env=environment, check=True, capture_output=True)
        print(f"synthetic data: {PATIENTS} patients, {PLANS} running plans in {time.perf_counter() - started:.1f} s")
        app = create_app(load_settings(environment))
        with app.app_context():
            # The jobs first, so that the pages show what a clinic's morning has: today's worklist and messages.
            print(f"{'job':<40}{'first run s':>12}{'again s':>9}  first run's result")
            for name in jobs.JOBS:
                times, results = [], []
                for _ in range(2):
                    started = time.perf_counter()
                    results.append(jobs.run(name))
                    db.session.commit()
                    times.append(time.perf_counter() - started)
                print(f"{name:<40}{times[0]:>12.2f}{times[1]:>9.2f}  {results[0]}")
            print(f"\n{'page':<40}{'statements':>11}{'median':>9}{'p95':>9}{'max':>9}  (ms, {RUNS} loads)")
            for role, pages in PAGES.items():
                user = busiest_user(role)
                busiest_patient = busiest_record(user)
                client = IsolatedClient(app)
                signed_in = client.post("/login", data={"email": user.email, "password": password,
                                                        "csrf_token": _csrf(client, "/login")})
                assert signed_in.status_code == 302, f"could not sign in as {user.email}"
                for page in pages:
                    address = page.format(busiest_patient=busiest_patient)
                    samples, statements, status = timed_page(client, address)
                    p95 = statistics.quantiles(samples, n=20)[-1]
                    print(f"{role.value + ' ' + address:<40}{statements:>11}{statistics.median(samples):>9.1f}"
                          f"{p95:>9.1f}{max(samples):>9.1f}" + ("" if status == 200 else f"  status {status}"))
            print(f"(clock: {clock.today().isoformat()})")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
