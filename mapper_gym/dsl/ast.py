"""Typed AST of the mapping DSL (dsl.md §3).

Every node is a frozen dataclass carrying ``line`` and ``column`` (1-based, of the node's first
token). Positions are excluded from equality and hashing, so two parses of programs that differ
only in spacing or comments compare equal; that is what makes ``parse(format(p)) == parse(p)``
checkable and gives the environment a canonical cache key.

Conventions:
- task references are ``str``: a task name or ``"*"``;
- region references are ``str`` (a semantic name or ``"*"``) or ``int`` (a 0-based index);
- kinds are the reserved words as ``str`` (``"GPU"``, ``"FBMEM"``); ``"*"`` where allowed;
- there is no grouping node: parentheses are a printing concern (dsl.md §12).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

PROC_KINDS: tuple[str, ...] = ("CPU", "GPU", "OMP", "IO", "PY", "PROC")
MEM_KINDS: tuple[str, ...] = ("SYSMEM", "FBMEM", "ZCMEM", "RDMEM", "SOCKMEM", "VIRTUAL")
#: Kind keys allowed in IndexTaskMap / SingleTaskMap.
MAP_KIND_KEYS: tuple[str, ...] = ("CPU", "GPU", "OMP")
TYPE_NAMES: tuple[str, ...] = ("int", "bool", "IPoint", "ISpace", "MSpace", "Task")
LAYOUT_WORDS: tuple[str, ...] = (
    "SOA", "AOS", "C_order", "F_order", "Compact", "Exact", "Align", "No_Align",
)
PROPERTIES: tuple[str, ...] = ("size", "len", "volume", "ipoint", "ispace", "parent")
METHODS: tuple[str, ...] = (
    "split", "merge", "swap", "slice", "reverse", "balance_split", "auto_split",
    "greedy_split", "processor",
)
#: Number of arguments each built-in method takes (dsl.md §9.3, E-METHOD-ARGC).
METHOD_ARITY: dict[str, int] = {
    "split": 2, "merge": 2, "swap": 2, "balance_split": 2, "auto_split": 2,
    "greedy_split": 2, "slice": 3, "reverse": 1, "processor": 1,
}
BINARY_OPS: tuple[str, ...] = (
    "||", "&&", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%",
)
ALIGN_OPS: tuple[str, ...] = ("==", "!=", "<", "<=", ">", ">=")


@dataclass(frozen=True, kw_only=True)
class Node:
    """Base of every AST node: a source position that never takes part in equality."""

    line: int = field(default=0, compare=False, repr=False)
    column: int = field(default=0, compare=False, repr=False)


# ---------------------------------------------------------------------------------------------
# Expressions
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntLit(Node):
    value: int


@dataclass(frozen=True)
class BoolLit(Node):
    value: bool


@dataclass(frozen=True)
class Name(Node):
    id: str


@dataclass(frozen=True)
class Call(Node):
    """Call of a ``def``'d function: ``f(a, *t)``."""

    func: str
    args: tuple[Item, ...]


@dataclass(frozen=True)
class MachineExpr(Node):
    """``Machine(K)``."""

    kind: str


@dataclass(frozen=True)
class TupleExpr(Node):
    """Tuple literal with two or more items (an item may be an :class:`Unpack`)."""

    items: tuple[Item, ...]


@dataclass(frozen=True)
class TupleComp(Node):
    """``tuple(element for var in iterable)``."""

    element: Expr
    var: str
    iterable: Expr


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Neg(Node):
    """Unary minus."""

    operand: Expr


@dataclass(frozen=True)
class Ternary(Node):
    """``cond ? then : otherwise`` (right-associative)."""

    cond: Expr
    then: Expr
    otherwise: Expr


@dataclass(frozen=True)
class Index(Node):
    """``target[i, *, *t, ...]``: items are expressions, :class:`Unpack` or :class:`Wildcard`."""

    target: Expr
    items: tuple[IndexItem, ...]


@dataclass(frozen=True)
class Slice(Node):
    """``target[lo:hi]``; either bound may be absent."""

    target: Expr
    lo: Expr | None
    hi: Expr | None


@dataclass(frozen=True)
class Attr(Node):
    """A property: ``.size``, ``.len``, ``.volume``, ``.ipoint``, ``.ispace`` or ``.parent``."""

    target: Expr
    name: str


