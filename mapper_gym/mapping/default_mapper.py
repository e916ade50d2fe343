"""Our model of Legion's ``DefaultMapper`` for the decisions a mapping program leaves open.

dsl.md §6.11 hands every decision the program does not make to "Legion's DefaultMapper"; this
module is the executable definition of what that means in mapper-gym. Each rule below names the
DefaultMapper behaviour it models; where we simplify, the docstring says so.

**Processor kind** (``default_policy_rank_processor_kinds``): the first kind of
:data:`DEFAULT_KIND_RANKING` for which the task has a variant and the node has processors —
GPU, then processor sets, then OpenMP, then CPU, then I/O, then Python.

**Memory** (``default_policy_select_target_memory``): the memory of the processor's node with
the best affinity to the processor, ties broken by the order of the machine description. That is
a GPU's own framebuffer, a CPU's system memory (a CPU sees SYSMEM and SOCKMEM with equal
affinity, and SYSMEM comes first), an OpenMP processor pinned to a NUMA domain its own SOCKMEM
when socket memory exists, else SYSMEM. :meth:`Machine.addressable` implements the ranking.

**Index-launch placement** (``slice_task`` → ``default_slice_task`` →
``default_select_num_blocks`` / ``default_decompose_points``, and the runtime's default *cyclic*
sharding functor under control replication):

1. *Sharding.* When the launching task is control-replicated over S > 1 shards, point p belongs
   to shard ``linearize(p) % S``, where ``linearize`` numbers the launch domain with dimension 0
   fastest (Realm's affine linearisation). Each shard slices only its own points, over the
   processors of the task's kind **on the shard's node** (the DefaultMapper restricts a
   control-replicated parent's launches to the local address space).
2. Without replication the processors are all processors of the kind in the machine, node by
   node (Realm's processor query order), or only those of the launching node when the launch
   asks for the same address space (``Launch.same_address_space``, or ``-dm:same_address_space``
   among the application's runtime flags).
3. *Blocking.* For T target processors and a point set whose bounding box has extents
   ``n``, the number of blocks per dimension comes from the prime factors of T, largest first,
   each given to the dimension with the most remaining extent per block (ties: the lowest
   dimension). Block ``b`` covers ``[n*b // B + lo, n*(b+1) // B + lo - 1]`` in each dimension.
4. *Assignment.* Blocks are visited with dimension 0 fastest; every block that contains at least
   one point becomes a slice and goes to the next target processor, cyclically. Empty blocks do
   not consume a processor, so a launch with fewer points than processors fills the first
   processors of the list (a genuine property of the DefaultMapper, kept on purpose).

**Single-launch placement**: the first processor of the chosen kind on the launching node (the
parent's node; node 0 for the top-level task), exactly as when a ``Task`` statement chose the
kind (dsl.md §6.2, §6.11). The real DefaultMapper spreads *first-level* single tasks round-robin
over the machine (a mapper-state-dependent order); we do not model that rotation.
"""

from __future__ import annotations

from collections.abc import Sequence

from mapper_gym.machine import Machine, Memory, Processor

#: Legion's DefaultMapper ranking of processor kinds, as DSL kinds (TOC, PROC_SET, OMP, LOC, IO,
#: PY).
DEFAULT_KIND_RANKING: tuple[str, ...] = ("GPU", "PROC", "OMP", "CPU", "IO", "PY")

#: The runtime flag with which the DefaultMapper keeps every index launch on its own node.
SAME_ADDRESS_SPACE_FLAG = "-dm:same_address_space"


def default_kind(variants: Sequence[str], machine: Machine) -> str | None:
    """The DefaultMapper's processor kind for a task with ``variants`` (None: nothing fits)."""
    for kind in DEFAULT_KIND_RANKING:
        if kind in variants and machine.processors_per_node(kind) > 0:
            return kind
    return None


def default_memory(machine: Machine, proc: Processor) -> Memory | None:
    """The best-affinity memory of ``proc`` (None only for a processor that addresses nothing)."""
    found = machine.addressable(proc)
    return found[0] if found else None


# ---------------------------------------------------------------------------------------------
# Index launches
# ---------------------------------------------------------------------------------------------


