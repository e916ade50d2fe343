"""Hostile input: the parser returns a Program or raises a parse DSLError, always, promptly.

Inputs are derived deterministically (fixed seeds) from valid programs, plus pathological
shapes (deep nesting, huge literals, oversized programs). Besides "no other exception", every
error must be well formed, point inside the text, and never be E-INTERNAL (which would mean a
bug was caught by the safety net). The per-call time cap below is a hang detector, far above
the real cost; speed itself is measured in tests/perf.
"""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapper_gym.dsl import ast
from mapper_gym.dsl.errors import DSLError
from mapper_gym.dsl.parser import _OPERATOR_ORDER, RESERVED_WORDS, parse
from tests.dsl.spec_programs import SECTION_6_EXAMPLE, SECTION_8_11_B
from tests.perf.test_parse_speed import REALISTIC_PROGRAM

_CODES = {"E-LEX-CHAR", "E-LEX-STRING", "E-LEX-INT", "E-LEX-UTF8", "E-SYNTAX", "E-LIMIT"}
_HANG_GUARD_SECONDS = 5.0


def _end_position(text: str) -> tuple[int, int]:
    return text.count("\n") + 1, len(text) - text.rfind("\n")


def check(source: str | bytes) -> ast.Program | DSLError:
    """Parse ``source``; assert the outcome is a Program or a well-formed parse error."""
    started = time.perf_counter()
    try:
        outcome: ast.Program | DSLError = parse(source)
    except DSLError as error:
        outcome = error
    elapsed = time.perf_counter() - started
    assert elapsed < _HANG_GUARD_SECONDS, f"parse took {elapsed:.1f} s"
    if isinstance(outcome, ast.Program):
        assert outcome.statements
        return outcome
    error = outcome
    assert error.kind == "parse"
    assert error.code in _CODES, (error.code, error.message)
    assert error.message
    text = source.decode("utf-8", "replace") if isinstance(source, bytes) else source
    if error.code != "E-LIMIT":
        assert error.diagnostic.raw == f"Error at line {error.line}:\n\t{error.message}"
        assert (1, 1) <= (error.line, error.column) <= _end_position(text)
    return error


# ---------------------------------------------------------------------------------------------
# Mutations of valid programs
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("program", [SECTION_6_EXAMPLE, SECTION_8_11_B], ids=["s6", "s8_11b"])
def test_every_truncation(program: str) -> None:
    outcomes = [check(program[:cut]) for cut in range(len(program) + 1)]
    assert isinstance(outcomes[-1], ast.Program)
    assert any(isinstance(o, ast.Program) for o in outcomes[:-1])  # complete statement prefixes
    errors = [o for o in outcomes if isinstance(o, DSLError)]
    assert {e.code for e in errors} <= {"E-SYNTAX", "E-LEX-STRING"}


def test_truncations_of_a_long_program() -> None:
    for cut in range(0, len(REALISTIC_PROGRAM), 23):
        check(REALISTIC_PROGRAM[:cut])


_NOISE = b"@$&|~^\\'`!\"#/()[]{};:,.*=<>-+%?0123456789 \t\n\r\x00\x7f\xff\xc3\xa9\xe2\x82"


def _mutate(data: bytes, rng: random.Random) -> bytes:
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        where = rng.randrange(len(buffer) + 1)
        action = rng.randrange(5)
        if action == 0:  # insert a random byte
            buffer[where:where] = bytes([rng.randrange(256)])
        elif action == 1:  # insert punctuation-like noise
            buffer[where:where] = bytes([rng.choice(_NOISE)])
        elif action == 2:  # delete a span
            del buffer[where : where + rng.randint(1, 8)]
        elif action == 3 and where < len(buffer):  # replace one byte
            buffer[where] = rng.choice(_NOISE)
        else:  # duplicate a span elsewhere
            start = rng.randrange(len(buffer) + 1)
            buffer[where:where] = buffer[start : start + rng.randint(1, 20)]
    return bytes(buffer)


def test_random_byte_mutations() -> None:
    rng = random.Random(20250101)
    sources = [SECTION_6_EXAMPLE.encode(), SECTION_8_11_B.encode(), REALISTIC_PROGRAM.encode()]
    codes = set()
    for _ in range(600):
        outcome = check(_mutate(rng.choice(sources), rng))
        if isinstance(outcome, DSLError):
            codes.add(outcome.code)
    # The mutations reach the lexer, the UTF-8 decoder and the parser.
    assert {"E-SYNTAX", "E-LEX-CHAR", "E-LEX-UTF8"} <= codes


