"""What the space-based baselines share: a decision space per episode and duplicate tracking.

Every baseline here searches :class:`mapper_gym.space.DecisionSpace` configurations and
proposes their rendered text. Two configurations can render the same program (a memory choice
for a processor kind the task does not run on is not rendered), so duplicates are detected on
the *text*: no baseline spends an evaluation on a program it has already measured.
"""

from __future__ import annotations

from typing import Any

from mapper_gym.agent import AgentInfo, BaseAgent, StepRecord
from mapper_gym.space import Config, DecisionSpace


class SpaceAgent(BaseAgent):
    """A :class:`BaseAgent` that proposes configurations of the episode's decision space.

    ``space_options`` are passed to :meth:`AgentInfo.space` (e.g. ``align=True``).
    Subclasses implement :meth:`next_config`; :meth:`propose` renders it and remembers which
    configuration produced which text, and :meth:`on_observe` gives :meth:`on_result` the
    configuration back with its reward.
    """

    def __init__(self, seed: int | None = 0, **space_options: Any) -> None:
        super().__init__(seed)
        self.space_options = space_options
        self.space: DecisionSpace | None = None
        #: Every program proposed this episode -> the configuration it came from.
        self.proposed: dict[str, Config] = {}
        #: Every program observed this episode -> its reward (0 for failures).
        self.measured: dict[str, float] = {}

    def on_reset(self, info: AgentInfo) -> None:
        self.space = info.space(**self.space_options)
        self.proposed = {}
        self.measured = {}

    def require_space(self) -> DecisionSpace:
        self.require_info()
        assert self.space is not None
        return self.space

    def render(self, config: Config) -> str:
        """The program of ``config``, remembered for :meth:`on_result`."""
        space = self.require_space()
        text = space.render(config)
        self.proposed.setdefault(text, space.canonical(config))
        return text

    def propose(self) -> str:
        return self.render(self.next_config())

    def next_config(self) -> Config:  # pragma: no cover - abstract
        raise NotImplementedError

    def on_observe(self, record: StepRecord) -> None:
        self.measured[record.action] = record.reward
        config = self.proposed.get(record.action)
        if config is not None:
            self.on_result(config, record)

    def on_result(self, config: Config, record: StepRecord) -> None:
        """A proposed configuration was evaluated (not called for foreign actions)."""

    def unseen_sample(self, tries: int = 1000) -> Config:
        """A random configuration whose program was not proposed yet (or, when ``tries``
        samples in a row were all seen, the last sample: tiny spaces run out)."""
        space = self.require_space()
        config = space.sample(self.rng)
        for _ in range(tries - 1):
            if space.render(config) not in self.proposed:
                break
            config = space.sample(self.rng)
        return config
