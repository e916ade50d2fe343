"""Speed of the OpenTuner baseline: 1000 evaluations on one application on the simulator
(the paper's long OpenTuner study), and OpenTuner's own overhead per ask/tell round.

Run with ``python -m pytest tests/perf/test_opentuner_speed.py --benchmark-enable``. In the
normal suite (``--benchmark-disable``) each function runs once with a short budget, as a
smoke test.
"""

from __future__ import annotations

from baselines import OpenTunerAgent
from mapper_gym.tuning import tune
from tests.baselines.helpers import drive, hashed_objective, reset_info


def _iters(benchmark, full: int, smoke: int) -> int:
    return smoke if benchmark.disabled else full


def test_opentuner_1000_iterations_on_the_simulator(benchmark) -> None:
    iters = _iters(benchmark, 1000, 15)
    result = benchmark.pedantic(
        tune, args=("Circuit", "opentuner"),
        kwargs={"iters": iters, "seed": 0, "progress": False, "env_kwargs": {"feedback": "raw"}},
        rounds=1, iterations=1)
    assert len(result.history) == iters
    programs = [step.action for step in result.history]
    assert len(set(programs)) == len(programs)  # no evaluation spent on a duplicate


def test_opentuner_overhead_per_round(benchmark) -> None:
    iters = _iters(benchmark, 1000, 15)
    info = reset_info("Pennant")  # the largest space (about 380 decisions)
    proposals = benchmark.pedantic(
        drive, args=(OpenTunerAgent(seed=0), info, hashed_objective(), iters),
        rounds=1, iterations=1)
    assert len(set(proposals)) == iters
