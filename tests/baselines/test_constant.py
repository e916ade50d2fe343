"""The constant agents propose the application's own expert and default mappers."""

from __future__ import annotations

import gymnasium as gym
import pytest

import mapper_gym  # noqa: F401  (registers the environments)
from baselines import ConstantAgent, DefaultAgent, ExpertAgent
from benchmarks import get_app
from mapper_gym.registration import env_id
from tests.baselines.helpers import drive, hashed_objective, reset_info


@pytest.mark.parametrize("app", ["Circuit", "COSMA"])
def test_expert_and_default(app):
    info = reset_info(app)
    assert set(drive(ExpertAgent(), info, hashed_objective(), 3)) == {
        get_app(app).expert_mapper()}
    assert set(drive(DefaultAgent(), info, hashed_objective(), 2)) == {
        get_app(app).default_mapper()}


def test_follows_the_application_across_resets():
    agent = ExpertAgent()
    drive(agent, reset_info("Circuit"), hashed_objective(), 1)
    assert drive(agent, reset_info("Stencil"), hashed_objective(), 1) == [
        get_app("Stencil").expert_mapper()]


def test_fixed_text_and_reset_required():
    agent = ConstantAgent("Task * CPU;\n")
    with pytest.raises(RuntimeError, match="reset"):
        agent.propose()
    assert drive(agent, reset_info("Stencil"), hashed_objective(), 2) == ["Task * CPU;\n"] * 2


def test_expert_follows_the_machine_to_the_cpu_build():
    """On a machine without GPUs the DISTAL codes run their CPU build, which has its own
    expert; the expert agent must propose that one, and it must run."""
    env = gym.make(env_id("Cannon"), machine="local-cpu", feedback="raw")
    _obs, info = env.reset(seed=0)
    agent = ExpertAgent()
    agent.reset(info)
    program = agent.propose()
    assert program == get_app("Cannon").expert_mapper(env.unwrapped.problem.machine)
    assert program != get_app("Cannon").expert_mapper()
    obs, reward, *_ = env.step(program)
    assert obs["status"] == 0, obs["feedback"]
    assert reward == pytest.approx(1.0)
