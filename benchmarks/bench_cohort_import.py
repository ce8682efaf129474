"""How long a cohort import of a large extract takes (issue 18: 100,000 rows in under 20 s on PostgreSQL).

Writes a synthetic EMIS-style extract once (taper.services.synthetic.cohort_extract: about 30,000 patients, the
drug-and-dosage pairs repeated as real searches repeat them, a few broken rows), then, for each run, makes a
fresh database at head (SQLite by default, PostgreSQL if TAPER_DATABASE_URL names a server) with one pain
clinic, and times `flask taper import-cohort FILE` end to end in process (wall time, and this process's CPU time:
the database server's is not in it): reading and previewing the whole file,
confirming, and importing it in batches with a commit after each (the progress bar included). Then times the
same file imported again into that database (it adds nothing). Prints each run and the median.

    make bench                                          # 100,000 rows, 3 runs
    BENCH_COHORT_ROWS=20000 BENCH_COHORT_RUNS=5 .venv/bin/python benchmarks/bench_cohort_import.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from taper import create_app
from taper.domain.organisations import OrganisationKind
from taper.extensions import db
from taper.models import CohortImport, Patient, PracticeRecordLine, RecordedRegimen
from taper.services import accounts
from taper.services.synthetic.cohort_extract import write_extract
from tests.databases import ThrowawayDatabases, settings_for

ROWS = int(os.environ.get("BENCH_COHORT_ROWS", "100000"))
RUNS = int(os.environ.get("BENCH_COHORT_RUNS", "3"))
PRACTICES = [f"ZZB{number:02d}" for number in range(1, 41)]  # 40 practices, none known to Taper beforehand
GOAL_S = 20.0


def timed_import(databases: ThrowawayDatabases, workdir: Path,
                 extract: Path) -> tuple[float, float, dict[str, int]]:
    """Seconds for the first import and for the same file again, and what the first made (with this process's
    CPU time for it: on a shared machine, the part of the wall time that is ours)."""
    url = databases.migrated()
    app = create_app(settings_for(url, workdir))
    try:
        with app.app_context():
            accounts.create_organisation(by=None, kind=OrganisationKind.PAIN_CLINIC, name="Clinic", ods_code="ZZC99",
                                         phone="0113 496 0000")
            db.session.commit()
            runner = app.test_cli_runner()
            started, cpu_started = time.perf_counter(), time.process_time()
            first = runner.invoke(args=["taper", "import-cohort", str(extract)])
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            assert first.exit_code == 0, first.output
            started = time.perf_counter()
            again = runner.invoke(args=["taper", "import-cohort", str(extract)])
            again_s = time.perf_counter() - started
            assert again.exit_code == 0, again.output
            counts = {model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) or 0
                      for model in (Patient, PracticeRecordLine, RecordedRegimen)}
            result = db.session.scalar(select(CohortImport.result).order_by(CohortImport.id).limit(1)) or {}
            counts["rows_refused"] = result.get("rows_refused", 0)
            db.engine.dispose()
    finally:
        databases.drop(url)
    counts["python_cpu_ms"] = round(cpu * 1000)
    return elapsed, again_s, counts


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        extract = Path(workdir) / "extract.csv"
        patients = write_extract(extract, ROWS, seed=18, practices=PRACTICES, header_style="emis", broken_rows=20)
        databases = ThrowawayDatabases(Path(workdir))
        print(f"{databases.dialect}, {ROWS:,} rows ({patients:,} patients, {extract.stat().st_size / 1e6:.1f} MB), "
              f"{RUNS} runs: `flask taper import-cohort` end to end (preview, confirm, import)")
        totals, agains = [], []
        try:
            for run in range(1, RUNS + 1):
                elapsed, again_s, counts = timed_import(databases, Path(workdir), extract)
                totals.append(elapsed)
                agains.append(again_s)
                print(f"run {run}: {elapsed:6.2f} s; the same file again (adds nothing): {again_s:6.2f} s; "
                      + ", ".join(f"{name} {count:,}" for name, count in counts.items()))
        finally:
            databases.close()
        median = statistics.median(totals)
        print(f"median {median:.2f} s (min {min(totals):.2f}, max {max(totals):.2f}); re-import median "
              f"{statistics.median(agains):.2f} s; goal under {GOAL_S:.0f} s on PostgreSQL: "
              f"{'met' if median < GOAL_S else 'NOT met'}")


if __name__ == "__main__":
    main()
