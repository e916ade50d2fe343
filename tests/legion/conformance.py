"""Compare the decisions the C++ mapper logged in a real run with the Python resolver's plan.

The Python interpreter is the one source of truth for DSL semantics (architecture.md); the C++
mapper is checked against it: for every point task of every launch, the processor it ran on,
its target processors, and per region requirement the memory, the instance's real layout and
whether it is collected must be what :func:`mapper_gym.mapping.resolve` decided. Decisions the
program leaves to the DefaultMapper are compared too: there the Python side is our model of the
DefaultMapper and the log shows what the real one did.
"""

from __future__ import annotations

from mapper_gym.appmodel import Privilege
from mapper_gym.legion.lower import launch_groups
from mapper_gym.legion.output import LoggedInstance, LoggedMapping
from mapper_gym.plan import DEFAULT_ORIGIN, MappingPlan


def _proc(p) -> tuple[str, int, int]:
    return (p.kind, p.node, p.index)


def mismatches(plan: MappingPlan, logged: list[LoggedMapping]) -> list[str]:
    """Every difference between ``plan`` and the logged decisions (empty when they agree)."""
    app = plan.app
    problems: list[str] = []
    seen: dict[tuple, list[LoggedMapping]] = {}
    for entry in logged:
        seen.setdefault((entry.task, entry.group, entry.point), []).append(entry)

    expected_keys = set()
    top = app.top_task
    top_proc = plan.machine.processors_of(plan.task_kinds[top], 0)[0]
    expected_keys.add((top, 0, None))
    for entry in seen.get((top, 0, None), []):
        if entry.processor != _proc(top_proc):
            problems.append(f"{top}: ran on {entry.processor}, planned {_proc(top_proc)}")
    if (top, 0, None) not in seen:
        problems.append(f"top-level task {top} was never mapped")

    groups = launch_groups(plan)
    for launch, mapping in plan.launches.items():
        task = app.task(launch.task)
        reqs = app.requirements_of(launch)
        for pm in mapping.points:
            point = pm.point.point if launch.domain is not None else None
            key = (launch.task, groups[launch], point)
            expected_keys.add(key)
            entries = seen.get(key)
            if not entries:
                problems.append(f"{key}: never mapped")
                continue
            where = f"{launch.task}{list(point) if point is not None else ''}"
            for entry in entries:
                if entry.processor != _proc(pm.processor):
                    problems.append(f"{where}: ran on {entry.processor}, planned "
                                    f"{_proc(pm.processor)}")
                explicit = launch.domain is None or mapping.map_origin != DEFAULT_ORIGIN
                want_targets = tuple(_proc(p) for p in pm.targets) if explicit else (
                    _proc(pm.processor),)
                if entry.targets != want_targets:
                    problems.append(f"{where}: targets {entry.targets}, planned {want_targets}")
                if len(entry.requirements) != len(reqs):
                    problems.append(f"{where}: {len(entry.requirements)} requirements logged, "
                                    f"{len(reqs)} planned")
                    continue
                for i, (req, choice, got) in enumerate(
                        zip(reqs, pm.instances, entry.requirements, strict=True)):
                    problems += _requirement(where, i, req, task.inner, choice, got,
                                             app.region(req.region).dims)
    for key in seen:
        if key not in expected_keys:
            problems.append(f"{key}: mapped but not in the plan")
    return problems


def _requirement(where, i, req, inner, choice, got, dims) -> list[str]:
    label = f"{where} requirement {i}"
    if not req.privilege.has_data:
        return [] if got == "NONE" else [f"{label}: bounds only, but got {got}"]
    if inner:
        return [] if got == "VIRTUAL" else [f"{label}: inner task, but got {got}"]
    if not isinstance(got, LoggedInstance):
        return [f"{label}: planned an instance in {choice.memory.uid}, got {got}"]
    out = []
    want = (choice.memory.kind, choice.memory.node, choice.memory.index)
    if got.memory != want:
        out.append(f"{label}: memory {got.memory}, planned {want}")
    if got.special == "red" and req.privilege is not Privilege.RED:
        out.append(f"{label}: reduction instance for a {req.privilege.value} argument")
    if got.soa == choice.layout.aos:
        out.append(f"{label}: ordering {got.ordering}, planned "
                   f"{'AOS' if choice.layout.aos else 'SOA'}")
    if dims >= 2 and got.c_order != choice.layout.c_order:
        out.append(f"{label}: ordering {got.ordering}, planned "
                   f"{'C' if choice.layout.c_order else 'F'} order")
    # Without an Align word any instance will do: Legion may reuse one created with an
    # alignment for another argument (dsl.md §6.4: an existing instance is reused when it
    # satisfies the constraints).
    if choice.layout.align:
        op, value = choice.layout.align
        if got.alignment != f"{op}{value}":
            out.append(f"{label}: alignment {got.alignment}, planned {op}{value}")
    if choice.layout.compact and req.privilege is not Privilege.RED and got.special != "compact":
        out.append(f"{label}: {got.special} instance, planned Compact")
    want_collect = choice.collect and req.privilege is Privilege.RO
    if got.collected != want_collect:
        out.append(f"{label}: collected={got.collected}, planned {want_collect}")
    return out
