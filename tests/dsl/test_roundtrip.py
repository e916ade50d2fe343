"""Round trip between parser and printer (dsl.md §12).

``parse(format_program(p)) == p`` for every valid AST, and formatting is a fixed point:
``format_program(parse(format_program(p))) == format_program(p)``.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapper_gym.dsl import ast
from mapper_gym.dsl.parser import parse
from mapper_gym.dsl.printer import format_expr, format_program
from tests.dsl import strategies
from tests.dsl.spec_programs import ALL_SPEC_PROGRAMS
from tests.perf.test_parse_speed import REALISTIC_PROGRAM

_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@_SETTINGS
@given(strategies.programs())
def test_generated_programs_round_trip(program: ast.Program) -> None:
    text = format_program(program)
    reparsed = parse(text)
    assert reparsed == program
    assert format_program(reparsed) == text


@_SETTINGS
@given(strategies.expressions(max_depth=5))
def test_generated_expressions_round_trip(expression: ast.Node) -> None:
    text = format_expr(expression)
    (stmt,) = parse(f"x = {text};").statements
    assert isinstance(stmt, ast.Assign)
    assert stmt.value == expression
    assert format_expr(stmt.value) == text


@_SETTINGS
@given(strategies.operator_expressions())
def test_operator_trees_round_trip(expression: ast.Node) -> None:
    """Operator-dense trees, where minimal parenthesisation is easiest to get wrong."""
    text = format_expr(expression)
    (stmt,) = parse(f"x = {text};").statements
    assert isinstance(stmt, ast.Assign)
    assert stmt.value == expression


@settings(max_examples=100, deadline=None)
@given(strategies.programs(), st.data())
def test_spacing_and_comments_do_not_change_the_ast(
    program: ast.Program, data: st.DataObject
) -> None:
    """Replace each line break of the canonical text by other spacing or a comment."""
    canonical = format_program(program)
    separators = st.sampled_from([" ", "  ", "\t", "\n", " # note\n", " // note\n", "\r\n"])
    pieces: list[str] = []
    for line in canonical.split("\n"):
        pieces.append(line)
        pieces.append(data.draw(separators))
    respaced = "".join(pieces)
    assert parse(respaced) == program
    assert format_program(parse(respaced)) == canonical


_CORPUS = [*ALL_SPEC_PROGRAMS, REALISTIC_PROGRAM]


@pytest.mark.parametrize("text", _CORPUS, ids=[f"spec{i}" for i in range(len(_CORPUS))])
def test_spec_programs_round_trip(text: str) -> None:
    program = parse(text)
    canonical = format_program(program)
    assert parse(canonical) == program
    assert format_program(parse(canonical)) == canonical


def test_positions_do_not_matter_for_equality() -> None:
    assert parse("x   =\n 1 ;") == parse("x = 1;")
    assert parse("x = 1;").statements[0].column == 1
