"""The application-independent description of a benchmark that the simulator executes.

An application model is *data*: logical regions cut into pieces, partitions, tasks with their
ordered region requirements, and the launches of the program in order. The simulator walks this
data under a resolved mapping; it never contains application-specific code, so a tenth
application is a new module in ``benchmarks/`` and nothing else (architecture.md).

What the simulator gets, and how it should read it
--------------------------------------------------
**Regions and pieces.** Every logical region (:class:`Region`) is cut into atomic *pieces*
(:class:`Piece`): the finest blocks any partition of the program ever distinguishes (a tile, a
strip slot, the shared nodes of one circuit piece, a matrix sub-block). A piece has an element
count, so the bytes of field ``f`` of piece ``p`` are ``p.elements * region.field(f).size``.
Valid data is tracked per *(region, piece, field)*: the simulator keeps, for each of those
triples, the set of memories holding a valid copy (or a pending reduction). Data movement is then
derived (apps.md §0.5), never scripted:

- a requirement with RO or RW privilege mapped to memory M needs every (piece, field) it names to
  be valid in M; missing ones are copied from a memory that has them (or initialised by a
  pending :class:`Fill`, at the cost of a write pass);
- after a task with RW or WO privilege finishes, M holds the only valid copy of the
  (piece, field) pairs it wrote;
- a RED requirement writes into a fresh reduction instance in M; contributions are folded into a
  valid copy before the next reader or writer of those pieces (reductions with the same operator
  commute with each other);
- ``NONE`` ("bounds only") requirements carry no data and need no instance;
- data that was never written nor filled has no valid copy anywhere: a reader gets a fresh
  (uninitialised) instance without any copy (Regent regions start uninitialised).

A partition (:class:`Partition`) is only a named list of subregions, each a set of piece ids of
its region. Aliased partitions (ghosts, halos, shared boundary points) simply share pieces.

**Tasks.** A :class:`TaskDef` lists the processor kinds it has variants for, whether it is an
inner task (only launches subtasks; its region arguments are mapped virtually whatever the mapping
says, apps.md §0.3) and its ordered requirement list (:class:`Requirement`). The requirement list
is what a mapping program's integer region references index (dsl.md §6.3), already split the way
Regent splits a region argument whose fields carry different privileges (apps.md §0.4). Layout
demands of a variant are :class:`LayoutRule` records (a hard error or a slowdown).

**Launches.** A :class:`Launch` is an index launch over a rectangular domain (one
:class:`PointTask` per point) or a single launch (one PointTask whose ``point`` is ``()``). Each
point lists, per requirement, the piece ids it touches (the projection is already evaluated) and
its :class:`Work`: flops, precision, kernel class, and bytes per requirement with an access
pattern. The processor time of a point follows machine.md §5 from those numbers; the efficiency of
each kernel class and pattern comes from the machine file. An inner task's point carries, instead
of work, the launches it issues (``children``), in program order; that is how the DISTAL task
trees are described.

Launches of one parent are issued in program order. Dependences between point tasks are the usual
Legion ones over (region, piece, field) and privilege, plus futures: a launch may produce a named
future (``future``, reduced over its points with ``future_redop``) and a later launch may consume
the most recent value of a name (``uses_futures``). ``blocks_parent`` marks a launch whose result
the parent waits for before it issues anything else (Pennant's loop predicate).

**Schedule and timing.** :class:`Schedule` gives the setup launches (once), one
:class:`Iteration` (identical every iteration: an untimed part and a timed part), the numbers of
warm-up, measured and cool-down iterations, the teardown launches and the :class:`Timer`, which
says how the program measures its elapsed time (task-body timestamps, a host clock after fences
around the whole window, or a host clock around each iteration's timed part).

**Output.** :class:`AppModel` turns the simulator's :class:`Timing` into the program's own stdout
lines and into throughput in the application's unit; both are small per-application functions.

Conventions: sizes in bytes, times in seconds, flops are floating-point operations (a multiply-add
counts 2). Launch domains start at 0 in every dimension; points of a domain are enumerated with
dimension 0 varying fastest (Legion's order).
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from mapper_gym.dsl.context import AppInfo, TaskInfo

# ---------------------------------------------------------------------------------------------
# Enumerations
# ---------------------------------------------------------------------------------------------


class Privilege(enum.Enum):
    """Privilege of one region requirement (apps.md §0.1)."""

    NONE = "NONE"  # bounds only: no data, no instance
    RO = "RO"  # read-only
    RW = "RW"  # read-write
    WO = "WO"  # write-only (write-discard): no copy-in needed
    RED = "RED"  # reduction (operator in Requirement.redop)

    @property
    def reads(self) -> bool:
        """True when the task needs the current values of the data in its instance."""
        return self in (Privilege.RO, Privilege.RW)

    @property
    def writes(self) -> bool:
        """True when the task makes its instance the only valid copy afterwards."""
        return self in (Privilege.RW, Privilege.WO)

    @property
    def has_data(self) -> bool:
        """True when a leaf task needs a physical instance for this requirement."""
        return self is not Privilege.NONE


class Pattern(enum.Enum):
    """How a kernel touches the bytes of one requirement (machine.md §5 ``eff_access``)."""

    STREAM = "stream"  # contiguous, coalesced sweeps
    GATHER = "gather"  # indirect reads (through pointers / maps)
    SCATTER = "scatter"  # indirect plain writes
    ATOMIC = "atomic"  # indirect read-modify-write reductions (GPU atomics)


class Kernel(enum.Enum):
    """Compute class of a task body; the machine file gives its efficiency per processor kind
    (machine.md §7)."""

    DGEMM = "dgemm"  # dense matrix multiply (cuBLAS / OpenBLAS)
    WIRE_SOLVER = "circuit_wire_solver"  # Circuit's serial per-wire recurrence
    STREAM = "stream"  # streaming stencil / node updates: bandwidth bound
    GATHER = "gather_mesh"  # gather-heavy unstructured-mesh kernels (Pennant)
    ATOMIC = "scatter_atomic"  # scattered reductions
    EMPTY = "empty"  # empty body (DISTAL placement tasks): start cost only
    SCALAR = "scalar"  # tiny host tasks (timestamps, printing, scalar dt logic)


class TimerMode(enum.Enum):
    """How the program measures its ELAPSED window (apps.md §x.5, §4.1)."""

    #: From the earliest body start of ``Timer.start_task`` in the first measured iteration to
    #: the latest body end of ``Timer.end_task`` in the last measured iteration (Regent
    #: timestamps taken inside tasks).
    TASK_BODIES = "task_bodies"
    #: Host clock after an execution fence before the first measured iteration and after one
    #: following the last measured iteration (Pennant).
    FENCE_WINDOW = "fence_window"
    #: Every iteration: run the untimed part, fence, read the clock, run the timed part, fence,
    #: read the clock (DISTAL). Each measured iteration yields one time.
    FENCE_PER_ITERATION = "fence_per_iteration"


# ---------------------------------------------------------------------------------------------
# Machine shape (plain integers, so this module does not depend on the machine models)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MachineShape:
    """The few machine facts an application's problem setup depends on.

    ``nodes`` counts Legion address spaces (``Machine(K)`` rows). With four ranks per physical
    node (Johnson and COSMA on the V100 cluster, apps.md §4.3) pass ``nodes=4N``,
    ``gpus_per_node=1`` and ``ranks_per_node=4``: the per-node throughput is then reported per
    physical node.
    """

    nodes: int
    gpus_per_node: int = 4
    cpus_per_node: int = 1
    omps_per_node: int = 0
    ranks_per_node: int = 1

    def __post_init__(self) -> None:
        if self.nodes < 1:
            raise ValueError(f"a machine needs at least one node, got {self.nodes}")
        for name in ("gpus_per_node", "cpus_per_node", "omps_per_node"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.ranks_per_node < 1 or self.nodes % self.ranks_per_node:
            raise ValueError(
                f"ranks_per_node={self.ranks_per_node} must divide nodes={self.nodes}"
            )

    @property
    def physical_nodes(self) -> int:
        return self.nodes // self.ranks_per_node

    @property
    def total_gpus(self) -> int:
        return self.nodes * self.gpus_per_node

    def workers_per_node(self) -> int:
        """Processors that run one unit of an app's parallel work per node: the GPUs, or the
        CPUs when the machine has no GPU (used to size launch domains)."""
        return self.gpus_per_node if self.gpus_per_node > 0 else max(1, self.cpus_per_node)


# ---------------------------------------------------------------------------------------------
# Data: fields, pieces, regions, partitions
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One field of a region's field space; ``size`` in bytes per element."""

    name: str
    size: int


