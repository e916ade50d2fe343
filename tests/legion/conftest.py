"""Fixtures for the tests that run the real Legion backend.

They need the legate wheel (the Legion runtime). Where the wheel cannot exist (another platform
or Python), those tests are skipped with the reason; where it could exist but is not installed,
they fail and say how to install it: the suite never silently skips real Legion on a machine
that can run it.
"""

from __future__ import annotations

import pytest

from mapper_gym.config import RunConfig
from mapper_gym.dsl.pipeline import compile_program
from mapper_gym.legion import LegionBackend, legion_problem
from mapper_gym.legion.build import LegionBuild, build
from mapper_gym.legion.wheel import WheelUnavailable, find_runtime, platform_problem
from mapper_gym.mapping import resolve
from mapper_gym.plan import MappingPlan


@pytest.fixture(scope="session")
def native() -> LegionBuild:
    problem = platform_problem()
    if problem is not None:
        pytest.skip(f"real Legion backend unavailable on this platform: {problem}")
    try:
        find_runtime()
    except WheelUnavailable as missing:
        pytest.fail(f"{missing}; this platform supports it, so the real-Legion tests must run")
    return build(progress=False)


@pytest.fixture(scope="session")
def problems():
    """The local-cpu problems of the implemented applications (built once)."""
    return {name: legion_problem(name) for name in ("Stencil", "Circuit")}


@pytest.fixture
def make_backend(native):
    def make(problem, **kwargs) -> LegionBackend:
        kwargs.setdefault("cache", False)
        kwargs.setdefault("time_limit", 120.0)
        return LegionBackend(problem, native=native, **kwargs)

    return make


def plan_for(problem, text: str, config: RunConfig | None = None) -> MappingPlan:
    """What the Python resolver decides for ``text`` on ``problem``."""
    compiled = compile_program(text, problem.machine, problem.app_info())
    return resolve(compiled, problem.model, problem.machine, config or RunConfig())
