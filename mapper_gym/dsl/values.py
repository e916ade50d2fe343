"""Run-time values of the mapping DSL (dsl.md §4) and the arithmetic they obey.

The interpreter represents the simple values with Python built-ins, because they are by far
the most frequent and the cheapest to build:

=====================  =====================================================
DSL value              Python representation
=====================  =====================================================
int                    ``int`` (always inside the 32-bit range)
bool                   ``bool`` (tested with ``type(v) is bool``: ``bool`` is an ``int``)
tuple                  ``tuple`` of values
point                  :class:`Point` (a processor, with its kind tag)
point-set              :class:`PointSet`
machine                :class:`mapper_gym.dsl.mspace.MachineSpace`
task                   :class:`TaskValue`
=====================  =====================================================

Helpers in this module raise :class:`EvalError`, which carries a §9.4 code and exact message but
no position; the interpreter attaches the position of the expression being evaluated. This keeps
values, machine spaces and factorisation free of AST and phase concerns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeAlias

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
#: Longest tuple a program may build (dsl.md §11).
MAX_TUPLE_LEN = 16

# Type names used in run-time messages (dsl.md §9.4).
INT_TYPE = "IntValType"
BOOL_TYPE = "BoolValType"
TUPLE_INT_TYPE = "TupleIntType"
TUPLE_EXPR_TYPE = "TupleExprType"
MSPACE_TYPE = "MSpaceType"
POINT_SET_TYPE = "SetTupleIntType"
TASK_TYPE = "TaskNodeType"


class EvalError(Exception):
    """A run-time failure without a position: §9.4 ``code`` and exact ``message``.

    Raised by value helpers, machine spaces and factorisation; the interpreter converts it into a
    :class:`~mapper_gym.dsl.errors.DSLError` at the innermost expression being evaluated.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def limit_exceeded(what: str, limit: int) -> EvalError:
    """E-LIMIT with the fixed wording of dsl.md §11."""
    return EvalError("E-LIMIT", f"Resource limit exceeded: {what} (limit {limit})")


# ---------------------------------------------------------------------------------------------
# Processors and tasks as the host (simulator, C++ bridge) describes them
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessorRef:
    """A concrete processor: ``index``-th processor of ``kind`` on node ``node``."""

    kind: str
    node: int
    index: int


@dataclass(frozen=True)
class TaskRef:
    """The task being mapped, as an entry function sees it (dsl.md §5.3).

    ``ipoint``/``ispace`` are set for a point of an index launch (raw coordinates and launch
    extents); ``processor`` is where a single task (or a parent) was sent. Frozen and hashable so
    that entry results can be cached per task description.
    """

    name: str
    ipoint: tuple[int, ...] | None = None
    ispace: tuple[int, ...] | None = None
    parent: TaskRef | None = None
    processor: ProcessorRef | None = None
    index_launch: bool = False


#: How a task value was reached, which decides its attributes (dsl.md §5.3 table).
TaskRole: TypeAlias = Literal["index", "single", "parent"]


@dataclass(frozen=True, eq=False)
class TaskValue:
    """A task as a DSL value: the entry function's argument or something reached by ``.parent``.

    ``role`` is ``"index"`` for the argument of an IndexTaskMap call, ``"single"`` for the
    argument of a SingleTaskMap call and ``"parent"`` for a task reached through ``.parent``.
    """

    TYPE_NAME: ClassVar[str] = TASK_TYPE
    ref: TaskRef
    role: TaskRole

    def render(self) -> str:
        return f"Task({self.ref.name})"


# ---------------------------------------------------------------------------------------------
# Points and point-sets
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Point:
    """One processor of the base machine: ``(node, index)`` tagged with its kind.

    It behaves like the 2-tuple ``(node, index)`` wherever a tuple is expected; whatever is
    computed from it that way is a plain tuple and loses the tag (dsl.md §4). DSL values have no
    equality, so neither does this class (``eq=False``): compare :attr:`coords` and :attr:`kind`.
    """

    TYPE_NAME: ClassVar[str] = TUPLE_INT_TYPE
    kind: str
    node: int
    index: int

    @property
    def coords(self) -> tuple[int, int]:
        return (self.node, self.index)

    def processor(self) -> ProcessorRef:
        return ProcessorRef(self.kind, self.node, self.index)

    def render(self) -> str:
        return f"{self.kind}({self.node}, {self.index})"


