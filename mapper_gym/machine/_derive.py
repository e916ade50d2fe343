"""What Legion sees on a configured run: checks, processors, memories and links.

Given the hardware of one host, the Legion flags of one address space, the number of hosts and
the ranks per host, this module checks that the configuration can start (enough GPUs, memory
reservations that fit) and lays out every processor, memory and shared link, in the order of
the machine description (machine.md §1, §4.3).

Placement rules (assumptions, documented in machine.md §1.2, §3.3, §4.3):

* one address space per host: SYSMEM and RDMEM pages are spread evenly over the sockets;
  ZCMEM is one pinned pool on the zero-copy socket of the machine file; CPU, utility, IO and
  Python processors and OpenMP groups are placed round-robin over the sockets;
* several ranks per host: rank ``r`` is bound to one socket (its first GPU's socket, else
  ``r * sockets // ranks``) and to GPUs ``r * gpu .. r * gpu + gpu - 1``; its processors run
  and its SYSMEM, RDMEM and ZCMEM live on that socket;
* one SOCKMEM per socket and address space when ``nsize > 0``; one FBMEM per GPU.
"""

from __future__ import annotations

from dataclasses import dataclass

from mapper_gym.machine.errors import MachineError
from mapper_gym.machine.model import (
    MIB,
    CoreBudget,
    HardwareSpec,
    LegionSettings,
    Link,
    Memory,
    Processor,
)


def _mib(nbytes: int) -> str:
    return f"{nbytes / MIB:.0f} MiB"


def validate(hw: HardwareSpec, legion: LegionSettings, hosts: int, ranks_per_node: int) -> None:
    """Raise MachineError when the run could not start on this hardware."""
    rng = hw.node_range
    if isinstance(hosts, bool) or not isinstance(hosts, int):
        raise MachineError(f"nodes must be an integer, got {hosts!r}", key="nodes")
    if not rng.min <= hosts <= rng.max:
        extra = (
            " (this machine has no network; use a preset with one, such as 'lassen', or a "
            "machine file that extends this one with a [network] block and a wider "
            "[machine.nodes] range)"
            if hw.network is None
            else ""
        )
        raise MachineError(
            f"nodes={hosts} is out of range for this machine: {rng.min}..{rng.max}{extra}",
            key="nodes",
        )
    if isinstance(ranks_per_node, bool) or not isinstance(ranks_per_node, int) \
            or ranks_per_node < 1:
        raise MachineError(f"ranks_per_node must be an integer >= 1, got {ranks_per_node!r}",
                           key="ranks_per_node")
    if ranks_per_node > hw.host.usable_cores:
        raise MachineError(
            f"ranks_per_node={ranks_per_node} exceeds the {hw.host.usable_cores} usable cores "
            "of a node", key="ranks_per_node")
    for name, minimum, why in (
        ("cpu", 1, "Legion runs the top-level task on a CPU processor"),
        ("util", 1, "the simulator charges runtime work to utility processors"),
        ("bgwork", 1, "background workers issue copies"),
        ("omp_threads", 1, "an OpenMP processor has at least one thread"),
    ):
        if getattr(legion, name) < minimum:
            raise MachineError(f"{name}={getattr(legion, name)}: must be >= {minimum} ({why})",
                               key=name)
    gpus = hw.gpus_per_host
    if legion.gpu * ranks_per_node > gpus:
        raise MachineError(
            f"gpu={legion.gpu} per address space x ranks_per_node={ranks_per_node} needs "
            f"{legion.gpu * ranks_per_node} GPUs, but a node has {gpus}",
            key="gpu",
        )
    if legion.gpu > 0 and hw.gpu is not None:
        usable = hw.gpu.hbm_bytes - hw.gpu.driver_reserved_bytes
        if legion.fsize <= 0:
            raise MachineError("fsize=0 with GPUs: every GPU needs a framebuffer memory",
                               key="fsize")
        if legion.fsize * MIB > usable:
            raise MachineError(
                f"fsize={legion.fsize} MiB does not fit in a GPU's memory: "
                f"{_mib(hw.gpu.hbm_bytes)} minus {_mib(hw.gpu.driver_reserved_bytes)} for the "
                f"driver leaves {_mib(usable)}",
                key="fsize",
            )
    host = hw.host
    zsize = legion.zsize if legion.gpu > 0 else 0
    per_rank = (legion.csize + legion.rsize + zsize + legion.ib_zsize) * MIB
    sockmem = legion.nsize * MIB * ranks_per_node
    if sockmem > host.dram_bytes_per_socket:
        raise MachineError(
            f"nsize={legion.nsize} MiB x {ranks_per_node} address space(s) does not fit in a "
            f"socket's {_mib(host.dram_bytes_per_socket)} of DRAM",
            key="nsize",
        )
    total = per_rank * ranks_per_node + sockmem * host.sockets
    if total > host.dram_bytes:
        raise MachineError(
            f"host memory reservations ({ranks_per_node} x (csize + rsize + zsize + ib_zsize) + "
            f"nsize per socket = {_mib(total)}) exceed the node's {_mib(host.dram_bytes)} "
            "of DRAM",
            key="csize",
        )
    if legion.effective_ncsize > 0 and host.cpuless_numa_domains > 0:
        raise MachineError(
            f"ncsize={legion.effective_ncsize} MiB (it defaults to nsize) would carve socket "
            f"memories out of this node's {host.cpuless_numa_domains} CPU-less NUMA domains, "
            "which the model does not describe; pass ncsize=0 as the group's scripts do",
            key="ncsize",
        )


