"""Canonical pretty-printer of the mapping DSL (dsl.md §12).

``format_program(p)`` is the one text of ``p``: ``parse(format_program(p)) == p`` and formatting
is idempotent, so the text serves as the environment's cache key and as the form shown to
optimizers. Comments and spacing are not kept (the AST has none). Parentheses are derived from
operator precedence, because the AST has no grouping node: the printer adds exactly the ones
needed, plus the few §12 asks for readability (``-(-x)``, a ``?:`` in the middle of another).

The printer assumes a well-formed AST, as :func:`mapper_gym.dsl.parser.parse` builds or as the
node types document (valid names, non-negative integers, strings without ``"`` or newlines);
it does not re-validate. Nesting depth is bounded by the parse limits (expression height 64),
so plain recursion is safe for every AST the parser can produce.
"""

from __future__ import annotations

from mapper_gym.dsl import ast

__all__ = ["format_expr", "format_program", "format_statement"]

_INDENT = "    "

#: Binding strength, loosest first (dsl.md §3.2). Primary and postfix forms share the top level.
_TERNARY = 1
_BINARY_LEVEL: dict[str, int] = {
    "||": 2,
    "&&": 3,
    "==": 4, "!=": 4,
    "<": 5, "<=": 5, ">": 5, ">=": 5,
    "+": 6, "-": 6,
    "*": 7, "/": 7, "%": 7,
}
_NEG = 8
_POSTFIX = 9


def _level(expr: ast.Node) -> int:
    if isinstance(expr, ast.Ternary):
        return _TERNARY
    if isinstance(expr, ast.Binary):
        return _BINARY_LEVEL[expr.op]
    if isinstance(expr, ast.Neg):
        return _NEG
    return _POSTFIX


def _parenthesised(text: str) -> str:
    return f"({text})"


def _binary_operand(expr: ast.Node, parent_level: int, right_side: bool) -> str:
    """A binary operand: parenthesised if it binds looser, or equally on the right."""
    text = format_expr(expr)
    level = _level(expr)
    if level < parent_level or (right_side and level == parent_level):
        return _parenthesised(text)
    return text


def _unary_operand(expr: ast.Node) -> str:
    """Operand of unary minus or of unpack ``*``: ``-(a + b)``, ``-(-x)``, ``*(p ? a : b)``."""
    text = format_expr(expr)
    if isinstance(expr, ast.Binary | ast.Ternary | ast.Neg):
        return _parenthesised(text)
    return text


def _receiver(expr: ast.Node) -> str:
    """Target of ``[ ]``, ``.attr``, ``.method()``: parenthesised unless primary or postfix."""
    text = format_expr(expr)
    if _level(expr) < _POSTFIX:
        return _parenthesised(text)
    return text


def _items(items: tuple[ast.Node, ...]) -> str:
    return ", ".join(format_expr(item) for item in items)


def format_expr(expr: ast.Node) -> str:
    """Canonical text of an expression, an unpack item ``*t`` or a wildcard ``*``.

    The expression is printed as in a delimited position (no parentheses at its top).
    """
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.IntLit):
        return str(expr.value)
    if isinstance(expr, ast.BoolLit):
        return "True" if expr.value else "False"
    if isinstance(expr, ast.Binary):
        level = _BINARY_LEVEL[expr.op]
        left = _binary_operand(expr.left, level, right_side=False)
        right = _binary_operand(expr.right, level, right_side=True)
        return f"{left} {expr.op} {right}"
    if isinstance(expr, ast.Ternary):
        # Only the last operand of a ?: may itself be an unparenthesised ?: (right-assoc).
        cond = _binary_operand(expr.cond, _TERNARY, right_side=True)
        then = _binary_operand(expr.then, _TERNARY, right_side=True)
        return f"{cond} ? {then} : {format_expr(expr.otherwise)}"
    if isinstance(expr, ast.Neg):
        return "-" + _unary_operand(expr.operand)
    if isinstance(expr, ast.Unpack):
        return "*" + _unary_operand(expr.value)
    if isinstance(expr, ast.Wildcard):
        return "*"
    if isinstance(expr, ast.Index):
        return f"{_receiver(expr.target)}[{_items(expr.items)}]"
    if isinstance(expr, ast.Slice):
        lo = "" if expr.lo is None else format_expr(expr.lo)
        hi = "" if expr.hi is None else format_expr(expr.hi)
        return f"{_receiver(expr.target)}[{lo}:{hi}]"
    if isinstance(expr, ast.Attr):
        return f"{_receiver(expr.target)}.{expr.name}"
    if isinstance(expr, ast.MethodCall):
        return f"{_receiver(expr.target)}.{expr.method}({_items(expr.args)})"
    if isinstance(expr, ast.Has):
        return f"{_receiver(expr.target)}.has({expr.memory})"
    if isinstance(expr, ast.Call):
        return f"{expr.func}({_items(expr.args)})"
    if isinstance(expr, ast.MachineExpr):
        return f"Machine({expr.kind})"
    if isinstance(expr, ast.TupleExpr):
        return f"({_items(expr.items)})"
    if isinstance(expr, ast.TupleComp):
        element = format_expr(expr.element)
        return f"tuple({element} for {expr.var} in {format_expr(expr.iterable)})"
    raise TypeError(f"not an expression node: {type(expr).__name__}")


