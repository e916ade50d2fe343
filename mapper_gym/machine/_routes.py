"""Affinities, access figures and copy routes (machine.md §1.3, §5).

Three questions, answered from the machine's data only:

* :func:`affinity`: may this processor address this memory, and with which nominal rank
  (Realm's table in the machine file, narrowed by what exists: peer access, same address
  space)?
* :func:`access`: at what bandwidth and latency does it stream from / to it, and which shared
  links does that stream load?
* :func:`copy_path`: which route does a copy between two memories take, which links does it
  load and by how much, and what are its uncontended rate and latency?

Loads are bytes put on a link per byte moved. Host memories with pages spread over the sockets
load each socket's DRAM by that socket's share, and the inter-socket link by the share that has
to cross it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from mapper_gym.machine import _derive as ids
from mapper_gym.machine.model import (
    Access,
    CopyPath,
    Loads,
    Memory,
    NominalAffinity,
    Processor,
    bottleneck,
)

if TYPE_CHECKING:
    from mapper_gym.machine.machine import Machine

#: Processor kinds that run on host cores and use the CPU-side figures.
HOST_PROCESSOR_KINDS = frozenset({"CPU", "UTIL", "IO", "PY", "OMP"})


class _Path:
    """Accumulates link loads (in path order) and latency while a route is traced."""

    def __init__(self) -> None:
        self.loads: dict[str, float] = {}
        self.latency = 0.0
        self.crossed_sockets = False

    def add(self, link_id: str, load: float = 1.0) -> None:
        if load > 0:
            self.loads[link_id] = self.loads.get(link_id, 0.0) + load

    def frozen(self) -> Loads:
        return tuple(self.loads.items())


def placement(machine: Machine, memory: Memory) -> tuple[tuple[int, float], ...]:
    """How a host memory's pages are spread: (socket, fraction) pairs."""
    if memory.socket is not None:
        return ((memory.socket, 1.0),)
    sockets = machine.hardware.host.sockets
    return tuple((s, 1.0 / sockets) for s in range(sockets))


def _host_read(machine: Machine, path: _Path, memory: Memory, to_socket: int) -> None:
    """Read a host memory and deliver the data at ``to_socket``."""
    for socket, share in placement(machine, memory):
        path.add(ids.dram_link(memory.host, socket), share)
        if socket != to_socket:
            path.add(ids.xsocket_link(memory.host, socket, to_socket), share)
            path.crossed_sockets = True


def _host_write(machine: Machine, path: _Path, memory: Memory, from_socket: int) -> None:
    """Write data arriving at ``from_socket`` into a host memory."""
    for socket, share in placement(machine, memory):
        if socket != from_socket:
            path.add(ids.xsocket_link(memory.host, from_socket, socket), share)
            path.crossed_sockets = True
        path.add(ids.dram_link(memory.host, socket), share)


def _cross(path: _Path, host: int, src_socket: int, dst_socket: int) -> None:
    if src_socket != dst_socket:
        path.add(ids.xsocket_link(host, src_socket, dst_socket))
        path.crossed_sockets = True


def _gpu_socket(machine: Machine, gpu: int) -> int:
    assert machine.hardware.gpu is not None
    return machine.hardware.gpu.sockets[gpu]


# --------------------------------------------------------------------------------------------
# Affinity and access


def affinity(machine: Machine, proc: Processor, memory: Memory) -> NominalAffinity | None:
    """Realm's nominal affinity of ``proc`` to ``memory``; None when it cannot address it."""
    if proc.node != memory.node:
        return None  # no task addresses another address space's memory (machine.md §1.3)
    table = machine.hardware.affinity
    if memory.kind == "FBMEM":
        if proc.kind != "GPU" or proc.gpu is None or memory.gpu is None:
            return None
        if proc.gpu == memory.gpu:
            return table.nominal("GPU", "FBMEM")
        gpu = machine.hardware.gpu
        assert gpu is not None
        if not gpu.peer_route(proc.gpu, memory.gpu).peer_access:
            return None
        return table.nominal("GPU", "PEER_FBMEM")
    nominal = table.nominal(proc.kind, memory.kind)
    if (
        nominal is not None
        and proc.kind == "OMP"
        and memory.kind == "SOCKMEM"
        and machine.legion.onuma
    ):
        host = machine.hardware.host
        distance = (
            host.numa_distance_local if memory.socket == proc.socket else host.numa_distance_remote
        )
        return NominalAffinity(
            table.omp_numa_base - distance, distance / table.omp_numa_latency_divisor
        )
    return nominal


