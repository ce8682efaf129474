"""The page of a long list that the address asks for (?page=N)."""

from __future__ import annotations

from flask import abort, request

MAX_PAGE = 100_000  # far past any list a person pages through; an offset past this could overflow the database


def page_number(source: str = "args") -> int:
    """The page number in the query string (or, with source="form", the posted form): 1 when missing, not a
    whole number or below 1; a page past MAX_PAGE does not exist (404), as its offset might not fit the
    database's integers."""
    values = request.form if source == "form" else request.args
    number = values.get("page", 1, type=int)
    if number > MAX_PAGE:
        abort(404)
    return max(number, 1)
