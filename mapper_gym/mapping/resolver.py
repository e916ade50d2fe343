"""``resolve``: a compiled program + an application + a machine → a :class:`MappingPlan`.

This is the ``map`` phase of dsl.md §1 for a whole run: every decision of §6 is taken here, once,
so that the simulator (and the Legion backend) only execute a plan and never evaluate DSL code.

Walk. The top-level task is placed first (its kind by §6.2, the first processor of that kind on
node 0), then the application's steps (setup, one iteration — the same Launch objects stand for
every iteration — and teardown) are resolved in program order, each launch followed by the
launches of its inner points (``PointTask.children``), whose parent is that point.

Per launch:

* **kind** (§6.2), once per task name: the task's ``Task`` list (else ``Task *``) ∩ its variants
  ∩ kinds the nodes have; no list or no fit → :func:`default_mapper.default_kind`.
* **points**: an index launch calls its ``IndexTaskMap`` function (task entry, else kind key) for
  every point; a point-set must stay on one node. Without a function the default mapper slices the
  domain (:func:`default_mapper.default_index_placement`). A single launch starts on the first
  processor of its kind on the launching node; a ``SingleTaskMap`` function may move it within that
  node (E-NODE otherwise).
* **instances** (§6.3, §6.4, §6.6) per requirement and processor: inner tasks and requirements
  without privileges get no instance; otherwise the concatenated ``Region`` list is searched for
  the first kind usable from the processor (``VIRTUAL`` stops the search and is an error on a
  leaf task), falling back to the default mapper's memory; the layout is the first ``Layout`` hit
  for the chosen memory kind; read-only requirements matched by ``CollectMemory`` are collected.

Control replication (§6.9) and back-pressure (§6.5) are plan-wide. Errors of entry functions are
the interpreter's ``map`` errors and propagate unchanged; errors found here are ``execute`` errors
(:mod:`mapper_gym.mapping.errors`). Everything is deterministic: the same inputs give an equal
plan, decisions and warnings in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

from mapper_gym.appmodel import AppModel, Launch, Privilege, Requirement, TaskDef
from mapper_gym.config import RunConfig
from mapper_gym.dsl.context import DEFAULT_AFFINITY
from mapper_gym.dsl.errors import Diagnostic
from mapper_gym.dsl.interpreter import Point, PointSet, ProcessorRef, TaskRef
from mapper_gym.dsl.pipeline import Compiled
from mapper_gym.dsl.policy import DEFAULT_LAYOUT, LayoutSpec, resolve_layout
from mapper_gym.machine import Machine, Memory, Processor
from mapper_gym.mapping import default_mapper, errors
from mapper_gym.plan import (
    DEFAULT_ORIGIN,
    InstanceChoice,
    LaunchMapping,
    MappingPlan,
    Origin,
    PointMapping,
)

#: Processor kinds a mapping program can name (dsl.md §6.1).
DSL_KINDS: tuple[str, ...] = tuple(DEFAULT_AFFINITY)
VIRTUAL = "VIRTUAL"
#: The choice for a requirement that needs no instance (inner task, or no privileges).
_NO_INSTANCE = InstanceChoice(memory=None, layout=DEFAULT_LAYOUT)


def resolve(
    compiled: Compiled,
    app: AppModel,
    machine: Machine,
    config: RunConfig | None = None,
) -> MappingPlan:
    """Every mapping decision of ``compiled`` for ``app`` on ``machine`` (dsl.md §6).

    ``compiled`` must have been loaded for ``machine`` (its node and processor counts).
    Raises :class:`~mapper_gym.dsl.errors.DSLError`: ``kind="map"`` for a failing entry
    function (propagated from the interpreter), ``kind="execute"`` for E-VIRTUAL, E-NODE,
    E-NODE-SET, E-REPLICATE and E-NO-VARIANT. Raises ValueError for inconsistent inputs (a
    program loaded for another machine, a Launch object shared by parents that place it
    differently).
    """
    return _Resolver(compiled, app, machine, config or RunConfig()).run()


@dataclass(frozen=True)
class _Issuer:
    """The task that issues a launch: how entry functions see it, and where it runs."""

    ref: TaskRef
    processor: Processor
    #: Node of each shard when the task is control-replicated over more than one shard.
    shard_nodes: tuple[int, ...] | None


@dataclass(frozen=True)
class _Kind:
    kind: str
    #: The ``Task`` statement that chose the kind; ``(0, 0)`` when the default mapper did.
    origin: Origin


class _Column:
    """One requirement's instance choice on processor i of a kind, for every node."""

    __slots__ = ("base", "by_node")

    def __init__(self, base: InstanceChoice, nodes: int) -> None:
        self.base = base
        # without an instance the choice is the same everywhere; otherwise filled on demand
        self.by_node: list[InstanceChoice | None] = (
            [base] * nodes if base.memory is None else [None] * nodes
        )
        if base.memory is not None:
            self.by_node[base.memory.node] = base

    def move(self, node: int, machine: Machine) -> InstanceChoice:
        """The base choice with its memory replaced by the same memory of ``node``."""
        base, memory = self.base, self.base.memory
        assert memory is not None
        moved = InstanceChoice(
            memory=machine.memory(memory.kind, node, memory.index),
            layout=base.layout,
            collect=base.collect,
            memory_origin=base.memory_origin,
            layout_origin=base.layout_origin,
        )
        self.by_node[node] = moved
        return moved


