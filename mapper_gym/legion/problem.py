"""The problem a real Legion run evaluates: an application sized for this host's machine.

:func:`mapper_gym.backends.build_problem` configures the machine with the research group's
Legion flags for the application (their GPU clusters' ``-ll:csize 150000`` and friends), which
do not fit a development machine. A real run on this host uses the machine file's own
``[legion]`` block instead (``local-cpu``: two CPU processors, 4 GiB of system memory), and the
application is sized for that machine's shape, so the resolver, the simulator and Legion all see
the same processors and memories.
"""

from __future__ import annotations

from pathlib import Path

from mapper_gym.backends.problem import Problem, default_problem, machine_shape
from mapper_gym.machine import Machine, load_machine

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
    on ``machine`` as its machine file configures it.

    Raises:
        KeyError: unknown application.
        ValueError: unknown preset or parameter.
    """
    from benchmarks import get_app

    application = get_app(app)
    base = machine if isinstance(machine, Machine) else load_machine(machine)
    preset = problem if problem is not None else default_problem(base)
    if preset not in application.presets:
        raise ValueError(f"unknown problem {preset!r} for {application.name}; choose from "
                         f"{', '.join(application.presets)}")
    model = application.build(machine_shape(base), preset, **overrides)
    return Problem(app_name=application.name, preset=preset, model=model, machine=base,
                   overrides=tuple(sorted(overrides.items())))
