"""How long `flask taper synthetic-data` takes at the size of an integrated care system.

Builds a throwaway database at head (SQLite by default, PostgreSQL if TAPER_DATABASE_URL names a server), runs the
command end to end in its own process, as the load test does (BENCH_PATIENTS, default 20,000; BENCH_PLANS, default
3,376 running plans), and prints the wall time and what it wrote. Goal (issue 16): under two minutes on PostgreSQL.

    .venv/bin/python benchmarks/bench_synthetic_data.py                 # SQLite
    TAPER_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
        .venv/bin/python benchmarks/bench_synthetic_data.py             # PostgreSQL (the database is not written)
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.databases import migrated_database  # noqa: E402

PATIENTS = os.environ.get("BENCH_PATIENTS", "20000")
PLANS = os.environ.get("BENCH_PLANS", "3376")


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir, migrated_database(Path(workdir)) as url:
        environment = {**os.environ, "TAPER_ENV": "development", "TAPER_DATABASE_URL": url,
                       "TAPER_INSTANCE_PATH": workdir}
        environment.pop("TAPER_TODAY", None)
        started = time.perf_counter()
        result = subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "taper",
                                 "synthetic-data", "--patients", PATIENTS, "--plans", PLANS, "--password",
                                 secrets.token_urlsafe(18)], cwd=ROOT, env=environment, check=True,
                                capture_output=True, text=True)
        elapsed = time.perf_counter() - started
    print(f"flask taper synthetic-data --patients {PATIENTS} --plans {PLANS} "
          f"on {'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}: {elapsed:.1f} s end to end "
          f"(load average {os.getloadavg()[0]:.1f})")
    print("\n".join(line for line in result.stdout.splitlines() if "password" not in line), flush=True)


if __name__ == "__main__":
    main()
