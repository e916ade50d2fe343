"""The records a machine model is made of (all frozen, all in SI units).

Two families:

* **Specifications** (``*Spec``, :class:`Overheads`, :class:`KernelEfficiency`,
  :class:`AffinityTable`, :class:`LegionSettings`): what a machine file says, converted to SI
  units: bytes, bytes per second, seconds, flop per second. They describe one *host* (physical
  node) and the Legion flags of one *address space*.
* **Derived entities** (:class:`Processor`, :class:`Memory`, :class:`Link`, :class:`Access`,
  :class:`CopyPath`, :class:`Compute`, :class:`CoreBudget`): what Legion would see on the
  configured run (machine.md §1), computed by :class:`mapper_gym.machine.Machine` per address
  space.

Vocabulary used everywhere in this package:

* **host** — a physical node (machine.md's "node"; ``load_machine(nodes=...)`` counts hosts);
* **node** — a Legion address space, the DSL's node (dsl.md §8.1). With ``ranks_per_node = r``
  there are ``r`` address spaces per host, so ``Machine.nodes == hosts * r``;
* **socket** — a CPU socket of a host, one NUMA domain with cores;
* **link** — a shared transfer resource with a bandwidth per direction (DRAM channels of a
  socket, a GPU's HBM, a GPU's host link in one direction, a GPU peer link in one direction,
  the inter-socket link in one direction, a NIC rail in one direction). Concurrent transfers
  share a link's bandwidth; see :class:`CopyPath` for how a transfer *loads* links.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Processor kinds the DSL can name (dsl.md §6.1). ``PROC`` (processor sets) never has members
#: on these machines.
DSL_PROCESSOR_KINDS: tuple[str, ...] = ("CPU", "GPU", "OMP", "IO", "PY", "PROC")
#: All processor kinds a machine model creates, in the order of the machine description.
#: ``UTIL`` (Realm's utility processors) cannot be named in the DSL; the simulator charges
#: runtime overheads to them (machine.md §6).
PROCESSOR_KINDS: tuple[str, ...] = ("CPU", "GPU", "OMP", "IO", "PY", "UTIL")
#: Memory kinds that can hold instances, in the order of the machine description (which breaks
#: ties between equally good memories, dsl.md §6.1). ``VIRTUAL`` is not a memory.
MEMORY_KINDS: tuple[str, ...] = ("SYSMEM", "SOCKMEM", "RDMEM", "ZCMEM", "FBMEM")
#: Memory kinds that live in host DRAM.
HOST_MEMORY_KINDS: frozenset[str] = frozenset({"SYSMEM", "SOCKMEM", "RDMEM", "ZCMEM"})
#: Evidence labels of machine.md (V vendor, R runtime source, S group's scripts, P paper,
#: D derived, A assumption) plus U: a value set by the caller at load time (a run setting or a
#: calibration experiment), never found in a shipped preset.
LABELS: dict[str, str] = {
    "V": "vendor or operator public specification",
    "R": "behaviour of the Legion/Realm runtime, read from its source",
    "S": "a setting in the research group's run scripts",
    "P": "stated in the paper",
    "D": "derived by arithmetic from other labelled values",
    "A": "assumption; a tunable to calibrate",
    "U": "set by the caller when the machine was loaded or re-configured",
}
PRESET_LABELS: frozenset[str] = frozenset("VRSPDA")

MIB = 1 << 20
GIB = 1 << 30


@dataclass(frozen=True)
class Source:
    """Where a value came from: an evidence label (a key of :data:`LABELS`) and a short note."""

    label: str
    note: str


# --------------------------------------------------------------------------------------------
# Specifications (what the machine file says)


@dataclass(frozen=True)
class NodeRange:
    """How many hosts the machine may be run with, and the default."""

    default: int
    min: int
    max: int


@dataclass(frozen=True)
class HostSpec:
    """One physical node's CPUs, DRAM and inter-socket link (machine.md §3.1, §4.1).

    ``throughput_cores_per_socket`` is how many cores' worth of compute all busy threads of a
    socket get together; it equals the usable cores on real servers and is lower on virtual
    machines whose vCPUs share physical cores. ``core_bandwidth`` caps the memory bandwidth a
    single thread gets (machine.md §5); ``memcpy_bandwidth`` is the rate at which one
    background worker copies between host memories.
    """

    sockets: int
    cores_per_socket: int
    usable_cores_per_socket: int
    threads_per_core: int
    throughput_cores_per_socket: float
    clock_hz: float
    fp64_flops_per_cycle: float
    fp32_flops_per_cycle: float
    dram_bytes_per_socket: int
    dram_bandwidth: float
    dram_peak_bandwidth: float
    dram_latency_local: float
    dram_latency_remote: float
    numa_distance_local: int
    numa_distance_remote: int
    core_bandwidth: float
    memcpy_bandwidth: float
    memcpy_latency: float
    inter_socket_bandwidth: float
    inter_socket_latency: float
    cpuless_numa_domains: int

    @property
    def usable_cores(self) -> int:
        """Cores available to the job on the whole host."""
        return self.sockets * self.usable_cores_per_socket

    @property
    def dram_bytes(self) -> int:
        return self.sockets * self.dram_bytes_per_socket

    @property
    def core_fp64_flops(self) -> float:
        """Peak FP64 flop/s of one core (machine.md defines peak at the base clock)."""
        return self.fp64_flops_per_cycle * self.clock_hz

    @property
    def core_fp32_flops(self) -> float:
        return self.fp32_flops_per_cycle * self.clock_hz


@dataclass(frozen=True)
class PeerRoute:
    """How one GPU's framebuffer reaches another GPU's on the same host.

    ``mode`` is one of:

    * ``"direct"``: a dedicated peer link per ordered GPU pair (NVLink), of ``bandwidth``;
    * ``"via_host_links"``: peer access through the host fabric: the copy crosses the source
      GPU's host link up, the inter-socket link if the GPUs sit on different sockets, and the
      destination GPU's host link down, at most ``bandwidth``;
    * ``"staged"``: no peer access; the runtime stages the copy through pinned host memory on
      the source GPU's socket (two host-link hops, DRAM written and read), at most
      ``bandwidth`` effective.

    ``latency`` is the per-copy latency of the route.
    """

    mode: str
    bandwidth: float
    latency: float

    @property
    def peer_access(self) -> bool:
        """Whether a GPU kernel can address the other GPU's framebuffer directly."""
        return self.mode != "staged"


