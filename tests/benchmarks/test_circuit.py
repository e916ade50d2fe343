"""The Circuit model against apps.md §1."""

from __future__ import annotations

import math
import re

import pytest

from benchmarks import get_app
from mapper_gym.appmodel import Kernel, MachineShape, Pattern, Privilege, Timing

from .helpers import check_model, launches_of

APP = get_app("Circuit")


@pytest.mark.parametrize("nodes", [1, 2, 4, 16])
@pytest.mark.parametrize("preset", ["small", "A", "B"])
def test_builds_consistently(preset, nodes):
    app = APP.build(MachineShape(nodes), preset)
    check_model(app)
    superpieces = app.params["p"] // app.params["pps"]
    assert superpieces == 4 * nodes  # one superpiece per GPU
    for task in ("calculate_new_currents", "distribute_charge", "update_voltages"):
        (launch,) = launches_of(app, task)
        assert launch.domain == (superpieces,)


@pytest.mark.parametrize("preset,nodes", [("A", 1), ("A", 2), ("B", 1), ("B", 4), ("small", 2)])
def test_flops_match_the_programs_count(preset, nodes):
    app = APP.build(MachineShape(nodes), preset)
    p = app.params
    reported = p["l"] * (p["p"] * p["wpp"] * (96 * p["steps"] + 4) + 4 * p["p"] * p["npp"])
    assert app.total_flops == reported
    assert app.flops_per_iteration() * p["l"] == pytest.approx(reported)


def test_preset_a_per_point_numbers():
    app = APP.build(MachineShape(1), "A")
    (cnc,) = launches_of(app, "calculate_new_currents")
    work = cnc.points[0].work
    assert work.flops == pytest.approx(4.8e10)
    assert work.precision == "fp32" and work.kernel is Kernel.WIRE_SOLVER
    streamed = sum(a.bytes for acc in work.accesses for a in acc if a.pattern is Pattern.STREAM)
    assert streamed == pytest.approx(196 * 50000, abs=64)
    gathers = sum(a.count for acc in work.accesses for a in acc if a.pattern is Pattern.GATHER)
    assert gathers == pytest.approx(2 * 50000)  # two endpoint voltages per wire
    (dc,) = launches_of(app, "distribute_charge")
    atomics = sum(a.count for acc in dc.points[0].work.accesses for a in acc
                  if a.pattern is Pattern.ATOMIC)
    assert atomics == pytest.approx(2 * 50000)


def test_node_pieces_and_ghost_window():
    app = APP.build(MachineShape(2), "A")
    p = app.params
    snpp = math.ceil(p["npp"] / 100)
    nodes = app.region("all_nodes")
    shared = app.partition("rp_shared")
    ghost = app.partition("rp_ghost")
    private = app.partition("rp_private")
    assert shared.disjoint and private.disjoint and not ghost.disjoint
    for i in range(shared.colors):
        assert sum(nodes.pieces[x].elements for x in shared.subregion(i)) == p["pps"] * snpp
        assert sum(nodes.pieces[x].elements for x in private.subregion(i)) == \
            p["pps"] * (p["npp"] - snpp)
        ghost_nodes = sum(nodes.pieces[x].elements for x in ghost.subregion(i))
        assert ghost_nodes <= (p["pps"] + 6) * snpp
        assert set(shared.subregion(i)) <= set(ghost.subregion(i))
        for j in (i - 1, i + 1):  # neighbours' shared nodes overlap the ghost range
            if 0 <= j < shared.colors:
                assert set(shared.subregion(j)) & set(ghost.subregion(i))
    # shared nodes come first in the id space (ids 0 .. p*snpp-1)
    halves = app.partition("rp_all_nodes")
    first_shared = min(nodes.pieces[x].bounds[0][0] for x in halves.subregion(1))
    assert first_shared == 0
    assert app.region("all_wires").fields[-1].name == "voltage._8"
    assert sum(f.size for f in app.region("all_wires").fields) == 120


def test_requirement_lists():
    app = APP.build(MachineShape(1), "small")
    dc = app.task("distribute_charge")
    assert [r.privilege for r in dc.requirements] == [
        Privilege.RW, Privilege.RED, Privilege.RED, Privilege.RO]
    assert dc.requirements[1].redop == "+"
    uv = app.task("update_voltages")
    assert [(r.names[0], r.privilege) for r in uv.requirements] == [
        ("rp_private", Privilege.RO), ("rp_private", Privilege.RW),
        ("rp_shared", Privilege.RO), ("rp_shared", Privilege.RW),
        ("rp_times", Privilege.RW)]
    cnc = app.task("calculate_new_currents")
    assert cnc.requirements[2].names == ("rp_ghost", "all_shared")
    assert cnc.variants == ("CPU", "GPU")
    assert app.task("init_piece").variants == ("CPU",)
    info = app.app_info()
    assert info.task("get_elapsed").single_launch
    assert "all_nodes" in info.region_names()


def test_output_lines():
    app = APP.build(MachineShape(1), "A")
    lines = app.stdout_lines(Timing(elapsed=1.5, init_time=0.25))
    assert lines[0].startswith("circuit settings: loops=10 prune=30 pieces=40 "
                               "(pieces/superpiece=10) nodes/piece=1000 (nodes/piece=10) ")
    assert lines[2] == "  Nodes :      40000 *   16 bytes =       640000 bytes"
    assert lines[3] == "  Wires :     200000 *  120 bytes =     24000000 bytes"
    assert re.fullmatch(r"ELAPSED TIME = +([0-9.]+) s", lines[6])
    gflops = float(re.fullmatch(r"GFLOPS = +([0-9.]+) GFLOPS", lines[7]).group(1))
    assert gflops == pytest.approx(app.total_flops / 1.5 / 1e9, abs=1e-3)
    assert app.throughput(Timing(2.0)) == pytest.approx(app.total_flops / 2e9)
