"""Bulk writing for the synthetic data: rows inserted many at a time (SQLAlchemy Core executemany, ids read back
in order), and the audit events the services would have written, collected and inserted at the end."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import JSON, Column, Table, func, insert, select, text
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from taper.clock import CLINIC_TIMEZONE
from taper.extensions import db
from taper.models import AuditEvent, Base

# Every generated audit event says where it came from, so the trail never passes them off as real work.
ORIGIN = "synthetic-data"


@dataclass(frozen=True)
class Actor:
    """A synthetic user as an audit event names them (None in an event: the system)."""

    user_id: int
    email: str
    role: str
    full_name: str


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """That day and time in England."""
    return datetime.combine(day, time(hour, minute), CLINIC_TIMEZONE)


def _new_ids(table: Table, count: int) -> list[int]:
    """`count` ids no row of `table` has: drawn from its sequence on PostgreSQL; on SQLite, where this
    transaction is the only writer, the ones after the largest."""
    if db.session.get_bind().dialect.name == "postgresql":
        return list(db.session.scalars(text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                                            "FROM generate_series(1, :count)"), {"table": table.name, "count": count}))
    largest = db.session.scalar(select(func.max(table.c.id))) or 0
    return list(range(largest + 1, largest + count + 1))


def _insert_many(table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows that all have the same keys. PostgreSQL: one COPY (psycopg would otherwise send an INSERT a
    row), each value made ready by its column's own type as an INSERT would; SQLite: one executemany."""
    bind = db.session.connection()
    if bind.dialect.name != "postgresql":
        db.session.execute(insert(table), rows)
        return
    given = list(rows[0])
    # The columns' Python-side defaults (a session token, say), which COPY would not apply, called for each row.
    defaulted = [column for column in table.c if column.name not in given and isinstance(
        column.default, ScalarElementColumnDefault | CallableColumnDefault)]
    names = [*given, *(column.name for column in defaulted)]
    processors = [_dumps if isinstance(table.c[name].type, JSON) else table.c[name].type.bind_processor(bind.dialect)
                  for name in names]
    columns = ", ".join(f'"{name}"' for name in names)
    driver = bind.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            values = [row[name] for name in given] + [_default(column) for column in defaulted]
            copy.write_row([value if process is None else process(value)
                            for value, process in zip(values, processors, strict=True)])


def _dumps(value: Any) -> str:
    """A JSON column's value as SQLAlchemy's JSON type writes it (None as JSON null)."""
    return json.dumps(value)


def _default(column: Column[Any]) -> Any:
    default = column.default
    if isinstance(default, CallableColumnDefault):
        return default.arg(None)  # type: ignore[arg-type]
    assert isinstance(default, ScalarElementColumnDefault)
    return default.arg


class Writer:
    """Inserts rows in bulk and keeps the counts; audit events wait in `events` until `write_audit`."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.events: list[dict[str, Any]] = []

    def insert(self, model: type[Base], rows: list[dict[str, Any]]) -> list[int]:
        """Insert `rows` into the model's table; their new ids, in the order given. The ids are taken first
        (from the table's sequence on PostgreSQL), so the rows go in as one executemany with no RETURNING."""
        if not rows:
            return []
        table: Table = model.__table__  # type: ignore[assignment]
        ids = _new_ids(table, len(rows))
        for id, row in zip(ids, rows, strict=True):
            row["id"] = id
        _insert_many(table, rows)
        self.counts[table.name] += len(rows)
        return ids

    def insert_rows(self, model: type[Base], rows: list[dict[str, Any]]) -> None:
        """Insert rows of a table whose key is not an id of its own (a version's steps)."""
        if rows:
            _insert_many(model.__table__, rows)  # type: ignore[arg-type]
            self.counts[model.__tablename__] += len(rows)

    def audit(self, *, action: str, by: Actor | None, entity_type: str, entity_id: object, occurred_at: datetime,
              patient_id: int | None = None, changes: dict[str, Any] | None = None) -> None:
        """An audit event as `taper.services.audit.record` writes it, dated when the generated event happened."""
        self.events.append({
            "occurred_at": occurred_at, "actor_user_id": by.user_id if by else None,
            "actor_label": by.email if by else "system", "actor_role": by.role if by else None,
            "action": action, "entity_type": entity_type, "entity_id": str(entity_id), "patient_id": patient_id,
            "changes": changes, "origin": ORIGIN})

    def write_audit(self) -> None:
        self.events.sort(key=lambda event: event["occurred_at"])  # the trail reads in time order, as if lived
        self.insert_rows(AuditEvent, self.events)
        self.events = []
