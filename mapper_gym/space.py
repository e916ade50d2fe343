"""The structured decision space of one application on one machine (paper.md, architecture.md).

The paper's agent splits a mapper into six independent decision groups, rendered in this order
and concatenated into one DSL program:

================  ==============================================  =================
group             one parameter per ...                           statement
================  ==============================================  =================
task              task: which processor kind comes first          ``Task``
region            (task, argument, processor kind): a memory      ``Region``
layout            (task, region argument): SOA/AOS, C/F order     ``Layout``
instance_limit    launched task: no limit, or 1..4 in flight      ``InstanceLimit``
index_task_map    index-launched task: a function from a menu     ``IndexTaskMap``
single_task_map   single-launched task: where beside its parent   ``SingleTaskMap``
================  ==============================================  =================

A *configuration* (:data:`Config`) assigns one choice (a string) to every parameter. Every
choice of every parameter renders to a program that parses, checks without errors and loads
on the machine the space was built for: the space never offers a processor kind the machine or
the task lacks, nor a memory kind the processor cannot use, and its placement functions stay
inside the machine by construction. What remains possible, on purpose, are *run-time* failures:
a layout a task variant rejects (cuBLAS wants C order), a memory too small for the data. That is
the space the paper's random mappers were drawn from (82 % of them failed at run time).

Parameters can be *inactive*: the memory of a (task, argument) for a processor kind the task
does not run on under the current ``task`` choices is never rendered. :meth:`DecisionSpace.
canonical` resets inactive parameters to their first choice, so two configurations that render
the same program have the same canonical form. Random search, OpenTuner, coordinate descent and
the LLM agent's template share this space.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mapper_gym.dsl.context import Topology
from mapper_gym.dsl.parser import RESERVED_WORDS

#: The paper's six decision groups, in rendering order.
GROUPS: tuple[str, ...] = (
    "task", "region", "layout", "instance_limit", "index_task_map", "single_task_map",
)

#: A configuration: parameter name -> chosen value (one of the parameter's choices).
Config = dict[str, str]

#: Processor kinds in Legion's default ranking (a GPU variant first when the node has GPUs).
KIND_RANKING: tuple[str, ...] = ("GPU", "OMP", "CPU", "IO", "PY", "PROC")
#: Memory kinds a region may be placed in, fastest-first for the processors that can use them.
MEMORY_RANKING: tuple[str, ...] = ("FBMEM", "SOCKMEM", "SYSMEM", "RDMEM", "ZCMEM")

#: Layout choices: interleaving x dimension order; the first is the row-major SOA layout that
#: every task variant of the nine applications accepts (possibly with a slowdown).
LAYOUTS: tuple[str, ...] = ("SOA C_order", "SOA F_order", "AOS C_order", "AOS F_order")
#: Alignment appended to every layout when a space is built with ``align=True``.
ALIGN_WORD = "Align==128"

#: ``InstanceLimit`` choices: no statement, or at most 1..4 tasks in flight per processor.
INSTANCE_LIMITS: tuple[str, ...] = ("none", "1", "2", "3", "4")

#: Placement functions for index launches; "default" leaves the launch to the default mapper.
INDEX_STRATEGIES: tuple[str, ...] = (
    "default",
    "linear_block",  # dimension-0-fastest linear index, contiguous blocks over node-major procs
    "linear_cyclic",  # the same index dealt round-robin over node-major processors
    "node_cyclic",  # dealt round-robin over nodes first (consecutive points on other nodes)
    "auto_split_block",  # processors factored like the launch (auto_split), one block each
    "auto_split_cyclic",  # the same processor grid, points dealt cyclically along each dim
    "greedy_split_block",  # Legion's default factorisation (greedy_split), one block each
    "node_block_proc_cyclic",  # nodes factored and blocked, a node's processors cyclic
)

#: Placements for single launches (within the launching node, dsl.md §6.8).
SINGLE_STRATEGIES: tuple[str, ...] = ("default", "same_as_parent", "next_to_parent")

_IDENT = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*\Z")
_LINEAR_INDEX_FN = "linear_index"


class SpaceError(ValueError):
    """A configuration that does not belong to its space (unknown name, illegal value)."""


def _nameable(name: str) -> bool:
    """True when a DSL program can name ``name`` (an identifier that is not reserved)."""
    return bool(_IDENT.match(name)) and name not in RESERVED_WORDS and len(name) <= 128


# ---------------------------------------------------------------------------------------------
# The machine as the space sees it
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MachineView:
    """Processor counts and usable memory kinds per processor kind: a plain-data Topology.

    Agents receive the machine as data (nodes, processors per node); this record is that data
    and also implements :class:`~mapper_gym.dsl.context.Topology`, so the DSL checker accepts it.
    """

    nodes: int
    processors: Mapping[str, int]
    usable: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @staticmethod
    def from_topology(topology: Topology) -> MachineView:
        """Copy the facts the space needs out of any Topology (a Machine, SimpleTopology...)."""
        processors = {k: topology.processors_per_node(k) for k in KIND_RANKING}
        processors = {k: n for k, n in processors.items() if n > 0}
        usable = {
            k: tuple(m for m in MEMORY_RANKING if topology.can_use(k, m)) for k in processors
        }
        return MachineView(topology.nodes, processors, usable)

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> MachineView:
        """Inverse of :meth:`to_dict`."""
        return MachineView(
            int(data["nodes"]),
            {str(k): int(v) for k, v in data["processors"].items()},
            {str(k): tuple(v) for k, v in data.get("usable", {}).items()},
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for agents' prompts and logs)."""
        return {
            "nodes": self.nodes,
            "processors": dict(self.processors),
            "usable": {k: list(v) for k, v in self.usable.items()},
        }

    def processors_per_node(self, kind: str) -> int:
        return int(self.processors.get(kind, 0))

    def can_use(self, proc_kind: str, mem_kind: str) -> bool:
        return mem_kind in self.usable.get(proc_kind, ())

    def kinds(self) -> tuple[str, ...]:
        """Processor kinds present, in Legion's default ranking."""
        return tuple(k for k in KIND_RANKING if self.processors_per_node(k) > 0)


