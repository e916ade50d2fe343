"""Tiny application models whose timings can be worked out by hand.

``toy_app`` builds a 1-D region ``data`` of ``pieces`` equal pieces with float64 fields
``a`` and ``b``, and a loop whose timed part is whatever launches the caller asks for, from
a small vocabulary of tasks (every task has CPU and GPU variants and streams its bytes):

* ``write``  — RW ``a`` of piece i (index launch over the pieces);
* ``read``   — RO ``a`` of piece i;
* ``shift``  — RO ``a`` of piece i+1 (wrapping), so point i reads its neighbour's data;
* ``red``    — RED+ ``a`` of piece i; ``redn`` — RED+ ``a`` of piece i+1 (wrapping);
* ``readall``— single launch, RO ``a`` of every piece;
* ``wonly``  — WO ``b`` of piece i.

Each leaf's work is ``flops`` fp64 flops (kernel STREAM) plus one streaming access of the
requirement's bytes, so a GPU body takes ``max(flops/peak, bytes/(bw·0.8))``.
"""

from __future__ import annotations

from mapper_gym.appmodel import (
    Access,
    AppBuilder,
    AppModel,
    Iteration,
    Kernel,
    MachineShape,
    PieceGrid,
    Privilege,
    Requirement,
    Schedule,
    TaskDef,
    Timer,
    TimerMode,
    Timing,
    Work,
)

TASKS = {
    "write": ("a", Privilege.RW, 0),
    "read": ("a", Privilege.RO, 0),
    "shift": ("a", Privilege.RO, 1),
    "red": ("a", Privilege.RED, 0),
    "redn": ("a", Privilege.RED, 1),
    "wonly": ("b", Privilege.WO, 0),
}


def toy_app(
    steps: tuple[str, ...],
    *,
    pieces: int = 4,
    elements: int = 1_000_000,
    flops: float = 0.0,
    warmup: int = 0,
    measured: int = 1,
    cooldown: int = 0,
    timer: TimerMode = TimerMode.FENCE_WINDOW,
    traced: bool = False,
    futures: dict[str, str] | None = None,
    uses: dict[str, tuple[str, ...]] | None = None,
    blocks: tuple[str, ...] = (),
    nodes: int = 1,
    gpus: int = 4,
) -> AppModel:
    """A toy application; ``steps`` are task names from the module docstring, each optionally
    suffixed ``#k`` to make several launches of one task distinguishable (``write#2``)."""
    b = AppBuilder("Toy", "small", MachineShape(nodes=nodes, gpus_per_node=gpus),
                   {"pieces": pieces})
    grid = PieceGrid.from_boundaries([k * elements for k in range(pieces + 1)])
    b.region("data", grid.shape, (("a", 8), ("b", 8)), grid.pieces("data"))
    b.partition("tiles", "data", "data", (pieces,), [(i,) for i in range(pieces)])
    b.task(TaskDef("main", ("CPU",), inner=True, replicable=True))
    for name, (fieldname, priv, _) in TASKS.items():
        b.task(TaskDef(name, ("CPU", "GPU"), (Requirement(
            "data", (fieldname,), priv, ("tiles", "data"), "tiles",
            "+" if priv is Privilege.RED else None),)))
    b.task(TaskDef("readall", ("CPU", "GPU"),
                   (Requirement("data", ("a",), Privilege.RO, ("data",)),)))
    piece_bytes = 8 * elements

    def work(nbytes: float) -> Work:
        return Work(flops=flops, precision="fp64", kernel=Kernel.STREAM,
                    accesses=((Access.stream(nbytes),),))

    futures = futures or {}
    uses = uses or {}
    launches = []
    for step in steps:
        task = step.split("#")[0]
        extra = {}
        if step in futures:
            extra["future"] = futures[step]
            extra["future_redop"] = "min"
        if step in uses:
            extra["uses_futures"] = uses[step]
        if step in blocks:
            extra["blocks_parent"] = True
        if task == "readall":
            launches.append(b.single_launch("readall", (tuple(range(pieces)),),
                                            work(piece_bytes * pieces), label=step, **extra))
            continue
        offset = TASKS[task][2]
        launches.append(b.index_launch(
            task, (pieces,), lambda p, o=offset: ((( p[0] + o) % pieces,),),
            lambda p: work(piece_bytes), label=step, **extra))
    schedule = Schedule(
        setup=(), iteration=Iteration(untimed=(), timed=tuple(launches)), warmup=warmup,
        measured=measured, cooldown=cooldown, teardown=(),
        timer=Timer(timer, start_task=steps[0].split("#")[0],
                    end_task=steps[-1].split("#")[0]),
        traced=traced,
    )

    def stdout(app: AppModel, timing: Timing) -> tuple[str, ...]:
        return (f"ELAPSED TIME = {timing.elapsed:.9f} s",)

    def throughput(app: AppModel, timing: Timing) -> float:
        return 1.0 / timing.elapsed

    return b.finish(schedule=schedule, top_task="main", legion_flags=(),
                    throughput_unit="iterations/s", total_flops=None, stdout=stdout,
                    throughput=throughput)
