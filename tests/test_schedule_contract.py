"""The engine's contract: `flask taper schedule` (JSON on stdin and stdout) and POST /api/v1/schedules/preview."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import csrf_token

REQUEST = {
    "start_on": "2027-01-04",
    "regimen": [
        {"product": "morphine-mr-tablet-12h", "brand": "MST Continus",
         "doses": [{"time": "08:00", "dose_mg": 60}, {"time": "20:00", "dose_mg": 60}]},
        {"product": "oxycodone-ir-capsule", "prn": {"dose_mg": 5, "usual_per_day": 2, "max_per_day": 4}},
        {"product": "fentanyl-patch-72h", "brand": "Matrifen", "patch_mcg_per_hour": 25},
    ],
    "policy": {"reduction_pct": 10, "interval_days": 14, "basis": "starting", "target_ome_mg_per_day": 0,
               "order": ["oxycodone-ir-capsule", "morphine-mr-tablet-12h", "fentanyl-patch-72h"],
               "order_reason": "She finds the rescue capsules the easiest to do without.", "larger_dose_at": "20:00"},
    "holds": [{"step": 3, "extra_days": 14}],
    "factor_set": "fpm-2020",
}

INVALID = [
    ({**REQUEST, "regimen": [{"product": "morphine-mr-tablet-8h", "doses": []}]}, "regimen[0].product",
     "morphine-mr-tablet-8h"),
    ({**REQUEST, "regimen": [{"product": "morphine-ir-tablet", "doses": [{"time": "08:00", "dose_mg": -10}]}]},
     "regimen[0].doses[0].dose_mg", "-10"),
    ({**REQUEST, "policy": {"reduction_pct": 0}}, "policy.reduction_pct", "not 0"),
    ({**REQUEST, "policy": {"reduction_pct": 80}}, "policy.reduction_pct", "not 80"),
    ({key: value for key, value in REQUEST.items() if key != "start_on"}, "start_on", "give the date"),
    ({**REQUEST, "start_on": "4 January 2027"}, "start_on", "'4 January 2027'"),
    ({**REQUEST, "factor_set": "who-1986"}, "factor_set", "'who-1986'"),
    ({**REQUEST, "speed": "fast"}, "speed", "unknown field 'speed'"),
    # Unknown fields are refused at every level, by their path (issue 13).
    ({**REQUEST, "regimen": [{**REQUEST["regimen"][0], "strength": 30}]}, "regimen[0].strength",
     "unknown field 'strength'"),
    ({**REQUEST, "regimen": [{**REQUEST["regimen"][0], "brand": "Zomorph"}]}, "regimen[0].brand",
     "no brand 'Zomorph'"),
    ({**REQUEST, "regimen": [{"product": "morphine-ir-tablet", "doses": [{"time": "08:00", "dose_mg": 10,
                                                                          "with": "food"}]}]},
     "regimen[0].doses[0].with", "unknown field 'with'"),
    ({**REQUEST, "regimen": [{"product": "oxycodone-ir-capsule",
                              "prn": {"dose_mg": 5, "usual_per_day": 2, "max_per_day": 4, "every_hours": 4}}]},
     "regimen[0].prn.every_hours", "unknown field 'every_hours'"),
    ({**REQUEST, "policy": {"tail": "off"}}, "policy.tail", "must be true or false"),
    ({**REQUEST, "holds": [{"step": 3, "extra_days": 14, "reason": "holiday"}]}, "holds[0].reason",
     "unknown field 'reason'"),
    # Starting regimens no plan should be made from (issue 13, rule 1).
    ({**REQUEST, "regimen": [*REQUEST["regimen"], {"product": "morphine-mr-tablet-12h",
                                                    "doses": [{"time": "12:00", "dose_mg": 10}]}]},
     "regimen[3].product", "already on regimen[0] as regular doses"),
    ({**REQUEST, "policy": {}, "regimen": [{"product": "morphine-mr-tablet-12h", "doses": [
        {"time": "08:00", "dose_mg": 5000}, {"time": "20:00", "dose_mg": 5000}]}]},
     "regimen[0].doses[0].dose_mg", "above the limit of 5000 mg OME a day"),
    # The request that stopped four web workers (issue 15): refused before the engine runs.
    ({"start_on": "2027-01-04", "regimen": [{"product": "morphine-mr-tablet-12h",
                                              "doses": [{"time": "08:00", "dose_mg": 99999}]}]},
     "regimen[0].doses[0].dose_mg", "above the limit of 5000 mg OME a day"),
    # A start so late that the plan runs past the year 9999 (issue 15): refused, never a crash.
    ({**REQUEST, "start_on": "9999-12-01"}, "start_on", "gives dates the calendar cannot hold"),
]
NESTED_TOO_DEEP = "[" * 100_000  # deeper than any JSON reader here follows (issue 15)


def test_cli_schedule_follows_the_contract(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["taper", "schedule"], input=json.dumps(REQUEST))
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert (document["factor_set"], document["starting_ome_mg_per_day"]) == ("fpm-2020", 195)
    assert document["policy"]["order_reason"].startswith("She finds") and document["policy"]["basis"] == "starting"
    first, last = document["steps"][0], document["steps"][-1]
    assert (first["number"], first["starts_on"], first["ends_on"]) == (1, "2027-01-04", "2027-01-17")
    morphine = next(line for line in first["lines"] if line["product"] == "morphine-mr-tablet-12h")
    # 55 mg and 60 mg from two strengths at most: three 15 mg and a 10 mg tablet, and four 15 mg tablets
    assert morphine["doses"][1] == {"time": "20:00", "dose_mg": 60, "units": [{"strength": 15, "count": 4}]}
    assert {"explanation", "warnings", "ome_mg_per_day", "lines"} <= set(first)
    assert (last["ome_mg_per_day"], last["lines"], last["ends_on"]) == (0, [], None)
    days = [step["starts_on"] for step in document["steps"]]
    assert days == sorted(days)
    # Step 3 is held 14 days, rounded up to whole 3-day patch periods (15), and says so.
    assert [step["held_days"] for step in document["steps"][:4]] == [0, 0, 15, 0]
    assert document["steps"][3]["starts_on"] == "2027-03-02"
    assert all(step["ome_at_max_mg_per_day"] >= step["ome_mg_per_day"] for step in document["steps"])
    assert document["policy"]["tail"] is True and document["warnings"] == []


@pytest.mark.parametrize(("request_body", "field", "named"), INVALID)
def test_cli_schedule_refuses_invalid_input_with_status_2(app: Flask, request_body: dict[str, object], field: str,
                                                          named: str) -> None:
    result = app.test_cli_runner().invoke(args=["taper", "schedule"], input=json.dumps(request_body))
    assert result.exit_code == 2
    errors = json.loads(result.output)["errors"]
    assert any(error["field"] == field and named in error["message"] for error in errors), errors


def test_cli_schedule_refuses_malformed_json(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["taper", "schedule"], input='{"start_on": ')
    assert result.exit_code == 2
    assert json.loads(result.output)["errors"][0]["message"].startswith("malformed JSON")


def test_http_preview_gives_the_same_schedule_as_the_cli(app: Flask, signed_in: FlaskClient) -> None:
    token = csrf_token(signed_in, "/patients/")
    response = signed_in.post("/api/v1/schedules/preview", json=REQUEST, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    cli = app.test_cli_runner().invoke(args=["taper", "schedule"], input=json.dumps(REQUEST))
    assert response.get_json() == json.loads(cli.output)


@pytest.mark.parametrize(("request_body", "field", "named"), INVALID)
def test_http_preview_answers_422_for_invalid_input(signed_in: FlaskClient, request_body: dict[str, object],
                                                    field: str, named: str) -> None:
    token = csrf_token(signed_in, "/patients/")
    response = signed_in.post("/api/v1/schedules/preview", json=request_body, headers={"X-CSRFToken": token})
    assert response.status_code == 422
    assert any(error["field"] == field and named in error["message"] for error in response.get_json()["errors"])


def test_http_preview_refuses_malformed_json_and_needs_a_csrf_token(signed_in: FlaskClient) -> None:
    token = csrf_token(signed_in, "/patients/")
    response = signed_in.post("/api/v1/schedules/preview", data="{not json", content_type="application/json",
                              headers={"X-CSRFToken": token})
    assert response.status_code == 422 and "malformed JSON" in response.get_data(as_text=True)
    assert signed_in.post("/api/v1/schedules/preview", json=REQUEST).status_code == 400  # no CSRF token


def test_json_nested_too_deep_is_refused_by_the_cli_and_the_api(app: Flask, signed_in: FlaskClient) -> None:
    result = app.test_cli_runner().invoke(args=["taper", "schedule"], input=NESTED_TOO_DEEP)
    assert result.exit_code == 2 and json.loads(result.output)["errors"][0]["message"].startswith("malformed JSON")
    token = csrf_token(signed_in, "/patients/")
    response = signed_in.post("/api/v1/schedules/preview", data=NESTED_TOO_DEEP, content_type="application/json",
                              headers={"X-CSRFToken": token})
    assert response.status_code == 422 and "malformed JSON" in response.get_data(as_text=True)


def test_http_preview_needs_sign_in(client: FlaskClient) -> None:
    response = client.post("/api/v1/schedules/preview", json=REQUEST)
    assert response.status_code in (302, 400)  # sent to sign in (or refused for want of a CSRF token)
    assert response.status_code != 200


# Co-codamol 30/500 three tablets four times a day: 6 g of paracetamol and 360 mg of codeine a day.
UNSAFE = {"start_on": "2027-01-04", "regimen": [{"product": "co-codamol-30-500-tablet", "doses": [
    {"time": at, "dose_mg": 90} for at in ("08:00", "12:00", "16:00", "22:00")]}]}


def test_the_cli_and_the_api_answer_an_unsafe_starting_regimen_with_the_same_warnings(
        app: Flask, signed_in: FlaskClient) -> None:
    cli = app.test_cli_runner().invoke(args=["taper", "schedule"], input=json.dumps(UNSAFE))
    assert cli.exit_code == 0, cli.output
    token = csrf_token(signed_in, "/patients/")
    response = signed_in.post("/api/v1/schedules/preview", json=UNSAFE, headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.get_json() == json.loads(cli.output)
    warnings = response.get_json()["warnings"]
    assert any("6000 mg of paracetamol" in warning and "codeine tablets (codeine-tablet)" in warning
               for warning in warnings)
    assert any("maximum of 240" in warning for warning in warnings)


def test_the_policy_echo_records_the_order_actually_used(app: Flask) -> None:
    """With no order given, when-needed doses come down first: the echo (stored with a plan, and read again when
    it is revised) names that order, not the order the regimen was typed in."""
    request = {"start_on": "2027-01-04", "regimen": [
        {"product": "morphine-mr-tablet-12h",
         "doses": [{"time": "08:00", "dose_mg": 30}, {"time": "20:00", "dose_mg": 30}]},
        {"product": "oxycodone-ir-capsule", "prn": {"dose_mg": 5, "usual_per_day": 1, "max_per_day": 3}}]}
    result = app.test_cli_runner().invoke(args=["taper", "schedule"], input=json.dumps(request))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["policy"]["order"] == ["oxycodone-ir-capsule", "morphine-mr-tablet-12h"]


def test_a_request_can_ask_for_a_same_drug_switch_and_a_wrong_one_is_refused_with_status_2(app: Flask) -> None:
    mxl = {"start_on": "2027-01-04", "regimen": [{"product": "morphine-mr-capsule-24h",
                                                  "doses": [{"time": "08:00", "dose_mg": 60}]}]}
    asked = {**mxl, "policy": {"switches": [{"from": "morphine-mr-capsule-24h", "to": "morphine-mr-tablet-12h"}]}}
    result = app.test_cli_runner().invoke(args=["taper", "schedule"], input=json.dumps(asked))
    assert result.exit_code == 0, result.output
    first = json.loads(result.output)["steps"][0]
    assert [line["product"] for line in first["lines"]] == ["morphine-mr-tablet-12h"]
    assert first["ome_mg_per_day"] == 60
    wrong = {**mxl, "policy": {"switches": [{"from": "morphine-mr-capsule-24h", "to": "morphine-mr-tablet-12h",
                                             "when": "now"}]}}
    refused = app.test_cli_runner().invoke(args=["taper", "schedule"], input=json.dumps(wrong))
    assert refused.exit_code == 2 and "policy.switches[0].when" in refused.output