# ---------------------------------------------------------------------------------------------
# What the space needs to know about an application
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskSpec:
    """One task as the space sees it.

    ``data_args``: region argument indices that need a physical instance (a privilege other
    than "bounds only"); ``arg_names``: candidate semantic names per argument; ``parents``:
    names of the tasks that launch it (empty for the top-level task, unknown if None).
    """

    name: str
    variants: tuple[str, ...]
    inner: bool
    index_launch: bool
    single_launch: bool
    top_level: bool
    arg_names: tuple[tuple[str, ...], ...]
    data_args: tuple[int, ...]
    parents: tuple[str, ...] | None = None


def tasks_from_description(
    description: Mapping[str, Any], parents: Mapping[str, Sequence[str]] | None = None
) -> tuple[TaskSpec, ...]:
    """Task specs from :meth:`mapper_gym.appmodel.AppModel.describe` output."""
    top = description.get("top_task")
    specs = []
    for t in description["tasks"]:
        launches = t.get("launches", [])
        args = []
        data = []
        for r in t.get("requirements", []):
            args.append(tuple(r.get("names", ())))
            privileges = str(r.get("privilege", "RW")).split("|")
            if any(p != "NONE" for p in privileges):
                data.append(int(r["index"]))
        specs.append(TaskSpec(
            name=t["name"],
            variants=tuple(t["variants"]),
            inner=bool(t.get("inner", False)),
            index_launch=any(isinstance(s, list | tuple) for s in launches),
            single_launch="single" in launches,
            top_level=t["name"] == top or "top-level" in launches,
            arg_names=tuple(args),
            data_args=tuple(data),
            parents=None if parents is None else tuple(parents.get(t["name"], ())),
        ))
    return tuple(specs)


