"""Access figures, copy routes and compute throughput (machine.md §3.3, §4, §5)."""

from __future__ import annotations

import itertools
import math
import re

import pytest

from mapper_gym.machine import load_machine

GB = 1e9
US = 1e-6


@pytest.fixture(scope="module")
def p100():
    return load_machine("p100-node", cpu=2, omp=2, omp_threads=4, nsize=1024)


@pytest.fixture(scope="module")
def lassen():
    return load_machine("lassen", nodes=2, nsize=1024, ncsize=0)


def _mirror(link_id: str) -> str:
    """The id of the same link in the opposite direction (undirected links map to themselves)."""
    swaps = {".up": ".down", ".down": ".up", ".tx": ".rx", ".rx": ".tx"}
    for old, new in swaps.items():
        if link_id.endswith(old):
            return link_id[: -len(old)] + new
    return re.sub(r"(\w+\d+)>(\w+\d+)", r"\2>\1", link_id)


def _loads(path):
    return dict(path.loads)


@pytest.mark.parametrize("fixture", ["p100", "lassen"])
def test_copy_paths_are_symmetric(fixture, request):
    machine = request.getfixturevalue(fixture)
    for a, b in itertools.combinations(machine.memories, 2):
        there, back = machine.copy_path(a, b), machine.copy_path(b, a)
        assert there.route == back.route
        assert there.bandwidth == pytest.approx(back.bandwidth)
        assert there.latency == pytest.approx(back.latency)
        kinds = sorted((machine.link(k).kind, v) for k, v in there.loads)
        assert kinds == sorted((machine.link(k).kind, v) for k, v in back.loads)
        if not there.staged:  # a staged copy stages on its source's socket, so it may differ
            mirrored = {_mirror(k): v for k, v in _loads(there).items()}
            assert mirrored == pytest.approx(_loads(back))


@pytest.mark.parametrize("fixture", ["p100", "lassen"])
def test_every_loaded_link_exists_and_bandwidth_is_the_bottleneck(fixture, request):
    machine = request.getfixturevalue(fixture)
    for a, b in itertools.product(machine.memories, repeat=2):
        path = machine.copy_path(a, b)
        assert path.loads, (a.uid, b.uid)
        rates = [machine.link(k).bandwidth / load for k, load in path.loads]
        assert all(load > 0 for _, load in path.loads)
        assert path.bandwidth == pytest.approx(min([path.rate_cap, *rates]))
        assert path.latency > 0
        assert path.inter_node == (a.host != b.host)
        assert path.inter_process == (a.node != b.node)


# ----------------------------------------------------------------------------------------------
# Preset A links (machine.md §3.3)


def test_p100_peer_same_socket_goes_through_the_root_complex(p100):
    fb0, fb1 = p100.memory("FBMEM", 0, 0), p100.memory("FBMEM", 0, 1)
    path = p100.copy_path(fb0, fb1)
    assert path.route == "peer" and not path.staged
    assert path.links == ("h0.gpu0.hbm", "h0.gpu0.up", "h0.gpu1.down", "h0.gpu1.hbm")
    assert path.bandwidth == pytest.approx(10 * GB)
    assert path.latency == pytest.approx(10 * US)


def test_p100_peer_cross_socket_is_staged_through_host_memory(p100):
    fb1, fb2 = p100.memory("FBMEM", 0, 1), p100.memory("FBMEM", 0, 2)
    path = p100.copy_path(fb1, fb2)
    assert path.route == "staged_peer" and path.staged
    loads = _loads(path)
    assert loads["h0.s0.dram"] == 2.0  # staging buffer written then read
    assert "h0.s0>s1.xsocket" in loads  # one QPI crossing
    assert {"h0.gpu1.up", "h0.gpu2.down"} <= set(loads)
    assert path.bandwidth == pytest.approx(7 * GB)
    same_socket = p100.copy_path(p100.memory("FBMEM", 0, 0), p100.memory("FBMEM", 0, 1))
    assert path.bandwidth < same_socket.bandwidth
    assert path.latency == pytest.approx(2 * same_socket.latency)


def test_p100_host_to_gpu_copies_use_that_gpus_pcie_link(p100):
    sysmem, fb3 = p100.memory("SYSMEM", 0), p100.memory("FBMEM", 0, 3)
    path = p100.copy_path(sysmem, fb3)
    assert path.route == "host_link"
    loads = _loads(path)
    # SYSMEM pages are spread over both sockets: half of them cross QPI to GPU 3's socket
    assert loads["h0.s0.dram"] == 0.5 and loads["h0.s1.dram"] == 0.5
    assert loads["h0.s0>s1.xsocket"] == 0.5
    assert loads["h0.gpu3.down"] == 1.0
    assert path.bandwidth == pytest.approx(12 * GB)
    assert path.latency == pytest.approx(10 * US + 0.15 * US)
    zc_to_fb0 = p100.copy_path(p100.memory("ZCMEM", 0), p100.memory("FBMEM", 0, 0))
    assert "xsocket" not in " ".join(zc_to_fb0.links)  # ZCMEM is on socket 0 like GPU 0
    assert zc_to_fb0.latency == pytest.approx(10 * US)


