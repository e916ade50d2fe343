"""Framebuffer working sets of the 3-D matmuls at scale (apps.md §4.3, machine.md §2).

Johnson on 16 Lassen nodes: 64 ranks with one 15000 MiB framebuffer each, g = 4, n = 80000, so
every block is 20000² doubles = 3.2 GB. A ``task_4`` point needs its B and C blocks plus an A
reduction instance (9.6 GB) beside whatever placement blocks its GPU holds, which stay resident
as the only valid copies of their data. Whether a run fits therefore depends on how the
placement launches spread the 48 blocks over the ranks; both mappings below differ only there.
"""

from __future__ import annotations

import pytest

from tests.sim.runs import problem, run

BLOCK = 20000 * 20000 * 8

_MAPPING = """
Task * GPU,OMP,CPU;
Region * * * SOCKMEM,SYSMEM;
Region * * GPU FBMEM,ZCMEM;
Layout * * * SOA C_order;
CollectMemory task_4 *;

flat = Machine(GPU).merge(0, 1);
flat_cpu = Machine(CPU).merge(0, 1);

def lin(Task t) {
    p = t.ipoint;
    s = t.ispace;
    return p[0] + s[0] * (p[1] + s[1] * p[2]);
}
def place_a(Task t) { return flat[lin(t) % flat.size[0]]; }
def place_b(Task t) { return flat[(OFFSET_B + lin(t)) % flat.size[0]]; }
def place_c(Task t) { return flat[(OFFSET_C + lin(t)) % flat.size[0]]; }
def host(Task t) { return flat_cpu[lin(t) % flat_cpu.size[0]]; }
def block3d(Task t) {
    grid = flat.auto_split(0, t.ispace);
    return grid[*(t.ipoint * grid.size / t.ispace)];
}
def per_gpu(Task t) { return flat[t.ipoint[0] % flat.size[0]]; }

IndexTaskMap task_1,taco_fill place_a;
IndexTaskMap task_2 place_b;
IndexTaskMap task_3 place_c;
IndexTaskMap task_4 block3d;
IndexTaskMap init_cublas per_gpu;
IndexTaskMap taco_validate host;
"""


def _mapping(offset_b: int, offset_c: int) -> str:
    return _MAPPING.replace("OFFSET_B", str(offset_b)).replace("OFFSET_C", str(offset_c))


@pytest.mark.parametrize("app", ["Johnson", "COSMA"])
def test_one_placement_block_per_gpu_fits_on_16_lassen_nodes(app):
    # A on ranks 0-15, B on 16-31, C on 32-47: at most one placement block per GPU, so at most
    # 4 blocks (12.8 GB) resident per framebuffer.
    result = run(problem(app, "lassen", 16), _mapping(16, 32))
    assert result.ok, result.raw_output()
    peaks = [v for k, v in result.stats.memory_peak.items() if "FBMEM" in k]
    capacity = 15000 * 2**20
    assert max(peaks) == 4 * BLOCK < capacity
    # ranks without a placement block only ever hold one point's working set
    assert min(peaks) == 3 * BLOCK


def test_placement_blocks_stacked_on_the_same_gpus_run_out_of_memory():
    # Each placement launch linearised over its own domain: ranks 0-15 each hold one A, one B
    # and one C block (9.6 GB, the only valid copies). Rank 1's task_4 point reduces into its
    # own A block (a fresh reduction instance all the same) and reads its own B block, so it
    # needs only the C block on top: 16.0 GB > 15.7 GB. Its reduction instance must not be
    # reclaimed to make room for the C block: the task is still mapping.
    result = run(problem("Johnson", "lassen", 16), _mapping(0, 0))
    assert result.status == "runtime_error"
    assert result.error.code == "E-OOM"
    assert result.raw_output() == (
        f"Execution Error: failed allocation of size {BLOCK} bytes for region requirement 2 "
        "of task task_4 in memory n1.FBMEM0")


def test_cosma_on_8_lassen_nodes_fits_only_with_the_placement_spread():
    # Grid (2, 4, 4), n = 56568: A and B blocks 3.2 GB, C blocks 1.6 GB; a point needs 8.0 GB.
    # Spread (A on ranks 0-7, B on 8-15, C on 16-31), a GPU holds at most one more block.
    spread = run(problem("COSMA", "lassen", 8), _mapping(8, 16))
    assert spread.ok, spread.raw_output()
    # Stacked on ranks 0-7 (8.0 GB each), rank 2 needs 16.0 GB for its point.
    stacked = run(problem("COSMA", "lassen", 8), _mapping(0, 0))
    assert stacked.error is not None and stacked.error.code == "E-OOM"
    assert "region requirement 2 of task task_4 in memory n2.FBMEM0" in stacked.raw_output()