@dataclass(frozen=True)
class MethodCall(Node):
    """``target.split(0, 2)`` and the other methods of dsl.md §3.2."""

    target: Expr
    method: str
    args: tuple[Item, ...]


@dataclass(frozen=True)
class Has(Node):
    """``target.has(MEM)``."""

    target: Expr
    memory: str


@dataclass(frozen=True)
class Unpack(Node):
    """``*value`` in an argument, tuple or index list: splices a tuple in place."""

    value: Expr


@dataclass(frozen=True)
class Wildcard(Node):
    """A lone ``*`` inside ``[ ]``: every index of that dimension."""


Expr: TypeAlias = (
    IntLit | BoolLit | Name | Call | MachineExpr | TupleExpr | TupleComp | Binary | Neg
    | Ternary | Index | Slice | Attr | MethodCall | Has
)
Item: TypeAlias = Expr | Unpack
IndexItem: TypeAlias = Expr | Unpack | Wildcard

# ---------------------------------------------------------------------------------------------
# Statements
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayoutConstraint(Node):
    """One layout word; ``Align`` carries ``op`` and ``value`` (``Align==64``)."""

    word: str
    op: str | None = None
    value: int | None = None


@dataclass(frozen=True)
class TaskStmt(Node):
    """``Task t1,t2 K1,K2;`` — ``tasks`` is ``("*",)`` for the wildcard."""

    tasks: tuple[str, ...]
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class RegionStmt(Node):
    """``Region task region proc M1,M2;`` — ``proc`` is a processor kind or ``"*"``."""

    task: str
    region: str | int
    proc: str
    memories: tuple[str, ...]


@dataclass(frozen=True)
class LayoutStmt(Node):
    """``Layout task region mem constraint...;`` — ``memory`` is a memory kind or ``"*"``."""

    task: str
    region: str | int
    memory: str
    constraints: tuple[LayoutConstraint, ...]


@dataclass(frozen=True)
class InstanceLimitStmt(Node):
    """``InstanceLimit task N;``. ``legacy_kind`` records the ignored kind of the legacy form.

    It is excluded from equality because the canonical printer drops it (dsl.md §12).
    """

    task: str
    limit: int
    legacy_kind: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class CollectMemoryStmt(Node):
    task: str
    region: str | int


@dataclass(frozen=True)
class IndexTaskMapStmt(Node):
    """``IndexTaskMap keys f;`` — keys are task names, ``"*"`` or ``"CPU"/"GPU"/"OMP"``."""

    keys: tuple[str, ...]
    func: str


@dataclass(frozen=True)
class SingleTaskMapStmt(Node):
    keys: tuple[str, ...]
    func: str


@dataclass(frozen=True)
class ControlReplicateStmt(Node):
    tasks: tuple[str, ...]


@dataclass(frozen=True)
class Param(Node):
    type_name: str
    name: str


@dataclass(frozen=True)
class Assign(Node):
    name: str
    value: Expr


@dataclass(frozen=True)
class Return(Node):
    value: Expr


@dataclass(frozen=True)
class Print(Node):
    """``print("fmt {}", e1, ...)``; ``fmt`` is the string without its quotes."""

    fmt: str
    args: tuple[Expr, ...]


BodyStmt: TypeAlias = Assign | Return | Print


@dataclass(frozen=True)
class FuncDef(Node):
    name: str
    params: tuple[Param, ...]
    body: tuple[BodyStmt, ...]


Statement: TypeAlias = (
    TaskStmt | RegionStmt | LayoutStmt | InstanceLimitStmt | CollectMemoryStmt
    | IndexTaskMapStmt | SingleTaskMapStmt | ControlReplicateStmt | FuncDef | Assign | Print
)


@dataclass(frozen=True)
class Program(Node):
    statements: tuple[Statement, ...]

    def functions(self) -> dict[str, FuncDef]:
        """The first ``def`` of each name (later duplicates are ignored, dsl.md §5.1)."""
        found: dict[str, FuncDef] = {}
        for stmt in self.statements:
            if isinstance(stmt, FuncDef) and stmt.name not in found:
                found[stmt.name] = stmt
        return found
