"""DISTAL dense matrix multiplication A = B · C: what the six algorithms share (apps.md §4).

The three n × n float64 matrices are 2-D regions ``A``, ``B`` and ``C`` with one field
(``vals``). Each matrix is cut into the pieces of the finest rectilinear grid that aligns with
every block any launch of the algorithm names (placement tiles, node blocks, GPU quarters,
k-chunks), so every block is an exact set of pieces. Semantic names: the C++ mains name the
matrices ``A``, ``B`` and ``C``; sub-blocks carry no name of their own, so every requirement
answers to its matrix's name (and its position).

One iteration of the benchmark loop (the same for all six):

- untimed: ``taco_fill`` (WO) of A, B and C over their placement domains, then the placement
  launches ``task_1``/``task_2``/``task_3`` (empty bodies) that make each block valid where the
  mapping puts it (RO for the 2-D algorithms, WO for the 3-D ones);
- timed: the compute tree, and for the algorithms that reduce into A a read-only relaunch of
  ``task_1`` that forces the pending partial sums into A's placement instances.

Cannon, SUMMA and PUMMA run 10 timed iterations; Johnson, Solomonik and COSMA 11, the first an
untimed warm-up. The host times each iteration's timed part and truncates it to milliseconds.

Two builds (apps.md §4.1: GPU builds and CPU builds are different binaries):

- the **GPU build** on machines with GPUs, exactly the task trees of apps.md §4.2-§4.5;
- the **CPU build** on machines without GPUs (:func:`cpu_build_kind`). For the 2-D algorithms
  it has one level less (apps.md §4.2 "CPU build"): ``task_6`` is an inner index launch over
  the (gx, gy) processor grid, ``task_5`` an inner single launch per outer step and ``task_4``
  a leaf index launch over the 2 row halves of the node block (``cblas_dgemm``); the
  placement tasks run over (gx, gy); there is no ``init_cublas`` and no ``task_7``.

  **Deviation.** The original CPU build registers OpenMP (OMP) variants and its grid has
  gx·gy = 2N OMP processors. Legion on this project's development host (legion.md) has no
  OpenMP processors, so the CPU build here registers its variants for the processor kind the
  machine's CPU build runs on: OMP where the machine has OMP processors, otherwise CPU
  (``LOC_PROC``), and the grid covers every processor of that kind (local-cpu: 2 CPUs).

The DGEMM leaf (``task_4``) requires C-order (row-major) instances for all three operands; a
Fortran-order instance fails the run with ``DGEMM parameter number 8 had an illegal value``
(in both builds: the CPU leaf's ``cblas_dgemm`` takes its leading dimensions from dimension 0's
stride too).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

from mapper_gym.appmodel import (
    Access,
    AppBuilder,
    AppModel,
    Iteration,
    Kernel,
    Launch,
    LayoutRule,
    MachineShape,
    PieceGrid,
    Privilege,
    Requirement,
    Schedule,
    Step,
    TaskDef,
    Timer,
    TimerMode,
    Timing,
    Work,
    block_bounds,
    domain_points,
)

PRESETS: tuple[str, ...] = ("A", "B", "small")
FIELD = (("vals", 8),)
BLAS_MESSAGE = "DGEMM parameter number 8 had an illegal value"
Rect = tuple[tuple[int, int], tuple[int, int]]

P100_FLAGS = ("-ll:ocpu", "1", "-ll:othr", "1", "-ll:util", "2", "-ll:bgwork", "2",
              "-ll:fsize", "15G", "-ll:nsize", "30G", "-ll:ncsize", "0")
V100_FLAGS = ("-ll:ocpu", "1", "-ll:othr", "10", "-ll:csize", "150000", "-ll:util", "4",
              "-dm:replicate", "1", "-ll:fsize", "15000", "-ll:bgwork", "12",
              "-ll:bgnumapin", "1")
V100_RANK_FLAGS = ("-ll:cpu", "1", "-ll:csize", "37500", "-ll:util", "1", "-dm:replicate", "1",
                   "-ll:fsize", "15000", "-ll:bgwork", "2", "-ll:bgnumapin", "1")
BACKPRESSURE_FLAGS = ("-tm:enable_backpressure", "-tm:backpressure_max_in_flight", "1",
                      "-ll:defalloc", "0")
#: The group's CPU-build command line (apps.md §4.1 table). On a machine without GPUs the
#: problem is configured from the machine file instead (backends/problem.py ``_configure``);
#: the flags are kept for the record and for the ``-dm:``/``-tm:`` switches.
CPU_BUILD_FLAGS = ("-ll:ocpu", "2", "-ll:othr", "18", "-ll:onuma", "1", "-ll:csize", "5000",
                   "-ll:nsize", "75000", "-ll:ncsize", "0", "-ll:util", "2", "-dm:replicate", "1")
#: Matrix edge of the ``small`` preset in the CPU build: about a second of DGEMM on one core of
#: the development host for the 10 timed iterations, so real Legion runs stay short.
CPU_SMALL_N = 1024


def cpu_build_kind(machine: MachineShape) -> str | None:
    """The processor kind the CPU build's variants are registered for on ``machine``, or None
    when the machine has GPUs (the GPU build runs there).

    The original CPU build registers OMP variants; a machine without OMP processors (such as
    this host's Legion, which has no OpenMP support) runs them as CPU (``LOC_PROC``) variants.
    """
    if machine.gpus_per_node > 0:
        return None
    return "OMP" if machine.omps_per_node > 0 else "CPU"


def cpu_processors(machine: MachineShape) -> int:
    """Processors of the CPU build's kind on the whole machine (the grid's size: apps.md's
    gx·gy = 2N OMP processors, here every processor of the kind the variants run on)."""
    per_node = machine.omps_per_node if machine.omps_per_node > 0 else machine.cpus_per_node
    return machine.nodes * max(1, per_node)


def even_floor(x: float) -> int:
    """⌊x⌋ rounded down to an even number."""
    v = math.floor(x)
    return v - (v % 2)


def preset_n(preset: str, machine: MachineShape) -> int | None:
    """Matrix edge of Presets A and B (apps.md §4.1); ``None`` for other presets.

    Preset A is n = 10000 on one node, scaled like the group's four-node scripts
    (⌊10000·√N⌋, even) beyond; Preset B is ⌊20000·√N⌋ rounded down to even. N counts physical
    nodes."""
    nodes = machine.physical_nodes
    if preset == "A":
        return 10000 if nodes == 1 else even_floor(10000 * math.sqrt(nodes))
    if preset == "B":
        return even_floor(20000 * math.sqrt(nodes))
    if preset == "small":
        return None
    raise ValueError(f"unknown preset {preset!r}; choose from {PRESETS}")


def default_n(preset: str, machine: MachineShape, gpu_small: int) -> int:
    """The matrix edge of a preset: Presets A/B by :func:`preset_n`; ``small`` is
    :data:`CPU_SMALL_N` in the CPU build and ``gpu_small`` in the GPU build."""
    n = preset_n(preset, machine)
    if n is not None:
        return n
    return CPU_SMALL_N if cpu_build_kind(machine) is not None else gpu_small


def legion_flags(preset: str, machine: MachineShape, app_flags: Sequence[str]) -> tuple[str, ...]:
    """Runtime flags of the group's DISTAL runs (apps.md §4.1 table) for this machine: the GPU
    build's on machines with GPUs, the CPU build's otherwise."""
    if cpu_build_kind(machine) is not None:
        return (*CPU_BUILD_FLAGS, *app_flags)
    if preset == "B" and machine.ranks_per_node > 1:
        flags = list(V100_RANK_FLAGS)
    elif preset == "B":
        flags = list(V100_FLAGS)
    else:
        flags = list(P100_FLAGS)
    flags += ["-ll:gpu", str(machine.gpus_per_node), *app_flags]
    if machine.physical_nodes in (8, 32, 128):
        flags += BACKPRESSURE_FLAGS
    return tuple(flags)


def check_overrides(params: dict[str, int], overrides: dict[str, int], app: str) -> None:
    unknown = set(overrides) - set(params)
    if unknown:
        raise ValueError(f"unknown {app} parameters {sorted(unknown)}")
    params.update(overrides)


def blocks(n: int, parts: int) -> list[tuple[int, int]]:
    """The ``parts`` even blocks of ``[0, n)``."""
    b = block_bounds(n, parts)
    return [(b[i], b[i + 1]) for i in range(parts)]


def span(blks: Sequence[tuple[int, int]], lo: int, hi: int) -> tuple[int, int]:
    """The range covering blocks ``lo`` .. ``hi - 1``."""
    return blks[lo][0], blks[hi - 1][1]


def gemm_work(m: int, n: int, k: int) -> Work:
    """A DGEMM leaf: C-block m×n += (m×k)(k×n); reads and writes the output block."""
    return Work(
        flops=2.0 * m * n * k, precision="fp64", kernel=Kernel.DGEMM,
        accesses=((Access.stream(16.0 * m * n),), (Access.stream(8.0 * m * k),),
                  (Access.stream(8.0 * k * n),)),
        gemm=(m, n, k),
    )


def rect_elements(r: Rect) -> int:
    return (r[0][1] - r[0][0]) * (r[1][1] - r[1][0])


class MatmulBuilder:
    """Builds the matrices' piece grids from every block rectangle a launch names, then the
    launches; ``finish`` assembles the common schedule and output."""

    def __init__(self, name: str, preset: str, machine: MachineShape, params: dict[str, int],
                 rects: dict[str, list[Rect]]) -> None:
        self.b = AppBuilder(name, preset, machine, params)
        self.n = params["n"]
        self.grids: dict[str, PieceGrid] = {}
        for m in ("A", "B", "C"):
            rows = {0, self.n}
            cols = {0, self.n}
            for (r0, r1), (c0, c1) in rects[m]:
                rows.update((r0, r1))
                cols.update((c0, c1))
            grid = PieceGrid.from_boundaries(sorted(rows), sorted(cols))
            self.grids[m] = grid
            self.b.region(m, (self.n, self.n), FIELD, grid.pieces(m))

    def pieces(self, matrix: str, rect: Rect) -> tuple[int, ...]:
        return self.grids[matrix].select(rect)

    def partition(self, name: str, matrix: str, shape: tuple[int, ...],
                  rect_of: Callable[[tuple[int, ...]], Rect]) -> None:
        self.b.partition(name, matrix, matrix, shape,
                         [self.pieces(matrix, rect_of(p)) for p in domain_points(shape)])

    # -- tasks ---------------------------------------------------------------------------------

    @staticmethod
    def req(matrix: str, priv: Privilege, part: str | None = None) -> Requirement:
        return Requirement(matrix, ("vals",), priv, (matrix,), part,
                           "+" if priv is Privilege.RED else None)

    def common_tasks(self, placement_priv: Privilege, leaf_a: Privilege,
                     leaf_hints: frozenset[str], kind: str = "GPU") -> None:
        """Top-level, helper, placement and DGEMM-leaf tasks; ``kind`` is the processor kind of
        the generated ``task_k`` variants (GPU build: GPU; CPU build: :func:`cpu_build_kind`),
        and only the GPU build has ``init_cublas``."""
        b = self.b
        gpu_build = kind == "GPU"
        b.task(TaskDef("top_level", ("CPU", "OMP"), inner=True, replicable=True,
                       doc="top-level task (control-replicated)"))
        if gpu_build:
            b.task(TaskDef("init_cublas", ("GPU",),
                           doc="creates a cuBLAS handle; one point per GPU"))
        b.task(TaskDef("taco_fill", ("CPU", "OMP", "GPU") if gpu_build else ("CPU", "OMP"),
                       (self.req("A", Privilege.WO, "tiles_A"),),
                       doc="fills one tile of a matrix (A = 0, B = C = 1); launched on A, B, C"))
        b.task(TaskDef("taco_validate", ("CPU", "OMP"), (self.req("A", Privilege.RO, "tiles_A"),),
                       doc="checks that every entry of A equals n"))
        for k, m in enumerate(("A", "B", "C"), start=1):
            b.task(TaskDef(f"task_{k}", (kind,), (self.req(m, placement_priv, f"tiles_{m}"),),
                           hints=frozenset({"sharding"}),
                           doc=f"placement of {m}'s blocks (empty body)"))
        rule = LayoutRule(variant=kind, requirements=(0, 1, 2), order="C", effect="error",
                          code="E-LAYOUT-BLAS", message=BLAS_MESSAGE)
        library = "cuBLAS" if gpu_build else "cblas_dgemm (row-major)"
        b.task(TaskDef("task_4", (kind,),
                       (self.req("A", leaf_a), self.req("B", Privilege.RO),
                        self.req("C", Privilege.RO)),
                       layout_rules=(rule,), hints=leaf_hints,
                       doc=f"{library} DGEMM leaf: A block += B block · C block"))

    # -- launches ------------------------------------------------------------------------------

    def fill(self, matrix: str, domain: tuple[int, ...],
             rect_of: Callable[[tuple[int, ...]], Rect]) -> Launch:
        req = (self.req(matrix, Privilege.WO, f"tiles_{matrix}"),)
        return self.b.index_launch(
            "taco_fill", domain, lambda p: (self.pieces(matrix, rect_of(p)),),
            lambda p: Work(0.0, "fp64", Kernel.STREAM,
                           ((Access.stream(8.0 * rect_elements(rect_of(p))),),)),
            requirements=req, label=f"taco_fill[{matrix}]")

    def placement(self, task: str, matrix: str, priv: Privilege, domain: tuple[int, ...],
                  rect_of: Callable[[tuple[int, ...]], Rect]) -> Launch:
        req = (self.req(matrix, priv, f"tiles_{matrix}"),)
        return self.b.index_launch(
            task, domain, lambda p: (self.pieces(matrix, rect_of(p)),),
            lambda p: Work(0.0, "fp64", Kernel.EMPTY, ((),)),
            requirements=req, label=f"{task}[{priv.value}]")

    def validate(self, domain: tuple[int, ...],
                 rect_of: Callable[[tuple[int, ...]], Rect]) -> Launch:
        return self.b.index_launch(
            "taco_validate", domain, lambda p: (self.pieces("A", rect_of(p)),),
            lambda p: Work(float(rect_elements(rect_of(p))), "fp64", Kernel.STREAM,
                           ((Access.stream(8.0 * rect_elements(rect_of(p))),),)))

    def finish(self, *, untimed: Sequence[Step], timed: Sequence[Step], warmup: int,
               measured: int, setup: Sequence[Step], teardown: Sequence[Step],
               flags: Sequence[str], notes: Sequence[str] = ()) -> AppModel:
        schedule = Schedule(
            setup=tuple(setup),
            iteration=Iteration(untimed=tuple(untimed), timed=tuple(timed)),
            warmup=warmup, measured=measured, cooldown=0,
            teardown=tuple(teardown),
            timer=Timer(TimerMode.FENCE_PER_ITERATION, truncate_ms=True),
            traced=False,
        )
        n = self.n
        return self.b.finish(
            schedule=schedule,
            top_task="top_level",
            legion_flags=flags,
            throughput_unit="GFLOP/s per node",
            total_flops=float(n * n * (2 * n - 1)),
            stdout=_stdout,
            throughput=_throughput,
            notes=(_build_note(self.b.machine), *notes),
        )

    def init_cublas(self) -> Launch:
        machine = self.b.machine
        return self.b.index_launch("init_cublas", (machine.total_gpus,), lambda p: (),
                                   lambda p: Work(0.0, kernel=Kernel.SCALAR))


def _build_note(machine: MachineShape) -> str:
    kind = cpu_build_kind(machine)
    if kind is None:
        return "GPU build (machines without GPUs get the CPU build)"
    return (f"CPU build with {kind} variants (the original registers OMP variants; they run "
            f"on this machine's {kind} processors)")


def with_privilege(req: Requirement, priv: Privilege) -> Requirement:
    return replace(req, privilege=priv, redop="+" if priv is Privilege.RED else None)


def truncated_ms(seconds: float) -> int:
    """The host timer's whole milliseconds."""
    return int(seconds * 1000.0)


