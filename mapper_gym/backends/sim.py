"""The simulator backend: compile → resolve → simulate, with every failure turned into a result.

One run walks the straight path of architecture.md::

    text ─parse─▶ Program ─check, load─▶ Compiled ─resolve─▶ MappingPlan ─simulate─▶ RunResult

Failures of the DSL phases arrive as :class:`~mapper_gym.dsl.errors.DSLError` (the checker's as
:class:`~mapper_gym.dsl.errors.CheckFailed`, holding every finding) and become failed results
with that diagnostic. Anything else that escapes a stage is a bug of ours; it becomes an
``E-INTERNAL`` result at the phase being processed (dsl.md §9.1), so that one broken corner of
the simulator costs an optimizer one evaluation instead of its whole run.

Results are cached (:mod:`mapper_gym.backends.cache`) under the exact program text. The
canonical text alone (architecture.md) is not enough: two programs that differ only in layout
evaluate alike but report their errors and warnings at different lines and columns, and a
result served from the other program's evaluation would point the optimizer at the wrong line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterable

from mapper_gym.backends.base import internal_error
from mapper_gym.backends.cache import EvaluationCache, shared_cache
from mapper_gym.backends.problem import Problem
from mapper_gym.config import RunConfig
from mapper_gym.dsl.errors import CheckFailed, Diagnostic, DSLError, Phase
from mapper_gym.dsl.parser import parse
from mapper_gym.dsl.pipeline import compile_program
from mapper_gym.mapping import resolve
from mapper_gym.result import RunResult, failed_result
from mapper_gym.sim import simulate

__all__ = ["SimBackend"]


def _unique(diagnostics: Iterable[Diagnostic]) -> tuple[Diagnostic, ...]:
    """Diagnostics without repeats, first occurrence kept (phases may report the same one)."""
    seen: set[Diagnostic] = set()
    out = []
    for diagnostic in diagnostics:
        if diagnostic not in seen:
            seen.add(diagnostic)
            out.append(diagnostic)
    return tuple(out)


class SimBackend:
    """Evaluates mapping programs on one problem with the simulator.

    Args:
        problem: the application and configured machine to evaluate on.
        cache: where results are kept: ``True`` (default) for the process-wide cache, ``False``
            for none (every run simulates; what speed benchmarks want), or a cache of one's own.
    """

    name = "sim"

    def __init__(self, problem: Problem, cache: EvaluationCache | bool = True) -> None:
        self.problem = problem
        self.cache: EvaluationCache | None
        if isinstance(cache, EvaluationCache):
            self.cache = cache
        else:
            self.cache = shared_cache() if cache else None

    def __repr__(self) -> str:
        p = self.problem
        return f"SimBackend({p.app_name}, problem {p.preset}, {p.machine.describe()})"

    def cache_key(self, program_text: str | bytes, config: RunConfig) -> Hashable:
        """The identity of one evaluation: architecture.md's key, with the exact program text in
        place of the canonical one (see the module docstring)."""
        return (self.name, *self.problem.key, config.key(), program_text)

    def run(self, program_text: str | bytes, config: RunConfig | None = None) -> RunResult:
        """Evaluate ``program_text``; never raises for a bad program (see module docstring)."""
        config = RunConfig() if config is None else config
        unit = self.problem.unit
        if not isinstance(program_text, str | bytes):
            error = Diagnostic(
                kind="parse",
                code="E-INPUT",
                message=f"a mapping program must be text, got {type(program_text).__name__}",
            )
            return failed_result(error, backend=self.name, unit=unit)
        phase: Phase = "parse"
        key: Hashable | None = None
        try:
            key = self.cache_key(program_text, config)
            if self.cache is not None:
                cached = self.cache.get(key)
                if cached is not None:
                    return cached
            program = parse(program_text)
            phase = "check"
            compiled = compile_program(program, self.problem.machine, self.problem.app_info())
            phase = "map"
            plan = resolve(compiled, self.problem.model, self.problem.machine, config)
            phase = "execute"
            result = simulate(plan, config)
            warnings = _unique((*compiled.warnings, *plan.warnings, *result.warnings))
            if warnings != result.warnings:
                result = dataclasses.replace(result, warnings=warnings)
        except CheckFailed as failure:
            errors = [d for d in failure.diagnostics if d.is_error]
            result = failed_result(
                errors[0],
                backend=self.name,
                unit=unit,
                stderr="\n".join(d.raw_text() for d in errors),
                warnings=tuple(d for d in failure.diagnostics if not d.is_error),
            )
        except DSLError as failure:
            result = failed_result(failure.diagnostic, backend=self.name, unit=unit)
        except Exception as failure:  # a bug of ours: report it, never crash the caller
            return failed_result(internal_error(phase, failure), backend=self.name, unit=unit)
        if key is not None and self.cache is not None:
            self.cache.put(key, result)
        return result
