"""Any ask/tell optimizer as an agent (the Optuna design: ask/tell is the universal interface).

An optimizer here is anything with

* ``ask() -> (token, config)``: a configuration of the decision space to try, and a token that
  identifies the request;
* ``tell(token, reward)``: its reward (normalized throughput, higher is better, 0 on failure).

:class:`AskTellAgent` turns such an optimizer into an :class:`~mapper_gym.agent.Agent`: it
builds the decision space at every reset, asks the optimizer factory for a fresh optimizer,
renders what it asks for and tells it what the environment said. A request whose program was
already measured (two configurations can render the same program) is answered from the earlier
measurement without spending an evaluation.

Adapters for two libraries, imported only when used: :func:`optuna_optimizer` (a study with
categorical parameters; TPE by default) and :func:`nevergrad_optimizer` (``ng.p.Choice``
parameters; NGOpt by default). :class:`MutationOptimizer`, a (1+1) evolutionary strategy in a
few lines, needs nothing and shows the contract.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from baselines._common import SpaceAgent
from mapper_gym.agent import AgentInfo, StepRecord
from mapper_gym.space import Config, DecisionSpace

__all__ = [
    "AskTellAgent",
    "ConfigOptimizer",
    "MutationOptimizer",
    "OptimizerFactory",
    "nevergrad_optimizer",
    "optuna_optimizer",
]


@runtime_checkable
class ConfigOptimizer(Protocol):
    """An ask/tell optimizer over the configurations of one decision space (maximising)."""

    def ask(self) -> tuple[Any, Config]:
        """A configuration to evaluate (values for at least the tunable parameters; missing
        ones take their baseline value) and a token naming the request."""
        ...

    def tell(self, token: Any, reward: float) -> None:
        """The reward of the configuration asked with ``token``."""
        ...


#: ``(space, seed) -> optimizer``: called at every agent reset.
OptimizerFactory = Callable[[DecisionSpace, "int | None"], ConfigOptimizer]


class AskTellAgent(SpaceAgent):
    """An agent driven by an ask/tell optimizer made by ``make_optimizer(space, seed)``.

    Args:
        make_optimizer: builds a fresh optimizer for an episode.
        seed: passed to the factory (and used for the fallback sample).
        max_asks: requests per proposal before giving up on finding an unmeasured program;
            then a random unseen configuration is proposed (the optimizer is not told).
        name: the agent's name in logs.
    """

    name = "ask_tell"

    def __init__(
        self,
        make_optimizer: OptimizerFactory,
        seed: int | None = 0,
        max_asks: int = 200,
        name: str | None = None,
        **space_options: Any,
    ) -> None:
        super().__init__(seed, **space_options)
        self.make_optimizer = make_optimizer
        self.max_asks = max_asks
        if name is not None:
            self.name = name
        self.optimizer: ConfigOptimizer | None = None
        self._pending: tuple[Any, str] | None = None

    def on_reset(self, info: AgentInfo) -> None:
        super().on_reset(info)
        self.optimizer = self.make_optimizer(self.require_space(), self.seed)
        self._pending = None

    def propose(self) -> str:
        space = self.require_space()
        if self._pending is not None:
            return self._pending[1]
        assert self.optimizer is not None
        for _ in range(self.max_asks):
            token, partial = self.optimizer.ask()
            config = space.canonical(space.complete(partial))
            text = space.render(config)
            if text in self.measured:
                self.optimizer.tell(token, self.measured[text])
                continue
            self.proposed.setdefault(text, config)
            self._pending = (token, text)
            return text
        return self.render(space.canonical(self.unseen_sample()))

    def on_observe(self, record: StepRecord) -> None:
        super().on_observe(record)
        if self._pending is not None and record.action == self._pending[1]:
            token, _ = self._pending
            self._pending = None
            assert self.optimizer is not None
            self.optimizer.tell(token, record.reward)


# ---------------------------------------------------------------------------------------------
# A dependency-free optimizer
# ---------------------------------------------------------------------------------------------


class MutationOptimizer:
    """(1+1) evolutionary strategy: mutate the best configuration so far.

    The first request is the space's baseline; each later one changes ``rate`` of the tunable
    parameters (at least one) of the best configuration seen, to other random choices.
    """

    def __init__(self, space: DecisionSpace, seed: int | None = 0, rate: float = 0.05) -> None:
        self.space = space
        self.rng = random.Random(seed)
        self.rate = rate
        self.best: tuple[float, Config] | None = None
        self._asked: dict[int, Config] = {}
        self._next_token = 0

    def ask(self) -> tuple[int, Config]:
        if self.best is None:
            config = self.space.baseline() if not self._asked else self.space.sample(self.rng)
        else:
            config = dict(self.best[1])
            tunable = self.space.tunable()
            count = max(1, round(self.rate * len(tunable)))
            for param in self.rng.sample(tunable, min(count, len(tunable))):
                others = [c for c in param.choices if c != config[param.name]]
                config[param.name] = self.rng.choice(others)
        token = self._next_token
        self._next_token += 1
        self._asked[token] = config
        return token, config

    def tell(self, token: int, reward: float) -> None:
        config = self._asked.pop(token)
        if self.best is None or reward > self.best[0]:
            self.best = (reward, config)


# ---------------------------------------------------------------------------------------------
# Library adapters
# ---------------------------------------------------------------------------------------------


def _require(module: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"this optimizer needs {module}: pip install {extra}") from error


class _OptunaOptimizer:
    def __init__(self, space: DecisionSpace, seed: int | None, sampler: Any) -> None:
        optuna = _require("optuna", "optuna")
        self.space = space
        if sampler is None:
            sampler = optuna.samplers.TPESampler(seed=seed)
        self.study = optuna.create_study(direction="maximize", sampler=sampler)

    def ask(self) -> tuple[Any, Config]:
        trial = self.study.ask()
        config = {p.name: trial.suggest_categorical(p.name, list(p.choices))
                  for p in self.space.tunable()}
        return trial, config

    def tell(self, token: Any, reward: float) -> None:
        self.study.tell(token, reward)


def optuna_optimizer(sampler_factory: Callable[[int | None], Any] | None = None,
                     ) -> OptimizerFactory:
    """An Optuna study per episode (``TPESampler(seed=seed)`` unless ``sampler_factory``
    makes another sampler from the seed). Optuna logs each trial at INFO level; use
    ``optuna.logging.set_verbosity`` to quiet it."""

    def make(space: DecisionSpace, seed: int | None) -> ConfigOptimizer:
        sampler = sampler_factory(seed) if sampler_factory is not None else None
        return _OptunaOptimizer(space, seed, sampler)

    return make


class _NevergradOptimizer:
    def __init__(self, space: DecisionSpace, seed: int | None, optimizer: str,
                 budget: int | None) -> None:
        ng = _require("nevergrad", "nevergrad")
        import numpy as np

        self.keys = {f"d{i}": p for i, p in enumerate(space.tunable())}
        parametrization = ng.p.Dict(
            **{key: ng.p.Choice(list(p.choices)) for key, p in self.keys.items()})
        parametrization.random_state = np.random.RandomState(seed)
        self.optimizer = ng.optimizers.registry[optimizer](
            parametrization=parametrization, budget=budget)

    def ask(self) -> tuple[Any, Config]:
        candidate = self.optimizer.ask()
        return candidate, {p.name: candidate.value[key] for key, p in self.keys.items()}

    def tell(self, token: Any, reward: float) -> None:
        self.optimizer.tell(token, -reward)  # nevergrad minimises


def nevergrad_optimizer(optimizer: str = "NGOpt", budget: int | None = None,
                        ) -> OptimizerFactory:
    """A Nevergrad optimizer (by registry name) per episode over ``ng.p.Choice`` parameters."""

    def make(space: DecisionSpace, seed: int | None) -> ConfigOptimizer:
        return _NevergradOptimizer(space, seed, optimizer, budget)

    return make
