"""The test suite cleans up after runs that were killed: their databases and roles go at the next start."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import text

from tests.databases import ThrowawayDatabases, _process_exists


def test_a_killed_runs_role_is_dropped_at_the_next_sweep(databases: ThrowawayDatabases) -> None:
    if databases.server is None:
        pytest.skip("roles are PostgreSQL's: SQLite's throwaway databases are files in a temporary folder")
    dead = next(pid for pid in itertools.count(4_000_000) if not _process_exists(pid))
    role = f"taper_test_{dead}_1_owner"
    with databases._admin() as connection:
        connection.execute(text(f'CREATE ROLE "{role}" NOLOGIN'))
    databases.sweep_abandoned()
    with databases._admin() as connection:
        left = connection.execute(text("SELECT count(*) FROM pg_roles WHERE rolname = :role"), {"role": role})
        assert left.scalar_one() == 0
