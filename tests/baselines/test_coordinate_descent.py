"""Coordinate descent: one decision at a time, improvements kept, restarts at local optima."""

from __future__ import annotations

import pytest

from baselines import CoordinateDescentAgent
from mapper_gym.agent import AgentInfo
from tests.baselines.helpers import drive, hashed_objective, reset_info


def _separable(agent: CoordinateDescentAgent, target: dict):
    """Reward: the share of decisions (task kinds, layouts, limits, placements) that match
    ``target``; each decision counts on its own, so one-at-a-time search can reach 1.0."""
    names = [p.name for p in agent.space.tunable() if p.group != "region"]

    def reward(text: str) -> float:
        config = agent.proposed[text]
        return sum(config[n] == target[n] for n in names) / len(names) or 0.01

    return reward


def test_starts_from_the_baseline_and_changes_one_decision_at_a_time():
    info = reset_info("Cannon")
    agent = CoordinateDescentAgent(seed=0)
    agent.reset(info)
    space = agent.space
    proposals = drive(agent, info, hashed_objective(fail_every=1000), 12)
    assert proposals[0] == space.render(space.baseline())
    configs = [agent.proposed[t] for t in proposals]
    assert len(set(proposals)) == len(proposals)
    for i, config in enumerate(configs[1:], start=1):
        # while no restart happened, every candidate changes one decision of an earlier one
        assert min(sum(config[k] != c[k] for k in config) for c in configs[:i]) == 1
    assert agent.restarts == 0


def test_reaches_the_optimum_of_a_separable_objective():
    info = reset_info("Stencil")
    agent = CoordinateDescentAgent(seed=1)
    agent.reset(info)
    target = agent.space.sample(123)
    for n in list(target):
        if n.startswith("task/"):
            target[n] = agent.space[n].choices[0]  # keep the memory decisions active
    objective = _separable(agent, target)
    best = []
    agent.reset(info)
    for _ in range(400):
        action = agent.propose()
        reward = objective(action)
        agent.observe(action, {"status": 0}, reward, {"status": "ok"})
        best.append(agent.best_reward)
        if agent.best_reward == 1.0:
            break
    assert agent.best_reward == 1.0
    assert best == sorted(best)


def test_restarts_after_a_full_sweep_without_improvement():
    info = reset_info("Johnson")
    agent = CoordinateDescentAgent(seed=2)
    constant = drive(agent, info, lambda text: 0.5, 0)
    assert constant == []
    space = agent.space
    sweep = sum(len(p.choices) - 1 for p in space.tunable()
                if space.is_active(p, space.baseline()))
    proposals = drive(agent, info, lambda text: 0.5, sweep + 3)
    assert agent.restarts == 1
    assert len(set(proposals)) == len(proposals)


def test_same_seed_same_sequence_and_random_start():
    info = reset_info("Circuit")
    a = drive(CoordinateDescentAgent(seed=4, start="random"), info, hashed_objective(), 15)
    b = drive(CoordinateDescentAgent(seed=4, start="random"), info, hashed_objective(), 15)
    c = drive(CoordinateDescentAgent(seed=5, start="random"), info, hashed_objective(), 15)
    assert a == b and a != c
    space = AgentInfo.from_reset_info(info).space()
    assert a[0] != space.render(space.baseline())
    with pytest.raises(ValueError):
        CoordinateDescentAgent(start="middle")


def test_repeated_propose_without_observe_returns_the_same_program():
    agent = CoordinateDescentAgent(seed=0)
    agent.reset(reset_info("Stencil"))
    assert agent.propose() == agent.propose()