@dataclass(frozen=True)
class Piece:
    """An atomic block of a region: the unit of validity tracking and of copies.

    ``bounds`` are half-open ``(lo, hi)`` index ranges per region dimension (informational and
    used by the tests to check that pieces tile their region); ``elements`` is their volume.
    """

    label: str
    elements: int
    bounds: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Region:
    """A logical region: an index space of ``shape`` and a field space, cut into pieces.

    ``dims`` matters for layouts: C versus Fortran order only changes strides when the region has
    two or more dimensions.
    """

    name: str
    shape: tuple[int, ...]
    fields: tuple[Field, ...]
    pieces: tuple[Piece, ...]

    @property
    def dims(self) -> int:
        return len(self.shape)

    @property
    def elements(self) -> int:
        return math.prod(self.shape)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"region {self.name} has no field {name}")

    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def bytes_of(self, pieces: Sequence[int], fields: Sequence[str]) -> int:
        """Bytes of the given fields over the given pieces."""
        per_element = sum(self.field(f).size for f in fields)
        return per_element * sum(self.pieces[p].elements for p in pieces)


@dataclass(frozen=True)
class Partition:
    """A named partition of ``region``: ``subregions[c]`` is the piece set of colour ``c``.

    ``color_shape`` is the colour space's extents; colours are linearised with dimension 0
    fastest. ``parent`` is the (sub)region the partition was made from (its name is the third
    candidate name of requirements on it). ``aliased`` partitions may share pieces between
    colours; ``disjoint`` is computed.
    """

    name: str
    region: str
    parent: str
    color_shape: tuple[int, ...]
    subregions: tuple[tuple[int, ...], ...]

    @property
    def colors(self) -> int:
        return len(self.subregions)

    @property
    def disjoint(self) -> bool:
        seen: set[int] = set()
        for sub in self.subregions:
            if seen.intersection(sub):
                return False
            seen.update(sub)
        return True

    def subregion(self, color: int | Sequence[int]) -> tuple[int, ...]:
        """Pieces of one colour, given linear or as a coordinate tuple."""
        return self.subregions[linearize(color, self.color_shape)]


