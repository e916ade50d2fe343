"""The agent conformance suite catches agents that break the contract, and passes ours."""

from __future__ import annotations

import random

import pytest

from baselines import RandomSearchAgent
from mapper_gym.agent import BaseAgent
from mapper_gym.testing import (
    AgentConformance,
    AgentConformanceError,
    check_agent,
    check_failure_tolerance,
    failure_outcomes,
)

ONE_APP = ("Stencil",)


class _Fixed(BaseAgent):
    name = "fixed"

    def propose(self):
        return "Task * GPU,CPU;\n"


class _Unseeded(_Fixed):
    def propose(self):
        return f"Task * GPU,CPU;\n# {random.random()}\n"


class _Fragile(_Fixed):
    def observe(self, action, observation, reward, info):
        if info.get("status") != "ok":
            raise RuntimeError("cannot handle failures")


class _Bytes(_Fixed):
    def propose(self):
        return b"Task * GPU;"


class _Meddler(_Fixed):
    def reset(self, info):
        super().reset(info)
        info["app"] = None


class _NotAnAgent:
    def propose(self):
        return ""


def _failures(make, **kwargs):
    report = check_agent(make, env_ids=ONE_APP, iters=2, raise_on_failure=False, **kwargs)
    return report.failures


def test_a_conforming_agent_passes():
    report = check_agent(lambda seed: _Fixed(seed), env_ids=("Stencil", "Circuit"), iters=2)
    assert report.failures == []
    assert report.checks == ["protocol", "episode", "determinism", "failure tolerance",
                             "switching apps"]
    assert [e.env_id for e in report.episodes] == ["Stencil", "Circuit"]
    assert all(len(e.rewards) == 2 for e in report.episodes)


def test_nondeterminism_is_caught():
    failures = _failures(lambda seed: _Unseeded(seed))
    assert any(f.startswith("determinism") for f in failures)
    assert not _failures(lambda seed: _Unseeded(seed), deterministic=False)


def test_fragile_observe_is_caught():
    failures = _failures(lambda seed: _Fragile(seed))
    assert any("failure tolerance: observe raised" in f for f in failures)


def test_non_text_proposals_are_caught():
    failures = _failures(lambda seed: _Bytes(seed))
    assert any("propose returned bytes" in f for f in failures)


def test_modifying_the_info_is_caught():
    failures = _failures(lambda seed: _Meddler(seed))
    assert any("modified the info" in f for f in failures)


def test_missing_methods_are_caught():
    with pytest.raises(AgentConformanceError, match="no callable reset"):
        check_agent(lambda seed: _NotAnAgent(), env_ids=ONE_APP, iters=1)


def test_compile_check_for_agents_that_claim_it():
    failures = _failures(lambda seed: _Fixed(seed), proposals_compile=True)
    assert failures == []

    class Broken(_Fixed):
        def propose(self):
            return "def f(Task t):\n    return 0\n"

    failures = _failures(lambda seed: Broken(seed), proposals_compile=True)
    assert any("does not compile" in f for f in failures)


def test_failure_outcomes_cover_the_statuses():
    labels = [label for label, *_ in failure_outcomes("")]
    assert {"compile error", "run-time error", "timeout", "NaN reward"} <= set(labels)
    from tests.baselines.helpers import reset_info

    assert check_failure_tolerance(lambda seed: RandomSearchAgent(seed), reset_info("Stencil")) \
        == []


class TestRandomSearchConforms(AgentConformance):
    """The pytest base class in use (also what a third-party agent's tests look like)."""

    env_ids = ("Stencil", "COSMA")
    iters = 3
    proposals_compile = True

    def make_agent(self, seed):
        return RandomSearchAgent(seed=seed)
