"""Hypothesis strategies that build random, syntactically valid DSL ASTs.

Every generated :class:`~mapper_gym.dsl.ast.Program` is one the parser could have produced
from some text: names are identifiers and not reserved words, integers are literals in range,
strings contain neither ``"`` nor a newline, list shapes follow dsl.md §3 (a task list has two
or more names, a tuple literal two or more items, ``*`` only where the grammar allows it) and
sizes stay well inside the parse limits of §11 (expression height, nesting, tuple length).
Semantic validity (defined names, types, entry signatures) is *not* a goal: these exercise the
parser and the printer, and they give other components syntactically varied input.

Positions are left at 0; AST equality ignores them.
"""

from __future__ import annotations

from hypothesis import strategies as st

from mapper_gym.dsl import ast
from mapper_gym.dsl.parser import MAX_INT, RESERVED_WORDS

__all__ = [
    "expressions",
    "identifiers",
    "int_values",
    "operator_expressions",
    "programs",
    "statements",
    "string_contents",
]

#: Names close to reserved words, which must still lex as identifiers.
_TRICKY_NAMES = (
    "Tasks", "CPUx", "inside", "format", "_", "t", "gpus", "GPU0", "Machine_", "x1",
    "SOAx", "task", "Align_", "sizes", "inn", "fort", "True_", "iN", "TASK", "cpu",
)

_BINARY_OPS = ast.BINARY_OPS
_NON_ALIGN_WORDS = tuple(w for w in ast.LAYOUT_WORDS if w != "Align")


def identifiers() -> st.SearchStrategy[str]:
    """Identifiers (``[_a-zA-Z][_a-zA-Z0-9]*``) that are not reserved words."""
    generated = st.from_regex(r"[_a-zA-Z][_a-zA-Z0-9]{0,12}", fullmatch=True).filter(
        lambda name: name not in RESERVED_WORDS
    )
    return st.one_of(st.sampled_from(_TRICKY_NAMES), generated)


def int_values() -> st.SearchStrategy[int]:
    """Values of integer literals, small ones more often."""
    return st.one_of(st.integers(0, 16), st.integers(0, MAX_INT), st.just(MAX_INT))


def string_contents() -> st.SearchStrategy[str]:
    """Contents of a string literal: any characters but ``"`` and newline (non-ASCII too)."""
    return st.text(
        alphabet=st.characters(blacklist_characters='"\n', blacklist_categories=("Cs",)),
        max_size=30,
    )


def _leaves() -> st.SearchStrategy[ast.Node]:
    return st.one_of(
        int_values().map(ast.IntLit),
        st.booleans().map(ast.BoolLit),
        identifiers().map(ast.Name),
        st.sampled_from(ast.PROC_KINDS).map(ast.MachineExpr),
    )


def _compound(sub: st.SearchStrategy[ast.Node]) -> st.SearchStrategy[ast.Node]:
    """One level of expression forms whose sub-expressions come from ``sub``."""
    item = st.one_of(sub, sub.map(ast.Unpack))
    index_item = st.one_of(sub, sub.map(ast.Unpack), st.just(ast.Wildcard()))
    items = st.lists(item, max_size=3).map(tuple)
    return st.one_of(
        st.builds(ast.Binary, st.sampled_from(_BINARY_OPS), sub, sub),
        st.builds(ast.Neg, sub),
        st.builds(ast.Ternary, sub, sub, sub),
        st.builds(ast.Index, sub, st.lists(index_item, min_size=1, max_size=3).map(tuple)),
        st.builds(ast.Slice, sub, st.none() | sub, st.none() | sub),
        st.builds(ast.Attr, sub, st.sampled_from(ast.PROPERTIES)),
        st.builds(ast.MethodCall, sub, st.sampled_from(ast.METHODS), items),
        st.builds(ast.Has, sub, st.sampled_from(ast.MEM_KINDS)),
        st.builds(ast.Call, identifiers(), items),
        st.builds(ast.TupleExpr, st.lists(item, min_size=2, max_size=4).map(tuple)),
        st.builds(ast.TupleComp, sub, identifiers(), sub),
    )


def expressions(max_depth: int = 4) -> st.SearchStrategy[ast.Node]:
    """Expressions of every form (dsl.md §3.2) nested at most ``max_depth`` levels.

    The AST height is at most ``2 * max_depth + 1`` (an unpack adds a level), far below the
    parse limit of 64 for the default depth.
    """
    strategy = _leaves()
    for _ in range(max_depth):
        strategy = st.one_of(_leaves(), _compound(strategy))
    return strategy


