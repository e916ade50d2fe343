"""Circuit (Regent ``circuit_sparse.rg``), apps.md §1.

An electrical circuit graph cut into p pieces, grouped into S = p/pps superpieces (the unit of
parallelism: one per GPU under the presets). Each iteration launches ``calculate_new_currents``,
``distribute_charge`` and ``update_voltages`` over the S superpieces.

Pieces of ``all_nodes`` (ids: shared nodes first, grouped by circuit piece, then private nodes):
one piece per circuit piece for its ``snpp`` shared nodes, and one piece per superpiece for its
private nodes. ``rp_shared[i]`` is the superpiece's own shared blocks; ``rp_ghost[i]`` is the
contiguous range of shared blocks its wires can reach: circuit pieces within ±3 of the
superpiece's own, clipped at the ends of the graph (the program draws neighbours from a window
of ±3 piece ids; the model takes the whole window, without wrap-around). So ``rp_ghost``
overlaps ``rp_shared`` of itself and of its neighbours and the simulator derives the ghost
refreshes and charge reductions of apps.md §1.7.

Endpoint statistics used for the gathers and atomics (per wire): ``in_ptr`` is a node of the
wire's own piece; ``out_ptr`` is one with probability pct/100, otherwise a shared node of another
piece (counted as a ghost access). Own-piece nodes are shared with probability snpp/npp.

Requirement order (Regent splits a region argument by privilege group, in the order listed):

- ``calculate_new_currents``: 0 rp_private RO {node_voltage}; 1 rp_shared RO {node_voltage};
  2 rp_ghost RO {node_voltage}; 3 rp_wires RO {in_ptr, out_ptr, inductance, resistance,
  wire_cap}; 4 rp_wires RW {current._0.._9, voltage._0.._8}; 5 rp_times RW
- ``distribute_charge``: 0 rp_private RW {charge}; 1 rp_shared RED+ {charge}; 2 rp_ghost RED+
  {charge}; 3 rp_wires RO {in_ptr, out_ptr, current._0, current._9}
- ``update_voltages``: 0 rp_private RO {node_cap, leakage}; 1 rp_private RW {node_voltage,
  charge}; 2 rp_shared RO {node_cap, leakage}; 3 rp_shared RW {node_voltage, charge};
  4 rp_times RW
- ``init_piece``: 0 rp_ghost_ranges RW; 1 rp_private RW; 2 rp_shared RW; 3 rp_wires RW (all
  fields); 4 all_shared NONE
- ``init_pointers``: 0 rp_wires RW {in_ptr, out_ptr}; 1 rp_private, 2 rp_shared, 3 rp_ghost NONE
"""

from __future__ import annotations

import math

from mapper_gym.appmodel import (
    Access,
    AppBuilder,
    AppModel,
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
    scalar_work,
)

from ._regent import regent_flags, seconds

NAME = "Circuit"
PRESETS: tuple[str, ...] = ("A", "B", "small")
NEIGHBOUR_WINDOW = 3  # neighbour pieces are drawn from piece ids within ±3

NODE_FIELDS = (("node_cap", 4), ("leakage", 4), ("charge", 4), ("node_voltage", 4))
CURRENTS = tuple(f"current._{k}" for k in range(10))
VOLTAGES = tuple(f"voltage._{k}" for k in range(9))
WIRE_FIELDS = (
    ("in_ptr", 16), ("out_ptr", 16), ("inductance", 4), ("resistance", 4), ("wire_cap", 4),
    *((c, 4) for c in CURRENTS), *((v, 4) for v in VOLTAGES),
)
TIME_FIELDS = (("init_start", 8), ("init_stop", 8), ("start", 8), ("stop", 8))
NODE_BYTES = sum(s for _, s in NODE_FIELDS)  # 16
WIRE_BYTES = sum(s for _, s in WIRE_FIELDS)  # 120


def parameters(machine: MachineShape, preset: str = "A", **overrides: int) -> dict[str, int]:
    """Program flags (apps.md §1.2): ``npp, wpp, p, pps, l, prune, steps, pct, seed``.

    Presets give one superpiece per GPU: p = 10 pieces per superpiece × GPUs (40·N on the
    group's four-GPU nodes).
    """
    workers = machine.nodes * machine.workers_per_node()
    if preset == "A":
        p = {"npp": 1000, "wpp": 5000, "pps": 10, "l": 10, "prune": 30}
    elif preset == "B":
        p = {"npp": 5000, "wpp": 20000, "pps": 10, "l": 50, "prune": 30}
    elif preset == "small":
        p = {"npp": 40, "wpp": 80, "pps": 2, "l": 3, "prune": 1}
    else:
        raise ValueError(f"unknown Circuit preset {preset!r}; choose from {PRESETS}")
    p["p"] = p["pps"] * workers
    p.update({"steps": 10 if preset == "small" else 10000, "pct": 80, "seed": 12345})
    unknown = set(overrides) - set(p)
    if unknown:
        raise ValueError(f"unknown Circuit parameters {sorted(unknown)}")
    p.update(overrides)
    if p["p"] % p["pps"]:
        raise ValueError("pieces (p) must be a multiple of pieces per superpiece (pps)")
    if p["npp"] < 2 or p["wpp"] < 1 or not 0 <= p["pct"] <= 100:
        raise ValueError("invalid Circuit sizes")
    return p


