"""`flask taper read-medication` (issue 18): a JSON array of {"drug", "dosage"} in, an array of the same length out,
each {"product", "line", "problems", "notes", "non_opioid"}; malformed input exits 2 with an errors document."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from taper.domain.formulary import load_formulary
from taper.domain.regimen import parse_regimen
from tests.hostile import hostile_bytes
from tests.test_cli_fuzz import assert_answered, fuzz

PAIRS = [
    {"drug": "Zomorph 30mg modified-release capsules", "dosage": "ONE TO BE TAKEN TWICE A DAY"},
    {"drug": "Morphine sulfate 10mg/5ml oral solution", "dosage": "5ml-10ml four times a day when required"},
    {"drug": "Pregabalin 75mg capsules", "dosage": "1 bd"},
    {"drug": "MST Continus 10mg tablets", "dosage": "1-2 bd"},
    {"drug": "Morphine sulfate 20mg/ml oral solution", "dosage": "0.5ml prn"},
]


def run(app: Flask, stdin: str) -> tuple[int, object]:
    result = app.test_cli_runner().invoke(args=["taper", "read-medication"], input=stdin)
    return result.exit_code, json.loads(result.stdout)


def test_reads_each_pair_in_order_into_an_array_of_the_same_length(app: Flask) -> None:
    status, readings = run(app, json.dumps(PAIRS))
    assert status == 0 and isinstance(readings, list) and len(readings) == len(PAIRS)
    assert [set(reading) for reading in readings] == [{"product", "line", "problems", "notes", "non_opioid"}] * 5
    zomorph, oramorph, pregabalin, variable, concentrate = readings
    assert zomorph["line"] == {"product": "morphine-mr-capsule-12h", "brand": "Zomorph",
                               "doses": [{"time": "08:00", "dose_mg": 30}, {"time": "20:00", "dose_mg": 30}]}
    assert oramorph["line"]["prn"] == {"dose_mg": 20, "usual_per_day": 4, "max_per_day": 4}
    assert oramorph["notes"] and not oramorph["problems"]
    assert (pregabalin["product"], pregabalin["line"], pregabalin["non_opioid"]) == (None, None, "gabapentinoid")
    assert (variable["product"], variable["line"]) == ("morphine-mr-tablet-12h", None)
    assert "variable dose" in variable["problems"][0]
    assert (concentrate["product"], concentrate["line"]) == (None, None) and concentrate["problems"]
    parse_regimen([reading["line"] for reading in readings if reading["line"]], load_formulary())


def test_an_empty_array_gives_an_empty_array(app: Flask) -> None:
    assert run(app, "[]") == (0, [])


@pytest.mark.parametrize(("stdin", "field"), [
    ('[{"drug": "Zomorph 30mg capsules", ', "request"),
    ('{"drug": "Zomorph 30mg capsules", "dosage": "1 bd"}', "request"),
    ('[{"drug": "Zomorph 30mg capsules"}]', "request[0].dosage"),
    ('[{"drug": 30, "dosage": "1 bd"}]', "request[0].drug"),
    ('[{"drug": "Zomorph 30mg capsules", "dosage": "1 bd", "quantity": 56}]', "request[0].quantity"),
    ('[{"drug": "Zomorph 30mg capsules", "dosage": "1 bd"}, "Zomorph"]', "request[1]"),
    (json.dumps([{"drug": "x" * 1001, "dosage": "1 bd"}]), "request[0].drug"),
])
def test_malformed_input_exits_2_with_an_errors_document(app: Flask, stdin: str, field: str) -> None:
    status, document = run(app, stdin)
    assert status == 2 and isinstance(document, dict)
    assert field in [error["field"] for error in document["errors"]], document


TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=80)


@fuzz(150)
@given(pairs=st.lists(st.fixed_dictionaries({"drug": st.one_of(TEXT, st.sampled_from([p["drug"] for p in PAIRS])),
                                             "dosage": TEXT}), max_size=5))
def test_any_text_gives_one_answer_for_each_pair(app: Flask, pairs: list[dict[str, str]]) -> None:
    result = app.test_cli_runner().invoke(args=["taper", "read-medication"], input=json.dumps(pairs))
    readings = assert_answered(result)
    assert result.exit_code == 0 and len(readings) == len(pairs)
    assert all((reading["line"] is None) == bool(reading["problems"]) or reading["non_opioid"]
               for reading in readings)


@fuzz(100)
@given(stdin=hostile_bytes(PAIRS))
def test_hostile_input_exits_0_or_2_with_an_errors_document(app: Flask, stdin: bytes) -> None:
    assert_answered(app.test_cli_runner().invoke(args=["taper", "read-medication"], input=stdin))
