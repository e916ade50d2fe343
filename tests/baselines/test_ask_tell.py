"""Any ask/tell optimizer as an agent: the generic adapter, the built-in (1+1) strategy and
the Optuna adapter."""

from __future__ import annotations

import pytest

from baselines import AskTellAgent, MutationOptimizer, optuna_optimizer
from mapper_gym.space import DecisionSpace
from tests.baselines.helpers import drive, hashed_objective, reset_info


class _Scripted:
    """Asks for a fixed list of configurations (with repeats) and records what it is told."""

    def __init__(self, space: DecisionSpace, configs):
        self.space = space
        self.configs = list(configs)
        self.told: list[tuple[int, float]] = []
        self.asked = 0

    def ask(self):
        token = self.asked
        self.asked += 1
        return token, self.configs[token % len(self.configs)]

    def tell(self, token, reward):
        self.told.append((token, reward))


def test_aliases_are_answered_without_evaluation():
    info = reset_info("Stencil")
    made = []

    def make(space, seed):
        a, b = space.sample(1), space.sample(2)
        optimizer = _Scripted(space, [a, a, {}, b])  # {} is the baseline
        made.append(optimizer)
        return optimizer

    agent = AskTellAgent(make, seed=0)
    objective = hashed_objective(fail_every=1000)
    proposals = drive(agent, info, objective, 3)
    optimizer = made[-1]
    assert len(set(proposals)) == 3
    # the second request (token 1) repeats the first program: told its reward at once
    assert optimizer.told[:2] == [(0, objective(proposals[0])), (1, objective(proposals[0]))]
    assert [t for t, _ in optimizer.told] == [0, 1, 2, 3]


def test_mutation_optimizer_improves_and_is_seeded():
    info = reset_info("Circuit")
    make = MutationOptimizer
    a = drive(AskTellAgent(make, seed=3), info, hashed_objective(), 40)
    b = drive(AskTellAgent(make, seed=3), info, hashed_objective(), 40)
    assert a == b and len(set(a)) == 40
    agent = AskTellAgent(make, seed=3)
    agent.reset(info)
    assert a[0] == agent.space.render(agent.space.baseline())


def test_optuna_adapter():
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    info = reset_info("Johnson")
    a = drive(AskTellAgent(optuna_optimizer(), seed=5), info, hashed_objective(), 25)
    b = drive(AskTellAgent(optuna_optimizer(), seed=5), info, hashed_objective(), 25)
    assert a == b and len(set(a)) == 25
    agent = AskTellAgent(optuna_optimizer(), seed=5, name="optuna")
    drive(agent, info, hashed_objective(), 5)
    study = agent.optimizer.study
    assert len(study.trials) >= 5 and agent.name == "optuna"
    assert study.best_value == agent.best_reward


def test_missing_library_gives_an_install_hint(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_nevergrad(name, *args, **kwargs):
        if name == "nevergrad":
            raise ImportError("No module named 'nevergrad'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_nevergrad)
    from baselines import nevergrad_optimizer

    agent = AskTellAgent(nevergrad_optimizer(), seed=0)
    with pytest.raises(ImportError, match="pip install nevergrad"):
        agent.reset(reset_info("Stencil"))
