"""A *problem*: one application at one problem size, bound to the machine it runs on.

Every evaluation of a mapping program happens against a fixed problem (architecture.md: an
episode is a budget of steps against a fixed application and machine). Building one takes three
facts that depend on each other:

* the application model is sized for a machine *shape* (address spaces, GPUs and CPUs per
  address space), :class:`~mapper_gym.appmodel.MachineShape`;
* the application then names the Legion flags the research group ran it with
  (:attr:`AppModel.legion_flags`), which reconfigure the machine (processor counts, memory
  sizes; machine.md §8);
* Johnson and COSMA ran with four ranks per node on the V100 cluster (machine.md §4.3), which
  changes the number of address spaces the application sees.

:func:`build_problem` resolves them to a fixed point: it builds the application for the shape of
the machine, applies the application's flags, and rebuilds once if the configured machine has
a different shape (for example the DISTAL flags add an OpenMP processor). The application
therefore always sees exactly the machine it will be mapped on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mapper_gym.appmodel import AppModel, MachineShape
from mapper_gym.dsl.context import AppInfo
from mapper_gym.machine import Machine, load_machine, parse_legion_flags, realm_defaults

__all__ = [
    "GROUP_PROBLEM",
    "GROUP_RANKS_PER_NODE",
    "Problem",
    "build_problem",
    "default_problem",
    "machine_shape",
    "machine_summary",
]

#: The problem preset the research group ran on each machine preset (apps.md: Preset A is the
#: single P100 node, Preset B the Lassen-like cluster). ``local-cpu`` only fits the test sizes.
GROUP_PROBLEM: dict[str, str] = {"p100-node": "A", "lassen": "B", "local-cpu": "small"}

#: Applications the group ran with several ranks per physical node, per problem preset
#: (apps.md §4.3 Johnson and §4.5 COSMA: four ranks of one GPU each on the V100 cluster).
GROUP_RANKS_PER_NODE: dict[tuple[str, str], int] = {("Johnson", "B"): 4, ("COSMA", "B"): 4}


def default_problem(machine: Machine) -> str:
    """The group's problem preset for ``machine`` (``"A"`` for machines it does not know:
    Preset A is the paper's size)."""
    return GROUP_PROBLEM.get(machine.name, "A")


def machine_shape(machine: Machine) -> MachineShape:
    """The :class:`MachineShape` an application is sized for on ``machine``."""
    return MachineShape(
        nodes=machine.nodes,
        gpus_per_node=machine.processors_per_node("GPU"),
        cpus_per_node=machine.processors_per_node("CPU"),
        omps_per_node=machine.processors_per_node("OMP"),
        ranks_per_node=machine.ranks_per_node,
    )


def machine_summary(machine: Machine) -> dict[str, Any]:
    """A JSON-ready description of the machine an agent maps onto (the paper's "server
    specification"): nodes, processors and memories per node, and a one-line text."""
    processors = {
        kind: machine.processors_per_node(kind)
        for kind in ("CPU", "GPU", "OMP", "IO", "PY")
        if machine.processors_per_node(kind) > 0
    }
    memories: dict[str, dict[str, int]] = {}
    for memory in machine.memories_on(0):
        entry = memories.setdefault(memory.kind, {"count": 0, "capacity_bytes": 0})
        entry["count"] += 1
        entry["capacity_bytes"] = int(memory.capacity)
    return {
        "name": machine.name,
        "nodes": machine.nodes,
        "hosts": machine.hosts,
        "ranks_per_node": machine.ranks_per_node,
        "processors_per_node": processors,
        "memories_per_node": memories,
        "text": machine.describe(),
    }


@dataclass(frozen=True, eq=False)
class Problem:
    """An application model bound to its configured machine; what a backend evaluates on."""

    #: Registry name of the application (``"Circuit"``, ..., ``"COSMA"``).
    app_name: str
    #: Problem preset (``"A"``, ``"B"``, ``"small"``).
    preset: str
    model: AppModel
    #: The machine with the application's Legion flags applied.
    machine: Machine
    #: Parameter overrides the model was built with (part of the problem's identity).
    overrides: tuple[tuple[str, int], ...] = ()

    @property
    def key(self) -> tuple:
        """Identity of the problem for caching: application, preset, overrides, machine."""
        return (self.app_name, self.preset, self.overrides, self.machine.fingerprint)

    @property
    def unit(self) -> str:
        return self.model.throughput_unit

    def app_info(self) -> AppInfo:
        """Task and region names for the DSL checker (computed once per problem)."""
        cached = self.__dict__.get("_app_info")
        if cached is None:
            cached = self.model.app_info()
            object.__setattr__(self, "_app_info", cached)
        return cached

    def describe(self) -> dict[str, Any]:
        """What the paper's agent receives: application metadata and the machine."""
        return {
            "app": self.model.describe(),
            "app_text": self.model.describe_text(),
            "machine": machine_summary(self.machine),
            "problem": self.preset,
            "unit": self.unit,
        }


