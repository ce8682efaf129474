"""Counting the SQL statements a page or a job runs, to show that it does not grow with the data (Taper issue 16)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from taper.extensions import db


@dataclass
class Statements:
    """The statements run inside `counting()`, in order (their SQL text, to print when a count is wrong)."""

    run: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.run)

    def __str__(self) -> str:
        return f"{self.count} statements:\n" + "\n".join(f"  {sql.splitlines()[0][:160]}" for sql in self.run)


@contextmanager
def counting() -> Iterator[Statements]:
    """Every statement the application's engine runs inside the block (SAVEPOINTs and the like included)."""
    statements = Statements()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.run.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
