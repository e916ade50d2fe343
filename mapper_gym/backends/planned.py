"""The front half every backend shares: text → compiled program → MappingPlan, and failures.

Both backends run the straight path of architecture.md up to the plan and differ only in what
executes it (the simulator, or the real program under Legion). :class:`PlanBackend` owns that
shared half, the evaluation cache and the rule that every failure becomes a result:

* failures of the DSL phases arrive as :class:`~mapper_gym.dsl.errors.DSLError` (the checker's
  as :class:`~mapper_gym.dsl.errors.CheckFailed`, holding every finding) and become failed
  results with that diagnostic;
* anything else that escapes a stage is a bug of ours; it becomes an ``E-INTERNAL`` result at
  the phase being processed (dsl.md §9.1), so one broken corner costs an optimizer one
  evaluation instead of its whole run.

Results are cached (:mod:`mapper_gym.backends.cache`) under the exact program text. The
canonical text alone (architecture.md) is not enough: two programs that differ only in layout
evaluate alike but report their errors and warnings at different lines and columns, and a
result served from the other program's evaluation would point the optimizer at the wrong line.
"""

from __future__ import annotations

import gc
from collections.abc import Hashable, Iterable, Sequence

from mapper_gym.backends.base import internal_error
from mapper_gym.backends.cache import EvaluationCache, shared_cache
from mapper_gym.backends.problem import Problem
from mapper_gym.config import RunConfig
from mapper_gym.dsl.errors import CheckFailed, Diagnostic, DSLError, Phase
from mapper_gym.dsl.parser import parse
from mapper_gym.dsl.pipeline import compile_program
from mapper_gym.mapping import resolve
from mapper_gym.plan import MappingPlan
from mapper_gym.result import RunResult, failed_result

__all__ = ["PlanBackend", "select_cache", "unique_diagnostics"]


def select_cache(cache: EvaluationCache | bool) -> EvaluationCache | None:
    """``True``: the process-wide cache; ``False``: none; a cache: that one."""
    if isinstance(cache, EvaluationCache):
        return cache
    return shared_cache() if cache else None


def unique_diagnostics(diagnostics: Iterable[Diagnostic]) -> tuple[Diagnostic, ...]:
    """Diagnostics without repeats, first occurrence kept (phases may report the same one)."""
    return tuple(dict.fromkeys(diagnostics))


class PlanBackend:
    """A backend that resolves a program into a :class:`MappingPlan` and executes the plan.

    Subclasses set ``name``, ``problem`` and ``cache`` and implement :meth:`execute`; they may
    extend :meth:`cache_key` with whatever else decides their results.
    """

    name: str
    problem: Problem
    cache: EvaluationCache | None

    def cache_key(self, program_text: str | bytes, config: RunConfig) -> Hashable:
        """The identity of one evaluation: architecture.md's key, with the exact program text in
        place of the canonical one (see the module docstring)."""
        return (self.name, *self.problem.key, config.key(), program_text)

    def execute(self, plan: MappingPlan, config: RunConfig,
                warnings: Sequence[Diagnostic] = ()) -> RunResult:
        """Run the application under ``plan``; ``warnings`` are the compile and resolve ones,
        to be reported with the result."""
        raise NotImplementedError

    def run(self, program_text: str | bytes, config: RunConfig | None = None) -> RunResult:
        """Evaluate ``program_text``; never raises for a bad program (see module docstring).

        The cyclic garbage collector is paused for the evaluation: the pipeline builds tens of
        thousands of short-lived objects and no reference cycles (the simulator breaks its
        own, ``tests/sim/test_garbage.py`` checks), so reference counting frees everything and
        the collections the allocations would trigger mid-run could only trace live data."""
        collecting = gc.isenabled()
        if collecting:
            gc.disable()
        try:
            return self._run(program_text, config)
        finally:
            if collecting:
                gc.enable()

    def _run(self, program_text: str | bytes, config: RunConfig | None) -> RunResult:
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
        key = self.cache_key(program_text, config)
        if self.cache is not None:
            cached = self.cache.get(key)
            if cached is not None:
                return cached
        try:
            program = parse(program_text)
            phase = "check"
            compiled = compile_program(program, self.problem.machine, self.problem.app_info())
            phase = "map"
            plan = resolve(compiled, self.problem.model, self.problem.machine, config)
            phase = "execute"
            result = self.execute(plan, config, (*compiled.warnings, *plan.warnings))
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
        if self.cache is not None:
            self.cache.put(key, result)
        return result