@dataclass(frozen=True)
class Layout:
    processors: tuple[Processor, ...]
    memories: tuple[Memory, ...]
    links: tuple[Link, ...]


def rank_socket(hw: HardwareSpec, legion: LegionSettings, ranks_per_node: int,
                rank: int) -> int | None:
    """The socket rank ``rank`` is bound to, or None when one address space spans the host."""
    if ranks_per_node == 1:
        return 0 if hw.host.sockets == 1 else None
    if legion.gpu > 0 and hw.gpu is not None:
        return hw.gpu.sockets[rank * legion.gpu]
    return rank * hw.host.sockets // ranks_per_node


def layout(hw: HardwareSpec, legion: LegionSettings, hosts: int, ranks_per_node: int) -> Layout:
    """Every processor, memory and link of the run, in description order."""
    sockets = hw.host.sockets
    processors: list[Processor] = []
    memories: list[Memory] = []
    for host in range(hosts):
        for rank in range(ranks_per_node):
            node = host * ranks_per_node + rank
            bound = rank_socket(hw, legion, ranks_per_node, rank)

            def spread(i: int, bound: int | None = bound) -> int:
                return bound if bound is not None else i % sockets

            processors.extend(Processor("CPU", node, i, host, spread(i)) for i in range(legion.cpu))
            for i in range(legion.gpu):
                gpu = rank * legion.gpu + i
                assert hw.gpu is not None  # validate() guarantees enough GPUs
                processors.append(Processor("GPU", node, i, host, hw.gpu.sockets[gpu], gpu=gpu))
            processors.extend(
                Processor("OMP", node, i, host, spread(i), threads=legion.omp_threads)
                for i in range(legion.omp)
            )
            processors.extend(Processor("IO", node, i, host, spread(i)) for i in range(legion.io))
            processors.extend(Processor("PY", node, i, host, spread(i)) for i in range(legion.py))
            processors.extend(
                Processor("UTIL", node, i, host, spread(i)) for i in range(legion.util)
            )

            if legion.csize > 0:
                memories.append(Memory("SYSMEM", node, 0, host, legion.csize * MIB, bound))
            if legion.nsize > 0:
                memories.extend(
                    Memory("SOCKMEM", node, s, host, legion.nsize * MIB, s) for s in range(sockets)
                )
            if legion.rsize > 0:
                memories.append(Memory("RDMEM", node, 0, host, legion.rsize * MIB, bound))
            if legion.gpu > 0 and legion.zsize > 0:
                assert hw.zero_copy is not None
                zc_socket = bound if bound is not None else hw.zero_copy.socket
                memories.append(Memory("ZCMEM", node, 0, host, legion.zsize * MIB, zc_socket))
            for i in range(legion.gpu):
                gpu = rank * legion.gpu + i
                assert hw.gpu is not None
                memories.append(
                    Memory("FBMEM", node, i, host, legion.fsize * MIB, hw.gpu.sockets[gpu], gpu)
                )
    return Layout(tuple(processors), tuple(memories), _links(hw, hosts))