def _constraint(constraint: ast.LayoutConstraint) -> str:
    if constraint.word == "Align":
        return f"Align{constraint.op}{constraint.value}"
    return constraint.word


def _joined(names: tuple[str, ...]) -> str:
    return ",".join(names)


def format_statement(stmt: ast.Node) -> str:
    """Canonical text of one statement; a ``def`` spans several lines (no trailing newline)."""
    if isinstance(stmt, ast.Assign):
        return f"{stmt.name} = {format_expr(stmt.value)};"
    if isinstance(stmt, ast.Return):
        return f"return {format_expr(stmt.value)};"
    if isinstance(stmt, ast.Print):
        args = "".join(", " + format_expr(arg) for arg in stmt.args)
        return f'print("{stmt.fmt}"{args});'
    if isinstance(stmt, ast.TaskStmt):
        return f"Task {_joined(stmt.tasks)} {_joined(stmt.kinds)};"
    if isinstance(stmt, ast.RegionStmt):
        return f"Region {stmt.task} {stmt.region} {stmt.proc} {_joined(stmt.memories)};"
    if isinstance(stmt, ast.LayoutStmt):
        words = "".join(" " + _constraint(c) for c in stmt.constraints)
        return f"Layout {stmt.task} {stmt.region} {stmt.memory}{words};"
    if isinstance(stmt, ast.InstanceLimitStmt):
        return f"InstanceLimit {stmt.task} {stmt.limit};"
    if isinstance(stmt, ast.CollectMemoryStmt):
        return f"CollectMemory {stmt.task} {stmt.region};"
    if isinstance(stmt, ast.IndexTaskMapStmt):
        return f"IndexTaskMap {_joined(stmt.keys)} {stmt.func};"
    if isinstance(stmt, ast.SingleTaskMapStmt):
        return f"SingleTaskMap {_joined(stmt.keys)} {stmt.func};"
    if isinstance(stmt, ast.ControlReplicateStmt):
        return f"ControlReplicate {_joined(stmt.tasks)};"
    if isinstance(stmt, ast.FuncDef):
        params = ", ".join(f"{p.type_name} {p.name}" for p in stmt.params)
        lines = [f"def {stmt.name}({params}) {{"]
        lines.extend(_INDENT + format_statement(body) for body in stmt.body)
        lines.append("}")
        return "\n".join(lines)
    raise TypeError(f"not a statement node: {type(stmt).__name__}")


def format_program(program: ast.Program) -> str:
    """Canonical text of a program (dsl.md §12); ends with exactly one newline.

    One statement per line, one blank line before and after each ``def`` (never two in a row,
    none at the start or the end). An empty program formats as the empty string.
    """
    lines: list[str] = []
    previous_was_def = False
    for stmt in program.statements:
        is_def = isinstance(stmt, ast.FuncDef)
        if lines and (is_def or previous_was_def):
            lines.append("")
        lines.append(format_statement(stmt))
        previous_was_def = is_def
    return "\n".join(lines) + "\n" if lines else ""
