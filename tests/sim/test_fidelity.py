"""Fidelity: the simulator reproduces the effects the paper and the specs describe.

Each test states the effect, why the model must show it, and the band it accepts. The
mappings are DSL programs run through the real front end and resolver.
"""

from __future__ import annotations

import re

import pytest

from benchmarks import APP_NAMES
from mapper_gym.config import RunConfig
from mapper_gym.machine import load_machine

from .runs import expert, expert_run, problem, replaced, run, without_lines

MATMULS = APP_NAMES[3:]


# ---------------------------------------------------------------------------------------------
# Circuit: zero-copy versus framebuffer for the shared and ghost nodes (apps.md §1.10)
# ---------------------------------------------------------------------------------------------


def _circuit_variants():
    zc = expert("Circuit")
    fb = without_lines(zc, "GPU ZCMEM")  # rp_shared and rp_ghost fall back to FBMEM
    return zc, fb


def test_circuit_framebuffer_placement_beats_zero_copy():
    """The paper's best Circuit mapper moved rp_shared and rp_ghost from zero-copy memory to
    the framebuffer and was 1.34x faster than the expert (apps.md §1.10).

    The model's trade-off: in zero-copy memory every GPU kernel access to those nodes crosses
    PCIe — above all distribute_charge's ~11,000 scattered atomic updates per superpiece and
    iteration, which a P100 without host-native float atomics pays as PCIe read-modify-writes
    (the p100-node file argues ~5 million per second per GPU from the zero-copy round-trip
    latency) — while in the framebuffer the kernels run locally but ghost voltages and charge
    reductions travel between GPUs every iteration (copy issue + path latency on the critical
    path). The framebuffer placement must win by a margin in [1.05, 1.6]: clearly above
    noise, and around the paper's 1.34 without being fitted to it.
    """
    prob = problem("Circuit")
    zc, fb = _circuit_variants()
    a = run(prob, zc)
    b = run(prob, fb)
    assert a.ok and b.ok
    assert 1.05 <= b.throughput / a.throughput <= 1.6


def test_circuit_placements_trade_kernel_access_for_copies():
    """The two sides of the trade-off, whatever the calibration: zero-copy placement moves no
    node data between GPUs but makes distribute_charge pay for PCIe atomics; framebuffer
    placement makes the kernels local and copies ghosts and reductions instead."""
    prob = problem("Circuit")
    zc, fb = _circuit_variants()
    a = run(prob, zc)
    b = run(prob, fb)
    assert a.ok and b.ok
    peer = [lid for lid in b.stats.link_bytes if lid.endswith((".up", ".down"))]
    assert peer and all(a.stats.link_bytes.get(lid, 0.0) < b.stats.link_bytes[lid]
                        for lid in peer)
    assert b.stats.extra["copies"] > a.stats.extra["copies"] == 0
    assert a.stats.task_time["distribute_charge"] > 2 * b.stats.task_time["distribute_charge"]


# ---------------------------------------------------------------------------------------------
# Processor choice: GPU-heavy kernels on a CPU core
# ---------------------------------------------------------------------------------------------


def test_circuit_wire_solver_on_a_cpu_is_orders_of_magnitude_slower():
    """calculate_new_currents is ~5,000 flop per byte of float32 recurrence: on a GPU it runs
    at 40-70 % of 9.3 TFLOP/s, on one unvectorised CPU core at 5-15 % of 76.8 GFLOP/s
    (machine.md §7), and the four superpieces share the node's single CPU processor. The run
    must be at least 100x slower (the model gives ~2,500x)."""
    prob = problem("Circuit")
    text = replaced(expert("Circuit"), "Task * GPU,CPU;",
                    "Task calculate_new_currents CPU;\nTask * GPU,CPU;")
    text = replaced(
        text, "IndexTaskMap calculate_new_currents,distribute_charge,update_voltages "
        "linear_block;", "IndexTaskMap distribute_charge,update_voltages linear_block;\n"
        "IndexTaskMap calculate_new_currents linear_block_cpu;")
    cpu = run(prob, text)
    assert cpu.ok, cpu.stderr
    assert cpu.plan_summary["tasks"]["calculate_new_currents"]["kind"] == "CPU"
    assert expert_run("Circuit").throughput / cpu.throughput > 100


