"""Stencil (Regent ``stencil_fast.rg``, after the Parallel Research Kernels), apps.md §2.

A radius-2 star stencil in float64 on an (nx × ny) grid cut into ntx × nty tiles. Each step
launches ``stencil`` over all tiles (reads the four neighbour strips into the tile's halo, then
updates ``output`` on the interior) and ``increment`` (adds 1 to ``input`` and writes the tile's
edges into its four out-strips). Halo values travel only through the strip regions ``xm``,
``xp``, ``ym``, ``yp``, so the simulator derives exactly the strip copies of apps.md §2.7.

Pieces: the ``points`` region has one piece per tile (halo ring included); each strip region has
one piece per tile slot; ``times`` one per tile. ``interior`` and ``exterior`` are bounds-only
partitions, so they reuse the tile piece (they never carry data).

Requirement order (published for positional region references):

- ``stencil``: 0 private RW {input, output}; 1 interior NONE; 2 pxm_in RO; 3 pxp_in RO;
  4 pym_in RO; 5 pyp_in RO {input}; 6 p_times RW
- ``increment``: 0 private RW {input}; 1 exterior NONE; 2 pxm_out; 3 pxp_out; 4 pym_out;
  5 pyp_out RW {input}; 6 p_times RW
- ``check``: 0 private RO {input, output}; 1 interior NONE
"""

from __future__ import annotations

from mapper_gym.appmodel import (
    Access,
    AppBuilder,
    AppModel,
    Fill,
    Iteration,
    Kernel,
    LayoutRule,
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
    block_bounds,
    closest_pair,
    scalar_work,
)

from ._regent import regent_flags, seconds

NAME = "Stencil"
PRESETS: tuple[str, ...] = ("A", "B", "small")
TIME_FIELDS = (("init_start", 8), ("init_stop", 8), ("start", 8), ("stop", 8))
STRIDE_MESSAGE = "Assertion failed: stride does not match expected value."


def parameters(machine: MachineShape, preset: str = "A", **overrides: int) -> dict[str, int]:
    """Program flags for a preset on a machine (apps.md §2.2).

    The node grid is the closest factor pair of N (nx_n ≥ ny_n; for N = 2^k this is the
    multi-node script's 2^⌈k/2⌉ × 2^⌊k/2⌋) and each node holds a closest-pair grid of one tile
    per GPU (2 × 2 for four GPUs). Preset A is the 2024 script with T = 10000 per node
    (nx = T·nx_n); Preset B gives each GPU a 15000 × 15000 tile; ``small`` is for tests.
    """
    nx_n, ny_n = closest_pair(machine.nodes)
    gx, gy = closest_pair(machine.workers_per_node())
    ntx, nty = gx * nx_n, gy * ny_n
    if preset == "A":
        p = {"nx": 10000 * nx_n, "ny": 10000 * ny_n, "tsteps": 10, "tprune": 30}
    elif preset == "B":
        p = {"nx": ntx * 15000, "ny": nty * 15000, "tsteps": 50, "tprune": 30}
    elif preset == "small":
        p = {"nx": 24 * ntx + 4, "ny": 20 * nty + 4, "tsteps": 3, "tprune": 1}
    else:
        raise ValueError(f"unknown Stencil preset {preset!r}; choose from {PRESETS}")
    p.update({"ntx": ntx, "nty": nty, "init": 1000})
    unknown = set(overrides) - set(p)
    if unknown:
        raise ValueError(f"unknown Stencil parameters {sorted(unknown)}")
    p.update(overrides)
    if p["nx"] - 4 < p["ntx"] or p["ny"] - 4 < p["nty"]:
        raise ValueError("Stencil grid too small for its tile grid")
    return p


