"""Lowering a MappingPlan to the C++ mapper's plan file (no Legion needed)."""

from __future__ import annotations

import pytest

from benchmarks import get_app
from mapper_gym.legion import legion_problem
from mapper_gym.legion.lower import launch_groups, lower_plan

from .conftest import plan_for


@pytest.fixture(scope="module")
def stencil():
    return legion_problem("Stencil")


def _records(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


def test_header_tasks_and_end(stencil):
    plan = plan_for(stencil, get_app("Stencil").expert_mapper())
    text = lower_plan(plan)
    records = _records(text)
    assert records[0] == ["mapper-gym-plan", "1"]
    assert records[-1] == ["end"] and text.endswith("end\n")
    tasks = {r[1]: r[2:] for r in records if r[0] == "task"}
    assert set(tasks) == set(plan.task_kinds)
    assert all(kind == ["CPU", "0"] for kind in tasks.values())


def test_index_launch_placed_by_the_program_lists_every_point(stencil):
    program = """
    Task * CPU;
    cpus = Machine(CPU);
    def last_first(Task t) { return cpus[0, cpus.size[1] - 1 - t.ipoint[0]]; }
    IndexTaskMap stencil last_first;
    """
    text = lower_plan(plan_for(stencil, program))
    lines = text.splitlines()
    start = lines.index("launch stencil 0 index dsl 1 2")
    assert lines[start + 1] == "point 0 0:1"
    assert lines[start + 1 + 8] == "point 1 0:0"  # 7 requirement lines per point
    # increment is left to the DefaultMapper: no processor in the file
    inc = lines.index("launch increment 0 index default 1 2")
    assert lines[inc + 1] == "point 0 -"


def test_requirements_memory_layout_and_collect(stencil):
    program = """
    Task * CPU;
    Region stencil * CPU SYSMEM;
    Layout stencil 2 SYSMEM AOS C_order Align==64 Exact;
    CollectMemory stencil *;
    """
    lines = lower_plan(plan_for(stencil, program)).splitlines()
    start = lines.index("launch stencil 0 index default 1 2")
    reqs = [line.split() for line in lines[start + 2:start + 9]]
    assert [r[:2] for r in reqs] == [["req", str(i)] for i in range(7)]
    assert reqs[0][2:] == ["SYSMEM", "SOA", "F", "-", "0", "0", "0", "0"]  # RW: never collected
    assert reqs[1][2] == "NONE"  # interior: bounds only
    assert reqs[2][2:] == ["SYSMEM", "AOS", "C", "==", "64", "0", "1", "1"]  # RO strip
    # increment has no Region statement: the DefaultMapper chooses its memory
    inc = lines.index("launch increment 0 index default 1 2")
    assert lines[inc + 2].split()[2] == "DEFAULT"


def test_single_launches_and_top_task_name_their_processor(stencil):
    program = """
    Task * CPU;
    cpus = Machine(CPU);
    def second(Task t) { return cpus[0, 1]; }
    SingleTaskMap read_config second;
    """
    lines = lower_plan(plan_for(stencil, program)).splitlines()
    top = lines.index("launch main 0 single")
    assert lines[top + 1] == "point - 0:0"
    single = lines.index("launch read_config 0 single")
    assert lines[single + 1] == "point - 0:1"


def test_groups_number_launches_of_one_task_in_plan_order():
    from mapper_gym.backends import build_problem

    problem = build_problem("Cannon", "p100-node", problem="small")
    plan = plan_for(problem, get_app("Cannon").default_mapper())
    groups = launch_groups(plan)
    per_task: dict[str, list[int]] = {}
    for launch in plan.launches:
        per_task.setdefault(launch.task, []).append(groups[launch])
    assert all(numbers == list(range(len(numbers))) for numbers in per_task.values())
    assert any(len(numbers) > 1 for numbers in per_task.values())


def test_names_with_spaces_are_refused(stencil):
    from mapper_gym.legion.lower import _name

    with pytest.raises(ValueError):
        _name("two words")
