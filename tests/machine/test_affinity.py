"""Affinities (machine.md §1.3, dsl.md §6.1), best-memory choice and the Topology protocol."""

from __future__ import annotations

import pytest

from mapper_gym.dsl.context import DEFAULT_AFFINITY, SimpleTopology, Topology
from mapper_gym.machine import DSL_PROCESSOR_KINDS, MEMORY_KINDS, load_machine


@pytest.fixture(scope="module")
def full():
    """A P100 node with every processor and memory kind present."""
    return load_machine(
        "p100-node", cpu=2, omp=2, omp_threads=4, io=1, py=1, nsize=1024, rsize=512, zsize=2048
    )


def _nominal(machine, proc, mem):
    aff = machine.affinity(proc, mem)
    return None if aff is None else (aff.bandwidth, aff.latency)


def _kinds_addressable(machine, proc):
    return {m.kind for m in machine.memories_on(proc.node) if machine.affinity(proc, m)}


@pytest.mark.parametrize("kind", ["CPU", "UTIL", "IO"])
def test_cpu_util_io_row(full, kind):
    proc = full.processors_of(kind, 0)[0]
    assert _kinds_addressable(full, proc) == {"SYSMEM", "SOCKMEM", "RDMEM", "ZCMEM"}
    assert _nominal(full, proc, full.memory("SYSMEM", 0)) == (100, 5)
    # every socket memory alike: no NUMA preference
    assert {_nominal(full, proc, m) for m in full.memories_of("SOCKMEM", 0)} == {(100, 5)}
    assert _nominal(full, proc, full.memory("RDMEM", 0)) == (80, 10)
    assert _nominal(full, proc, full.memory("ZCMEM", 0)) == (40, 3)
    assert all(full.access(proc, fb) is None for fb in full.memories_of("FBMEM", 0))


def test_omp_row_prefers_its_own_numa_domain(full):
    omp0, omp1 = full.processors_of("OMP", 0)
    assert (omp0.socket, omp1.socket) == (0, 1)
    sock0, sock1 = full.memories_of("SOCKMEM", 0)
    # with -ll:onuma 1: (150 - d, d / 10), d = 10 local, 20 remote
    assert _nominal(full, omp0, sock0) == (140, 1)
    assert _nominal(full, omp0, sock1) == (130, 2)
    assert full.best_memory(omp1, "SOCKMEM") == sock1
    assert _nominal(full, omp0, full.memory("SYSMEM", 0)) == (100, 5)
    assert _kinds_addressable(full, omp0) == {"SYSMEM", "SOCKMEM", "RDMEM", "ZCMEM"}


def test_omp_without_onuma_has_no_numa_preference(full):
    m = full.with_legion_settings(onuma=0)
    omp1 = m.processors_of("OMP", 0)[1]
    assert {_nominal(m, omp1, s) for s in m.memories_of("SOCKMEM", 0)} == {(100, 5)}
    assert m.best_memory(omp1, "SOCKMEM").socket == 0  # a tie: the first domain


def test_py_row(full):
    proc = full.processors_of("PY", 0)[0]
    assert _nominal(full, proc, full.memory("SYSMEM", 0)) == (100, 5)
    assert _nominal(full, proc, full.memory("SOCKMEM", 0)) == (80, 10)
    assert _nominal(full, proc, full.memory("RDMEM", 0)) == (80, 10)
    assert _nominal(full, proc, full.memory("ZCMEM", 0)) == (80, 10)


def test_gpu_row_on_the_p100_node(full):
    gpus = full.processors_of("GPU", 0)
    fbs = full.memories_of("FBMEM", 0)
    g0 = gpus[0]
    assert _kinds_addressable(full, g0) == {"ZCMEM", "FBMEM"}
    assert _nominal(full, g0, fbs[0]) == (200, 5)
    assert _nominal(full, g0, fbs[1]) == (10, 400)  # same socket: peer access over PCIe
    assert full.affinity(g0, fbs[2]) is None  # other socket: no peer access on this platform
    assert full.affinity(g0, fbs[3]) is None
    assert _nominal(full, g0, full.memory("ZCMEM", 0)) == (20, 200)
    for kind in ("SYSMEM", "SOCKMEM", "RDMEM"):
        assert all(full.affinity(g0, m) is None for m in full.memories_of(kind, 0))


def test_gpu_peers_on_lassen_all_have_peer_access():
    m = load_machine("lassen")
    g3 = m.processor("GPU", 0, 3)
    peers = [fb for fb in m.memories_of("FBMEM", 0) if fb.gpu != 3]
    assert all(_nominal(m, g3, fb) == (10, 400) for fb in peers)


