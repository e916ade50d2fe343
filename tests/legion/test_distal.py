"""The DISTAL matmuls' CPU build on real Legion (2-D: Cannon, SUMMA, PUMMA; 3-D: Johnson,
COSMA, Solomonik): the C++ mapper applies the resolved plan to every point of their task trees,
the expert run computes A = B·C (validated) and reports the program's throughput, and a
Fortran-order DGEMM operand fails the run with the diagnostic the simulator predicts.

Runs use n = 256 (each well under two seconds here).
"""

from __future__ import annotations

import re

import pytest

from benchmarks import get_app
from mapper_gym.legion import legion_problem
from mapper_gym.legion.output import LoggedInstance, parse_mappings

from .conformance import mismatches
from .conftest import plan_for

TWO_D = ("Cannon", "SUMMA", "PUMMA")
THREE_D = ("Johnson", "COSMA", "Solomonik")
N = 256

#: Placement against the grain: grid points on the other processor than their tiles, C-order
#: AOS instances (one field, so still row-major for the BLAS), exact instances for the leaves,
#: and the two row halves both on the last processor with one in flight, so back-pressure holds
#: the second half of every leaf launch while the first runs (a C block shared by both halves
#: as one region made Legion rendezvous their mappings, which this deadlocked).
CUSTOM_PROGRAM = """
Task * CPU;
Region * * * SYSMEM;
Layout * * * AOS C_order;
Layout task_4 * * SOA C_order Exact;
CollectMemory task_4 1;
CollectMemory task_4 2;
InstanceLimit task_4 1;
InstanceLimit task_5 1;
cpus = Machine(CPU);
def flipped(Task t) {
    k = t.ipoint[0] + t.ipoint[1];
    return cpus[0, (k + 1) % cpus.size[1]];
}
def last(Task t) {
    return cpus[0, cpus.size[1] - 1];
}
IndexTaskMap task_6 flipped;
IndexTaskMap task_4 last;
"""


@pytest.fixture(scope="module")
def distal_problems():
    return {name: legion_problem(name, n=N) for name in TWO_D + THREE_D}


def _simulated(problem, text):
    try:
        from mapper_gym.backends.sim import SimBackend
    except ImportError:
        return None
    return SimBackend(problem, cache=False).run(text)


def test_problems_use_the_cpu_build(distal_problems):
    for problem in distal_problems.values():
        names = {t.name for t in problem.model.tasks}
        assert "task_7" not in names and "init_cublas" not in names
        assert problem.model.task("task_4").variants == ("CPU",)
    for name in TWO_D:
        params = distal_problems[name].model.params
        assert params["gx"] * params["gy"] == 2
    assert distal_problems["Johnson"].model.params["gdim"] == 2
    assert distal_problems["Solomonik"].model.params["rpoc"] == 2


@pytest.mark.parametrize("app", TWO_D + THREE_D)
def test_expert_applies_the_plan_validates_and_reports_throughput(app, distal_problems,
                                                                  make_backend):
    problem = distal_problems[app]
    text = get_app(app).expert_mapper(problem.machine)
    plan = plan_for(problem, text)
    result = make_backend(problem).execute(plan)
    assert result.ok, (result.raw_output(), result.stderr[-3000:])
    assert mismatches(plan, parse_mappings(result.stderr)) == []
    # the program's own lines: ten timed iterations, then the GFLOPS line, and no validation
    # complaint (taco_validate fails the run otherwise)
    times = [int(t) for t in re.findall(r"^Execution time: (\d+) ms\.$", result.stdout, re.M)]
    assert len(times) == 10
    found = re.search(r"^On +([0-9]+) nodes achieved GFLOPS per node: +([0-9.]+)\.$",
                      result.stdout, re.M)
    assert found and found.group(1) == "1"
    assert "differ from" not in result.stdout
    # the backend's throughput is n²(2n-1) over the untruncated mean iteration time
    mean = result.elapsed / 10
    assert result.throughput == pytest.approx(N * N * (2 * N - 1) / mean / 1e9, rel=1e-9)
    assert result.unit == "GFLOP/s per node"
    # every leaf had row-major instances (SOA C order, "YXF"-style ordering)
    leaves = [m for m in parse_mappings(result.stderr) if m.task == "task_4"]
    assert leaves
    for leaf in leaves:
        for req in leaf.requirements:
            assert isinstance(req, LoggedInstance) and req.c_order


def test_custom_placement_is_applied(distal_problems, make_backend):
    problem = distal_problems["Cannon"]
    plan = plan_for(problem, CUSTOM_PROGRAM)
    by_task: dict[str, list] = {}
    for launch, mapping in plan.launches.items():
        by_task.setdefault(launch.task, []).extend(pm.processor.index for pm in mapping.points)
    assert by_task["task_6"] == [1, 0]  # grid (2, 1): point (0, 0) on CPU 1, (1, 0) on CPU 0
    assert set(by_task["task_4"]) == {1}
    result = make_backend(problem).execute(plan)
    assert result.ok, (result.raw_output(), result.stderr[-3000:])
    assert mismatches(plan, parse_mappings(result.stderr)) == []


@pytest.mark.parametrize(("app", "text", "parameter"), [
    ("Cannon", None, 8),  # the default mapper: Fortran order everywhere
    ("SUMMA", "Task * CPU;\nLayout * * * SOA C_order;\nLayout task_4 2 * SOA F_order;\n", 8),
    ("Johnson", None, 8),
    ("Solomonik", "Task * CPU;\nLayout * * * SOA C_order;\nLayout task_4 * * SOA F_order;\n",
     8),
])
def test_fortran_order_fails_the_dgemm(app, text, parameter, distal_problems, make_backend):
    problem = distal_problems[app]
    text = text or get_app(app).default_mapper(problem.machine)
    result = make_backend(problem).run(text)
    assert result.status == "runtime_error"
    assert result.error.code == "E-LAYOUT-BLAS"
    assert result.error.message == "DGEMM parameter number 8 had an illegal value"
    # OpenBLAS's own report, then the program's failure line
    assert re.search(rf"On entry to DGEMM +parameter number +{parameter} had an illegal value",
                     result.stdout)
    assert f"DGEMM parameter number {parameter} had an illegal value" in result.stderr
    assert "achieved GFLOPS" not in result.stdout
    simulated = _simulated(problem, text)
    if simulated is not None:
        assert (simulated.status, simulated.error.code, simulated.error.message) == (
            result.status, result.error.code, result.error.message)


@pytest.mark.parametrize(("app", "requirement", "parameter"), [
    ("PUMMA", 1, 10),  # B, the first operand: OpenBLAS reports lda as parameter 10
    ("COSMA", 0, 13),  # A's reduction instance alone: OpenBLAS reports ldc
])
def test_other_operands_in_fortran_order_fail_with_openblas_numbering(
        app, requirement, parameter, distal_problems, make_backend):
    """OpenBLAS numbers the bad leading dimension by the operand; the run fails, and the
    program says what OpenBLAS said. (The simulator reports every DGEMM layout violation as
    parameter 8, the paper's message.)"""
    problem = distal_problems[app]
    text = ("Task * CPU;\nLayout * * * SOA C_order;\n"
            f"Layout task_4 {requirement} * SOA F_order;\n")
    result = make_backend(problem).run(text)
    assert result.status == "runtime_error"
    assert re.search(rf"On entry to DGEMM +parameter number +{parameter} had an illegal value",
                     result.stdout)
    assert f"DGEMM parameter number {parameter} had an illegal value" in result.stderr