def access(machine: Machine, proc: Processor, memory: Memory) -> Access | None:
    """Streaming bandwidth, dependent latency and link loads of ``proc`` on ``memory``."""
    nominal = affinity(machine, proc, memory)
    if nominal is None:
        return None
    links = machine.links
    if proc.kind in HOST_PROCESSOR_KINDS:
        host = machine.hardware.host
        reads, writes = _Path(), _Path()
        _host_read(machine, reads, memory, proc.socket)
        _host_write(machine, writes, memory, proc.socket)
        latency = sum(
            share * (host.dram_latency_local if s == proc.socket else host.dram_latency_remote)
            for s, share in placement(machine, memory)
        )
        cap = machine.compute(proc).memory_bandwidth
        return Access(proc, memory, bottleneck(reads.frozen(), links, cap), latency, nominal,
                      reads.frozen(), writes.frozen())
    # a GPU
    gpu = machine.hardware.gpu
    zero_copy = machine.hardware.zero_copy
    assert gpu is not None and zero_copy is not None and proc.gpu is not None
    h, g = proc.host, proc.gpu
    if memory.kind == "FBMEM" and memory.gpu == g:
        loads = ((ids.hbm_link(h, g), 1.0),)
        return Access(proc, memory, bottleneck(loads, links), gpu.hbm_latency, nominal,
                      loads, loads)
    if memory.kind == "FBMEM":
        assert memory.gpu is not None
        route = gpu.peer_route(memory.gpu, g)
        reads = _peer_path(machine, h, memory.gpu, g, include_dst_hbm=False)
        writes = _peer_path(machine, h, g, memory.gpu, include_dst_hbm=True, include_src_hbm=False)
        return Access(proc, memory, bottleneck(reads.frozen(), links, route.bandwidth),
                      zero_copy.dependent_latency, nominal, reads.frozen(), writes.frozen())
    # zero-copy (the only host memory a GPU has affinity to)
    socket = _gpu_socket(machine, g)
    reads, writes = _Path(), _Path()
    _host_read(machine, reads, memory, socket)
    reads.add(ids.host_link(h, g, "down"))
    writes.add(ids.host_link(h, g, "up"))
    _host_write(machine, writes, memory, socket)
    latency = zero_copy.dependent_latency + (
        zero_copy.remote_socket_latency if reads.crossed_sockets else 0.0
    )
    return Access(proc, memory, bottleneck(reads.frozen(), links, zero_copy.stream_bandwidth),
                  latency, nominal, reads.frozen(), writes.frozen(), zero_copy=True)


# --------------------------------------------------------------------------------------------
# Copies


def _peer_path(
    machine: Machine,
    host: int,
    src: int,
    dst: int,
    *,
    include_src_hbm: bool = True,
    include_dst_hbm: bool = True,
) -> _Path:
    """Links of a transfer from GPU ``src``'s memory to GPU ``dst`` (distinct, same host)."""
    gpu = machine.hardware.gpu
    assert gpu is not None
    route = gpu.peer_route(src, dst)
    path = _Path()
    path.latency = route.latency
    if include_src_hbm:
        path.add(ids.hbm_link(host, src))
    if route.mode == "direct":
        path.add(ids.peer_link(host, src, dst))
    else:
        s_src, s_dst = gpu.sockets[src], gpu.sockets[dst]
        path.add(ids.host_link(host, src, "up"))
        if route.mode == "staged":
            path.add(ids.dram_link(host, s_src), 2.0)  # staging buffer written, then read
        _cross(path, host, s_src, s_dst)
        path.add(ids.host_link(host, dst, "down"))
    if include_dst_hbm:
        path.add(ids.hbm_link(host, dst))
    return path


def _rail(machine: Machine, memory: Memory, other_host: int) -> int:
    """The NIC rail a memory's traffic uses: the rail on its socket, else spread by peer."""
    network = machine.hardware.network
    assert network is not None
    if memory.socket is not None and memory.socket in network.rail_sockets:
        return network.rail_sockets.index(memory.socket)
    return other_host % network.rails