@dataclass(frozen=True)
class GpuSpec:
    """The GPUs of one host and their links (machine.md §3.2–3.3, §4.1).

    ``sockets[g]`` is the socket GPU ``g`` hangs off. ``host_link_*`` describe one GPU's link
    to its socket, per direction. ``driver_reserved_bytes`` is the part of HBM Legion cannot
    reserve (CUDA context); ``-ll:fsize`` must fit in the rest.
    """

    count: int
    model: str
    fp64_flops: float
    fp32_flops: float
    hbm_bytes: int
    driver_reserved_bytes: int
    hbm_bandwidth: float
    hbm_peak_bandwidth: float
    hbm_latency: float
    local_copy_latency: float
    sockets: tuple[int, ...]
    concurrent_copies: int
    host_link_name: str
    host_link_bandwidth: float
    host_link_peak_bandwidth: float
    host_link_latency: float
    peer_same_socket: PeerRoute
    peer_cross_socket: PeerRoute

    def peer_route(self, gpu_a: int, gpu_b: int) -> PeerRoute:
        """The route between two distinct GPUs of one host."""
        if self.sockets[gpu_a] == self.sockets[gpu_b]:
            return self.peer_same_socket
        return self.peer_cross_socket


@dataclass(frozen=True)
class ZeroCopySpec:
    """GPU access to zero-copy memory (machine.md §3.3, §4.1, §5).

    * ``stream_bandwidth``: a GPU kernel streaming coalesced data from/to ZCMEM, per GPU;
    * ``dependent_latency``: one dependent access across the host link;
    * ``min_transaction_bytes``: every scattered access moves at least this many bytes, so the
      useful bandwidth of ``s``-byte scattered accesses is ``stream_bandwidth * s / this``;
    * ``atomic_rate``: atomic updates per second one GPU can perform on ZCMEM (reductions);
    * ``socket``: the socket holding the pinned pool when one address space spans the host;
    * ``remote_socket_latency``: extra latency for GPUs on the other socket.
    """

    stream_bandwidth: float
    dependent_latency: float
    min_transaction_bytes: int
    atomic_rate: float
    socket: int
    remote_socket_latency: float

    def scattered_bandwidth(self, access_bytes: float) -> float:
        """Useful bandwidth of scattered accesses of ``access_bytes`` each."""
        fraction = min(1.0, access_bytes / self.min_transaction_bytes)
        return self.stream_bandwidth * fraction


