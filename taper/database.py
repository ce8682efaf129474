"""Database connection settings that SQLAlchemy does not apply by itself."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")  # SQLite ignores foreign keys unless asked
        cursor.execute("PRAGMA busy_timeout = 5000")  # web server and scheduler share one file
        cursor.close()


def init_app(app: Flask) -> None:
    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)


# Tables that other libraries create for themselves (APScheduler's job store) are not ours to migrate.
FOREIGN_TABLE_PREFIXES = ("apscheduler_",)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic filter: compare and autogenerate only Taper's own tables."""
    if type_ == "table":
        return not (name or "").startswith(FOREIGN_TABLE_PREFIXES)
    return True