def _tasks() -> list[TaskDef]:
    def req(region: str, part: str | None, fields: tuple[str, ...], priv: Privilege) -> Requirement:
        return Requirement(region=region, fields=fields, privilege=priv,
                           names=(part, region) if part else (region,), partition=part)

    io = ("input", "output")
    times = tuple(f for f, _ in TIME_FIELDS)
    cpu_stride = LayoutRule(
        variant="CPU", requirements=(0,), order="F", soa=True, effect="error",
        code="E-LAYOUT-STRIDE", message=STRIDE_MESSAGE, switch="stencil_cpu_stride_check",
    )
    gpu_c_order = LayoutRule(
        variant="GPU", requirements=(0,), order="F", effect="slowdown", penalty="c_order_2d",
    )
    strips_in = [req(s, f"p{s}_in", ("input",), Privilege.RO) for s in ("xm", "xp", "ym", "yp")]
    strips_out = [req(s, f"p{s}_out", ("input",), Privilege.RW) for s in ("xm", "xp", "ym", "yp")]
    return [
        TaskDef("main", ("CPU",), inner=True, replicable=True, doc="top-level task"),
        TaskDef("read_config", ("CPU",), doc="parses the command line"),
        TaskDef("begin_init", ("CPU",), (req("times", "p_times", times, Privilege.WO),),
                doc="timestamps the start of initialisation"),
        TaskDef(
            "stencil", ("CPU", "GPU"),
            (req("points", "private", io, Privilege.RW),
             req("points", "interior", (), Privilege.NONE),
             *strips_in,
             req("times", "p_times", times, Privilege.RW)),
            layout_rules=(cpu_stride, gpu_c_order),
            doc="copies the four in-strips into the tile halo, then output += 8-point stencil",
        ),
        TaskDef(
            "increment", ("CPU", "GPU"),
            (req("points", "private", ("input",), Privilege.RW),
             req("points", "exterior", (), Privilege.NONE),
             *strips_out,
             req("times", "p_times", times, Privilege.RW)),
            layout_rules=(cpu_stride, gpu_c_order),
            doc="input += 1 over the tile, then writes the tile edges into its out-strips",
        ),
        TaskDef("check", ("CPU",),
                (req("points", "private", io, Privilege.RO),
                 req("points", "interior", (), Privilege.NONE)),
                doc="verifies input = init + steps and output = init"),
        *[TaskDef(name, ("CPU",), (req("times", "p_times", (fld,), Privilege.RO),),
                  doc="reads one timestamp; min/max-reduced over tiles")
          for name, fld in (("get_init_start", "init_start"), ("get_init_stop", "init_stop"),
                            ("get_start", "start"), ("get_stop", "stop"))],
        TaskDef("print_time", ("CPU",), doc="prints the times (only tile 0 prints)"),
    ]


