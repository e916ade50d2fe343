"""The six DISTAL matmul models against apps.md §4."""

from __future__ import annotations

import re

import pytest

from benchmarks import distal, get_app
from mapper_gym.appmodel import Kernel, MachineShape, Privilege, TimerMode, Timing

from .helpers import launches_of

TWO_D = ("Cannon", "SUMMA", "PUMMA")
THREE_D = ("Johnson", "Solomonik", "COSMA")


@pytest.mark.parametrize("name", TWO_D + THREE_D)
@pytest.mark.parametrize("nodes", [1, 2, 4, 8])
def test_flops(name, nodes):
    model = get_app(name).build(MachineShape(nodes), "A")
    n = model.params["n"]
    assert model.flops_per_iteration() == pytest.approx(2 * n**3)
    assert model.total_flops == n * n * (2 * n - 1)
    leaves = [pt.work for _, pt in model.leaf_points(model.schedule.iteration.timed)
              if pt.work.kernel is Kernel.DGEMM]
    assert all(w.precision == "fp64" and w.gemm is not None for w in leaves)
    assert sum(w.flops for w in leaves) == pytest.approx(2 * n**3)


def test_grid_rules():
    assert [distal.grid_rule(n) for n in (1, 2, 4, 8, 16, 32, 64)] == [1, 1, 2, 2, 4, 4, 8]
    assert get_app("Cannon").parameters(MachineShape(8), "B")["gx"] == 4
    assert get_app("Cannon").parameters(MachineShape(8), "B")["gy"] == 2
    assert get_app("SUMMA").parameters(MachineShape(8), "B")["gx"] == 2
    assert get_app("SUMMA").parameters(MachineShape(8), "B")["gy"] == 4
    for n, expected in ((1, 20000), (2, 28284), (4, 40000), (64, 160000)):
        assert get_app("PUMMA").parameters(MachineShape(n), "B")["n"] == expected
    assert get_app("Cannon").parameters(MachineShape(1), "A")["n"] == 10000


@pytest.mark.parametrize("name", TWO_D)
def test_2d_task_tree(name):
    model = get_app(name).build(MachineShape(4), "small")  # gx = gy = 2
    gx, gy = model.params["gx"], model.params["gy"]
    (t7,) = launches_of(model, "task_7")
    assert t7.domain == (gx, gy)
    for pt in t7.points:
        steps = pt.children
        assert [c.task for c in steps] == ["task_6"] * gx
        for s in steps:
            assert not s.is_index
            (t5,) = s.points[0].children
            assert t5.domain == (2, 2) and t5.same_address_space
            for q in t5.points:
                assert [c.task for c in q.children] == ["task_4", "task_4"]
    for task in ("task_1", "task_2", "task_3"):
        (launch,) = launches_of(model, task)
        assert launch.domain == (2 * gx, 2 * gy)
        assert model.requirements_of(launch)[0].privilege is Privilege.RO
    assert model.task("task_7").variants == ("OMP",) and model.task("task_7").inner
    assert model.task("task_5").variants == ("GPU",) and model.task("task_5").inner
    assert model.task("task_4").requirements[0].privilege is Privilege.RW
    (cublas,) = launches_of(model, "init_cublas")
    assert cublas.domain == (16,)


def _k_blocks(model, i, j):
    """Per outer step, the k range of B that node (i, j)'s task_6 reads."""
    (t7,) = launches_of(model, "task_7")
    node = next(pt for pt in t7.points if pt.point == (i, j))
    out = []
    for step in node.children:
        b_pieces = step.points[0].pieces[1]
        cols = {model.region("B").pieces[x].bounds[1] for x in b_pieces}
        out.append((min(c[0] for c in cols), max(c[1] for c in cols)))
    return out