def _configure(base: Machine, model: AppModel, shape: MachineShape) -> Machine:
    """``base`` configured the way the application is launched on it.

    The application's ``-ll:`` flags are the research group's command line for the GPU build
    (apps.md). A command line names only what it changes, so on a machine with GPUs the flags
    apply over Realm's defaults, not over the machine file's ``[legion]`` block: a DISTAL run
    that does not pass ``-ll:zsize`` gets Realm's 64 MiB of zero-copy memory even on a node
    whose file describes the Regent runs' 2 GiB (machine.md §2). A machine without GPUs
    (``local-cpu``) cannot take a GPU build's flags at all; there the program is launched the
    way the machine file says, which is how the Legion backend runs CPU builds here.
    """
    settings: dict[str, object] = {}
    if base.processors_per_node("GPU") > 0 and model.legion_flags:
        settings.update(realm_defaults())
        settings.update(parse_legion_flags(model.legion_flags))
    if shape.ranks_per_node != base.ranks_per_node:
        settings.setdefault("gpu", shape.gpus_per_node)
        settings["ranks_per_node"] = shape.ranks_per_node
    return base.with_legion_settings(**settings) if settings else base


def build_problem(
    app: str,
    machine: str | Path | Machine = "p100-node",
    *,
    nodes: int | None = None,
    problem: str | None = None,
    ranks_per_node: int | None = None,
    **overrides: int,
) -> Problem:
    """Build the application ``app`` at ``problem`` size for ``machine`` and configure both.

    Args:
        app: application name (case-insensitive; see :data:`benchmarks.APP_NAMES`).
        machine: a machine preset name, a machine file, or a :class:`Machine`.
        nodes: physical node count (``None``: the machine's default).
        problem: problem preset; ``None`` takes the group's size for this machine
            (:func:`default_problem`).
        ranks_per_node: Legion processes per physical node; ``None`` takes the group's layout
            (four for Johnson and COSMA at Preset B, else the machine's own).
        **overrides: application parameters replacing the preset's (``tsteps=5``).

    Raises:
        KeyError: unknown application.
        ValueError: unknown preset or parameter, or a machine that cannot be configured
            (:class:`~mapper_gym.machine.MachineError` is a ValueError).
    """
    from benchmarks import get_app

    application = get_app(app)
    if isinstance(machine, Machine):
        base = machine.with_overrides(nodes=nodes) if nodes is not None else machine
    else:
        base = load_machine(machine, nodes=nodes)
    preset = problem if problem is not None else default_problem(base)
    if preset not in application.presets:
        raise ValueError(
            f"unknown problem {preset!r} for {application.name}; "
            f"choose from {', '.join(application.presets)}"
        )
    if ranks_per_node is None:
        ranks_per_node = GROUP_RANKS_PER_NODE.get((application.name, preset), base.ranks_per_node)
    if ranks_per_node < 1:
        raise ValueError(f"ranks_per_node must be >= 1, got {ranks_per_node}")
    gpus = base.processors_per_node("GPU")
    if ranks_per_node != base.ranks_per_node:
        # Splitting a host into r ranks gives each rank 1/r of the host's GPUs.
        per_host = gpus * base.ranks_per_node
        if per_host % ranks_per_node:
            raise ValueError(
                f"{per_host} GPU(s) per host cannot be split over {ranks_per_node} ranks"
            )
        gpus = per_host // ranks_per_node
    shape = MachineShape(
        nodes=base.hosts * ranks_per_node,
        gpus_per_node=gpus,
        cpus_per_node=base.processors_per_node("CPU"),
        omps_per_node=base.processors_per_node("OMP"),
        ranks_per_node=ranks_per_node,
    )
    model = application.build(shape, preset, **overrides)
    configured = _configure(base, model, shape)
    final_shape = machine_shape(configured)
    if final_shape != shape:
        # The flags changed what the application sees (e.g. an OpenMP processor): size the
        # application for the machine it will actually run on, once more.
        model = application.build(final_shape, preset, **overrides)
        configured = _configure(base, model, final_shape)
        if machine_shape(configured) != final_shape:
            raise ValueError(
                f"{application.name} at problem {preset} does not settle on a machine shape "
                f"for {base.name}: {final_shape} vs {machine_shape(configured)}"
            )
    return Problem(
        app_name=application.name,
        preset=preset,
        model=model,
        machine=configured,
        overrides=tuple(sorted(overrides.items())),
    )
