"""Hand-built MappingPlans for simulator tests (independent of the DSL resolver).

``make_plan(app, machine, ...)`` places every launch the way a simple mapper would:

* processor kind: the first of ``kinds`` (default GPU, OMP, CPU) the task has a variant for
  and the machine has processors of (``kind_of`` overrides per task);
* index points: ``place(task, linear index, count, processors)`` picks the processor; the
  default deals points round-robin over the flattened processor list (node-major), so point i
  of a one-point-per-GPU launch lands on GPU i;
* single launches: on the parent's processor when the kinds match, else the first processor
  of the kind on the parent's node;
* children of an inner task inherit its node (index launches are dealt over that node);
* memories: ``memory(task, requirement, processor)`` returns a memory kind, default FBMEM for
  GPUs, SOCKMEM (else SYSMEM) for OMP, SYSMEM for CPUs; inner tasks and requirements without
  privileges are virtual;
* layouts: ``layout(task, requirement index)`` returns a LayoutSpec (default SOA, F order).
"""

from __future__ import annotations

from collections.abc import Callable

from mapper_gym.appmodel import AppModel, Launch, Privilege, linearize
from mapper_gym.dsl.policy import LayoutSpec
from mapper_gym.machine import Machine, Processor
from mapper_gym.plan import InstanceChoice, LaunchMapping, MappingPlan, PointMapping

KindFn = Callable[[str], str | None]
PlaceFn = Callable[[str, int, int, tuple[Processor, ...]], Processor]
MemFn = Callable[[str, int, Processor], str | None]
LayoutFn = Callable[[str, int], LayoutSpec]


def round_robin(task: str, index: int, count: int, procs: tuple[Processor, ...]) -> Processor:
    return procs[index % len(procs)]


def make_plan(
    app: AppModel,
    machine: Machine,
    *,
    kinds: tuple[str, ...] = ("GPU", "OMP", "CPU"),
    kind_of: KindFn | None = None,
    place: PlaceFn = round_robin,
    memory: MemFn | None = None,
    layout: LayoutFn | None = None,
    collect: Callable[[str, int], bool] | None = None,
    instance_limits: dict[str, int] | None = None,
) -> MappingPlan:
    launches: dict[Launch, LaunchMapping] = {}
    task_kinds: dict[str, str] = {}

    def kind_for(task: str) -> str:
        if kind_of is not None:
            chosen = kind_of(task)
            if chosen is not None:
                return chosen
        variants = app.task(task).variants
        for k in kinds:
            if k in variants and machine.processors_per_node(k) > 0:
                return k
        return "CPU"

    def mem_for(task: str, index: int, proc: Processor):
        kind = memory(task, index, proc) if memory is not None else None
        if kind is None:
            kind = {"GPU": "FBMEM", "OMP": "SOCKMEM", "CPU": "SYSMEM"}.get(proc.kind, "SYSMEM")
            if machine.best_memory(proc, kind) is None:
                kind = "SYSMEM"
        return machine.best_memory(proc, kind)

    def visit(launch: Launch, parent_proc: Processor | None) -> None:
        task = app.task(launch.task)
        kind = kind_for(launch.task)
        task_kinds[launch.task] = kind
        node = parent_proc.node if parent_proc is not None else 0
        if launch.is_index:
            procs = (machine.processors_of(kind, node) if parent_proc is not None
                     else machine.processors_of(kind))
        else:
            procs = machine.processors_of(kind, node)
        points = []
        reqs = app.requirements_of(launch)
        for pt in launch.points:
            if launch.is_index:
                index = linearize(pt.point, launch.domain)
                proc = place(launch.task, index, len(launch.points), procs)
            elif parent_proc is not None and parent_proc.kind == kind:
                proc = parent_proc
            else:
                proc = procs[0]
            instances = []
            for i, req in enumerate(reqs):
                if task.inner or req.privilege is Privilege.NONE:
                    instances.append(InstanceChoice(None, LayoutSpec()))
                    continue
                instances.append(InstanceChoice(
                    mem_for(launch.task, i, proc),
                    layout(launch.task, i) if layout is not None else LayoutSpec(),
                    collect=bool(collect(launch.task, i)) if collect is not None else False,
                ))
            points.append(PointMapping(pt, proc, (proc,), tuple(instances), proc.node))
            for child in pt.children:
                visit(child, proc)
        launches[launch] = LaunchMapping(launch, kind, tuple(points))

    for step in app.all_steps():
        if isinstance(step, Launch):
            visit(step, None)
    return MappingPlan(app=app, machine=machine, task_kinds=task_kinds, launches=launches,
                       instance_limits=dict(instance_limits or {}))
