"""The ``check`` phase: static analysis of a parsed program (dsl.md §9.3).

The checker needs no machine: it finds everything that can be known from the text alone, so an
optimizer gets all of a program's problems in one round instead of one per run (§10 #37). It
reports every finding, errors and warnings, sorted by position; nothing here raises for bad
input.

Errors (exact messages of §9.3): E-GLOBAL-DUP, E-MAP-UNDEF, E-MAP-NOTFUNC, E-MAP-SIG, E-NAME,
E-NOTFUNC, E-FUNCVALUE, E-ARGC, E-METHOD-ARGC, E-NORETURN, E-PRINT-ARGS, E-ALIGN and E-LIMIT
(the structural limits of §11 that an AST can break: statement, ``def``, body and parameter
counts, names in one list, expression height; lexical limits belong to the parser).

Findings inside a function body are errors only when the function is *reachable*: named by an
``IndexTaskMap``/``SingleTaskMap`` statement, called from a top-level expression, or called by
a reachable function. In any other function (including a duplicate ``def``, which is ignored)
the original never evaluated the body, so the same finding is a warning ``W-UNREACHABLE`` whose
message is the original message followed by ``[<code> in unused function <f>]``.

Warnings of §9.3: W-DUP-KEY, W-STAR-INERT, W-LEGACY-LIMIT, W-LIMIT-ZERO (from
:func:`~mapper_gym.dsl.policy.build_policy`), W-DUP-DEF, W-DEAD-CODE, W-PRINT-EXTRA,
W-UNREACHABLE, W-UNKNOWN-NAME (needs ``app``).

Our own warnings for policy statements that can never take effect (a later duplicate key is
already W-DUP-KEY, a task the application lacks is W-UNKNOWN-NAME):

- ``W-NO-EFFECT`` (needs ``app``): the statement names something the application has, but the
  combination never occurs: ``IndexTaskMap`` on a task that is never index-launched,
  ``SingleTaskMap`` on a task that is never single-launched, a region name or index that the
  named task's arguments do not have (or that no task has, for ``*``), a ``Task`` kind or a
  ``Region`` processor kind for which the task has no variant; also, without ``app``, a
  ``Layout`` for ``VIRTUAL`` (a virtual mapping creates no instance to lay out).
- ``W-NO-PROC-KIND`` (needs ``topology``): a ``Task``/``Region`` processor kind or an
  ``IndexTaskMap``/``SingleTaskMap`` kind key of which the machine has no processor.
- ``W-MEM-UNUSABLE`` (needs ``topology``): a ``Region`` memory that no processor of the
  statement's kind (of any kind present, for ``*``) can use, or a ``Layout`` memory kind that
  no processor of the machine can use: the entry is always skipped.

Positions: the name concerned when it is an AST node (names in expressions, ``Align`` words,
parameters), otherwise the statement (policy statements, assignments, ``def``s).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from mapper_gym.dsl import ast
from mapper_gym.dsl.context import AppInfo, TaskInfo, Topology
from mapper_gym.dsl.errors import Diagnostic, Severity
from mapper_gym.dsl.policy import build_policy

# Structural limits of dsl.md §11 that a (possibly hand-built) AST can exceed.
MAX_TOP_LEVEL_STATEMENTS = 1000
MAX_DEFS = 200
MAX_BODY_STATEMENTS = 200
MAX_PARAMS = 16
MAX_LIST_NAMES = 256
MAX_EXPR_DEPTH = 64
MAX_ALIGN = 1048576

MSG_FUNCVALUE = "Cannot Assign FuncDefType"
MSG_ARGC = "argument number mismatch!"
MSG_NORETURN = "Error: function without return"
MSG_PRINT_ARGS = "Not enough arguments for print()"
MSG_ALIGN = "Align value must be a power of two between 1 and 1048576"
MAP_MESSAGES: dict[str, dict[str, str]] = {
    "IndexTaskMap": {
        "E-MAP-UNDEF": "IndexTaskMap's function undefined",
        "E-MAP-NOTFUNC": "IndexTaskMap's mapping function is undefined",
        "E-MAP-SIG": "Entry mapping function's definition must be like func(Task t)",
    },
    "SingleTaskMap": {
        "E-MAP-UNDEF": "SingleTaskMap's function undefined",
        "E-MAP-NOTFUNC": "SingleTaskMap's mapping function is undefined",
        "E-MAP-SIG": "Entry mapping function's must be like func(Task t)",  # sic (§9.3)
    },
}


def check(
    program: ast.Program, app: AppInfo | None = None, topology: Topology | None = None
) -> list[Diagnostic]:
    """Every static finding about ``program``, errors and warnings, sorted by (line, column).

    ``app`` enables the application-name warnings (W-UNKNOWN-NAME, W-NO-EFFECT) and
    ``topology`` the machine warnings (W-NO-PROC-KIND, W-MEM-UNUSABLE); both are optional.
    All diagnostics have ``kind="check"``. An unexpected internal failure becomes one
    ``E-INTERNAL`` finding at the statement being processed instead of a traceback.
    """
    checker = _Checker(program, app, topology)
    try:
        checker.run()
    except Exception:  # a checker bug must not reach the user as a traceback (§9.1)
        line, column = checker.position
        checker.findings.append(
            Diagnostic(kind="check", code="E-INTERNAL", message="Internal error",
                       line=line, column=column)
        )
    return sorted(checker.findings, key=lambda d: (d.line, d.column))


# ---------------------------------------------------------------------------------------------
# Name bindings
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Global:
    """What a global name is bound to: a value (top-level assignment) or a function."""

    kind: Literal["value", "func"]
    line: int
    column: int
    func: ast.FuncDef | None = None
    #: Index of the binding statement in ``program.statements``.
    index: int = -1


@dataclass
class _Scope:
    """Names visible to an expression.

    ``locals`` are parameters, locals assigned so far and comprehension variables (all values,
    shadowing globals of the same name). ``globals`` are the globals visible: those bound
    earlier for a top-level expression, all of them inside a function body. ``statement``
    is the index of the top-level statement being checked (None inside a body); it lets an
    E-NAME hint say that a name is bound, but too late.
    """

    globals: dict[str, _Global]
    locals: frozenset[str] = frozenset()
    statement: int | None = None

    def with_local(self, name: str) -> _Scope:
        return _Scope(self.globals, self.locals | {name}, self.statement)

    def lookup(self, name: str) -> _Global | Literal["local"] | None:
        if name in self.locals:
            return "local"
        return self.globals.get(name)


@dataclass
class _Unit:
    """Findings of one analysed unit: the top level, or one function body."""

    #: Findings that keep their severity wherever they occur (top level, limits, warnings).
    fixed: list[Diagnostic] = field(default_factory=list)
    #: Body errors, kept as errors only when the function is reachable.
    demotable: list[Diagnostic] = field(default_factory=list)
    #: Statement indices of the functions this unit calls.
    calls: set[int] = field(default_factory=set)
    depth_reported: bool = False


def _diag(
    code: str, message: str, node: ast.Node, severity: Severity = "error",
    hint: str | None = None, fallback: ast.Node | None = None,
) -> Diagnostic:
    line, column = node.line, node.column
    if line == 0 and fallback is not None:
        line, column = fallback.line, fallback.column
    return Diagnostic(kind="check", code=code, message=message, line=line, column=column,
                      severity=severity, hint=hint)


def _limit(what: str, limit: int, node: ast.Node) -> Diagnostic:
    return _diag("E-LIMIT", f"Resource limit exceeded: {what} (limit {limit})", node)


def _is_power_of_two_in_range(value: int) -> bool:
    return 1 <= value <= MAX_ALIGN and value & (value - 1) == 0


def _count_placeholders(fmt: str) -> int:
    return fmt.count("{}")


# ---------------------------------------------------------------------------------------------
# The checker
# ---------------------------------------------------------------------------------------------


class _Checker:
    def __init__(self, program: ast.Program, app: AppInfo | None, topology: Topology | None):
        self.program = program
        self.app = app
        self.topology = topology
        self.findings: list[Diagnostic] = []
        self.position: tuple[int, int] = (0, 0)
        #: First binding of every global name anywhere in the file (what bodies see).
        self.final_globals: dict[str, _Global] = {}

    # -- driver ---------------------------------------------------------------------------

    def run(self) -> None:
        statements = self.program.statements
        _, policy_findings = build_policy(self.program)
        self.findings.extend(policy_findings)
        self.final_globals = self._collect_globals(statements)
        self._check_counts(statements)

        top = _Unit()
        roots: set[int] = set()
        self._check_top_level(statements, top, roots)
        self.findings.extend(top.fixed)
        self.findings.extend(top.demotable)  # top-level code always runs: never demoted

        bodies: dict[int, _Unit] = {}
        for index, stmt in enumerate(statements):
            if isinstance(stmt, ast.FuncDef):
                self.position = (stmt.line, stmt.column)
                bodies[index] = self._check_function(stmt)

        reachable = self._reachable(roots | top.calls, bodies)
        for index, unit in bodies.items():
            self.findings.extend(unit.fixed)
            if index in reachable:
                self.findings.extend(unit.demotable)
            else:
                func = statements[index]
                assert isinstance(func, ast.FuncDef)
                self.findings.extend(self._demote(d, func.name) for d in unit.demotable)

        if self.app is not None or self.topology is not None:
            for stmt in statements:
                self.position = (stmt.line, stmt.column)
                self.findings.extend(self._effect_warnings(stmt))

    @staticmethod
    def _collect_globals(statements: Iterable[ast.Statement]) -> dict[str, _Global]:
        table: dict[str, _Global] = {}
        for index, stmt in enumerate(statements):
            if isinstance(stmt, ast.FuncDef) and stmt.name not in table:
                table[stmt.name] = _Global("func", stmt.line, stmt.column, stmt, index)
            elif isinstance(stmt, ast.Assign) and stmt.name not in table:
                table[stmt.name] = _Global("value", stmt.line, stmt.column, None, index)
        return table

    @staticmethod
    def _reachable(roots: set[int], bodies: dict[int, _Unit]) -> set[int]:
        seen: set[int] = set()
        stack = sorted(roots)
        while stack:
            index = stack.pop()
            if index in seen or index not in bodies:
                continue
            seen.add(index)
            stack.extend(bodies[index].calls - seen)
        return seen

    @staticmethod
    def _demote(finding: Diagnostic, func_name: str) -> Diagnostic:
        if not finding.is_error:
            return finding
        return Diagnostic(
            kind="check",
            code="W-UNREACHABLE",
            message=f"{finding.message} [{finding.code} in unused function {func_name}]",
            line=finding.line,
            column=finding.column,
            severity="warning",
            hint=f"{func_name} is never used by a map statement or a top-level expression, "
            "so this is not an error yet; it becomes one once the function is used",
            context={"demoted": finding.code},
        )

    # -- limits ---------------------------------------------------------------------------

    def _check_counts(self, statements: tuple[ast.Statement, ...]) -> None:
        if len(statements) > MAX_TOP_LEVEL_STATEMENTS:
            self.findings.append(_limit("top-level statements", MAX_TOP_LEVEL_STATEMENTS,
                                        statements[MAX_TOP_LEVEL_STATEMENTS]))
        defs = [s for s in statements if isinstance(s, ast.FuncDef)]
        if len(defs) > MAX_DEFS:
            self.findings.append(_limit("function definitions", MAX_DEFS, defs[MAX_DEFS]))
        for stmt in statements:
            for names in self._name_lists(stmt):
                if len(names) > MAX_LIST_NAMES:
                    self.findings.append(_limit("names in one list", MAX_LIST_NAMES, stmt))
                    break
            if isinstance(stmt, ast.FuncDef):
                if len(stmt.params) > MAX_PARAMS:
                    self.findings.append(_diag(
                        "E-LIMIT", f"Resource limit exceeded: parameters (limit {MAX_PARAMS})",
                        stmt.params[MAX_PARAMS], fallback=stmt))
                if len(stmt.body) > MAX_BODY_STATEMENTS:
                    self.findings.append(_diag(
                        "E-LIMIT",
                        f"Resource limit exceeded: statements in a function body "
                        f"(limit {MAX_BODY_STATEMENTS})",
                        stmt.body[MAX_BODY_STATEMENTS], fallback=stmt))

    @staticmethod
    def _name_lists(stmt: ast.Statement) -> Iterator[tuple]:
        if isinstance(stmt, ast.TaskStmt):
            yield stmt.tasks
            yield stmt.kinds
        elif isinstance(stmt, ast.RegionStmt):
            yield stmt.memories
        elif isinstance(stmt, ast.IndexTaskMapStmt | ast.SingleTaskMapStmt):
            yield stmt.keys
        elif isinstance(stmt, ast.ControlReplicateStmt):
            yield stmt.tasks

    # -- top level ------------------------------------------------------------------------

    def _check_top_level(
        self, statements: tuple[ast.Statement, ...], unit: _Unit, roots: set[int]
    ) -> None:
        bound: dict[str, _Global] = {}
        for index, stmt in enumerate(statements):
            self.position = (stmt.line, stmt.column)
            scope = _Scope(bound, frozenset(), index)
            if isinstance(stmt, ast.Assign):
                self._expr(stmt.value, scope, unit, 1, stmt)
                previous = bound.get(stmt.name)
                if previous is not None:
                    what = "a function" if previous.kind == "func" else "a global"
                    unit.fixed.append(_diag(
                        "E-GLOBAL-DUP",
                        f"AssignNode multiple {stmt.name} cause conflicts in global_symbol!",
                        stmt,
                        hint=f"{stmt.name} is already {what} bound at line {previous.line}; "
                        "globals are bound once: choose another name",
                    ))
                else:
                    bound[stmt.name] = _Global("value", stmt.line, stmt.column, None, index)
            elif isinstance(stmt, ast.FuncDef):
                previous = bound.get(stmt.name)
                if previous is not None:
                    what = "defined" if previous.kind == "func" else "bound to a value"
                    unit.fixed.append(_diag(
                        "W-DUP-DEF",
                        f"{stmt.name} is already {what} at line {previous.line}; "
                        "this definition is ignored",
                        stmt, severity="warning",
                        hint="rename or delete one of the definitions",
                    ))
                else:
                    bound[stmt.name] = _Global("func", stmt.line, stmt.column, stmt, index)
            elif isinstance(stmt, ast.Print):
                self._print(stmt, scope, unit, stmt)
            elif isinstance(stmt, ast.IndexTaskMapStmt | ast.SingleTaskMapStmt):
                self._map_statement(stmt, bound, unit, roots)
            elif isinstance(stmt, ast.LayoutStmt):
                for constraint in stmt.constraints:
                    if constraint.word == "Align" and not _is_power_of_two_in_range(
                        constraint.value if constraint.value is not None else 0
                    ):
                        unit.fixed.append(_diag("E-ALIGN", MSG_ALIGN, constraint,
                                                fallback=stmt))

    def _map_statement(
        self, stmt: ast.IndexTaskMapStmt | ast.SingleTaskMapStmt,
        bound: dict[str, _Global], unit: _Unit, roots: set[int],
    ) -> None:
        name = "IndexTaskMap" if isinstance(stmt, ast.IndexTaskMapStmt) else "SingleTaskMap"
        messages = MAP_MESSAGES[name]
        final = self.final_globals.get(stmt.func)
        if final is not None and final.kind == "func":
            roots.add(final.index)  # "named by a map statement", even if defined too late
        binding = bound.get(stmt.func)
        if binding is None:
            hint = None
            if final is not None:
                hint = (f"{stmt.func} is defined at line {final.line}, after this statement; "
                        "move the def before it")
            unit.fixed.append(_diag("E-MAP-UNDEF", messages["E-MAP-UNDEF"], stmt, hint=hint))
        elif binding.kind != "func":
            unit.fixed.append(_diag(
                "E-MAP-NOTFUNC", messages["E-MAP-NOTFUNC"], stmt,
                hint=f"{stmt.func} is a global value (line {binding.line}), not a function",
            ))
        else:
            func = binding.func
            assert func is not None
            if len(func.params) != 1 or func.params[0].type_name != "Task":
                unit.fixed.append(_diag(
                    "E-MAP-SIG", messages["E-MAP-SIG"], stmt,
                    hint=f"declare it as def {stmt.func}(Task t) {{ ... }}",
                ))

    # -- function bodies ------------------------------------------------------------------

    def _check_function(self, func: ast.FuncDef) -> _Unit:
        unit = _Unit()
        scope = _Scope(self.final_globals, frozenset(p.name for p in func.params))
        returned = False
        for stmt in func.body:
            if returned:
                unit.fixed.append(_diag(
                    "W-DEAD-CODE",
                    f"statement after return in {func.name} never runs",
                    stmt, severity="warning", fallback=func,
                ))
                break
            if isinstance(stmt, ast.Assign):
                self._expr(stmt.value, scope, unit, 1, stmt)
                scope = scope.with_local(stmt.name)
            elif isinstance(stmt, ast.Return):
                self._expr(stmt.value, scope, unit, 1, stmt)
                returned = True
            elif isinstance(stmt, ast.Print):
                self._print(stmt, scope, unit, stmt)
        if not returned:
            unit.demotable.append(_diag(
                "E-NORETURN", MSG_NORETURN, func,
                hint=f"end the body of {func.name} with return <expr>;",
            ))
        return unit

    # -- expressions ----------------------------------------------------------------------

    def _print(self, stmt: ast.Print, scope: _Scope, unit: _Unit, anchor: ast.Node) -> None:
        for arg in stmt.args:
            self._expr(arg, scope, unit, 1, anchor)
        wanted = _count_placeholders(stmt.fmt)
        if wanted > len(stmt.args):
            unit.demotable.append(_diag(
                "E-PRINT-ARGS", MSG_PRINT_ARGS, stmt,
                hint=f"the format has {wanted} {{}} but {len(stmt.args)} argument(s) follow",
            ))
        elif wanted < len(stmt.args):
            unit.fixed.append(_diag(
                "W-PRINT-EXTRA",
                f"print() has {len(stmt.args)} argument(s) but only {wanted} {{}} in its "
                "format; the extra arguments are not printed",
                stmt, severity="warning",
            ))

    def _bound_later(self, name: str, scope: _Scope) -> _Global | None:
        """The global ``name`` when it is bound only at or after the current statement."""
        found = self.final_globals.get(name)
        if found is None or scope.statement is None or found.index < scope.statement:
            return None
        return found

    def _name_not_found(self, name: str, node: ast.Node, scope: _Scope, unit: _Unit,
                        anchor: ast.Node) -> None:
        later = self._bound_later(name, scope)
        hint = None
        if later is not None and later.index == scope.statement:
            hint = f"{name} is not bound yet while its own value is being computed"
        elif later is not None:
            hint = (f"{name} is bound at line {later.line}, after this use; a top-level "
                    "expression can only use names bound before it")
        unit.demotable.append(_diag("E-NAME", f"{name} not found", node, hint=hint,
                                    fallback=anchor))

    def _expr(self, expr: ast.Node, scope: _Scope, unit: _Unit, depth: int,
              anchor: ast.Node) -> None:
        """Walk one expression. ``depth`` is the height so far (the root is 1)."""
        if depth > MAX_EXPR_DEPTH:
            if not unit.depth_reported:
                unit.depth_reported = True
                unit.fixed.append(_diag(
                    "E-LIMIT",
                    f"Resource limit exceeded: expression depth (limit {MAX_EXPR_DEPTH})",
                    expr, fallback=anchor,
                ))
            return
        below = depth + 1
        if isinstance(expr, ast.IntLit | ast.BoolLit | ast.MachineExpr | ast.Wildcard):
            return
        if isinstance(expr, ast.Name):
            found = scope.lookup(expr.id)
            if found is None:
                self._name_not_found(expr.id, expr, scope, unit, anchor)
            elif found != "local" and found.kind == "func":
                unit.demotable.append(_diag(
                    "E-FUNCVALUE", MSG_FUNCVALUE, expr, fallback=anchor,
                    hint=f"{expr.id} is a function: call it, {expr.id}(...)",
                ))
        elif isinstance(expr, ast.Call):
            self._call(expr, scope, unit, anchor)
            for arg in expr.args:
                self._expr(arg, scope, unit, below, anchor)
        elif isinstance(expr, ast.Unpack):
            # An unpack is not a level of its own: the item it wraps sits at the same height.
            self._expr(expr.value, scope, unit, depth, anchor)
        elif isinstance(expr, ast.TupleExpr):
            for item in expr.items:
                self._expr(item, scope, unit, below, anchor)
        elif isinstance(expr, ast.TupleComp):
            self._expr(expr.iterable, scope, unit, below, anchor)
            self._expr(expr.element, scope.with_local(expr.var), unit, below, anchor)
        elif isinstance(expr, ast.Binary):
            self._expr(expr.left, scope, unit, below, anchor)
            self._expr(expr.right, scope, unit, below, anchor)
        elif isinstance(expr, ast.Neg):
            self._expr(expr.operand, scope, unit, below, anchor)
        elif isinstance(expr, ast.Ternary):
            for part in (expr.cond, expr.then, expr.otherwise):
                self._expr(part, scope, unit, below, anchor)
        elif isinstance(expr, ast.Index):
            self._expr(expr.target, scope, unit, below, anchor)
            for item in expr.items:
                self._expr(item, scope, unit, below, anchor)
        elif isinstance(expr, ast.Slice):
            self._expr(expr.target, scope, unit, below, anchor)
            for bound in (expr.lo, expr.hi):
                if bound is not None:
                    self._expr(bound, scope, unit, below, anchor)
        elif isinstance(expr, ast.Attr | ast.Has):
            self._expr(expr.target, scope, unit, below, anchor)
        elif isinstance(expr, ast.MethodCall):
            self._expr(expr.target, scope, unit, below, anchor)
            for arg in expr.args:
                self._expr(arg, scope, unit, below, anchor)
            expected = ast.METHOD_ARITY.get(expr.method)
            spliced = any(isinstance(arg, ast.Unpack) for arg in expr.args)
            if expected is not None and not spliced and len(expr.args) != expected:
                unit.demotable.append(_diag(
                    "E-METHOD-ARGC",
                    f"{expr.method}() takes {expected} arguments, got {len(expr.args)}",
                    expr, fallback=anchor,
                ))
        else:
            raise TypeError(f"not an expression node: {type(expr).__name__}")

    def _call(self, call: ast.Call, scope: _Scope, unit: _Unit, anchor: ast.Node) -> None:
        found = scope.lookup(call.func)
        if found is None:
            self._name_not_found(call.func, call, scope, unit, anchor)
            later = self._bound_later(call.func, scope)
            if later is not None and later.kind == "func":
                unit.calls.add(later.index)
            return
        if found == "local" or found.kind != "func":
            unit.demotable.append(_diag(
                "E-NOTFUNC", f"{call.func} is not a function", call, fallback=anchor))
            return
        unit.calls.add(found.index)
        func = found.func
        assert func is not None
        spliced = any(isinstance(arg, ast.Unpack) for arg in call.args)
        if not spliced and len(call.args) != len(func.params):
            unit.demotable.append(_diag(
                "E-ARGC", MSG_ARGC, call, fallback=anchor,
                hint=f"{call.func} takes {len(func.params)} argument(s), "
                f"got {len(call.args)}",
            ))

    # -- statements that can never take effect -------------------------------------------

    def _effect_warnings(self, stmt: ast.Statement) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        if isinstance(stmt, ast.TaskStmt):
            present = [kind for kind in stmt.kinds if self._kind_present(kind, stmt, out)]
            for task in stmt.tasks:
                info = self._task(task, stmt, out)
                if info is None:
                    continue
                for kind in present:
                    if kind not in info.variants:
                        out.append(self._no_effect(
                            stmt, f"task {task} has no {kind} variant; {kind} is never "
                            f"chosen for it"))
        elif isinstance(stmt, ast.RegionStmt):
            info = self._task(stmt.task, stmt, out)
            self._region(stmt.task, info, stmt.region, stmt, out)
            if stmt.proc != "*":
                if not self._kind_present(stmt.proc, stmt, out):
                    pass
                elif info is not None and stmt.proc not in info.variants:
                    out.append(self._no_effect(
                        stmt, f"task {stmt.task} has no {stmt.proc} variant; this entry "
                        "never applies"))
                else:
                    for mem in stmt.memories:
                        self._memory_usable(mem, (stmt.proc,), stmt, out)
            else:
                for mem in stmt.memories:
                    self._memory_usable(mem, None, stmt, out)
        elif isinstance(stmt, ast.LayoutStmt):
            info = self._task(stmt.task, stmt, out)
            self._region(stmt.task, info, stmt.region, stmt, out)
            if stmt.memory == "VIRTUAL":
                out.append(self._no_effect(
                    stmt, "a VIRTUAL mapping creates no instance; this layout never applies"))
            elif stmt.memory != "*":
                self._memory_usable(stmt.memory, None, stmt, out)
        elif isinstance(stmt, ast.InstanceLimitStmt):
            self._task(stmt.task, stmt, out)
        elif isinstance(stmt, ast.CollectMemoryStmt):
            info = self._task(stmt.task, stmt, out)
            self._region(stmt.task, info, stmt.region, stmt, out)
        elif isinstance(stmt, ast.IndexTaskMapStmt | ast.SingleTaskMapStmt):
            index = isinstance(stmt, ast.IndexTaskMapStmt)
            name = "IndexTaskMap" if index else "SingleTaskMap"
            for key in stmt.keys:
                if key == "*":
                    continue  # W-STAR-INERT already says it
                if key in ast.MAP_KIND_KEYS:
                    self._kind_present(key, stmt, out)
                    continue
                info = self._task(key, stmt, out)
                if info is None:
                    continue
                if index and not info.index_launch:
                    out.append(self._no_effect(
                        stmt, f"task {key} is never index-launched; {name} never applies "
                        "to it", hint=f"use SingleTaskMap {key} {stmt.func}; for single "
                        "launches"))
                elif not index and not info.single_launch:
                    out.append(self._no_effect(
                        stmt, f"task {key} is never single-launched; {name} never applies "
                        "to it", hint=f"use IndexTaskMap {key} {stmt.func}; for index "
                        "launches"))
        elif isinstance(stmt, ast.ControlReplicateStmt):
            for task in stmt.tasks:
                self._task(task, stmt, out)
        return out

    @staticmethod
    def _no_effect(stmt: ast.Node, message: str, hint: str | None = None) -> Diagnostic:
        return _diag("W-NO-EFFECT", message, stmt, severity="warning", hint=hint)

    def _task(self, task: str, stmt: ast.Node, out: list[Diagnostic]) -> TaskInfo | None:
        """The application's record of ``task``; W-UNKNOWN-NAME when it has none."""
        if self.app is None or task == "*":
            return None
        info = self.app.task(task)
        if info is None:
            names = ", ".join(self.app.task_names())
            out.append(_diag(
                "W-UNKNOWN-NAME",
                f"application {self.app.name} has no task {task}; this setting never applies",
                stmt, severity="warning", hint=f"tasks: {names}" if names else None,
            ))
        return info

    def _region(self, task: str, info: TaskInfo | None, region: str | int, stmt: ast.Node,
                out: list[Diagnostic]) -> None:
        if self.app is None or region == "*":
            return
        if isinstance(region, int):
            if info is not None:
                if region >= len(info.regions):
                    out.append(self._no_effect(
                        stmt, f"task {task} has {len(info.regions)} region argument(s); "
                        f"index {region} never matches"))
            elif task == "*":
                most = max((len(t.regions) for t in self.app.tasks), default=0)
                if region >= most:
                    out.append(self._no_effect(
                        stmt, f"no task has a region argument {region}; this setting never "
                        "applies"))
            return
        if region not in self.app.region_names():
            out.append(_diag(
                "W-UNKNOWN-NAME",
                f"application {self.app.name} has no region named {region}; this setting "
                "never applies",
                stmt, severity="warning",
            ))
        elif info is not None and not any(region in names for names in info.regions):
            out.append(self._no_effect(
                stmt, f"task {task} has no region argument named {region}; this setting "
                "never applies"))

    def _kind_present(self, kind: str, stmt: ast.Node, out: list[Diagnostic]) -> bool:
        """False (and W-NO-PROC-KIND) when the topology has no processor of ``kind``."""
        if self.topology is None or self.topology.processors_per_node(kind) > 0:
            return True
        out.append(_diag(
            "W-NO-PROC-KIND",
            f"the machine has no {kind} processors; {kind} in this statement never applies",
            stmt, severity="warning",
        ))
        return False

    def _memory_usable(self, mem: str, procs: tuple[str, ...] | None, stmt: ast.Node,
                       out: list[Diagnostic]) -> None:
        """W-MEM-UNUSABLE when no processor of ``procs`` (None: any present kind) can use it."""
        if self.topology is None or mem == "VIRTUAL":
            return
        topology = self.topology
        kinds = procs if procs is not None else tuple(
            k for k in ast.PROC_KINDS if topology.processors_per_node(k) > 0
        )
        if any(topology.can_use(kind, mem) for kind in kinds):
            return
        who = f"{procs[0]} processors" if procs is not None else "no processor of the machine"
        if procs is not None:
            message = f"{who} cannot use {mem} on this machine; {mem} is always skipped here"
        else:
            message = f"{who} can use {mem}; this entry never applies"
        out.append(_diag("W-MEM-UNUSABLE", message, stmt, severity="warning"))
