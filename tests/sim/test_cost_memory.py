"""The task cost model and the memory accounting, unit by unit."""

from __future__ import annotations

import pytest

from mapper_gym.appmodel import Access, Kernel, Work
from mapper_gym.machine import load_machine
from mapper_gym.sim import cost
from mapper_gym.sim.errors import SimFailure
from mapper_gym.sim.memory import LOC_BITS, MemoryState


@pytest.fixture(scope="module")
def p100():
    return load_machine("p100-node")


def _gpu(m, i=0):
    return m.processor("GPU", 0, i)


def test_dgemm_compute_time_and_small_blocks(p100):
    gpu = _gpu(p100)
    eff = p100.efficiency("dense_dgemm")
    big = Work(flops=2.0 * 4096**3, kernel=Kernel.DGEMM, gemm=(4096, 4096, 4096))
    assert cost.compute_seconds(p100, gpu, big) == pytest.approx(
        big.flops / (p100.hardware.gpu.fp64_flops * eff.gpu))
    # a 512^3 block: efficiency reduced by (512 / full_block) ** 0.5
    small = Work(flops=2.0 * 512**3, kernel=Kernel.DGEMM, gemm=(512, 512, 512))
    ratio = (512 / eff.param("full_block")) ** 0.5
    assert cost.compute_seconds(p100, gpu, small) == pytest.approx(
        small.flops / (p100.hardware.gpu.fp64_flops * eff.gpu * ratio))


def test_wire_solver_on_a_cpu_core_versus_a_gpu(p100):
    work = Work(flops=4.8e10, precision="fp32", kernel=Kernel.WIRE_SOLVER)
    eff = p100.efficiency("circuit_wire_solver")
    gpu = cost.compute_seconds(p100, _gpu(p100), work)
    cpu = cost.compute_seconds(p100, p100.processor("CPU", 0, 0), work)
    assert gpu == pytest.approx(4.8e10 / (9.3e12 * eff.gpu))
    assert cpu == pytest.approx(4.8e10 / (p100.hardware.host.core_fp32_flops * eff.cpu))
    assert cpu / gpu > 500


def test_streaming_and_gathers_in_the_framebuffer(p100):
    gpu = _gpu(p100)
    fb = p100.access(gpu, p100.memory("FBMEM", 0, 0))
    work = Work(flops=0.0, kernel=Kernel.GATHER, accesses=(
        (Access.stream(1e9),), (Access.gather(4e6, 1e6, 4),)))
    t = cost.memory_seconds(p100, gpu, work, [fb, fb], [1.0, 1.0])
    expected = 1e9 / (fb.bandwidth * p100.efficiency("streaming_stencil").gpu) + \
        4e6 / (fb.bandwidth * p100.efficiency("gather_mesh").gpu)
    assert t == pytest.approx(expected)


def test_zero_copy_gathers_move_whole_transactions_and_atomics_run_at_the_atomic_rate(p100):
    gpu = _gpu(p100)
    zc = p100.access(gpu, p100.memory("ZCMEM", 0, 0))
    spec = p100.zero_copy
    gathers = Work(flops=0.0, kernel=Kernel.GATHER, accesses=((Access.gather(4e6, 1e6, 4),),))
    t = cost.memory_seconds(p100, gpu, gathers, [zc], [1.0])
    assert t == pytest.approx(1e6 * spec.min_transaction_bytes / zc.bandwidth + zc.latency)
    atomics = Work(flops=0.0, kernel=Kernel.ATOMIC, accesses=((Access.atomic(1e6, 4),),))
    t = cost.memory_seconds(p100, gpu, atomics, [zc], [1.0])
    assert t == pytest.approx(1e6 / spec.atomic_rate + zc.latency)


def test_layout_penalty_factors(p100):
    assert cost.layout_factor(p100, "c_order_2d", "GPU") == p100.efficiency("c_order_2d").gpu
    assert cost.layout_factor(p100, "c_order_2d", "CPU") == 1.0  # not applicable on CPUs
    # the application's name for the AOS penalty resolves to the machine's class
    assert cost.layout_factor(p100, "aos_multifield", "GPU") == \
        p100.efficiency("aos_layout").gpu


def _where():
    return "t", 2, "n0.FBMEM0", (3, 4)


def test_allocation_reclaims_invalid_data_oldest_first_and_fails_on_live_data():
    mem = MemoryState([100], [40, 40, 40, 40])
    live = {0: True, 1: False, 2: True}
    assert mem.ensure([0], 0, 0, lambda k, loc: live.get(k, True), _where)
    assert mem.ensure([1], 0, 0, lambda k, loc: live.get(k, True), _where)
    assert not mem.ensure([0], 0, 0, lambda k, loc: live.get(k, True), _where)  # resident
    # 80 of 100 used; key 2 needs 40: key 1 (invalid) is reclaimed, key 0 (valid) is kept
    assert mem.ensure([2], 0, 0, lambda k, loc: live.get(k, True), _where)
    assert mem.used == [80] and mem.reclaimed == 1
    assert list(mem.lru[0]) == [0 << LOC_BITS, 2 << LOC_BITS]
    with pytest.raises(SimFailure) as failure:
        mem.ensure([3], 0, 0, lambda k, loc: True, _where)
    d = failure.value.diagnostic
    assert d.code == "E-OOM" and (d.line, d.column) == (3, 4)
    assert d.message == ("failed allocation of size 40 bytes for region requirement 2 of "
                         "task t in memory n0.FBMEM0")
    assert mem.peak == [80]


def test_release_frees_at_once():
    mem = MemoryState([100], [60, 60])
    mem.ensure([0], 5, 0, lambda k, loc: True, _where)
    mem.release(0, 5, 0)
    assert mem.used == [0] and mem.collected == 1
    assert mem.ensure([1], 5, 0, lambda k, loc: True, _where)


def test_a_later_requirement_never_reclaims_what_the_same_task_already_mapped():
    # Key 0 holds no valid data yet (a reduction instance, say) but the task mapping key 1
    # mapped it for an earlier requirement: it is pinned, so the allocation fails.
    mem = MemoryState([100], [60, 60])
    assert mem.ensure([0], 0, 0, lambda k, loc: False, _where)
    with pytest.raises(SimFailure):
        mem.ensure([1], 0, 0, lambda k, loc: False, _where, pinned=lambda: [0 << LOC_BITS])
    # without the pin it is reclaimable
    assert mem.ensure([1], 0, 0, lambda k, loc: False, _where)
    assert mem.reclaimed == 1 and mem.used == [60]