def _mean_ms(app: AppModel, timing: Timing) -> float:
    """Mean per-iteration milliseconds as the program averages them (truncated per iteration).

    A run that reports only the measured window's total (the real Legion backend's timing
    line: the sum of the timed iterations) gives the untruncated mean instead."""
    if timing.iteration_times:
        ms = [truncated_ms(t) for t in timing.iteration_times]
        return sum(ms) / len(ms)
    if timing.elapsed > 0 and app.schedule.measured > 0:
        return timing.elapsed * 1000.0 / app.schedule.measured
    raise ValueError("a DISTAL run reports per-iteration times or a positive elapsed time")


def _gflops_per_address_space(app: AppModel, timing: Timing) -> float:
    """The program's value: n²(2n−1) / (mean ms / 1000) / 10⁹ / N_as (may be inf)."""
    mean_ms = _mean_ms(app, timing)
    assert app.total_flops is not None
    if mean_ms == 0:
        return math.inf
    return app.total_flops / (mean_ms / 1000.0) / 1e9 / app.machine.nodes


def _stdout(app: AppModel, timing: Timing) -> tuple[str, ...]:
    lines = [f"Execution time: {truncated_ms(t)} ms." for t in timing.iteration_times]
    value = _gflops_per_address_space(app, timing)
    lines.append(f"On {app.machine.nodes} nodes achieved GFLOPS per node: {value:f}.")
    return tuple(lines)