def test_copies_inside_one_memory_read_and_write_it(p100):
    fb = p100.memory("FBMEM", 0, 0)
    path = p100.copy_path(fb, fb)
    assert path.route == "same_memory"
    assert _loads(path) == {"h0.gpu0.hbm": 2.0}
    assert path.bandwidth == pytest.approx(540 * GB / 2)
    sock = p100.memory("SOCKMEM", 0, 1)
    host = p100.copy_path(sock, sock)
    assert _loads(host) == {"h0.s1.dram": 2.0}
    assert host.bandwidth == pytest.approx(10 * GB)  # one memcpy thread


def test_host_memcpy_across_sockets(p100):
    path = p100.copy_path(p100.memory("SOCKMEM", 0, 0), p100.memory("SOCKMEM", 0, 1))
    assert path.route == "host_memcpy"
    assert _loads(path) == {"h0.s0.dram": 1.0, "h0.s0>s1.xsocket": 1.0, "h0.s1.dram": 1.0}
    assert path.rate_cap == pytest.approx(10 * GB)
    assert path.time(1e9) == pytest.approx(path.latency + 0.1)


# ----------------------------------------------------------------------------------------------
# Preset B links (machine.md §4)


def test_lassen_peers_use_nvlink_on_a_socket_and_the_xbus_across(lassen):
    fbs = lassen.memories_of("FBMEM", 0)
    same = lassen.copy_path(fbs[0], fbs[1])
    assert same.route == "peer"
    assert same.links == ("h0.gpu0.hbm", "h0.gpu0>gpu1.peer", "h0.gpu1.hbm")
    assert same.bandwidth == pytest.approx(62.5 * GB)
    cross = lassen.copy_path(fbs[1], fbs[2])
    assert cross.route == "peer" and not cross.staged
    assert "h0.s0>s1.xsocket" in cross.links
    assert cross.bandwidth == pytest.approx(35 * GB)
    assert cross.bandwidth < same.bandwidth


def test_lassen_inter_node_copies_cross_the_network(lassen):
    src, dst = lassen.memory("FBMEM", 0, 2), lassen.memory("FBMEM", 1, 3)
    path = lassen.copy_path(src, dst)
    assert path.route == "network" and path.inter_node and path.inter_process
    assert not path.staged  # GPUDirect RDMA
    # GPU 2 and GPU 3 hang off socket 1, as does rail 1: no X-bus crossing
    assert path.links == (
        "h0.gpu2.hbm", "h0.gpu2.up", "h0.nic1.tx", "h1.nic1.rx", "h1.gpu3.down", "h1.gpu3.hbm",
    )
    assert path.bandwidth == pytest.approx(11 * GB)
    assert path.latency == pytest.approx(1.5 * US)
    host_path = lassen.copy_path(lassen.memory("SYSMEM", 0), lassen.memory("SYSMEM", 1))
    assert host_path.route == "network"
    nic_links = [k for k in host_path.links if ".nic" in k]
    assert len(nic_links) == 2 and nic_links[0].startswith("h0.") and nic_links[1].startswith("h1.")


def test_lassen_ranks_on_one_host_copy_at_intra_node_speed():
    m = load_machine("lassen", nodes=2, ranks_per_node=4, gpu=1, csize=37500, zsize=64)
    fb_rank0, fb_rank1 = m.memory("FBMEM", 0, 0), m.memory("FBMEM", 1, 0)
    path = m.copy_path(fb_rank0, fb_rank1)
    assert path.route == "peer" and path.inter_process and not path.inter_node
    assert path.bandwidth == pytest.approx(62.5 * GB)
    remote = m.copy_path(fb_rank0, m.memory("FBMEM", 4, 0))
    assert remote.inter_node and remote.route == "network"


# ----------------------------------------------------------------------------------------------
# Access by processors (machine.md §5)


