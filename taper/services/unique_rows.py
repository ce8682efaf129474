"""Adding many rows that each carry a unique key (worklist items, outbox messages) in a few statements, skipping
keys already taken: so a job that runs twice, or beside another run of itself, adds nothing twice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from taper.extensions import db
from taper.models import Base


def insert_new(model: type[Base], rows: Sequence[Mapping[str, Any]], *, unique: str = "key") -> int:
    """Insert the rows whose `unique` value is not in the table yet; how many were inserted. One SELECT for the
    keys taken and one INSERT (a statement per thousand rows), whatever the number of rows; a key taken
    meanwhile by a concurrent run is skipped by the database (ON CONFLICT DO NOTHING, on SQLite and PostgreSQL).
    Column defaults apply as for the ORM. Flushes, never commits."""
    column = model.__table__.c[unique]
    wanted = [row[unique] for row in rows]
    taken = set(db.session.scalars(select(column).where(column.in_(wanted)))) if wanted else set()
    fresh = [row for row in rows if row[unique] not in taken]
    if not fresh:
        return 0
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model).on_conflict_do_nothing(index_elements=[unique]).returning(column)
    return len(db.session.connection().execute(statement, fresh).all())