def prime_factors(number: int) -> list[int]:
    """Prime factors of ``number`` in ascending order, with multiplicity (``12 -> [2, 2, 3]``)."""
    if number < 1:
        raise ValueError(f"cannot factor {number}")
    factors: list[int] = []
    prime = 2
    while prime * prime <= number:
        while number % prime == 0:
            factors.append(prime)
            number //= prime
        prime += 1
    if number > 1:
        factors.append(number)
    return factors


def select_num_blocks(factor: int, extents: Sequence[int]) -> tuple[int, ...]:
    """Blocks per dimension for ``factor`` processors over a box of ``extents``.

    Models ``DefaultMapper::default_select_num_blocks``: the prime factors of ``factor``, largest
    first, each multiply the block count of the dimension whose current chunk (extent divided by
    the blocks given so far, in floating point as the C++ does) is largest; ties go to the lowest
    dimension. The product of the result is always ``factor``.
    """
    result = [1] * len(extents)
    if factor == 1 or not extents:
        return tuple(result)
    chunks = [float(e) for e in extents]
    for prime in reversed(prime_factors(factor)):
        best = 0
        for dim in range(1, len(chunks)):
            if chunks[dim] > chunks[best]:
                best = dim
        result[best] *= prime
        chunks[best] /= prime
    return tuple(result)


def decompose_points(
    points: Sequence[tuple[int, ...]], targets: Sequence[Processor]
) -> list[Processor]:
    """The processor of each point under ``default_decompose_points`` over ``targets``.

    ``points`` may be any non-empty set of distinct points (a whole domain or one shard's
    share); its bounding box is blocked with :func:`select_num_blocks` and non-empty blocks go to
    the targets cyclically, blocks visited with dimension 0 fastest.
    """
    if not points:
        return []
    if not targets:
        raise ValueError("no target processors to slice an index launch over")
    dims = len(points[0])
    lows = [min(p[d] for p in points) for d in range(dims)]
    extents = [max(p[d] for p in points) - lows[d] + 1 for d in range(dims)]
    blocks = select_num_blocks(len(targets), extents)
    # For each dimension, the block index of every offset inside the bounding box.
    block_of: list[list[int]] = []
    for extent, count in zip(extents, blocks, strict=True):
        table = [0] * extent
        for b in range(count):
            for offset in range(extent * b // count, extent * (b + 1) // count):
                table[offset] = b
        block_of.append(table)
    strides = [1] * dims
    for d in range(1, dims):
        strides[d] = strides[d - 1] * blocks[d - 1]
    linear = [
        sum(block_of[d][p[d] - lows[d]] * strides[d] for d in range(dims)) for p in points
    ]
    rank = {block: i for i, block in enumerate(sorted(set(linear)))}
    count = len(targets)
    return [targets[rank[block] % count] for block in linear]


def linearize(point: Sequence[int], extents: Sequence[int]) -> int:
    """Position of ``point`` in a domain of ``extents`` (origin 0), dimension 0 fastest."""
    index, stride = 0, 1
    for coord, extent in zip(point, extents, strict=True):
        index += coord * stride
        stride *= extent
    return index


def default_index_placement(
    machine: Machine,
    kind: str,
    domain: Sequence[int],
    points: Sequence[tuple[int, ...]],
    *,
    launching_node: int,
    shard_nodes: Sequence[int] | None,
    same_address_space: bool,
) -> list[Processor]:
    """The processor of every point of an index launch that no ``IndexTaskMap`` places.

    ``shard_nodes`` lists the node of each shard when the launching task is control-replicated
    over more than one shard (None otherwise). See the module docstring for the model.
    """
    if not points:
        return []
    if shard_nodes is not None and len(shard_nodes) > 1:
        shards = len(shard_nodes)
        members: list[list[int]] = [[] for _ in range(shards)]
        for i, point in enumerate(points):
            members[linearize(point, domain) % shards].append(i)
        placed: list[Processor | None] = [None] * len(points)
        for shard, indices in enumerate(members):
            if not indices:
                continue
            targets = machine.processors_of(kind, shard_nodes[shard])
            chosen = decompose_points([points[i] for i in indices], targets)
            for i, proc in zip(indices, chosen, strict=True):
                placed[i] = proc
        return placed  # type: ignore[return-value]
    if same_address_space:
        targets = machine.processors_of(kind, launching_node)
    else:
        targets = machine.processors_of(kind)
    return decompose_points(points, targets)