def operator_expressions(max_depth: int = 6) -> st.SearchStrategy[ast.Node]:
    """Trees of operators only (binary, unary minus, ``?:``, one postfix form, unpack).

    Dense in the cases where parentheses matter (dsl.md §12): equal-precedence right operands,
    ``?:`` as operand or receiver, nested unary minus.
    """
    leaf = st.sampled_from((ast.Name("a"), ast.Name("b"), ast.IntLit(1)))
    strategy: st.SearchStrategy[ast.Node] = leaf
    for _ in range(max_depth):
        sub = strategy
        strategy = st.one_of(
            leaf,
            st.builds(ast.Binary, st.sampled_from(_BINARY_OPS), sub, sub),
            st.builds(ast.Binary, st.sampled_from(("-", "/", "<")), sub, sub),
            st.builds(ast.Neg, sub),
            st.builds(ast.Ternary, sub, sub, sub),
            st.builds(ast.Attr, sub, st.just("size")),
            st.builds(ast.Index, sub, st.tuples(sub.map(ast.Unpack))),
        )
    return strategy


def _task_refs() -> st.SearchStrategy[str]:
    return st.one_of(st.just("*"), identifiers())


def _task_lists() -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(identifiers(), min_size=2, max_size=4).map(tuple)


def _region_refs() -> st.SearchStrategy[str | int]:
    return st.one_of(st.just("*"), identifiers(), int_values())


def _kinds(kinds: tuple[str, ...]) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(kinds), min_size=1, max_size=3).map(tuple)


def _map_keys() -> st.SearchStrategy[tuple[str, ...]]:
    return st.one_of(
        _task_refs().map(lambda key: (key,)),
        _task_lists(),
        st.sampled_from(ast.MAP_KIND_KEYS).map(lambda key: (key,)),
    )


def _constraints() -> st.SearchStrategy[ast.LayoutConstraint]:
    return st.one_of(
        st.sampled_from(_NON_ALIGN_WORDS).map(ast.LayoutConstraint),
        st.builds(
            ast.LayoutConstraint, st.just("Align"), st.sampled_from(ast.ALIGN_OPS), int_values()
        ),
    )


def _prints(expr: st.SearchStrategy[ast.Node]) -> st.SearchStrategy[ast.Print]:
    return st.builds(ast.Print, string_contents(), st.lists(expr, max_size=3).map(tuple))


def _func_defs(expr: st.SearchStrategy[ast.Node]) -> st.SearchStrategy[ast.FuncDef]:
    body_stmt = st.one_of(
        st.builds(ast.Assign, identifiers(), expr),
        st.builds(ast.Return, expr),
        _prints(expr),
    )
    param = st.builds(ast.Param, st.sampled_from(ast.TYPE_NAMES), identifiers())
    return st.builds(
        ast.FuncDef,
        identifiers(),
        st.lists(param, max_size=4).map(tuple),
        st.lists(body_stmt, min_size=1, max_size=4).map(tuple),
    )


def statements(max_depth: int = 3) -> st.SearchStrategy[ast.Node]:
    """Top-level statements of every kind (dsl.md §3.1)."""
    expr = expressions(max_depth)
    return st.one_of(
        st.builds(
            ast.TaskStmt,
            st.one_of(_task_refs().map(lambda t: (t,)), _task_lists()),
            _kinds(ast.PROC_KINDS),
        ),
        st.builds(
            ast.RegionStmt,
            _task_refs(),
            _region_refs(),
            st.sampled_from(("*", *ast.PROC_KINDS)),
            _kinds(ast.MEM_KINDS),
        ),
        st.builds(
            ast.LayoutStmt,
            _task_refs(),
            _region_refs(),
            st.sampled_from(("*", *ast.MEM_KINDS)),
            st.lists(_constraints(), max_size=4).map(tuple),
        ),
        st.builds(
            ast.InstanceLimitStmt,
            identifiers(),
            int_values(),
            st.sampled_from((None, "*", *ast.PROC_KINDS)),
        ),
        st.builds(ast.CollectMemoryStmt, _task_refs(), _region_refs()),
        st.builds(ast.IndexTaskMapStmt, _map_keys(), identifiers()),
        st.builds(ast.SingleTaskMapStmt, _map_keys(), identifiers()),
        st.builds(
            ast.ControlReplicateStmt,
            st.one_of(identifiers().map(lambda t: (t,)), _task_lists()),
        ),
        _func_defs(expr),
        st.builds(ast.Assign, identifiers(), expr),
        _prints(expr),
    )


def programs(max_statements: int = 8, max_depth: int = 3) -> st.SearchStrategy[ast.Program]:
    """Whole programs: one to ``max_statements`` statements of any kind, in any order."""
    return st.builds(
        ast.Program,
        st.lists(statements(max_depth), min_size=1, max_size=max_statements).map(tuple),
    )
