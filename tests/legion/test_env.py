"""``gym.make(..., backend="legion")``: the same environment over real Legion programs."""

from __future__ import annotations

import gymnasium as gym

import mapper_gym  # noqa: F401  (registers the environments)
from benchmarks import get_app
from mapper_gym.envs import STATUS_NAMES


def test_the_environment_runs_real_legion_programs(native):
    env = gym.make("Mapper-Stencil-v0", backend="legion", feedback="raw")
    _, info = env.reset(seed=0)
    assert info["backend"] == "legion"
    assert info["machine"]["nodes"] == 1  # this host (local-cpu), not the paper's GPU node

    obs, reward, _, _, info = env.step(get_app("Stencil").expert_mapper())
    assert STATUS_NAMES[int(obs["status"])] == "ok", obs["stderr"]
    assert "ELAPSED TIME" in obs["stdout"]  # the program's own output line
    assert obs["throughput"] > 0 and reward > 0
    assert obs["feedback"].startswith("Performance Metric:")

    obs, reward, *_ = env.step("def f(Task t):\n    return 0;\n")
    assert STATUS_NAMES[int(obs["status"])] == "compile_error"
    assert reward == 0.0
    assert obs["feedback"] == "Compile Error: Syntax error, unexpected :, expecting {"
    env.close()
