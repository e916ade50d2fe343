"""The DefaultMapper model: kind ranking, default memory, blocking, slicing and sharding."""

from __future__ import annotations

import math

import pytest

from mapper_gym.appmodel import domain_points
from mapper_gym.machine import load_machine
from mapper_gym.mapping.default_mapper import (
    decompose_points,
    default_index_placement,
    default_kind,
    default_memory,
    linearize,
    prime_factors,
    select_num_blocks,
)


def uids(procs) -> list[str]:
    return [p.uid for p in procs]


def test_kind_ranking_prefers_gpu_then_omp_then_cpu():
    omp_node = load_machine("p100-node").with_legion_settings(omp=1)
    assert default_kind(("CPU", "GPU"), omp_node) == "GPU"
    assert default_kind(("CPU", "OMP"), omp_node) == "OMP"
    assert default_kind(("CPU",), omp_node) == "CPU"
    cpu_only = load_machine("local-cpu")
    assert default_kind(("CPU", "GPU"), cpu_only) == "CPU"
    assert default_kind(("GPU",), cpu_only) is None
    assert default_kind(("IO",), omp_node) is None  # no I/O processors configured


def test_default_memory_is_best_affinity():
    m = load_machine("p100-node").with_legion_settings(nsize=1024, omp=2, omp_threads=2)
    assert default_memory(m, m.processor("GPU", 0, 2)).uid == "n0.FBMEM2"
    # a CPU sees SYSMEM and SOCKMEM with equal affinity: SYSMEM comes first in the description
    assert default_memory(m, m.processor("CPU", 0, 0)).uid == "n0.SYSMEM0"
    # OpenMP processors pinned to a NUMA domain prefer their own socket memory
    assert default_memory(m, m.processor("OMP", 0, 1)).uid == "n0.SOCKMEM1"
    assert default_memory(load_machine("local-cpu"),
                          load_machine("local-cpu").processor("CPU", 0, 1)).kind == "SYSMEM"


def test_prime_factors():
    assert prime_factors(1) == []
    assert prime_factors(12) == [2, 2, 3]
    assert prime_factors(97) == [97]
    assert prime_factors(256) == [2] * 8
    with pytest.raises(ValueError):
        prime_factors(0)


@pytest.mark.parametrize(
    ("factor", "extents", "expected"),
    [
        (1, (10, 10), (1, 1)),
        (4, (8,), (4,)),
        (4, (2, 2), (2, 2)),        # tie: dimension 0 first, then the larger chunk
        (12, (6, 4), (6, 2)),       # 3 -> dim 0 (6/3=2), 2 -> dim 1 (4/2=2), 2 -> tie: dim 0
        (8, (100, 1), (8, 1)),
        (6, (1, 1, 9), (1, 1, 6)),
        (256, (16, 16), (16, 16)),
    ],
)
def test_select_num_blocks(factor, extents, expected):
    blocks = select_num_blocks(factor, extents)
    assert blocks == expected
    assert math.prod(blocks) == factor


def test_decompose_one_point_per_processor_in_fortran_block_order():
    m = load_machine("p100-node")
    gpus = m.processors_of("GPU")
    points = domain_points((2, 2))
    placed = decompose_points(points, gpus)
    assert dict(zip(points, uids(placed), strict=True)) == {
        (0, 0): "n0.GPU0", (1, 0): "n0.GPU1", (0, 1): "n0.GPU2", (1, 1): "n0.GPU3",
    }


def test_decompose_blocks_are_contiguous():
    gpus = load_machine("p100-node").processors_of("GPU")
    placed = uids(decompose_points(domain_points((10,)), gpus))
    # blocks [0,1], [2,4], [5,6], [7,9]
    assert placed == ["n0.GPU0"] * 2 + ["n0.GPU1"] * 3 + ["n0.GPU2"] * 2 + ["n0.GPU3"] * 3


def test_empty_blocks_do_not_consume_processors():
    """Fewer points than processors: the DefaultMapper fills the first processors."""
    gpus = load_machine("lassen", nodes=2).processors_of("GPU")  # 8 GPUs, node 0 first
    placed = uids(decompose_points(domain_points((4,)), gpus))
    assert placed == ["n0.GPU0", "n0.GPU1", "n0.GPU2", "n0.GPU3"]


def test_decompose_sparse_subset_uses_bounding_box():
    gpus = load_machine("p100-node").processors_of("GPU")
    points = [(1,), (5,), (9,), (13,)]
    assert uids(decompose_points(points, gpus)) == ["n0.GPU0", "n0.GPU1", "n0.GPU2", "n0.GPU3"]
    assert decompose_points([], gpus) == []
    with pytest.raises(ValueError):
        decompose_points(points, [])


def test_linearize_dimension_zero_fastest():
    for k, p in enumerate(domain_points((3, 2, 2))):
        assert linearize(p, (3, 2, 2)) == k


def test_unreplicated_launch_is_blocked_over_the_whole_machine():
    m = load_machine("lassen", nodes=2)
    placed = default_index_placement(m, "GPU", (16,), domain_points((16,)), launching_node=0,
                                     shard_nodes=None, same_address_space=False)
    assert uids(placed) == [f"n{i // 8}.GPU{i // 2 % 4}" for i in range(16)]


def test_same_address_space_keeps_points_on_the_launching_node():
    m = load_machine("lassen", nodes=2)
    placed = default_index_placement(m, "GPU", (8,), domain_points((8,)), launching_node=1,
                                     shard_nodes=None, same_address_space=True)
    assert uids(placed) == [f"n1.GPU{i // 2}" for i in range(8)]


def test_replicated_parent_shards_cyclically_then_slices_locally():
    m = load_machine("lassen", nodes=3)
    points = domain_points((12,))
    placed = default_index_placement(m, "GPU", (12,), points, launching_node=0,
                                     shard_nodes=(0, 1, 2), same_address_space=False)
    # point i -> shard i % 3; the shard's points {n, n+3, n+6, n+9} go to GPUs 0..3
    assert uids(placed) == [f"n{i % 3}.GPU{i // 3}" for i in range(12)]


def test_replicated_2d_domain_uses_fortran_linearisation():
    m = load_machine("lassen", nodes=2)
    points = domain_points((2, 2))
    placed = default_index_placement(m, "GPU", (2, 2), points, launching_node=0,
                                     shard_nodes=(0, 1), same_address_space=True)
    # linear index x + 2y: (0,0)->0 and (0,1)->2 on node 0, (1,0)->1 and (1,1)->3 on node 1
    assert dict(zip(points, uids(placed), strict=True)) == {
        (0, 0): "n0.GPU0", (0, 1): "n0.GPU1", (1, 0): "n1.GPU0", (1, 1): "n1.GPU1",
    }


def test_one_node_shards_each_start_from_the_first_processor():
    """Several shards on one node slice independently: each starts at the node's first GPU."""
    m = load_machine("p100-node")
    placed = default_index_placement(m, "GPU", (4,), domain_points((4,)), launching_node=0,
                                     shard_nodes=(0, 0), same_address_space=False)
    assert uids(placed) == ["n0.GPU0", "n0.GPU0", "n0.GPU1", "n0.GPU1"]