def test_k_block_schedules():
    n = 192
    m = MachineShape(16)  # 4 x 4 node grid
    k = [(b * n // 4, (b + 1) * n // 4) for b in range(4)]
    cannon = get_app("Cannon").build(m, "small", n=n)
    assert _k_blocks(cannon, 1, 2) == [k[(1 + 2 + s) % 4] for s in range(4)]
    summa = get_app("SUMMA").build(m, "small", n=n)
    assert _k_blocks(summa, 1, 2) == k
    pumma = get_app("PUMMA").build(m, "small", n=n)
    assert _k_blocks(pumma, 3, 0) == [k[(3 + s) % 4] for s in range(4)]
    assert _k_blocks(pumma, 3, 1) == _k_blocks(pumma, 3, 0)  # same for the whole row


def test_cannon_preset_a_leaves():
    model = get_app("Cannon").build(MachineShape(1), "A")
    leaves = [pt.work for _, pt in model.leaf_points(model.schedule.iteration.timed)]
    assert len(leaves) == 8  # 2 per GPU
    assert all(w.gemm == (5000, 5000, 5000) for w in leaves)
    assert all(w.flops == pytest.approx(2.5e11) for w in leaves)


@pytest.mark.parametrize("name,grid", [("Johnson", (2, 2, 2)), ("COSMA", (1, 2, 2))])
def test_3d_launches(name, grid):
    model = get_app(name).build(MachineShape(1), "A")
    gx, gy, gz = grid
    (t4,) = launches_of(model, "task_4")
    assert t4.domain == grid
    assert [r.privilege for r in model.task("task_4").requirements] == [
        Privilege.RED, Privilege.RO, Privilege.RO]
    t1 = launches_of(model, "task_1")
    assert [x.domain for x in t1] == [(gx, gy, 1), (gx, gy, 1)]
    assert [model.requirements_of(x)[0].privilege for x in t1] == [Privilege.WO, Privilege.RO]
    assert launches_of(model, "task_2")[0].domain == (gx, 1, gz)
    assert launches_of(model, "task_3")[0].domain == (1, gy, gz)
    timed = model.schedule.iteration.timed
    assert [x.task for x in timed] == ["task_4", "task_1"]
    assert (model.schedule.warmup, model.schedule.measured) == (1, 10)
    n = model.params["n"]
    for pt in t4.points:
        assert pt.work.gemm == (n // gx, n // gy, n // gz)


def test_3d_tables():
    johnson = get_app("Johnson")
    assert [johnson.parameters(MachineShape(k), "B")["gdim"] for k in (1, 2, 4, 8, 16)] == [
        2, 2, 4, 4, 4]
    rank = MachineShape(nodes=8, gpus_per_node=1, ranks_per_node=4)  # 2 nodes, 4 ranks each
    assert johnson.parameters(rank, "B") == {"n": 28284, "gdim": 2}
    cosma = get_app("COSMA").parameters(MachineShape(4), "B")
    assert (cosma["gx"], cosma["gy"], cosma["gz"]) == (2, 2, 4)
    with pytest.raises(ValueError, match="no processor grid"):
        johnson.build(MachineShape(3), "A")


def test_solomonik_tree_and_skew():
    model = get_app("Solomonik").build(MachineShape(2), "small")  # (r, c, r3) = (2, 2, 2)
    r, c, r3, n = (model.params[k] for k in ("rpoc", "c", "rpoc3", "n"))
    (t5,) = launches_of(model, "task_5")
    assert t5.domain == (r, r, c)
    chunk = n // (c * r3)
    for pt in t5.points:
        i, j, l_ = pt.point
        assert [x.task for x in pt.children] == ["task_4"] * r3
        for s, leaf in enumerate(pt.children):
            q = (i + j + s) % r3
            b_pieces = leaf.points[0].pieces[1]
            cols = sorted(model.region("B").pieces[x].bounds[1] for x in b_pieces)
            assert (cols[0][0], cols[-1][1]) == ((l_ * r3 + q) * chunk, (l_ * r3 + q + 1) * chunk)
    assert model.task("task_5").requirements[0].privilege is Privilege.RED
    assert [x.domain for x in launches_of(model, "task_1")] == [(r, r, 1), (r, r, 1)]


@pytest.mark.parametrize("name", TWO_D + THREE_D)
def test_layout_rule_and_hints(name):
    model = get_app(name).build(MachineShape(1), "small")
    (rule,) = model.task("task_4").layout_rules
    assert rule.code == "E-LAYOUT-BLAS"
    assert rule.message == "DGEMM parameter number 8 had an illegal value"
    assert rule.requirements == (0, 1, 2) and rule.order == "C"
    assert rule.violated_by("F", True, 2) and not rule.violated_by("C", False, 2)
    assert "untrack_valid_regions" in model.task("task_4").hints
    assert model.schedule.timer.mode is TimerMode.FENCE_PER_ITERATION
    assert model.schedule.timer.truncate_ms
    names = {t.name for t in model.tasks}
    assert {"init_cublas", "taco_fill", "taco_validate", "top_level"} <= names
    fills = launches_of(model, "taco_fill")
    assert [model.requirements_of(x)[0].region for x in fills] == ["A", "B", "C"]
    assert model.app_info().task("taco_fill").regions == (("A", "B", "C"),)


def test_output_format_and_throughput():
    model = get_app("Cannon").build(MachineShape(1), "A")
    times = (0.2019, 0.2031) + (0.2,) * 8
    lines = model.stdout_lines(Timing(elapsed=sum(times), iteration_times=times))
    assert lines[:2] == ("Execution time: 201 ms.", "Execution time: 203 ms.")
    assert len(lines) == 11
    m = re.fullmatch(r"On +([0-9]+) nodes achieved GFLOPS per node: +([0-9.]+)\.", lines[-1])
    assert m and m.group(1) == "1"
    mean_ms = (201 + 203 + 200 * 8) / 10
    expected = 10000**2 * 19999 / (mean_ms / 1000) / 1e9
    assert float(m.group(2)) == pytest.approx(expected, abs=1e-6)
    assert model.throughput(Timing(0, iteration_times=times)) == pytest.approx(expected)


def test_ranks_per_node_throughput_is_per_physical_node():
    machine = MachineShape(nodes=8, gpus_per_node=1, ranks_per_node=4)
    model = get_app("COSMA").build(machine, "B")
    times = (1.0,) * 10
    lines = model.stdout_lines(Timing(10.0, iteration_times=times))
    assert lines[-1].startswith("On 8 nodes achieved GFLOPS per node: ")
    n = model.params["n"]
    assert model.throughput(Timing(10.0, iteration_times=times)) == pytest.approx(
        n * n * (2 * n - 1) / 1e9 / 2)
    assert "-ll:csize" in model.legion_flags and "37500" in model.legion_flags
    tiny = model.throughput(Timing(0.0, iteration_times=(0.0004,) * 10))
    assert tiny == pytest.approx(n * n * (2 * n - 1) / 0.0004 / 1e9 / 2)
