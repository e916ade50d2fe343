"""Pennant on real Legion (native/apps/pennant.cc): the mapper applies exactly the resolver's
decisions to every point of the 27 index launches and 2 single tasks per cycle, the program's
output becomes a RunResult with the model's throughput, and a run that cannot fit its instances
is a failed observation carrying the runtime's report.

Each run takes about a second on local-cpu (problem ``small``: 8 × 12 zones in two strips).
"""

from __future__ import annotations

import math
import re

import pytest

from benchmarks import get_app
from mapper_gym.legion import legion_problem
from mapper_gym.legion.output import parse_mappings
from mapper_gym.machine import load_machine

from .conformance import mismatches
from .conftest import plan_for

#: Moves points and single tasks away from the default placement and varies layouts per task,
#: so that conformance compares non-trivial decisions on the reductions, the aliased ghost
#: points and the empty shared piece of the last strip.
CUSTOM_PROGRAM = """
Task * CPU;
Region * * * SYSMEM;
Layout * * * SOA C_order;
Layout sum_point_force * * AOS;
Layout sum_point_mass * * AOS;
Layout calc_volumes rp_all_ghost_p * SOA Align==64;
CollectMemory qcs_qcn_force *;
cpus = Machine(CPU);
def flipped(Task t) {
    return cpus[0, (t.ipoint[0] + 1) % cpus.size[1]];
}
def last_cpu(Task t) {
    return cpus[0, cpus.size[1] - 1];
}
IndexTaskMap calc_centers,sum_point_mass,sum_point_force,adv_pos_full,calc_dt_hydro flipped;
SingleTaskMap calc_global_dt,continue_simulation last_cpu;
"""


@pytest.fixture(scope="module")
def pennant():
    return legion_problem("Pennant")


def _program(which: str) -> str:
    entry = get_app("Pennant")
    return {"expert": entry.expert_mapper(), "default": entry.default_mapper(),
            "custom": CUSTOM_PROGRAM}[which]


@pytest.mark.parametrize("which", ["expert", "default", "custom"])
def test_mapper_applies_the_resolved_plan(which, pennant, make_backend):
    plan = plan_for(pennant, _program(which))
    result = make_backend(pennant).execute(plan)
    assert result.ok, (result.raw_output(), result.stderr[-3000:])
    logged = parse_mappings(result.stderr)
    assert {entry.task for entry in logged} >= {"calc_dt_hydro", "sum_point_force",
                                                 "calc_global_dt", "continue_simulation"}
    assert mismatches(plan, logged) == []


def test_custom_program_really_moves_points(pennant):
    plan = plan_for(pennant, CUSTOM_PROGRAM)
    by_task = {launch.task: mapping for launch, mapping in plan.launches.items()}
    assert [pm.processor.index for pm in by_task["sum_point_force"].points] == [1, 0]
    assert by_task["calc_global_dt"].points[0].processor.index == 1
    reqs = pennant.model.requirements_of(
        next(launch for launch in plan.launches if launch.task == "sum_point_force"))
    ghost = next(i for i, r in enumerate(reqs) if r.partition == "rp_all_ghost_p")
    assert by_task["sum_point_force"].points[0].instances[ghost].layout.aos


_STDOUT = (
    r"Running test \(t=0\.0\)\.\.\.",
    r"Initializing \(t=\d+\.\d\)\.\.\.",
    r"Starting simulation \(t=\d+\.\d\)\.\.\.",
    r"INIT TIME = +\d+\.\d{3} s",
    r"ELAPSED TIME = +\d+\.\d{3} s",
    r"Elapsed time = \d\.\d{6}e[+-]\d\d \(total\)",
    r"Warning: Skipping sequential validation",
)


def test_expert_run_is_a_result_with_the_models_throughput(pennant, make_backend):
    result = make_backend(pennant).run(get_app("Pennant").expert_mapper())
    assert result.ok, (result.raw_output(), result.stderr[-3000:])
    # the original's lines, in the order the model (and so the simulator) prints them
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(_STDOUT)
    for line, pattern in zip(lines, _STDOUT, strict=True):
        assert re.fullmatch(pattern, line), line
    p = pennant.model.params
    assert result.elapsed > 0 and result.unit == "zone-cycles/s"
    assert result.throughput == pytest.approx(p["nzx"] * p["nzy"] * p["cstop"] / result.elapsed)
    printed = float(re.search(r"Elapsed time = (\S+)", result.stdout)[1])
    assert printed == pytest.approx(result.elapsed, rel=1e-5)
    # every cycle ran: (cstop + 2·prune) cycles of calc_dt_hydro on both pieces
    cycles = p["cstop"] + 2 * p["prune"]
    runs = [line for line in result.stderr.splitlines()
            if line.startswith("MAPGYM ran task=calc_dt_hydro ")]
    assert len(runs) == cycles * p["npieces"]
    assert sum(result.stats.processor_busy.values()) > 0
    assert "calc_force_pgas_tts" in result.stats.task_time