def copy_path(machine: Machine, src: Memory, dst: Memory) -> CopyPath:
    """The route of a copy from ``src`` to ``dst`` (see :class:`CopyPath`)."""
    hw = machine.hardware
    inter_process = src.node != dst.node
    if src.host != dst.host:
        return _network_path(machine, src, dst)
    path = _Path()
    cap = math.inf
    staged = False
    h = src.host
    if src == dst:
        route = "same_memory"
        if src.kind == "FBMEM":
            assert hw.gpu is not None and src.gpu is not None
            path.add(ids.hbm_link(h, src.gpu), 2.0)
            path.latency = hw.gpu.local_copy_latency
        else:
            for socket, share in placement(machine, src):
                path.add(ids.dram_link(h, socket), 2.0 * share)
            cap, path.latency = hw.host.memcpy_bandwidth, hw.host.memcpy_latency
    elif src.in_host_dram and dst.in_host_dram:
        route = "host_memcpy"
        for socket, share in placement(machine, src):
            path.add(ids.dram_link(h, socket), share)
        for s_src, f_src in placement(machine, src):
            for s_dst, f_dst in placement(machine, dst):
                if s_src != s_dst:
                    path.add(ids.xsocket_link(h, s_src, s_dst), f_src * f_dst)
                    path.crossed_sockets = True
        for socket, share in placement(machine, dst):
            path.add(ids.dram_link(h, socket), share)
        cap, path.latency = hw.host.memcpy_bandwidth, hw.host.memcpy_latency
    elif src.kind == "FBMEM" and dst.kind == "FBMEM":
        assert hw.gpu is not None and src.gpu is not None and dst.gpu is not None
        peer = hw.gpu.peer_route(src.gpu, dst.gpu)
        path = _peer_path(machine, h, src.gpu, dst.gpu)
        route = "peer" if peer.peer_access else "staged_peer"
        staged = not peer.peer_access
        if peer.mode != "direct":
            cap = peer.bandwidth
    else:
        route = "host_link"
        assert hw.gpu is not None
        if src.kind == "FBMEM":
            assert src.gpu is not None
            path.add(ids.hbm_link(h, src.gpu))
            path.add(ids.host_link(h, src.gpu, "up"))
            _host_write(machine, path, dst, _gpu_socket(machine, src.gpu))
        else:
            assert dst.gpu is not None
            _host_read(machine, path, src, _gpu_socket(machine, dst.gpu))
            path.add(ids.host_link(h, dst.gpu, "down"))
            path.add(ids.hbm_link(h, dst.gpu))
        path.latency = hw.gpu.host_link_latency
    if path.crossed_sockets and route != "staged_peer" and route != "peer":
        path.latency += hw.host.inter_socket_latency
    loads = path.frozen()
    return CopyPath(
        src=src,
        dst=dst,
        route=route,
        bandwidth=bottleneck(loads, machine.links, cap),
        rate_cap=cap,
        latency=path.latency,
        loads=loads,
        inter_node=False,
        inter_process=inter_process,
        staged=staged,
    )


def _network_path(machine: Machine, src: Memory, dst: Memory) -> CopyPath:
    """Source side -> NIC -> fabric -> NIC -> destination side (machine.md §5)."""
    hw = machine.hardware
    network = hw.network
    assert network is not None  # more than one host implies a network (validated)
    path = _Path()
    path.latency = network.latency
    staged = False
    src_rail = _rail(machine, src, dst.host)
    dst_rail = _rail(machine, dst, src.host)
    src_nic_socket = network.rail_sockets[src_rail]
    dst_nic_socket = network.rail_sockets[dst_rail]
    # source side
    if src.kind == "FBMEM":
        assert hw.gpu is not None and src.gpu is not None
        g_socket = _gpu_socket(machine, src.gpu)
        path.add(ids.hbm_link(src.host, src.gpu))
        path.add(ids.host_link(src.host, src.gpu, "up"))
        if not network.gpudirect:
            path.add(ids.dram_link(src.host, g_socket), 2.0)
            path.latency += hw.gpu.host_link_latency
            staged = True
        _cross(path, src.host, g_socket, src_nic_socket)
    else:
        _host_read(machine, path, src, src_nic_socket)
    path.add(ids.nic_link(src.host, src_rail, "tx"))
    path.add(ids.nic_link(dst.host, dst_rail, "rx"))
    # destination side
    if dst.kind == "FBMEM":
        assert hw.gpu is not None and dst.gpu is not None
        g_socket = _gpu_socket(machine, dst.gpu)
        _cross(path, dst.host, dst_nic_socket, g_socket)
        if not network.gpudirect:
            path.add(ids.dram_link(dst.host, g_socket), 2.0)
            path.latency += hw.gpu.host_link_latency
            staged = True
        path.add(ids.host_link(dst.host, dst.gpu, "down"))
        path.add(ids.hbm_link(dst.host, dst.gpu))
    else:
        _host_write(machine, path, dst, dst_nic_socket)
    if path.crossed_sockets:
        path.latency += hw.host.inter_socket_latency
    loads = path.frozen()
    return CopyPath(
        src=src,
        dst=dst,
        route="network",
        bandwidth=bottleneck(loads, machine.links),
        rate_cap=math.inf,
        latency=path.latency,
        loads=loads,
        inter_node=True,
        inter_process=True,
        staged=staged,
    )
