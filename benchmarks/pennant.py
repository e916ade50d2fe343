"""Pennant (Regent ``pennant.rg``), apps.md §3.

Lagrangian staggered-grid hydrodynamics on an nzx × nzy quadrilateral mesh cut into horizontal
strips (``-numpcx 1``), one piece per GPU. Each cycle issues 27 index launches over the pieces
and two single CPU tasks (``calc_global_dt``, ``continue_simulation``).

Pieces:

- ``rz_all`` (zones) and ``rs_all`` (sides, 4 per zone): one piece per strip;
- ``rp_all`` (points): one piece per strip for its private points, and one piece per boundary row
  of nzx + 1 points between strips k−1 and k. The lower strip owns a boundary row
  (``rp_all_shared_p[k-1]``); ``rp_all_ghost_p[k]`` is the one or two boundary rows its zones
  touch. Point ids: all private blocks first, then the boundary rows.

Requirements. Zone and side tasks take (``rz_all_p[i]``, ``rp_all_private_p[i]``,
``rp_all_ghost_p[i]``, ``rs_all_p[i]``); each argument becomes one requirement per privilege
group in the order RO, WO, RW, RED, and an argument without fields becomes one NONE requirement.
Zone-only tasks take only ``rz_all_p[i]``. Point tasks (launched twice per cycle, over
``rp_all_private_p`` and then ``rp_all_shared_p``) take one point argument.
:meth:`AppModel.describe` lists every task's requirement list.

Work [D/A]: bytes follow the field sizes (apps.md §3.6): zone and side fields stream (a
read-write field counts twice); point fields read by zone/side tasks are gathers, one access per
side and per point map used (``mapsp1``, or both maps); the point sums of ``sum_point_mass`` and
``sum_point_force`` are atomics. Flops are 0.2 per byte of distinct traffic (apps.md §3.6:
arithmetic intensity 0.1–0.3, about 10³ flops per zone per cycle) [A].

Futures: ``calc_dt_hydro`` returns a MIN-reduced ``dt_hydro``; ``calc_global_dt`` (next cycle)
turns it into ``dt``, which the time-stepping tasks use; ``continue_simulation`` consumes ``dt``
and the top-level task waits for its predicate before issuing the next cycle [A].
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mapper_gym.appmodel import (
    Access,
    AppBuilder,
    AppModel,
    Iteration,
    Kernel,
    Launch,
    MachineShape,
    Pattern,
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
    scalar_work,
)

from ._regent import regent_flags, seconds

NAME = "Pennant"
PRESETS: tuple[str, ...] = ("A", "B", "small")
FLOPS_PER_BYTE = 0.2  # [A] apps.md §3.6
SIDES_PER_ZONE = 4

V2, D = 16, 8
ZONE_FIELDS = (
    ("zxp", V2), ("zx", V2), ("zuc", V2),
    *((f, D) for f in ("zareap", "zarea", "zvol0", "zvolp", "zvol", "zdl", "zm", "zrp", "zr",
                       "ze", "zetot", "zw", "zwrate", "zp", "zss", "zdu", "z0tmp")),
    ("znump", 1),
)
POINT_FIELDS = (
    *((f, V2) for f in ("px0", "pxp", "px", "pu0", "pu", "pap", "pf")),
    ("pmaswt", D), ("has_bcx", 1), ("has_bcy", 1),
)
SIDE_FIELDS = (
    ("mapsz", 8), ("mapsp1", 16), ("mapsp2", 16), ("mapss3", 8), ("mapss4", 8),
    *((f, D) for f in ("sareap", "sarea", "svolp", "svol", "smf", "elen", "carea", "cevol",
                       "cdu", "cdiv", "ccos")),
    *((f, V2) for f in ("ssurfp", "sfp", "sft", "sfq", "exp", "ex", "cqe1", "cqe2")),
)
MAPS = ("mapsz", "mapsp1", "mapsp2")
GROUP_ORDER = ("RO", "WO", "RW", "RED")

# Field groups per task and argument: z (zones), p (private points), g (ghost points, default
# = p), s (sides); "gathers": point accesses per side (1: mapsp1 only, 2: both maps).
Groups = Mapping[str, Sequence[str]]
SIDE_TASKS: dict[str, dict] = {
    "calc_centers": dict(z={"RO": ["znump"], "RW": ["zxp"]}, p={"RO": ["pxp"]},
                         s={"RO": MAPS, "WO": ["exp"]}, gathers=2),
    "calc_volumes": dict(z={"RO": ["zxp", "znump"], "RW": ["zareap", "zvolp"]},
                         p={"RO": ["pxp"]}, s={"RO": MAPS, "WO": ["sareap", "elen"]}, gathers=2),
    "calc_char_len": dict(z={"RO": ["znump"], "RW": ["zdl"]}, p={},
                          s={"RO": ["mapsz", "sareap", "elen"]}, gathers=0),
    "sum_point_mass": dict(z={"RO": ["zareap", "zrp"]}, p={"RW": ["pmaswt"]},
                           g={"RED": ["pmaswt"]},
                           s={"RO": ["mapsz", "mapsp1", "mapss3", "smf"]}, gathers=1),
    "calc_force_pgas_tts": dict(z={"RO": ["zxp", "zareap", "zrp", "zss", "zp"]}, p={},
                                s={"RO": ["mapsz", "sareap", "smf", "exp"],
                                   "WO": ["sfp", "sft"]}, gathers=0),
    "qcs_zone_center_velocity": dict(z={"RO": ["znump"], "RW": ["zuc"]}, p={"RO": ["pu"]},
                                     s={"RO": MAPS}, gathers=1),
    "qcs_corner_divergence": dict(z={"RO": ["zxp", "zuc"]}, p={"RO": ["pxp", "pu"]},
                                  s={"RO": (*MAPS, "exp", "elen"),
                                     "WO": ["carea", "ccos", "cdiv", "cevol", "cdu"]},
                                  gathers=2),
    "qcs_qcn_force": dict(z={"RO": ["zrp", "zss"]}, p={"RO": ["pu"]},
                          s={"RO": (*MAPS, "elen", "cdiv", "cdu", "cevol"),
                             "WO": ["cqe1", "cqe2"]}, gathers=2),
    "qcs_force": dict(z={}, p={},
                      s={"RO": ["mapss4", "elen", "carea", "ccos", "cqe1", "cqe2"],
                         "WO": ["sfq"]}, gathers=0),
    "qcs_vel_diff": dict(z={"RO": ["zss"], "WO": ["zdu"], "RW": ["z0tmp"]},
                         p={"RO": ["pxp", "pu"]}, s={"RO": (*MAPS, "elen")}, gathers=2),
    "sum_point_force": dict(z={"RO": ["znump"]}, p={"RW": ["pf"]}, g={"RED": ["pf"]},
                            s={"RO": ["mapsz", "mapsp1", "mapss3", "sfq", "sft"]}, gathers=1),
    "calc_centers_full": dict(z={"RO": ["znump"], "RW": ["zx"]}, p={"RO": ["px"]},
                              s={"RO": MAPS, "RW": ["ex"]}, gathers=2),
    "calc_volumes_full": dict(z={"RO": ["zx", "znump"], "RW": ["zarea", "zvol"]},
                              p={"RO": ["px"]}, s={"RO": MAPS, "WO": ["sarea"]}, gathers=2),
    "calc_work": dict(z={"RO": ["znump"], "RW": ["zw", "zetot"]},
                      p={"RO": ["pxp", "pu0", "pu"]}, s={"RO": (*MAPS, "sfp", "sfq")},
                      gathers=2),
    # init only
    "init_side_fracs": dict(z={"RO": ["zarea"]}, p={}, s={"RO": ["mapsz", "sarea"],
                                                          "WO": ["smf"]}, gathers=0),
}
ZONE_TASKS: dict[str, Groups] = {
    "init_step_zones": {"RO": ["zvol"], "WO": ["zvol0"]},
    "calc_rho_half": {"RO": ["zvolp", "zm"], "WO": ["zrp"]},
    "calc_state_at_half": {"RO": ["zvol0", "zvolp", "zm", "zr", "ze", "zwrate"],
                           "WO": ["zp", "zss"]},
    "calc_work_rate_energy_rho_full": {"RO": ["zvol0", "zvol", "zm", "zw", "zp", "zetot"],
                                       "WO": ["zwrate", "ze", "zr"]},
    "calc_dt_hydro": {"RO": ["zdl", "zvol0", "zvol", "zss", "zdu"]},
    # init only
    "init_mesh_zones": {"WO": ["zx", "zarea", "zvol"]},
    "init_hydro": {"RO": ["zx", "zvol"], "WO": ["zr", "ze", "zwrate", "zm", "zetot"]},
}
POINT_TASKS: dict[str, Groups] = {
    "init_step_points": {"WO": ["pmaswt", "pf"]},
    "adv_pos_half": {"RO": ["px", "pu"], "WO": ["px0", "pxp", "pu0"]},
    "apply_boundary_conditions": {"RO": ["has_bcx", "has_bcy"], "RW": ["pu0", "pf"]},
    "adv_pos_full": {"RO": ["px0", "pu0", "pf", "pmaswt"], "WO": ["px", "pu"]},
    # init only
    "init_radial_velocity": {"RO": ["px"], "WO": ["pu"]},
}
#: Launch order of one cycle (apps.md §3.4); "x2" launches over private then shared points.
CYCLE: tuple[str, ...] = (
    "init_step_points x2", "init_step_zones", "calc_global_dt", "adv_pos_half x2",
    "calc_centers", "calc_volumes", "calc_char_len", "calc_rho_half", "sum_point_mass",
    "calc_state_at_half", "calc_force_pgas_tts", "qcs_zone_center_velocity",
    "qcs_corner_divergence", "qcs_qcn_force", "qcs_force", "qcs_vel_diff", "sum_point_force",
    "apply_boundary_conditions x2", "adv_pos_full x2", "calc_centers_full", "calc_volumes_full",
    "calc_work", "calc_work_rate_energy_rho_full", "calc_dt_hydro", "continue_simulation",
)
USES_DT = frozenset({"adv_pos_half", "calc_state_at_half", "adv_pos_full", "calc_work",
                     "calc_work_rate_energy_rho_full", "calc_dt_hydro"})

ZONES = ("rz_all", "rz_all_p", ("rz_all_p", "rz_all"))
PRIVATE = ("rp_all", "rp_all_private_p", ("rp_all_private_p", "rp_all_private"))
GHOST = ("rp_all", "rp_all_ghost_p", ("rp_all_ghost_p", "rp_all_ghost"))
SHARED = ("rp_all", "rp_all_shared_p", ("rp_all_shared_p", "rp_all_ghost"))
SIDES = ("rs_all", "rs_all_p", ("rs_all_p", "rs_all"))


def parameters(machine: MachineShape, preset: str = "A", **overrides: int) -> dict[str, int]:
    """Mesh and run parameters (apps.md §3.2): ``nzx, nzy, cstop, prune, npieces, numpcx,
    numpcy``. One strip per GPU; Preset A is strong-scaled (the same 2160² Sedov deck on every
    node count), Preset B weak-scaled (320 × 92160 zones per node, Leblanc)."""
    workers = machine.nodes * machine.workers_per_node()
    if preset == "A":
        p = {"nzx": 2160, "nzy": 2160, "cstop": 30, "prune": 30}
    elif preset == "B":
        p = {"nzx": 320, "nzy": 92160 * machine.physical_nodes, "cstop": 30, "prune": 30}
    elif preset == "small":
        p = {"nzx": 8, "nzy": 6 * workers, "cstop": 3, "prune": 1}
    else:
        raise ValueError(f"unknown Pennant preset {preset!r}; choose from {PRESETS}")
    p.update({"npieces": workers, "numpcx": 1, "numpcy": workers})
    unknown = set(overrides) - set(p)
    if unknown:
        raise ValueError(f"unknown Pennant parameters {sorted(unknown)}")
    p.update(overrides)
    if p["numpcx"] != 1 or p["numpcy"] != p["npieces"]:
        raise ValueError("the Pennant model supports horizontal strips only (-numpcx 1)")
    if p["nzy"] < 2 * p["npieces"] or p["nzx"] < 1:
        raise ValueError("Pennant mesh too small: every strip needs at least two zone rows")
    return p


def _requirements(arg: tuple, groups: Groups, empty_as_none: bool = True) -> list[Requirement]:
    region, part, names = arg
    reqs = []
    for g in GROUP_ORDER:
        fields = tuple(groups.get(g, ()))
        if fields:
            priv = Privilege.RED if g == "RED" else Privilege[g]
            reqs.append(Requirement(region, fields, priv, names, part,
                                    "+" if g == "RED" else None))
    if not reqs and empty_as_none:
        reqs.append(Requirement(region, (), Privilege.NONE, names, part))
    return reqs


def _side_task_args(spec: dict) -> list[tuple[tuple, Groups]]:
    return [(ZONES, spec["z"]), (PRIVATE, spec["p"]), (GHOST, spec.get("g", spec["p"])),
            (SIDES, spec["s"])]


def _tasks() -> list[TaskDef]:
    both = ("CPU", "GPU")
    tasks = [
        TaskDef("toplevel", ("CPU",), inner=True, replicable=True, doc="top-level task"),
        TaskDef("read_partitions", ("CPU",), doc="reads the mesh partitioning"),
        TaskDef("initialize_topology", ("CPU",),
                (*_requirements(ZONES, {"WO": ["znump"]}),
                 *_requirements(PRIVATE, {"WO": ["px", "has_bcx", "has_bcy"]}),
                 *_requirements(SHARED, {"WO": ["px", "has_bcx", "has_bcy"]}),
                 *_requirements(SIDES, {"WO": ["mapsz", "mapss3", "mapss4"]})),
                doc="builds the mesh of one piece"),
        TaskDef("init_pointers", ("CPU",),
                (*_requirements(PRIVATE, {}), *_requirements(GHOST, {}),
                 *_requirements(SIDES, {"RW": ["mapsp1", "mapsp2"]})),
                doc="turns side->point ids into multi-region pointers"),
        TaskDef("dummy", both, doc="warm-up index task [A: variants]"),
        TaskDef("calc_global_dt", ("CPU",), doc="next dt from the previous cycle's MIN"),
        TaskDef("continue_simulation", ("CPU",), doc="loop predicate"),
        *(TaskDef(name, ("CPU",), doc="prints progress") for name in
          ("output0", "output1", "output5")),
    ]
    for name, spec in SIDE_TASKS.items():
        reqs = [r for arg, groups in _side_task_args(spec) for r in _requirements(arg, groups)]
        tasks.append(TaskDef(name, both, tuple(reqs), doc="zone/side task"))
    for name, groups in ZONE_TASKS.items():
        doc = "zone task; returns a MIN-reduced dt" if name == "calc_dt_hydro" else "zone task"
        tasks.append(TaskDef(name, both, tuple(_requirements(ZONES, groups)), doc=doc))
    for name, groups in POINT_TASKS.items():
        tasks.append(TaskDef(name, both, tuple(_requirements(PRIVATE, groups)),
                             doc="point task, launched over private and over shared points"))
    return tasks


class _Mesh:
    """Piece geometry of the strip decomposition."""

    def __init__(self, nzx: int, nzy: int, pieces: int) -> None:
        self.nzx, self.nzy, self.pieces = nzx, nzy, pieces
        self.rows = block_bounds(nzy, pieces)  # zone-row boundaries of the strips
        self.row = nzx + 1  # points per point row
        self.zones = [nzx * (self.rows[k + 1] - self.rows[k]) for k in range(pieces)]
        self.private_points = []
        for k in range(pieces):
            point_rows = self.rows[k + 1] - self.rows[k] + 1 - (k > 0) - (k < pieces - 1)
            self.private_points.append(point_rows * self.row)


def build(machine: MachineShape, preset: str = "A", **overrides: int) -> AppModel:
    """The Pennant model for a preset on a machine shape."""
    p = parameters(machine, preset, **overrides)
    npieces = p["npieces"]
    mesh = _Mesh(p["nzx"], p["nzy"], npieces)
    b = AppBuilder(NAME, preset, machine, p)

    zcuts = [mesh.rows[k] * mesh.nzx for k in range(npieces + 1)]
    zg = PieceGrid.from_boundaries(zcuts)
    b.region("rz_all", zg.shape, ZONE_FIELDS, zg.pieces("rz_all"))
    b.partition("rz_all_p", "rz_all", "rz_all", (npieces,), [(k,) for k in range(npieces)])
    sg = PieceGrid.from_boundaries([SIDES_PER_ZONE * c for c in zcuts])
    b.region("rs_all", sg.shape, SIDE_FIELDS, sg.pieces("rs_all"))
    b.partition("rs_all_p", "rs_all", "rs_all", (npieces,), [(k,) for k in range(npieces)])

    pcuts = [0]
    for k in range(npieces):
        pcuts.append(pcuts[-1] + mesh.private_points[k])
    for _ in range(npieces - 1):
        pcuts.append(pcuts[-1] + mesh.row)
    pg = PieceGrid.from_boundaries(pcuts)
    b.region("rp_all", pg.shape, POINT_FIELDS, pg.pieces("rp_all"))
    boundary = list(range(npieces, 2 * npieces - 1))  # piece id of the row between k and k+1
    b.partition("rp_all_private_p", "rp_all", "rp_all_private", (npieces,),
                [(k,) for k in range(npieces)])
    b.partition("rp_all_shared_p", "rp_all", "rp_all_ghost", (npieces,),
                [(boundary[k],) if k < npieces - 1 else () for k in range(npieces)])
    b.partition("rp_all_ghost_p", "rp_all", "rp_all_ghost", (npieces,),
                [tuple(boundary[j] for j in (k - 1, k) if 0 <= j < npieces - 1)
                 for k in range(npieces)])

    for t in _tasks():
        b.task(t)

    point_size = dict(POINT_FIELDS)
    zone_size = dict(ZONE_FIELDS)
    side_size = dict(SIDE_FIELDS)

    def stream(groups: Groups, sizes: Mapping[str, int], count: int) -> list[Access]:
        out = []
        for g in GROUP_ORDER:
            fields = groups.get(g, ())
            if fields:
                mult = 2 if g in ("RW", "RED") else 1
                out.append(Access.stream(mult * count * sum(sizes[f] for f in fields)))
        return out

    def point_access(groups: Groups, npoints: int, touches: float) -> list[list[Access]]:
        """One access list per requirement of a point argument read through side maps:
        ``touches`` indirect accesses in total (per field)."""
        out = []
        for g in GROUP_ORDER:
            for_group = []
            for f in groups.get(g, ()):
                size = point_size[f]
                if g in ("RW", "RED"):
                    for_group.append(Access(2.0 * npoints * size, Pattern.ATOMIC, touches, size))
                else:
                    for_group.append(Access.gather(npoints * size, touches, size))
            if for_group:
                out.append(for_group)
        return out or [[]]

    def side_work(name: str, k: int, private: int, ghost: int) -> Work:
        spec = SIDE_TASKS[name]
        zones = mesh.zones[k]
        sides = SIDES_PER_ZONE * zones
        per_side = max(spec["gathers"], 1)
        total = private + ghost
        lists: list[list[Access]] = []
        zl = stream(spec["z"], zone_size, zones)
        lists += [[a] for a in zl] or [[]]
        lists += point_access(spec["p"], private, sides * per_side * private / total)
        lists += point_access(spec.get("g", spec["p"]), ghost, sides * per_side * ghost / total)
        sl = stream(spec["s"], side_size, sides)
        lists += [[a] for a in sl] or [[]]
        acc = tuple(tuple(x) for x in lists)
        distinct = sum(a.bytes for x in acc for a in x)
        return Work(FLOPS_PER_BYTE * distinct, "fp64", Kernel.GATHER, acc)

    def simple_work(groups: Groups, sizes: Mapping[str, int], count: int) -> Work:
        acc = tuple((a,) for a in stream(groups, sizes, count)) or ((),)
        distinct = sum(a.bytes for x in acc for a in x)
        return Work(FLOPS_PER_BYTE * distinct, "fp64", Kernel.STREAM, acc)

    dom = (npieces,)

    def ghost_points(k: int) -> int:
        return len(b.sub("rp_all_ghost_p", k)) * mesh.row

    def side_launch(name: str) -> Launch:
        def bind(pt):
            k = pt[0]
            parts = []
            for arg, groups in _side_task_args(SIDE_TASKS[name]):
                n = len(_requirements(arg, groups))
                parts += [b.sub(arg[1], k)] * n
            return parts
        return b.index_launch(
            name, dom, bind,
            lambda pt: side_work(name, pt[0], mesh.private_points[pt[0]], ghost_points(pt[0])),
            uses_futures=("dt",) if name in USES_DT else ())

    def zone_launch(name: str) -> Launch:
        groups = ZONE_TASKS[name]
        n = len(_requirements(ZONES, groups))
        extra = {"future": "dt_hydro", "future_redop": "min"} if name == "calc_dt_hydro" else {}
        return b.index_launch(
            name, dom, lambda pt: [b.sub("rz_all_p", pt)] * n,
            lambda pt: simple_work(groups, zone_size, mesh.zones[pt[0]]),
            uses_futures=("dt",) if name in USES_DT else (), **extra)

    def points_in(part: str, pt: tuple[int, ...]) -> int:
        return sum(b.get_region("rp_all").pieces[i].elements for i in b.sub(part, pt))

    def point_launches(name: str) -> list[Launch]:
        groups = POINT_TASKS[name]
        n = len(_requirements(PRIVATE, groups))
        out = []
        for arg in (PRIVATE, SHARED):
            part = arg[1]
            out.append(b.index_launch(
                name, dom, lambda pt, part=part: [b.sub(part, pt)] * n,
                lambda pt, part=part: simple_work(groups, point_size, points_in(part, pt)),
                requirements=tuple(_requirements(arg, groups)),
                uses_futures=("dt",) if name in USES_DT else (),
                label=f"{name}[{part}]"))
        return out

    cycle: list[Launch] = []
    for entry in CYCLE:
        name = entry.split()[0]
        if entry.endswith("x2"):
            cycle += point_launches(name)
        elif name == "calc_global_dt":
            cycle.append(b.single_launch(name, work=scalar_work(flops=10.0),
                                         uses_futures=("dt_hydro",), future="dt"))
        elif name == "continue_simulation":
            cycle.append(b.single_launch(name, work=scalar_work(flops=2.0),
                                         uses_futures=("dt",), future="continue",
                                         blocks_parent=True))
        elif name in SIDE_TASKS:
            cycle.append(side_launch(name))
        else:
            cycle.append(zone_launch(name))

    def init_launch(name: str, parts: Sequence[str], groups: Sequence[tuple[Groups, Mapping,
                                                                             str]]) -> Launch:
        def work(pt):
            k = pt[0]
            acc: list[tuple[Access, ...]] = []
            for g, sizes, kind in groups:
                count = {"z": mesh.zones[k], "s": SIDES_PER_ZONE * mesh.zones[k],
                         "p": mesh.private_points[k], "sh": len(b.sub("rp_all_shared_p", k))
                         * mesh.row, "none": 0}[kind]
                got = stream(g, sizes, count) if kind != "none" else []
                acc += [(a,) for a in got] or [()]
            return Work(0.0, "fp64", Kernel.STREAM, tuple(acc))
        return b.index_launch(name, dom, lambda pt: [b.sub(x, pt) for x in parts], work)

    task = b.get_task
    topo = init_launch(
        "initialize_topology",
        [r.partition for r in task("initialize_topology").requirements],
        [({"WO": ["znump"]}, zone_size, "z"),
         ({"WO": ["px", "has_bcx", "has_bcy"]}, point_size, "p"),
         ({"WO": ["px", "has_bcx", "has_bcy"]}, point_size, "sh"),
         ({"WO": ["mapsz", "mapss3", "mapss4"]}, side_size, "s")])
    pointers = init_launch(
        "init_pointers", [r.partition for r in task("init_pointers").requirements],
        [({}, point_size, "none"), ({}, point_size, "none"),
         ({"RW": ["mapsp1", "mapsp2"]}, side_size, "s")])
    setup: list[Launch] = [
        b.single_launch("output0", work=scalar_work()),
        b.single_launch("read_partitions", work=scalar_work()),
        topo, pointers,
        b.index_launch("dummy", dom, lambda pt: (), lambda pt: scalar_work()),
        zone_launch("init_mesh_zones"),
        side_launch("calc_centers_full"), side_launch("calc_volumes_full"),
        side_launch("init_side_fracs"), zone_launch("init_hydro"),
        *point_launches("init_radial_velocity"),
        b.single_launch("output1", work=scalar_work()),
    ]
    schedule = Schedule(
        setup=tuple(setup),
        iteration=Iteration(untimed=(), timed=tuple(cycle)),
        warmup=p["prune"], measured=p["cstop"], cooldown=p["prune"],
        teardown=(b.single_launch("output5", work=scalar_work()),),
        timer=Timer(TimerMode.FENCE_WINDOW),
        traced=True,
    )
    return b.finish(
        schedule=schedule,
        top_task="toplevel",
        legion_flags=regent_flags(machine, util=2, cpus=1),
        throughput_unit="zone-cycles/s",
        total_flops=None,
        stdout=_stdout,
        throughput=_throughput,
        notes=(
            "horizontal strips only (-numpcx 1); the lower strip owns each boundary row",
            "init-only task requirements and variants are assumptions (apps.md §3.4, §6)",
            "Regent operator tasks (__binary_*, __unary_*) are not modelled",
            "flops = 0.2 per byte of traffic [A]",
        ),
    )


def _stdout(app: AppModel, timing: Timing) -> tuple[str, ...]:
    return (
        "Running test (t=0.0)...",
        f"Initializing (t={timing.init_started_at:.1f})...",
        f"Starting simulation (t={timing.run_started_at:.1f})...",
        f"INIT TIME = {seconds(timing.init_time)} s",
        f"ELAPSED TIME = {seconds(timing.elapsed)} s",
        f"Elapsed time = {timing.elapsed:.6e} (total)",
        "Warning: Skipping sequential validation",
    )


def _throughput(app: AppModel, timing: Timing) -> float:
    """Zone-cycles per second: zones · cstop / ELAPSED."""
    p = app.params
    return p["nzx"] * p["nzy"] * p["cstop"] / timing.elapsed
