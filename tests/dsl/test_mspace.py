"""Machine spaces: every worked example of dsl.md §8 plus bijection properties."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapper_gym.dsl.mspace import MachineSpace
from mapper_gym.dsl.values import EvalError, Point, PointSet


@pytest.fixture
def g() -> MachineSpace:
    """``Machine(GPU)`` on 3 nodes × 4 GPUs, the machine of every §8 example."""
    return MachineSpace.base("GPU", 3, 4)


def at(space: MachineSpace, *coords: int) -> tuple[int, int]:
    point = space.index(list(coords))
    assert isinstance(point, Point)
    assert point.kind == space.kind
    return point.coords


def dims(op: str, highest: int) -> str:
    return f"{op}'s arguments have exceeded the allowed dimensions: {highest}"


def fails(call, code: str, message: str) -> None:
    with pytest.raises(EvalError) as info:
        call()
    assert (info.value.code, info.value.message) == (code, message)


# -- §8.1 --------------------------------------------------------------------------------------


def test_base_machine(g):
    assert g.size == (3, 4)
    assert g.rank == 2
    assert g.volume == 12
    assert g.split(1, 2).size == (3, 2, 2)
    assert g.split(1, 2).volume == 12
    assert at(g, 1, 3) == (1, 3)


def test_bound_errors_of_section_8_1(g):
    fails(lambda: g.index([5, 0]), "E-BOUNDS", "Sharding node index out of bound!\n5 >= 3")
    fails(
        lambda: g.merge(0, 1).index([12]),
        "E-BOUNDS",
        "Slice processor index out of bound!\n12 >= 12",
    )
    fails(lambda: g.index([0, 4]), "E-BOUNDS", "Slice processor index out of bound!\n4 >= 4")
    fails(lambda: g.index([-1, 0]), "E-BOUNDS", "Sharding node index out of bound!\n-1 < 0")
    fails(lambda: g.index([0, -1]), "E-BOUNDS", "Slice processor index out of bound!\n-1 < 0")


def test_derivations_follow_section_8_1(g):
    node, proc = frozenset({"node"}), frozenset({"proc"})
    assert g.derivation == (node, proc)
    assert g.split(0, 3).derivation == (node, node, proc)
    assert g.split(1, 2).derivation == (node, proc, proc)
    assert g.merge(0, 1).derivation == (node | proc,)
    assert g.swap(0, 1).derivation == (proc, node)
    assert g.slice(0, 0, 1).derivation == (node, proc)
    assert g.reverse(1).derivation == (node, proc)
    assert g.balance_split(0, 2).derivation == (node, node, proc)
    assert g.auto_split(1, (2, 2)).derivation == (node, proc, proc)
    # A node-only piece of a split reports the sharding message, a merged one the slice message.
    fails(
        lambda: g.split(0, 3).index([3, 0, 0]),
        "E-BOUNDS",
        "Sharding node index out of bound!\n3 >= 3",
    )
    fails(
        lambda: g.swap(0, 1).index([0, 3]),
        "E-BOUNDS",
        "Sharding node index out of bound!\n3 >= 3",
    )


def test_arity_is_checked(g):
    fails(
        lambda: g.index([1]),
        "E-INDEX",
        "Machine index has 1 coordinates, but the machine space has 2 dimensions",
    )


# -- §8.2–§8.6 ---------------------------------------------------------------------------------


def test_split(g):
    s = g.split(1, 2)
    assert at(s, 2, 1, 1) == (2, 3)
    assert s.forward(2, 3) == (2, 1, 1)
    fails(lambda: g.split(1, 3), "E-MSPACE", "4 must be divisible by 3")
    fails(lambda: g.split(1, 0), "E-MSPACE", "Split's factor must be positive: 0")
    fails(lambda: g.split(1, -2), "E-MSPACE", "Split's factor must be positive: -2")
    fails(lambda: g.split(2, 2), "E-MSPACE", dims("Split", 1))
    fails(lambda: g.split(-1, 2), "E-MSPACE", dims("Split", 1))


def test_merge_both_orders(g):
    node_major = g.merge(0, 1)
    assert node_major.size == (12,)
    assert at(node_major, 9) == (2, 1)
    nodes_fastest = g.merge(1, 0)
    assert nodes_fastest.size == (12,)
    assert at(nodes_fastest, 7) == (1, 2)
    assert node_major.forward(2, 1) == (9,)
    assert nodes_fastest.forward(1, 2) == (7,)
    fails(lambda: g.merge(1, 1), "E-MSPACE", "Merge's arguments should be different integers")
    fails(lambda: g.merge(0, 2), "E-MSPACE", dims("Merge", 1))


def test_merge_position_in_higher_rank(g):
    """Merged dimension sits at d1 if d1 < d2, else d1 - 1; the others keep their order."""
    s = g.split(1, 2)  # (3, 2, 2)
    assert s.merge(0, 2).size == (6, 2)
    assert s.merge(2, 0).size == (2, 6)
    # (3,2,2).merge(2, 0): merged k → old[2] = k / 3, old[0] = k % 3; position 1.
    assert at(s.merge(2, 0), 1, 4) == at(s, 4 % 3, 1, 4 // 3)


def test_swap(g):
    s = g.swap(0, 1)
    assert s.size == (4, 3)
    assert at(s, 3, 2) == (2, 3)
    fails(lambda: g.swap(0, 0), "E-MSPACE", "Swap's arguments should be different integers")
    fails(lambda: g.swap(0, 5), "E-MSPACE", dims("Swap", 1))


def test_slice(g):
    s = g.slice(1, 1, 3)
    assert s.size == (3, 3)
    assert at(s, 0, 0) == (0, 1)
    assert at(s, 2, 2) == (2, 3)
    fails(lambda: g.slice(1, 2, 4), "E-MSPACE", "Slice out of bound: 4")
    fails(lambda: g.slice(1, 3, 2), "E-MSPACE", "Slice out of bound: 4")
    fails(lambda: g.slice(1, -1, 2), "E-MSPACE", "Slice out of bound: 4")
    fails(lambda: g.slice(2, 0, 0), "E-MSPACE", dims("Slice", 1))


def test_reverse(g):
    r = g.reverse(0)
    assert r.size == (3, 4)
    assert at(r, 0, 1) == (2, 1)
    assert r.forward(2, 1) == (0, 1)
    fails(lambda: g.reverse(2), "E-MSPACE", dims("Reverse", 1))


# -- §8.7–§8.10 --------------------------------------------------------------------------------


def test_balance_split_on_twelve_nodes():
    cpus = MachineSpace.base("CPU", 12, 1)
    two = cpus.balance_split(0, 2)
    assert two.size == (6, 2, 1)
    assert at(two, 5, 1, 0) == (11, 0)
    three = cpus.balance_split(0, 3)
    assert three.size == (3, 2, 2, 1)
    assert at(three, 2, 1, 1, 0) == (11, 0)


def test_balance_split_errors(g):
    fails(lambda: g.balance_split(0, 9), "E-MSPACE", "Unsupported Balanced Split Dimension: 9")
    fails(lambda: g.balance_split(0, 0), "E-MSPACE", "Unsupported Balanced Split Dimension: 0")
    fails(
        lambda: g.balance_split(3, 2),
        "E-MSPACE",
        dims("balance_split", 1),
    )
    empty = MachineSpace.base("OMP", 3, 0)
    fails(lambda: empty.balance_split(1, 2), "E-MSPACE", "Cannot split a dimension of size 0")


def test_multi_split_index_rule(g):
    """old = i0 + b0·i1 + b0·b1·i2 (§8.7)."""
    merged = MachineSpace.base("GPU", 3, 8).merge(0, 1)  # (24,)
    split = merged.auto_split(0, (2, 2, 3))  # (2, 3, 4)
    assert split.size == (2, 3, 4)
    for i0, i1, i2 in itertools.product(range(2), range(3), range(4)):
        k = i0 + 2 * i1 + 6 * i2
        assert at(split, i0, i1, i2) == (k // 8, k % 8)
        assert split.forward(k // 8, k % 8) == (i0, i1, i2)
    assert merged.greedy_split(0, (2, 2, 3)).size == (4, 2, 3)


def test_auto_and_greedy_split_errors(g):
    m = g.merge(0, 1)
    fails(
        lambda: m.auto_split(0, 4),
        "E-MSPACE",
        "Autosplit's second argument must be tuple of integers, while getting IntValType",
    )
    fails(
        lambda: m.greedy_split(0, (2, True)),
        "E-MSPACE",
        "Autosplit's second argument must be tuple of integers, while getting TupleExprType",
    )
    fails(
        lambda: m.auto_split(0, (6, 0)),
        "E-MSPACE",
        "auto_split's second argument must contain positive integers",
    )
    fails(
        lambda: m.greedy_split(0, (-1, 2)),
        "E-MSPACE",
        "greedy_split's second argument must contain positive integers",
    )
    fails(
        lambda: m.auto_split(1, (2, 2)),
        "E-MSPACE",
        dims("auto_split", 0),
    )
    fails(
        lambda: m.greedy_split(1, (2, 2)),
        "E-MSPACE",
        dims("greedy_split", 0),
    )
    fails(
        lambda: MachineSpace.base("OMP", 2, 0).auto_split(1, (2,)),
        "E-MSPACE",
        "Cannot split a dimension of size 0",
    )
    assert m.auto_split(0, Point("GPU", 6, 4)).size == (4, 3)  # a point is an all-int tuple


def test_limits():
    huge = MachineSpace.base("CPU", 2_000_000, 1)
    fails(
        lambda: huge.auto_split(0, (2, 2)),
        "E-LIMIT",
        "Resource limit exceeded: size of a split dimension (limit 1048576)",
    )
    fails(
        lambda: huge.balance_split(0, 2),
        "E-LIMIT",
        "Resource limit exceeded: size of a split dimension (limit 1048576)",
    )
    m = MachineSpace.base("GPU", 1, 1)
    for _ in range(14):
        m = m.split(0, 1)
    assert m.rank == 16
    fails(lambda: m.split(0, 1), "E-LIMIT", "Resource limit exceeded: machine rank (limit 16)")
    fails(
        lambda: MachineSpace.base("GPU", 1, 1).auto_split(0, (1,) * 16),
        "E-LIMIT",
        "Resource limit exceeded: machine rank (limit 16)",
    )
    wide = MachineSpace.base("CPU", 100, 50)
    fails(
        lambda: wide.index([None, None]),
        "E-LIMIT",
        "Resource limit exceeded: points in a point-set (limit 4096)",
    )
    assert len(wide.index([None, 0]).points) == 100


# -- §7.2 wildcards ----------------------------------------------------------------------------


def test_wildcards(g):
    row = g.index([2, None])
    assert isinstance(row, PointSet)
    assert row.render() == "{GPU(2, 0), GPU(2, 1), GPU(2, 2), GPU(2, 3)}"
    everything = g.index([None, None])
    assert [p.coords for p in everything.points] == list(itertools.product(range(3), range(4)))
    # Leftmost index varies slowest, in the indexed space's own coordinates.
    swapped = g.swap(0, 1).index([None, None])
    assert [p.coords for p in swapped.points][:4] == [(0, 0), (1, 0), (2, 0), (0, 1)]
    fails(lambda: g.index([3, None]), "E-BOUNDS", "Sharding node index out of bound!\n3 >= 3")
    no_omp = MachineSpace.base("OMP", 3, 0)
    fails(
        lambda: no_omp.index([0, None]), "E-BOUNDS", "Slice processor index out of bound!\n0 >= 0"
    )


# -- §8.11 -------------------------------------------------------------------------------------

SECTION_8_11_A = {
    # y: [(node, GPU) for x in 0..5]
    0: [(0, 0), (0, 0), (0, 1), (0, 2), (0, 2), (0, 3)],
    1: [(0, 0), (0, 0), (0, 1), (0, 2), (0, 2), (0, 3)],
    2: [(1, 0), (1, 0), (1, 1), (1, 2), (1, 2), (1, 3)],
    3: [(2, 0), (2, 0), (2, 1), (2, 2), (2, 2), (2, 3)],
}


def test_section_8_11_a_full_table(g):
    tiles = g.merge(0, 1).auto_split(0, (6, 4))
    assert tiles.size == (4, 3)
    for y, row in SECTION_8_11_A.items():
        for x, expected in enumerate(row):
            assert at(tiles, 4 * x // 6, 3 * y // 4) == expected


def test_section_8_11_b_points(g):
    workers = g.slice(1, 1, 3)
    assert workers.size == (3, 3)
    placed = []
    for point in range(10):
        k = point % workers.volume
        placed.append(at(workers, k % workers.size[0], k // workers.size[0]))
    assert placed == [
        (0, 1),
        (1, 1),
        (2, 1),
        (0, 2),
        (1, 2),
        (2, 2),
        (0, 3),
        (1, 3),
        (2, 3),
        (0, 1),
    ]


def test_section_8_11_c_forward(g):
    assert g.split(1, 2).forward(2, 1) == (2, 1, 0)
    assert g.merge(0, 1).forward(2, 1) == (9,)
    assert g.slice(1, 1, 3).forward(2, 1) == (2, 0)
    fails(
        lambda: g.slice(1, 1, 3).forward(2, 0),
        "E-BOUNDS",
        "old_point[1]=0 < 1, not existing in the machine model using SliceMSpace",
    )


def test_forward_above_a_slice_and_outside_the_base(g):
    fails(
        lambda: g.slice(1, 0, 2).forward(1, 3),
        "E-BOUNDS",
        "3 >= 3 in legion2mspace: index out of bound!",
    )
    # Checked at the slice itself, so a later merge cannot alias another processor.
    fails(
        lambda: g.slice(1, 0, 1).merge(0, 1).forward(0, 2),
        "E-BOUNDS",
        "2 >= 2 in legion2mspace: index out of bound!",
    )
    fails(lambda: g.forward(3, 0), "E-BOUNDS", "3 >= 3 in legion2mspace: index out of bound!")
    fails(lambda: g.forward(0, 4), "E-BOUNDS", "4 >= 4 in legion2mspace: index out of bound!")


# -- properties --------------------------------------------------------------------------------

OPERATIONS = [
    "split",
    "merge",
    "swap",
    "slice",
    "reverse",
    "balance_split",
    "auto_split",
    "greedy_split",
]


@st.composite
def machines(draw) -> tuple[MachineSpace, list[str]]:
    """A random base machine and a random valid chain of transformations."""
    space = MachineSpace.base("GPU", draw(st.integers(1, 6)), draw(st.integers(1, 8)))
    applied: list[str] = []
    for _ in range(draw(st.integers(0, 5))):
        op = draw(st.sampled_from(OPERATIONS))
        d = draw(st.integers(0, space.rank - 1))
        extent = space.size[d]
        if op == "split":
            factor = draw(st.sampled_from([f for f in range(1, extent + 1) if extent % f == 0]))
            space = space.split(d, factor)
        elif op in ("merge", "swap"):
            if space.rank < 2:
                continue
            other = draw(st.integers(0, space.rank - 1).filter(lambda x, d=d: x != d))
            space = getattr(space, op)(d, other)
        elif op == "slice":
            lo = draw(st.integers(0, extent - 1))
            space = space.slice(d, lo, draw(st.integers(lo, extent - 1)))
        elif op == "reverse":
            space = space.reverse(d)
        elif op == "balance_split":
            space = space.balance_split(d, draw(st.integers(1, 3)))
        else:
            extents = draw(st.lists(st.integers(1, 8), min_size=1, max_size=3))
            space = getattr(space, op)(d, tuple(extents))
        applied.append(op)
    return space, applied


def all_coords(space: MachineSpace):
    return itertools.product(*(range(extent) for extent in space.size))


@settings(max_examples=300, deadline=None)
@given(machines())
def test_chains_are_bijections_onto_what_they_cover(case):
    space, applied = case
    nodes, procs = space.nodes, space.processors_per_node
    image = {}
    for coords in all_coords(space):
        node, proc = space.locate(coords)
        assert 0 <= node < nodes and 0 <= proc < procs
        assert (node, proc) not in image, "two coordinates reach the same processor"
        image[(node, proc)] = coords
    assert len(image) == space.volume
    if "slice" not in applied:
        assert len(image) == nodes * procs  # onto the whole base machine
    for (node, proc), coords in image.items():
        assert space.forward(node, proc) == coords  # forward ∘ index = identity
    for node, proc in itertools.product(range(nodes), range(procs)):
        if (node, proc) not in image:
            with pytest.raises(EvalError) as info:
                space.forward(node, proc)
            assert info.value.code == "E-BOUNDS"


@settings(max_examples=200, deadline=None)
@given(machines(), st.data())
def test_split_then_merge_is_identity(case, data):
    space, _ = case
    d = data.draw(st.integers(0, space.rank - 1))
    extent = space.size[d]
    factor = data.draw(st.sampled_from([f for f in range(1, extent + 1) if extent % f == 0]))
    if space.rank == 16:
        return
    round_trip = space.split(d, factor).merge(d + 1, d)
    assert round_trip.size == space.size
    assert round_trip.derivation == space.derivation
    for coords in all_coords(space):
        assert round_trip.locate(coords) == space.locate(coords)


@settings(max_examples=100, deadline=None)
@given(machines(), st.data())
def test_wildcard_sets_are_lexicographic(case, data):
    space, _ = case
    wild = [data.draw(st.booleans()) for _ in range(space.rank)]
    fixed = [data.draw(st.integers(0, extent - 1)) for extent in space.size]
    items = [None if w else f for w, f in zip(wild, fixed, strict=True)]
    result = space.index(items)
    ranges = [range(e) if w else (f,) for w, f, e in zip(wild, fixed, space.size, strict=True)]
    expected = [space.locate(c) for c in itertools.product(*ranges)]
    if any(wild):
        assert isinstance(result, PointSet)
        assert [p.coords for p in result.points] == expected
    else:
        assert isinstance(result, Point)
        assert [result.coords] == expected
