"""Driving agents without a simulator: a reset info from a real problem and synthetic
objectives whose optimum is known, to test the search logic of the baselines exactly."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import cache
from typing import Any

from mapper_gym.backends import build_problem

Objective = Callable[[str], float]


@cache
def _info(app: str) -> dict[str, Any]:
    return build_problem(app).describe()


def reset_info(app: str) -> dict[str, Any]:
    """The reset info an environment of ``app`` (p100-node, preset A) gives."""
    return dict(_info(app))


def hashed_objective(fail_every: int = 3) -> Objective:
    """A deterministic pseudo-random reward per program; one program in ``fail_every`` fails."""

    def reward(text: str) -> float:
        h = int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)
        return 0.0 if h % fail_every == 0 else (h % 997 + 1) / 998

    return reward


def drive(agent: Any, info: dict, objective: Objective, steps: int) -> list[str]:
    """Reset ``agent`` and run ``steps`` propose/observe rounds against ``objective``."""
    agent.reset(info)
    proposals = []
    for _ in range(steps):
        action = agent.propose()
        reward = objective(action)
        status = "ok" if reward > 0 else "runtime_error"
        agent.observe(action, {"status": 0 if reward > 0 else 2, "feedback": ""}, reward,
                      {"status": status})
        proposals.append(action)
    return proposals