# Link ids, one place so that routes and layout agree.
def dram_link(host: int, socket: int) -> str:
    return f"h{host}.s{socket}.dram"


def xsocket_link(host: int, src: int, dst: int) -> str:
    return f"h{host}.s{src}>s{dst}.xsocket"


def hbm_link(host: int, gpu: int) -> str:
    return f"h{host}.gpu{gpu}.hbm"


def host_link(host: int, gpu: int, direction: str) -> str:
    """``direction`` is ``"up"`` (GPU to host) or ``"down"`` (host to GPU)."""
    return f"h{host}.gpu{gpu}.{direction}"


def peer_link(host: int, src: int, dst: int) -> str:
    return f"h{host}.gpu{src}>gpu{dst}.peer"


def nic_link(host: int, rail: int, direction: str) -> str:
    """``direction`` is ``"tx"`` or ``"rx"``."""
    return f"h{host}.nic{rail}.{direction}"


def _links(hw: HardwareSpec, hosts: int) -> tuple[Link, ...]:
    links: list[Link] = []
    spec = hw.host
    for h in range(hosts):
        links.extend(
            Link(dram_link(h, s), "dram", h, spec.dram_bandwidth) for s in range(spec.sockets)
        )
        links.extend(
            Link(xsocket_link(h, a, b), "inter_socket", h, spec.inter_socket_bandwidth)
            for a in range(spec.sockets)
            for b in range(spec.sockets)
            if a != b
        )
        if hw.gpu is not None:
            gpu = hw.gpu
            for g in range(gpu.count):
                links.append(Link(hbm_link(h, g), "hbm", h, gpu.hbm_bandwidth))
                links.append(Link(host_link(h, g, "up"), "host_link", h, gpu.host_link_bandwidth))
                links.append(
                    Link(host_link(h, g, "down"), "host_link", h, gpu.host_link_bandwidth)
                )
            for a in range(gpu.count):
                for b in range(gpu.count):
                    route = gpu.peer_route(a, b)
                    if a != b and route.mode == "direct":
                        links.append(Link(peer_link(h, a, b), "gpu_peer", h, route.bandwidth))
        if hw.network is not None:
            for r in range(hw.network.rails):
                links.append(Link(nic_link(h, r, "tx"), "nic", h, hw.network.rail_bandwidth))
                links.append(Link(nic_link(h, r, "rx"), "nic", h, hw.network.rail_bandwidth))
    return tuple(links)


def core_budget(hw: HardwareSpec, legion: LegionSettings, ranks_per_node: int) -> CoreBudget:
    """Threads one host reserves (machine.md §1.1): CPU, GPU host, OMP, util, bgwork, IO, PY."""
    per_rank = (
        legion.cpu + legion.gpu + legion.omp * legion.omp_threads + legion.util + legion.bgwork
        + legion.io + legion.py
    )
    return CoreBudget(
        reserved_threads=per_rank * ranks_per_node,
        usable_cores=hw.host.usable_cores,
        throughput_cores=hw.host.throughput_cores_per_socket * hw.host.sockets,
    )
