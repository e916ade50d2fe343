"""The front half of one environment step: parse, check and load a program (dsl.md §1).

``compile_program`` runs the three compile-time phases in order and stops at the first phase
that reports an error, so callers (the CLI, the mapping resolver, the environment) all see the
same diagnostics in the same order. The ``map`` phase runs later, per launch, through
:meth:`Compiled.loaded`.
"""

from __future__ import annotations

from dataclasses import dataclass

from mapper_gym.dsl import ast
from mapper_gym.dsl.checker import check
from mapper_gym.dsl.context import AppInfo, Topology
from mapper_gym.dsl.errors import CheckFailed, Diagnostic, DSLError
from mapper_gym.dsl.interpreter import LoadedProgram, load
from mapper_gym.dsl.parser import parse
from mapper_gym.dsl.policy import Policy, build_policy
from mapper_gym.dsl.printer import format_program


@dataclass(frozen=True)
class Compiled:
    """A program that passed parse, check and load, ready for the map phase."""

    program: ast.Program
    policy: Policy
    loaded: LoadedProgram
    #: Warnings of every phase, sorted by position (errors would have stopped compilation).
    warnings: tuple[Diagnostic, ...]

    @property
    def canonical_text(self) -> str:
        """The canonical form (dsl.md §12): the cache key of an evaluation."""
        return format_program(self.program)


def diagnose(
    text: str | bytes, app: AppInfo | None = None, topology: Topology | None = None
) -> tuple[ast.Program | None, list[Diagnostic]]:
    """Every finding of parse and check (parse stops at its first error; check reports all).

    Never raises for bad input: this is what ``mapper-gym check`` prints.
    """
    try:
        program = parse(text)
    except DSLError as error:
        return None, [error.diagnostic]
    return program, check(program, app, topology)


def compile_program(
    text: str | bytes | ast.Program,
    topology: Topology,
    app: AppInfo | None = None,
) -> Compiled:
    """Parse, check and load ``text`` for ``topology``.

    Raises :class:`DSLError` for a parse or load error and :class:`CheckFailed` (a DSLError
    holding every finding) when the checker reports errors.
    """
    program = text if isinstance(text, ast.Program) else parse(text)
    findings = check(program, app, topology)  # includes the policy-table warnings
    if any(d.is_error for d in findings):
        raise CheckFailed(findings)
    policy, _ = build_policy(program)
    loaded = load(program, topology)
    return Compiled(program=program, policy=policy, loaded=loaded, warnings=tuple(findings))
