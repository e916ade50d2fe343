"""Coordinate descent over the decision space, after AutoMap (Teixeira et al., SC'23).

AutoMap searches mappings by changing one decision at a time and keeping changes that make the
program faster. Here a decision is one parameter of :class:`~mapper_gym.space.DecisionSpace`;
parameters are visited in the paper's group order (task kinds first, since they decide which
memory parameters matter) and, within a parameter, every alternative value is tried against
the current configuration. An alternative that scores strictly better becomes the current
configuration at once (first improvement). A full sweep without any improvement means a local
optimum: the search restarts from a random configuration, keeping the best program found.

Programs already measured are skipped, so no evaluation is spent on a duplicate; inactive
parameters (memories for a processor kind the task does not use) therefore cost nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from baselines._common import SpaceAgent
from mapper_gym.agent import AgentInfo, StepRecord
from mapper_gym.space import Config


class CoordinateDescentAgent(SpaceAgent):
    """One-decision-at-a-time search with first-improvement moves and random restarts.

    Args:
        seed: seeds restarts (and the start, with ``start="random"``).
        start: ``"baseline"`` (every parameter at its first choice: GPUs first, fastest
            memory, SOA C-order, no limits, default placements) or ``"random"``.
        space_options: passed to the decision space.
    """

    name = "coordinate"

    def __init__(self, seed: int | None = 0, start: str = "baseline", **space_options: Any):
        if start not in ("baseline", "random"):
            raise ValueError(f"start must be 'baseline' or 'random', got {start!r}")
        super().__init__(seed, **space_options)
        self.start = start
        self.current: Config | None = None
        self.current_reward: float | None = None
        self.restarts = 0
        self._moves: Iterator[Config] | None = None
        self._improved = False
        self._pending: Config | None = None

    def on_reset(self, info: AgentInfo) -> None:
        super().on_reset(info)
        space = self.require_space()
        start = space.baseline() if self.start == "baseline" else space.sample(self.rng)
        self.current = space.canonical(start)
        self.current_reward = None
        self.restarts = 0
        self._moves = None
        self._improved = False
        self._pending = None

    def _sweep(self) -> Iterator[Config]:
        """Candidates of one sweep, each generated against the current configuration at the
        time it is asked for (so an accepted move changes the following candidates)."""
        space = self.require_space()
        for param in space.tunable():
            for choice in param.choices:
                assert self.current is not None
                if choice == self.current[param.name] or not space.is_active(param, self.current):
                    continue
                candidate = dict(self.current)
                candidate[param.name] = choice
                yield space.canonical(candidate)

    def _restart(self) -> None:
        space = self.require_space()
        self.restarts += 1
        self.current = space.canonical(self.unseen_sample())
        self.current_reward = None
        self._moves = None

    def next_config(self) -> Config:
        if self._pending is not None:  # proposed but not observed yet: ask again
            return self._pending
        space = self.require_space()
        for _ in range(8):  # a few sweeps/restarts to find an unmeasured program
            assert self.current is not None
            if self.current_reward is None:
                text = space.render(self.current)
                if text not in self.proposed:
                    self._pending = self.current
                    return self.current
                self.current_reward = self.measured.get(text, 0.0)
            if self._moves is None:
                self._moves = self._sweep()
                self._improved = False
            for candidate in self._moves:
                if space.render(candidate) not in self.proposed:
                    self._pending = candidate
                    return candidate
            self._moves = None  # the sweep is over
            if not self._improved:
                self._restart()  # no decision improved on its own: a local optimum
        self._pending = space.canonical(self.unseen_sample())
        return self._pending

    def on_result(self, config: Config, record: StepRecord) -> None:
        if self._pending is None or config != self._pending:
            return
        self._pending = None
        if config == self.current:
            self.current_reward = record.reward
        elif self.current_reward is not None and record.reward > self.current_reward:
            self.current = config  # keep the improvement; the sweep goes on from here
            self.current_reward = record.reward
            self._improved = True
