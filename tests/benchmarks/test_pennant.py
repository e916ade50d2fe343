"""The Pennant model against apps.md §3."""

from __future__ import annotations

import re

import pytest

from benchmarks import get_app
from mapper_gym.appmodel import MachineShape, Pattern, Privilege, Timing

from .helpers import check_model, launches_of

APP = get_app("Pennant")


@pytest.mark.parametrize("nodes", [1, 2, 4])
@pytest.mark.parametrize("preset", ["small", "A", "B"])
def test_builds_consistently(preset, nodes):
    app = APP.build(MachineShape(nodes), preset)
    check_model(app)
    assert app.params["npieces"] == 4 * nodes
    timed = app.schedule.iteration.timed
    assert sum(1 for x in timed if x.is_index) == 27
    assert [x.task for x in timed if not x.is_index] == ["calc_global_dt",
                                                         "continue_simulation"]
    assert all(x.domain == (4 * nodes,) for x in timed if x.is_index)


def test_preset_geometry():
    app = APP.build(MachineShape(1), "A")
    zones = app.region("rz_all")
    assert zones.elements == 2160 * 2160
    assert all(p.elements == 2160 * 540 for p in zones.pieces)
    assert app.region("rs_all").elements == 4 * 2160 * 2160
    points = app.region("rp_all")
    assert points.elements == 2161 * 2161
    ghost = app.partition("rp_all_ghost_p")
    shared = app.partition("rp_all_shared_p")
    assert not ghost.disjoint and shared.disjoint
    assert [len(g) for g in ghost.subregions] == [1, 2, 2, 1]
    for k in range(4):
        assert set(shared.subregion(k)) <= set(ghost.subregion(k))
        rows = [points.pieces[x].elements for x in ghost.subregion(k)]
        assert all(r == 2161 for r in rows)
    b = APP.parameters(MachineShape(2), "B")
    assert b["nzx"] * b["nzy"] == 2 * 320 * 92160
    assert APP.parameters(MachineShape(4), "A")["nzy"] == 2160  # strong scaling


def test_traffic_per_zone_matches_spec():
    app = APP.build(MachineShape(1), "A")
    zones = app.params["nzx"] * app.params["nzy"]
    low = high = 0.0
    for _, pt in app.leaf_points(app.schedule.iteration.timed):
        for acc in pt.work.accesses:
            for a in acc:
                low += a.bytes
                high += a.bytes if a.pattern is Pattern.STREAM else a.count * a.grain
    assert low / zones == pytest.approx(4700, rel=0.05)
    assert high / zones == pytest.approx(6400, rel=0.1)
    assert 500 < app.flops_per_iteration() / zones < 2000  # order 10^3 flops per zone


def test_double_launches_use_shared_names():
    app = APP.build(MachineShape(1), "small")
    launches = launches_of(app, "adv_pos_half", app.schedule.iteration.timed)
    assert len(launches) == 2
    assert app.names_of(launches[0])[0][0] == "rp_all_private_p"
    assert app.names_of(launches[1])[0][0] == "rp_all_shared_p"
    regions = app.app_info().task("adv_pos_half").regions
    assert "rp_all_shared_p" in regions[0] and "rp_all_private_p" in regions[0]


def test_reductions_and_futures():
    app = APP.build(MachineShape(1), "small")
    spm = app.task("sum_point_mass")
    privs = {(r.partition, r.privilege) for r in spm.requirements if r.fields == ("pmaswt",)}
    assert privs == {("rp_all_private_p", Privilege.RW), ("rp_all_ghost_p", Privilege.RED)}
    timed = app.schedule.iteration.timed
    (dt,) = [x for x in timed if x.task == "calc_dt_hydro"]
    assert dt.future == "dt_hydro" and dt.future_redop == "min"
    (gdt,) = [x for x in timed if x.task == "calc_global_dt"]
    assert gdt.uses_futures == ("dt_hydro",) and gdt.future == "dt"
    assert timed.index(gdt) < timed.index(dt)  # uses the previous cycle's minimum
    (cont,) = [x for x in timed if x.task == "continue_simulation"]
    assert cont.blocks_parent
    assert app.task("calc_global_dt").variants == ("CPU",)


def test_output_and_throughput():
    app = APP.build(MachineShape(1), "A")
    t = Timing(elapsed=3.25, init_time=1.5, init_started_at=0.1, run_started_at=1.6)
    lines = app.stdout_lines(t)
    assert lines[1] == "Initializing (t=0.1)..."
    assert lines[2] == "Starting simulation (t=1.6)..."
    assert re.fullmatch(r"ELAPSED TIME = +([0-9.]+) s", lines[4])
    assert lines[5] == "Elapsed time = 3.250000e+00 (total)"
    assert app.throughput(Timing(2.0)) == pytest.approx(2160 * 2160 * 30 / 2.0)
    s = app.schedule
    assert (s.warmup, s.measured, s.cooldown) == (30, 30, 30)
