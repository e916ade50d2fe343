"""Backends: where a mapping program is run (the simulator, or real Legion).

Quick tour::

    from mapper_gym.backends import build_problem, make_backend
    from mapper_gym.config import RunConfig

    problem = build_problem("Stencil", "p100-node")          # the group's Preset A
    backend = make_backend("sim", problem)
    result = backend.run(open("mapper.dsl").read(), RunConfig())
    print(result.raw_output())

Importing this package is cheap: the simulator is imported when a ``sim`` backend is made.
"""

from __future__ import annotations

from mapper_gym.backends.base import BACKEND_NAMES, Backend, BackendUnavailable, internal_error
from mapper_gym.backends.cache import DEFAULT_CACHE_SIZE, EvaluationCache, shared_cache
from mapper_gym.backends.problem import (
    GROUP_PROBLEM,
    GROUP_RANKS_PER_NODE,
    Problem,
    build_problem,
    default_problem,
    machine_shape,
    machine_summary,
)

__all__ = [
    "BACKEND_NAMES",
    "DEFAULT_CACHE_SIZE",
    "DEFAULT_MACHINES",
    "GROUP_PROBLEM",
    "GROUP_RANKS_PER_NODE",
    "Backend",
    "BackendUnavailable",
    "EvaluationCache",
    "Problem",
    "build_problem",
    "check_backend_name",
    "default_machine",
    "default_problem",
    "internal_error",
    "machine_shape",
    "machine_summary",
    "make_backend",
    "shared_cache",
]


def check_backend_name(name: str) -> None:
    """Raise ``ValueError`` if ``name`` is not a backend (before any problem is built)."""
    if name not in BACKEND_NAMES:
        raise ValueError(f"unknown backend {name!r}; choose from {', '.join(BACKEND_NAMES)}")


#: The machine each backend runs on when the caller names none: the paper's node for the
#: simulator, this host for real Legion (its runtime from PyPI runs CPU-only, legion.md).
DEFAULT_MACHINES: dict[str, str] = {"sim": "p100-node", "legion": "local-cpu"}


def default_machine(backend: str) -> str:
    check_backend_name(backend)
    return DEFAULT_MACHINES[backend]


def make_backend(name: str, problem: Problem, *, cache: EvaluationCache | bool = True) -> Backend:
    """A backend called ``name`` bound to ``problem``.

    Raises:
        ValueError: unknown backend name.
        BackendUnavailable: the backend cannot run this problem here (the Legion runtime is
            not installed, the application has no real implementation yet, or the machine has
            GPUs that this host lacks); the message says which.
    """
    check_backend_name(name)
    if name == "legion":
        from mapper_gym.legion import LegionBackend

        return LegionBackend(problem, cache=cache)
    from mapper_gym.backends.sim import SimBackend

    return SimBackend(problem, cache=cache)
