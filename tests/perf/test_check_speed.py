"""Speed of the check phase and of policy construction (targets: median under 2 ms for the
realistic ~100-line program of ``test_parse_speed``, under 20 ms for a 300-statement program).

Run with ``python -m pytest tests/perf/test_check_speed.py --benchmark-enable``; in the normal
suite (``--benchmark-disable``) each benchmarked function runs once, as a smoke test.
"""

from __future__ import annotations

from mapper_gym.dsl.checker import check
from mapper_gym.dsl.context import AppInfo, SimpleTopology, TaskInfo
from mapper_gym.dsl.parser import parse
from mapper_gym.dsl.policy import build_policy
from tests.perf.test_parse_speed import REALISTIC_PROGRAM

MACHINE = SimpleTopology(nodes=4, processors={"CPU": 16, "GPU": 4, "OMP": 2, "IO": 1},
                         memories=frozenset({"SYSMEM", "SOCKMEM", "ZCMEM", "FBMEM"}))


def _many_functions(groups: int) -> str:
    """``groups`` global / entry function / map statement triples (3 statements each)."""
    lines = []
    for i in range(groups):
        lines.append(f"x{i} = Machine(GPU).split(1, 2).size[0] + {i};")
        lines.append(
            f"def f{i}(Task t) {{ a = x{i} + t.ipoint[0]; "
            f"b = tuple(v * a for v in t.ispace); return Machine(GPU)[b[0] % 3, a % 4]; }}"
        )
        lines.append(f"IndexTaskMap task{i} f{i};")
    return "\n".join(lines)


def test_check_realistic_program(benchmark) -> None:
    program = parse(REALISTIC_PROGRAM)
    findings = benchmark(check, program, None, MACHINE)
    assert not any(d.is_error for d in findings)


def test_check_large_program_with_app(benchmark) -> None:
    program = parse(_many_functions(100))
    app = AppInfo("many", tuple(TaskInfo(f"task{i}", index_launch=True) for i in range(100)))
    findings = benchmark(check, program, app, MACHINE)
    assert findings == []


def test_build_policy_realistic_program(benchmark) -> None:
    program = parse(REALISTIC_PROGRAM)
    policy, _ = benchmark(build_policy, program)
    assert policy.task_priority("init_grid") == ("CPU",)
