"""Lower a :class:`~mapper_gym.plan.MappingPlan` to the text file the C++ DSL mapper reads.

The C++ side never parses DSL text (architecture.md): the Python resolver has taken every
decision, and this module writes them down in the line format documented in
``native/plan.h``. Decisions that the program left to Legion's DefaultMapper stay open in the
file (``-`` targets for a default-placed index launch, ``DEFAULT`` memories), so the real
DefaultMapper makes them and the conformance tests can compare its choices with the Python
model of it (:mod:`mapper_gym.mapping.default_mapper`).

How the C++ mapper finds a decision:

* a task by its name (the application registers its tasks under the model's names);
* a launch by (task name, *group*): the launches of one task are numbered 0, 1, ... in the
  order the model issues them (setup, iteration, teardown, children after their parent); the
  application passes the group as the launch's mapper argument (0 needs nothing);
* a point of an index launch by its coordinates (launch domains start at 0 in both worlds);
  the single task of a single launch has no coordinates.

Entries are identical across iterations, exactly as the plan is.

Control replication is not performed by the real backend (one shard runs the top-level task);
when the plan replicates a task, every index launch is written with its planned processors so
that the points still run exactly where the plan's sharded placement puts them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from mapper_gym.appmodel import Launch
from mapper_gym.plan import DEFAULT_ORIGIN, InstanceChoice, LaunchMapping, MappingPlan

__all__ = ["PLAN_FORMAT_VERSION", "launch_groups", "lower_plan"]

PLAN_FORMAT_VERSION = 1


def launch_groups(plan: MappingPlan) -> dict[Launch, int]:
    """The group number of every launch of the plan (see the module docstring)."""
    seen: Counter[str] = Counter()
    groups: dict[Launch, int] = {}
    for launch in plan.launches:
        groups[launch] = seen[launch.task]
        seen[launch.task] += 1
    return groups


def _name(text: str) -> str:
    if not text or any(ch.isspace() for ch in text):
        raise ValueError(f"task name {text!r} cannot be written to a plan file")
    return text


def _requirement(index: int, choice: InstanceChoice, has_data: bool, inner: bool) -> str:
    if not has_data:
        memory = "NONE"
    elif inner or choice.memory is None:
        memory = "VIRTUAL"
    elif choice.memory_origin == DEFAULT_ORIGIN:
        memory = "DEFAULT"
    else:
        memory = choice.memory.kind
    layout = choice.layout
    if layout.align:
        op, value = layout.align  # type: ignore[misc]
        align = f"{op} {value}"
    else:
        align = "- 0"
    flags = " ".join("1" if f else "0" for f in (layout.compact, layout.exact, choice.collect))
    return (f"req {index} {memory} {'AOS' if layout.aos else 'SOA'} "
            f"{'C' if layout.c_order else 'F'} {align} {flags}")


def _launch_lines(plan: MappingPlan, mapping: LaunchMapping, group: int,
                  pin: bool) -> Iterable[str]:
    launch = mapping.launch
    task = plan.app.task(launch.task)
    requirements = plan.app.requirements_of(launch)
    by_default = mapping.map_origin == DEFAULT_ORIGIN and not pin
    if launch.domain is None:
        yield f"launch {_name(launch.task)} {group} single"
    else:
        placed = "default" if by_default else "dsl"
        extents = " ".join(str(e) for e in launch.domain)
        yield f"launch {_name(launch.task)} {group} index {placed} {len(launch.domain)} {extents}"
    for pm in mapping.points:
        if launch.domain is None:
            coords = "-"
            targets = ";".join(f"{p.node}:{p.index}" for p in pm.targets)
        else:
            coords = ",".join(str(c) for c in pm.point.point)
            targets = ("-" if by_default
                       else ";".join(f"{p.node}:{p.index}" for p in pm.targets))
        yield f"point {coords} {targets}"
        for index, (req, choice) in enumerate(zip(requirements, pm.instances, strict=True)):
            yield _requirement(index, choice, req.privilege.has_data, task.inner)


def lower_plan(plan: MappingPlan) -> str:
    """The plan file text for ``plan`` (ends with ``end`` and a newline)."""
    lines = [f"mapper-gym-plan {PLAN_FORMAT_VERSION}"]
    for task, kind in plan.task_kinds.items():
        lines.append(f"task {_name(task)} {kind} {plan.instance_limits.get(task, 0)}")
    # The top-level task: the first processor of its kind on node 0 (the resolver's choice).
    top = plan.app.top_task
    if top in plan.task_kinds:
        first = plan.machine.processors_of(plan.task_kinds[top], 0)[0]
        lines += [f"launch {_name(top)} 0 single", f"point - {first.node}:{first.index}"]
    groups = launch_groups(plan)
    pin = bool(plan.replicated)
    for launch, mapping in plan.launches.items():
        lines.extend(_launch_lines(plan, mapping, groups[launch], pin))
    lines.append("end")
    return "\n".join(lines) + "\n"
