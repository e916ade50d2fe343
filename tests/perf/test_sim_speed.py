"""Speed of one simulation (targets, medians on the 2-core dev machine: the expert mapping of
every application at the paper's problem size on p100-node under ~15 ms; a 64-node Lassen run
under ~0.8 s).

Only ``simulate`` is timed: the mapping plan (resolution of the DSL program) is built once.

Run with ``python -m pytest tests/perf/test_sim_speed.py --benchmark-enable``; in the normal
suite (``--benchmark-disable``) each benchmarked function runs once, as a smoke test.
"""

from __future__ import annotations

import pytest

from benchmarks import APP_NAMES
from mapper_gym.sim import simulate
from tests.sim.runs import expert, plan_for, problem


@pytest.mark.parametrize("app", APP_NAMES)
def test_simulate_expert_on_the_paper_node(benchmark, app) -> None:
    plan = plan_for(problem(app), expert(app))
    result = benchmark(simulate, plan)
    assert result.ok


@pytest.mark.parametrize("app", ["Circuit", "Cannon"])
def test_simulate_expert_on_64_lassen_nodes(benchmark, app) -> None:
    plan = plan_for(problem(app, "lassen", 64), expert(app))
    result = benchmark.pedantic(simulate, (plan,), rounds=3, iterations=1)
    assert result.ok