@dataclass(frozen=True, eq=False)
class PointSet:
    """A non-empty ordered list of points of one kind (from a machine index with ``*``)."""

    TYPE_NAME: ClassVar[str] = POINT_SET_TYPE
    kind: str
    points: tuple[Point, ...]

    def render(self) -> str:
        return "{" + ", ".join(p.render() for p in self.points) + "}"

    def processors(self) -> tuple[ProcessorRef, ...]:
        return tuple(p.processor() for p in self.points)


#: Any DSL value. Machines are typed loosely to keep this module free of mspace imports.
Value: TypeAlias = Any


# ---------------------------------------------------------------------------------------------
# Type names, tuple views, rendering
# ---------------------------------------------------------------------------------------------


def is_int(value: Value) -> bool:
    """True for a DSL int (a Python ``int`` that is not a ``bool``)."""
    return type(value) is int


def is_int_tuple(value: Value) -> bool:
    """True for a value accepted where an all-int tuple is expected: such a tuple, or a point."""
    if isinstance(value, Point):
        return True
    return type(value) is tuple and all(type(x) is int for x in value)


def as_tuple(value: Value) -> tuple | None:
    """The tuple view of a tuple or point (a point becomes ``(node, index)``), else ``None``."""
    if type(value) is tuple:
        return value
    if isinstance(value, Point):
        return (value.node, value.index)
    return None


def type_name(value: Value) -> str:
    """The §9.4 type name of a value, as the original tools print it."""
    kind = type(value)
    if kind is int:
        return INT_TYPE
    if kind is bool:
        return BOOL_TYPE
    if kind is tuple:
        return TUPLE_INT_TYPE if all(type(x) is int for x in value) else TUPLE_EXPR_TYPE
    name = getattr(kind, "TYPE_NAME", None)
    if name is None:  # pragma: no cover - every value class defines TYPE_NAME
        raise TypeError(f"not a DSL value: {value!r}")
    return name


def render(value: Value) -> str:
    """``print`` rendering of dsl.md §4: ``12``, ``True``, ``(6, 4)``, ``(6,)``, ``GPU(1, 3)``..."""
    kind = type(value)
    if kind is bool:
        return "True" if value else "False"
    if kind is int:
        return str(value)
    if kind is tuple:
        if len(value) == 1:
            return f"({render(value[0])},)"
        return "(" + ", ".join(render(x) for x in value) + ")"
    return value.render()


# ---------------------------------------------------------------------------------------------
# C arithmetic on 32-bit ints
# ---------------------------------------------------------------------------------------------


def check_int(value: int) -> int:
    """Return ``value`` if it fits in 32 bits, else E-OVERFLOW (dsl.md §10 #19)."""
    if value < INT_MIN or value > INT_MAX:
        raise EvalError("E-OVERFLOW", "Integer overflow")
    return value


def c_div(a: int, b: int) -> int:
    """C division: truncates toward zero (``-7 / 2 == -3``); E-ZERODIV on 0."""
    if b == 0:
        raise EvalError("E-ZERODIV", "Division by zero")
    quotient = abs(a) // abs(b)
    return check_int(quotient if (a >= 0) == (b >= 0) else -quotient)


def c_mod(a: int, b: int) -> int:
    """C remainder: sign of the left operand (``-7 % 2 == -1``, ``7 % -2 == 1``)."""
    if b == 0:
        raise EvalError("E-ZERODIV", "Modulo by zero")
    remainder = abs(a) % abs(b)
    return remainder if a >= 0 else -remainder


def int_arith(op: str, a: int, b: int) -> int:
    """``a op b`` for one of ``+ - * / %`` with C semantics and overflow checks."""
    if op == "+":
        return check_int(a + b)
    if op == "-":
        return check_int(a - b)
    if op == "*":
        return check_int(a * b)
    if op == "/":
        return c_div(a, b)
    if op == "%":
        return c_mod(a, b)
    raise ValueError(f"not an arithmetic operator: {op}")  # pragma: no cover


def int_product(values: Sequence[int]) -> int:
    """Product of ints with a 32-bit check on the result (``.volume``)."""
    result = 1
    for value in values:
        result *= value
    return check_int(result)


def make_tuple(items: Sequence[Value]) -> tuple:
    """A tuple value, enforcing the length limit of dsl.md §11."""
    if len(items) > MAX_TUPLE_LEN:
        raise limit_exceeded("tuple length", MAX_TUPLE_LEN)
    return tuple(items)
