"""Integer-indexed views of a machine for the simulator: processors, memories, links, routes.

The machine model (:mod:`mapper_gym.machine`) answers questions with rich records keyed by
objects and link-id strings. The simulator asks the same questions thousands of times per run,
so it converts them once per machine into small integer tables:

* processors and memories by position in :attr:`Machine.processors` / :attr:`Machine.memories`;
* links by position, with their bandwidth in bytes/s;
* a :class:`Route` per (source memory, destination memory): the links a transfer loads and by
  how much per byte, its rate cap, its latency in picoseconds and the GPU copy engine it needs;
* the local write and read-modify-write passes of fills and reduction folds.

Copy engines (machine.md §5 [A]: "each GPU performs at most 2 concurrent copies, one per
direction"): every framebuffer has an inbound and an outbound engine with
``concurrent_copies // 2`` slots each. A copy into a framebuffer uses its inbound engine; a copy
out of one (to a memory that is not a framebuffer) its outbound engine; other copies need none.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

from mapper_gym.machine import Machine, Memory, Processor
from mapper_gym.sim.units import to_ps

#: Loads are integers in units of 1 / LOAD_SCALE (see flows.py).
LOAD_SCALE = 1 << 20


@dataclass(frozen=True, slots=True)
class Route:
    """How bytes move for one copy-like operation.

    ``loads``: ``(link index, bytes on that link per byte moved)``; ``cap``: the route's own
    rate limit in bytes/s (``inf`` when only links limit it); ``latency``: picoseconds before
    the first byte arrives (path latency plus, between two address spaces of one host, the
    inter-process message overhead); ``engine``: copy engine index or -1; ``bandwidth``: the
    uncontended rate.
    """

    loads: tuple[tuple[int, float], ...]
    cap: float
    latency: int
    engine: int
    bandwidth: float
    name: str
    #: ``loads`` as integers in units of 2**-20 (exact sums, see flows.py)
    iloads: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        if not self.iloads:
            object.__setattr__(self, "iloads", tuple(
                (li, max(1, round(load * LOAD_SCALE))) for li, load in self.loads))


class MachineTables:
    """The integer tables of one machine (build with :func:`machine_tables`, which caches)."""

    def __init__(self, machine: Machine) -> None:
        self.machine = machine
        self.procs: tuple[Processor, ...] = machine.processors
        self.proc_index: dict[Processor, int] = {p: i for i, p in enumerate(self.procs)}
        self.mems: tuple[Memory, ...] = machine.memories
        self.mem_index: dict[Memory, int] = {m: i for i, m in enumerate(self.mems)}
        # lookups by identity first: the plan holds the machine's own objects, and hashing a
        # frozen dataclass rebuilds the tuple of its fields every time
        self._proc_id = {id(p): i for i, p in enumerate(self.procs)}
        self._mem_id = {id(m): i for i, m in enumerate(self.mems)}
        self.link_ids: tuple[str, ...] = tuple(machine.links)
        self.link_index: dict[str, int] = {lid: i for i, lid in enumerate(self.link_ids)}
        self.link_bw: tuple[float, ...] = tuple(machine.links[lid].bandwidth
                                                for lid in self.link_ids)
        self.nodes = machine.nodes
        self.util_per_node = machine.processors_per_node("UTIL")
        self.bgwork_per_node = machine.legion.bgwork
        # The processor that runs a node's top-level shard: its first CPU (or any processor).
        self.top_proc: list[int] = []
        for node in range(self.nodes):
            cpus = machine.processors_of("CPU", node) or machine.processors_of("OMP", node)
            self.top_proc.append(self.proc_index[cpus[0]])
        # Copy engines: two per framebuffer (inbound, outbound).
        gpu = machine.hardware.gpu
        per_direction = max(1, (gpu.concurrent_copies if gpu is not None else 2) // 2)
        self.fb_ordinal: dict[int, int] = {}
        for mi, mem in enumerate(self.mems):
            if mem.kind == "FBMEM":
                self.fb_ordinal[mi] = len(self.fb_ordinal)
        self.engine_slots = per_direction
        self.engine_count = 2 * len(self.fb_ordinal)
        self._routes: dict[tuple[int, int, str], Route] = {}
        self._access: dict[tuple[int, int], object] = {}
        #: task cost results: (launch, point index, processor, instances) -> (start, body) ps
        self.costs: dict[tuple, tuple[int, int]] = {}
        self.inter_process = machine.overheads.inter_process_message
        self._rank: dict[tuple[int, int], tuple[float, int, int]] = {}

    def proc_of(self, proc: Processor) -> int:
        """Index of ``proc`` (any equal processor object works)."""
        i = self._proc_id.get(id(proc))
        if i is None or self.procs[i] is not proc:
            i = self.proc_index[proc]
        return i

    def mem_of(self, mem: Memory) -> int:
        """Index of ``mem`` (any equal memory object works)."""
        i = self._mem_id.get(id(mem))
        if i is None or self.mems[i] is not mem:
            i = self.mem_index[mem]
        return i

    def access(self, proc: int, mem: int):
        """:meth:`Machine.access` of processor ``proc`` on memory ``mem`` (cached)."""
        key = (proc, mem)
        try:
            return self._access[key]
        except KeyError:
            value = self._access[key] = self.machine.access(self.procs[proc], self.mems[mem])
            return value

    # -- routes --------------------------------------------------------------------------------

    def _loads(self, loads: tuple[tuple[str, float], ...], scale: float = 1.0
               ) -> tuple[tuple[int, float], ...]:
        return tuple((self.link_index[lid], load * scale) for lid, load in loads if load > 0)

    def copy(self, src: int, dst: int) -> Route:
        """The route of a copy from memory ``src`` to memory ``dst``."""
        key = (src, dst, "copy")
        route = self._routes.get(key)
        if route is None:
            path = self.machine.copy_path(self.mems[src], self.mems[dst])
            latency = path.latency
            if path.inter_process and not path.inter_node:
                latency += self.inter_process
            engine = -1
            if dst in self.fb_ordinal:
                engine = 2 * self.fb_ordinal[dst]
            elif src in self.fb_ordinal:
                engine = 2 * self.fb_ordinal[src] + 1
            route = Route(self._loads(path.loads), path.rate_cap, to_ps(latency), engine,
                          path.bandwidth, path.route)
            self._routes[key] = route
        return route

    def _local(self, mem: int, kind: str) -> Route:
        key = (mem, mem, kind)
        route = self._routes.get(key)
        if route is None:
            path = self.machine.copy_path(self.mems[mem], self.mems[mem])
            # A same-memory copy reads and writes the memory (load 2 per byte). A fill only
            # writes (half of that); a reduction fold's apply pass reads the reduction data and
            # reads and writes the destination: the same-memory figure is used for it.
            scale = 0.5 if kind == "write" else 1.0
            loads = self._loads(path.loads, scale)
            cap = path.rate_cap / scale if math.isfinite(path.rate_cap) else math.inf
            bandwidth = cap
            for li, load in loads:
                bandwidth = min(bandwidth, self.link_bw[li] / load)
            route = Route(loads, cap, to_ps(path.latency), -1, bandwidth, kind)
            self._routes[key] = route
        return route

    def write_pass(self, mem: int) -> Route:
        """A fill: the destination memory is written once."""
        return self._local(mem, "write")

    def apply_pass(self, mem: int) -> Route:
        """The apply pass of a reduction fold in ``mem``."""
        return self._local(mem, "apply")

    def source_rank(self, src: int, dst: int) -> tuple[float, int, int]:
        """Sort key for choosing a copy source (``-tm:select_source_by_bandwidth``): highest
        uncontended bandwidth first, then lowest latency, then machine-description order."""
        key = (src, dst)
        rank = self._rank.get(key)
        if rank is None:
            if src == dst:
                rank = (-math.inf, 0, src)
            else:
                route = self.copy(src, dst)
                rank = (-route.bandwidth, route.latency, src)
            self._rank[key] = rank
        return rank


_TABLES: weakref.WeakKeyDictionary[Machine, MachineTables] = weakref.WeakKeyDictionary()


def machine_tables(machine: Machine) -> MachineTables:
    """The (cached) integer tables of ``machine`` (equal machines share them)."""
    tables = _TABLES.get(machine)
    if tables is None:
        tables = MachineTables(machine)
        _TABLES[machine] = tables
    return tables
