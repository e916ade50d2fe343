"""``RunConfig``: the switches of one evaluation that are not part of the mapping program.

They are part of the cache key of an evaluation (architecture.md): the same program under a
different configuration is a different experiment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class RunConfig:
    """Runtime switches that the original tools exposed as command-line flags (dsl.md §10 #33)."""

    #: ``InstanceLimit`` statements take effect (back-pressure); off makes them inert.
    backpressure: bool = True
    #: ``CollectMemory`` statements take effect; off makes them inert.
    collect: bool = True
    #: Layout demands of task variants that fail a run are enforced (apps.md layout rules with a
    #: ``switch``); turning one off models a build without that accessor check.
    layout_checks: bool = True
    #: Seed of everything random in an evaluation. The simulator itself is deterministic; the
    #: seed only matters to components that sample (agents, problem generators).
    seed: int = 0

    def key(self) -> tuple:
        """A hashable identity for caching."""
        return tuple(sorted(asdict(self).items()))
