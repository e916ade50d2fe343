"""The Stencil model against apps.md §2."""

from __future__ import annotations

import re

import pytest

from benchmarks import get_app
from mapper_gym.appmodel import MachineShape, Privilege, Timing

from .helpers import check_model, launches_of

APP = get_app("Stencil")


@pytest.mark.parametrize("nodes", [1, 2, 4, 8, 16])
@pytest.mark.parametrize("preset", ["small", "A"])
def test_builds_consistently(preset, nodes):
    app = APP.build(MachineShape(nodes), preset)
    check_model(app)
    tiles = app.params["ntx"] * app.params["nty"]
    assert tiles == 4 * nodes  # one tile per GPU
    for task in ("stencil", "increment"):
        (launch,) = launches_of(app, task)
        assert launch.domain == (tiles,)


@pytest.mark.parametrize("nodes", [1, 2, 8, 64])
def test_preset_b_node_grid(nodes):
    p = APP.parameters(MachineShape(nodes), "B")
    k = nodes.bit_length() - 1
    nx_n, ny_n = 2 ** ((k + 1) // 2), 2 ** (k // 2)
    assert (p["ntx"], p["nty"]) == (2 * nx_n, 2 * ny_n)
    assert (p["nx"], p["ny"]) == (2 * nx_n * 15000, 2 * ny_n * 15000)
    assert (p["tsteps"], p["tprune"]) == (50, 30)


def test_preset_a_matches_the_single_node_script():
    p = APP.parameters(MachineShape(1), "A")
    assert (p["nx"], p["ny"], p["ntx"], p["nty"], p["tsteps"], p["tprune"]) == (
        10000, 10000, 2, 2, 10, 30)
    app = APP.build(MachineShape(1), "A")
    tile = app.region("points").pieces[0]
    assert tile.elements == (4998 + 4) ** 2


@pytest.mark.parametrize("preset", ["small", "A"])
def test_flops_per_step(preset):
    app = APP.build(MachineShape(2), preset)
    n = (app.params["nx"] - 4) * (app.params["ny"] - 4)
    assert app.flops_per_iteration() == pytest.approx(17 * n)  # 16 (stencil) + 1 (increment)
    traffic = sum(pt.work.bytes for _, pt in app.leaf_points(app.schedule.iteration.timed))
    if preset == "A":  # about 40 B per point per step once tiles are large
        assert traffic == pytest.approx(40 * n, rel=0.01)
    assert traffic > 40 * n


def test_strips_connect_neighbours():
    app = APP.build(MachineShape(2), "small")
    ntx, nty = app.params["ntx"], app.params["nty"]
    for s, (dx, dy) in {"xm": (-1, 0), "xp": (1, 0), "ym": (0, -1), "yp": (0, 1)}.items():
        inn, out = app.partition(f"p{s}_in"), app.partition(f"p{s}_out")
        assert out.disjoint and not any(len(x) == 0 for x in out.subregions)
        for i in range(ntx * nty):
            ix, iy = i % ntx, i // ntx
            jx, jy = ix + dx, iy + dy
            if 0 <= jx < ntx and 0 <= jy < nty:
                assert inn.subregion(i) == out.subregion(jy * ntx + jx)
            else:
                assert inn.subregion(i) == ()
    # a strip message is 16 B per edge point (2 rows of doubles)
    edge = (app.params["ny"] - 4) // nty
    xm = app.region("xm")
    assert xm.bytes_of(app.partition("pxm_out").subregion(0), ("input",)) == 16 * edge


def test_requirement_order_and_privileges():
    app = APP.build(MachineShape(1), "small")
    stencil = app.task("stencil")
    assert [r.names[0] for r in stencil.requirements] == [
        "private", "interior", "pxm_in", "pxp_in", "pym_in", "pyp_in", "p_times"]
    assert [r.privilege for r in stencil.requirements][:3] == [
        Privilege.RW, Privilege.NONE, Privilege.RO]
    inc = app.task("increment")
    assert [r.names[0] for r in inc.requirements][2:6] == [
        "pxm_out", "pxp_out", "pym_out", "pyp_out"]
    assert all(r.privilege is Privilege.RW for r in inc.requirements[2:6])
    assert app.partition("private").disjoint


def test_cpu_layout_rule():
    app = APP.build(MachineShape(1), "small")
    for name in ("stencil", "increment"):
        (rule,) = [r for r in app.task(name).layout_rules if r.variant == "CPU"]
        assert rule.effect == "error" and rule.code == "E-LAYOUT-STRIDE"
        assert "stride does not match expected value" in rule.message
        assert rule.violated_by("C", True, 2) and rule.violated_by("F", False, 2)
        assert not rule.violated_by("F", True, 2)


def test_output_and_throughput():
    app = APP.build(MachineShape(1), "A")
    lines = app.stdout_lines(Timing(elapsed=2.5, init_time=1.25))
    assert lines[0] == "INIT TIME =   1.250 s"
    assert re.fullmatch(r"ELAPSED TIME = +([0-9.]+) s", lines[1])
    assert lines[2] == "check completed successfully"
    assert app.throughput(Timing(2.0)) == pytest.approx(9996 * 9996 * 10 / 2.0)


def test_timer_and_iterations():
    app = APP.build(MachineShape(1), "A")
    s = app.schedule
    assert (s.warmup, s.measured, s.cooldown) == (30, 10, 30)
    assert s.timer.start_task == "stencil" and s.timer.end_task == "increment"
    assert [launch.task for launch in s.iteration.timed] == ["stencil", "increment"]


def test_unknown_preset_and_parameter():
    with pytest.raises(ValueError):
        APP.build(MachineShape(1), "Z")
    with pytest.raises(ValueError):
        APP.build(MachineShape(1), "small", bogus=3)
    app = APP.build(MachineShape(1), "small", tsteps=7)
    assert app.schedule.measured == 7
