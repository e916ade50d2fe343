"""``MappingPlan``: every mapping decision of one program for one application and machine.

The resolver (:mod:`mapper_gym.mapping`) produces it from a compiled program; the simulator
(:mod:`mapper_gym.sim`) executes the application under it; the Legion backend lowers it for the
C++ mapper. It is pure data: all DSL evaluation happened during resolution, so backends never
evaluate mapping functions themselves and both see exactly the same decisions.

Decisions carry their *origin*: the ``(line, column)`` of the policy statement that made them,
or ``(0, 0)`` when the default mapper did (dsl.md §9.1), so an execution error can point at the
statement responsible.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mapper_gym.appmodel import AppModel, Launch, PointTask
from mapper_gym.dsl.errors import Diagnostic
from mapper_gym.dsl.policy import LayoutSpec
from mapper_gym.machine import Machine, Memory, Processor

Origin = tuple[int, int]
DEFAULT_ORIGIN: Origin = (0, 0)


@dataclass(frozen=True)
class InstanceChoice:
    """Where and how one region requirement of one point task gets its instance.

    ``memory`` is None exactly when the requirement is mapped virtually (inner tasks, or
    requirements without privileges, which need no instance).
    """

    memory: Memory | None
    layout: LayoutSpec
    #: ``CollectMemory`` applies: a read-only copy is not kept valid after the task.
    collect: bool = False
    memory_origin: Origin = DEFAULT_ORIGIN
    layout_origin: Origin = DEFAULT_ORIGIN

    @property
    def virtual(self) -> bool:
        return self.memory is None


@dataclass(frozen=True)
class PointMapping:
    """The decisions for one point task (or the single task of a single launch)."""

    point: PointTask
    #: The processor the task runs on (the first target).
    processor: Processor
    #: Every processor the mapping allowed (a point-set result); ``processor`` is the first.
    targets: tuple[Processor, ...]
    #: One entry per requirement of the launch, in order.
    instances: tuple[InstanceChoice, ...]
    #: Node of the shard that owns this point (control replication); the processor's node.
    shard_node: int
    processor_origin: Origin = DEFAULT_ORIGIN


@dataclass(frozen=True)
class LaunchMapping:
    """The decisions for one launch: its processor kind and one :class:`PointMapping` per point,
    aligned with ``launch.points``."""

    launch: Launch
    kind: str
    points: tuple[PointMapping, ...]
    kind_origin: Origin = DEFAULT_ORIGIN
    #: Position of the IndexTaskMap/SingleTaskMap statement whose function placed the points.
    map_origin: Origin = DEFAULT_ORIGIN


@dataclass(frozen=True)
class MappingPlan:
    """All decisions of one program for one application on one machine.

    ``launches`` is keyed by the :class:`~mapper_gym.appmodel.Launch` object (launches compare
    by identity), covering setup, iteration, teardown and every child launch of inner tasks;
    the same Launch object stands for that launch in every iteration.
    """

    app: AppModel
    machine: Machine
    #: Processor kind chosen for each task name that is launched.
    task_kinds: Mapping[str, str]
    launches: Mapping[Launch, LaunchMapping]
    #: ``InstanceLimit`` per task name (absent: no limit); empty when backpressure is off.
    instance_limits: Mapping[str, int] = field(default_factory=dict)
    #: Tasks that are control-replicated.
    replicated: frozenset[str] = frozenset()
    #: Warnings of resolution (fallbacks to the default mapper, ignored statements).
    warnings: tuple[Diagnostic, ...] = ()
    #: Lines the program's ``print`` statements produced (load and map phases).
    dsl_output: tuple[str, ...] = ()

    def mapping_of(self, launch: Launch) -> LaunchMapping:
        return self.launches[launch]

    def summary(self) -> dict[str, Any]:
        """A compact, JSON-friendly digest: per task its kind, the processors its points ran on
        and the memories of its requirements (first point's choice per requirement)."""
        per_task: dict[str, dict[str, Any]] = {}
        for mapping in self.launches.values():
            entry = per_task.setdefault(
                mapping.launch.task,
                {"kind": mapping.kind, "processors": [], "memories": {}},
            )
            for point in mapping.points:
                uid = point.processor.uid
                if uid not in entry["processors"]:
                    entry["processors"].append(uid)
            if mapping.points:
                for index, choice in enumerate(mapping.points[0].instances):
                    kind = "VIRTUAL" if choice.memory is None else choice.memory.kind
                    entry["memories"].setdefault(str(index), kind)
        return {
            "tasks": per_task,
            "instance_limits": dict(self.instance_limits),
            "replicated": sorted(self.replicated),
        }
