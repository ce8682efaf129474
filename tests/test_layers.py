"""Dependencies point one way (STYLE.md): web, cli -> services -> models, domain; domain -> nothing of ours
above it and no framework. Checked on the import statements of every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from taper import PACKAGE_ROOT

FRAMEWORKS = ("flask", "flask_", "sqlalchemy", "weasyprint", "apscheduler", "wtforms", "alembic")
FORBIDDEN = {
    "domain": (*FRAMEWORKS, "taper.models", "taper.services", "taper.web", "taper.cli", "taper.extensions"),
    "models": ("taper.services", "taper.web", "taper.cli", "flask"),
    "services": ("taper.web", "taper.cli", "flask_login", "flask_wtf", "wtforms"),
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_nothing_above_it(layer: str) -> None:
    modules = sorted((PACKAGE_ROOT / layer).rglob("*.py"))
    assert modules
    offences = [f"{path.relative_to(PACKAGE_ROOT)} imports {name}" for path in modules for name in _imports(path)
                if name.startswith(FORBIDDEN[layer])]
    assert offences == []