def test_a_mesh_that_does_not_fit_is_out_of_memory_like_the_simulator(make_backend):
    """A 256 × 512 mesh (about 180 MB of fields) in 32 MiB of system memory: the DefaultMapper's
    own allocation report, as a failed observation with the log; the simulator predicts an
    allocation failure too. (Which set-up task fails first varies between real runs: several
    independent set-up tasks map concurrently.)"""
    small_memory = load_machine("local-cpu").with_legion_settings(csize=32)
    problem = legion_problem("Pennant", small_memory, nzx=256, nzy=512)
    text = get_app("Pennant").expert_mapper()
    result = make_backend(problem).run(text)
    assert result.status == "runtime_error" and result.error.code == "E-OOM"
    found = re.match(r"Default mapper failed allocation of size \d+ bytes for region "
                     r"requirement \d+ of task (\w+)", result.error.message)
    assert found, result.error.message
    setup = {launch.task for launch in problem.model.schedule.setup}
    assert found[1] in setup
    assert "Default mapper failed allocation" in result.stderr
    assert result.throughput == 0.0 and result.raw_output().startswith("Execution Error:")
    try:
        from mapper_gym.backends.sim import SimBackend
    except ImportError:
        return
    simulated = SimBackend(problem, cache=False).run(text)
    assert (simulated.status, simulated.error.code) == ("runtime_error", "E-OOM")


def test_an_alignment_that_pads_instances_out_of_memory_fails_the_run(make_backend):
    """A mapping-induced failure: in 4 MiB of system memory the expert runs, but aligning each
    of calc_dt_hydro's five fields to 1 MiB pads its instance to 4 MiB + 384 B, which cannot
    be allocated. (The simulator does not model alignment padding and predicts a success.)"""
    small_memory = load_machine("local-cpu").with_legion_settings(csize=4)
    problem = legion_problem("Pennant", small_memory)
    backend = make_backend(problem)
    expert = get_app("Pennant").expert_mapper()
    assert backend.run(expert).ok
    padded = expert + "\nLayout calc_dt_hydro * * SOA C_order Align==1048576;\n"
    result = backend.run(padded)
    assert result.status == "runtime_error" and result.error.code == "E-OOM"
    assert result.error.message.startswith(
        "Default mapper failed allocation of size 4194688 bytes for region requirement 0 of "
        "task calc_dt_hydro")
    assert "I am invoked!" in result.stderr and "Starting simulation" in result.stdout


def test_more_strips_than_processors(make_backend):
    """Four strips of uneven height (18 zone rows: 4, 5, 4, 5) on two CPUs: the middle pieces
    touch two boundary rows each, the DefaultMapper slices two points per CPU as the Python
    model of it predicts, and the run completes every cycle."""
    problem = legion_problem("Pennant", nzy=18, npieces=4, numpcy=4)
    plan = plan_for(problem, get_app("Pennant").default_mapper())
    mapping = next(m for launch, m in plan.launches.items() if launch.task == "calc_centers")
    assert [pm.processor.index for pm in mapping.points] == [0, 0, 1, 1]
    result = make_backend(problem).execute(plan)
    assert result.ok, (result.raw_output(), result.stderr[-3000:])
    assert mismatches(plan, parse_mappings(result.stderr)) == []
    p = problem.model.params
    runs = [line for line in result.stderr.splitlines()
            if line.startswith("MAPGYM ran task=sum_point_force ")]
    assert len(runs) == (p["cstop"] + 2 * p["prune"]) * 4


def test_the_sedov_blast_stays_spherical_across_the_strips(make_backend):
    """The physics is real: a blast deposited at the origin of the r-z plane spreads as a sphere,
    so after 71 cycles on a 16 × 16 mesh its front (sound speed above the background ssmin 0.1)
    lies at the same radius along r, along z and along the diagonal, and has crossed into the
    upper strip (rows 8-15), which only sees it through ghost points and reductions.
    ``-dump_cycle`` prints every zone's sound speed from calc_dt_hydro; ``-ll:util 1`` keeps this
    long run clear of the Legion crash of long runs under ``-ll:util 0`` (README)."""
    n, cycle = 16, 71
    problem = legion_problem("Pennant", nzx=n, nzy=n, cstop=cycle - 1)
    backend = make_backend(problem, extra_flags=("-dump_cycle", str(cycle), "-ll:util", "1"))
    result = backend.run(get_app("Pennant").expert_mapper())
    assert result.ok, (result.raw_output(), result.stderr[-3000:])
    ss = {int(m[1]): float(m[2]) for m in re.finditer(
        rf"^MAPGYM zone cycle={cycle} id=(\d+) ss=(\S+)$", result.stderr, re.M)}
    assert sorted(ss) == list(range(n * n))
    grid = [[ss[j * n + i] for i in range(n)] for j in range(n)]  # grid[row z][column r]

    def front(values: list[float]) -> int:
        return max(k for k, v in enumerate(values) if v > 0.2)

    along_r = front(grid[0])
    along_z = front([grid[j][0] for j in range(n)])
    diagonal = (front([grid[k][k] for k in range(n)]) + 0.5) * math.sqrt(2) - 0.5
    assert abs(along_r - along_z) <= 1 and abs(diagonal - along_r) <= 1.5
    assert n // 2 < along_z < n - 2  # in the upper strip, not yet at the wall
    assert grid[n - 1][n - 1] == pytest.approx(0.1)  # the far corner is still at rest
    assert max(max(row) for row in grid) == grid[0][0]  # hottest at the origin