def _throughput(app: AppModel, timing: Timing) -> float:
    """GFLOP/s per physical node, from the printed value (the group's parser multiplied it
    back by the ranks per node). When every truncated time is 0 ms the printed value is
    infinite; the untruncated mean is used instead."""
    value = _gflops_per_address_space(app, timing)
    if math.isinf(value):
        times = timing.iteration_times
        mean = sum(times) / len(times) if times else timing.elapsed / app.schedule.measured
        assert app.total_flops is not None
        if mean <= 0:
            return math.inf
        return app.total_flops / mean / 1e9 / app.machine.physical_nodes
    return value * app.machine.ranks_per_node


# ---------------------------------------------------------------------------------------------
# 2-D algorithms: Cannon, SUMMA, PUMMA (apps.md §4.2)
# ---------------------------------------------------------------------------------------------

#: k block used by node (i, j) at outer step s, and k half used by GPU (a, b) at inner step t.
KRule = Callable[[int, int, int, int], int]


def grid_rule(nodes: int) -> int:
    """√N when N is a perfect square, else the largest divisor g of N with g² ≤ N/2."""
    root = math.isqrt(nodes)
    if root * root == nodes:
        return root
    return max(g for g in range(1, root + 1) if nodes % g == 0 and 2 * g * g <= nodes)


