"""The OpenTuner adapter: in-process ask/tell, no duplicates, seeded, side-effect free."""

from __future__ import annotations

import logging
import os
import random
import subprocess
import sys

import numpy as np
import pytest

from baselines import OpenTunerAgent
from tests.baselines.helpers import drive, hashed_objective, reset_info


def test_no_duplicate_programs_or_configurations():
    agent = OpenTunerAgent(seed=0)
    proposals = drive(agent, reset_info("Cannon"), hashed_objective(), 150)
    assert len(set(proposals)) == len(proposals)
    # OpenTuner itself measured every configuration once: each desired result it handed out
    # got exactly one result, and no configuration has two results.
    from opentuner.resultsdb.models import Result

    session = agent._manager.session
    per_config = {}
    for result in session.query(Result).all():
        per_config[result.configuration_id] = per_config.get(result.configuration_id, 0) + 1
    assert per_config and max(per_config.values()) == 1
    assert len(per_config) == len(proposals) + agent.aliased_requests


def test_same_seed_same_sequence_even_across_processes():
    info = reset_info("Circuit")
    a = drive(OpenTunerAgent(seed=7), info, hashed_objective(), 60)
    b = drive(OpenTunerAgent(seed=7), info, hashed_objective(), 60)
    c = drive(OpenTunerAgent(seed=8), info, hashed_objective(), 60)
    assert a == b
    assert a != c
    script = (
        "import hashlib\n"
        "from baselines import OpenTunerAgent\n"
        "from tests.baselines.helpers import drive, hashed_objective, reset_info\n"
        "seq = drive(OpenTunerAgent(seed=7), reset_info('Circuit'), hashed_objective(), 60)\n"
        "print(hashlib.sha256(''.join(seq).encode()).hexdigest())\n"
    )
    import hashlib

    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, check=True, cwd=os.getcwd())
    assert out.stdout.strip() == hashlib.sha256("".join(a).encode()).hexdigest()


def test_reset_restarts_and_other_apps_work():
    agent = OpenTunerAgent(seed=1)
    first = drive(agent, reset_info("Stencil"), hashed_objective(), 20)
    drive(agent, reset_info("COSMA"), hashed_objective(), 5)
    assert drive(agent, reset_info("Stencil"), hashed_objective(), 20) == first


def test_no_files_logging_or_global_random_side_effects(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root_handlers = list(logging.getLogger().handlers)
    formatter = logging.Formatter
    random.seed(99)
    np.random.seed(99)
    expected_py, expected_np = random.random(), np.random.random()
    random.seed(99)
    np.random.seed(99)
    drive(OpenTunerAgent(seed=0), reset_info("Johnson"), hashed_objective(), 40)
    assert random.random() == expected_py and np.random.random() == expected_np
    assert list(tmp_path.iterdir()) == []
    assert logging.getLogger().handlers == root_handlers
    assert logging.Formatter is formatter


def test_failures_get_the_penalty_and_successes_their_time():
    agent = OpenTunerAgent(seed=0, failure_penalty=1e6)
    objective = hashed_objective()
    proposals = drive(agent, reset_info("Stencil"), objective, 30)
    from opentuner.resultsdb.models import Result

    results = agent._manager.session.query(Result).all()
    assert len(results) >= len(proposals)
    for result in results:  # every told time is 1/reward, or the penalty for a failure
        text = agent.space.render(agent._config_of(result.configuration.data))
        assert text in proposals
        reward = objective(text)
        assert result.time == pytest.approx(1 / reward if reward > 0 else 1e6)
    best = agent.best_configuration()
    assert best is not None and objective(agent.space.render(best)) == agent.best_reward


def test_index_encoding_and_a_single_technique():
    for kwargs in ({"encoding": "index"}, {"technique": "UniformGreedyMutation10"}):
        proposals = drive(OpenTunerAgent(seed=2, **kwargs), reset_info("Solomonik"),
                          hashed_objective(), 25)
        assert len(set(proposals)) == 25
    with pytest.raises(ValueError, match="UniformGreedyMutation10"):
        OpenTunerAgent(technique="UniformGreedyMutation")
    with pytest.raises(ValueError):
        OpenTunerAgent(encoding="binary")
    with pytest.raises(ValueError):
        OpenTunerAgent(failure_penalty=0)


def test_repeated_propose_and_foreign_observations():
    agent = OpenTunerAgent(seed=0)
    agent.reset(reset_info("Stencil"))
    first = agent.propose()
    assert agent.propose() == first
    agent.observe("Task * CPU;\n", {}, 0.3, {"status": "ok"})  # not ours: OpenTuner not told
    assert agent.propose() == first
    agent.observe(first, {}, float("nan"), {"status": "ok"})
    assert agent.propose() != first


def test_on_the_simulator_no_duplicates_and_seeded():
    from mapper_gym.tuning import tune

    runs = [tune("Johnson", "opentuner", iters=60, seed=s, progress=False,
                 env_kwargs={"feedback": "raw"}) for s in (4, 4, 5)]
    programs = [[step.action for step in run.history] for run in runs]
    assert len(set(programs[0])) == 60
    assert programs[0] == programs[1]
    assert [s.reward for s in runs[0].history] == [s.reward for s in runs[1].history]
    assert programs[0] != programs[2]