@dataclass(frozen=True)
class NetworkSpec:
    """The network between hosts (machine.md §4.2).

    Each host has ``rails`` adapters, adapter ``r`` attached to socket ``rail_sockets[r]``.
    The fabric is assumed to have full bisection bandwidth, so only the adapters are shared
    links. ``gpudirect`` says whether a NIC reads and writes GPU framebuffers directly.
    """

    rails: int
    rail_bandwidth: float
    rail_peak_bandwidth: float
    latency: float
    gpudirect: bool
    rail_sockets: tuple[int, ...]
    fabric: str


@dataclass(frozen=True)
class Overheads:
    """Runtime overheads of machine.md §6, in seconds (all assumptions to calibrate).

    ``*_traced`` is the cost when the launch is replayed by tracing. ``allreduce_step`` is the
    runtime part of one of the ``ceil(log2 N)`` rounds of a scalar all-reduce (the network
    latency is added by the simulator from :class:`NetworkSpec`). ``inter_process_message`` is
    charged to copies between two address spaces of one host (machine.md §4.3).
    """

    index_launch: float
    index_launch_traced: float
    point_task: float
    point_task_traced: float
    single_launch: float
    single_launch_traced: float
    task_start_cpu: float
    task_start_gpu: float
    inner_task: float
    inner_task_traced: float
    copy_issue: float
    instance_create: float
    allreduce_step: float
    fence: float
    inter_process_message: float

    def task_start(self, proc_kind: str) -> float:
        """Start cost of a task on a processor of ``proc_kind``."""
        return self.task_start_gpu if proc_kind == "GPU" else self.task_start_cpu


@dataclass(frozen=True)
class KernelEfficiency:
    """Starting efficiency of one kernel class (machine.md §7).

    ``basis`` says what the fractions ``gpu`` and ``cpu`` (CPU and OMP processors) multiply:

    * ``"fp64"`` / ``"fp32"``: the processor's peak flop/s in that precision;
    * ``"bandwidth"``: the sustained memory bandwidth of the access;
    * ``"factor"``: a multiplier applied on top of another class (layout penalties).

    ``None`` means not applicable on that processor family. ``params`` holds extra numbers of
    the class (e.g. the block size from which DGEMM reaches full efficiency).
    """

    name: str
    basis: str
    gpu: float | None
    cpu: float | None
    params: tuple[tuple[str, float], ...] = ()

    def for_kind(self, proc_kind: str) -> float | None:
        """The efficiency for a processor kind (GPU, or any host processor)."""
        return self.gpu if proc_kind == "GPU" else self.cpu

    def param(self, name: str) -> float:
        for key, value in self.params:
            if key == name:
                return value
        raise KeyError(f"kernel class {self.name!r} has no parameter {name!r}")


@dataclass(frozen=True)
class NominalAffinity:
    """Realm's nominal (bandwidth, latency) of a processor-memory affinity (machine.md §1.3).

    These numbers only rank memories ("best affinity", dsl.md §6.1). They are unitless ranks in
    the Legion version of the paper's era and must never be used as performance figures.
    """

    bandwidth: float
    latency: float

    def rank_key(self) -> tuple[float, float]:
        """Sort key: higher bandwidth first, then lower latency."""
        return (-self.bandwidth, self.latency)


@dataclass(frozen=True)
class AffinityTable:
    """Realm's affinity table: which processor kind addresses which memory relation.

    ``rows`` maps a processor kind to (relation, nominal) pairs. Relations are the memory kinds
    of :data:`HOST_MEMORY_KINDS`, ``FBMEM`` (a GPU's own framebuffer) and ``PEER_FBMEM``
    (another GPU's framebuffer on the same address space, only with peer access). An OMP
    processor pinned with ``-ll:onuma 1`` sees socket memory at
    ``(omp_numa_base - d, d / omp_numa_latency_divisor)`` for NUMA distance ``d``.
    """

    rows: tuple[tuple[str, tuple[tuple[str, NominalAffinity], ...]], ...]
    omp_numa_base: float
    omp_numa_latency_divisor: float

    def nominal(self, proc_kind: str, relation: str) -> NominalAffinity | None:
        for kind, entries in self.rows:
            if kind == proc_kind:
                for rel, value in entries:
                    if rel == relation:
                        return value
                return None
        return None

    def relations(self, proc_kind: str) -> frozenset[str]:
        for kind, entries in self.rows:
            if kind == proc_kind:
                return frozenset(rel for rel, _ in entries)
        return frozenset()


