"""The problem a real Legion run evaluates: an application sized for this host's machine.

Real runs happen on ``local-cpu`` unless told otherwise. There
:func:`mapper_gym.backends.build_problem` launches the program as the machine file's own
``[legion]`` block says (two CPU processors, 4 GiB of system memory) rather than with the
research group's GPU-cluster flags, so the resolver, the simulator and Legion all see the same
processors and memories.
"""

from __future__ import annotations

from pathlib import Path

from mapper_gym.backends.problem import Problem, build_problem
from mapper_gym.machine import Machine

__all__ = ["LOCAL_MACHINE", "legion_problem"]

#: The machine preset that describes this host for real runs.
LOCAL_MACHINE = "local-cpu"


def legion_problem(
    app: str,
    machine: str | Path | Machine = LOCAL_MACHINE,
    *,
    problem: str | None = None,
    **overrides: int,
) -> Problem:
    """``app`` at ``problem`` size (default: the machine's group size, ``small`` for local-cpu)
    on ``machine``, as :func:`~mapper_gym.backends.build_problem` configures it.

    Raises:
        KeyError: unknown application.
        ValueError: unknown preset or parameter.
    """
    return build_problem(app, machine, problem=problem, **overrides)
