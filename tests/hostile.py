"""Hostile input for the fuzz tests (issue 15): the values an attacker or a slip of the keyboard sends, and
hypothesis strategies that put them where a valid document or form has its values."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import strategies as st

LONG = "x" * 100_000
# Text a form field or a JSON string may carry: NUL bytes, numbers at and past the ends of what a computer
# holds, not-a-number, dates the calendar has not got or barely has, very long text, digits of other scripts.
HOSTILE_TEXT = ["", " ", "\x00", "60\x00", "1e308", "-1e308", "1e-308", "-1", "0", "-0", str(10**30),
                "9" * 5000, "NaN", "nan", "sNaN", "-sNaN", "Infinity", "-Infinity", "inf", "0001-01-01",
                "9999-12-31", "10000-01-01", "2027-02-30", "0000-00-00", "24:00", "99:99", "\u0661\u0662",
                "\ud800", "<script>alert(1)</script>", "' OR 1=1 --", "%00", "%ff%fe", LONG]
# The same for JSON documents, as the values JSON can carry (an integer of 5,000 digits, which Python will not
# write, is sent as bytes: hostile_bytes).
HOSTILE_NUMBERS = [0, -1, 1, 10**30, -(10**30), 1e308, -1e308, 5e-324, float("nan"), float("inf"),
                   float("-inf"), 0.1, 2**63, 2**64 + 1]


def nested(depth: int) -> str:
    """A stand-in for a JSON list nested `depth` deep, which `encoded` writes out (hypothesis cannot show the
    list itself, nor Python write it)."""
    return f"<nested {depth}>"


_NESTED = re.compile(rb'"<nested (\d+)>"')
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
                         st.sampled_from(HOSTILE_TEXT), st.sampled_from(HOSTILE_NUMBERS))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=12)
hostile_json = st.one_of(json_values, st.sampled_from([nested(50), nested(2_000), nested(100_000)]))


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    """`document` with a few of its values replaced by hostile ones, removed, or joined by extra fields."""
    copy = json.loads(json.dumps(document))
    for _ in range(draw(st.integers(1, 3))):
        copy = _mutate_once(draw, copy, top=True)
    return copy


def _mutate_once(draw: st.DrawFn, value: Any, top: bool = False) -> Any:
    """`value` changed at one place: usually deeper inside it (the whole document is replaced elsewhere)."""
    if isinstance(value, dict) and value and (top or draw(st.integers(0, 3)) > 0):
        key = draw(st.sampled_from(sorted(value)))
        action = draw(st.sampled_from(["into", "into", "replace", "remove", "add"]))
        if action == "into":
            value[key] = _mutate_once(draw, value[key])
        elif action == "replace":
            value[key] = draw(hostile_json)
        elif action == "remove":
            del value[key]
        else:
            value[draw(st.text(min_size=1, max_size=12))] = draw(json_values)
        return value
    if isinstance(value, list) and value and draw(st.integers(0, 3)) > 0:
        index = draw(st.integers(0, len(value) - 1))
        action = draw(st.sampled_from(["into", "into", "replace", "duplicate"]))
        if action == "into":
            value[index] = _mutate_once(draw, value[index])
        elif action == "replace":
            value[index] = draw(hostile_json)
        else:
            value.extend([value[index]] * draw(st.integers(1, 40)))
        return value
    return draw(hostile_json)


def encoded(document: Any) -> bytes:
    """A document as the bytes of JSON text (non-finite numbers as Python writes them: NaN, Infinity), with each
    `nested` stand-in written out as the lists it stands for."""
    text = json.dumps(document).encode("utf-8")
    return _NESTED.sub(lambda match: b"[" * int(match[1]) + b"]" * int(match[1]), text)


@st.composite
def hostile_bytes(draw: st.DrawFn, document: Any) -> bytes:
    """Bytes to read as a JSON document: `document` mutated, or broken UTF-8 or JSON, or nothing."""
    if draw(st.integers(0, 3)) > 0:
        return encoded(draw(mutated(document)))
    return draw(st.one_of(
        st.binary(max_size=200),
        st.just(b""),
        st.just(b"\xff\xfe" + encoded(document)),
        st.just(encoded(document).replace(b'"', b'"\xc3\x28', 1)),
        st.just(b"1" * 5000),
        st.just(b'{"start_on": "2027-01-04", "regimen": ' + b"1" * 5000 + b"}"),
        st.just(b"[" * 100_000),
    ))
