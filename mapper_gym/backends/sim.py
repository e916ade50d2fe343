"""The simulator backend: compile → resolve → simulate, with every failure turned into a result.

One run walks the straight path of architecture.md::

    text ─parse─▶ Program ─check, load─▶ Compiled ─resolve─▶ MappingPlan ─simulate─▶ RunResult

Everything up to the plan, the cache and the failure rules are shared with the Legion backend
(:class:`~mapper_gym.backends.planned.PlanBackend`); this module only executes the plan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from mapper_gym.backends.cache import EvaluationCache
from mapper_gym.backends.planned import PlanBackend, select_cache, unique_diagnostics
from mapper_gym.backends.problem import Problem
from mapper_gym.config import RunConfig
from mapper_gym.dsl.errors import Diagnostic
from mapper_gym.plan import MappingPlan
from mapper_gym.result import RunResult
from mapper_gym.sim import simulate

__all__ = ["SimBackend"]


class SimBackend(PlanBackend):
    """Evaluates mapping programs on one problem with the simulator.

    Args:
        problem: the application and configured machine to evaluate on.
        cache: where results are kept: ``True`` (default) for the process-wide cache, ``False``
            for none (every run simulates; what speed benchmarks want), or a cache of one's own.
    """

    name = "sim"

    def __init__(self, problem: Problem, cache: EvaluationCache | bool = True) -> None:
        self.problem = problem
        self.cache: EvaluationCache | None = select_cache(cache)

    def __repr__(self) -> str:
        p = self.problem
        return f"SimBackend({p.app_name}, problem {p.preset}, {p.machine.describe()})"

    def execute(self, plan: MappingPlan, config: RunConfig,
                warnings: Sequence[Diagnostic] = ()) -> RunResult:
        """Simulate the application under ``plan``."""
        result = simulate(plan, config)
        merged = unique_diagnostics((*warnings, *result.warnings))
        if merged != result.warnings:
            result = dataclasses.replace(result, warnings=merged)
        return result