def build(machine: MachineShape, preset: str = "A", **overrides: int) -> AppModel:
    """The Stencil model for a preset on a machine shape."""
    p = parameters(machine, preset, **overrides)
    ntx, nty = p["ntx"], p["nty"]
    nx_i, ny_i = p["nx"] - 4, p["ny"] - 4  # interior grid
    tiles = ntx * nty
    xb, yb = block_bounds(nx_i, ntx), block_bounds(ny_i, nty)
    w = [xb[i + 1] - xb[i] for i in range(ntx)]
    h = [yb[j + 1] - yb[j] for j in range(nty)]

    b = AppBuilder(NAME, preset, machine, p)
    fields = [("input", 8), ("output", 8)]

    # points: each tile with its halo ring of width 2 on every side.
    px = [xb[i] + 4 * i for i in range(ntx + 1)]
    py = [yb[j] + 4 * j for j in range(nty + 1)]
    grid = PieceGrid.from_boundaries(px, py)
    b.region("points", grid.shape, fields, grid.pieces("points"))

    def coords(i: int) -> tuple[int, int]:
        return i % ntx, i // ntx

    def tile_rect(i: int) -> tuple[tuple[int, int], ...]:
        ix, iy = coords(i)
        return ((px[ix], px[ix + 1]), (py[iy], py[iy + 1]))

    tile_sets = [grid.select(tile_rect(i)) for i in range(tiles)]
    for name in ("private", "interior", "exterior"):
        b.partition(name, "points", "points", (tiles,), tile_sets)

    # Strips: xm/xp are (2·ntx) × n.y with a 2 × h slot per tile; ym/yp are n.x × (2·nty).
    xs = PieceGrid.from_boundaries(range(0, 2 * ntx + 1, 2), yb)
    ys = PieceGrid.from_boundaries(xb, range(0, 2 * nty + 1, 2))
    slot: dict[str, list[tuple[int, ...]]] = {}
    for s, g in (("xm", xs), ("xp", xs), ("ym", ys), ("yp", ys)):
        b.region(s, g.shape, fields, g.pieces(s))
        slots = []
        for i in range(tiles):
            ix, iy = coords(i)
            if s[0] == "x":
                rect = ((2 * ix, 2 * ix + 2), (yb[iy], yb[iy + 1]))
            else:
                rect = ((xb[ix], xb[ix + 1]), (2 * iy, 2 * iy + 2))
            slots.append(g.select(rect))
        slot[s] = slots
        b.partition(f"p{s}_out", s, s, (tiles,), slots)

    def neighbour(i: int, dx: int, dy: int) -> int | None:
        ix, iy = coords(i)
        jx, jy = ix + dx, iy + dy
        return jy * ntx + jx if 0 <= jx < ntx and 0 <= jy < nty else None

    offsets = {"xm": (-1, 0), "xp": (1, 0), "ym": (0, -1), "yp": (0, 1)}
    for s, (dx, dy) in offsets.items():
        subs = []
        for i in range(tiles):
            j = neighbour(i, dx, dy)
            subs.append(slot[s][j] if j is not None else ())
        b.partition(f"p{s}_in", s, s, (tiles,), subs)

    times_grid = PieceGrid.from_boundaries(range(tiles + 1))
    b.region("times", (tiles,), TIME_FIELDS, times_grid.pieces("times"))
    b.partition("p_times", "times", "times", (tiles,), [(i,) for i in range(tiles)])

    for t in _tasks():
        b.task(t)

    strips = ("xm", "xp", "ym", "yp")

    def interior(i: int) -> int:
        ix, iy = coords(i)
        return w[ix] * h[iy]

    def strip_bytes(part: str, i: int) -> int:
        return b.bytes_of(part[1:3], b.sub(part, i), ("input",))

    def stencil_work(pt: tuple[int, ...]) -> Work:
        i = pt[0]
        m = interior(i)
        halo = sum(strip_bytes(f"p{s}_in", i) for s in strips)
        acc = (
            (Access.stream(24 * m + halo),),
            (),
            *((Access.stream(strip_bytes(f"p{s}_in", i)),) for s in strips),
            (Access.stream(32),),
        )
        return Work(flops=16.0 * m, precision="fp64", kernel=Kernel.STREAM, accesses=acc)

    def increment_work(pt: tuple[int, ...]) -> Work:
        i = pt[0]
        m = interior(i)
        acc = (
            (Access.stream(16 * m),),
            (),
            *((Access.stream(strip_bytes(f"p{s}_out", i)),) for s in strips),
            (Access.stream(32),),
        )
        return Work(flops=float(m), precision="fp64", kernel=Kernel.STREAM, accesses=acc)

    def check_work(pt: tuple[int, ...]) -> Work:
        tile = b.bytes_of("points", b.sub("private", pt[0]), ("input", "output"))
        return Work(flops=2.0 * interior(pt[0]), kernel=Kernel.STREAM,
                    accesses=((Access.stream(tile),), ()))

    dom = (tiles,)
    stencil = b.index_launch(
        "stencil", dom,
        lambda pt: (b.sub("private", pt), b.sub("interior", pt),
                    *(b.sub(f"p{s}_in", pt) for s in strips), b.sub("p_times", pt)),
        stencil_work,
    )
    increment = b.index_launch(
        "increment", dom,
        lambda pt: (b.sub("private", pt), b.sub("exterior", pt),
                    *(b.sub(f"p{s}_out", pt) for s in strips), b.sub("p_times", pt)),
        increment_work,
    )
    def times_only(pt: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
        return (b.sub("p_times", pt),)

    setup = (
        b.single_launch("read_config", work=scalar_work()),
        Fill("points", ("input", "output"), b.whole("points")),
        *(Fill(s, ("input", "output"), b.whole(s)) for s in strips),
        b.index_launch("begin_init", dom, times_only,
                       lambda pt: Work(0.0, kernel=Kernel.SCALAR,
                                       accesses=((Access.stream(8),),))),
    )
    teardown = (
        b.index_launch("check", dom, lambda pt: (b.sub("private", pt), b.sub("interior", pt)),
                       check_work),
        *(b.index_launch(name, dom, times_only,
                         lambda pt: Work(0.0, kernel=Kernel.SCALAR,
                                         accesses=((Access.stream(8),),)),
                         future=name, future_redop="min" if "start" in name else "max")
          for name in ("get_init_start", "get_init_stop", "get_start", "get_stop")),
        b.index_launch("print_time", dom, lambda pt: (), lambda pt: scalar_work(),
                       uses_futures=("get_init_start", "get_init_stop", "get_start",
                                     "get_stop")),
    )
    schedule = Schedule(
        setup=setup,
        iteration=Iteration(untimed=(), timed=(stencil, increment)),
        warmup=p["tprune"], measured=p["tsteps"], cooldown=p["tprune"],
        teardown=teardown,
        timer=Timer(TimerMode.TASK_BODIES, start_task="stencil", end_task="increment",
                    init_start_task="begin_init"),
        traced=True,
    )
    return b.finish(
        schedule=schedule,
        top_task="main",
        legion_flags=regent_flags(machine, util=1, cpus=1),
        throughput_unit="points*steps/s",
        total_flops=None,
        stdout=_stdout,
        throughput=_throughput,
        notes=(
            "interior/exterior are bounds-only: modelled as the tile's piece, never copied",
            "the stencil's halo copy-in (strip -> private halo) is work inside the task",
        ),
    )


def _stdout(app: AppModel, timing: Timing) -> tuple[str, ...]:
    return (
        f"INIT TIME = {seconds(timing.init_time)} s",
        f"ELAPSED TIME = {seconds(timing.elapsed)} s",
        "check completed successfully",
    )


def _throughput(app: AppModel, timing: Timing) -> float:
    """Points·steps per second over the interior grid: (n.x·n.y)·tsteps / ELAPSED."""
    p = app.params
    return (p["nx"] - 4) * (p["ny"] - 4) * p["tsteps"] / timing.elapsed