def parameters_2d(app: str, machine: MachineShape, preset: str, gy_by_rule: bool,
                  overrides: dict[str, int]) -> dict[str, int]:
    """``n, gx, gy`` (apps.md §4.2): one node per grid point (GPU build) or one processor per
    grid point (CPU build, :func:`cpu_processors`); Cannon picks gy by the rule, SUMMA and
    PUMMA gx."""
    cpu_build = cpu_build_kind(machine) is not None
    points = cpu_processors(machine) if cpu_build else machine.nodes
    g = grid_rule(points)
    gx, gy = (points // g, g) if gy_by_rule else (g, points // g)
    n = preset_n(preset, machine)
    if n is None:
        n = CPU_SMALL_N if cpu_build else 48 * max(gx, gy)
    p = {"n": n, "gx": gx, "gy": gy}
    check_overrides(p, overrides, app)
    if p["n"] < 2 * max(p["gx"], p["gy"]):
        raise ValueError(f"{app}: n too small for the processor grid")
    return p


def build_2d(name: str, machine: MachineShape, preset: str, params: dict[str, int],
             k_block: KRule, k_half: KRule) -> AppModel:
    """The task tree of apps.md §4.2 for one of the 2-D algorithms (the CPU build on machines
    without GPUs, :func:`build_2d_cpu`)."""
    kind = cpu_build_kind(machine)
    if kind is not None:
        return build_2d_cpu(name, machine, preset, params, k_block, kind)
    n, gx, gy = params["n"], params["gx"], params["gy"]
    rows = blocks(n, 2 * gx)  # A/B rows and every k dimension: 2gx halves
    cols = blocks(n, 2 * gy)  # A/C columns: 2gy halves
    ks = rows

    def tile(p: tuple[int, ...]) -> Rect:
        return (rows[p[0]], cols[p[1]])

    rects: dict[str, list[Rect]] = {"A": [], "B": [], "C": []}
    for x in range(2 * gx):
        for y in range(2 * gy):
            for m in rects:
                rects[m].append(tile((x, y)))
    for x in range(2 * gx):  # B pieces of the leaves: a row half times a k half
        rects["B"].extend((rows[x], ks[h]) for h in range(2 * gx))
    for y in range(2 * gy):  # C pieces: a k half times a column half
        rects["C"].extend((ks[h], cols[y]) for h in range(2 * gx))

    mb = MatmulBuilder(name, preset, machine, params, rects)
    mb.common_tasks(Privilege.RO, Privilege.RW,
                    frozenset({"untrack_valid_regions", "backpressure"}))
    b = mb.b
    req = MatmulBuilder.req
    b.task(TaskDef("task_7", ("OMP",),
                   (req("A", Privilege.RW), req("B", Privilege.RO), req("C", Privilege.RO)),
                   inner=True, doc="one point per node: the node's block of A"))
    b.task(TaskDef("task_6", ("OMP",),
                   (req("A", Privilege.RW), req("B", Privilege.RO), req("C", Privilege.RO)),
                   inner=True, doc="outer step s of one node"))
    b.task(TaskDef("task_5", ("GPU",),
                   (req("A", Privilege.RW), req("B", Privilege.RO), req("C", Privilege.RO)),
                   inner=True, doc="one point per GPU of the node: a quarter of the block"))
    for name_, m in (("tiles_A", "A"), ("tiles_B", "B"), ("tiles_C", "C")):
        mb.partition(name_, m, (2 * gx, 2 * gy), tile)

    def leaf(i: int, j: int, s: int, a: int, bb: int, t: int) -> Launch:
        kb = k_block(i, j, s, gx)
        h = k_half(a, bb, t, 2)
        r, c, k = rows[2 * i + a], cols[2 * j + bb], ks[2 * kb + h]
        return b.single_launch(
            "task_4",
            (mb.pieces("A", (r, c)), mb.pieces("B", (r, k)), mb.pieces("C", (k, c))),
            gemm_work(r[1] - r[0], c[1] - c[0], k[1] - k[0]),
            label=f"task_4[{i},{j};s={s};{a},{bb};t={t}]")

    def quarter_launch(i: int, j: int, s: int) -> Launch:
        kb = k_block(i, j, s, gx)
        kspan = span(ks, 2 * kb, 2 * kb + 2)

        def bind(p: tuple[int, ...]):
            r, c = rows[2 * i + p[0]], cols[2 * j + p[1]]
            return (mb.pieces("A", (r, c)), mb.pieces("B", (r, kspan)),
                    mb.pieces("C", (kspan, c)))

        return b.index_launch(
            "task_5", (2, 2), bind,
            children=lambda p: [leaf(i, j, s, p[0], p[1], t) for t in range(2)],
            same_address_space=True, label=f"task_5[{i},{j};s={s}]")

    def step_launch(i: int, j: int, s: int) -> Launch:
        kb = k_block(i, j, s, gx)
        r, c = span(rows, 2 * i, 2 * i + 2), span(cols, 2 * j, 2 * j + 2)
        kspan = span(ks, 2 * kb, 2 * kb + 2)
        return b.single_launch(
            "task_6", (mb.pieces("A", (r, c)), mb.pieces("B", (r, kspan)),
                       mb.pieces("C", (kspan, c))),
            children=[quarter_launch(i, j, s)], label=f"task_6[{i},{j};s={s}]")

    def node_bind(p: tuple[int, ...]):
        r, c = span(rows, 2 * p[0], 2 * p[0] + 2), span(cols, 2 * p[1], 2 * p[1] + 2)
        return (mb.pieces("A", (r, c)), mb.pieces("B", (r, (0, n))),
                mb.pieces("C", ((0, n), c)))

    compute = b.index_launch(
        "task_7", (gx, gy), node_bind,
        children=lambda p: [step_launch(p[0], p[1], s) for s in range(gx)])
    dom = (2 * gx, 2 * gy)
    untimed = [mb.fill(m, dom, tile) for m in ("A", "B", "C")]
    untimed += [mb.placement(f"task_{k}", m, Privilege.RO, dom, tile)
                for k, m in enumerate(("A", "B", "C"), start=1)]
    return mb.finish(
        untimed=untimed, timed=[compute], warmup=0, measured=10,
        setup=[mb.init_cublas()], teardown=[mb.validate(dom, tile)],
        flags=legion_flags(preset, machine, ("-dm:exact_region", "-tm:untrack_valid_regions")),
    )


def halves(block: tuple[int, int]) -> list[tuple[int, int]]:
    """The two row halves of a block (the CPU build's ``task_4`` points)."""
    lo, hi = block
    mid = lo + (hi - lo) // 2
    return [(lo, mid), (mid, hi)]


def build_2d_cpu(name: str, machine: MachineShape, preset: str, params: dict[str, int],
                 k_block: KRule, kind: str) -> AppModel:
    """The CPU build's task tree of a 2-D algorithm (apps.md §4.2 "CPU build"), one level less
    than the GPU build::

        top_level
        ├─ untimed: taco_fill ×3; task_1/task_2/task_3 index over (gx, gy)  leaf, empty, RO
        └─ timed:   task_6 index over (gx, gy)                              inner
                      A block RW; B row panel RO; C column panel RO
                    └─ task_5: gx single launches in sequence (step s)      inner
                          A block RW; B(i, k block) RO; C(k block, j) RO
                       └─ task_4 index over the 2 row halves               leaf (cblas_dgemm)
                             A half RW; B(half, k block) RO; C(k block, j) RO

    Grid point (i, j) multiplies k block ``k_block(i, j, s, gx)`` at step s; both halves use
    the whole k block (there is no inner k step). Every variant is of processor kind ``kind``.
    """
    n, gx, gy = params["n"], params["gx"], params["gy"]
    rows, cols, ks = blocks(n, gx), blocks(n, gy), blocks(n, gx)

    def tile(p: tuple[int, ...]) -> Rect:
        return (rows[p[0]], cols[p[1]])

    rects: dict[str, list[Rect]] = {
        "A": [tile((x, y)) for x in range(gx) for y in range(gy)],
        "B": [tile((x, y)) for x in range(gx) for y in range(gy)],
        "C": [tile((x, y)) for x in range(gx) for y in range(gy)],
    }
    for x in range(gx):
        for h in halves(rows[x]):
            rects["A"].extend((h, c) for c in cols)
            rects["B"].extend((h, k) for k in ks)
    rects["C"].extend((k, c) for k in ks for c in cols)

    mb = MatmulBuilder(name, preset, machine, params, rects)
    mb.common_tasks(Privilege.RO, Privilege.RW,
                    frozenset({"untrack_valid_regions", "backpressure"}), kind=kind)
    b = mb.b
    req = MatmulBuilder.req
    abc = (req("A", Privilege.RW), req("B", Privilege.RO), req("C", Privilege.RO))
    b.task(TaskDef("task_6", (kind,), abc, inner=True,
                   doc="one point per processor of the grid: its block of A"))
    b.task(TaskDef("task_5", (kind,), abc, inner=True,
                   doc="outer step s of one grid point"))
    for name_, m in (("tiles_A", "A"), ("tiles_B", "B"), ("tiles_C", "C")):
        mb.partition(name_, m, (gx, gy), tile)

    def step_launch(i: int, j: int, s: int) -> Launch:
        k = ks[k_block(i, j, s, gx)]

        def bind(p: tuple[int, ...]):
            h = halves(rows[i])[p[0]]
            return (mb.pieces("A", (h, cols[j])), mb.pieces("B", (h, k)),
                    mb.pieces("C", (k, cols[j])))

        def work(p: tuple[int, ...]) -> Work:
            h = halves(rows[i])[p[0]]
            return gemm_work(h[1] - h[0], cols[j][1] - cols[j][0], k[1] - k[0])

        leaves = b.index_launch("task_4", (2,), bind, work, label=f"task_4[{i},{j};s={s}]")
        return b.single_launch(
            "task_5", (mb.pieces("A", tile((i, j))), mb.pieces("B", (rows[i], k)),
                       mb.pieces("C", (k, cols[j]))),
            children=[leaves], label=f"task_5[{i},{j};s={s}]")

    def grid_bind(p: tuple[int, ...]):
        return (mb.pieces("A", tile(p)), mb.pieces("B", (rows[p[0]], (0, n))),
                mb.pieces("C", ((0, n), cols[p[1]])))

    compute = b.index_launch(
        "task_6", (gx, gy), grid_bind,
        children=lambda p: [step_launch(p[0], p[1], s) for s in range(gx)])
    dom = (gx, gy)
    untimed = [mb.fill(m, dom, tile) for m in ("A", "B", "C")]
    untimed += [mb.placement(f"task_{k}", m, Privilege.RO, dom, tile)
                for k, m in enumerate(("A", "B", "C"), start=1)]
    return mb.finish(
        untimed=untimed, timed=[compute], warmup=0, measured=10,
        setup=[], teardown=[mb.validate(dom, tile)],
        flags=legion_flags(preset, machine, ("-dm:exact_region", "-tm:untrack_valid_regions")),
    )


# ---------------------------------------------------------------------------------------------
# 3-D algorithms without an inner level: Johnson and COSMA (apps.md §4.3, §4.5)
# ---------------------------------------------------------------------------------------------


def build_3d(name: str, machine: MachineShape, preset: str, params: dict[str, int],
             grid: tuple[int, int, int], notes: Sequence[str] = ()) -> AppModel:
    """``task_4`` over (gx, gy, gz): A(i, j) RED+, B(i, k) RO, C(k, j) RO; placement of A over
    (gx, gy, 1), B over (gx, 1, gz), C over (1, gy, gz).

    The CPU build (machines without GPUs) has an extra inner level (apps.md §4.3 "CPU build";
    COSMA's CPU build is taken to have the same tree [A]): ``task_5`` is the inner index launch
    over (gx, gy, gz) with the same requirements, and each point launches the leaf ``task_4``
    over the 2 row halves of its A block: A(half, j) RED+, B(half, k) RO, C(k, j) RO."""
    kind = cpu_build_kind(machine)
    n = params["n"]
    gx, gy, gz = grid
    ri, cj, kk = blocks(n, gx), blocks(n, gy), blocks(n, gz)

    def a_rect(p):
        return (ri[p[0]], cj[p[1]])

    def b_rect(p):
        return (ri[p[0]], kk[p[2]])

    def c_rect(p):
        return (kk[p[2]], cj[p[1]])

    brick = (gx, gy, gz)
    rects = {"A": [a_rect(p) for p in domain_points(brick)],
             "B": [b_rect(p) for p in domain_points(brick)],
             "C": [c_rect(p) for p in domain_points(brick)]}
    if kind is not None:
        for r in ri:
            for h in halves(r):
                rects["A"].extend((h, c) for c in cj)
                rects["B"].extend((h, k) for k in kk)
    mb = MatmulBuilder(name, preset, machine, params, rects)
    mb.common_tasks(Privilege.WO, Privilege.RED, frozenset({"untrack_valid_regions"}),
                    kind=kind or "GPU")
    b = mb.b
    dom_a, dom_b, dom_c = (gx, gy, 1), (gx, 1, gz), (1, gy, gz)
    mb.partition("tiles_A", "A", (gx, gy), a_rect)
    mb.partition("tiles_B", "B", (gx, gz), lambda p: (ri[p[0]], kk[p[1]]))
    mb.partition("tiles_C", "C", (gz, gy), lambda p: (kk[p[0]], cj[p[1]]))

    def leaf_bind(p):
        return (mb.pieces("A", a_rect(p)), mb.pieces("B", b_rect(p)),
                mb.pieces("C", c_rect(p)))

    def leaf_work(p):
        return gemm_work(ri[p[0]][1] - ri[p[0]][0], cj[p[1]][1] - cj[p[1]][0],
                         kk[p[2]][1] - kk[p[2]][0])

    if kind is None:
        compute = b.index_launch("task_4", brick, leaf_bind, leaf_work)
    else:
        b.task(TaskDef("task_5", (kind,),
                       (MatmulBuilder.req("A", Privilege.RED), MatmulBuilder.req("B", Privilege.RO),
                        MatmulBuilder.req("C", Privilege.RO)),
                       inner=True, doc="one point of the 3-D grid: its two row-half leaves"))

        def halves_launch(p: tuple[int, ...]) -> list[Launch]:
            rows = halves(ri[p[0]])

            def bind(q: tuple[int, ...]):
                return (mb.pieces("A", (rows[q[0]], cj[p[1]])),
                        mb.pieces("B", (rows[q[0]], kk[p[2]])), mb.pieces("C", c_rect(p)))

            def work(q: tuple[int, ...]) -> Work:
                h = rows[q[0]]
                return gemm_work(h[1] - h[0], cj[p[1]][1] - cj[p[1]][0],
                                 kk[p[2]][1] - kk[p[2]][0])

            return [b.index_launch("task_4", (2,), bind, work, label=f"task_4[{p}]")]

        compute = b.index_launch("task_5", brick, leaf_bind, children=halves_launch)
    untimed = [mb.fill("A", dom_a, a_rect), mb.fill("B", dom_b, b_rect),
               mb.fill("C", dom_c, c_rect),
               mb.placement("task_1", "A", Privilege.WO, dom_a, a_rect),
               mb.placement("task_2", "B", Privilege.WO, dom_b, b_rect),
               mb.placement("task_3", "C", Privilege.WO, dom_c, c_rect)]
    force = mb.placement("task_1", "A", Privilege.RO, dom_a, a_rect)
    return mb.finish(
        untimed=untimed, timed=[compute, force], warmup=1, measured=10,
        setup=[mb.init_cublas()] if kind is None else [], teardown=[mb.validate(dom_a, a_rect)],
        flags=legion_flags(preset, machine, ("-tm:untrack_valid_regions",)), notes=notes,
    )


def table_lookup(table: dict[int, tuple[int, ...]], gpus: int, app: str) -> tuple[int, ...]:
    if gpus not in table:
        raise ValueError(f"{app} has no processor grid for {gpus} GPUs; "
                         f"known counts: {sorted(table)}")
    return table[gpus]


def grid_for(table: dict[int, tuple[int, ...]], machine: MachineShape,
             app: str) -> tuple[int, ...]:
    """A 3-D algorithm's processor grid: the table's entry for the total GPU count (GPU build)
    or for the CPU build's processor count (apps.md §4.5: the tables are keyed by processor
    count). A CPU build with fewer processors than the table's smallest count takes the smallest
    count's grid [A] (local-cpu has 2 CPUs; Johnson's and Solomonik's tables start at 4), as
    Preset A runs Johnson's 8 points on 4 GPUs."""
    if cpu_build_kind(machine) is None:
        return table_lookup(table, machine.total_gpus, app)
    count = cpu_processors(machine)
    if count not in table and count < min(table):
        count = min(table)
    if count not in table:
        raise ValueError(f"{app} has no processor grid for {count} processors; "
                         f"known counts: {sorted(table)}")
    return table[count]