def parents_of(model: Any) -> dict[str, tuple[str, ...]]:
    """Names of the tasks launching each task in an AppModel (the top task launches the
    outermost launches)."""
    found: dict[str, list[str]] = {}

    def note(child: str, parent: str) -> None:
        seen = found.setdefault(child, [])
        if parent not in seen:
            seen.append(parent)

    stack = [(s, model.top_task) for s in model.all_steps() if hasattr(s, "points")]
    while stack:
        launch, parent = stack.pop()
        note(launch.task, parent)
        for pt in launch.points:
            for child in pt.children:
                stack.append((child, launch.task))
    return {k: tuple(v) for k, v in found.items()}


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    """One decision with a finite domain. ``choices[0]`` is the baseline value."""

    name: str
    group: str
    task: str
    choices: tuple[str, ...]
    #: Region argument index (region and layout parameters).
    arg: int | None = None
    #: Region parameters: the processor kind under which this parameter is used.
    kind: str | None = None
    description: str = ""

    @property
    def tunable(self) -> bool:
        """More than one choice: worth searching."""
        return len(self.choices) > 1


def _kind_list(first: str, kinds: Sequence[str]) -> str:
    rest = [k for k in KIND_RANKING if k in kinds and k != first]
    return ",".join([first, *rest])


# ---------------------------------------------------------------------------------------------
# The space
# ---------------------------------------------------------------------------------------------