def test_gpu_zero_copy_access_shares_the_host_link(p100):
    zc = p100.memory("ZCMEM", 0)
    near = p100.access(p100.processor("GPU", 0, 0), zc)
    far = p100.access(p100.processor("GPU", 0, 3), zc)
    assert near.zero_copy and far.zero_copy
    assert near.bandwidth == pytest.approx(11 * GB)
    assert near.latency == pytest.approx(1.5 * US)
    assert "h0.gpu0.down" in dict(near.read_loads) and "h0.gpu0.up" in dict(near.write_loads)
    # socket-1 GPUs reach the pool on socket 0 across QPI: min(PCIe, QPI), +0.15 us
    assert "h0.s0>s1.xsocket" in dict(far.read_loads)
    assert far.latency == pytest.approx(1.65 * US)
    assert p100.zero_copy.scattered_bandwidth(8) == pytest.approx(11 * GB * 8 / 32)
    assert p100.zero_copy.scattered_bandwidth(64) == pytest.approx(11 * GB)


def test_gpu_framebuffer_access(p100):
    g1 = p100.processor("GPU", 0, 1)
    own = p100.access(g1, p100.memory("FBMEM", 0, 1))
    assert own.bandwidth == pytest.approx(540 * GB) and not own.zero_copy
    peer = p100.access(g1, p100.memory("FBMEM", 0, 0))
    assert peer.bandwidth == pytest.approx(10 * GB)
    assert p100.access(g1, p100.memory("FBMEM", 0, 2)) is None


def test_cpu_and_omp_access(p100):
    cpu0 = p100.processor("CPU", 0, 0)
    sysmem = p100.memory("SYSMEM", 0)
    assert p100.access(cpu0, sysmem).bandwidth == pytest.approx(12.5 * GB)  # one core's cap
    omp0 = p100.processor("OMP", 0, 0)
    own, other = p100.memories_of("SOCKMEM", 0)
    # 4 threads x 12.5 GB/s = 50 GB/s, below the socket's 55 GB/s
    assert p100.access(omp0, own).bandwidth == pytest.approx(50 * GB)
    # the other socket's memory is limited by QPI (22.5 GB/s) and has the remote latency
    remote = p100.access(omp0, other)
    assert remote.bandwidth == pytest.approx(22.5 * GB)
    assert remote.latency == pytest.approx(140e-9)
    assert p100.access(omp0, own).latency == pytest.approx(90e-9)
    # interleaved SYSMEM: half of it crosses QPI: 0.5 x load -> 45 GB/s from QPI, cap 50
    assert p100.access(omp0, sysmem).bandwidth == pytest.approx(45 * GB)


def test_compute_throughput_per_processor_kind(p100):
    gpu = p100.compute(p100.processor("GPU", 0, 0))
    assert (gpu.fp64_flops, gpu.fp32_flops) == (pytest.approx(4.7e12), pytest.approx(9.3e12))
    cpu = p100.compute(p100.processor("CPU", 0, 0))
    assert cpu.fp64_flops == pytest.approx(38.4e9) and cpu.cores == 1
    assert cpu.flops("fp32") == pytest.approx(76.8e9)
    omp = p100.compute(p100.processor("OMP", 0, 0))
    assert omp.fp64_flops == pytest.approx(4 * 38.4e9) and omp.cores == 4
    big = load_machine("p100-node", omp=2, omp_threads=10).compute(
        load_machine("p100-node", omp=2, omp_threads=10).processor("OMP", 0, 1)
    )
    assert big.memory_bandwidth == pytest.approx(55 * GB)  # at most its socket's bandwidth


def test_efficiencies_and_overheads_come_from_the_files(p100):
    dgemm = p100.efficiency("dense_dgemm")
    assert dgemm.basis == "fp64"
    assert dgemm.for_kind("GPU") == pytest.approx(0.875)
    assert dgemm.for_kind("OMP") == pytest.approx(0.80)
    assert dgemm.param("full_block") == 2048
    assert p100.efficiency("c_order_2d").cpu is None
    assert p100.overheads.point_task == pytest.approx(35 * US)
    assert p100.overheads.task_start("GPU") == pytest.approx(7.5 * US)
    local = load_machine("local-cpu")
    assert local.efficiency("dense_dgemm").cpu == pytest.approx(0.90)


def test_local_cpu_routes():
    m = load_machine("local-cpu")
    sysmem = m.memory("SYSMEM", 0)
    assert sysmem.socket == 0
    path = m.copy_path(sysmem, sysmem)
    assert _loads(path) == {"h0.s0.dram": 2.0}
    assert path.bandwidth == pytest.approx(13 * GB)
    cpu = m.processor("CPU", 0, 1)
    assert m.access(cpu, sysmem).bandwidth == pytest.approx(28 * GB)
    budget = m.core_budget()
    assert budget.usable_cores == 2 and budget.oversubscribed


def test_no_infinite_or_zero_figures_anywhere(lassen):
    for link in lassen.links.values():
        assert 0 < link.bandwidth < math.inf
    for proc in lassen.processors:
        for mem in lassen.memories:
            acc = lassen.access(proc, mem)
            if acc is not None:
                assert 0 < acc.bandwidth < math.inf and acc.latency > 0