def _tasks() -> list[TaskDef]:
    def req(region: str, part: str | None, fields, priv: Privilege, names=None,
            redop: str | None = None) -> Requirement:
        if names is None:
            names = (part, region) if part else (region,)
        return Requirement(region="all_nodes" if region in ("all_private", "all_shared")
                           else region, fields=tuple(fields), privilege=priv,
                           names=tuple(names), partition=part, redop=redop)

    voltage = ("node_voltage",)
    wire_ro = ("in_ptr", "out_ptr", "inductance", "resistance", "wire_cap")
    times = tuple(f for f, _ in TIME_FIELDS)
    all_nodes = tuple(f for f, _ in NODE_FIELDS)
    all_wires = tuple(f for f, _ in WIRE_FIELDS)

    def aos_penalty(reqs: tuple[int, ...]) -> LayoutRule:
        return LayoutRule(variant="GPU", requirements=reqs, soa=True, effect="slowdown",
                          penalty="aos_multifield")

    return [
        TaskDef("toplevel", ("CPU",), inner=True, replicable=True, doc="top-level task"),
        TaskDef("parse_input", ("CPU",), doc="parses the command line"),
        TaskDef("begin_init", ("CPU",), (req("all_times", "rp_times", times, Privilege.WO),),
                doc="timestamps the start of initialisation"),
        TaskDef(
            "init_piece", ("CPU",),
            (req("ghost_ranges", "rp_ghost_ranges", ("range",), Privilege.RW),
             req("all_private", "rp_private", all_nodes, Privilege.RW),
             req("all_shared", "rp_shared", all_nodes, Privilege.RW),
             req("all_wires", "rp_wires", all_wires, Privilege.RW),
             req("all_shared", None, (), Privilege.NONE,
                 names=("all_shared", "rp_all_nodes", "all_nodes"))),
            doc="generates the nodes and wires of one superpiece and its ghost range",
        ),
        TaskDef(
            "init_pointers", ("CPU",),
            (req("all_wires", "rp_wires", ("in_ptr", "out_ptr"), Privilege.RW),
             req("all_private", "rp_private", (), Privilege.NONE),
             req("all_shared", "rp_shared", (), Privilege.NONE),
             req("all_shared", "rp_ghost", (), Privilege.NONE)),
            doc="turns the wires' node ids into multi-region pointers",
        ),
        TaskDef(
            "calculate_new_currents", ("CPU", "GPU"),
            (req("all_private", "rp_private", voltage, Privilege.RO),
             req("all_shared", "rp_shared", voltage, Privilege.RO),
             req("all_shared", "rp_ghost", voltage, Privilege.RO),
             req("all_wires", "rp_wires", wire_ro, Privilege.RO),
             req("all_wires", "rp_wires", CURRENTS + VOLTAGES, Privilege.RW),
             req("all_times", "rp_times", times, Privilege.RW)),
            layout_rules=(aos_penalty((3, 4)),),
            doc="solves each wire's currents and inner voltages over `steps` sub-steps",
        ),
        TaskDef(
            "distribute_charge", ("CPU", "GPU"),
            (req("all_private", "rp_private", ("charge",), Privilege.RW),
             req("all_shared", "rp_shared", ("charge",), Privilege.RED, redop="+"),
             req("all_shared", "rp_ghost", ("charge",), Privilege.RED, redop="+"),
             req("all_wires", "rp_wires", ("in_ptr", "out_ptr", "current._0", "current._9"),
                 Privilege.RO)),
            layout_rules=(aos_penalty((3,)),),
            doc="adds each wire's charge to its two end nodes (atomics on GPU)",
        ),
        TaskDef(
            "update_voltages", ("CPU", "GPU"),
            (req("all_private", "rp_private", ("node_cap", "leakage"), Privilege.RO),
             req("all_private", "rp_private", ("node_voltage", "charge"), Privilege.RW),
             req("all_shared", "rp_shared", ("node_cap", "leakage"), Privilege.RO),
             req("all_shared", "rp_shared", ("node_voltage", "charge"), Privilege.RW),
             req("all_times", "rp_times", times, Privilege.RW)),
            doc="updates each node's voltage from its charge and leakage",
        ),
        TaskDef("get_elapsed", ("CPU",), (req("all_times", None, times, Privilege.RO),),
                doc="computes INIT TIME and ELAPSED TIME from the timestamps"),
        TaskDef("print_summary", ("CPU",), doc="prints the summary (only point 0 prints)"),
    ]


