"""JSON text as the command line reads it (a schedule request, a pack request): one document read exactly, or
refused with a reason a person can act on, never a crash (issue 15)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

# Python refuses to read an integer longer than this (a guard against slow conversions); no number in a request
# comes near it.
MAX_DIGITS = 4300


class MalformedJson(ValueError):
    """The text is not one JSON document that can be read; str() says why, beginning "malformed JSON"."""


def read_json(data: bytes | str, *,
              object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None) -> Any:
    """The document in `data` (bytes are UTF-8), or MalformedJson: not UTF-8, not JSON, nested deeper than the
    reader follows, or a number with more than MAX_DIGITS digits."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as error:
        raise MalformedJson(f"malformed JSON: not UTF-8 text ({error.reason} at byte {error.start})") from None
    try:
        return json.loads(text, parse_int=_integer, object_pairs_hook=object_pairs_hook)
    except json.JSONDecodeError as error:
        raise MalformedJson(f"malformed JSON: {error}") from None
    except RecursionError:
        raise MalformedJson("malformed JSON: nested deeper than Taper reads") from None


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_DIGITS:
        raise MalformedJson(f"malformed JSON: a number has more than {MAX_DIGITS} digits")
    return int(digits)
