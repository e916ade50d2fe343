"""Unit tests of the generic application schema (mapper_gym.appmodel)."""

from __future__ import annotations

import pytest

from mapper_gym.appmodel import (
    Access,
    AppBuilder,
    Iteration,
    Kernel,
    LayoutRule,
    MachineShape,
    PieceGrid,
    Privilege,
    Requirement,
    Schedule,
    TaskDef,
    Timer,
    TimerMode,
    Timing,
    Work,
    block_bounds,
    closest_pair,
    domain_points,
    legion_settings,
    linearize,
)


def test_domain_points_dimension_zero_fastest():
    assert domain_points((2, 3)) == [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)]
    assert domain_points((3,)) == [(0,), (1,), (2,)]


def test_linearize_matches_domain_order():
    shape = (3, 2, 2)
    for k, p in enumerate(domain_points(shape)):
        assert linearize(p, shape) == k
    with pytest.raises(ValueError):
        linearize((3, 0, 0), shape)


def test_block_bounds_and_closest_pair():
    assert block_bounds(10, 3) == [0, 3, 6, 10]
    assert closest_pair(8) == (4, 2)
    assert closest_pair(16) == (4, 4)
    assert closest_pair(7) == (7, 1)
    assert closest_pair(1) == (1, 1)


def test_piece_grid_select_is_exact_cover():
    g = PieceGrid.from_boundaries([0, 2, 5], [0, 4, 6, 9])
    pieces = g.pieces("r")
    assert len(pieces) == 6
    assert sum(p.elements for p in pieces) == 5 * 9
    ids = g.select(((0, 5), (4, 9)))
    assert sum(pieces[i].elements for i in ids) == 5 * 5
    assert g.select(((0, 0), (0, 9))) == ()
    with pytest.raises(ValueError):
        g.select(((0, 3), (0, 9)))


def test_layout_rule_violations():
    rule = LayoutRule(variant="GPU", requirements=(0,), order="C")
    assert rule.violated_by("F", True, dims=2)
    assert not rule.violated_by("C", False, dims=2)
    assert not rule.violated_by("F", True, dims=1)  # order is meaningless in 1-D
    soa = LayoutRule(variant="CPU", requirements=(0,), order="F", soa=True)
    assert soa.violated_by("F", False, dims=2)


def test_machine_shape_checks():
    with pytest.raises(ValueError):
        MachineShape(nodes=0)
    with pytest.raises(ValueError):
        MachineShape(nodes=6, ranks_per_node=4)
    m = MachineShape(nodes=8, gpus_per_node=1, ranks_per_node=4)
    assert m.physical_nodes == 2 and m.total_gpus == 8
    assert MachineShape(nodes=1, gpus_per_node=0, cpus_per_node=3).workers_per_node() == 3


def test_legion_settings_parses_sizes():
    flags = ("-ll:gpu", "4", "-ll:fsize", "15G", "-ll:csize", "150000", "-dm:memoize")
    assert legion_settings(flags) == {"gpu": 4, "fsize_mib": 15360, "csize_mib": 150000}


def _tiny(bad: str | None = None):
    b = AppBuilder("Tiny", "small", MachineShape(1), {"n": 4})
    g = PieceGrid.from_boundaries(range(5))
    b.region("r", (4,), [("x", 8)], g.pieces("r"))
    b.partition("p", "r", "r", (4,), [(i,) for i in range(4)])
    fields = ("y",) if bad == "field" else ("x",)
    b.task(TaskDef("top", ("CPU",), inner=True, replicable=True))
    b.task(TaskDef("t", ("CPU",), (Requirement("r", fields, Privilege.RW, ("p", "r"), "p"),)))
    pieces = (lambda pt: ((7,),)) if bad == "piece" else (lambda pt: (b.sub("p", pt),))
    launch = b.index_launch(
        "t", (4,), pieces,
        lambda pt: Work(8.0, kernel=Kernel.STREAM, accesses=((Access.stream(16),),)),
    )
    sched = Schedule((), Iteration((), (launch,)), 1, 2, 0, (),
                     Timer(TimerMode.FENCE_WINDOW))
    return b.finish(sched, "top", (), "x/s", None,
                    lambda app, t: (f"T = {t.elapsed}",), lambda app, t: 1.0 / t.elapsed)


def test_builder_produces_consistent_model():
    app = _tiny()
    assert app.flops_per_iteration() == 32.0
    assert app.launch_shapes() == {"t": [(4,)]}
    info = app.app_info()
    assert info.task("t").regions == (("p", "r"),)
    assert info.task("t").index_launch and not info.task("t").single_launch
    assert app.stdout_lines(Timing(2.0)) == ("T = 2.0",)
    assert app.schedule.measured_range == range(1, 3)


@pytest.mark.parametrize("bad", ["field", "piece"])
def test_validate_rejects_inconsistencies(bad):
    with pytest.raises(ValueError, match="inconsistent model"):
        _tiny(bad)
