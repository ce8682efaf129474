"""Every audit action the code records reads in words on an access history (issue 17): the test reads Taper's
source for each `audit.record(action=..., entity_type=...)` and asks `audit.describe` for its wording. An action
made up at run time, out of this test's sight, fails it too, so the list cannot silently fall behind."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from taper.services import audit

SOURCE = Path(__file__).resolve().parents[2] / "taper"
Pair = tuple[str, str]


def _literals(node: ast.expr) -> list[str] | None:
    """The strings an expression can be: a literal, or either branch of `"a" if ... else "b"`; None otherwise."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _literals(node.body), _literals(node.orelse)
        return None if body is None or orelse is None else body + orelse
    return None


def _parameter_values(tree: ast.Module, function: ast.FunctionDef, name: str) -> list[str] | None:
    """The literal values the module's own calls pass to `function`'s parameter `name` (for a helper such as
    `_refuse(user, "two_factor_failure")` that records the action it is given)."""
    position = [argument.arg for argument in function.args.args].index(name)
    values: list[str] = []
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == function.name:
            given = dict((keyword.arg, keyword.value) for keyword in call.keywords)
            argument = call.args[position] if position < len(call.args) else given.get(name)
            literal = _literals(argument) if argument is not None else None
            if literal is None:
                return None
            values += literal
    return values or None


def _values(tree: ast.Module, enclosing: ast.FunctionDef | None, node: ast.expr) -> list[str] | None:
    found = _literals(node)
    if found is None and isinstance(node, ast.Name) and enclosing is not None \
            and node.id in [argument.arg for argument in enclosing.args.args]:
        found = _parameter_values(tree, enclosing, node.id)
    return found


def _recorded() -> Iterator[tuple[str, Pair | str]]:
    """(where, (action, entity_type)) for each pair the source records, or (where, the unreadable source)."""
    for path in sorted(SOURCE.rglob("*.py")):
        if path.name == "audit.py" and path.parent.name == "services":
            continue  # record() itself
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
        for function in [None, *functions]:
            body = tree if function is None else function
            for call in ast.walk(body):
                if not isinstance(call, ast.Call) or (function is None and _inside_function(call, functions)):
                    continue
                given = {keyword.arg: keyword.value for keyword in call.keywords}
                if "action" not in given or "entity_type" not in given:
                    continue
                where = f"{path.relative_to(SOURCE.parent)}:{call.lineno}"
                actions = _values(tree, function, given["action"])
                entity_types = _values(tree, function, given["entity_type"])
                if actions is None or entity_types is None:
                    yield where, ast.unparse(call)
                    continue
                for action in actions:
                    for entity_type in entity_types:
                        yield where, (action, entity_type)


def _inside_function(call: ast.Call, functions: list[ast.FunctionDef]) -> bool:
    return any(call in ast.walk(function) for function in functions)


def _fallback(action: str, entity_type: str) -> str:
    return f"{action}: {entity_type}".replace("_", " ").capitalize()


def test_the_source_records_actions_this_test_can_read() -> None:
    recorded = list(_recorded())
    unreadable = [f"{where}: {source}" for where, source in recorded if isinstance(source, str)]
    assert not unreadable, "audit actions made up at run time (name them as literals):\n" + "\n".join(unreadable)
    pairs = {pair for _, pair in recorded}
    # Known ones, so that a walker that found nothing would fail here.
    assert {("view", "patient"), ("two_factor_failure", "user"), ("create", "plan_version")} <= pairs


def test_every_action_the_code_records_has_words() -> None:
    missing = sorted({f"{pair} at {where}" for where, pair in _recorded()
                      if not isinstance(pair, str) and audit.describe(*pair, {}) == _fallback(*pair)})
    assert not missing, "audit actions with no wording in taper.services.audit._WHAT:\n" + "\n".join(missing)


@pytest.mark.parametrize(("pair", "words"), [
    (("view", "patient"), "Looked at the patient's record"),
    (("search", "patient"), "Searched for patients"),
    (("two_factor_failure", "user"), "Tried to sign in with a wrong two-factor code"),
])
def test_wording_reads_as_a_sentence_about_the_person(pair: Pair, words: str) -> None:
    assert audit.describe(*pair, {}) == words


def test_an_unknown_action_still_reads_as_its_action_and_record() -> None:
    assert audit.describe("frobnicate", "widget_part", {}) == "Frobnicate: widget part"
