"""Random search draws distinct, valid programs, reproducibly."""

from __future__ import annotations

import random

from baselines import RandomSearchAgent
from mapper_gym.agent import AgentInfo
from mapper_gym.dsl.pipeline import diagnose
from tests.baselines.helpers import drive, hashed_objective, reset_info


def test_distinct_seeded_and_valid():
    info = reset_info("Circuit")
    runs = [drive(RandomSearchAgent(seed=s), info, hashed_objective(), 40) for s in (1, 1, 2)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert len(set(runs[0])) == 40
    app_info = AgentInfo.from_reset_info(info).app_info()
    for text in runs[0][:10]:
        program, findings = diagnose(text, app_info)
        assert program is not None and not [d for d in findings if d.is_error]


def test_reset_restarts_the_sequence():
    info = reset_info("Stencil")
    agent = RandomSearchAgent(seed=3)
    first = drive(agent, info, hashed_objective(), 5)
    assert drive(agent, info, hashed_objective(), 5) == first


def test_global_random_state_is_not_used():
    info = reset_info("Stencil")
    random.seed(0)
    a = drive(RandomSearchAgent(seed=9), info, hashed_objective(), 3)
    random.seed(1)
    b = drive(RandomSearchAgent(seed=9), info, hashed_objective(), 3)
    assert a == b


def test_best_is_tracked():
    info = reset_info("Cannon")
    agent = RandomSearchAgent(seed=0)
    objective = hashed_objective()
    proposals = drive(agent, info, objective, 20)
    assert agent.best_reward == max(objective(p) for p in proposals)
    assert agent.best is not None and objective(agent.best.action) == agent.best_reward