@dataclass(frozen=True)
class HardwareSpec:
    """Everything a machine file says except the Legion flags."""

    host: HostSpec
    gpu: GpuSpec | None
    zero_copy: ZeroCopySpec | None
    network: NetworkSpec | None
    node_range: NodeRange
    overheads: Overheads
    efficiencies: tuple[KernelEfficiency, ...]
    affinity: AffinityTable
    core_oversubscription: bool

    @property
    def gpus_per_host(self) -> int:
        return 0 if self.gpu is None else self.gpu.count


@dataclass(frozen=True)
class LegionSettings:
    """The Legion/Realm flags of one address space (machine.md §1.1, §2).

    Field names are the ``-ll:`` flag names. Counts are per address space; sizes are in MiB
    as the flags are (``fsize`` per GPU, ``nsize``/``ncsize`` per NUMA domain). ``ncsize=None``
    means "same as ``nsize``", Realm's default. A size of 0 means the memory does not exist.
    """

    cpu: int
    gpu: int
    omp: int
    omp_threads: int
    onuma: bool
    util: int
    io: int
    py: int
    bgwork: int
    csize: int
    fsize: int
    zsize: int
    rsize: int
    nsize: int
    ncsize: int | None
    ib_zsize: int
    ib_fsize: int

    @property
    def effective_ncsize(self) -> int:
        return self.nsize if self.ncsize is None else self.ncsize

    def to_flags(self) -> tuple[str, ...]:
        """The command-line flags that reproduce these settings on a real Legion run."""
        pairs: list[tuple[str, int | None]] = [
            ("-ll:cpu", self.cpu),
            ("-ll:gpu", self.gpu),
            ("-ll:ocpu", self.omp),
            ("-ll:othr", self.omp_threads),
            ("-ll:onuma", int(self.onuma)),
            ("-ll:util", self.util),
            ("-ll:io", self.io),
            ("-ll:py", self.py),
            ("-ll:bgwork", self.bgwork),
            ("-ll:csize", self.csize),
            ("-ll:fsize", self.fsize),
            ("-ll:zsize", self.zsize),
            ("-ll:rsize", self.rsize),
            ("-ll:nsize", self.nsize),
            ("-ll:ncsize", self.ncsize),  # omitted when None: Realm's default (= nsize)
            ("-ll:ib_zsize", self.ib_zsize),
            ("-ll:ib_fsize", self.ib_fsize),
        ]
        flags: list[str] = []
        for flag, value in pairs:
            if value is not None:
                flags.extend((flag, str(value)))
        return tuple(flags)


# --------------------------------------------------------------------------------------------
# Derived entities (what Legion sees on the configured run)


@dataclass(frozen=True)
class Processor:
    """One Legion processor.

    ``node`` is the address space, ``index`` the position among processors of ``kind`` in that
    address space (the DSL's point (node, index) of ``Machine(kind)``), ``host`` the physical
    node, ``socket`` the socket its thread(s) run on, ``threads`` the cores it occupies (OMP
    threads; 1 otherwise), ``gpu`` the host-local GPU a GPU processor drives.
    """

    kind: str
    node: int
    index: int
    host: int
    socket: int
    threads: int = 1
    gpu: int | None = None

    @property
    def uid(self) -> str:
        return f"n{self.node}.{self.kind}{self.index}"


@dataclass(frozen=True)
class Memory:
    """One Legion memory: a fixed-capacity pool of ``capacity`` bytes.

    ``socket`` is the socket whose DRAM holds it, or ``None`` when its pages are spread evenly
    over all sockets of the host (SYSMEM of a single address space, machine.md §1.2). ``gpu``
    is the host-local GPU owning a framebuffer.
    """

    kind: str
    node: int
    index: int
    host: int
    capacity: int
    socket: int | None = None
    gpu: int | None = None

    @property
    def uid(self) -> str:
        return f"n{self.node}.{self.kind}{self.index}"

    @property
    def in_host_dram(self) -> bool:
        return self.kind in HOST_MEMORY_KINDS