def build(machine: MachineShape, preset: str = "A", **overrides: int) -> AppModel:
    """The Circuit model for a preset on a machine shape."""
    p = parameters(machine, preset, **overrides)
    npp, wpp, pieces, pps, steps = p["npp"], p["wpp"], p["p"], p["pps"], p["steps"]
    snpp = math.ceil(npp / 100)
    sp = pieces // pps  # superpieces
    wires_s = pps * wpp
    priv_s, shared_s = pps * (npp - snpp), pps * snpp

    b = AppBuilder(NAME, preset, machine, p)
    shared_total = pieces * snpp
    cuts = [k * snpp for k in range(pieces + 1)]
    cuts += [shared_total + (i + 1) * priv_s for i in range(sp)]
    grid = PieceGrid.from_boundaries(cuts)
    b.region("all_nodes", grid.shape, NODE_FIELDS, grid.pieces("all_nodes"))
    shared_piece = [grid.select(((k * snpp, (k + 1) * snpp),))[0] for k in range(pieces)]
    private_piece = [grid.select(((shared_total + i * priv_s, shared_total + (i + 1) * priv_s),))[0]
                     for i in range(sp)]
    b.partition("rp_all_nodes", "all_nodes", "all_nodes", (2,),
                [private_piece, shared_piece])
    b.partition("rp_private", "all_nodes", "all_private", (sp,), [(x,) for x in private_piece])
    b.partition("rp_shared", "all_nodes", "all_shared", (sp,),
                [shared_piece[i * pps:(i + 1) * pps] for i in range(sp)])
    ghosts = []
    for i in range(sp):
        lo = max(0, i * pps - NEIGHBOUR_WINDOW)
        hi = min(pieces - 1, (i + 1) * pps - 1 + NEIGHBOUR_WINDOW)
        ghosts.append(shared_piece[lo:hi + 1])
    b.partition("rp_ghost", "all_nodes", "all_shared", (sp,), ghosts)

    wgrid = PieceGrid.from_boundaries([i * wires_s for i in range(sp + 1)])
    b.region("all_wires", wgrid.shape, WIRE_FIELDS, wgrid.pieces("all_wires"))
    b.partition("rp_wires", "all_wires", "all_wires", (sp,), [(i,) for i in range(sp)])
    tgrid = PieceGrid.from_boundaries(range(sp + 1))
    b.region("all_times", (sp,), TIME_FIELDS, tgrid.pieces("all_times"))
    b.partition("rp_times", "all_times", "all_times", (sp,), [(i,) for i in range(sp)])
    b.region("ghost_ranges", (sp,), (("range", 16),), tgrid.pieces("ghost_ranges"))
    b.partition("rp_ghost_ranges", "ghost_ranges", "ghost_ranges", (sp,),
                [(i,) for i in range(sp)])

    for t in _tasks():
        b.task(t)

    # Endpoint statistics per wire (module docstring).
    s_frac = snpp / npp
    inside = p["pct"] / 100
    to_private = (1 - s_frac) * (1 + inside)
    to_shared = s_frac * (1 + inside)
    to_ghost = 1 - inside

    def ends(k: float) -> Access:
        return Access.gather(4 * k * wires_s, k * wires_s, 4)

    def hits(k: float) -> Access:
        return Access.atomic(k * wires_s, 4)

    cnc = Work(
        flops=96.0 * steps * wires_s, precision="fp32", kernel=Kernel.WIRE_SOLVER,
        accesses=((ends(to_private),), (ends(to_shared),), (ends(to_ghost),),
                  (Access.stream(44 * wires_s),), (Access.stream(152 * wires_s),),
                  (Access.stream(32),)),
    )
    dc = Work(
        flops=4.0 * wires_s, precision="fp32", kernel=Kernel.ATOMIC,
        accesses=((hits(to_private),), (hits(to_shared),), (hits(to_ghost),),
                  (Access.stream(40 * wires_s),)),
    )
    uv = Work(
        flops=4.0 * (priv_s + shared_s), precision="fp32", kernel=Kernel.STREAM,
        accesses=((Access.stream(8 * priv_s),), (Access.stream(16 * priv_s),),
                  (Access.stream(8 * shared_s),), (Access.stream(16 * shared_s),),
                  (Access.stream(32),)),
    )
    init = Work(
        flops=0.0, precision="fp32", kernel=Kernel.STREAM,
        accesses=((Access.stream(16),), (Access.stream(NODE_BYTES * priv_s),),
                  (Access.stream(NODE_BYTES * shared_s),),
                  (Access.stream(WIRE_BYTES * wires_s),), ()),
    )
    pointers = Work(flops=0.0, kernel=Kernel.STREAM,
                    accesses=((Access.stream(64 * wires_s),), (), (), ()))

    dom = (sp,)

    def sub(part: str):
        return lambda pt: b.sub(part, pt)

    def launch(task: str, parts: tuple[str, ...], work: Work, **kw):
        return b.index_launch(task, dom, lambda pt: tuple(sub(x)(pt) for x in parts),
                              lambda pt: work, **kw)

    cnc_l = launch("calculate_new_currents",
                   ("rp_private", "rp_shared", "rp_ghost", "rp_wires", "rp_wires", "rp_times"),
                   cnc)
    dc_l = launch("distribute_charge", ("rp_private", "rp_shared", "rp_ghost", "rp_wires"), dc)
    uv_l = launch("update_voltages",
                  ("rp_private", "rp_private", "rp_shared", "rp_shared", "rp_times"), uv)
    all_shared = b.sub("rp_all_nodes", 1)
    setup = (
        b.single_launch("parse_input", work=scalar_work()),
        launch("begin_init", ("rp_times",),
               Work(0.0, kernel=Kernel.SCALAR, accesses=((Access.stream(8),),))),
        b.index_launch(
            "init_piece", dom,
            lambda pt: (b.sub("rp_ghost_ranges", pt), b.sub("rp_private", pt),
                        b.sub("rp_shared", pt), b.sub("rp_wires", pt), all_shared),
            lambda pt: init),
        launch("init_pointers", ("rp_wires", "rp_private", "rp_shared", "rp_ghost"), pointers),
    )
    teardown = (
        b.single_launch("get_elapsed", (b.whole("all_times"),),
                        Work(0.0, kernel=Kernel.SCALAR,
                             accesses=((Access.stream(32 * sp),),))),
        b.index_launch("print_summary", dom, lambda pt: (), lambda pt: scalar_work()),
    )
    schedule = Schedule(
        setup=setup,
        iteration=Iteration(untimed=(), timed=(cnc_l, dc_l, uv_l)),
        warmup=p["prune"], measured=p["l"], cooldown=p["prune"],
        teardown=teardown,
        timer=Timer(TimerMode.TASK_BODIES, start_task="calculate_new_currents",
                    end_task="update_voltages", init_start_task="begin_init"),
        traced=True,
    )
    total = p["l"] * (pieces * wpp * (96 * steps + 4) + 4 * pieces * npp)
    return b.finish(
        schedule=schedule,
        top_task="toplevel",
        legion_flags=regent_flags(machine, util=2),
        throughput_unit="GFLOPS",
        total_flops=float(total),
        stdout=_stdout,
        throughput=_throughput,
        notes=(
            "ghost ranges take the whole ±3 neighbour window (clipped, no wrap-around)",
            "wire endpoints in other pieces count as ghost accesses even inside the superpiece",
            "ghost_ranges / image-partition construction at init is not modelled",
        ),
    )


