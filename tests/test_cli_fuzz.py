"""The command line's JSON commands on hostile input (issue 15): `flask taper schedule`, `documents` and
`formulary` answer either 0 with their document or 2 with an errors document (docs/schedule-api.md, Errors),
whatever they are given: never a traceback, never exit status 1."""

from __future__ import annotations

import json
import tempfile
import traceback
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.documents.test_documents_cli import PACK_REQUEST
from tests.hostile import HOSTILE_TEXT, hostile_bytes
from tests.test_schedule_contract import REQUEST


def fuzz(examples: int) -> settings:
    """Hypothesis settings for a fuzz test: a fixed number of examples, no deadline (a PDF takes a second), one
    app for them all (these commands use no database)."""
    return settings(max_examples=examples, deadline=None, suppress_health_check=[
        HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])


def assert_answered(result: Result) -> Any:
    """Exit 0 with a JSON document, or exit 2 with an errors document naming a field and saying why."""
    assert result.exception is None or isinstance(result.exception, SystemExit), "".join(
        traceback.format_exception(result.exception))
    assert result.exit_code in (0, 2), result.output
    document = json.loads(result.stdout)
    if result.exit_code == 2:
        assert set(document) == {"errors"} and document["errors"], document
        for error in document["errors"]:
            assert set(error) == {"field", "message"}, error
            assert isinstance(error["field"], str) and isinstance(error["message"], str) and error["message"]
    return document


@fuzz(150)
@given(stdin=hostile_bytes(REQUEST))
# Crashes the fuzzing found (issue 15): bytes that are not UTF-8, an integer longer than Python reads, a basis
# that is a list.
@example(stdin=b"\xff\xfe" + json.dumps(REQUEST).encode())
@example(stdin=json.dumps({**REQUEST, "holds": [{"step": 1, "extra_days": 7}]}).encode().replace(b"7", b"7" * 5000))
@example(stdin=json.dumps({**REQUEST, "policy": {"basis": ["starting"]}}).encode())
def test_schedule_exits_0_or_2_with_an_errors_document(app: Flask, stdin: bytes) -> None:
    assert_answered(app.test_cli_runner().invoke(args=["taper", "schedule"], input=stdin))


@fuzz(40)
@given(request=hostile_bytes(PACK_REQUEST))
def test_documents_exit_0_or_2_with_an_errors_document(app: Flask, tmp_path: Path, request: bytes) -> None:
    # tmp_path is the same for every example: each gets a folder of its own, so that one example's documents
    # are never taken for another's.
    example = Path(tempfile.mkdtemp(dir=tmp_path))
    request_file, out = example / "pack.json", example / "out"
    request_file.write_bytes(request)
    document = assert_answered(app.test_cli_runner().invoke(
        args=["taper", "documents", "--request", str(request_file), "--out", str(out)]))
    if "errors" in document:
        assert not out.exists() or not any(out.iterdir()), "nothing is written for a refused request"


@pytest.mark.parametrize("arguments", [["--request", "/nonexistent/pack.json"], ["--request", "/"]])
def test_documents_exit_2_for_a_request_file_that_cannot_be_read(app: Flask, tmp_path: Path,
                                                                 arguments: list[str]) -> None:
    result = app.test_cli_runner().invoke(args=["taper", "documents", *arguments, "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert assert_answered(result)["errors"][0]["field"] == "request"


@fuzz(40)
@given(factor_set=st.one_of(st.sampled_from([value for value in HOSTILE_TEXT if "\x00" not in value
                                             and "\ud800" not in value]),
                            st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
                                    max_size=30)))
def test_formulary_exits_0_or_2_with_an_errors_document(app: Flask, factor_set: str) -> None:
    document = assert_answered(app.test_cli_runner().invoke(args=["taper", "formulary", "--factor-set",
                                                                  factor_set]))
    if "errors" in document:
        assert document["errors"][0]["field"] == "factor_set"
        assert "fpm-2020" in document["errors"][0]["message"], "the refusal names the factor sets there are"
