"""Run-time values: type names, print rendering and C arithmetic (dsl.md §4, §9.4)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mapper_gym.dsl.mspace import MachineSpace
from mapper_gym.dsl.values import (
    INT_MAX,
    INT_MIN,
    EvalError,
    Point,
    PointSet,
    TaskRef,
    TaskValue,
    as_tuple,
    c_div,
    c_mod,
    check_int,
    int_arith,
    int_product,
    is_int_tuple,
    make_tuple,
    render,
    type_name,
)

GPU_13 = Point("GPU", 1, 3)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, "IntValType"),
        (-3, "IntValType"),
        (True, "BoolValType"),
        (False, "BoolValType"),
        ((6, 4), "TupleIntType"),
        ((), "TupleIntType"),
        (GPU_13, "TupleIntType"),
        ((1, True), "TupleExprType"),
        (((1, 2), 3), "TupleExprType"),
        (MachineSpace.base("GPU", 3, 4), "MSpaceType"),
        (PointSet("GPU", (GPU_13,)), "SetTupleIntType"),
        (TaskValue(TaskRef("halo"), "single"), "TaskNodeType"),
    ],
)
def test_type_names(value, expected):
    assert type_name(value) == expected


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (12, "12"),
        (-7, "-7"),
        (True, "True"),
        (False, "False"),
        ((6, 4), "(6, 4)"),
        ((6,), "(6,)"),
        ((), "()"),
        (((1, 2), True), "((1, 2), True)"),
        (MachineSpace.base("GPU", 3, 4).split(1, 2), "MSpace(GPU, (3, 2, 2))"),
        (MachineSpace.base("GPU", 3, 4).merge(0, 1), "MSpace(GPU, (12,))"),
        (GPU_13, "GPU(1, 3)"),
        (PointSet("GPU", (Point("GPU", 1, 0), Point("GPU", 1, 1))), "{GPU(1, 0), GPU(1, 1)}"),
        (TaskValue(TaskRef("halo"), "index"), "Task(halo)"),
        ((GPU_13, 2), "(GPU(1, 3), 2)"),
    ],
)
def test_render_matches_section_4(value, text):
    assert render(value) == text


def test_point_behaves_like_its_tuple():
    assert as_tuple(GPU_13) == (1, 3)
    assert GPU_13.coords == (1, 3)
    assert is_int_tuple(GPU_13)
    assert as_tuple(5) is None
    assert not is_int_tuple((1, True))  # a bool is not an int in the DSL


def test_c_division_and_modulo():
    assert c_div(-7, 2) == -3
    assert c_mod(-7, 2) == -1
    assert c_mod(7, -2) == 1
    assert c_div(7, -2) == -3
    assert c_div(-7, -2) == 3
    assert c_mod(-7, -2) == -1
    assert c_div(6, 3) == 2


@given(st.integers(INT_MIN, INT_MAX), st.integers(INT_MIN, INT_MAX).filter(lambda b: b != 0))
def test_c_division_identity(a, b):
    """C guarantees (a / b) * b + a % b == a and |a % b| < |b| with the sign of a."""
    if a == INT_MIN and b == -1:
        with pytest.raises(EvalError) as info:
            c_div(a, b)
        assert info.value.code == "E-OVERFLOW"
        return
    quotient, remainder = c_div(a, b), c_mod(a, b)
    assert quotient * b + remainder == a
    assert abs(remainder) < abs(b)
    assert remainder == 0 or (remainder > 0) == (a > 0)


@pytest.mark.parametrize(
    ("fn", "message"), [(c_div, "Division by zero"), (c_mod, "Modulo by zero")]
)
def test_zero_division(fn, message):
    with pytest.raises(EvalError) as info:
        fn(5, 0)
    assert (info.value.code, info.value.message) == ("E-ZERODIV", message)


@pytest.mark.parametrize(
    ("op", "a", "b"),
    [("+", INT_MAX, 1), ("-", INT_MIN, 1), ("*", 65536, 65536), ("/", INT_MIN, -1)],
)
def test_overflow(op, a, b):
    with pytest.raises(EvalError) as info:
        int_arith(op, a, b)
    assert (info.value.code, info.value.message) == ("E-OVERFLOW", "Integer overflow")


def test_range_edges_are_fine():
    assert int_arith("+", INT_MAX - 1, 1) == INT_MAX
    assert int_arith("-", INT_MIN + 1, 1) == INT_MIN
    assert check_int(INT_MIN) == INT_MIN
    assert int_product([2] * 30) == 2**30
    with pytest.raises(EvalError):
        int_product([2] * 31)


def test_tuple_length_limit():
    assert make_tuple(list(range(16))) == tuple(range(16))
    with pytest.raises(EvalError) as info:
        make_tuple(list(range(17)))
    assert info.value.code == "E-LIMIT"
    assert info.value.message == "Resource limit exceeded: tuple length (limit 16)"


def test_values_have_no_equality():
    """Points, point-sets and tasks compare by identity only (dsl.md §4)."""
    assert Point("GPU", 0, 0) != Point("GPU", 0, 0)
    ref = TaskRef("t")
    assert TaskValue(ref, "single") != TaskValue(ref, "single")
