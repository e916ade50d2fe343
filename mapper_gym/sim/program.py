"""The program tables: an application and its MappingPlan flattened into small records.

Everything the simulator needs about one run, computed once before simulating:

* **keys** — the unit of validity tracking is a *(region, piece, field)* triple (appmodel.py);
  each gets an integer id and a byte size. Requirement ``i`` of a point names a tuple of keys.
  This part depends only on the application and is cached per :class:`AppModel`;
* **locations** — where an instance lives: ``memory index · 4 + layout class``. The layout
  class separates instances that cannot serve each other (AOS versus SOA for multi-field
  requirements, C versus Fortran order for 2-D and higher regions), so data valid in one must be
  copied to the other (apps.md §4.1: "Legion makes a new instance for the leaf, which costs a
  copy");
* **launches and points** (:class:`LaunchT`, :class:`PointT`) — per point its processor,
  node, requirement records (:class:`ReqT`), its processor time from the cost model, and the
  execution error it would raise when it runs (layout rule, virtual leaf argument, memory the
  processor cannot address), if any.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from mapper_gym.appmodel import AppModel, Fill, Launch, Privilege, Step
from mapper_gym.config import RunConfig
from mapper_gym.dsl.errors import Diagnostic
from mapper_gym.plan import InstanceChoice, MappingPlan
from mapper_gym.sim import cost
from mapper_gym.sim.errors import INTERNAL, LAYOUT, VIRTUAL, execution_error
from mapper_gym.sim.routes import MachineTables, machine_tables
from mapper_gym.sim.units import to_ps

NONE, RO, RW, WO, RED = range(5)
_PRIV = {Privilege.NONE: NONE, Privilege.RO: RO, Privilege.RW: RW, Privilege.WO: WO,
         Privilege.RED: RED}

#: Layout-class bits of a location.
AOS_BIT, C_ORDER_BIT = 1, 2


# ---------------------------------------------------------------------------------------------
# Application-level tables (independent of the mapping)
# ---------------------------------------------------------------------------------------------


class AppTables:
    """Key layout of an application and the key lists of every launch's requirements.

    Fields that every requirement (and fill) of the application names together always have
    the same validity, so they are tracked as one *field class*: a key is (region, piece,
    field class). This is exact — no requirement can tell the fields of a class apart — and
    it shrinks the state the logical pass maintains (Circuit's 24 wire fields form 4 classes).
    """

    def __init__(self, app: AppModel) -> None:
        self.app = app
        self.region_index = {r.name: i for i, r in enumerate(app.regions)}
        # field sets every requirement and fill names, per region
        used: list[list[tuple[str, ...]]] = [[] for _ in app.regions]
        for launch, _ in app.walk(app.all_steps()):
            for req in app.requirements_of(launch):
                if req.fields:
                    used[self.region_index[req.region]].append(req.fields)
        for step in app.all_steps():
            if isinstance(step, Fill):
                used[self.region_index[step.region]].append(step.fields)
        self.key_base: list[int] = []
        self.nclasses: list[int] = []
        self.class_of: list[dict[str, int]] = []
        self.class_fields: list[list[tuple[str, ...]]] = []
        key_bytes: list[int] = []
        key_region: list[int] = []
        for ri, region in enumerate(app.regions):
            membership: dict[str, tuple[int, ...]] = {
                f.name: tuple(i for i, fs in enumerate(used[ri]) if f.name in fs)
                for f in region.fields
            }
            classes: dict[tuple[int, ...], list[str]] = {}
            for f in region.fields:
                classes.setdefault(membership[f.name], []).append(f.name)
            fields = list(classes.values())
            self.class_fields.append([tuple(c) for c in fields])
            self.class_of.append({name: ci for ci, c in enumerate(fields) for name in c})
            self.nclasses.append(len(fields))
            self.key_base.append(len(key_bytes))
            sizes = [sum(region.field(name).size for name in c) for c in fields]
            for piece in region.pieces:
                for size in sizes:
                    key_bytes.append(piece.elements * size)
                    key_region.append(ri)
        self.key_bytes = key_bytes
        self.key_region = key_region
        self.nkeys = len(key_bytes)
        self.dims = [r.dims for r in app.regions]
        self._keys: dict[Launch, list[list[tuple[tuple[int, ...], int]]]] = {}
        #: cost-model results per (machine, launch, point, processor, instances)
        self.costs: dict[tuple, tuple] = {}

    def _classes(self, r: int, fields: tuple[str, ...]) -> list[int]:
        cls = self.class_of[r]
        out: list[int] = []
        for f in fields:
            c = cls[f]
            if c not in out:
                out.append(c)
        return out

    def keys_of(self, launch: Launch) -> list[list[tuple[tuple[int, ...], int]]]:
        """Per point, per requirement: (key ids, total bytes)."""
        cached = self._keys.get(launch)
        if cached is not None:
            return cached
        reqs = self.app.requirements_of(launch)
        out = []
        kb = self.key_bytes
        per_req: list[tuple[int, int, list[int]] | None] = []
        for req in reqs:
            if req.privilege is Privilege.NONE or not req.fields:
                per_req.append(None)
                continue
            r = self.region_index[req.region]
            per_req.append((self.key_base[r], self.nclasses[r], self._classes(r, req.fields)))
        for pt in launch.points:
            lists: list[tuple[tuple[int, ...], int]] = []
            for info, pieces in zip(per_req, pt.pieces, strict=True):
                if info is None:
                    lists.append(((), 0))
                    continue
                base, nc, cis = info
                keys = tuple(base + p * nc + c for p in pieces for c in cis)
                lists.append((keys, sum(kb[k] for k in keys)))
            out.append(lists)
        self._keys[launch] = out
        return out

    def fill_keys(self, fill: Fill) -> tuple[int, ...]:
        r = self.region_index[fill.region]
        base, nc = self.key_base[r], self.nclasses[r]
        cis = self._classes(r, fill.fields)
        return tuple(base + p * nc + c for p in fill.pieces for c in cis)


_APP_TABLES: weakref.WeakKeyDictionary[AppModel, AppTables] = weakref.WeakKeyDictionary()


def app_tables(app: AppModel) -> AppTables:
    tables = _APP_TABLES.get(app)
    if tables is None:
        tables = AppTables(app)
        _APP_TABLES[app] = tables
    return tables


# ---------------------------------------------------------------------------------------------
# Plan-level records
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class ReqT:
    """One requirement of one point, with its mapping decisions."""

    index: int
    priv: int
    redop: str | None
    keys: tuple[int, ...]
    nbytes: int
    mem: int  # memory index, -1 when there is no instance
    loc: int  # location id, -1 when there is no instance
    collect: bool
    choice: InstanceChoice | None


@dataclass(slots=True, eq=False)
class PointT:
    """One point task with its mapping decisions and costs (times in picoseconds)."""

    launch: LaunchT
    index: int
    proc: int
    node: int
    kind: str
    reqs: tuple[ReqT, ...]
    inner: bool
    duration: int  # processor occupancy: start overhead + body (inner: untraced overhead)
    duration_traced: int  # the same for traced iterations (differs for inner tasks only)
    start_overhead: int
    body: int
    children: tuple[LaunchT, ...] = ()
    error: Diagnostic | None = None
    error_output: tuple[str, ...] = ()


@dataclass(slots=True, eq=False)
class LaunchT:
    """One launch of the program (a Launch object of the application, mapped)."""

    uid: int
    launch: Launch
    task: str
    is_index: bool
    points: list[PointT] = field(default_factory=list)
    limit: int = 0
    parent_task: str = ""
    replicated_parent: bool = False


@dataclass(slots=True, eq=False)
class FillT:
    keys: tuple[int, ...]


StepT = LaunchT | FillT


@dataclass(eq=False)
class Program:
    """Everything about one run the simulator needs, flattened."""

    plan: MappingPlan
    app: AppModel
    config: RunConfig
    mt: MachineTables
    at: AppTables
    setup: list[StepT]
    untimed: list[StepT]
    timed: list[StepT]
    teardown: list[StepT]
    launches: list[LaunchT]
    task_names: list[str]

    def release(self) -> None:
        """Break the launch <-> point references once the run is over, so that reference
        counting frees the run's tables at once; left as cycles, they would make every
        garbage collection trace them (a tenth of a run's time)."""
        for launch in self.launches:
            launch.points = []


def _loc(mem: int, choice: InstanceChoice, nfields: int, dims: int) -> int:
    cls = 0
    if choice.layout.aos and nfields > 1:
        cls |= AOS_BIT
    if choice.layout.c_order and dims >= 2:
        cls |= C_ORDER_BIT
    return mem * 4 + cls


class _Builder:
    def __init__(self, plan: MappingPlan, config: RunConfig) -> None:
        self.plan = plan
        self.app = plan.app
        self.machine = plan.machine
        self.config = config
        self.mt = machine_tables(plan.machine)
        self.at = app_tables(plan.app)
        self.launches: dict[Launch, LaunchT] = {}
        self.order: list[LaunchT] = []
        ov = self.machine.overheads
        self.inner_ps = to_ps(ov.inner_task)
        self.inner_traced_ps = to_ps(ov.inner_task_traced)
        self.limits = dict(plan.instance_limits) if config.backpressure else {}

    def steps(self, steps: tuple[Step, ...], parent: str) -> list[StepT]:
        out: list[StepT] = []
        for step in steps:
            if isinstance(step, Fill):
                out.append(FillT(self.at.fill_keys(step)))
            else:
                out.append(self.launch(step, parent))
        return out

    def launch(self, launch: Launch, parent: str) -> LaunchT:
        known = self.launches.get(launch)
        if known is not None:
            return known
        mapping = self.plan.launches.get(launch)
        if mapping is None:
            raise ValueError(f"the mapping plan has no decisions for a launch of {launch.task}")
        lt = LaunchT(uid=len(self.order), launch=launch, task=launch.task,
                     is_index=launch.is_index, limit=int(self.limits.get(launch.task, 0) or 0),
                     parent_task=parent, replicated_parent=parent in self.plan.replicated)
        self.launches[launch] = lt
        self.order.append(lt)
        task = self.app.task(launch.task)
        reqs = self.app.requirements_of(launch)
        keys = self.at.keys_of(launch)
        for index, (pt, pm) in enumerate(zip(launch.points, mapping.points, strict=True)):
            lt.points.append(self.point(lt, task, reqs, keys[index], index, pt, pm))
        return lt

    def point(self, lt, task, reqs, keys, index, pt, pm) -> PointT:
        mt, machine, at = self.mt, self.machine, self.at
        proc = pm.processor
        kind = proc.kind
        collect_on = self.config.collect
        req_ts = []
        error: Diagnostic | None = None
        error_output: tuple[str, ...] = ()
        for i, (req, choice) in enumerate(zip(reqs, pm.instances, strict=True)):
            priv = _PRIV[req.privilege]
            rkeys, nbytes = keys[i]
            mem = loc = -1
            if priv != NONE and not task.inner and rkeys:
                if choice.memory is None:
                    if error is None:
                        error = execution_error(
                            VIRTUAL, f"VIRTUAL mapping of region argument {i} of leaf task "
                            f"{task.name}", choice.memory_origin, task=task.name, region=i)
                else:
                    mem = mt.mem_of(choice.memory)
                    r = at.region_index[req.region]
                    loc = _loc(mem, choice, len(req.fields), at.dims[r])
            req_ts.append(ReqT(i, priv, req.redop, rkeys, nbytes, mem, loc,
                               bool(choice.collect and collect_on and priv == RO), choice))
        if task.inner:
            p = PointT(lt, index, mt.proc_of(proc), proc.node, kind, tuple(req_ts), True,
                       self.inner_ps, self.inner_traced_ps, 0, 0)
            p.children = tuple(self.launch(child, task.name) for child in pt.children)
            return p
        work = pt.work
        p_idx = mt.proc_of(proc)
        accesses: list[Any] = []
        factors: list[float] = []
        for rt in req_ts:
            if rt.mem < 0:
                accesses.append(None)
                factors.append(1.0)
                continue
            access = mt.access(p_idx, rt.mem)
            if access is None and error is None:
                error = execution_error(
                    INTERNAL,
                    f"region requirement {rt.index} of task {task.name} is mapped to memory "
                    f"{mt.mems[rt.mem].uid}, which processor {proc.uid} cannot address",
                    rt.choice.memory_origin if rt.choice else (0, 0),
                    task=task.name, region=rt.index)
            accesses.append(access)
            factors.append(1.0)
        for rule in task.layout_rules:
            if rule.variant != kind:
                continue
            for ri in rule.requirements:
                rt = req_ts[ri]
                if rt.mem < 0 or rt.choice is None:
                    continue
                layout = rt.choice.layout
                r = at.region_index[reqs[ri].region]
                if not rule.violated_by("C" if layout.c_order else "F", not layout.aos,
                                        at.dims[r]):
                    continue
                if rule.effect == "error":
                    if (self.config.layout_checks or not rule.switch) and error is None:
                        error = execution_error(
                            rule.code or LAYOUT, rule.message,
                            rt.choice.layout_origin, task=task.name, region=ri)
                        error_output = tuple(rule.output)
                elif rule.penalty:
                    factors[ri] *= cost.layout_factor(machine, rule.penalty, kind)
        start_ps = body_ps = 0
        if error is None:
            key = (lt.launch, index, p_idx, tuple(rt.mem for rt in req_ts), tuple(factors))
            cached = mt.costs.get(key)
            if cached is None:
                body = 0.0
                if work is not None:
                    body = max(cost.compute_seconds(machine, proc, work),
                               cost.memory_seconds(machine, proc, work, accesses, factors))
                cached = mt.costs[key] = (to_ps(machine.overheads.task_start(kind)),
                                          to_ps(body))
            start_ps, body_ps = cached
        return PointT(lt, index, p_idx, proc.node, kind, tuple(req_ts), False,
                      start_ps + body_ps, start_ps + body_ps, start_ps, body_ps,
                      error=error, error_output=error_output)


def build_program(plan: MappingPlan, config: RunConfig) -> Program:
    """Flatten ``plan`` (and its application) for the simulator."""
    b = _Builder(plan, config)
    app = plan.app
    top = app.top_task
    sched = app.schedule
    setup = b.steps(sched.setup, top)
    untimed = b.steps(sched.iteration.untimed, top)
    timed = b.steps(sched.iteration.timed, top)
    teardown = b.steps(sched.teardown, top)
    names = sorted({lt.task for lt in b.order})
    return Program(plan=plan, app=app, config=config, mt=b.mt, at=b.at, setup=setup,
                   untimed=untimed, timed=timed, teardown=teardown, launches=b.order,
                   task_names=names)