def _stdout(app: AppModel, timing: Timing) -> tuple[str, ...]:
    p = app.params
    snpp = math.ceil(p["npp"] / 100)
    nodes, wires = p["p"] * p["npp"], p["p"] * p["wpp"]
    node_total, wire_total = nodes * NODE_BYTES, wires * WIRE_BYTES
    return (
        f"circuit settings: loops={p['l']} prune={p['prune']} pieces={p['p']} "
        f"(pieces/superpiece={p['pps']}) nodes/piece={p['npp']} (nodes/piece={snpp}) "
        f"wires/piece={p['wpp']} pct_in_piece={p['pct']} seed={p['seed']}",
        "Circuit memory usage:",
        f"  Nodes : {nodes:10d} * {NODE_BYTES:4d} bytes = {node_total:12d} bytes",
        f"  Wires : {wires:10d} * {WIRE_BYTES:4d} bytes = {wire_total:12d} bytes",
        f"  Total                             {node_total + wire_total:12d} bytes",
        f"INIT TIME = {seconds(timing.init_time)} s",
        f"ELAPSED TIME = {seconds(timing.elapsed)} s",
        f"GFLOPS = {seconds(_throughput(app, timing))} GFLOPS",
    )


def _throughput(app: AppModel, timing: Timing) -> float:
    """The program's GFLOPS line: l·(p·wpp·(96·steps + 4) + 4·p·npp) / ELAPSED / 10⁹."""
    assert app.total_flops is not None
    return app.total_flops / timing.elapsed / 1e9
