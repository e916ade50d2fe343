"""Pieces shared by the three Regent applications (Circuit, Stencil, Pennant)."""

from __future__ import annotations

from mapper_gym.appmodel import MachineShape

#: Flags every multi-node Regent run of the group adds (apps.md §1.2).
MULTI_NODE_FLAGS: tuple[str, ...] = (
    "-dm:replicate", "1", "-dm:same_address_space", "-dm:memoize",
    "-lg:no_fence_elision", "-lg:parallel_replay", "2",
)


def regent_flags(machine: MachineShape, util: int, cpus: int | None = None) -> tuple[str, ...]:
    """The common Regent runtime flags of apps.md §1.2/§2.2/§3.2 for this machine shape.

    Processor counts follow the machine (``-ll:gpu`` = its GPUs per node, ``-ll:cpu`` = its CPUs
    unless ``cpus`` is given); memory sizes are the group's.
    """
    flags = [
        "-ll:cpu", str(cpus if cpus is not None else machine.cpus_per_node),
        "-ll:gpu", str(machine.gpus_per_node),
        "-ll:util", str(util), "-ll:bgwork", "2", "-hl:sched", "1024",
        "-ll:csize", "150000", "-ll:fsize", "15000", "-ll:zsize", "2048",
        "-ll:rsize", "512", "-ll:gsize", "0",
    ]
    if machine.nodes > 1:
        flags += MULTI_NODE_FLAGS
    return tuple(flags)


def seconds(value: float) -> str:
    """Regent's ``{7.3}`` rendering of a time (C ``%7.3f``)."""
    return f"{value:7.3f}"
