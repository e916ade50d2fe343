"""The CPU build of the 2-D DISTAL matmuls (apps.md §4.2 "CPU build") on machines without GPUs,
and the build-aware choice of their expert mapper."""

from __future__ import annotations

import pytest

from benchmarks import distal, get_app
from mapper_gym.appmodel import Kernel, MachineShape, Privilege, Timing

from .helpers import launches_of

TWO_D = ("Cannon", "SUMMA", "PUMMA")
CPU2 = MachineShape(nodes=1, gpus_per_node=0, cpus_per_node=2)


def test_build_kind():
    assert distal.cpu_build_kind(MachineShape(1)) is None
    assert distal.cpu_build_kind(CPU2) == "CPU"
    assert distal.cpu_build_kind(MachineShape(1, gpus_per_node=0, omps_per_node=2)) == "OMP"
    assert distal.cpu_processors(MachineShape(2, gpus_per_node=0, cpus_per_node=3)) == 6
    assert distal.cpu_processors(MachineShape(2, gpus_per_node=0, cpus_per_node=8,
                                              omps_per_node=2)) == 4


@pytest.mark.parametrize(("name", "grid"), [("Cannon", (2, 1)), ("SUMMA", (1, 2)),
                                            ("PUMMA", (1, 2))])
def test_grid_covers_the_processors(name, grid):
    p = get_app(name).parameters(CPU2, "small")
    assert (p["gx"], p["gy"]) == grid
    assert p["n"] == distal.CPU_SMALL_N
    p8 = get_app(name).parameters(MachineShape(1, gpus_per_node=0, cpus_per_node=8), "small")
    assert p8["gx"] * p8["gy"] == 8
    # the GPU build's small preset is untouched
    assert get_app(name).parameters(MachineShape(4), "small")["n"] == 96


@pytest.mark.parametrize("name", TWO_D)
@pytest.mark.parametrize("cpus", [2, 4, 6])
def test_task_tree(name, cpus):
    model = get_app(name).build(MachineShape(1, gpus_per_node=0, cpus_per_node=cpus), "small",
                                n=240)
    gx, gy = model.params["gx"], model.params["gy"]
    names = {t.name for t in model.tasks}
    assert "task_7" not in names and "init_cublas" not in names
    for task in ("task_1", "task_2", "task_3", "task_4", "task_5", "task_6"):
        assert model.task(task).variants == ("CPU",)
    assert model.task("task_6").inner and model.task("task_5").inner
    assert not model.task("task_4").inner
    assert model.task("taco_fill").variants == ("CPU", "OMP")
    assert [launch.task for launch in model.schedule.setup] == []
    (t6,) = launches_of(model, "task_6")
    assert t6.domain == (gx, gy)
    for pt in t6.points:
        assert [c.task for c in pt.children] == ["task_5"] * gx
        for step in pt.children:
            assert not step.is_index
            (leaves,) = step.points[0].children
            assert leaves.task == "task_4" and leaves.domain == (2,)
            assert all(q.work.kernel is Kernel.DGEMM for q in leaves.points)
    for task in ("task_1", "task_2", "task_3"):
        (launch,) = launches_of(model, task)
        assert launch.domain == (gx, gy)
        assert model.requirements_of(launch)[0].privilege is Privilege.RO
    (validate,) = launches_of(model, "taco_validate")
    assert validate.domain == (gx, gy)


@pytest.mark.parametrize("name", TWO_D)
def test_flops(name):
    model = get_app(name).build(CPU2, "small", n=250)
    n = 250
    leaves = [pt.work for _, pt in model.leaf_points(model.schedule.iteration.timed)]
    assert sum(w.flops for w in leaves) == pytest.approx(2 * n**3)
    assert model.total_flops == n * n * (2 * n - 1)
    # each leaf multiplies a row half of a grid block by a whole k block
    gx, gy = model.params["gx"], model.params["gy"]
    assert len(leaves) == gx * gy * gx * 2


def test_k_blocks_per_algorithm():
    machine = MachineShape(1, gpus_per_node=0, cpus_per_node=4)  # gx = gy = 2

    def k_starts(name):
        model = get_app(name).build(machine, "small", n=64)
        (t6,) = launches_of(model, "task_6")
        region = model.region("B")
        out = {}
        for pt in t6.points:
            for s, step in enumerate(pt.children):
                b_pieces = step.points[0].pieces[1]
                cols = {region.pieces[p].bounds[1][0] for p in b_pieces}
                out[pt.point, s] = min(cols)
        return out

    cannon, summa, pumma = k_starts("Cannon"), k_starts("SUMMA"), k_starts("PUMMA")
    # block kb starts at 32 * kb
    for (i, j), in [((0, 0),), ((1, 0),), ((0, 1),), ((1, 1),)]:
        for s in range(2):
            assert cannon[(i, j), s] == 32 * ((i + j + s) % 2)
            assert summa[(i, j), s] == 32 * s
            assert pumma[(i, j), s] == 32 * ((i + s) % 2)


@pytest.mark.parametrize("name", TWO_D)
def test_layout_rule_is_the_blas_one(name):
    model = get_app(name).build(CPU2, "small")
    (rule,) = model.task("task_4").layout_rules
    assert rule.variant == "CPU" and rule.order == "C" and rule.requirements == (0, 1, 2)
    assert rule.code == "E-LAYOUT-BLAS"
    assert rule.message == "DGEMM parameter number 8 had an illegal value"
    assert rule.violated_by("F", True, 2) and not rule.violated_by("C", False, 2)