# ---------------------------------------------------------------------------------------------
# Layouts (apps.md §4.1, §2.9)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("app", MATMULS)
def test_dgemm_on_fortran_order_fails_with_the_blas_error(app):
    text = expert(app)
    assert "C_order" in text
    result = run(problem(app), replaced(text, "C_order", "F_order"))
    assert result.status == "runtime_error"
    assert result.throughput == 0.0
    assert result.error is not None and result.error.code == "E-LAYOUT-BLAS"
    assert result.error.message == "DGEMM parameter number 8 had an illegal value"
    assert result.raw_output() == "Execution Error: DGEMM parameter number 8 had an illegal value"
    assert "DGEMM parameter number 8 had an illegal value" in result.stderr
    # the error points at the Layout statement that chose the order
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "Layout" in t and
                not t.lstrip().startswith("#"))
    assert result.error.line == line


def test_stencil_cpu_kernel_rejects_c_order_unless_the_check_is_off():
    prob = problem("Stencil")
    cpu = replaced(expert("Stencil"), "Task * GPU,CPU;", "Task * CPU;")
    cpu = replaced(cpu, "IndexTaskMap stencil,increment linear_block;",
                   "IndexTaskMap stencil,increment linear_block_cpu;")
    assert run(prob, cpu).ok  # Fortran order: the hand-written kernel accepts it
    c_order = replaced(cpu, "SOA F_order", "SOA C_order")
    failed = run(prob, c_order)
    assert failed.status == "runtime_error"
    assert failed.error.code == "E-LAYOUT-STRIDE"
    assert failed.error.message == "Assertion failed: stride does not match expected value."
    unchecked = run(prob, c_order, RunConfig(layout_checks=False))
    assert unchecked.ok


def test_stencil_c_order_slows_the_gpu_kernels():
    """On GPUs C order gives no error, but x-neighbour accesses become strided: the machine's
    c_order_2d factor (0.3-0.6) divides the tile bandwidth of stencil and increment."""
    prob = problem("Stencil")
    base = expert_run("Stencil")
    slow = run(prob, replaced(expert("Stencil"), "SOA F_order", "SOA C_order"))
    assert slow.ok
    factor = load_machine("p100-node").efficiency("c_order_2d").gpu
    ratio = slow.stats.task_time["stencil"] / base.stats.task_time["stencil"]
    assert ratio == pytest.approx(1 / factor, rel=0.05)
    assert slow.elapsed > 1.5 * base.elapsed


# ---------------------------------------------------------------------------------------------
# Index mapping and serialisation
# ---------------------------------------------------------------------------------------------

_NODE_CYCLIC = """
def node_cyclic(Task t) {
    i = t.ipoint[0];
    return gpus[i % gpus.size[0], i / gpus.size[0] % gpus.size[1]];
}
IndexTaskMap stencil,increment node_cyclic;
"""


def test_neighbouring_tiles_on_different_nodes_move_more_and_take_longer():
    """Stencil on two Lassen nodes, 4 x 2 tiles: linear block keeps each row of tiles on one
    node (4 neighbour pairs cross the network), dealing tiles cyclically over the nodes puts
    every horizontal neighbour on the other node (6 pairs cross). The cyclic mapping must move
    more bytes over the NICs and take longer."""
    prob = problem("Stencil", "lassen", 2)
    block = expert_run("Stencil", "lassen", 2)
    text = replaced(expert("Stencil"), "IndexTaskMap stencil,increment linear_block;",
                    _NODE_CYCLIC)
    cyclic = run(prob, text)
    assert block.ok and cyclic.ok

    def nic(result):
        return sum(v for k, v in result.stats.link_bytes.items() if ".nic" in k)

    assert nic(cyclic) > 1.3 * nic(block) > 0
    assert cyclic.elapsed > block.elapsed


def test_all_points_on_one_gpu_serialise():
    """Every tile on GPU 0: the eight point tasks of a step run one after the other, so the
    measured time is the sum of their bodies (plus start overheads), and about four times the
    expert's (four GPUs' worth of work on one)."""
    prob = problem("Stencil")
    one = run(prob, replaced(expert("Stencil"), "IndexTaskMap stencil,increment linear_block;",
                             "def first_gpu(Task t) { return gpus[0, 0]; }\n"
                             "IndexTaskMap stencil,increment first_gpu;"))
    assert one.ok
    assert set(one.plan_summary["tasks"]["stencil"]["processors"]) == {"n0.GPU0"}
    bodies = sum(one.stats.task_time.values())
    assert 1.0 <= one.elapsed / bodies <= 1.02
    assert 3.5 <= one.elapsed / expert_run("Stencil").elapsed <= 4.1


# ---------------------------------------------------------------------------------------------
# The expert against the roofline
# ---------------------------------------------------------------------------------------------


