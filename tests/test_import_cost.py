"""Starting Taper loads no PDF or plotting library (Taper issue 16): WeasyPrint and pypdf are imported only when
a document is drawn or joined, and nothing imports matplotlib, so a web worker or a `flask taper ...` command
starts without them. The checks run in a new Python process, whose imports are its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from taper import PROJECT_ROOT

REQUEST = {"start_on": "2027-01-04", "regimen": [{"product": "morphine-mr-tablet-12h",
                                                   "doses": [{"time": "08:00", "dose_mg": 60},
                                                             {"time": "20:00", "dose_mg": 60}]}]}
# Prints which of the heavy libraries are loaded after each stage: the app made with test settings, then
# taper.cli imported, then `flask taper schedule` run through the app, then a patient's plan (with its chart)
# drawn.
PROBE = """
import json, sys
from pathlib import Path

def loaded():
    return [name for name in ("weasyprint", "matplotlib", "pypdf") if name in sys.modules]

folder, request = Path(sys.argv[1]), sys.argv[2]
stages = {}
from taper import create_app
from tests.databases import settings_for

app = create_app(settings_for(f"sqlite:///{folder / 'taper.db'}", folder))
stages["app"] = loaded()
import taper.cli

stages["cli"] = loaded()
result = app.test_cli_runner().invoke(args=["taper", "schedule"], input=request)
assert result.exit_code == 0, result.output
stages["schedule"] = loaded()
from taper.documents.team_letters import render_patient_plan
from tests.documents.conftest import HEAD

assert render_patient_plan(HEAD, json.loads(result.output)).startswith(b"%PDF")
stages["document"] = loaded()
print(json.dumps(stages))
"""


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    folder: Path = tmp_path_factory.mktemp("import-cost")
    finished = subprocess.run([sys.executable, "-c", PROBE, str(folder), json.dumps(REQUEST)], cwd=PROJECT_ROOT,
                              capture_output=True, text=True, check=False, timeout=300)
    assert finished.returncode == 0, finished.stderr
    loaded: dict[str, list[str]] = json.loads(finished.stdout.splitlines()[-1])
    return loaded


def test_making_the_app_loads_no_pdf_or_plotting_library(stages: dict[str, list[str]]) -> None:
    assert stages["app"] == [] and stages["cli"] == []


def test_flask_taper_schedule_loads_no_pdf_or_plotting_library(stages: dict[str, list[str]]) -> None:
    assert stages["schedule"] == []


def test_drawing_a_patients_plan_with_its_chart_loads_weasyprint_but_never_matplotlib(
        stages: dict[str, list[str]]) -> None:
    assert stages["document"] == ["weasyprint"]