def test_throughput_from_a_total_elapsed_time():
    """A real run reports the sum of the timed iterations only; the mean is taken from it."""
    model = get_app("Cannon").build(CPU2, "small", n=1000)
    flops = 1000 * 1000 * 1999
    assert model.throughput(Timing(elapsed=0.5)) == pytest.approx(flops / 0.05 / 1e9)
    times = tuple([0.0505] * 10)
    assert model.throughput(Timing(elapsed=sum(times), iteration_times=times)) == (
        pytest.approx(flops / 0.050 / 1e9))  # the program's truncated milliseconds


def test_expert_mapper_is_chosen_by_build():
    app = get_app("Cannon")
    assert app.expert_mapper() == app.expert_mapper(MachineShape(1))
    cpu = app.expert_mapper(CPU2)
    assert cpu != app.expert_mapper() and "Machine(GPU)" not in cpu
    assert "taco_validate,task_6 block_cpu;" in cpu and "task_7 " not in cpu
    # applications with one build keep one expert
    assert get_app("Stencil").expert_mapper(CPU2) == get_app("Stencil").expert_mapper()
    assert app.default_mapper(CPU2) == app.default_mapper()


@pytest.mark.parametrize("name", TWO_D)
def test_cpu_experts_resolve_and_defaults_fail_on_layout(name):
    from mapper_gym.backends import build_problem
    from mapper_gym.backends.sim import SimBackend

    problem = build_problem(name, "local-cpu", n=256)
    backend = SimBackend(problem, cache=False)
    expert = backend.run(get_app(name).expert_mapper(problem.machine))
    assert expert.ok, expert.raw_output()
    assert expert.throughput > 0
    default = backend.run(get_app(name).default_mapper(problem.machine))
    assert default.status == "runtime_error" and default.error.code == "E-LAYOUT-BLAS"


# -- 3-D algorithms -------------------------------------------------------------------------

THREE_D = ("Johnson", "COSMA", "Solomonik")


def test_3d_grids_by_processor_count():
    assert get_app("Johnson").parameters(CPU2, "small")["gdim"] == 2  # below the table: 4's
    p = get_app("COSMA").parameters(CPU2, "small")
    assert (p["gx"], p["gy"], p["gz"]) == (2, 1, 1)
    p = get_app("COSMA").parameters(MachineShape(1, gpus_per_node=0, cpus_per_node=8), "small")
    assert (p["gx"], p["gy"], p["gz"]) == (2, 2, 2)
    p = get_app("Solomonik").parameters(CPU2, "small")
    assert (p["rpoc"], p["c"], p["rpoc3"]) == (2, 1, 2)
    p = get_app("Solomonik").parameters(MachineShape(1, gpus_per_node=0, cpus_per_node=8),
                                        "small")
    assert (p["rpoc"], p["c"], p["rpoc3"]) == (2, 2, 2)
    assert p["n"] == distal.CPU_SMALL_N
    with pytest.raises(ValueError, match="no processor grid"):
        get_app("Johnson").parameters(MachineShape(1, gpus_per_node=0, cpus_per_node=5))


@pytest.mark.parametrize("name", ("Johnson", "COSMA"))
def test_3d_extra_inner_level(name):
    model = get_app(name).build(MachineShape(1, gpus_per_node=0, cpus_per_node=8), "small",
                                n=96)
    assert model.task("task_5").inner and model.task("task_5").variants == ("CPU",)
    assert "init_cublas" not in {t.name for t in model.tasks}
    (t5,) = launches_of(model, "task_5")
    grid = t5.domain
    assert len(t5.points) == grid[0] * grid[1] * grid[2]
    assert model.requirements_of(t5)[0].privilege is Privilege.RED
    for pt in t5.points:
        (leaves,) = pt.children
        assert leaves.task == "task_4" and leaves.domain == (2,)
        assert model.requirements_of(leaves)[0].privilege is Privilege.RED
    # the timed window also folds the partial sums: task_1 relaunched read-only
    timed = model.schedule.iteration.timed
    assert [launch.task for launch in timed] == ["task_5", "task_1"]
    assert model.requirements_of(timed[1])[0].privilege is Privilege.RO
    assert model.schedule.warmup == 1 and model.schedule.measured == 10


def test_solomonik_cpu_structure():
    model = get_app("Solomonik").build(CPU2, "small", n=96)
    r, c, r3 = model.params["rpoc"], model.params["c"], model.params["rpoc3"]
    (t5,) = launches_of(model, "task_5")
    assert t5.domain == (r, r, c)
    assert model.task("task_5").variants == ("CPU",)
    for pt in t5.points:
        assert [ch.task for ch in pt.children] == ["task_4"] * r3
        assert all(not ch.is_index for ch in pt.children)


@pytest.mark.parametrize("name", THREE_D)
def test_3d_flops_and_layout_rule(name):
    n = 96
    model = get_app(name).build(CPU2, "small", n=n)
    leaves = [pt.work for _, pt in model.leaf_points(model.schedule.iteration.timed)
              if pt.work is not None and pt.work.kernel is Kernel.DGEMM]
    assert sum(w.flops for w in leaves) == pytest.approx(2 * n**3)
    assert model.total_flops == n * n * (2 * n - 1)
    (rule,) = model.task("task_4").layout_rules
    assert rule.variant == "CPU" and rule.code == "E-LAYOUT-BLAS"


@pytest.mark.parametrize("name", THREE_D)
def test_3d_cpu_experts_resolve_and_defaults_fail_on_layout(name):
    from mapper_gym.backends import build_problem
    from mapper_gym.backends.sim import SimBackend

    problem = build_problem(name, "local-cpu", n=256)
    backend = SimBackend(problem, cache=False)
    expert = backend.run(get_app(name).expert_mapper(problem.machine))
    assert expert.ok, expert.raw_output()
    default = backend.run(get_app(name).default_mapper(problem.machine))
    assert default.status == "runtime_error" and default.error.code == "E-LAYOUT-BLAS"
