"""Record ids named in a page's query string (`?patient_id=12`), read so that no text reaches the database
that could not be an id."""

from __future__ import annotations

import re

from flask import abort, request

# Ids are PostgreSQL integers (32 bits): a larger number names no record, and SQLite cannot even bind one
# beyond 64 bits, so it is refused here rather than sent to the database.
MAX_RECORD_ID = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")


def record_id(name: str) -> int | None:
    """The id named by query argument `name`: None when it is absent or empty; 404 when it is not a record id
    (not written in 0-9, or out of range), since no record has it."""
    text = request.args.get(name, "")
    if text == "":
        return None
    if not _DIGITS.fullmatch(text) or not 1 <= int(text) <= MAX_RECORD_ID:
        abort(404)
    return int(text)
