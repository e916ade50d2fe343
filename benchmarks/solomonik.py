"""Solomonik's 2.5-D algorithm (DISTAL ``solomonikMM``), apps.md §4.4.

``task_5`` (GPU inner) runs over (r, r, c): point (i, j, l) owns layer l, i.e. the k slab l of
n/c columns of B and rows of C, and reduces its partial A(i, j) into A (RED+, virtual). It
issues r3 ``task_4`` leaves in sequence; leaf s uses chunk q = (i + j + s) mod r3 of its slab
(Cannon-like skew), so at each step different points read different chunks. The c partial sums
of A(i, j) reach A's placement home through the RO relaunch of ``task_1``.

The CPU build (machines without GPUs) has the same structure (apps.md §4.4) with variants of the
CPU build's kind (``distal.cpu_build_kind``) and no ``init_cublas``; its grid is looked up by
the processor count (``distal.grid_for``).
"""

from __future__ import annotations

from mapper_gym.appmodel import AppModel, MachineShape, Privilege, TaskDef

from . import distal

NAME = "Solomonik"
PRESETS = distal.PRESETS
#: (r, c, r3) by total GPU count (apps.md §4.4).
GRID: dict[int, tuple[int, ...]] = {
    4: (2, 1, 2), 8: (2, 2, 2), 16: (4, 1, 4), 32: (4, 2, 4), 64: (8, 1, 8), 128: (8, 2, 8),
    256: (16, 1, 16),
}


def parameters(machine: MachineShape, preset: str = "A", **overrides: int) -> dict[str, int]:
    """``n, rpoc, c, rpoc3`` from the table keyed by the total GPU count."""
    r, c, r3 = distal.grid_for(GRID, machine, NAME)
    p = {"n": distal.default_n(preset, machine, 8 * r * c * r3), "rpoc": r, "c": c,
         "rpoc3": r3}
    distal.check_overrides(p, overrides, NAME)
    if p["n"] < max(p["rpoc"], p["c"] * p["rpoc3"]):
        raise ValueError("Solomonik: n too small for the processor grid")
    return p


def build(machine: MachineShape, preset: str = "A", **overrides: int) -> AppModel:
    p = parameters(machine, preset, **overrides)
    n, r, c, r3 = p["n"], p["rpoc"], p["c"], p["rpoc3"]
    rows = cols = distal.blocks(n, r)
    kr = distal.blocks(n, r)  # k blocks of the placement tiles
    chunks = distal.blocks(n, c * r3)  # k chunks; slab l is chunks l*r3 .. (l+1)*r3 - 1

    def slab(l_: int) -> tuple[int, int]:
        return distal.span(chunks, l_ * r3, (l_ + 1) * r3)

    def a_tile(pt):
        return (rows[pt[0]], cols[pt[1]])

    def b_tile(pt):
        return (rows[pt[0]], kr[pt[1]])

    def c_tile(pt):
        return (kr[pt[0]], cols[pt[1]])

    rects = {
        "A": [(ri, cj) for ri in rows for cj in cols],
        "B": [(ri, k) for ri in rows for k in (*kr, *chunks)],
        "C": [(k, cj) for cj in cols for k in (*kr, *chunks)],
    }
    mb = distal.MatmulBuilder(NAME, preset, machine, p, rects)
    kind = distal.cpu_build_kind(machine)
    mb.common_tasks(Privilege.WO, Privilege.RED,
                    frozenset({"untrack_valid_regions", "backpressure"}), kind=kind or "GPU")
    b = mb.b
    req = distal.MatmulBuilder.req
    b.task(TaskDef("task_5", (kind or "GPU",),
                   (req("A", Privilege.RED), req("B", Privilege.RO), req("C", Privilege.RO)),
                   inner=True, doc="one point per (i, j, layer): r3 skewed DGEMM steps"))
    for name, m, tile in (("tiles_A", "A", a_tile), ("tiles_B", "B", b_tile),
                          ("tiles_C", "C", c_tile)):
        mb.partition(name, m, (r, r), tile)

    def leaf(i: int, j: int, l_: int, s: int):
        q = (i + j + s) % r3
        k = chunks[l_ * r3 + q]
        return b.single_launch(
            "task_4",
            (mb.pieces("A", (rows[i], cols[j])), mb.pieces("B", (rows[i], k)),
             mb.pieces("C", (k, cols[j]))),
            distal.gemm_work(rows[i][1] - rows[i][0], cols[j][1] - cols[j][0], k[1] - k[0]),
            label=f"task_4[{i},{j},{l_};s={s}]")

    def layer_bind(pt):
        i, j, l_ = pt
        return (mb.pieces("A", (rows[i], cols[j])), mb.pieces("B", (rows[i], slab(l_))),
                mb.pieces("C", (slab(l_), cols[j])))

    compute = b.index_launch(
        "task_5", (r, r, c), layer_bind,
        children=lambda pt: [leaf(*pt, s) for s in range(r3)])

    def flat(tile):  # placement launches are over (r, r, 1)
        return lambda pt: tile(pt[:2])

    dom = (r, r, 1)
    untimed = [mb.fill("A", dom, flat(a_tile)), mb.fill("B", dom, flat(b_tile)),
               mb.fill("C", dom, flat(c_tile)),
               mb.placement("task_1", "A", Privilege.WO, dom, flat(a_tile)),
               mb.placement("task_2", "B", Privilege.WO, dom, flat(b_tile)),
               mb.placement("task_3", "C", Privilege.WO, dom, flat(c_tile))]
    force = mb.placement("task_1", "A", Privilege.RO, dom, flat(a_tile))
    return mb.finish(
        untimed=untimed, timed=[compute, force], warmup=1, measured=10,
        setup=[mb.init_cublas()] if kind is None else [],
        teardown=[mb.validate(dom, flat(a_tile))],
        flags=distal.legion_flags(preset, machine, ("-tm:untrack_valid_regions",)),
        notes=("placement of B and C is WO like Johnson and COSMA [A]",),
    )