class DecisionSpace:
    """All decisions of one application on one machine, and their rendering to DSL text.

    Build it with :meth:`for_app` (a benchmark application by name), :meth:`from_model` (an
    :class:`~mapper_gym.appmodel.AppModel`) or :meth:`from_description` (the agent-facing
    description dict); all three need the machine (any Topology, or a :class:`MachineView`).
    """

    def __init__(
        self,
        app_name: str,
        tasks: Sequence[TaskSpec],
        machine: Topology,
        *,
        align: bool = False,
        instance_limits: Sequence[str] = INSTANCE_LIMITS,
    ) -> None:
        self.app_name = app_name
        self.machine = machine if isinstance(machine, MachineView) else \
            MachineView.from_topology(machine)
        self.align = align
        self._tasks: dict[str, TaskSpec] = {}
        self._kinds: dict[str, tuple[str, ...]] = {}
        for spec in tasks:
            kinds = tuple(k for k in self.machine.kinds() if k in spec.variants)
            if not kinds or not _nameable(spec.name):
                continue  # no runnable variant here, or a name a program cannot write
            self._tasks[spec.name] = spec
            self._kinds[spec.name] = kinds
        params: list[Parameter] = []
        for group in GROUPS:
            params.extend(getattr(self, f"_params_{group}")(tuple(instance_limits)))
        self.parameters: tuple[Parameter, ...] = tuple(params)
        self._by_name = {p.name: p for p in self.parameters}
        if len(self._by_name) != len(self.parameters):
            raise AssertionError("duplicate parameter names")  # a bug in this module

    # -- constructors ----------------------------------------------------------------------------

    @classmethod
    def from_description(
        cls,
        description: Mapping[str, Any],
        machine: Topology,
        parents: Mapping[str, Sequence[str]] | None = None,
        **options: Any,
    ) -> DecisionSpace:
        """From an AppModel description (``describe()``) and a machine. Without ``parents``
        single launches get no parent-relative placements."""
        return cls(str(description["name"]), tasks_from_description(description, parents),
                   machine, **options)

    @classmethod
    def from_model(cls, model: Any, machine: Topology, **options: Any) -> DecisionSpace:
        """From a built :class:`~mapper_gym.appmodel.AppModel`."""
        return cls.from_description(model.describe(), machine, parents_of(model), **options)

    @classmethod
    def for_app(
        cls, app: str, machine: Topology | None = None, **options: Any
    ) -> DecisionSpace:
        """The space of benchmark application ``app`` on ``machine`` (default: the p100-node
        preset configured with the application's runtime flags, as the environment runs it).

        Task structure does not depend on problem size, so the small preset is used.
        """
        from benchmarks import get_app
        from mapper_gym.appmodel import MachineShape

        application = get_app(app)
        if machine is None:
            from mapper_gym.machine import load_machine

            probe = application.build(MachineShape(nodes=1), preset="A")
            machine = load_machine().with_legion_flags(list(probe.legion_flags))
        model = application.build(MachineShape(nodes=max(1, machine.nodes)), preset="small")
        return cls.from_model(model, machine, **options)

    # -- parameter construction (one method per group) ------------------------------------------

    def _params_task(self, _limits: tuple[str, ...]) -> Iterator[Parameter]:
        for name, kinds in self._kinds.items():
            yield Parameter(
                name=f"task/{name}", group="task", task=name,
                choices=tuple(_kind_list(k, kinds) for k in kinds),
                description=f"processor kinds of {name}, first usable one wins",
            )

    def _data_args(self, name: str) -> tuple[int, ...]:
        spec = self._tasks[name]
        return () if spec.inner or spec.top_level else spec.data_args

    def _params_region(self, _limits: tuple[str, ...]) -> Iterator[Parameter]:
        for name, kinds in self._kinds.items():
            for arg in self._data_args(name):
                for kind in kinds:
                    memories = self.machine.usable.get(kind, ())
                    if not memories:
                        continue
                    yield Parameter(
                        name=f"region/{name}/{arg}/{kind}", group="region", task=name,
                        choices=tuple(memories), arg=arg, kind=kind,
                        description=f"memory of argument {arg} of {name} when on {kind}",
                    )

    def _params_layout(self, _limits: tuple[str, ...]) -> Iterator[Parameter]:
        layouts = LAYOUTS
        if self.align:
            layouts += tuple(f"{lay} {ALIGN_WORD}" for lay in LAYOUTS)
        for name in self._kinds:
            for arg in self._data_args(name):
                yield Parameter(
                    name=f"layout/{name}/{arg}", group="layout", task=name,
                    choices=layouts, arg=arg,
                    description=f"instance layout of argument {arg} of {name}",
                )

    def _params_instance_limit(self, limits: tuple[str, ...]) -> Iterator[Parameter]:
        for name, spec in self._tasks.items():
            if spec.top_level or not (spec.index_launch or spec.single_launch):
                continue
            yield Parameter(
                name=f"instance_limit/{name}", group="instance_limit", task=name,
                choices=limits, description=f"at most N {name} tasks in flight per processor",
            )

    def _params_index_task_map(self, _limits: tuple[str, ...]) -> Iterator[Parameter]:
        for name, spec in self._tasks.items():
            if spec.index_launch and not spec.top_level:
                yield Parameter(
                    name=f"index_task_map/{name}", group="index_task_map", task=name,
                    choices=INDEX_STRATEGIES, description=f"placement of {name}'s points",
                )

    def _params_single_task_map(self, _limits: tuple[str, ...]) -> Iterator[Parameter]:
        for name, spec in self._tasks.items():
            if not spec.single_launch or spec.top_level:
                continue
            parent = self._single_parent(name)
            choices = SINGLE_STRATEGIES if parent is not None else ("default",)
            yield Parameter(
                name=f"single_task_map/{name}", group="single_task_map", task=name,
                choices=choices, description=f"processor of {name} within its node",
            )

    def _single_parent(self, name: str) -> str | None:
        """The one task that launches ``name``, if known, unique and mappable."""
        parents = self._tasks[name].parents
        if parents is None or len(parents) != 1 or parents[0] not in self._kinds:
            return None
        return parents[0]

    # -- lookups ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self.parameters)

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._by_name[name]
        except KeyError:
            raise SpaceError(f"{self.app_name}: no parameter {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def tasks(self) -> tuple[str, ...]:
        """Tasks the space can name, in the application's order."""
        return tuple(self._kinds)

    def group(self, group: str) -> tuple[Parameter, ...]:
        """Parameters of one of :data:`GROUPS`."""
        if group not in GROUPS:
            raise SpaceError(f"unknown group {group!r}; groups: {', '.join(GROUPS)}")
        return tuple(p for p in self.parameters if p.group == group)

    def tunable(self) -> tuple[Parameter, ...]:
        """Parameters with more than one choice."""
        return tuple(p for p in self.parameters if p.tunable)

    def log10_size(self) -> float:
        """log10 of the number of configurations (inactive parameters included)."""
        return sum(math.log10(len(p.choices)) for p in self.parameters)

    # -- configurations --------------------------------------------------------------------------

    def baseline(self) -> Config:
        """Every parameter at its first choice: GPU (then OMP, CPU) first, the fastest usable
        memory, SOA C-order layouts, no instance limits, default placements."""
        return {p.name: p.choices[0] for p in self.parameters}

    def sample(self, rng: random.Random | int | None = None) -> Config:
        """A uniformly random configuration (each parameter independently)."""
        rng = rng if isinstance(rng, random.Random) else random.Random(rng)
        return {p.name: rng.choice(p.choices) for p in self.parameters}

    def validate(self, config: Mapping[str, str]) -> None:
        """Raise :class:`SpaceError` unless ``config`` sets every parameter to a legal value."""
        unknown = sorted(set(config) - set(self._by_name))
        if unknown:
            raise SpaceError(f"{self.app_name}: unknown parameters {', '.join(unknown[:5])}")
        for p in self.parameters:
            if p.name not in config:
                raise SpaceError(f"{self.app_name}: parameter {p.name} is not set")
            if config[p.name] not in p.choices:
                raise SpaceError(
                    f"{p.name}: {config[p.name]!r} is not one of {', '.join(p.choices)}")

    def complete(self, partial: Mapping[str, str]) -> Config:
        """``partial`` with every missing parameter at its baseline value (validated)."""
        config = self.baseline()
        config.update(partial)
        self.validate(config)
        return config

    def kind_of(self, config: Mapping[str, str], task: str) -> str:
        """The processor kind ``task`` runs on under ``config``."""
        return config[f"task/{task}"].split(",")[0]

    def is_active(self, param: Parameter | str, config: Mapping[str, str]) -> bool:
        """False for parameters whose value cannot change the rendered program."""
        p = self[param] if isinstance(param, str) else param
        if p.group == "region":
            return self.kind_of(config, p.task) == p.kind
        return True

    def active(self, config: Mapping[str, str]) -> tuple[Parameter, ...]:
        """Parameters that matter under ``config``."""
        return tuple(p for p in self.parameters if self.is_active(p, config))

    def canonical(self, config: Mapping[str, str]) -> Config:
        """``config`` with inactive parameters reset to their first choice."""
        self.validate(config)
        return {p.name: config[p.name] if self.is_active(p, config) else p.choices[0]
                for p in self.parameters}

    def neighbours(self, config: Mapping[str, str], name: str) -> list[Config]:
        """Configurations that differ from ``config`` in parameter ``name`` only."""
        p = self[name]
        out = []
        for choice in p.choices:
            if choice != config[name]:
                other = dict(config)
                other[name] = choice
                out.append(other)
        return out

    def enumerate(self, limit: int = 100_000) -> Iterator[Config]:
        """Every configuration (for tiny spaces and tests); refuses more than ``limit``."""
        if self.log10_size() > math.log10(limit):
            raise SpaceError(f"{self.app_name}: more than {limit} configurations")
        names = [p.name for p in self.parameters]
        for values in itertools.product(*(p.choices for p in self.parameters)):
            yield dict(zip(names, values, strict=True))

    # -- rendering -------------------------------------------------------------------------------

    def render(self, config: Mapping[str, str], comments: bool = True) -> str:
        """The DSL program of ``config``: the six groups in the paper's order."""
        self.validate(config)
        chunks = [self.render_group(config, g, comments=comments) for g in GROUPS]
        return "\n".join(c for c in chunks if c)

    def render_group(self, config: Mapping[str, str], group: str, comments: bool = True) -> str:
        """The text of one group (empty when it has no statement); groups are independent:
        each defines the machine spaces and functions it uses."""
        if group not in GROUPS:
            raise SpaceError(f"unknown group {group!r}")
        lines = list(getattr(self, f"_render_{group}")(config))
        if not lines:
            return ""
        header = [f"# {group}"] if comments else []
        return "\n".join(header + lines) + "\n"

    def region_ref(self, task: str, arg: int) -> str:
        """How a program names argument ``arg`` of ``task``: its first semantic name when no
        other argument of the task answers to that name, else its index."""
        names = self._tasks[task].arg_names
        own = names[arg] if arg < len(names) else ()
        if own and _nameable(own[0]):
            clash = any(own[0] in other for i, other in enumerate(names) if i != arg)
            if not clash:
                return own[0]
        return str(arg)

    def _render_task(self, config: Mapping[str, str]) -> Iterator[str]:
        by_list: dict[str, list[str]] = {}
        for name in self._kinds:
            by_list.setdefault(config[f"task/{name}"], []).append(name)
        for kinds, names in by_list.items():
            yield f"Task {','.join(names)} {kinds};"

    def _render_region(self, config: Mapping[str, str]) -> Iterator[str]:
        for p in self.group("region"):
            if self.is_active(p, config):
                yield f"Region {p.task} {self.region_ref(p.task, p.arg)} {p.kind} {config[p.name]};"

    def _render_layout(self, config: Mapping[str, str]) -> Iterator[str]:
        for p in self.group("layout"):
            yield f"Layout {p.task} {self.region_ref(p.task, p.arg)} * {config[p.name]};"

    def _render_instance_limit(self, config: Mapping[str, str]) -> Iterator[str]:
        for p in self.group("instance_limit"):
            if config[p.name] != "none":
                yield f"InstanceLimit {p.task} {config[p.name]};"

    def _render_index_task_map(self, config: Mapping[str, str]) -> Iterator[str]:
        used: dict[str, list[str]] = {}  # function name -> tasks
        bodies: dict[str, str] = {}
        for p in self.group("index_task_map"):
            strategy = config[p.name]
            if strategy == "default":
                continue
            kind = self.kind_of(config, p.task)
            fn = f"{strategy}_{kind.lower()}"
            used.setdefault(fn, []).append(p.task)
            bodies[fn] = _index_function(fn, strategy, kind)
        if not used:
            return
        if any(fn.rsplit("_", 1)[0] in _NEEDS_LINEAR_INDEX for fn in used):
            yield from _LINEAR_INDEX_DEF.splitlines()
            yield ""
        for fn in used:
            yield from bodies[fn].splitlines()
            yield ""
        for fn, tasks in used.items():
            yield f"IndexTaskMap {','.join(tasks)} {fn};"

    def _render_single_task_map(self, config: Mapping[str, str]) -> Iterator[str]:
        used: dict[str, list[str]] = {}
        bodies: dict[str, str] = {}
        for p in self.group("single_task_map"):
            strategy = config[p.name]
            if strategy == "default":
                continue
            parent = self._single_parent(p.task)
            assert parent is not None  # the parameter has only "default" otherwise
            kind = self.kind_of(config, p.task)
            parent_kind = self.kind_of(config, parent)
            fn = f"{strategy}_{kind.lower()}_from_{parent_kind.lower()}"
            used.setdefault(fn, []).append(p.task)
            bodies[fn] = _single_function(fn, strategy, kind, parent_kind)
        for fn in used:
            yield from bodies[fn].splitlines()
            yield ""
        for fn, tasks in used.items():
            yield f"SingleTaskMap {','.join(tasks)} {fn};"

    # -- description -------------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary: groups, parameters and choices (for prompts and logs)."""
        return {
            "app": self.app_name,
            "machine": self.machine.to_dict(),
            "log10_size": round(self.log10_size(), 2),
            "groups": {
                g: [{"name": p.name, "choices": list(p.choices), "description": p.description}
                    for p in self.group(g)]
                for g in GROUPS
            },
        }


# ---------------------------------------------------------------------------------------------
# Placement functions (our own formulations of the usual block / cyclic / factored mappings)
# ---------------------------------------------------------------------------------------------

# Linearisation with dimension 0 fastest (Legion's point order), for any rank.
_LINEAR_INDEX_DEF = f"""def {_LINEAR_INDEX_FN}(IPoint p, ISpace s) {{
    return p.len == 1 ? p[0] : p[0] + s[0] * {_LINEAR_INDEX_FN}(p[1:], s[1:]);
}}"""

#: Strategies whose functions call the linearisation helper.
_NEEDS_LINEAR_INDEX = frozenset({"linear_block", "linear_cyclic", "node_cyclic"})

_INDEX_BODIES: dict[str, str] = {
    "linear_block": """    m = Machine({K}).merge(0, 1);
    return m[{L}(t.ipoint, t.ispace) * m.size[0] / t.ispace.volume];""",
    "linear_cyclic": """    m = Machine({K}).merge(0, 1);
    return m[{L}(t.ipoint, t.ispace) % m.size[0]];""",
    "node_cyclic": """    m = Machine({K}).merge(1, 0);
    return m[{L}(t.ipoint, t.ispace) % m.size[0]];""",
    "auto_split_block": """    m = Machine({K}).merge(0, 1).auto_split(0, t.ispace);
    return m[*(t.ipoint * m.size / t.ispace)];""",
    "auto_split_cyclic": """    m = Machine({K}).merge(0, 1).auto_split(0, t.ispace);
    return m[*(t.ipoint % m.size)];""",
    "greedy_split_block": """    m = Machine({K}).merge(0, 1).greedy_split(0, t.ispace);
    return m[*(t.ipoint * m.size / t.ispace)];""",
    "node_block_proc_cyclic": """    k = t.ispace.len;
    m = Machine({K}).auto_split(0, t.ispace).auto_split(k, t.ispace);
    return m[*(t.ipoint * m.size[:k] / t.ispace), *(t.ipoint % m.size[k:])];""",
}

_SINGLE_BODIES: dict[str, str] = {
    "same_as_parent": """    m = Machine({K});
    here = t.parent.processor(Machine({P}));
    return m[here[0], here[1] % m.size[1]];""",
    "next_to_parent": """    m = Machine({K});
    here = t.parent.processor(Machine({P}));
    return m[here[0], (here[1] + 1) % m.size[1]];""",
}


def _index_function(fn: str, strategy: str, kind: str) -> str:
    body = _INDEX_BODIES[strategy].format(K=kind, L=_LINEAR_INDEX_FN)
    return f"def {fn}(Task t) {{\n{body}\n}}"


def _single_function(fn: str, strategy: str, kind: str, parent_kind: str) -> str:
    body = _SINGLE_BODIES[strategy].format(K=kind, P=parent_kind)
    return f"def {fn}(Task t) {{\n{body}\n}}"


def random_program(info: Mapping[str, Any], rng: random.Random | int | None = None) -> str:
    """A uniformly random program of the decision space described by an environment's reset
    ``info`` (the paper's starting point: random decisions that always form a valid program)."""
    from mapper_gym.agent import AgentInfo

    space = AgentInfo.from_reset_info(info).space()
    return space.render(space.sample(rng))


def config_key(config: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """A hashable identity of a configuration."""
    return tuple(sorted(config.items()))


__all__ = [
    "GROUPS",
    "INDEX_STRATEGIES",
    "INSTANCE_LIMITS",
    "LAYOUTS",
    "SINGLE_STRATEGIES",
    "Config",
    "DecisionSpace",
    "MachineView",
    "Parameter",
    "SpaceError",
    "TaskSpec",
    "config_key",
    "parents_of",
    "random_program",
    "tasks_from_description",
]