def test_experts_run_below_and_near_their_rooflines():
    """Roofline: the time the dominant kernel needs on every GPU at the machine's efficiency,
    with nothing else (no overheads, copies or dependences). The expert cannot beat it, and
    should get close when the app is dominated by that kernel:

    * Circuit: calculate_new_currents at eff(wire solver) of FP32 peak; the other kernels
      are ~1 % of it, but the expert keeps the shared and ghost nodes in zero-copy memory, so
      distribute_charge pays PCIe round trips for its scattered updates. The paper's agent
      beat this expert by 1.34x by undoing that choice, so the expert may sit as low as
      ~1/1.34 of the roofline; below 0.6 the zero-copy cost would exceed anything the paper
      saw → band [0.6, 1.0];
    * Stencil: 40 B per point per step at eff(streaming) of HBM bandwidth; halo copies and
      per-task overheads are a few % → [0.85, 1.0];
    * Cannon: 2n³ at eff(DGEMM) of FP64 peak on four GPUs; every iteration re-places B and C
      and moves 200 MB leaf operands over PCIe (~12 GB/s), partly overlapped with the
      DGEMMs → [0.5, 1.0].
    """
    m = load_machine("p100-node")
    gpu = m.hardware.gpu
    hbm = m.access(m.processor("GPU", 0, 0), m.memory("FBMEM", 0, 0)).bandwidth

    p = problem("Circuit").model.params
    wires = p["pps"] * p["wpp"]
    t_cnc = 96 * p["steps"] * wires / (gpu.fp32_flops * m.efficiency("circuit_wire_solver").gpu)
    flops = p["l"] * (p["p"] * p["wpp"] * (96 * p["steps"] + 4) + 4 * p["p"] * p["npp"])
    circuit = expert_run("Circuit").throughput / (flops / (p["l"] * t_cnc) / 1e9)

    p = problem("Stencil").model.params
    points = (p["nx"] - 4) * (p["ny"] - 4)
    t_step = 40 * points / 4 / (hbm * m.efficiency("streaming_stencil").gpu)
    stencil = expert_run("Stencil").throughput / (points / t_step)

    n = problem("Cannon").model.params["n"]
    t_mm = 2 * n**3 / (4 * gpu.fp64_flops * m.efficiency("dense_dgemm").gpu)
    cannon = expert_run("Cannon").throughput / (n * n * (2 * n - 1) / t_mm / 1e9)

    assert 0.6 <= circuit <= 1.0
    assert 0.85 <= stencil <= 1.0
    assert 0.5 <= cannon <= 1.0


# ---------------------------------------------------------------------------------------------
# Memory
# ---------------------------------------------------------------------------------------------


def test_a_framebuffer_too_small_fails_with_the_allocation_message():
    prob = problem("Stencil")
    small = prob.machine.with_legion_settings(fsize=256)
    result = run(prob, expert("Stencil"), machine=small)
    assert result.status == "runtime_error" and result.throughput == 0.0
    assert result.error.code == "E-OOM" and result.error.kind == "execute"
    assert re.fullmatch(
        r"failed allocation of size \d+ bytes for region requirement 0 of task stencil in "
        r"memory n0\.FBMEM\d", result.error.message)
    assert result.raw_output().startswith("Execution Error: failed allocation of size")
    assert result.error.message in result.stderr
    assert result.error.context["capacity"] == 256 * 2**20


def test_collecting_read_only_inputs_lowers_the_footprint():
    """Cannon's leaves read B and C pieces; kept valid (no CollectMemory) they stay resident,
    so a GPU accumulates the pieces of every step, while collected ones are released after
    each leaf (apps.md §4.1 "working set"). On four Lassen nodes (2 x 2 node grid, four leaves
    per GPU per iteration) the framebuffer peak must drop with collection."""
    prob = problem("Cannon", "lassen", 4)
    text = expert("Cannon")
    collected = run(prob, text)
    kept = run(prob, without_lines(text, "CollectMemory"))
    assert kept.ok and collected.ok

    def fb_peak(result):
        return max(v for k, v in result.stats.memory_peak.items() if "FBMEM" in k)

    assert fb_peak(kept) > 1.2 * fb_peak(collected)
    assert collected.stats.extra["instances_collected"] > 0
    assert kept.stats.extra["instances_collected"] == 0


def test_instance_limits_cost_overlap_in_cannon():
    prob = problem("Cannon")
    unlimited = run(prob, without_lines(expert("Cannon"), "InstanceLimit"))
    assert unlimited.ok
    assert unlimited.elapsed <= expert_run("Cannon").elapsed


@pytest.mark.parametrize("app", ["Circuit", "Stencil", "Pennant"])
def test_expert_runs_on_four_lassen_nodes(app):
    result = expert_run(app, "lassen", 4)
    assert result.ok, result.stderr
    assert any(".nic" in k and v > 0 for k, v in result.stats.link_bytes.items())
