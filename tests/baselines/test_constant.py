"""The constant agents propose the application's own expert and default mappers."""

from __future__ import annotations

import pytest

from baselines import ConstantAgent, DefaultAgent, ExpertAgent
from benchmarks import get_app
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
