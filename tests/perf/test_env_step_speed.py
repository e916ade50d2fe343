"""Speed of one environment step with the simulator, at the research group's problem sizes.

Every step here really simulates: the environment is made with ``cache=False``, and the expert
mapper's run (needed once for the normalized score) happens before timing starts. The program
is the expert mapper (the DISTAL default mappers fail by design: Fortran-order instances break
cuBLAS), so each timed step runs the whole path: parse, check, load, resolve, simulate.

Run with ``python -m pytest tests/perf/test_env_step_speed.py --benchmark-enable``; in the
normal suite each benchmarked step runs once, as a smoke test.

The targets (issue 3) are absolute: a median under 20 ms per step on ``p100-node`` for every
application, under 1 s for a 64-node step. Virtual machines change speed under their feet
(the reference workload below has been seen to vary by 1.7x within a minute on one idle
host), so compare a run's figures with its own ``test_reference_workload``: its median on a
steady development machine is about 35 ms.
"""

from __future__ import annotations

import gymnasium as gym
import pytest

import mapper_gym  # noqa: F401  (registers the environments)
from benchmarks import APP_NAMES, get_app
from mapper_gym.registration import env_id


def _ready_env(app: str, **kwargs) -> tuple[gym.Env, str]:
    env = gym.make(env_id(app), feedback="raw", cache=False, budget=1_000_000, **kwargs)
    env.reset(seed=0)
    env.unwrapped.expert_result()  # evaluated once per environment, outside the timing
    return env, get_app(app).expert_mapper()


@pytest.mark.parametrize("app", APP_NAMES)
def test_step_p100_node(benchmark, app):
    env, program = _ready_env(app, machine="p100-node")
    obs, reward, *_ = benchmark.pedantic(env.step, args=(program,), rounds=3, iterations=1)
    assert obs["status"] == 0, obs["feedback"]
    assert reward == pytest.approx(1.0)


def test_step_lassen_64_nodes(benchmark):
    env, program = _ready_env("Circuit", machine="lassen", nodes=64)
    obs, reward, *_ = benchmark.pedantic(env.step, args=(program,), rounds=2, iterations=1)
    assert obs["status"] == 0, obs["feedback"]
    assert reward == pytest.approx(1.0)


def _reference_workload() -> int:
    """Fixed pure-Python work (dictionary traffic and integer arithmetic, like the simulator's
    event loop): a yardstick for the machine's speed during this run."""
    table: dict[int, int] = {}
    total = 0
    for i in range(300_000):
        table[i & 1023] = i
        total += table.get((i * 7) & 1023, 0)
    return total


def test_reference_workload(benchmark):
    assert benchmark.pedantic(_reference_workload, rounds=5, iterations=1) > 0
