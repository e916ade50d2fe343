"""Small synthetic applications and helpers for the resolver tests.

Every synthetic app has one 1-D region ``grid`` (fields ``x``, ``y``; one piece per element)
with a partition ``tiles`` (one piece per colour), an inner top-level task ``top`` and whatever
tasks and launches a test declares. Requirements name ``tiles`` pieces by the point's first
coordinate, so any domain works.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mapper_gym.appmodel import (
    AppBuilder,
    AppModel,
    Iteration,
    Launch,
    MachineShape,
    PieceGrid,
    Privilege,
    Requirement,
    Schedule,
    TaskDef,
    Timer,
    TimerMode,
    scalar_work,
)
from mapper_gym.config import RunConfig
from mapper_gym.dsl.pipeline import compile_program
from mapper_gym.machine import Machine, load_machine
from mapper_gym.mapping import resolve
from mapper_gym.plan import MappingPlan

PIECES = 16


def req(privilege: Privilege, *names: str) -> Requirement:
    """A requirement on ``grid`` field ``x`` with candidate names ``names``."""
    if privilege is Privilege.NONE:
        return Requirement("grid", (), privilege, names, "tiles")
    redop = "+" if privilege is Privilege.RED else None
    return Requirement("grid", ("x",), privilege, names, "tiles", redop)


def leaf(name: str, variants: Sequence[str], *reqs: Requirement) -> TaskDef:
    return TaskDef(name, tuple(variants), tuple(reqs))


def inner(name: str, variants: Sequence[str], *reqs: Requirement) -> TaskDef:
    return TaskDef(name, tuple(variants), tuple(reqs), inner=True)


class Synth:
    """Builds launches for a synthetic app (wraps :class:`AppBuilder`)."""

    def __init__(self, builder: AppBuilder) -> None:
        self.b = builder

    def _bind(self, task: str) -> Callable[[tuple[int, ...]], list[tuple[int, ...]]]:
        nreq = len(self.b.get_task(task).requirements)
        return lambda pt: [((pt[0] if pt else 0) % PIECES,)] * nreq

    def index(self, task: str, domain: Sequence[int],
              children: Callable[[tuple[int, ...]], Sequence[Launch]] | None = None,
              **launch_args) -> Launch:
        t = self.b.get_task(task)
        work = None if t.inner else (lambda pt: scalar_work(len(t.requirements)))
        return self.b.index_launch(task, domain, self._bind(task), work, children,
                                   **launch_args)

    def single(self, task: str, children: Sequence[Launch] = (), **launch_args) -> Launch:
        t = self.b.get_task(task)
        pieces = self._bind(task)(())
        work = None if t.inner else scalar_work(len(t.requirements))
        return self.b.single_launch(task, pieces, work, tuple(children), **launch_args)


def make_app(
    tasks: Sequence[TaskDef],
    steps: Callable[[Synth], Sequence[Launch]],
    *,
    top_variants: Sequence[str] = ("CPU",),
    flags: Sequence[str] = (),
) -> AppModel:
    """An application with ``tasks`` whose iteration issues ``steps(synth)``."""
    b = AppBuilder("Synthetic", "small", MachineShape(1), {})
    grid = PieceGrid.from_boundaries(range(PIECES + 1))
    b.region("grid", (PIECES,), [("x", 8), ("y", 8)], grid.pieces("grid"))
    b.partition("tiles", "grid", "grid", (PIECES,), [(i,) for i in range(PIECES)])
    b.task(TaskDef("top", tuple(top_variants), inner=True, replicable=True))
    for task in tasks:
        b.task(task)
    launches = tuple(steps(Synth(b)))
    schedule = Schedule((), Iteration((), launches), 0, 1, 0, (),
                        Timer(TimerMode.FENCE_WINDOW))
    return b.finish(schedule, "top", tuple(flags), "x/s", None,
                    lambda app, timing: (), lambda app, timing: 1.0)


def plan_for(text: str, app: AppModel, machine: Machine | str = "p100-node",
             config: RunConfig | None = None, **machine_args) -> MappingPlan:
    """Compile ``text`` for ``machine`` (a Machine or a preset name) and resolve it."""
    if isinstance(machine, str):
        machine = load_machine(machine, **machine_args)
    compiled = compile_program(text, machine, app.app_info())
    return resolve(compiled, app, machine, config)


def first_launch(plan: MappingPlan, task: str):
    """The mapping of the first launch of ``task`` in the plan."""
    for launch, mapping in plan.launches.items():
        if launch.task == task:
            return mapping
    raise KeyError(task)


def launches_of(plan: MappingPlan, task: str):
    return [m for launch, m in plan.launches.items() if launch.task == task]


def procs(mapping) -> list[str]:
    """Processor uids of a launch mapping's points, in point order."""
    return [pm.processor.uid for pm in mapping.points]
