"""Backends: where a mapping program is run (the simulator, later real Legion).

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
    "GROUP_PROBLEM",
    "GROUP_RANKS_PER_NODE",
    "Backend",
    "BackendUnavailable",
    "EvaluationCache",
    "Problem",
    "build_problem",
    "check_backend_name",
    "default_problem",
    "internal_error",
    "machine_shape",
    "machine_summary",
    "make_backend",
    "shared_cache",
]


def check_backend_name(name: str) -> None:
    """Raise if ``name`` is not a backend that can run here (before any problem is built).

    Raises:
        ValueError: unknown name.
        BackendUnavailable: ``legion``, whose build and runner belong to a later milestone.
    """
    if name not in BACKEND_NAMES:
        raise ValueError(f"unknown backend {name!r}; choose from {', '.join(BACKEND_NAMES)}")
    if name == "legion":
        raise BackendUnavailable(
            "the legion backend is not available yet: building the C++ DSL mapper and the "
            "applications against the Legion runtime (legion.md) is a later milestone; "
            "use backend='sim'"
        )


def make_backend(name: str, problem: Problem, *, cache: EvaluationCache | bool = True) -> Backend:
    """A backend called ``name`` bound to ``problem``.

    Raises:
        ValueError: unknown backend name.
        BackendUnavailable: the backend cannot run here (see :func:`check_backend_name`).
    """
    check_backend_name(name)
    from mapper_gym.backends.sim import SimBackend

    return SimBackend(problem, cache=cache)
