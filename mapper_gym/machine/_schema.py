"""From a merged machine-file tree to typed specifications, in SI units.

The machine file's schema lives here and only here: every key is read explicitly, unknown keys
are errors (a misspelt calibration key must not be silently ignored), and unit suffixes in key
names (``_gbs``, ``_us``, ``_ns``, ``_gib``, ``_mib``, ``_ghz``, ``_tflops``, ``_gops``) are
converted once. Sections:

``machine`` (name, description, nodes{default,min,max}, ranks_per_node), ``host``, ``gpu``
(optional), ``zero_copy`` (required with GPUs), ``network`` (optional), ``legion``,
``overheads``, ``efficiency.<class>``, ``affinity.<PROC KIND>`` and ``affinity.omp_numa``,
``options``. See the shipped presets for complete examples.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mapper_gym.dsl.context import DEFAULT_AFFINITY
from mapper_gym.machine.errors import MachineError
from mapper_gym.machine.flags import LEGION_SETTINGS, apply_legion_settings
from mapper_gym.machine.model import (
    GIB,
    HOST_MEMORY_KINDS,
    MIB,
    PROCESSOR_KINDS,
    AffinityTable,
    GpuSpec,
    HardwareSpec,
    HostSpec,
    KernelEfficiency,
    LegionSettings,
    NetworkSpec,
    NodeRange,
    NominalAffinity,
    Overheads,
    PeerRoute,
    Source,
    ZeroCopySpec,
)

GB = 1e9
US = 1e-6
NS = 1e-9
PEER_MODES = frozenset({"direct", "via_host_links", "staged"})
EFFICIENCY_BASES = frozenset({"fp64", "fp32", "bandwidth", "factor"})
AFFINITY_RELATIONS = HOST_MEMORY_KINDS | {"FBMEM", "PEER_FBMEM"}


@dataclass(frozen=True)
class MachineFile:
    """A machine file read and typed: everything needed to build a Machine."""

    name: str
    description: str
    path: Path
    hardware: HardwareSpec
    legion: LegionSettings
    ranks_per_node: int
    sources: Mapping[str, Source]


class _Table:
    """Strict typed access to one table of the plain tree; remembers what was read."""

    def __init__(self, data: Any, path: str, origin: Path) -> None:
        if not isinstance(data, dict):
            raise MachineError(f"{origin}: {path} must be a table", key=path)
        self.data: dict[str, Any] = data
        self.path = path
        self.origin = origin
        self.used: set[str] = set()

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _error(self, key: str, problem: str) -> MachineError:
        return MachineError(f"{self.origin}: {self._where(key)}: {problem}", key=self._where(key))

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str) -> Any:
        self.used.add(key)
        if key not in self.data:
            raise self._error(key, "missing")
        return self.data[key]

    def number(self, key: str, *, positive: bool = False) -> float:
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._error(key, f"expected a number, got {value!r}")
        if value < 0 or (positive and value == 0):
            raise self._error(key, f"expected a {'positive' if positive else 'non-negative'} "
                                   f"number, got {value!r}")
        return float(value)

    def integer(self, key: str, *, minimum: int = 0) -> int:
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._error(key, f"expected an integer, got {value!r}")
        if value < minimum:
            raise self._error(key, f"expected an integer >= {minimum}, got {value}")
        return value

    def string(self, key: str, choices: frozenset[str] | None = None) -> str:
        value = self.raw(key)
        if not isinstance(value, str):
            raise self._error(key, f"expected a string, got {value!r}")
        if choices is not None and value not in choices:
            raise self._error(key, f"expected one of {sorted(choices)}, got {value!r}")
        return value

    def boolean(self, key: str) -> bool:
        value = self.raw(key)
        if not isinstance(value, bool):
            raise self._error(key, f"expected true or false, got {value!r}")
        return value

    def int_list(self, key: str) -> tuple[int, ...]:
        value = self.raw(key)
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
        ):
            raise self._error(key, f"expected a list of non-negative integers, got {value!r}")
        return tuple(value)

    def table(self, key: str) -> _Table:
        return _Table(self.raw(key), self._where(key), self.origin)

    def optional_table(self, key: str) -> _Table | None:
        return self.table(key) if key in self.data else None

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self._error(unknown[0], f"unknown key (known here: {sorted(self.used)})")


def read_machine_file(
    plain: dict[str, Any], sources: Mapping[str, Source], path: Path
) -> MachineFile:
    """Type a merged, flattened machine-file tree (see :mod:`mapper_gym.machine._files`)."""
    root = _Table(plain, "", path)
    machine = root.table("machine")
    name = machine.string("name")
    description = machine.string("description") if machine.has("description") else name
    node_range = _node_range(machine.table("nodes"))
    ranks_per_node = machine.integer("ranks_per_node", minimum=1)
    machine.finish()

    host = _host(root.table("host"))
    gpu_table = root.optional_table("gpu")
    gpu = _gpu(gpu_table, host) if gpu_table is not None else None
    zc_table = root.optional_table("zero_copy")
    if gpu is not None and zc_table is None:
        raise MachineError(f"{path}: a machine with GPUs needs a [zero_copy] section",
                           key="zero_copy")
    zero_copy = _zero_copy(zc_table, host) if zc_table is not None else None
    net_table = root.optional_table("network")
    network = _network(net_table, host) if net_table is not None else None
    if node_range.max > 1 and network is None:
        raise MachineError(
            f"{path}: machine.nodes allows {node_range.max} nodes but there is no [network]",
            key="machine.nodes",
        )
    legion = _legion(root.table("legion"))
    overheads = _overheads(root.table("overheads"))
    efficiencies = _efficiencies(root.table("efficiency"))
    affinity = _affinity(root.table("affinity"))
    options = root.table("options")
    core_oversubscription = options.boolean("core_oversubscription")
    options.finish()
    root.finish()
    hardware = HardwareSpec(
        host=host,
        gpu=gpu,
        zero_copy=zero_copy,
        network=network,
        node_range=node_range,
        overheads=overheads,
        efficiencies=efficiencies,
        affinity=affinity,
        core_oversubscription=core_oversubscription,
    )
    return MachineFile(name, description, path, hardware, legion, ranks_per_node, dict(sources))


def _node_range(t: _Table) -> NodeRange:
    low = t.integer("min", minimum=1)
    high = t.integer("max", minimum=low)
    default = t.integer("default", minimum=low)
    t.finish()
    if default > high:
        raise MachineError(f"{t.origin}: machine.nodes.default {default} > max {high}",
                           key="machine.nodes")
    return NodeRange(default=default, min=low, max=high)


def _host(t: _Table) -> HostSpec:
    sockets = t.integer("sockets", minimum=1)
    cores = t.table("cores")
    cores_per_socket = cores.integer("per_socket", minimum=1)
    threads_per_core = cores.integer("threads_per_core", minimum=1)
    cores.finish()
    usable = t.integer("usable_cores_per_socket", minimum=1)
    if usable > cores_per_socket:
        raise MachineError(f"{t.origin}: host.usable_cores_per_socket {usable} > "
                           f"{cores_per_socket} cores", key="host.usable_cores_per_socket")
    clock = t.table("clock")
    clock_hz = clock.number("ghz", positive=True) * 1e9
    clock.finish()
    dram = t.table("dram")
    dram_bytes = int(dram.number("gib_per_socket", positive=True) * GIB)
    dram.finish()
    latency = t.table("dram_latency")
    local_ns = latency.number("local_ns")
    remote_ns = latency.number("remote_ns") if sockets > 1 or latency.has("remote_ns") else local_ns
    latency.finish()
    numa = t.table("numa_distance")
    numa_local = numa.integer("local", minimum=1)
    numa_remote = numa.integer("remote", minimum=1) if sockets > 1 or numa.has("remote") \
        else numa_local
    numa.finish()
    memcpy = t.table("memcpy")
    memcpy_bw = memcpy.number("gbs", positive=True) * GB
    memcpy_latency = memcpy.number("latency_us") * US
    memcpy.finish()
    if sockets > 1 or t.has("inter_socket"):
        inter = t.table("inter_socket")
        inter_bw = inter.number("gbs", positive=True) * GB
        inter_latency = inter.number("latency_us") * US
        inter.finish()
    else:
        inter_bw, inter_latency = 0.0, 0.0  # a single socket has no inter-socket link
    spec = HostSpec(
        sockets=sockets,
        cores_per_socket=cores_per_socket,
        usable_cores_per_socket=usable,
        threads_per_core=threads_per_core,
        throughput_cores_per_socket=t.number("throughput_cores_per_socket", positive=True),
        clock_hz=clock_hz,
        fp64_flops_per_cycle=t.number("fp64_flops_per_cycle", positive=True),
        fp32_flops_per_cycle=t.number("fp32_flops_per_cycle", positive=True),
        dram_bytes_per_socket=dram_bytes,
        dram_bandwidth=t.number("dram_sustained_gbs", positive=True) * GB,
        dram_peak_bandwidth=t.number("dram_peak_gbs", positive=True) * GB,
        dram_latency_local=local_ns * NS,
        dram_latency_remote=remote_ns * NS,
        numa_distance_local=numa_local,
        numa_distance_remote=numa_remote,
        core_bandwidth=t.number("core_bandwidth_gbs", positive=True) * GB,
        memcpy_bandwidth=memcpy_bw,
        memcpy_latency=memcpy_latency,
        inter_socket_bandwidth=inter_bw,
        inter_socket_latency=inter_latency,
        cpuless_numa_domains=t.integer("cpuless_numa_domains"),
    )
    t.finish()
    return spec


def _peer(t: _Table) -> PeerRoute:
    route = PeerRoute(
        mode=t.string("mode", PEER_MODES),
        bandwidth=t.number("gbs", positive=True) * GB,
        latency=t.number("latency_us") * US,
    )
    t.finish()
    return route


def _gpu(t: _Table, host: HostSpec) -> GpuSpec:
    count = t.integer("count", minimum=1)
    peak = t.table("peak")
    fp64 = peak.number("fp64_tflops", positive=True) * 1e12
    fp32 = peak.number("fp32_tflops", positive=True) * 1e12
    peak.finish()
    hbm = t.table("hbm")
    hbm_bytes = int(hbm.number("gib", positive=True) * GIB)
    hbm_peak = hbm.number("peak_gbs", positive=True) * GB
    hbm.finish()
    sockets = t.int_list("sockets")
    if len(sockets) != count or any(s >= host.sockets for s in sockets):
        raise MachineError(
            f"{t.origin}: gpu.sockets must list a socket < {host.sockets} for each of the "
            f"{count} GPUs, got {list(sockets)}",
            key="gpu.sockets",
        )
    link_peak = t.table("host_link_peak")
    link_name = link_peak.string("name")
    link_peak_bw = link_peak.number("gbs", positive=True) * GB
    link_peak.finish()
    link = t.table("host_link")
    link_bw = link.number("gbs", positive=True) * GB
    link_latency = link.number("latency_us") * US
    link.finish()
    spec = GpuSpec(
        count=count,
        model=t.string("model"),
        fp64_flops=fp64,
        fp32_flops=fp32,
        hbm_bytes=hbm_bytes,
        driver_reserved_bytes=t.integer("driver_reserved_mib") * MIB,
        hbm_bandwidth=t.number("hbm_sustained_gbs", positive=True) * GB,
        hbm_peak_bandwidth=hbm_peak,
        hbm_latency=t.number("hbm_latency_us") * US,
        local_copy_latency=t.number("local_copy_latency_us") * US,
        sockets=sockets,
        concurrent_copies=t.integer("concurrent_copies", minimum=1),
        host_link_name=link_name,
        host_link_bandwidth=link_bw,
        host_link_peak_bandwidth=link_peak_bw,
        host_link_latency=link_latency,
        peer_same_socket=_peer(t.table("peer_same_socket")),
        peer_cross_socket=_peer(t.table("peer_cross_socket")),
    )
    t.finish()
    return spec


def _zero_copy(t: _Table, host: HostSpec) -> ZeroCopySpec:
    stream = t.table("stream")
    stream_bw = stream.number("gbs", positive=True) * GB
    dependent = stream.number("dependent_latency_us") * US
    stream.finish()
    placement = t.table("placement")
    socket = placement.integer("socket")
    remote_latency = placement.number("remote_socket_latency_us") * US
    placement.finish()
    if socket >= host.sockets:
        raise MachineError(f"{t.origin}: zero_copy.placement.socket {socket} does not exist",
                           key="zero_copy.placement.socket")
    spec = ZeroCopySpec(
        stream_bandwidth=stream_bw,
        dependent_latency=dependent,
        min_transaction_bytes=t.integer("min_transaction_bytes", minimum=1),
        atomic_rate=t.number("atomic_gops", positive=True) * 1e9,
        socket=socket,
        remote_socket_latency=remote_latency,
    )
    t.finish()
    return spec


def _network(t: _Table, host: HostSpec) -> NetworkSpec:
    rails = t.table("rails")
    count = rails.integer("count", minimum=1)
    rail_sockets = rails.int_list("sockets")
    rails.finish()
    if len(rail_sockets) != count or any(s >= host.sockets for s in rail_sockets):
        raise MachineError(
            f"{t.origin}: network.rails.sockets must give an existing socket for each of the "
            f"{count} rails, got {list(rail_sockets)}",
            key="network.rails.sockets",
        )
    spec = NetworkSpec(
        rails=count,
        rail_bandwidth=t.number("rail_gbs", positive=True) * GB,
        rail_peak_bandwidth=t.number("rail_peak_gbs", positive=True) * GB,
        latency=t.number("latency_us") * US,
        gpudirect=t.boolean("gpudirect"),
        rail_sockets=rail_sockets,
        fabric=t.string("fabric"),
    )
    t.finish()
    return spec


def _legion(t: _Table) -> LegionSettings:
    values = dict(t.data)
    missing = [n for n in LEGION_SETTINGS if n != "ncsize" and n not in values]
    if missing:
        raise MachineError(f"{t.origin}: legion is missing {', '.join(missing)}",
                           key=f"legion.{missing[0]}")
    unknown = sorted(set(values) - set(LEGION_SETTINGS))
    if unknown:
        raise MachineError(f"{t.origin}: legion.{unknown[0]}: unknown setting "
                           f"(known: {', '.join(LEGION_SETTINGS)})", key=f"legion.{unknown[0]}")
    start = LegionSettings(
        cpu=0, gpu=0, omp=0, omp_threads=1, onuma=True, util=0, io=0, py=0, bgwork=0,
        csize=0, fsize=0, zsize=0, rsize=0, nsize=0, ncsize=None, ib_zsize=0, ib_fsize=0,
    )
    return apply_legion_settings(start, values)


def _overheads(t: _Table) -> Overheads:
    def pair(key: str) -> tuple[float, float]:
        sub = t.table(key)
        out = (sub.number("untraced_us") * US, sub.number("traced_us") * US)
        sub.finish()
        return out

    def single(key: str) -> float:
        return t.number(key) * US

    index_launch = pair("index_launch")
    point_task = pair("point_task")
    single_launch = pair("single_launch")
    inner_task = pair("inner_task")
    start = t.table("task_start")
    start_cpu, start_gpu = start.number("cpu_us") * US, start.number("gpu_us") * US
    start.finish()
    spec = Overheads(
        index_launch=index_launch[0],
        index_launch_traced=index_launch[1],
        point_task=point_task[0],
        point_task_traced=point_task[1],
        single_launch=single_launch[0],
        single_launch_traced=single_launch[1],
        task_start_cpu=start_cpu,
        task_start_gpu=start_gpu,
        inner_task=inner_task[0],
        inner_task_traced=inner_task[1],
        copy_issue=single("copy_issue"),
        instance_create=single("instance_create"),
        allreduce_step=single("allreduce_step"),
        fence=single("fence"),
        inter_process_message=single("inter_process_message"),
    )
    t.finish()
    return spec


def _efficiencies(t: _Table) -> tuple[KernelEfficiency, ...]:
    out = []
    for name in sorted(t.data):
        sub = t.table(name)
        basis = sub.string("basis", EFFICIENCY_BASES)
        gpu = sub.number("gpu") if sub.has("gpu") else None
        cpu = sub.number("cpu") if sub.has("cpu") else None
        params = tuple(
            (key, sub.number(key)) for key in sorted(sub.data) if key not in sub.used
        )
        sub.finish()
        out.append(KernelEfficiency(name=name, basis=basis, gpu=gpu, cpu=cpu, params=params))
    t.finish()
    return tuple(out)


def _affinity(t: _Table) -> AffinityTable:
    numa = t.table("omp_numa")
    base = numa.number("base", positive=True)
    divisor = numa.number("latency_divisor", positive=True)
    numa.finish()
    rows = []
    for kind in sorted(k for k in t.data if k != "omp_numa"):
        if kind not in (*PROCESSOR_KINDS, "PROC"):
            raise MachineError(f"{t.origin}: affinity.{kind}: unknown processor kind",
                               key=f"affinity.{kind}")
        row = t.table(kind)
        allowed = DEFAULT_AFFINITY.get("CPU" if kind == "UTIL" else kind, frozenset())
        entries = []
        for relation in sorted(row.data):
            pair = row.raw(relation)
            base_kind = "FBMEM" if relation == "PEER_FBMEM" else relation
            if relation not in AFFINITY_RELATIONS or base_kind not in allowed:
                raise MachineError(
                    f"{t.origin}: affinity.{kind}.{relation}: not an affinity Realm gives this "
                    "processor kind (a machine may narrow the table of dsl.md §6.1, not widen it)",
                    key=f"affinity.{kind}.{relation}",
                )
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in pair)
            ):
                raise MachineError(f"{t.origin}: affinity.{kind}.{relation}: expected "
                                   f"[bandwidth, latency], got {pair!r}",
                                   key=f"affinity.{kind}.{relation}")
            entries.append((relation, NominalAffinity(float(pair[0]), float(pair[1]))))
        row.finish()
        rows.append((kind, tuple(entries)))
    t.finish()
    return AffinityTable(rows=tuple(rows), omp_numa_base=base, omp_numa_latency_divisor=divisor)
