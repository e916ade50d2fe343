"""The :class:`Machine`: one configured run's machine, as Legion and the simulator see it.

A Machine is immutable. It is built from a machine file (see :func:`load_machine`) and can be
re-configured by returning new machines: :meth:`Machine.with_legion_settings` (an
application's ``-ll:`` flags), :meth:`Machine.with_legion_flags` (the same from a command line)
and :meth:`Machine.with_overrides` (node count, ranks per node, flags).

It implements the DSL's :class:`~mapper_gym.dsl.context.Topology` protocol (``nodes``,
``processors_per_node``, ``can_use``) and answers the simulator's questions:

* what exists: :attr:`processors`, :attr:`memories`, :attr:`links`, and lookups by kind/node;
* who addresses what: :meth:`affinity`, :meth:`access`, :meth:`addressable`,
  :meth:`best_memory`;
* how data moves: :meth:`copy_path`;
* how fast things run: :meth:`compute`, :meth:`efficiency`, :attr:`overheads`,
  :attr:`zero_copy`, :attr:`network`;
* where each number came from: :attr:`sources` / :meth:`source`.

Every figure comes from the machine file; nothing here knows any hardware.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from mapper_gym.machine import _derive, _routes
from mapper_gym.machine.errors import MachineError
from mapper_gym.machine.flags import (
    LEGION_SETTINGS,
    apply_legion_settings,
    parse_legion_flags,
    unknown_name_error,
)
from mapper_gym.machine.model import (
    GIB,
    MEMORY_KINDS,
    MIB,
    PROCESSOR_KINDS,
    Access,
    Compute,
    CopyPath,
    CoreBudget,
    HardwareSpec,
    KernelEfficiency,
    LegionSettings,
    Link,
    Memory,
    NetworkSpec,
    NominalAffinity,
    Overheads,
    Processor,
    Source,
    ZeroCopySpec,
)

#: Names accepted by :meth:`Machine.with_overrides` and ``load_machine(**overrides)``.
MACHINE_OVERRIDES: tuple[str, ...] = ("nodes", "ranks_per_node")
OVERRIDES: tuple[str, ...] = MACHINE_OVERRIDES + LEGION_SETTINGS


def _processor_count(legion: LegionSettings, kind: str) -> int:
    counts = {
        "CPU": legion.cpu,
        "GPU": legion.gpu,
        "OMP": legion.omp,
        "IO": legion.io,
        "PY": legion.py,
        "UTIL": legion.util,
    }
    return counts.get(kind, 0)


def _size(nbytes: int) -> str:
    if nbytes >= GIB:
        return f"{nbytes / GIB:.1f} GiB"
    return f"{nbytes / MIB:.0f} MiB"


@dataclass(frozen=True)
class Machine:
    """A configured machine: ``hosts`` physical nodes, ``ranks_per_node`` address spaces each.

    Construct with :func:`mapper_gym.machine.load_machine`. Equality and hashing use the
    configuration (name, hardware, Legion settings, hosts, ranks); derived tables are excluded.
    """

    name: str
    description: str
    hardware: HardwareSpec
    legion: LegionSettings
    hosts: int
    ranks_per_node: int = 1
    sources: Mapping[str, Source] = field(default_factory=dict, compare=False, repr=False)
    #: Every processor, by address space then kind (CPU, GPU, OMP, IO, PY, UTIL) then index.
    processors: tuple[Processor, ...] = field(init=False, compare=False, repr=False)
    #: Every memory, by address space then kind (SYSMEM, SOCKMEM, RDMEM, ZCMEM, FBMEM) then
    #: index: the "order of the machine description" that breaks affinity ties.
    memories: tuple[Memory, ...] = field(init=False, compare=False, repr=False)
    #: Every shared link by id (see :class:`~mapper_gym.machine.model.Link`).
    links: Mapping[str, Link] = field(init=False, compare=False, repr=False)
    _procs_by: dict[tuple[str, int], tuple[Processor, ...]] = field(
        init=False, compare=False, repr=False
    )
    _mems_by: dict[tuple[str, int], tuple[Memory, ...]] = field(
        init=False, compare=False, repr=False
    )
    _mems_on: dict[int, tuple[Memory, ...]] = field(init=False, compare=False, repr=False)
    _cache: dict[tuple[str, object, object], object] = field(
        init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        _derive.validate(self.hardware, self.legion, self.hosts, self.ranks_per_node)
        lay = _derive.layout(self.hardware, self.legion, self.hosts, self.ranks_per_node)
        procs_by: dict[tuple[str, int], list[Processor]] = {}
        for proc in lay.processors:
            procs_by.setdefault((proc.kind, proc.node), []).append(proc)
        mems_by: dict[tuple[str, int], list[Memory]] = {}
        mems_on: dict[int, list[Memory]] = {}
        for mem in lay.memories:
            mems_by.setdefault((mem.kind, mem.node), []).append(mem)
            mems_on.setdefault(mem.node, []).append(mem)
        setattr_ = object.__setattr__
        setattr_(self, "sources", MappingProxyType(dict(self.sources)))
        setattr_(self, "processors", lay.processors)
        setattr_(self, "memories", lay.memories)
        setattr_(self, "links", MappingProxyType({link.id: link for link in lay.links}))
        setattr_(self, "_procs_by", {k: tuple(v) for k, v in procs_by.items()})
        setattr_(self, "_mems_by", {k: tuple(v) for k, v in mems_by.items()})
        setattr_(self, "_mems_on", {k: tuple(v) for k, v in mems_on.items()})
        setattr_(self, "_cache", {})

    # ----------------------------------------------------------------------------------------
    # Topology protocol (mapper_gym.dsl.context) and counts

    @property
    def nodes(self) -> int:
        """Legion address spaces, the DSL's nodes: ``hosts * ranks_per_node``."""
        return self.hosts * self.ranks_per_node

    def processors_per_node(self, kind: str) -> int:
        """Processors of ``kind`` per address space (DSL kinds, plus ``UTIL``); 0 if none."""
        return _processor_count(self.legion, kind)

    def memories_per_node(self, kind: str) -> int:
        """Memories of ``kind`` per address space (0 when the kind does not exist)."""
        return len(self._mems_by.get((kind, 0), ()))

    def can_use(self, proc_kind: str, mem_kind: str) -> bool:
        """True when a processor of ``proc_kind`` can use a ``mem_kind`` memory on its node.

        Usable means (dsl.md §6.1): such processors exist, a memory of that kind exists in their
        address space, and the processor has affinity to it. Nodes are alike, so node 0 answers
        for all. ``VIRTUAL`` is not a memory and is never usable here.
        """
        key = ("can_use", proc_kind, mem_kind)
        if key not in self._cache:
            self._cache[key] = any(
                self.best_memory(proc, mem_kind) is not None
                for proc in self._procs_by.get((proc_kind, 0), ())
            )
        return self._cache[key]  # type: ignore[return-value]

    # ----------------------------------------------------------------------------------------
    # Lookups

    def processors_of(self, kind: str, node: int | None = None) -> tuple[Processor, ...]:
        """Processors of ``kind`` on one address space, or on all (in node order)."""
        if node is not None:
            return self._procs_by.get((kind, node), ())
        return tuple(p for p in self.processors if p.kind == kind)

    def processor(self, kind: str, node: int, index: int) -> Processor:
        """Processor ``index`` of ``kind`` on address space ``node`` (the DSL point)."""
        procs = self._procs_by.get((kind, node), ())
        if not 0 <= index < len(procs):
            raise MachineError(
                f"no processor {kind}[{node}, {index}]: {self.nodes} node(s) with "
                f"{self.processors_per_node(kind)} {kind} processor(s) each",
                key=kind,
            )
        return procs[index]

    def memories_of(self, kind: str, node: int | None = None) -> tuple[Memory, ...]:
        """Memories of ``kind`` on one address space, or on all (in node order)."""
        if node is not None:
            return self._mems_by.get((kind, node), ())
        return tuple(m for m in self.memories if m.kind == kind)

    def memory(self, kind: str, node: int, index: int = 0) -> Memory:
        """Memory ``index`` of ``kind`` on address space ``node``."""
        mems = self._mems_by.get((kind, node), ())
        if not 0 <= index < len(mems):
            raise MachineError(
                f"no memory {kind}[{index}] on node {node} ({len(mems)} of that kind there)",
                key=kind,
            )
        return mems[index]

    def memories_on(self, node: int) -> tuple[Memory, ...]:
        """All memories of one address space, in description order."""
        return self._mems_on.get(node, ())

    def link(self, link_id: str) -> Link:
        try:
            return self.links[link_id]
        except KeyError:
            raise MachineError(f"no link {link_id!r} on this machine", key=link_id) from None

    # ----------------------------------------------------------------------------------------
    # Affinity, access, copies

    def affinity(self, proc: Processor, memory: Memory) -> NominalAffinity | None:
        """Realm's nominal affinity (a rank, not a performance figure); None if unaddressable."""
        return _routes.affinity(self, proc, memory)

    def access(self, proc: Processor, memory: Memory) -> Access | None:
        """Bandwidth, latency and link loads of ``proc`` using ``memory``; None if it cannot.

        A processor never addresses memory of another address space (cross-node data is
        always copied); a GPU addresses its own framebuffer, zero-copy memory, and other
        framebuffers of its address space only with peer access.
        """
        key = ("access", proc, memory)
        if key not in self._cache:
            self._cache[key] = _routes.access(self, proc, memory)
        return self._cache[key]  # type: ignore[return-value]

    def addressable(self, proc: Processor, mem_kind: str | None = None) -> tuple[Memory, ...]:
        """Memories ``proc`` can address (of ``mem_kind`` if given), best affinity first.

        Ties keep the order of the machine description (dsl.md §6.1). With no kind, the first
        entry is Realm's best-ranked memory for the processor (a GPU's own framebuffer, a CPU's
        system memory).
        """
        candidates = self.memories_of(mem_kind, proc.node) if mem_kind else self.memories_on(
            proc.node
        )
        ranked = []
        for position, mem in enumerate(candidates):
            nominal = self.affinity(proc, mem)
            if nominal is not None:
                ranked.append((nominal.rank_key(), position, mem))
        ranked.sort(key=lambda item: (item[0], item[1]))
        return tuple(mem for _, _, mem in ranked)

    def best_memory(self, proc: Processor, mem_kind: str) -> Memory | None:
        """The usable memory of ``mem_kind`` with the best affinity to ``proc``, or None."""
        found = self.addressable(proc, mem_kind)
        return found[0] if found else None

    def copy_path(self, src: Memory, dst: Memory) -> CopyPath:
        """The route of a copy from ``src`` to ``dst``, any two memories of the machine."""
        key = ("copy", src, dst)
        if key not in self._cache:
            self._cache[key] = _routes.copy_path(self, src, dst)
        return self._cache[key]  # type: ignore[return-value]

    # ----------------------------------------------------------------------------------------
    # Performance figures

    def compute(self, proc: Processor) -> Compute:
        """Peak flop/s, memory-bandwidth cap and cores of one processor (machine.md §5).

        A GPU gets its peak and sustained HBM bandwidth. A CPU, utility, IO or Python processor
        gets one core and the per-core bandwidth cap. An OpenMP processor with T threads gets T
        cores and at most its socket's DRAM bandwidth.
        """
        if proc.kind == "GPU":
            gpu = self.hardware.gpu
            assert gpu is not None
            return Compute(gpu.fp64_flops, gpu.fp32_flops, gpu.hbm_bandwidth, 1)
        host = self.hardware.host
        threads = proc.threads
        bandwidth = threads * host.core_bandwidth
        if proc.kind == "OMP":
            bandwidth = min(bandwidth, host.dram_bandwidth)
        return Compute(
            host.core_fp64_flops * threads, host.core_fp32_flops * threads, bandwidth, threads
        )

    def efficiency(self, kernel_class: str) -> KernelEfficiency:
        """Starting efficiency of a kernel class of machine.md §7 (``dense_dgemm``, ...)."""
        for eff in self.hardware.efficiencies:
            if eff.name == kernel_class:
                return eff
        raise unknown_name_error(
            kernel_class, (e.name for e in self.hardware.efficiencies), "kernel class"
        )

    @property
    def overheads(self) -> Overheads:
        return self.hardware.overheads

    @property
    def zero_copy(self) -> ZeroCopySpec | None:
        return self.hardware.zero_copy

    @property
    def network(self) -> NetworkSpec | None:
        return self.hardware.network

    def core_budget(self) -> CoreBudget:
        """Threads reserved on each host against its usable cores (machine.md §1.1)."""
        return _derive.core_budget(self.hardware, self.legion, self.ranks_per_node)

    # ----------------------------------------------------------------------------------------
    # Re-configuration

    def with_overrides(self, **overrides: object) -> Machine:
        """A new machine with ``nodes`` (hosts), ``ranks_per_node`` and/or Legion settings.

        Legion settings are the ``-ll:`` flag names (see :data:`LEGION_SETTINGS`); sizes are in
        MiB or strings like ``"15G"``. Unknown names and impossible values raise MachineError.
        """
        for name in overrides:
            if name not in OVERRIDES:
                raise unknown_name_error(name, OVERRIDES, "machine override")
        hosts = overrides.get("nodes", self.hosts)
        ranks = overrides.get("ranks_per_node", self.ranks_per_node)
        flags = {k: v for k, v in overrides.items() if k in LEGION_SETTINGS}
        legion = apply_legion_settings(self.legion, flags)
        sources = dict(self.sources)
        for name, value in overrides.items():
            path = f"machine.{name}" if name in MACHINE_OVERRIDES else f"legion.{name}"
            sources[path] = Source("U", f"override {name}={value!r}")
        return dataclasses.replace(
            self, legion=legion, hosts=hosts, ranks_per_node=ranks, sources=sources
        )

    def with_legion_settings(self, **flags: object) -> Machine:
        """A new machine with an application's Legion settings applied over the ``[legion]``
        block (e.g. ``gpu=4, util=4, csize=150000, fsize="15G", omp=1, omp_threads=10``).

        ``ranks_per_node`` is accepted too, because the four-ranks-per-node layout is part of
        an application's run configuration (machine.md §4.3). The node count is not.
        """
        allowed = ("ranks_per_node", *LEGION_SETTINGS)
        for name in flags:
            if name not in allowed:
                raise unknown_name_error(name, allowed, "Legion setting")
        return self.with_overrides(**flags)

    def with_legion_flags(self, args: str | Sequence[str]) -> Machine:
        """A new machine configured by a Legion command line (only ``-ll:`` flags are read)."""
        return self.with_legion_settings(**parse_legion_flags(args))

    # ----------------------------------------------------------------------------------------
    # Provenance and description

    def source(self, path: str) -> Source:
        """Label and note of a machine-file value, by dotted path (``"gpu.peak.fp64_tflops"``,
        ``"legion.fsize"``)."""
        try:
            return self.sources[path]
        except KeyError:
            raise unknown_name_error(path, self.sources, "machine value") from None

    @property
    def fingerprint(self) -> str:
        """A stable hash of the configuration, for caching results per machine."""
        key = ("fingerprint", None, None)
        if key not in self._cache:
            payload = {
                "name": self.name,
                "hardware": dataclasses.asdict(self.hardware),
                "legion": dataclasses.asdict(self.legion),
                "hosts": self.hosts,
                "ranks_per_node": self.ranks_per_node,
            }
            text = json.dumps(payload, sort_keys=True, default=repr)
            self._cache[key] = hashlib.sha256(text.encode()).hexdigest()[:16]
        return self._cache[key]  # type: ignore[return-value]

    def describe(self) -> str:
        """A short text for agents and logs: nodes, processors and memories per node."""
        ranks = f" ({self.hosts} hosts x {self.ranks_per_node} ranks)" if (
            self.ranks_per_node > 1
        ) else ""
        procs = ", ".join(
            f"{self.processors_per_node(k)} {k}"
            for k in PROCESSOR_KINDS
            if self.processors_per_node(k) > 0
        )
        mems = []
        for kind in MEMORY_KINDS:
            found = self._mems_by.get((kind, 0), ())
            if found:
                count = f"{len(found)} x " if len(found) > 1 else ""
                each = " each" if len(found) > 1 else ""
                mems.append(f"{count}{kind} {_size(found[0].capacity)}{each}")
        return (
            f"{self.name}: {self.nodes} node(s){ranks}; per node: {procs}; "
            f"memories per node: {', '.join(mems)}"
        )
