"""The repository stands on its own: no file in it points into the research folder outside it, which readers of
the repository do not have. The sources the code relies on are in docs/clinical-sources.md; cite those."""

from __future__ import annotations

import subprocess
from pathlib import Path

from taper import PROJECT_ROOT

FORBIDDEN = (b"shared/reference", b"../shared")
THIS_FILE = Path(__file__).resolve().relative_to(PROJECT_ROOT).as_posix()
LEFT_OUT = (".ci/",)  # CI's own scripts
# Without git (an exported copy), every file is read except what .gitignore keeps out of the repository.
NOT_IN_THE_REPOSITORY = {".git", ".venv", "node_modules", "instance", "__pycache__", ".pytest_cache", ".hypothesis",
                         ".ruff_cache", ".mypy_cache"}


def _repository_files() -> list[str]:
    """Tracked files and new files not yet added (unless ignored), so a new file is checked before its commit."""
    if (PROJECT_ROOT / ".git").exists():
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                cwd=PROJECT_ROOT, capture_output=True, check=True).stdout
        return sorted({name for name in listed.decode().split("\0") if name})
    return sorted(path.relative_to(PROJECT_ROOT).as_posix() for path in PROJECT_ROOT.rglob("*")
                  if path.is_file() and not NOT_IN_THE_REPOSITORY & set(path.relative_to(PROJECT_ROOT).parts))


def test_the_check_sees_the_repository() -> None:
    files = _repository_files()
    assert {"README.md", "docs/clinical-sources.md", "taper/domain/engine.py", THIS_FILE} <= set(files)


def test_no_file_points_outside_the_repository() -> None:
    offences = []
    for name in _repository_files():
        path = PROJECT_ROOT / name
        if name == THIS_FILE or name.startswith(LEFT_OUT) or not path.is_file():  # deleted, not yet committed
            continue
        for number, line in enumerate(path.read_bytes().splitlines(), start=1):
            if any(text in line for text in FORBIDDEN):
                offences.append(f"{name}:{number}: {line.decode(errors='replace').strip()}")
    assert offences == [], ("cite docs/clinical-sources.md (add the source there if it is missing), never the "
                            "research folder outside the repository:\n" + "\n".join(offences))
