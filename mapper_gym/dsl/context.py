"""What the DSL tools need to know about the world outside the program.

The DSL front end is independent of the simulator and of Legion: it sees a machine only through
:class:`Topology` (how many nodes, how many processors of each kind per node, which processor
kinds can use which memory kinds) and an application only through :class:`AppInfo` (task names,
region argument names, which tasks are index launches). The machine models of
``mapper_gym.machine`` and the application models of ``benchmarks`` both provide these views.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

#: Default affinities of dsl.md §6.1: which memory kinds a processor kind may address.
#: FBMEM means the GPU's own framebuffer. A machine description may narrow these, never widen.
DEFAULT_AFFINITY: Mapping[str, frozenset[str]] = {
    "CPU": frozenset({"SYSMEM", "SOCKMEM", "RDMEM", "ZCMEM"}),
    "OMP": frozenset({"SYSMEM", "SOCKMEM", "RDMEM", "ZCMEM"}),
    "IO": frozenset({"SYSMEM", "SOCKMEM", "RDMEM", "ZCMEM"}),
    "PY": frozenset({"SYSMEM", "SOCKMEM", "RDMEM", "ZCMEM"}),
    "PROC": frozenset({"SYSMEM", "SOCKMEM", "RDMEM", "ZCMEM"}),
    "GPU": frozenset({"ZCMEM", "FBMEM"}),
}


@runtime_checkable
class Topology(Protocol):
    """The machine as the DSL sees it (dsl.md §8.1, §7.3 ``has``)."""

    @property
    def nodes(self) -> int:
        """Number of nodes (Legion address spaces)."""
        ...

    def processors_per_node(self, kind: str) -> int:
        """Processors of a DSL processor kind on each node (0 when the node has none)."""
        ...

    def can_use(self, proc_kind: str, mem_kind: str) -> bool:
        """True when a processor of ``proc_kind`` can use a memory of ``mem_kind`` on its node."""
        ...


@dataclass(frozen=True)
class SimpleTopology:
    """A homogeneous machine given by counts: enough for the DSL tools and their tests.

    ``memories`` lists the memory kinds present on each node; usability is the default affinity
    of dsl.md §6.1 restricted to present memories and present processor kinds.
    """

    nodes: int
    processors: Mapping[str, int]
    memories: frozenset[str] = field(
        default_factory=lambda: frozenset({"SYSMEM", "ZCMEM", "FBMEM"})
    )

    def processors_per_node(self, kind: str) -> int:
        return int(self.processors.get(kind, 0))

    def can_use(self, proc_kind: str, mem_kind: str) -> bool:
        if self.processors_per_node(proc_kind) <= 0 or mem_kind not in self.memories:
            return False
        return mem_kind in DEFAULT_AFFINITY.get(proc_kind, frozenset())


@dataclass(frozen=True)
class TaskInfo:
    """One task of an application, as a mapping program may refer to it.

    ``regions[i]`` holds the candidate semantic names of region argument ``i`` (the region's own
    name, then its partition's, then its parent region's; dsl.md §6.3), possibly empty.
    """

    name: str
    regions: tuple[tuple[str, ...], ...] = ()
    index_launch: bool = False
    single_launch: bool = True
    variants: tuple[str, ...] = ("CPU",)
    inner: bool = False


@dataclass(frozen=True)
class AppInfo:
    """The application metadata the checker and the agents receive."""

    name: str
    tasks: tuple[TaskInfo, ...]

    def task(self, name: str) -> TaskInfo | None:
        for info in self.tasks:
            if info.name == name:
                return info
        return None

    def task_names(self) -> tuple[str, ...]:
        return tuple(info.name for info in self.tasks)

    def region_names(self) -> frozenset[str]:
        return frozenset(n for info in self.tasks for arg in info.regions for n in arg)
