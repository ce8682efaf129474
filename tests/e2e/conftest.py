"""`make run` started for real, on a free port with its own instance folder, as a person would start it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from taper import PROJECT_ROOT
from tests.conftest import TODAY

STARTUP_SECONDS = 180
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"make run exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"make run did not serve {url} within {STARTUP_SECONDS} s:\n{log.read_text()}")


@dataclass(frozen=True)
class Running:
    """A `make run` server: its address, what it printed while starting, its instance folder, and the
    environment it runs in (for commands run beside it)."""

    base_url: str
    output: str
    instance: Path
    environment: dict[str, str]


@pytest.fixture(scope="session")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A `make run` server with demo data on SQLite (and its scheduler beside it)."""
    instance = tmp_path_factory.mktemp("make-run-instance")
    log = instance / "make-run.log"
    port = _free_port()
    environment = {name: value for name, value in os.environ.items()
                   if name not in {"TAPER_DATABASE_URL", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    # The server's clock starts on the suite's day at 10am, whatever the calendar says (TAPER_TODAY).
    environment |= {"TAPER_INSTANCE_PATH": str(instance), "TAPER_PORT": str(port),
                    "TAPER_TODAY": f"{TODAY.isoformat()}T10:00"}
    with log.open("wb") as output:
        process = subprocess.Popen(["make", "run"], cwd=PROJECT_ROOT, env=environment, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    watchdog = _stop_when_this_run_dies(process.pid)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(base_url + "/login", process, log)
        yield Running(base_url, log.read_text(), instance, environment)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        watchdog.wait(timeout=30)


# Kills the server's process group once the test run's process is gone, however it ended (even SIGKILL, when no
# fixture teardown runs): it polls for the parent, then sends SIGTERM, and SIGKILL to whatever is left.
_WATCHDOG = """
import os, signal, sys, time
parent, group = int(sys.argv[1]), int(sys.argv[2])
def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True
while alive(parent) and alive(group):
    time.sleep(0.5)
for sent in (signal.SIGTERM, signal.SIGKILL):
    try:
        os.killpg(group, sent)
    except OSError:
        sys.exit()
    for _ in range(50):
        try:
            os.killpg(group, 0)
        except OSError:
            sys.exit()
        time.sleep(0.1)
"""


def _stop_when_this_run_dies(group: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(group)], start_new_session=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's chromium; never a downloaded browser. Required in CI, skipped (with the reason) elsewhere."""
    path = os.environ.get("TAPER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs Debian's chromium package for the browser tests (apt-get install chromium)")
        pytest.skip("no chromium here: install Debian's chromium package to run the browser tests")
    return path


AXE_SCRIPT = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
# NHS.UK frontend's own accessibility rule set (docs/clinical-sources.md, NHS.UK frontend accessibility rules),
# failing on serious or critical.
AXE_TAGS = ["best-practice", "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture
def live_server(app):  # type: ignore[no-untyped-def]
    """The test app served on a free loopback port in a thread (a real HTTP server, a real database)."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def axe_script() -> str:
    if not AXE_SCRIPT.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs the npm package axe-core (make test runs npm ci)")
        pytest.skip("axe-core is not installed (npm ci): accessibility checks skipped")
    return AXE_SCRIPT.read_text()


def fill_patient_form(page, *, nhs_number: str, given: str, family: str, born: tuple[int, int, int],  # type: ignore[no-untyped-def]
                      practice: str) -> None:
    """Fill in the "Add a patient" form as a person would, by its labels (a female patient)."""
    page.get_by_label("NHS number").fill(nhs_number)
    page.get_by_label("First name").fill(given)
    page.get_by_label("Last name").fill(family)
    for label, value in zip(("Day", "Month", "Year"), born, strict=True):
        page.get_by_label(label).fill(str(value))
    page.get_by_label("Female").check()
    page.get_by_label("Registered GP practice").select_option(label=practice)


class Accessibility:
    """Runs axe-core on each page and keeps what it finds."""

    def __init__(self, page, script: str):  # type: ignore[no-untyped-def]
        self.page, self.script, self.problems = page, script, []

    def check(self) -> None:
        self.page.add_script_tag(content=self.script)
        result = self.page.evaluate(
            "async tags => await axe.run(document, {runOnly: {type: 'tag', values: tags},"
            " rules: {'color-contrast-enhanced': {enabled: false}, region: {enabled: false}}})", AXE_TAGS)
        for violation in result["violations"]:
            if violation["impact"] in ("serious", "critical"):
                targets = [node["target"] for node in violation["nodes"]]
                self.problems.append(f"{self.page.url}: {violation['id']} ({violation['impact']}) at {targets}")
