"""Conformance on real Legion: the processors, memories and layouts the C++ mapper applies to
every point are what the Python resolver decides for the same program and machine.

Each program runs the real application once (about a second each on local-cpu).
"""

from __future__ import annotations

import pytest

from benchmarks import get_app
from mapper_gym.legion.output import parse_mappings

from .conformance import mismatches
from .conftest import plan_for

STENCIL_PROGRAM = """
Task * CPU;
Region * * CPU SYSMEM;
Layout * * * SOA F_order;
Layout stencil 2 * SOA F_order Align==64;
CollectMemory stencil *;
cpus = Machine(CPU);
def reversed_cpus(Task t) {
    return cpus[0, cpus.size[1] - 1 - t.ipoint[0] % cpus.size[1]];
}
def anywhere(Task t) {
    return cpus[0, *];
}
def last_cpu(Task t) {
    return cpus[0, cpus.size[1] - 1];
}
IndexTaskMap stencil reversed_cpus;
IndexTaskMap increment anywhere;
SingleTaskMap read_config last_cpu;
"""

CIRCUIT_PROGRAM = """
Task * CPU;
Region * * * SYSMEM;
Layout * * * AOS;
Layout update_voltages * * SOA C_order Align>=32;
Layout init_piece * * SOA Compact Exact;
CollectMemory calculate_new_currents *;
cpus = Machine(CPU);
def swapped(Task t) {
    return cpus[0, (t.ipoint[0] + 1) % cpus.size[1]];
}
IndexTaskMap calculate_new_currents,distribute_charge swapped;
"""


def _programs(app: str) -> list[tuple[str, str]]:
    entry = get_app(app)
    custom = STENCIL_PROGRAM if app == "Stencil" else CIRCUIT_PROGRAM
    return [("expert", entry.expert_mapper()), ("default", entry.default_mapper()),
            ("custom", custom)]


CASES = [(app, name) for app in ("Stencil", "Circuit") for name in ("expert", "default", "custom")]


@pytest.mark.parametrize(("app", "which"), CASES)
def test_mapper_applies_the_resolved_plan(app, which, problems, make_backend):
    problem = problems[app]
    text = dict(_programs(app))[which]
    plan = plan_for(problem, text)
    result = make_backend(problem).execute(plan)
    assert result.ok, (result.raw_output(), result.stderr[-3000:])
    logged = parse_mappings(result.stderr)
    assert logged, "the mapper logged no decisions"
    assert mismatches(plan, logged) == []
    # the run printed the application's own output
    assert "ELAPSED TIME =" in result.stdout
    assert result.elapsed is not None and result.elapsed > 0
    assert result.throughput > 0 and result.unit == problem.unit


def test_custom_programs_really_move_points(problems, make_backend):
    """The custom placements differ from the default ones, so the test above compares
    non-trivial decisions (reversed processors, a point-set target, a moved single task)."""
    problem = problems["Stencil"]
    plan = plan_for(problem, STENCIL_PROGRAM)
    by_task = {launch.task: mapping for launch, mapping in plan.launches.items()}
    assert [pm.processor.index for pm in by_task["stencil"].points] == [1, 0]
    assert all(len(pm.targets) == 2 for pm in by_task["increment"].points)
    assert by_task["read_config"].points[0].processor.index == 1
    assert any(c.collect for pm in by_task["stencil"].points for c in pm.instances)


@pytest.mark.parametrize(("app", "overrides"), [("Stencil", {"ntx": 4}), ("Circuit", {"p": 8})])
def test_default_slicing_of_more_points_than_processors(app, overrides, make_backend):
    """Four points on two CPUs: the real DefaultMapper's blocked decomposition (points 0-1 on
    the first CPU, 2-3 on the second) is what the Python model of it predicts."""
    from mapper_gym.legion import legion_problem

    problem = legion_problem(app, **overrides)
    plan = plan_for(problem, get_app(app).default_mapper())
    loop_task = "stencil" if app == "Stencil" else "calculate_new_currents"
    mapping = next(m for launch, m in plan.launches.items() if launch.task == loop_task)
    assert [pm.processor.index for pm in mapping.points] == [0, 0, 1, 1]
    result = make_backend(problem).execute(plan)
    assert result.ok, (result.raw_output(), result.stderr[-3000:])
    assert mismatches(plan, parse_mappings(result.stderr)) == []


def test_replicated_plans_keep_their_placement(problems, make_backend):
    """ControlReplicate is not performed for real (one shard), but the sharded placement the
    resolver computes is what Legion runs, and the result says so in a warning."""
    problem = problems["Stencil"]
    plan = plan_for(problem, "Task * CPU;\nControlReplicate main;\n")
    assert plan.replicated == frozenset({"main"})
    result = make_backend(problem).execute(plan)
    assert result.ok, result.raw_output()
    assert mismatches(plan, parse_mappings(result.stderr)) == []
    assert [w.code for w in result.warnings] == ["W-LEGION-NO-REPLICATION"]
