"""Every baseline agent passes the conformance suite: 10 iterations on each of the nine
environments (simulator) without an exception, seeded determinism, failure tolerance."""

from __future__ import annotations

import pytest

from baselines import (
    AskTellAgent,
    CoordinateDescentAgent,
    DefaultAgent,
    ExpertAgent,
    MutationOptimizer,
    OpenTunerAgent,
    RandomSearchAgent,
)
from mapper_gym.testing import ALL_APPS, check_agent

#: (factory, its proposals come from the decision space and must compile cleanly)
AGENTS = {
    "random": (lambda seed: RandomSearchAgent(seed=seed), True),
    "opentuner": (lambda seed: OpenTunerAgent(seed=seed), True),
    "coordinate": (lambda seed: CoordinateDescentAgent(seed=seed), True),
    "ask_tell": (lambda seed: AskTellAgent(MutationOptimizer, seed=seed), True),
    "expert": (lambda seed: ExpertAgent(seed=seed), True),
    "default": (lambda seed: DefaultAgent(seed=seed), True),
}


@pytest.mark.parametrize("name", list(AGENTS))
def test_agent_conforms_on_all_nine_environments(name):
    make, compiles = AGENTS[name]
    report = check_agent(make, env_ids=ALL_APPS, iters=10, proposals_compile=compiles)
    assert [e.env_id for e in report.episodes] == list(ALL_APPS)
    assert all(len(e.rewards) == 10 for e in report.episodes)
    if name == "expert":
        assert all(e.best == pytest.approx(1.0) for e in report.episodes)