def test_random_bytes() -> None:
    rng = random.Random(7)
    for _ in range(300):
        size = rng.choice((1, 2, 5, 20, 200, 2000))
        check(bytes(rng.randrange(256) for _ in range(size)))
        check(bytes(rng.choice(_NOISE) for _ in range(size)))


_TOKEN_TEXTS = (
    *sorted(RESERVED_WORDS), *_OPERATOR_ORDER, "x", "gpus", "t", "0", "7", "2147483647",
    '"s {}"', "&", "#c\n",
)


def test_random_token_soup() -> None:
    """Sequences of real tokens go deeper into the parser than random bytes do."""
    rng = random.Random(99)
    for _ in range(500):
        words = [rng.choice(_TOKEN_TEXTS) for _ in range(rng.randint(1, 40))]
        check(" ".join(words))


def test_token_soup_after_a_valid_prefix() -> None:
    rng = random.Random(5)
    statements = [line for line in SECTION_6_EXAMPLE.splitlines() if line.endswith(";")]
    for _ in range(300):
        prefix = "\n".join(rng.sample(statements, 3))
        words = [rng.choice(_TOKEN_TEXTS) for _ in range(rng.randint(1, 12))]
        check(prefix + "\nx = " + " ".join(words) + ";")


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes(data: bytes) -> None:
    check(data)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text(text: str) -> None:
    check(text)


# ---------------------------------------------------------------------------------------------
# Pathological shapes
# ---------------------------------------------------------------------------------------------

_DEEP = 10_000


@pytest.mark.parametrize(
    "text",
    [
        "(" * _DEEP,
        "x = " + "(" * _DEEP,
        "x = " + "(" * _DEEP + "1" + ")" * _DEEP + ";",
        "x = " + "a[" * _DEEP,
        "x = " + "f(" * _DEEP,
        "{" * _DEEP,
        "def f() {" + "{" * _DEEP,
        "x = " + ")" * _DEEP + ";",
        "x = " + "-" * 9000 + "1;",
        "x = " + "!" * _DEEP + "1;",
        "x = " + "1 + " * 4000 + "1;",
        "x = " + "a ? b : " * 2000 + "c;",
        "x = " + "a.size" + ".len" * 4000 + ";",
        "x = a" + "[0]" * 3000 + ";",
        "x = " + "*" * _DEEP + ";",
        "Task " + ",".join(f"t{i}" for i in range(4000)) + " GPU;",
        "Layout * * * " + "SOA " * 9000 + ";",
        'print("{}"' + ", 1" * 4000 + ");",
    ],
    ids=lambda text: f"{text[:12]!r}x{len(text)}",
)
def test_deep_and_long_constructs(text: str) -> None:
    outcome = check(text)
    if isinstance(outcome, DSLError):
        assert outcome.code in {"E-SYNTAX", "E-LIMIT"}


def test_huge_literals() -> None:
    digits = "9" * 60_000
    error = check(f"x = {digits};")
    assert isinstance(error, DSLError) and error.code == "E-LEX-INT"
    assert isinstance(check("x = " + "0" * 60_000 + "1;"), ast.Program)
    error = check("x = " + "a" * 60_000 + ";")
    assert isinstance(error, DSLError) and error.code == "E-LIMIT"
    error = check('print("' + "s" * 60_000 + '");')
    assert isinstance(error, DSLError) and error.code == "E-LIMIT"
    assert isinstance(check("#" + "c" * 65_000 + "\nx = 1;"), ast.Program)
    error = check('print("' + "s" * 60_000)
    assert isinstance(error, DSLError) and error.code == "E-LEX-STRING"


def test_oversized_programs() -> None:
    seventy_kb = (SECTION_6_EXAMPLE * (70_000 // len(SECTION_6_EXAMPLE) + 1))[:70_000]
    for source in (seventy_kb, seventy_kb.encode(), "x = 1;\n" * 10_000, b"\xff" * 70_000):
        error = check(source)
        assert isinstance(error, DSLError) and error.code == "E-LIMIT"
        assert error.message == "Resource limit exceeded: program text bytes (limit 65536)"


def test_twenty_thousand_tokens() -> None:
    error = check("x=1;" * 5000)
    assert isinstance(error, DSLError)
    assert error.message == "Resource limit exceeded: program tokens (limit 10000)"
    error = check("x = f(" + "1," * 10_000 + "1);")
    assert isinstance(error, DSLError)
    assert error.message == "Resource limit exceeded: program tokens (limit 10000)"