class _Resolver:
    """One resolution: the walk over the application, its caches and its warnings."""

    def __init__(self, compiled: Compiled, app: AppModel, machine: Machine,
                 config: RunConfig) -> None:
        self.policy = compiled.policy
        self.loaded = compiled.loaded
        self.app = app
        self.machine = machine
        self.config = config
        self.tasks: dict[str, TaskDef] = {t.name: t for t in app.tasks}
        self.same_address_space = default_mapper.SAME_ADDRESS_SPACE_FLAG in app.legion_flags
        self.available = tuple(k for k in DSL_KINDS if machine.processors_per_node(k) > 0)
        self.procs: dict[str, tuple[tuple[Processor, ...], ...]] = {
            kind: tuple(machine.processors_of(kind, node) for node in range(machine.nodes))
            for kind in self.available
        }
        self.kinds: dict[str, _Kind] = {}
        self.replicated: frozenset[str] = frozenset()
        self.launches: dict[Launch, LaunchMapping] = {}
        self.issuers: dict[Launch, TaskRef] = {}
        self.warnings: list[Diagnostic] = []
        self._warned: set[tuple] = set()
        # caches (keys use ids of objects that live as long as the app and the machine)
        self._best: dict[tuple[int, str], Memory | None] = {}
        self._instances: dict[tuple[str, int, int], tuple[InstanceChoice, ...]] = {}
        self._templates: dict[tuple[str, int, str, int], tuple[_Column, ...]] = {}
        self._columns: dict[tuple, _Column] = {}
        self._no_instance = _Column(_NO_INSTANCE, machine.nodes)
        self._arguments: dict[tuple, tuple[tuple[str, ...], tuple[tuple[str, Origin], ...],
                                           bool]] = {}
        self._layouts: dict[tuple[str, tuple[str, ...], str], tuple[LayoutSpec, Origin]] = {}

    # -- driver --------------------------------------------------------------------------------

    def run(self) -> MappingPlan:
        self._check_topology()
        self._config_warnings()
        launched = self._launched_tasks()
        self.replicated = self._replication(launched)
        top = self.app.top_task
        top_kind = self._kind_of(top)
        top_proc = self.procs[top_kind.kind][0][0]
        issuer = _Issuer(
            TaskRef(top, processor=ProcessorRef(top_kind.kind, 0, top_proc.index)),
            top_proc,
            self._shard_nodes(top, top_kind.kind),
        )
        for step in self.app.all_steps():
            if isinstance(step, Launch):
                self._launch(step, issuer)
        limits: dict[str, int] = {}
        if self.config.backpressure:
            limits = {task: n for task, n in self.policy.instance_limits.items()
                      if n > 0 and task in self.tasks}
        self.warnings.sort(key=lambda d: (d.line, d.column))
        return MappingPlan(
            app=self.app,
            machine=self.machine,
            task_kinds={name: k.kind for name, k in self.kinds.items()},
            launches=self.launches,
            instance_limits=limits,
            replicated=self.replicated,
            warnings=tuple(self.warnings),
            dsl_output=tuple(self.loaded.output),
        )

    def _check_topology(self) -> None:
        topology = self.loaded.topology
        same = topology.nodes == self.machine.nodes and all(
            topology.processors_per_node(k) == self.machine.processors_per_node(k)
            for k in DSL_KINDS
        )
        if not same:
            raise ValueError("the program was loaded for another machine than the one resolved "
                             "against (node or processor counts differ)")

    def _launched_tasks(self) -> list[str]:
        names: dict[str, None] = {self.app.top_task: None}
        for launch, _ in self.app.walk(self.app.all_steps()):
            names.setdefault(launch.task, None)
        return list(names)

    # -- plan-wide decisions ---------------------------------------------------------------------

    def _config_warnings(self) -> None:
        def first(statement: str) -> Origin | None:
            found = [o for key, o in self.policy.origins.items() if key[0] == statement]
            return min(found) if found else None

        if not self.config.backpressure and (origin := first("InstanceLimit")) is not None:
            self._warn(("limit-off",), "W-LIMIT-OFF",
                       "InstanceLimit has no effect: back-pressure is switched off in this "
                       "configuration", origin)
        if not self.config.collect and (origin := first("CollectMemory")) is not None:
            self._warn(("collect-off",), "W-COLLECT-OFF",
                       "CollectMemory has no effect: collection is switched off in this "
                       "configuration", origin)

    def _replication(self, launched: list[str]) -> frozenset[str]:
        """§6.9: the listed tasks, or by default the top-level task on more than one node."""
        decided = self.policy.replicate
        if decided is None:
            chosen = [self.app.top_task] if self.machine.nodes > 1 else []
            origins = {self.app.top_task: DEFAULT_ORIGIN}
        else:
            chosen = [t for t in launched if t in decided]
            origins = {t: self.policy.origins.get(("ControlReplicate", t), DEFAULT_ORIGIN)
                       for t in chosen}
        for task in sorted(chosen, key=lambda t: origins[t]):
            if self.tasks[task].requirements:
                raise errors.replicate_error(task, origins[task])
        return frozenset(chosen)

    def _shard_nodes(self, task: str, kind: str) -> tuple[int, ...] | None:
        """One shard per node; on one node, one shard per processor of the task's kind."""
        if task not in self.replicated:
            return None
        if self.machine.nodes > 1:
            return tuple(range(self.machine.nodes))
        count = self.machine.processors_per_node(kind)
        return (0,) * count if count > 1 else None

    def _kind_of(self, task: str) -> _Kind:
        """§6.2, decided once per task name."""
        known = self.kinds.get(task)
        if known is not None:
            return known
        variants = self.tasks[task].variants
        found = self.policy.task_priority_traced(task)
        origin = DEFAULT_ORIGIN
        result: _Kind | None = None
        if found is not None:
            listed, origin = found
            for kind in listed:
                if kind in variants and kind in self.procs:
                    result = _Kind(kind, origin)
                    break
        if result is None:
            fallback = default_mapper.default_kind(variants, self.machine)
            if fallback is None:
                raise errors.no_variant_error(task, variants, self.available, origin)
            if found is not None:
                self._warn(
                    ("kind", task), "W-KIND-DEFAULT",
                    f"Task {task}: none of {','.join(found[0])} can run it here (variants "
                    f"{','.join(variants)}; processors {','.join(self.available)}); the default "
                    f"mapper chose {fallback}",
                    origin,
                    hint=f"add {fallback} to the list if that is what you want",
                    context={"task": task},
                )
            result = _Kind(fallback, DEFAULT_ORIGIN)
        self.kinds[task] = result
        return result

    # -- launches ------------------------------------------------------------------------------

    def _launch(self, launch: Launch, issuer: _Issuer) -> None:
        previous = self.issuers.get(launch)
        if previous is not None and previous == issuer.ref:
            return  # the same launch issued again by the same task: decided already
        task = launch.task
        kind = self._kind_of(task)
        if launch.domain is not None:
            placed, map_origin = self._place_index(launch, kind, issuer)
        else:
            placed, map_origin = self._place_single(launch, kind, issuer)
        taskdef = self.tasks[task]
        reqs = self.app.requirements_of(launch)
        points = []
        for pt, (targets, origin) in zip(launch.points, placed, strict=True):
            proc = targets[0]
            points.append(PointMapping(
                point=pt,
                processor=proc,
                targets=targets,
                instances=self._instances_for(taskdef, reqs, proc),
                shard_node=proc.node,
                processor_origin=origin,
            ))
        mapping = LaunchMapping(launch=launch, kind=kind.kind, points=tuple(points),
                                kind_origin=kind.origin, map_origin=map_origin)
        if previous is not None:
            if mapping != self.launches[launch]:
                raise ValueError(
                    f"launch {launch.label or launch.task} is issued by two parents that place it "
                    "differently; the application must use one Launch object per parent"
                )
            return
        self.launches[launch] = mapping
        self.issuers[launch] = issuer.ref
        shard_kind = kind.kind
        for pm in points:
            if not pm.point.children:
                continue
            proc = pm.processor
            child_issuer = _Issuer(
                TaskRef(task, parent=issuer.ref,
                        processor=ProcessorRef(shard_kind, proc.node, proc.index)),
                proc,
                self._shard_nodes(task, shard_kind),
            )
            for child in pm.point.children:
                self._launch(child, child_issuer)

    def _processor(self, kind: str, node: int, index: int) -> Processor:
        per_node = self.procs[kind]
        if 0 <= node < len(per_node) and 0 <= index < len(per_node[node]):
            return per_node[node][index]
        count = len(per_node[0]) if per_node else 0
        raise errors.bounds_error(kind, node, index, len(per_node), count)

    def _place_index(
        self, launch: Launch, kind: _Kind, issuer: _Issuer
    ) -> tuple[list[tuple[tuple[Processor, ...], Origin]], Origin]:
        """§6.7: the targets of every point, and the IndexTaskMap statement that chose them."""
        task, k = launch.task, kind.kind
        assert launch.domain is not None
        func = self.policy.index_map_function(task, k)
        if func is None:
            procs = default_mapper.default_index_placement(
                self.machine, k, launch.domain, [pt.point for pt in launch.points],
                launching_node=issuer.processor.node,
                shard_nodes=issuer.shard_nodes,
                same_address_space=launch.same_address_space or self.same_address_space,
            )
            return [((p,), DEFAULT_ORIGIN) for p in procs], DEFAULT_ORIGIN
        origin = self.policy.map_origin("IndexTaskMap", task, k)
        ispace = launch.domain
        call = self.loaded.call_entry
        out: list[tuple[tuple[Processor, ...], Origin]] = []
        for pt in launch.points:
            result = call(func, TaskRef(task, ipoint=pt.point, ispace=ispace, index_launch=True),
                          kind=k)
            if isinstance(result, Point):
                targets: tuple[Processor, ...] = (self._processor(k, result.node, result.index),)
            else:
                targets = self._point_set(result, k)
                nodes = sorted({p.node for p in targets})
                if len(nodes) > 1:
                    raise errors.point_set_nodes_error(task, pt.point, func, nodes, origin)
            out.append((targets, origin))
        return out, origin

    def _point_set(self, result: PointSet, kind: str) -> tuple[Processor, ...]:
        return tuple(self._processor(kind, p.node, p.index) for p in result.points)

    def _place_single(
        self, launch: Launch, kind: _Kind, issuer: _Issuer
    ) -> tuple[list[tuple[tuple[Processor, ...], Origin]], Origin]:
        """§6.2/§6.8: first processor of the kind on the launching node, or SingleTaskMap."""
        task, k = launch.task, kind.kind
        node = issuer.processor.node
        start = self.procs[k][node][0]
        func = self.policy.single_map_function(task, k)
        if func is None:
            return [((start,), kind.origin)], DEFAULT_ORIGIN
        origin = self.policy.map_origin("SingleTaskMap", task, k)
        ref = TaskRef(task, parent=issuer.ref, processor=ProcessorRef(k, node, start.index))
        result = self.loaded.call_entry(func, ref, kind=k)
        if isinstance(result, Point):
            targets: tuple[Processor, ...] = (self._processor(k, result.node, result.index),)
        else:
            targets = self._point_set(result, k)
        for proc in targets:
            if proc.node != node:
                raise errors.single_node_error(task, node, func, proc.node, origin)
        return [(targets, origin)], origin

    # -- instances -------------------------------------------------------------------------------

    def _instances_for(self, taskdef: TaskDef, reqs: tuple[Requirement, ...],
                       proc: Processor) -> tuple[InstanceChoice, ...]:
        """The instance choices of a point with requirements ``reqs`` running on ``proc``."""
        key = (taskdef.name, id(reqs), id(proc))
        found = self._instances.get(key)
        if found is None:
            template_key = (taskdef.name, id(reqs), proc.kind, proc.index)
            columns = self._templates.get(template_key)
            if columns is None:
                columns = tuple(self._column(taskdef, i, req, proc) for i, req in enumerate(reqs))
                self._templates[template_key] = columns
            node = proc.node
            found = tuple(col.by_node[node] or col.move(node, self.machine) for col in columns)
            self._instances[key] = found
        return found

    def _column(self, taskdef: TaskDef, index: int, req: Requirement,
                proc: Processor) -> _Column:
        """The choice for one requirement on processor ``proc.index`` of its kind, per node.

        Address spaces are identical (one machine description for all nodes), so processor i
        of a kind chooses the same memory kind and index on every node: the choice is made once
        per processor index and moved to other nodes on demand. Launches that list the same
        requirement share the column.
        """
        if taskdef.inner or not req.privilege.has_data:
            return self._no_instance
        key = (taskdef.name, index, req.names, req.privilege, proc.kind, proc.index)
        column = self._columns.get(key)
        if column is None:
            column = _Column(self._choose(taskdef, index, req, proc), self.machine.nodes)
            self._columns[key] = column
        return column

    def _choose(self, taskdef: TaskDef, index: int, req: Requirement,
                proc: Processor) -> InstanceChoice:
        task = taskdef.name
        names, candidates, collects = self._argument(task, index, req.names, proc.kind)
        memory: Memory | None = None
        memory_origin = DEFAULT_ORIGIN
        for mem_kind, origin in candidates:
            if mem_kind == VIRTUAL:
                raise errors.virtual_leaf_error(task, index, origin)
            memory = self._best_memory(proc, mem_kind)
            if memory is not None:
                memory_origin = origin
                break
        if memory is None:
            memory = self._best_memory(proc, None)
            if memory is None:
                raise errors.no_memory_error(task, index, proc.uid)
            if candidates:
                listed = ",".join(dict.fromkeys(m for m, _ in candidates))
                self._warn(
                    ("memory", task, index, proc.kind), "W-MEMORY-DEFAULT",
                    f"Region: no memory of {listed} is usable for region argument {index} of "
                    f"{task} on {proc.kind}; the default mapper chose {memory.kind}",
                    candidates[0][1],
                    hint=f"list a memory kind that a {proc.kind} processor of this machine can use",
                    context={"task": task, "region": index, "processor_kind": proc.kind},
                )
        layout, layout_origin = self._layout(task, names, memory.kind)
        collect = collects and req.privilege is Privilege.RO
        return InstanceChoice(memory=memory, layout=layout, collect=collect,
                              memory_origin=memory_origin, layout_origin=layout_origin)

    def _argument(
        self, task: str, index: int, semantic: tuple[str, ...], kind: str
    ) -> tuple[tuple[str, ...], tuple[tuple[str, Origin], ...], bool]:
        """Candidate names, concatenated ``Region`` list on ``kind`` (§6.3) and whether a
        ``CollectMemory`` pair matches (§6.6, when collection is on) for one argument."""
        key = (task, index, semantic, kind)
        found = self._arguments.get(key)
        if found is None:
            names = (*semantic, str(index))
            found = (
                names,
                self.policy.memory_candidates_traced(task, names, kind),
                self.config.collect and self.policy.collects(task, names),
            )
            self._arguments[key] = found
        return found

    def _best_memory(self, proc: Processor, mem_kind: str | None) -> Memory | None:
        """Best-affinity memory of ``mem_kind`` for ``proc`` (any kind: the default's choice)."""
        key = (id(proc), mem_kind or "")
        if key not in self._best:
            if mem_kind is None:
                self._best[key] = default_mapper.default_memory(self.machine, proc)
            else:
                self._best[key] = self.machine.best_memory(proc, mem_kind)
        return self._best[key]

    def _layout(self, task: str, names: tuple[str, ...], mem_kind: str
                ) -> tuple[LayoutSpec, Origin]:
        key = (task, names, mem_kind)
        found = self._layouts.get(key)
        if found is None:
            hit = self.policy.layout_traced(task, names, mem_kind)
            found = (DEFAULT_LAYOUT, DEFAULT_ORIGIN) if hit is None else (
                resolve_layout(hit[0]), hit[1])
            self._layouts[key] = found
        return found

    # -- diagnostics -----------------------------------------------------------------------------

    def _warn(self, key: tuple, code: str, message: str, origin: Origin,
              hint: str | None = None, context: dict | None = None) -> None:
        if key in self._warned:
            return
        self._warned.add(key)
        self.warnings.append(errors.warning(code, message, origin, hint, context))


__all__ = ["resolve"]
