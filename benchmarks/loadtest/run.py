"""The load test behind `make loadtest`: gunicorn (4 workers) on PostgreSQL at 127.0.0.1, filled by the synthetic
data generator, then locust's simulated pharmacists, GPs and community pharmacists for a bounded time.

Everything it starts, it stops: a throwaway database (dropped at the end), gunicorn and locust, each of which
is also sent SIGTERM by the kernel if this process dies, however it dies (PR_SET_PDEATHSIG). Sign-in limits are
those of production: counted in Redis (a database of its own, emptied first), per client address through one
trusted proxy, each simulated user with an address and an account of its own.

Settings (environment): LOADTEST_USERS (50), LOADTEST_SPAWN_RATE (5 a second), LOADTEST_RUN_TIME (90s),
LOADTEST_PATIENTS (20000) and LOADTEST_PLANS (3376), an integrated care system, with an account for every simulated
user (about 68 pharmacists, 100 GPs, 200 community pharmacists); LOADTEST_SERVER_URL, a PostgreSQL server to
make the throwaway database on (postgresql+psycopg://postgres@127.0.0.1:5432/test); LOADTEST_REDIS_URL
(redis://127.0.0.1:6379/14). Prints locust's table and a summary; exits 1 if any request failed.
"""

from __future__ import annotations

import csv
import ctypes
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.databases import migrated_database  # noqa: E402

BIN = Path(sys.executable).parent
SETTINGS = {"LOADTEST_USERS": "50", "LOADTEST_SPAWN_RATE": "5", "LOADTEST_RUN_TIME": "90s",
            "LOADTEST_PATIENTS": "20000", "LOADTEST_PLANS": "3376",
            "LOADTEST_SERVER_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
            "LOADTEST_REDIS_URL": "redis://127.0.0.1:6379/14"}
PR_SET_PDEATHSIG = 1


def setting(name: str) -> str:
    return os.environ.get(name) or SETTINGS[name]


def _die_with_parent() -> None:
    """In a child, before it runs: SIGTERM when the load test's process is gone."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop_on_signals() -> None:
    def stop(signum: int, frame: object) -> None:
        raise SystemExit(f"stopped by signal {signum}")
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)


@contextmanager
def started(command: list[str], environment: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
                                   preexec_fn=_die_with_parent, start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def flask(environment: dict[str, str], *arguments: str) -> str:
    return subprocess.run([str(BIN / "flask"), "--app", "wsgi", *arguments], cwd=ROOT, env=environment,
                          check=True, capture_output=True, text=True).stdout


def accounts_by_role(environment: dict[str, str], out: Path) -> dict[str, int]:
    """The synthetic accounts of each role, as a JSON file for the simulated users (one account each)."""
    script = ("import json, sys\n"
              "from taper import create_app\n"
              "from taper.extensions import db\n"
              "from taper.models import User\n"
              "with create_app().app_context():\n"
              "    found = {}\n"
              "    for user in db.session.scalars(db.select(User).where(User.active).order_by(User.id)):\n"
              "        found.setdefault(user.role.value, []).append(user.email)\n"
              "    json.dump(found, sys.stdout)\n")
    found = json.loads(subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=environment, check=True,
                                      capture_output=True, text=True).stdout)
    out.write_text(json.dumps(found), encoding="utf-8")
    return {role: len(emails) for role, emails in found.items()}


def wait_until_serving(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(240):
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer at {url}:\n{log.read_text()[-3000:]}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def summary(stats_csv: Path) -> tuple[int, list[str]]:
    """Failures in all, and one line per page: requests, failures, median and 95th percentile in ms."""
    lines, failures = [], 0
    with stats_csv.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            lines.append(f"{row['Type']:>6} {row['Name']:<34} {row['Request Count']:>7} {row['Failure Count']:>6} "
                         f"{row['50%']:>7} {row['95%']:>7} {row['99%']:>7}")
            if row["Name"] == "Aggregated":
                failures = int(row["Failure Count"])
    return failures, lines


def main() -> None:
    _stop_on_signals()
    password = secrets.token_urlsafe(18)
    os.environ["TAPER_DATABASE_URL"] = setting("LOADTEST_SERVER_URL")  # the server the database is made on
    with tempfile.TemporaryDirectory(prefix="taper-loadtest-") as folder, \
            migrated_database(Path(folder)) as database_url:
        work = Path(folder)
        redis.Redis.from_url(setting("LOADTEST_REDIS_URL")).flushdb()
        environment = {**os.environ, "TAPER_ENV": "development", "TAPER_DATABASE_URL": database_url,
                       "TAPER_INSTANCE_PATH": str(work), "TAPER_SECRET_KEY": secrets.token_urlsafe(48),
                       "TAPER_RATE_LIMIT_STORAGE_URL": setting("LOADTEST_REDIS_URL"), "TAPER_TRUSTED_PROXIES": "1"}
        environment.pop("TAPER_TODAY", None)
        started_at = time.perf_counter()
        flask(environment, "taper", "synthetic-data", "--patients", setting("LOADTEST_PATIENTS"),
              "--plans", setting("LOADTEST_PLANS"), "--password", password)
        print(f"synthetic data: {setting('LOADTEST_PATIENTS')} patients, {setting('LOADTEST_PLANS')} running plans "
              f"in {time.perf_counter() - started_at:.1f} s; accounts "
              f"{accounts_by_role(environment, work / 'accounts.json')}", flush=True)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        gunicorn = [str(BIN / "gunicorn"), "--workers", "4", "--bind", f"127.0.0.1:{port}", "--timeout", "30",
                    "wsgi:app"]
        with started(gunicorn, environment, work / "gunicorn.log") as server:
            wait_until_serving(base_url + "/login", server, work / "gunicorn.log")
            locust = [os.environ.get("LOADTEST_LOCUST") or str(ROOT / ".venv-loadtest" / "bin" / "locust"),
                      "-f", str(Path(__file__).with_name("locustfile.py")),
                      "--headless", "--users", setting("LOADTEST_USERS"), "--spawn-rate",
                      setting("LOADTEST_SPAWN_RATE"), "--run-time", setting("LOADTEST_RUN_TIME"), "--host", base_url,
                      "--csv", str(work / "results"), "--only-summary", "--stop-timeout", "10"]
            load = {**environment, "LOADTEST_ACCOUNTS": str(work / "accounts.json"), "LOADTEST_PASSWORD": password}
            with started(locust, load, work / "locust.log") as run:
                run.wait()
        failures, lines = summary(work / "results_stats.csv")
        print(f"{'':>6} {'page':<34} {'requests':>7} {'failed':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
        print("\n".join(lines))
        if failures:
            print((work / "results_failures.csv").read_text(encoding="utf-8"))
            print((work / "gunicorn.log").read_text(encoding="utf-8")[-3000:])
            raise SystemExit(f"{failures} requests failed")


if __name__ == "__main__":
    main()
