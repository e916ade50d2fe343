"""Running mapping programs through the real front end (parse, check, load, resolve) and the
simulator, with caching so that test modules can share runs."""

from __future__ import annotations

from functools import lru_cache

from benchmarks import get_app
from mapper_gym.backends.problem import Problem, build_problem
from mapper_gym.config import RunConfig
from mapper_gym.dsl.pipeline import compile_program
from mapper_gym.mapping import resolve
from mapper_gym.plan import MappingPlan
from mapper_gym.result import RunResult
from mapper_gym.sim import simulate


@lru_cache(maxsize=32)
def problem(app: str, machine: str = "p100-node", nodes: int | None = None,
            **overrides) -> Problem:
    return build_problem(app, machine, nodes=nodes, **overrides)


DEFAULT = RunConfig()


def plan_for(prob: Problem, text: str, config: RunConfig = DEFAULT,
             machine=None) -> MappingPlan:
    machine = prob.machine if machine is None else machine
    compiled = compile_program(text, machine, prob.app_info())
    return resolve(compiled, prob.model, machine, config)


def run(prob: Problem, text: str, config: RunConfig = DEFAULT, machine=None,
        **kwargs) -> RunResult:
    return simulate(plan_for(prob, text, config, machine), config, **kwargs)


def expert(app: str) -> str:
    return get_app(app).expert_mapper()


@lru_cache(maxsize=32)
def expert_run(app: str, machine: str = "p100-node", nodes: int | None = None) -> RunResult:
    return run(problem(app, machine, nodes), expert(app))


def without_lines(text: str, *needles: str) -> str:
    """``text`` without the lines containing any of ``needles`` (asserting each matched)."""
    lines = text.splitlines()
    for needle in needles:
        assert any(needle in line for line in lines), needle
    return "\n".join(line for line in lines if not any(n in line for n in needles)) + "\n"


def replaced(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` replaced by ``new`` (asserting that ``old`` occurs)."""
    assert old in text, old
    return text.replace(old, new)
