"""Baseline agents of mapper-gym: search over the decision space, and fixed programs.

=========================  ==================================================================
agent                      what it does
=========================  ==================================================================
:class:`RandomSearchAgent`  uniform draws from the decision space (the paper's random mappers)
:class:`OpenTunerAgent`     OpenTuner's default search, in-process ask/tell (``[opentuner]``)
:class:`CoordinateDescentAgent`  one decision at a time, keep improvements (AutoMap-style)
:class:`AskTellAgent`       any ask/tell optimizer (Optuna, Nevergrad, ...) as an agent
:class:`ExpertAgent`        the application's expert mapper, every step
:class:`DefaultAgent`       Legion's default mapper policy, every step
=========================  ==================================================================

All implement :class:`mapper_gym.agent.Agent`. OpenTuner is imported only when an
:class:`OpenTunerAgent` is made.
"""

from baselines.ask_tell import (
    AskTellAgent,
    ConfigOptimizer,
    MutationOptimizer,
    nevergrad_optimizer,
    optuna_optimizer,
)
from baselines.constant import ConstantAgent, DefaultAgent, ExpertAgent
from baselines.coordinate_descent import CoordinateDescentAgent
from baselines.opentuner_agent import OpenTunerAgent
from baselines.random_search import RandomSearchAgent

__all__ = [
    "AskTellAgent",
    "ConfigOptimizer",
    "ConstantAgent",
    "CoordinateDescentAgent",
    "DefaultAgent",
    "ExpertAgent",
    "MutationOptimizer",
    "OpenTunerAgent",
    "RandomSearchAgent",
    "nevergrad_optimizer",
    "optuna_optimizer",
]
