"""The audit trail is append-only in the database itself (issue 15, item 7): on both databases raw SQL can add
rows but not change or delete them (triggers); on PostgreSQL the privileges to UPDATE, DELETE and TRUNCATE are
revoked from PUBLIC and from the role that ran the migrations, and given back on downgrade."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError, ProgrammingError
from sqlalchemy.pool import NullPool

from taper import PROJECT_ROOT, create_app
from taper.extensions import db
from tests.conftest import Maker
from tests.databases import ThrowawayDatabases, settings_for

MIGRATIONS = str(PROJECT_ROOT / "migrations")
BEFORE = "e5b2c9d4a1f7"  # the revision before the REVOKE
INSERT = text("INSERT INTO audit_events (occurred_at, actor_label, action, entity_type) "
              "VALUES (CURRENT_TIMESTAMP, 'system', 'test', 'test')")


def _count() -> int:
    return db.session.scalar(text("SELECT count(*) FROM audit_events")) or 0


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET actor_label = 'someone else'",
                                       "DELETE FROM audit_events"])
def test_raw_sql_cannot_change_or_delete_audit_rows_but_can_add_them(app: Flask, make: Maker,
                                                                     statement: str) -> None:
    make.user()  # writes audit rows
    before = _count()
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert _count() == before
    db.session.execute(INSERT)
    db.session.commit()
    assert _count() == before + 1


@pytest.fixture
def owned_by_a_plain_role(databases: ThrowawayDatabases, tmp_path: Path) -> Iterator[Flask]:
    """An empty PostgreSQL database owned by a role that is not a superuser (as in production, where privileges
    count), with an app connected as that role."""
    if databases.dialect != "postgresql":
        pytest.skip("SQLite has no roles or privileges; the triggers above are its protection")
    url = databases.empty()
    role = f"{make_url(url).database}_owner"
    assert databases.server is not None
    admin = create_engine(databases.server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER'))
        connection.execute(text(f'ALTER DATABASE "{make_url(url).database}" OWNER TO "{role}"'))
    application = create_app(settings_for(make_url(url).set(username=role).render_as_string(hide_password=False),
                                          tmp_path))
    try:
        with application.app_context():
            yield application
            db.session.remove()
            db.engine.dispose()
    finally:
        databases.drop(url)
        with admin.connect() as connection:
            connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


def _may(privilege: str) -> bool:
    return bool(db.session.scalar(text("SELECT has_table_privilege('audit_events', :privilege)"),
                                  {"privilege": privilege}))


def _granted_to_public() -> set[str]:
    return set(db.session.scalars(text("SELECT privilege_type FROM information_schema.role_table_grants "
                                       "WHERE table_name = 'audit_events' AND grantee = 'PUBLIC'")))


def test_the_migrating_role_and_public_lose_update_delete_and_truncate(owned_by_a_plain_role: Flask) -> None:
    upgrade(directory=MIGRATIONS, revision=BEFORE)
    db.session.execute(text("GRANT UPDATE, DELETE, TRUNCATE, SELECT ON audit_events TO PUBLIC"))  # a lax set-up
    db.session.commit()
    assert {"UPDATE", "DELETE", "TRUNCATE"} <= _granted_to_public()
    assert all(_may(privilege) for privilege in ("UPDATE", "DELETE", "TRUNCATE"))
    db.session.remove()

    upgrade(directory=MIGRATIONS)
    assert _granted_to_public() == {"SELECT"}
    assert not any(_may(privilege) for privilege in ("UPDATE", "DELETE", "TRUNCATE"))
    assert _may("INSERT") and _may("SELECT")
    for statement in ("UPDATE audit_events SET actor_label = 'x'", "DELETE FROM audit_events",
                      "TRUNCATE audit_events"):
        with pytest.raises(ProgrammingError, match="permission denied"):
            db.session.execute(text(statement))
        db.session.rollback()
    db.session.execute(INSERT)
    db.session.commit()
    assert _count() == 1
    db.session.remove()

    downgrade(directory=MIGRATIONS, revision=BEFORE)
    assert all(_may(privilege) for privilege in ("UPDATE", "DELETE", "TRUNCATE"))

