"""Random search: independent uniform draws from the decision space (the paper's random
mappers, paper.md: 10 per application, sampled from the whole space)."""

from __future__ import annotations

from baselines._common import SpaceAgent
from mapper_gym.space import Config


class RandomSearchAgent(SpaceAgent):
    """Proposes uniformly random configurations, never the same program twice in an episode
    (as long as the space has unseen programs left)."""

    name = "random"

    def next_config(self) -> Config:
        return self.unseen_sample()