# ---------------------------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    """One region requirement of a task, as a mapping program sees it.

    ``names`` are the candidate semantic names (dsl.md §6.3) in order: the region's own name,
    its partition's, its parent region's; the position (``"3"``) is implicit. ``region`` is the
    logical region whose pieces the launches name. ``partition`` is informational (where the
    subregions come from). A launch may replace the whole list (:attr:`Launch.requirements`),
    keeping its length: Pennant's second launch of point tasks is over ``rp_all_shared_p``;
    DISTAL's ``taco_fill`` is launched on A, B and C, its ``task_1`` WO before and RO inside
    the timed window.
    """

    region: str
    fields: tuple[str, ...]
    privilege: Privilege
    names: tuple[str, ...] = ()
    partition: str | None = None
    redop: str | None = None  # "+" for RED requirements

    def describe(self) -> str:
        priv = self.privilege.value + (self.redop or "") if self.privilege is Privilege.RED \
            else self.privilege.value
        where = self.partition or self.region
        fields = ",".join(self.fields) if self.fields else "-"
        return f"{where} {priv} {{{fields}}}"


@dataclass(frozen=True)
class LayoutRule:
    """A layout demand of one task variant on some of its requirements.

    The rule is satisfied by an instance whose dimension order is ``order`` ("C": last dimension
    contiguous; "F": dimension 0 contiguous) and whose field interleaving is ``soa`` (True: SOA,
    False: AOS); ``None`` means "any". ``order`` is only checked for regions with two or more
    dimensions. When an instance given to the variant violates the rule:

    - ``effect == "error"``: the run fails with execution error ``code``/``message`` (dsl.md §9.5)
      after the program prints ``output``; ``switch`` names a configuration switch that can turn
      the check off (on by default);
    - ``effect == "slowdown"``: the task runs with the machine file's efficiency factor
      ``penalty`` (machine.md §7) applied to its accesses of that requirement.
    """

    variant: str
    requirements: tuple[int, ...]
    order: str | None = None
    soa: bool | None = None
    effect: str = "error"
    code: str = ""
    message: str = ""
    output: tuple[str, ...] = ()
    penalty: str = ""
    switch: str = ""

    def violated_by(self, order: str, soa: bool, dims: int) -> bool:
        """True when an instance with this ordering/interleaving breaks the rule."""
        if self.order is not None and dims >= 2 and order != self.order:
            return True
        return self.soa is not None and soa != self.soa


@dataclass(frozen=True)
class TaskDef:
    """A task of the application.

    ``variants``: processor kinds with a registered variant, in the order the application
    registers them. ``inner``: the task only launches subtasks. ``replicable``: the task may be
    control-replicated (top-level tasks). ``hints`` records runtime tags the generated code puts
    on launches of this task (``untrack_valid_regions``, ``backpressure``); they describe what the
    original program asks for, the DSL's CollectMemory / InstanceLimit statements decide.
    """

    name: str
    variants: tuple[str, ...]
    requirements: tuple[Requirement, ...] = ()
    inner: bool = False
    replicable: bool = False
    layout_rules: tuple[LayoutRule, ...] = ()
    hints: frozenset[str] = frozenset()
    doc: str = ""


# ---------------------------------------------------------------------------------------------
# Work and launches
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    """Bytes one point task moves through one requirement's instance.

    ``bytes``: distinct bytes read plus written (a read-write sweep counts twice).
    For GATHER / SCATTER / ATOMIC: ``count`` individual accesses of ``grain`` bytes each; a
    memory with a minimum transaction size (zero-copy over PCIe: 32 B) costs
    ``count * max(grain, min_transaction)``, a cached local memory roughly ``bytes``.
    """

    bytes: float
    pattern: Pattern = Pattern.STREAM
    count: float = 0.0
    grain: int = 0

    @staticmethod
    def stream(nbytes: float) -> Access:
        return Access(float(nbytes), Pattern.STREAM)

    @staticmethod
    def gather(nbytes: float, count: float, grain: int) -> Access:
        return Access(float(nbytes), Pattern.GATHER, float(count), grain)

    @staticmethod
    def atomic(count: float, grain: int) -> Access:
        return Access(float(count * grain), Pattern.ATOMIC, float(count), grain)


@dataclass(frozen=True)
class Work:
    """The body of one leaf point task.

    ``accesses[i]`` are the accesses through requirement ``i`` (empty for NONE requirements);
    its length equals the task's requirement count. ``gemm`` is ``(m, n, k)`` for DGEMM bodies,
    so the machine can lower efficiency for small blocks.
    """

    flops: float
    precision: str = "fp64"  # "fp32" or "fp64"
    kernel: Kernel = Kernel.STREAM
    accesses: tuple[tuple[Access, ...], ...] = ()
    gemm: tuple[int, int, int] | None = None

    @property
    def bytes(self) -> float:
        return sum(a.bytes for acc in self.accesses for a in acc)


@dataclass(frozen=True, eq=False)
class PointTask:
    """One point of a launch (or the single task of a single launch).

    Compared and hashed by identity, so a simulator can key its state on point tasks cheaply.

    ``pieces[i]`` are the piece ids of requirement ``i``'s region that the point touches (empty
    for an empty subregion, e.g. a halo strip at the global border). A leaf point has ``work``;
    an inner point has ``children``: the launches its body issues, in program order.
    """

    point: tuple[int, ...]
    pieces: tuple[tuple[int, ...], ...]
    work: Work | None = None
    children: tuple[Launch, ...] = ()


@dataclass(frozen=True, eq=False)
class Launch:
    """An index launch over ``domain`` (extents, origin 0) or a single launch (``domain`` None).

    Compared and hashed by identity. The same Launch object stands for that launch in every
    iteration (the iteration is replayed), so key per-iteration state on (iteration, launch).

    ``requirements``: this launch's requirement list when it differs from the task's declared
    one (same length; use :meth:`AppModel.requirements_of`). ``same_address_space``: the
    generated code asks that all points stay on the launching node. ``future`` /
    ``future_redop``: the launch returns a value reduced over its points under this name;
    ``uses_futures``: names of futures it waits for (the most recent value produced before it).
    ``blocks_parent``: the parent task waits for this launch to finish before it issues anything
    else. ``label`` is for logs only.
    """

    task: str
    domain: tuple[int, ...] | None
    points: tuple[PointTask, ...]
    requirements: tuple[Requirement, ...] = ()
    same_address_space: bool = False
    future: str | None = None
    future_redop: str | None = None
    uses_futures: tuple[str, ...] = ()
    blocks_parent: bool = False
    label: str = ""

    @property
    def is_index(self) -> bool:
        return self.domain is not None


@dataclass(frozen=True)
class Fill:
    """A Legion fill operation: the fields of the pieces get a constant value.

    It costs nothing when issued; the first instance that needs the data is initialised with a
    write pass at its memory's bandwidth (machine.md §5), instead of a copy.
    """

    region: str
    fields: tuple[str, ...]
    pieces: tuple[int, ...]


Step = Launch | Fill


@dataclass(frozen=True)
class Iteration:
    """One iteration of the program's main loop; every iteration issues the same steps.

    ``untimed`` runs before ``timed`` in each iteration and lies outside the measured window
    under :attr:`TimerMode.FENCE_PER_ITERATION` (DISTAL's fill and placement launches). The
    other timer modes measure whole iterations and the apps put everything in ``timed``.
    """

    untimed: tuple[Step, ...]
    timed: tuple[Step, ...]

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.untimed + self.timed


@dataclass(frozen=True)
class Timer:
    """How the program measures time (see :class:`TimerMode`).

    ``start_task``/``end_task`` name the tasks whose bodies open/close the window in
    TASK_BODIES mode. ``init_start_task`` opens the INIT TIME window (its first body start);
    INIT TIME ends where the first iteration ends (the latest body end of ``end_task`` in
    iteration 0 for TASK_BODIES, the end of the setup launches otherwise). ``truncate_ms``: the
    program truncates each measured time to whole milliseconds (DISTAL).
    """

    mode: TimerMode
    start_task: str | None = None
    end_task: str | None = None
    init_start_task: str | None = None
    truncate_ms: bool = False


@dataclass(frozen=True)
class Schedule:
    """The whole run: ``setup``, then ``warmup + measured + cooldown`` copies of ``iteration``,
    then ``teardown``. ``traced``: the main loop is a Legion trace (replayed analysis after the
    first iteration, machine.md §6)."""

    setup: tuple[Step, ...]
    iteration: Iteration
    warmup: int
    measured: int
    cooldown: int
    teardown: tuple[Step, ...]
    timer: Timer
    traced: bool = False

    @property
    def iterations(self) -> int:
        return self.warmup + self.measured + self.cooldown

    @property
    def measured_range(self) -> range:
        """Indices (0-based) of the measured iterations."""
        return range(self.warmup, self.warmup + self.measured)


@dataclass(frozen=True)
class Timing:
    """What the simulator measured, in the program's own terms (seconds).

    ``elapsed``: the ELAPSED window. ``iteration_times``: one entry per measured iteration (only
    FENCE_PER_ITERATION timers; untruncated). ``init_time``: the INIT TIME window.
    ``init_started_at``/``run_started_at``: clock values (since the start of the run) when
    initialisation and the main loop started; Pennant prints them.
    """

    elapsed: float
    init_time: float = 0.0
    iteration_times: tuple[float, ...] = ()
    init_started_at: float = 0.0
    run_started_at: float = 0.0


# ---------------------------------------------------------------------------------------------
# The application model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AppModel:
    """A fully built application for one problem preset on one machine shape.

    ``params``: the program's parameters after presets and overrides (command-line names without
    dashes, e.g. ``{"nx": 10000, "ntx": 2}``). ``top_task``: the top-level task (control-replicated
    by default on more than one node). ``legion_flags``: the runtime flags the research group
    used with this preset (apps.md; they override the machine file's ``[legion]`` block,
    machine.md §8). ``total_flops``: the flop count the program reports for the measured window
    (``None`` when it reports none). ``throughput_unit``: the unit of :meth:`throughput`.
    """

    name: str
    preset: str
    machine: MachineShape
    params: Mapping[str, int | float]
    regions: tuple[Region, ...]
    partitions: tuple[Partition, ...]
    tasks: tuple[TaskDef, ...]
    schedule: Schedule
    top_task: str
    legion_flags: tuple[str, ...]
    throughput_unit: str
    total_flops: float | None
    _stdout: Callable[[AppModel, Timing], tuple[str, ...]] = field(repr=False)
    _throughput: Callable[[AppModel, Timing], float] = field(repr=False)
    notes: tuple[str, ...] = ()

    # -- lookups -------------------------------------------------------------------------------

    def region(self, name: str) -> Region:
        for r in self.regions:
            if r.name == name:
                return r
        raise KeyError(f"{self.name} has no region {name}")

    def partition(self, name: str) -> Partition:
        for p in self.partitions:
            if p.name == name:
                return p
        raise KeyError(f"{self.name} has no partition {name}")

    def task(self, name: str) -> TaskDef:
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(f"{self.name} has no task {name}")

    def requirements_of(self, launch: Launch) -> tuple[Requirement, ...]:
        """The requirement list of ``launch``: its own, or its task's declared one."""
        return launch.requirements or self.task(launch.task).requirements

    def names_of(self, launch: Launch) -> tuple[tuple[str, ...], ...]:
        """Candidate semantic names of each requirement of ``launch`` (positions excluded)."""
        return tuple(req.names for req in self.requirements_of(launch))

    # -- traversal -----------------------------------------------------------------------------

    def walk(self, steps: Sequence[Step]) -> Iterator[tuple[Launch, int]]:
        """Every launch under ``steps`` (children included), with its nesting depth."""
        stack: list[tuple[Launch, int]] = [
            (s, 0) for s in reversed(steps) if isinstance(s, Launch)
        ]
        while stack:
            launch, depth = stack.pop()
            yield launch, depth
            for pt in reversed(launch.points):
                for child in reversed(pt.children):
                    stack.append((child, depth + 1))

    def all_steps(self) -> tuple[Step, ...]:
        """Setup, one iteration and teardown (each iteration issues the same steps)."""
        s = self.schedule
        return s.setup + s.iteration.steps + s.teardown

    def leaf_points(self, steps: Sequence[Step]) -> Iterator[tuple[Launch, PointTask]]:
        for launch, _ in self.walk(steps):
            for pt in launch.points:
                if pt.work is not None:
                    yield launch, pt

    def flops_per_iteration(self, timed_only: bool = True) -> float:
        """Sum of the work flops of one iteration (its timed part by default)."""
        it = self.schedule.iteration
        steps = it.timed if timed_only else it.steps
        return sum(pt.work.flops for _, pt in self.leaf_points(steps) if pt.work)

    # -- output --------------------------------------------------------------------------------

    def stdout_lines(self, timing: Timing) -> tuple[str, ...]:
        """The lines the real program prints on a successful run with these times."""
        return self._stdout(self, timing)

    def throughput(self, timing: Timing) -> float:
        """Throughput in :attr:`throughput_unit` for these times (higher is better)."""
        return self._throughput(self, timing)

    # -- descriptions --------------------------------------------------------------------------

    def launch_shapes(self) -> dict[str, list[tuple[int, ...] | None]]:
        """Distinct launch domains of each task over the whole run (``None``: single launch)."""
        shapes: dict[str, list[tuple[int, ...] | None]] = {}
        for launch, _ in self.walk(self.all_steps()):
            seen = shapes.setdefault(launch.task, [])
            if launch.domain not in seen:
                seen.append(launch.domain)
        return shapes

    def app_info(self) -> AppInfo:
        """Task and region names for the DSL checker and the agents (mapper_gym.dsl.context)."""
        shapes: dict[str, list[tuple[int, ...] | None]] = {}
        names: dict[str, list[list[str]]] = {
            t.name: [list(r.names) for r in t.requirements] for t in self.tasks
        }
        for launch, _ in self.walk(self.all_steps()):
            seen = shapes.setdefault(launch.task, [])
            if launch.domain not in seen:
                seen.append(launch.domain)
            if launch.requirements:
                for i, cands in enumerate(self.names_of(launch)):
                    known = names[launch.task][i]
                    known.extend(n for n in cands if n not in known)
        infos = []
        for task in self.tasks:
            launched = shapes.get(task.name, [])
            infos.append(TaskInfo(
                name=task.name,
                regions=tuple(tuple(n) for n in names[task.name]),
                index_launch=any(d is not None for d in launched),
                single_launch=any(d is None for d in launched),
                variants=task.variants,
                inner=task.inner,
            ))
        return AppInfo(name=self.name, tasks=tuple(infos))

    def describe(self) -> dict:
        """A JSON-ready description for agents: machine-independent task metadata plus this
        build's launch shapes and partitions (what the paper's agent receives)."""
        shapes = self.launch_shapes()
        tasks = []
        info = {t.name: t for t in self.app_info().tasks}
        privileges: dict[tuple[str, int], list[str]] = {}
        for launch, _ in self.walk(self.all_steps()):
            for i, r in enumerate(self.requirements_of(launch)):
                seen = privileges.setdefault((launch.task, i), [])
                text = r.privilege.value + (r.redop or "")
                if text not in seen:
                    seen.append(text)
        for task in self.tasks:
            tasks.append({
                "name": task.name,
                "variants": list(task.variants),
                "inner": task.inner,
                "replicable": task.replicable,
                "launches": (["top-level"] if task.name == self.top_task else [])
                + [list(d) if d is not None else "single" for d in shapes.get(task.name, [])],
                "requirements": [
                    {
                        "index": i,
                        "names": list(info[task.name].regions[i]),
                        "region": r.region,
                        "partition": r.partition,
                        "fields": list(r.fields),
                        "privilege": "|".join(privileges.get(
                            (task.name, i), [r.privilege.value + (r.redop or "")])),
                    }
                    for i, r in enumerate(task.requirements)
                ],
                "layout": [
                    {"variant": rule.variant, "requirements": list(rule.requirements),
                     "order": rule.order, "soa": rule.soa, "effect": rule.effect,
                     "message": rule.message or rule.penalty}
                    for rule in task.layout_rules
                ],
                "doc": task.doc,
            })
        return {
            "name": self.name,
            "preset": self.preset,
            "params": dict(self.params),
            "top_task": self.top_task,
            "regions": [
                {"name": r.name, "shape": list(r.shape),
                 "fields": {f.name: f.size for f in r.fields}, "pieces": len(r.pieces)}
                for r in self.regions
            ],
            "partitions": [
                {"name": p.name, "region": p.region, "parent": p.parent,
                 "colors": list(p.color_shape), "disjoint": p.disjoint}
                for p in self.partitions
            ],
            "tasks": tasks,
            "throughput_unit": self.throughput_unit,
        }

    def describe_text(self) -> str:
        """The description as compact text (for prompts)."""
        d = self.describe()
        lines = [f"Application {d['name']} (preset {d['preset']}); top-level task {d['top_task']}."]
        for t in d["tasks"]:
            kind = "inner" if t["inner"] else "leaf"
            launches = ", ".join(
                s if isinstance(s, str) else "index " + "x".join(map(str, s))
                for s in t["launches"]
            ) or "not launched"
            lines.append(f"task {t['name']} [{kind}; variants {','.join(t['variants'])}; "
                         f"{launches}]")
            for r in t["requirements"]:
                names = ", ".join(r["names"]) or "-"
                lines.append(f"  region {r['index']}: names {names}; {r['privilege']} "
                             f"{{{', '.join(r['fields'])}}}")
        return "\n".join(lines)

    # -- consistency -----------------------------------------------------------------------------

    def validate(self) -> None:
        """Raise ValueError if the model is inconsistent (names, pieces, shapes, work)."""
        _validate(self)


