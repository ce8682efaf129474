"""The migration tests' app: on a database with no tables at all, for the migrations to build."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from taper import create_app
from taper.extensions import db
from tests.databases import ThrowawayDatabases, settings_for


@pytest.fixture
def empty_app(databases: ThrowawayDatabases, tmp_path: Path) -> Iterator[Flask]:
    url = databases.empty()
    application = create_app(settings_for(url, tmp_path))
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()
    databases.drop(url)