@dataclass(frozen=True)
class Link:
    """A shared transfer resource with ``bandwidth`` bytes/s (per direction where directed).

    ``kind`` is one of ``dram`` (a socket's memory channels, reads and writes together),
    ``hbm`` (a GPU's memory), ``host_link`` (a GPU's link to its socket, one direction),
    ``gpu_peer`` (a dedicated GPU-to-GPU link, one direction), ``inter_socket`` (one
    direction) and ``nic`` (one network rail of a host, one direction).
    """

    id: str
    kind: str
    host: int
    bandwidth: float


#: Bytes a transfer puts on each link per byte transferred, in path order.
Loads = tuple[tuple[str, float], ...]


def bottleneck(loads: Loads, links: dict[str, Link], cap: float = math.inf) -> float:
    """Uncontended rate of a transfer with these loads: ``min(cap, bandwidth / load)``."""
    rate = cap
    for link_id, load in loads:
        if load > 0:
            rate = min(rate, links[link_id].bandwidth / load)
    return rate


@dataclass(frozen=True)
class Access:
    """How a processor reaches a memory it can address directly.

    * ``bandwidth``: sustained streaming bandwidth of this processor on this memory, alone on
      the machine (the processor's own cap included);
    * ``latency``: one dependent access;
    * ``nominal``: Realm's affinity rank (for choosing memories, not for timing);
    * ``read_loads`` / ``write_loads``: the links an access stream crosses (see
      :class:`CopyPath`), so that kernels and copies can share them;
    * ``zero_copy``: a GPU reaching host memory across its host link; the scattered-access and
      atomic rules of :class:`ZeroCopySpec` apply.
    """

    processor: Processor
    memory: Memory
    bandwidth: float
    latency: float
    nominal: NominalAffinity
    read_loads: Loads
    write_loads: Loads
    zero_copy: bool = False


@dataclass(frozen=True)
class CopyPath:
    """The route of a copy from one memory to another (machine.md §5).

    * ``route``: ``same_memory`` (within one memory), ``host_memcpy`` (between host memories,
      by a background worker), ``host_link`` (framebuffer to or from host memory),
      ``peer`` (GPU to GPU with peer access), ``staged_peer`` (GPU to GPU through pinned host
      memory) or ``network`` (between hosts);
    * ``loads``: for each shared link the copy crosses, the bytes it puts on that link per byte
      copied, in path order. A copy within one DRAM or HBM loads it twice (read and write); a
      copy from interleaved memory loads each socket's DRAM by that socket's share. A
      flow-level simulator shares link bandwidth with these weights;
    * ``rate_cap``: a limit of the route itself beyond its links (a single memcpy thread,
      peer access through a root complex, staging), ``inf`` when none;
    * ``bandwidth``: the uncontended rate, ``min(rate_cap, link bandwidth / load)``;
    * ``latency``: the path latency (per-copy setup of DMA engines, network latency). The
      runtime's copy-issue overhead is separate (:attr:`Overheads.copy_issue`);
    * ``inter_node``: the copy crosses the network; ``inter_process``: source and destination
      are in different address spaces (charge :attr:`Overheads.inter_process_message` when on
      one host); ``staged``: the data passes through a pinned host staging buffer.
    """

    src: Memory
    dst: Memory
    route: str
    bandwidth: float
    rate_cap: float
    latency: float
    loads: Loads
    inter_node: bool
    inter_process: bool
    staged: bool

    @property
    def links(self) -> tuple[str, ...]:
        """Ids of the shared links the copy crosses, in path order."""
        return tuple(link_id for link_id, _ in self.loads)

    def time(self, nbytes: float) -> float:
        """Uncontended transfer time of ``nbytes`` (issue overhead not included)."""
        return self.latency + nbytes / self.bandwidth


@dataclass(frozen=True)
class Compute:
    """Compute resources of one processor: peak flop/s, memory bandwidth cap, cores used."""

    fp64_flops: float
    fp32_flops: float
    memory_bandwidth: float
    cores: int

    def flops(self, precision: str) -> float:
        """Peak for ``"fp64"`` or ``"fp32"``."""
        if precision == "fp64":
            return self.fp64_flops
        if precision == "fp32":
            return self.fp32_flops
        raise ValueError(f"unknown precision {precision!r} (expected 'fp64' or 'fp32')")


@dataclass(frozen=True)
class CoreBudget:
    """Threads a host's address spaces reserve against its usable cores (machine.md §1.1)."""

    reserved_threads: int
    usable_cores: int
    throughput_cores: float

    @property
    def oversubscribed(self) -> bool:
        return self.reserved_threads > self.usable_cores