# ---------------------------------------------------------------------------------------------
# Helpers for application modules
# ---------------------------------------------------------------------------------------------


def linearize(color: int | Sequence[int], shape: Sequence[int]) -> int:
    """Linear index of a coordinate in ``shape`` (dimension 0 fastest), or an int unchanged."""
    if isinstance(color, int):
        return color
    if len(color) != len(shape):
        raise ValueError(f"colour {tuple(color)} does not match colour space {tuple(shape)}")
    index, stride = 0, 1
    for c, extent in zip(color, shape, strict=True):
        if not 0 <= c < extent:
            raise ValueError(f"colour {tuple(color)} outside {tuple(shape)}")
        index += c * stride
        stride *= extent
    return index


def domain_points(domain: Sequence[int]) -> list[tuple[int, ...]]:
    """All points of a domain with origin 0, dimension 0 varying fastest (Legion's order)."""
    ranges = [range(e) for e in reversed(domain)]
    return [tuple(reversed(p)) for p in itertools.product(*ranges)]


def block_bounds(extent: int, parts: int) -> list[int]:
    """Boundaries ``[0, ..., extent]`` of an even block split (block k is
    ``[k*extent//parts, (k+1)*extent//parts)``)."""
    if parts < 1:
        raise ValueError("parts must be >= 1")
    return [k * extent // parts for k in range(parts + 1)]


@dataclass(frozen=True)
class PieceGrid:
    """A rectilinear grid of pieces: ``cuts[d]`` are the sorted boundaries along dimension d,
    from 0 to the extent. Pieces are numbered with dimension 0 varying fastest.

    Applications build a grid from the union of the boundaries of every rectangle any partition
    uses, so each of those rectangles is exactly a set of pieces (:meth:`select`).
    """

    cuts: tuple[tuple[int, ...], ...]

    @staticmethod
    def from_boundaries(*boundaries: Sequence[int]) -> PieceGrid:
        return PieceGrid(tuple(tuple(sorted(set(b))) for b in boundaries))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(c[-1] for c in self.cuts)

    @property
    def cells(self) -> tuple[int, ...]:
        return tuple(len(c) - 1 for c in self.cuts)

    def pieces(self, prefix: str) -> tuple[Piece, ...]:
        out = []
        for cell in domain_points(self.cells):
            bounds = tuple((self.cuts[d][i], self.cuts[d][i + 1]) for d, i in enumerate(cell))
            elems = math.prod(hi - lo for lo, hi in bounds)
            label = prefix + "[" + ",".join(f"{lo}:{hi}" for lo, hi in bounds) + "]"
            out.append(Piece(label, elems, bounds))
        return tuple(out)

    def select(self, rect: Sequence[tuple[int, int]]) -> tuple[int, ...]:
        """Piece ids exactly covering the half-open rectangle ``rect`` (empty if it is empty)."""
        if len(rect) != len(self.cuts):
            raise ValueError("rectangle rank does not match the grid")
        spans = []
        for (lo, hi), cuts in zip(rect, self.cuts, strict=True):
            if hi <= lo:
                return ()
            if lo not in cuts or hi not in cuts:
                raise ValueError(f"rectangle {tuple(rect)} is not aligned with the piece grid")
            spans.append(range(cuts.index(lo), cuts.index(hi)))
        cells = self.cells
        ids = []
        for cell in itertools.product(*reversed(spans)):
            ids.append(linearize(tuple(reversed(cell)), cells))
        return tuple(sorted(ids))


def _validate(app: AppModel) -> None:
    errors: list[str] = []
    regions = {r.name: r for r in app.regions}
    if len(regions) != len(app.regions):
        errors.append("duplicate region names")
    for r in app.regions:
        if sum(p.elements for p in r.pieces) != r.elements:
            errors.append(f"pieces of region {r.name} do not add up to its {r.elements} elements")
        if len({f.name for f in r.fields}) != len(r.fields):
            errors.append(f"duplicate fields in region {r.name}")
    parts = {p.name: p for p in app.partitions}
    if len(parts) != len(app.partitions):
        errors.append("duplicate partition names")
    for p in app.partitions:
        if p.region not in regions:
            errors.append(f"partition {p.name} of unknown region {p.region}")
            continue
        if math.prod(p.color_shape) != len(p.subregions):
            errors.append(f"partition {p.name}: colour space does not match subregion count")
        n = len(regions[p.region].pieces)
        if any(not 0 <= i < n for sub in p.subregions for i in sub):
            errors.append(f"partition {p.name} names pieces outside region {p.region}")
    tasks = {t.name: t for t in app.tasks}
    if len(tasks) != len(app.tasks):
        errors.append("duplicate task names")
    for t in app.tasks:
        for i, req in enumerate(t.requirements):
            if req.region not in regions:
                errors.append(f"task {t.name} requirement {i}: unknown region {req.region}")
                continue
            names = regions[req.region].field_names()
            for f in req.fields:
                if f not in names:
                    errors.append(f"task {t.name} requirement {i}: no field {f} in {req.region}")
            if req.partition is not None and req.partition not in parts:
                errors.append(f"task {t.name} requirement {i}: unknown partition {req.partition}")
            if (req.privilege is Privilege.RED) != (req.redop is not None):
                errors.append(f"task {t.name} requirement {i}: redop iff RED privilege")
            if req.privilege.has_data and not req.fields:
                errors.append(f"task {t.name} requirement {i}: privilege without fields")
        for rule in t.layout_rules:
            if rule.variant not in t.variants:
                errors.append(f"task {t.name}: layout rule for missing variant {rule.variant}")
            if any(not 0 <= i < len(t.requirements) for i in rule.requirements):
                errors.append(f"task {t.name}: layout rule names a missing requirement")
    if app.top_task not in tasks:
        errors.append(f"unknown top task {app.top_task}")
    steps = app.all_steps()
    for s in steps:
        if isinstance(s, Fill):
            if s.region not in regions:
                errors.append(f"fill of unknown region {s.region}")
            elif any(not 0 <= i < len(regions[s.region].pieces) for i in s.pieces):
                errors.append(f"fill of {s.region} names missing pieces")
    for launch, _ in app.walk(steps):
        task = tasks.get(launch.task)
        if task is None:
            errors.append(f"launch of unknown task {launch.task}")
            continue
        nreq = len(task.requirements)
        reqs = app.requirements_of(launch)
        if len(reqs) != nreq:
            errors.append(f"launch of {task.name}: {len(reqs)} requirements, task has {nreq}")
            continue
        for i, req in enumerate(launch.requirements):
            if req.region not in regions:
                errors.append(f"launch of {task.name} requirement {i}: unknown region")
            elif any(f not in regions[req.region].field_names() for f in req.fields):
                errors.append(f"launch of {task.name} requirement {i}: unknown field")
        if launch.domain is None:
            if len(launch.points) != 1 or launch.points[0].point != ():
                errors.append(f"single launch of {task.name} must have one point ()")
        else:
            expected = domain_points(launch.domain)
            if [pt.point for pt in launch.points] != expected:
                errors.append(f"index launch of {task.name}: points do not enumerate "
                              f"domain {launch.domain}")
        for pt in launch.points:
            if len(pt.pieces) != nreq:
                errors.append(f"point {pt.point} of {task.name}: {len(pt.pieces)} piece lists "
                              f"for {nreq} requirements")
                continue
            for req, ids in zip(reqs, pt.pieces, strict=True):
                n = len(regions[req.region].pieces) if req.region in regions else 0
                if any(not 0 <= i < n for i in ids):
                    errors.append(f"point {pt.point} of {task.name}: pieces outside "
                                  f"{req.region}")
            if task.inner:
                if pt.work is not None:
                    errors.append(f"inner task {task.name} has work")
            else:
                if pt.children:
                    errors.append(f"leaf task {task.name} launches children")
                if pt.work is None:
                    errors.append(f"leaf task {task.name} point {pt.point} has no work")
                elif pt.work.accesses and len(pt.work.accesses) != nreq:
                    errors.append(f"work of {task.name} has {len(pt.work.accesses)} access "
                                  f"lists for {nreq} requirements")
    s = app.schedule
    if min(s.warmup, s.measured, s.cooldown) < 0 or s.measured < 1:
        errors.append("iteration counts must be >= 0 and measured >= 1")
    for tname in (s.timer.start_task, s.timer.end_task, s.timer.init_start_task):
        if tname is not None and tname not in tasks:
            errors.append(f"timer names unknown task {tname}")
    if errors:
        raise ValueError(f"inconsistent model of {app.name}: " + "; ".join(errors))


class AppBuilder:
    """Mutable helper the application modules use to assemble an :class:`AppModel`.

    It keeps regions, partitions and tasks by name and creates launches whose piece lists come
    from a per-point binding function; :meth:`finish` freezes and validates the model.
    """

    def __init__(self, name: str, preset: str, machine: MachineShape,
                 params: Mapping[str, int | float]) -> None:
        self.name = name
        self.preset = preset
        self.machine = machine
        self.params = dict(params)
        self._regions: dict[str, Region] = {}
        self._partitions: dict[str, Partition] = {}
        self._tasks: dict[str, TaskDef] = {}

    # data
    def region(self, name: str, shape: Sequence[int], fields: Sequence[tuple[str, int]],
               pieces: Sequence[Piece]) -> Region:
        if name in self._regions:
            raise ValueError(f"region {name} defined twice")
        reg = Region(name, tuple(shape), tuple(Field(n, s) for n, s in fields), tuple(pieces))
        self._regions[name] = reg
        return reg

    def partition(self, name: str, region: str, parent: str, color_shape: Sequence[int],
                  subregions: Sequence[Sequence[int]]) -> Partition:
        if name in self._partitions:
            raise ValueError(f"partition {name} defined twice")
        part = Partition(name, region, parent, tuple(color_shape),
                         tuple(tuple(sorted(s)) for s in subregions))
        self._partitions[name] = part
        return part

    def get_region(self, name: str) -> Region:
        return self._regions[name]

    def get_partition(self, name: str) -> Partition:
        return self._partitions[name]

    def sub(self, partition: str, color: int | Sequence[int]) -> tuple[int, ...]:
        """Pieces of one subregion."""
        return self._partitions[partition].subregion(color)

    def whole(self, region: str) -> tuple[int, ...]:
        return tuple(range(len(self._regions[region].pieces)))

    # tasks
    def task(self, task: TaskDef) -> TaskDef:
        if task.name in self._tasks:
            raise ValueError(f"task {task.name} defined twice")
        self._tasks[task.name] = task
        return task

    def get_task(self, name: str) -> TaskDef:
        return self._tasks[name]

    def bytes_of(self, region: str, pieces: Sequence[int], fields: Sequence[str]) -> int:
        return self._regions[region].bytes_of(pieces, fields)

    # launches
    def index_launch(
        self,
        task: str,
        domain: Sequence[int],
        bind: Callable[[tuple[int, ...]], Sequence[Sequence[int]]],
        work: Callable[[tuple[int, ...]], Work | None] | None = None,
        children: Callable[[tuple[int, ...]], Sequence[Launch]] | None = None,
        **launch_args,
    ) -> Launch:
        """An index launch: ``bind(point)`` gives the piece ids per requirement, ``work(point)``
        the body of a leaf point, ``children(point)`` the launches of an inner point."""
        points = []
        for p in domain_points(domain):
            points.append(PointTask(
                point=p,
                pieces=tuple(tuple(ids) for ids in bind(p)),
                work=work(p) if work else None,
                children=tuple(children(p)) if children else (),
            ))
        return Launch(task=task, domain=tuple(domain), points=tuple(points), **launch_args)

    def single_launch(
        self,
        task: str,
        pieces: Sequence[Sequence[int]] = (),
        work: Work | None = None,
        children: Sequence[Launch] = (),
        **launch_args,
    ) -> Launch:
        pt = PointTask(point=(), pieces=tuple(tuple(ids) for ids in pieces), work=work,
                       children=tuple(children))
        return Launch(task=task, domain=None, points=(pt,), **launch_args)

    def finish(
        self,
        schedule: Schedule,
        top_task: str,
        legion_flags: Sequence[str],
        throughput_unit: str,
        total_flops: float | None,
        stdout: Callable[[AppModel, Timing], tuple[str, ...]],
        throughput: Callable[[AppModel, Timing], float],
        notes: Sequence[str] = (),
    ) -> AppModel:
        app = AppModel(
            name=self.name,
            preset=self.preset,
            machine=self.machine,
            params=dict(self.params),
            regions=tuple(self._regions.values()),
            partitions=tuple(self._partitions.values()),
            tasks=tuple(self._tasks.values()),
            schedule=schedule,
            top_task=top_task,
            legion_flags=tuple(legion_flags),
            throughput_unit=throughput_unit,
            total_flops=total_flops,
            _stdout=stdout,
            _throughput=throughput,
            notes=tuple(notes),
        )
        app.validate()
        return app


def scalar_work(nreq: int = 0, flops: float = 0.0) -> Work:
    """Work of a tiny host task (timestamps, printing, scalar logic)."""
    return Work(flops=flops, precision="fp64", kernel=Kernel.SCALAR,
                accesses=tuple(() for _ in range(nreq)))


def closest_pair(n: int) -> tuple[int, int]:
    """``(a, b)`` with ``a * b == n``, ``a >= b`` and ``a - b`` minimal (a "closest pair")."""
    if n < 1:
        raise ValueError("n must be >= 1")
    b = math.isqrt(n)
    while n % b:
        b -= 1
    return n // b, b


def legion_settings(flags: Sequence[str]) -> dict[str, int]:
    """The machine-relevant ``-ll:`` settings among runtime flags, under the key names of the
    machine file's ``[legion]`` block (machine.md §8); sizes in MiB (``15G`` → 15360)."""
    keys = {
        "-ll:cpu": "cpu", "-ll:util": "util", "-ll:bgwork": "bgwork", "-ll:gpu": "gpu",
        "-ll:ocpu": "omp", "-ll:othr": "omp_threads", "-ll:csize": "csize_mib",
        "-ll:fsize": "fsize_mib", "-ll:zsize": "zsize_mib", "-ll:rsize": "rsize_mib",
        "-ll:nsize": "nsize_mib", "-ll:ncsize": "ncsize_mib", "-ll:gsize": "gsize_mib",
    }
    out: dict[str, int] = {}
    for flag, value in itertools.pairwise(flags):
        if flag in keys:
            v = value.upper()
            out[keys[flag]] = int(v[:-1]) * 1024 if v.endswith("G") else int(v)
    return out