def test_no_processor_addresses_another_nodes_memory():
    m = load_machine("lassen", nodes=2, nsize=1024, ncsize=0)
    for proc in m.processors_of("GPU", 0) + m.processors_of("CPU", 0):
        for mem in m.memories_on(1):
            assert m.affinity(proc, mem) is None and m.access(proc, mem) is None


def test_ranks_on_one_host_do_not_address_each_other():
    m = load_machine("lassen", ranks_per_node=4, gpu=1, csize=37500, zsize=64)
    g0 = m.processor("GPU", 0, 0)
    other_fb = m.memory("FBMEM", 1, 0)
    assert other_fb.host == g0.host
    assert m.affinity(g0, other_fb) is None


# ----------------------------------------------------------------------------------------------
# best_memory and addressable


def test_best_memory_choices(full):
    g2 = full.processor("GPU", 0, 2)
    assert full.best_memory(g2, "FBMEM").gpu == 2  # a GPU's own framebuffer
    assert full.best_memory(g2, "SYSMEM") is None
    cpu1 = full.processor("CPU", 0, 1)
    assert cpu1.socket == 1
    assert full.best_memory(cpu1, "SOCKMEM").socket == 0  # a tie: the first in the description
    assert full.best_memory(cpu1, "ZCMEM") == full.memory("ZCMEM", 0)
    assert full.best_memory(cpu1, "VIRTUAL") is None
    assert full.addressable(g2)[0] == full.memory("FBMEM", 0, 2)
    assert full.addressable(cpu1)[0] == full.memory("SYSMEM", 0)
    # own framebuffer (200, 5), zero-copy (20, 200), then the same-socket peer (10, 400)
    assert [(m.kind, m.gpu) for m in full.addressable(g2)] == [
        ("FBMEM", 2), ("ZCMEM", None), ("FBMEM", 3),
    ]


# ----------------------------------------------------------------------------------------------
# Topology protocol


@pytest.mark.parametrize("name", ["p100-node", "lassen", "local-cpu"])
def test_machines_satisfy_the_topology_protocol(name):
    assert isinstance(load_machine(name), Topology)


def _expected_can_use(machine, proc_kind, mem_kind):
    exists = machine.memories_per_node(mem_kind) > 0
    has_procs = machine.processors_per_node(proc_kind) > 0
    return has_procs and exists and mem_kind in DEFAULT_AFFINITY.get(proc_kind, frozenset())


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"cpu": 2, "omp": 2, "io": 1, "py": 1, "nsize": 1024, "rsize": 512},
        {"gpu": 0},
        {"zsize": 0, "rsize": 0},
    ],
)
def test_can_use_is_the_default_affinity_restricted_to_what_exists(overrides):
    m = load_machine("p100-node", **overrides)
    for proc_kind in DSL_PROCESSOR_KINDS:
        for mem_kind in (*MEMORY_KINDS, "VIRTUAL"):
            assert m.can_use(proc_kind, mem_kind) == _expected_can_use(m, proc_kind, mem_kind), (
                proc_kind,
                mem_kind,
            )


def test_can_use_agrees_with_simple_topology_on_the_default_p100_node():
    m = load_machine("p100-node")
    simple = SimpleTopology(
        nodes=1,
        processors={"CPU": 1, "GPU": 4, "OMP": 0},
        memories=frozenset({"SYSMEM", "ZCMEM", "FBMEM", "RDMEM"}),
    )
    for proc_kind in DSL_PROCESSOR_KINDS:
        assert m.processors_per_node(proc_kind) == simple.processors_per_node(proc_kind)
        for mem_kind in MEMORY_KINDS:
            assert m.can_use(proc_kind, mem_kind) == simple.can_use(proc_kind, mem_kind)


def test_proc_sets_and_unknown_kinds_have_no_processors():
    m = load_machine("lassen", nodes=4)
    assert m.processors_per_node("PROC") == 0
    assert m.processors_per_node("TPU") == 0
    assert not m.can_use("PROC", "SYSMEM")
    assert not m.can_use("TPU", "SYSMEM")


def test_machine_space_sizes_for_the_dsl():
    # dsl.md §8.1: Machine(K) is (nodes, processors of K per node)
    m = load_machine("lassen", nodes=3)
    assert (m.nodes, m.processors_per_node("GPU")) == (3, 4)
    m4 = load_machine("lassen", nodes=3, ranks_per_node=4, gpu=1, csize=37500, zsize=64)
    assert (m4.nodes, m4.processors_per_node("GPU")) == (12, 1)
