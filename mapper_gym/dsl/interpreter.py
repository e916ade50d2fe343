"""The evaluator of the mapping DSL: the ``load`` and ``map`` phases (dsl.md §4, §5, §7, §9.4).

``load(program, topology)`` runs the top-level statements once, in file order: assignments bind
globals (machine spaces, tuples, ...), ``def`` binds functions, ``print`` prints, and the two
map statements check that their function exists. The result, a :class:`LoadedProgram`, then
evaluates entry functions for every task launch the host (simulator, C++ bridge) asks about:
:meth:`LoadedProgram.call_entry` returns the point or point-set the function chose.

Design points:

* **Errors.** Helpers raise :class:`~mapper_gym.dsl.values.EvalError` (code + exact message);
  the evaluator turns it into a :class:`~mapper_gym.dsl.errors.DSLError` at the innermost
  expression being evaluated, with the call stack in ``context``. Anything unexpected becomes
  ``E-INTERNAL`` ``Internal error``: no Python traceback reaches a user.
* **Steps.** One step is counted per AST node visited: each top-level statement, each body
  statement executed, each expression evaluated, and each ``*x`` / lone ``*`` item processed
  (a ``.has`` receiver ``M[i]`` counts as the index node plus its parts). The limits of §11 are
  checked on every step, so every phase finishes in bounded time, independent of wall-clock.
* **Stack depth.** Evaluation is recursive. It first runs on the caller's thread; if Python's
  recursion limit is hit, the evaluation is discarded (its prints and steps are rolled back) and
  re-run on a helper thread with a 512 MiB stack and a recursion limit of 20,000, far above what
  the §11 limits allow (call depth 16 × expression depth 64). A ``RecursionError`` there (only
  possible for hand-built ASTs that the parser would reject) becomes ``E-INTERNAL``.
* **Caching.** Entry results (and errors) are cached per ``(function, task, kind)``: the
  evaluation is deterministic, so only ``print`` output and step counts can tell, and dsl.md §5.2
  allows it. Cached calls cost no steps and print nothing. A successful result is also cached
  without the task names (of the task and its parents): no expression can read a name except
  ``print``, so tasks that share a placement function and a launch shape (Pennant's thirty
  GPU tasks) evaluate it once. Errors stay per task, because their messages name it.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mapper_gym.dsl import ast
from mapper_gym.dsl.context import Topology
from mapper_gym.dsl.errors import DSLError, Phase, limit_error
from mapper_gym.dsl.mspace import SLICE_BOUND, MachineSpace
from mapper_gym.dsl.values import (
    BOOL_TYPE,
    INT_TYPE,
    TUPLE_EXPR_TYPE,
    TUPLE_INT_TYPE,
    EvalError,
    Point,
    PointSet,
    ProcessorRef,
    TaskRef,
    TaskValue,
    Value,
    as_tuple,
    check_int,
    int_arith,
    int_product,
    is_int,
    is_int_tuple,
    make_tuple,
    render,
    type_name,
)

__all__ = [
    "LOAD_STEP_LIMIT",
    "MAPPING_STEP_LIMIT",
    "MAX_CALL_DEPTH",
    "PER_CALL_STEP_LIMIT",
    "LoadedProgram",
    "Point",
    "PointSet",
    "ProcessorRef",
    "TaskRef",
    "apply_binary",
    "load",
]

#: Step budgets of dsl.md §11.
LOAD_STEP_LIMIT = 1_000_000
PER_CALL_STEP_LIMIT = 100_000
MAPPING_STEP_LIMIT = 10_000_000
#: Deepest chain of user-function calls (recursion included).
MAX_CALL_DEPTH = 16
#: ``print`` output kept per run.
MAX_PRINT_LINES = 1000
MAX_PRINT_BYTES = 65536
PRINT_TRUNCATED = "[print output truncated]"
#: Entry results kept in the cache; beyond this, calls are evaluated every time.
MAX_CACHED_ENTRIES = 100_000

_ARITHMETIC = frozenset({"+", "-", "*", "/", "%"})
_ORDERING = frozenset({"<", "<=", ">", ">="})
_TUPLE_TYPES = frozenset({TUPLE_INT_TYPE, TUPLE_EXPR_TYPE})
_MACHINE_METHODS = frozenset(
    {"split", "merge", "swap", "slice", "reverse", "balance_split", "auto_split", "greedy_split"}
)
_TASK_ONLY_MSG = "TaskNode only support ipoint/ispace/parent in ObjectInvokeNode"
_MSPACE_ONLY_MSG = "MSpace only support Volume/Size/LEN in ObjectInvokeNode"
_TUPLE_ONLY_MSG = "TupleInt only support volume/size/len"
_TUPLE_INDEX_MSG = "Please use tuple-indexing only for a machine model"
_MACHINE_INDEX_MSG = "Must only use tuple of integers to index a machine model"
_UNPACK_MSG = "Unsupported node type after UnpackingNode*"
_HAS_MSG = "has() needs a machine indexed by one integer"
_NO_PARENT_MSG = "Warning: IndexTask or current task does not support get_parent(), returning NULL"
_NO_POINT_MSG = "Warning: currently SingleTask does not support get_point(), failure"
_NO_SPACE_MSG = "Warning: currently SingleTask does not support get_space(), failure"
_NO_PROCESSOR_MSG = (
    "Warning: index launch task does not support getting node index or processor index for now"
)
_RETURN_MSG = "Must return TupleIntType or SetTupleIntType after invoking mapping function"

#: Parameter types: which values each declared type accepts (dsl.md §4 "Declared as").
_PARAM_ACCEPTS: dict[str, Callable[[Value], bool]] = {
    "int": is_int,
    "bool": lambda v: type(v) is bool,
    "IPoint": is_int_tuple,
    "ISpace": is_int_tuple,
    "MSpace": lambda v: isinstance(v, MachineSpace),
    "Task": lambda v: isinstance(v, TaskValue),
}


# ---------------------------------------------------------------------------------------------
# Operators
# ---------------------------------------------------------------------------------------------


def _category(name: str) -> str:
    return "tuple" if name in _TUPLE_TYPES else name


def apply_binary(op: str, left: Value, right: Value) -> Value:
    """``left op right`` for already evaluated operands (dsl.md §7.1); raises EvalError.

    ``&&``/``||`` short-circuiting is the evaluator's business; here both sides are known.
    """
    left_type, right_type = type_name(left), type_name(right)
    if _category(left_type) != _category(right_type):
        raise EvalError("E-TYPE", f"type mismatch!!\n{left_type}\n{right_type}")
    if left_type == INT_TYPE:
        if op in _ARITHMETIC:
            return int_arith(op, left, right)
        if op == "==":
            return left == right
        if op == "!=":
            return left != right
        if op == "<":
            return left < right
        if op == "<=":
            return left <= right
        if op == ">":
            return left > right
        if op == ">=":
            return left >= right
        raise EvalError("E-TYPE", "Unsupported binary operator for Integer")
    if left_type == BOOL_TYPE:
        if op == "==":
            return left is right
        if op == "!=":
            return left is not right
        if op == "&&":
            return left and right
        if op == "||":
            return left or right
        raise EvalError("E-TYPE", "Unsupported binary operator for Boolean variable")
    if left_type in _TUPLE_TYPES:
        if op not in _ARITHMETIC:
            raise EvalError("E-TYPE", "Unsupported binary operator for TupleIntNode")
        lhs, rhs = as_tuple(left), as_tuple(right)
        assert lhs is not None and rhs is not None
        if len(lhs) != len(rhs):
            raise EvalError("E-TYPE", "Dimension mismatch in TupleIntNode's binary operation")
        if not all(type(x) is int for x in lhs) or not all(type(x) is int for x in rhs):
            raise EvalError(
                "E-TYPE", "Only IntValType inside TupleExprNode is allowed in binary operation"
            )
        return tuple(int_arith(op, a, b) for a, b in zip(lhs, rhs, strict=True))
    raise EvalError("E-TYPE", "Unsupported operator type in BinaryExprNode")


def negate(value: Value) -> Value:
    """Unary minus on an int or an all-int tuple / point (dsl.md §10 #18)."""
    if type(value) is int:
        return check_int(-value)
    items = as_tuple(value)
    if items is not None and all(type(x) is int for x in items):
        return tuple(check_int(-x) for x in items)
    raise EvalError("E-TYPE", "Negating node must be applied to Int/TupleExpr/TupleInt")


# ---------------------------------------------------------------------------------------------
# Print output
# ---------------------------------------------------------------------------------------------


@dataclass
class _PrintSink:
    """``print`` output with the §11 cap: 1000 lines or 65536 bytes, then one marker line."""

    lines: list[str] = field(default_factory=list)
    size: int = 0
    truncated: bool = False

    def emit(self, line: str) -> None:
        if self.truncated:
            return
        cost = len(line.encode("utf-8")) + 1
        if len(self.lines) + 1 > MAX_PRINT_LINES or self.size + cost > MAX_PRINT_BYTES:
            self.lines.append(PRINT_TRUNCATED)
            self.truncated = True
            return
        self.lines.append(line)
        self.size += cost

    def snapshot(self) -> tuple[int, int, bool]:
        return len(self.lines), self.size, self.truncated

    def restore(self, state: tuple[int, int, bool]) -> None:
        count, self.size, self.truncated = state
        del self.lines[count:]


# ---------------------------------------------------------------------------------------------
# The evaluator
# ---------------------------------------------------------------------------------------------


class _Evaluator:
    """One evaluation (a whole ``load`` or one call): step counter, call stack, error context."""

    def __init__(
        self,
        *,
        phase: Phase,
        program: LoadedProgram,
        step_limit: int,
        limit_what: str,
        limit_value: int,
        context: dict[str, Any] | None = None,
    ) -> None:
        self.phase = phase
        self.program = program
        self.globals = program.globals
        self.functions = program.functions
        self.step_limit = step_limit
        self.limit_what = limit_what
        self.limit_value = limit_value
        self.context = context or {}
        self.steps = 0
        #: Active user-function frames: ``[name, node of the call this frame is making]``.
        self.stack: list[list[Any]] = []
        self.last_node: ast.Node | None = None
        #: ``Return`` expression of the outermost call (for E-RETURN / E-KIND positions).
        self.returned: ast.Node | None = None

    # -- errors ------------------------------------------------------------------------------

    def error(self, code: str, message: str, node: ast.Node | None, hint: str | None = None):
        """A DSLError at ``node`` with the current stack (innermost frame at ``node``)."""
        line, column = (node.line, node.column) if node is not None else (0, 0)
        context = dict(self.context)
        if self.stack:
            frames = [
                [name, call.line, call.column] if call is not None else [name, 0, 0]
                for name, call in self.stack[:-1]
            ]
            frames.append([self.stack[-1][0], line, column])
            context["stack"] = frames
        elif self.phase == "map":
            context["stack"] = []
        return DSLError.make(self.phase, code, message, line, column, hint=hint, context=context)

    def tick(self, node: ast.Node) -> None:
        """Count one step; E-LIMIT (the step is not taken) when the budget is exhausted."""
        if self.steps >= self.step_limit:
            raise self._limit(node)
        self.steps += 1

    def _limit(self, node: ast.Node) -> DSLError:
        error = limit_error(self.phase, self.limit_what, self.limit_value, node.line, node.column)
        return self.error(error.code, error.message, node)

    # -- expressions -------------------------------------------------------------------------

    def eval(self, node: ast.Node, env: dict[str, Value]) -> Value:
        """Evaluate an expression node; ``env`` holds the locals (and comprehension variables)."""
        if self.steps >= self.step_limit:
            raise self._limit(node)
        self.steps += 1
        self.last_node = node
        try:
            handler = _DISPATCH[type(node)]
        except KeyError:
            raise self.error("E-INTERNAL", "Internal error", node) from None
        try:
            return handler(self, node, env)
        except DSLError:
            raise
        except EvalError as exc:
            raise self.error(exc.code, exc.message, node) from None
        except RecursionError:
            raise
        except Exception:
            raise self.error("E-INTERNAL", "Internal error", node) from None

    def _int_lit(self, node: ast.IntLit, env: dict[str, Value]) -> Value:
        return check_int(node.value)

    def _bool_lit(self, node: ast.BoolLit, env: dict[str, Value]) -> Value:
        return bool(node.value)

    def _name(self, node: ast.Name, env: dict[str, Value]) -> Value:
        name = node.id
        if name in env:
            return env[name]
        if name in self.globals:
            return self.globals[name]
        if name in self.functions:
            raise EvalError("E-FUNCVALUE", "Cannot Assign FuncDefType")
        raise EvalError("E-NAME", f"{name} not found")

    def _machine(self, node: ast.MachineExpr, env: dict[str, Value]) -> Value:
        return self.program.machine(node.kind)

    def items(self, items: Sequence[ast.Node], env: dict[str, Value]) -> list[Value]:
        """Evaluate call arguments / tuple items, splicing ``*t``."""
        values: list[Value] = []
        for item in items:
            if type(item) is ast.Unpack:
                self.tick(item)
                spliced = as_tuple(self.eval(item.value, env))
                if spliced is None:
                    raise self.error("E-INDEX", _UNPACK_MSG, item)
                values.extend(spliced)
            else:
                values.append(self.eval(item, env))
        return values

    def _tuple(self, node: ast.TupleExpr, env: dict[str, Value]) -> Value:
        return make_tuple(self.items(node.items, env))

    def _comprehension(self, node: ast.TupleComp, env: dict[str, Value]) -> Value:
        source = as_tuple(self.eval(node.iterable, env))
        if source is None:
            raise EvalError("E-COMP", "For-comprehension must itererate over TupleExpr or TupleInt")
        var = node.var
        missing = object()
        saved = env.get(var, missing)
        results: list[Value] = []
        try:
            for element in source:
                env[var] = element
                results.append(self.eval(node.element, env))
        finally:
            if saved is missing:
                env.pop(var, None)
            else:
                env[var] = saved
        return make_tuple(results)

    def _binary(self, node: ast.Binary, env: dict[str, Value]) -> Value:
        op = node.op
        left = self.eval(node.left, env)
        if type(left) is bool:
            if op == "&&" and not left:
                return False
            if op == "||" and left:
                return True
        right = self.eval(node.right, env)
        return apply_binary(op, left, right)

    def _neg(self, node: ast.Neg, env: dict[str, Value]) -> Value:
        return negate(self.eval(node.operand, env))

    def _ternary(self, node: ast.Ternary, env: dict[str, Value]) -> Value:
        condition = self.eval(node.cond, env)
        if type(condition) is not bool:
            raise EvalError("E-TYPE", "Condition of ?: must be a bool")
        return self.eval(node.then if condition else node.otherwise, env)

    def _index(self, node: ast.Index, env: dict[str, Value]) -> Value:
        target = self.eval(node.target, env)
        if isinstance(target, MachineSpace):
            coords: list[int | None] = []
            for item in node.items:
                if type(item) is ast.Wildcard:
                    self.tick(item)
                    coords.append(None)
                    continue
                if type(item) is ast.Unpack:
                    self.tick(item)
                    spliced = as_tuple(self.eval(item.value, env))
                    if spliced is None:
                        raise self.error("E-INDEX", _UNPACK_MSG, item)
                else:
                    spliced = (self.eval(item, env),)
                if not all(type(x) is int for x in spliced):
                    raise EvalError("E-INDEX", _MACHINE_INDEX_MSG)
                coords.extend(spliced)
            return target.index(coords)
        sequence = as_tuple(target)
        if sequence is None:
            raise EvalError(
                "E-INDEX",
                f"Unsupported IndexExprNode tuple's type: {type_name(target)} using integer index",
            )
        if any(type(item) is ast.Wildcard for item in node.items):
            raise EvalError("E-INDEX", _TUPLE_INDEX_MSG)
        indices = self.items(node.items, env)
        if len(indices) != 1 or type(indices[0]) is not int:
            raise EvalError("E-INDEX", _TUPLE_INDEX_MSG)
        position = indices[0]
        if not -len(sequence) <= position < len(sequence):
            raise EvalError("E-INDEX", "Index out of bound for TupleIntNode")
        return sequence[position]

    def _slice(self, node: ast.Slice, env: dict[str, Value]) -> Value:
        target = self.eval(node.target, env)
        lo = self.eval(node.lo, env) if node.lo is not None else None
        hi = self.eval(node.hi, env) if node.hi is not None else None
        for bound in (lo, hi):
            if bound is not None and type(bound) is not int:
                raise EvalError(
                    "E-INDEX", "Left/Right side of SliceExprNode must be NULL or integer"
                )
        sequence = target.size if isinstance(target, MachineSpace) else as_tuple(target)
        if sequence is None:
            raise EvalError("E-INDEX", "unsupported IndexExprNode's type for slicing")
        return sequence[lo:hi]

    def _attr(self, node: ast.Attr, env: dict[str, Value]) -> Value:
        target = self.eval(node.target, env)
        name = node.name
        if isinstance(target, TaskValue):
            return self._task_property(target, name)
        if isinstance(target, MachineSpace):
            if name == "size":
                return target.size
            if name == "len":
                return target.rank
            if name == "volume":
                return check_int(target.volume)
            raise EvalError("E-ATTR", _MSPACE_ONLY_MSG)
        sequence = as_tuple(target)
        if sequence is None:
            raise EvalError("E-ATTR", f"{type_name(target)} is not supported ObjectInvokeNode")
        if name == "size":
            return sequence
        if name == "len":
            return len(sequence)
        if name == "volume":
            if not all(type(x) is int for x in sequence):
                raise EvalError(
                    "E-TYPE", "Only IntValType inside TupleExprNode is allowed in binary operation"
                )
            return int_product(sequence)
        raise EvalError("E-ATTR", _TUPLE_ONLY_MSG)

    def _task_property(self, task: TaskValue, name: str) -> Value:
        ref = task.ref
        if name == "ipoint":
            if task.role != "index" or ref.ipoint is None:
                raise EvalError("E-TASK", _NO_POINT_MSG)
            return tuple(ref.ipoint)
        if name == "ispace":
            if task.role != "index" or ref.ispace is None:
                raise EvalError("E-TASK", _NO_SPACE_MSG)
            return tuple(ref.ispace)
        if name == "parent":
            if task.role == "index" or ref.parent is None:
                raise EvalError("E-TASK", _NO_PARENT_MSG)
            return TaskValue(ref.parent, "parent")
        raise EvalError("E-ATTR", _TASK_ONLY_MSG)

    def _method(self, node: ast.MethodCall, env: dict[str, Value]) -> Value:
        target = self.eval(node.target, env)
        method = node.method
        if isinstance(target, MachineSpace):
            if method not in _MACHINE_METHODS:
                raise EvalError("E-ATTR", _MSPACE_ONLY_MSG)
        elif isinstance(target, TaskValue):
            if method != "processor":
                raise EvalError("E-ATTR", _TASK_ONLY_MSG)
        elif as_tuple(target) is not None:
            raise EvalError("E-ATTR", _TUPLE_ONLY_MSG)
        else:
            raise EvalError("E-ATTR", f"{type_name(target)} is not supported ObjectInvokeNode")
        args = self.items(node.args, env)
        expected = ast.METHOD_ARITY[method]
        if len(args) != expected:
            raise EvalError(
                "E-METHOD-ARGC", f"{method}() takes {expected} arguments, got {len(args)}"
            )
        if isinstance(target, TaskValue):
            return self._task_processor(target, args[0], node)
        int_args = args[:1] if method in ("auto_split", "greedy_split") else args
        for arg in int_args:
            if type(arg) is not int:
                raise EvalError(
                    "E-MSPACE",
                    f"{method}'s arguments must be integers, while getting {type_name(arg)}",
                )
        return getattr(target, method)(*args)

    def _task_processor(self, task: TaskValue, machine: Value, node: ast.Node) -> Value:
        if task.role == "index":
            raise EvalError("E-TASK", _NO_PROCESSOR_MSG)
        if not isinstance(machine, MachineSpace):
            raise EvalError(
                "E-MSPACE",
                f"processor's argument must be a machine space, while getting {type_name(machine)}",
            )
        where = task.ref.processor
        if where is None:
            raise self.error(
                "E-INTERNAL",
                "Internal error",
                node,
                hint=f"the host did not say which processor task {task.ref.name} runs on",
            )
        return machine.forward(where.node, where.index)

    def _has(self, node: ast.Has, env: dict[str, Value]) -> Value:
        receiver = node.target
        if (
            type(receiver) is not ast.Index
            or len(receiver.items) != 1
            or type(receiver.items[0]) in (ast.Unpack, ast.Wildcard)
        ):
            raise EvalError("E-ATTR", _HAS_MSG)
        self.tick(receiver)
        machine = self.eval(receiver.target, env)
        if not isinstance(machine, MachineSpace):
            raise EvalError("E-ATTR", _HAS_MSG)
        index = self.eval(receiver.items[0], env)
        if type(index) is not int:
            raise EvalError("E-ATTR", _HAS_MSG)
        processors = machine.processors_per_node
        if not 0 <= index < processors:
            detail = f"{index} < 0" if index < 0 else f"{index} >= {processors}"
            raise EvalError("E-BOUNDS", f"{SLICE_BOUND}\n{detail}")
        return bool(self.program.topology.can_use(machine.kind, node.memory))

    def _call(self, node: ast.Call, env: dict[str, Value]) -> Value:
        name = node.func
        if name in env or name in self.globals:
            raise EvalError("E-NOTFUNC", f"{name} is not a function")
        func = self.functions.get(name)
        if func is None:
            raise EvalError("E-NAME", f"{name} not found")
        return self.invoke(func, self.items(node.args, env), node)

    # -- functions and statements ------------------------------------------------------------

    def invoke(self, func: ast.FuncDef, args: Sequence[Value], site: ast.Node) -> Value:
        """Run ``func`` on evaluated ``args``; ``site`` is the call (or entry) position."""
        if len(args) != len(func.params):
            raise self.error("E-ARGC", "argument number mismatch!", site)
        if len(self.stack) >= MAX_CALL_DEPTH:
            error = limit_error(self.phase, "call depth", MAX_CALL_DEPTH)
            raise self.error(error.code, error.message, site)
        local: dict[str, Value] = {}
        for param, arg in zip(func.params, args, strict=True):
            if not _PARAM_ACCEPTS[param.type_name](arg):
                raise self.error(
                    "E-ARGTYPE",
                    f"argument type mismatch: parameter {param.name} of {func.name} "
                    f"expects {param.type_name}",
                    site,
                )
            local[param.name] = arg
        if self.stack:
            self.stack[-1][1] = site
        self.stack.append([func.name, None])
        try:
            for stmt in func.body:
                self.tick(stmt)
                if type(stmt) is ast.Return:
                    value = self.eval(stmt.value, local)
                    if len(self.stack) == 1:
                        self.returned = stmt.value
                    return value
                if type(stmt) is ast.Assign:
                    local[stmt.name] = self.eval(stmt.value, local)
                elif type(stmt) is ast.Print:
                    self.print(stmt, local)
                else:
                    raise self.error("E-INTERNAL", "Internal error", stmt)
            raise self.error("E-NORETURN", "Error: function without return", func)
        finally:
            self.stack.pop()

    def print(self, stmt: ast.Print, env: dict[str, Value]) -> None:
        """``print("... {} ...", args)``: each ``{}`` takes the next argument's rendering."""
        values = [self.eval(arg, env) for arg in stmt.args]
        pieces = stmt.fmt.split("{}")
        if len(pieces) - 1 > len(values):
            raise self.error("E-PRINT-ARGS", "Not enough arguments for print()", stmt)
        text = pieces[0] + "".join(
            render(value) + piece for value, piece in zip(values, pieces[1:], strict=False)
        )
        self.program.sink.emit(text)

    def run_top_level(self) -> None:
        """The load phase: every top-level statement once, in file order (dsl.md §5.1)."""
        program = self.program
        for stmt in program.program.statements:
            self.tick(stmt)
            self.last_node = stmt
            kind = type(stmt)
            if kind is ast.Assign:
                if stmt.name in self.globals or stmt.name in self.functions:
                    raise self.error(
                        "E-GLOBAL-DUP",
                        f"AssignNode multiple {stmt.name} cause conflicts in global_symbol!",
                        stmt,
                    )
                self.globals[stmt.name] = self.eval(stmt.value, {})
            elif kind is ast.FuncDef:
                if stmt.name not in self.functions and stmt.name not in self.globals:
                    self.functions[stmt.name] = stmt
            elif kind is ast.Print:
                self.print(stmt, {})
            elif kind is ast.IndexTaskMapStmt or kind is ast.SingleTaskMapStmt:
                self._check_map_function(stmt)

    def _check_map_function(self, stmt: ast.IndexTaskMapStmt | ast.SingleTaskMapStmt) -> None:
        """Map statements look their function up when they run (dsl.md §5.1, §9.3)."""
        index = type(stmt) is ast.IndexTaskMapStmt
        statement = "IndexTaskMap" if index else "SingleTaskMap"
        func = self.functions.get(stmt.func)
        if func is None:
            if stmt.func in self.globals:
                raise self.error(
                    "E-MAP-NOTFUNC", f"{statement}'s mapping function is undefined", stmt
                )
            raise self.error("E-MAP-UNDEF", f"{statement}'s function undefined", stmt)
        if not _is_entry_signature(func):
            raise self.error("E-MAP-SIG", _entry_signature_message(index), stmt)


def _is_entry_signature(func: ast.FuncDef) -> bool:
    return len(func.params) == 1 and func.params[0].type_name == "Task"


def _entry_signature_message(index_launch: bool) -> str:
    if index_launch:
        return "Entry mapping function's definition must be like func(Task t)"
    return "Entry mapping function's must be like func(Task t)"


_DISPATCH: dict[type, Callable[[_Evaluator, Any, dict[str, Value]], Value]] = {
    ast.IntLit: _Evaluator._int_lit,
    ast.BoolLit: _Evaluator._bool_lit,
    ast.Name: _Evaluator._name,
    ast.Call: _Evaluator._call,
    ast.MachineExpr: _Evaluator._machine,
    ast.TupleExpr: _Evaluator._tuple,
    ast.TupleComp: _Evaluator._comprehension,
    ast.Binary: _Evaluator._binary,
    ast.Neg: _Evaluator._neg,
    ast.Ternary: _Evaluator._ternary,
    ast.Index: _Evaluator._index,
    ast.Slice: _Evaluator._slice,
    ast.Attr: _Evaluator._attr,
    ast.MethodCall: _Evaluator._method,
    ast.Has: _Evaluator._has,
}


# ---------------------------------------------------------------------------------------------
# Running with enough stack
# ---------------------------------------------------------------------------------------------

_DEEP_STACK_BYTES = 512 * 1024 * 1024
_DEEP_RECURSION_LIMIT = 20_000
_deep_lock = threading.Lock()
_T = TypeVar("_T")


def _run_on_deep_stack(work: Callable[[], _T]) -> _T:
    """Run ``work`` on a fresh thread with a big stack and a raised recursion limit.

    The recursion limit is process-wide, so it is raised only while the helper thread runs (the
    caller waits for it) and put back afterwards unless someone else changed it meanwhile.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed to the calling thread below
            outcome["error"] = exc

    with _deep_lock:
        old_limit = sys.getrecursionlimit()
        new_limit = max(old_limit, _DEEP_RECURSION_LIMIT)
        sys.setrecursionlimit(new_limit)
        old_stack = threading.stack_size(_DEEP_STACK_BYTES)
        try:
            thread = threading.Thread(target=target, name="mapper-gym-dsl-eval", daemon=True)
            thread.start()
        finally:
            threading.stack_size(old_stack)
        try:
            thread.join()
        finally:
            if sys.getrecursionlimit() == new_limit:
                sys.setrecursionlimit(old_limit)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _guarded(
    program: LoadedProgram,
    make: Callable[[], _Evaluator],
    work: Callable[[_Evaluator], _T],
    reset: Callable[[], None] | None = None,
) -> tuple[_T | None, DSLError | None, _Evaluator]:
    """Run ``work`` on a new evaluator; return ``(value, error, evaluator)``.

    A ``RecursionError`` on the caller's stack discards the attempt (prints, and whatever
    ``reset`` undoes) and retries on a deep stack; there, it is an internal error.
    """
    saved = program.sink.snapshot()
    evaluator = make()
    try:
        return work(evaluator), None, evaluator
    except DSLError as exc:
        return None, exc, evaluator
    except RecursionError:
        pass
    except Exception:
        return None, evaluator.error("E-INTERNAL", "Internal error", evaluator.last_node), evaluator
    program.sink.restore(saved)
    if reset is not None:
        reset()
    evaluator = make()

    def deep() -> tuple[_T | None, DSLError | None]:
        try:
            return work(evaluator), None
        except DSLError as exc:
            return None, exc
        except Exception:  # RecursionError, MemoryError, anything unexpected
            return None, evaluator.error("E-INTERNAL", "Internal error", evaluator.last_node)

    value, error = _run_on_deep_stack(deep)
    return value, error, evaluator


# ---------------------------------------------------------------------------------------------
# Loaded programs
# ---------------------------------------------------------------------------------------------


class LoadedProgram:
    """A program after ``load``: globals, functions, ``print`` output, and entry evaluation.

    Attributes:
        program: the AST.
        topology: the machine the program was loaded for.
        globals: global values bound by top-level assignments.
        functions: the ``def``'d functions (first definition of each name).
        output: ``print`` lines so far (load and map), capped as dsl.md §11 says.
    """

    def __init__(self, program: ast.Program, topology: Topology) -> None:
        self.program = program
        self.topology = topology
        self.globals: dict[str, Value] = {}
        self.functions: dict[str, ast.FuncDef] = {}
        self.sink = _PrintSink()
        self.mapping_steps = 0
        self._machines: dict[str, MachineSpace] = {}
        self._entry_cache: dict[tuple, Value | DSLError] = {}

    @property
    def output(self) -> list[str]:
        return self.sink.lines

    def machine(self, kind: str) -> MachineSpace:
        """``Machine(kind)`` on this program's topology."""
        space = self._machines.get(kind)
        if space is None:
            space = MachineSpace.base(
                kind, self.topology.nodes, self.topology.processors_per_node(kind)
            )
            self._machines[kind] = space
        return space

    def has_function(self, name: str) -> bool:
        return name in self.functions

    # -- load ----------------------------------------------------------------------------------

    def _load(self) -> None:
        def make() -> _Evaluator:
            return _Evaluator(
                phase="load",
                program=self,
                step_limit=LOAD_STEP_LIMIT,
                limit_what="evaluation steps",
                limit_value=LOAD_STEP_LIMIT,
            )

        def reset() -> None:
            self.globals.clear()
            self.functions.clear()

        _, error, _ = _guarded(self, make, _Evaluator.run_top_level, reset)
        if error is not None:
            raise error

    # -- map -----------------------------------------------------------------------------------

    def _map_evaluator(self, context: dict[str, Any]) -> _Evaluator:
        remaining = MAPPING_STEP_LIMIT - self.mapping_steps
        if remaining < PER_CALL_STEP_LIMIT:
            return _Evaluator(
                phase="map",
                program=self,
                step_limit=max(remaining, 0),
                limit_what="evaluation steps for all mapping",
                limit_value=MAPPING_STEP_LIMIT,
                context=context,
            )
        return _Evaluator(
            phase="map",
            program=self,
            step_limit=PER_CALL_STEP_LIMIT,
            limit_what="evaluation steps",
            limit_value=PER_CALL_STEP_LIMIT,
            context=context,
        )

    def _run_map(
        self, context: dict[str, Any], work: Callable[[_Evaluator], _T]
    ) -> tuple[_T | None, DSLError | None, _Evaluator]:
        steps_before = self.mapping_steps

        def make() -> _Evaluator:
            return self._map_evaluator(context)

        value, error, evaluator = _guarded(self, make, work)
        self.mapping_steps = steps_before + evaluator.steps
        return value, error, evaluator

    def call(self, func: str, args: list[Value]) -> Value:
        """Call a ``def``'d function on values (map phase; counts against the mapping budget)."""
        definition = self.functions.get(func)
        if definition is None:
            raise DSLError.make("map", "E-NAME", f"{func} not found")

        def work(evaluator: _Evaluator) -> Value:
            return evaluator.invoke(definition, args, definition)

        value, error, _ = self._run_map({}, work)
        if error is not None:
            raise error
        return value

    def call_entry(self, func: str, task: TaskRef, *, kind: str) -> Point | PointSet:
        """Evaluate entry function ``func`` for ``task``, whose processor kind is ``kind``.

        Returns the point or point-set chosen (in base coordinates, tagged with the kind).
        Raises DSLError(kind="map"), with ``context`` = task, point and call stack.
        """
        key: tuple[str, TaskRef, str] | None = (func, task, kind)
        try:
            cached = self._entry_cache.get(key)  # type: ignore[arg-type]
        except TypeError:  # a host passed lists instead of tuples: evaluate, do not cache
            cached, key = None, None
        if cached is not None:
            if isinstance(cached, DSLError):
                raise cached
            return cached
        # A 4-tuple, so it never equals the exact key of a task whose name happens to be "".
        anonymous = None if key is None else (func, _without_names(task), kind, "any name")
        if anonymous is not None:
            shared = self._entry_cache.get(anonymous)
            if shared is not None:
                return shared  # type: ignore[return-value]
        try:
            result = self._evaluate_entry(func, task, kind)
        except DSLError as exc:
            self._remember(key, exc)
            raise
        self._remember(anonymous, result)  # successes are shared; errors stay per task
        return result

    def _remember(self, key: tuple | None, outcome: Value | DSLError) -> None:
        if key is not None and len(self._entry_cache) < MAX_CACHED_ENTRIES:
            self._entry_cache[key] = outcome

    def _evaluate_entry(self, func: str, task: TaskRef, kind: str) -> Point | PointSet:
        if task.index_launch and (task.ipoint is None or task.ispace is None):
            raise ValueError(f"index-launch task {task.name} needs ipoint and ispace")
        context: dict[str, Any] = {
            "task": task.name,
            "point": list(task.ipoint) if task.ipoint is not None else None,
        }
        definition = self.functions.get(func)
        statement = "IndexTaskMap" if task.index_launch else "SingleTaskMap"
        if definition is None:
            raise DSLError.make(
                "map",
                "E-MAP-UNDEF",
                f"{statement}'s function undefined",
                context={**context, "stack": []},
            )
        if not _is_entry_signature(definition):
            raise DSLError.make(
                "map",
                "E-MAP-SIG",
                _entry_signature_message(task.index_launch),
                definition.line,
                definition.column,
                context={**context, "stack": []},
            )
        argument = TaskValue(task, "index" if task.index_launch else "single")

        def work(evaluator: _Evaluator) -> Value:
            return evaluator.invoke(definition, [argument], definition)

        value, error, evaluator = self._run_map(context, work)
        if error is not None:
            raise error
        where = evaluator.returned or definition
        frames = {**context, "stack": [[definition.name, where.line, where.column]]}
        if not isinstance(value, Point | PointSet):
            raise DSLError.make(
                "map", "E-RETURN", _RETURN_MSG, where.line, where.column, context=frames
            )
        if value.kind != kind:
            raise DSLError.make(
                "map",
                "E-KIND",
                f"{task.name} is actually mapped to {kind}, but machine model is for {value.kind}",
                where.line,
                where.column,
                context=frames,
            )
        return value


def load(program: ast.Program, topology: Topology) -> LoadedProgram:
    """Run the top-level statements of ``program`` on ``topology`` (the ``load`` phase).

    Raises DSLError(kind="load") at the first run-time error (dsl.md §9.4).
    """
    loaded = LoadedProgram(program, topology)
    loaded._load()
    return loaded


def _without_names(task: TaskRef | None) -> TaskRef | None:
    """``task`` and its parents with empty names: what an entry function can observe of it."""
    if task is None:
        return None
    return TaskRef(name="", ipoint=task.ipoint, ispace=task.ispace,
                   parent=_without_names(task.parent), processor=task.processor,
                   index_launch=task.index_launch)
