"""Phase templates: the operations of one phase in the form the timing engine instantiates.

The logical pass numbers operations globally. The engine allocates one *block* of operation
states per phase (the setup steps, or one iteration) and needs, per operation, its
predecessors as references *relative to its own phase*, so that one template serves every
iteration from the logical template onwards (:mod:`mapper_gym.sim.coherence`). A reference is
encoded as ``delta * STRIDE + local index``: ``delta`` iterations back, or :data:`SETUP_TAG` for
an operation of the setup phase.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mapper_gym.sim.coherence import SETUP, LaunchRec, LogicalResult, PhaseLog
from mapper_gym.sim.program import LaunchT, PointT

STRIDE = 1 << 32
SETUP_TAG = 1 << 20


@dataclass(slots=True)
class PointSlot:
    """A point as the engine issues it: its main operation, the operations its mapping
    releases, and how many instances its mapping creates."""

    pt: PointT
    main: int
    gated: tuple[int, ...]
    new_instances: int


@dataclass(slots=True)
class LaunchSlot:
    lt: LaunchT
    part: int
    points: list[PointSlot]


@dataclass
class PhaseTemplate:
    """Operations of one phase with phase-relative predecessor references."""

    n: int
    kind: list[int]
    preds: list[tuple[int, ...]]
    payload: list[Any]
    part: list[int]
    gated: bytearray
    top: list[LaunchSlot]
    #: per operation: its same-phase predecessors plus its gate (the block's initial count)
    base_pending: list[int] = field(default_factory=list)
    #: per operation: same-phase successors (static waiter lists)
    succ: list[list[int]] = field(default_factory=list)
    #: operations with predecessors in earlier phases: (operation, ((delta, index), ...)),
    #: delta == SETUP_TAG for the setup phase
    cross: list[tuple[int, tuple[tuple[int, int], ...]]] = field(default_factory=list)
    #: inner operation -> the launches its body issues
    children: dict[int, list[LaunchSlot]] = field(default_factory=dict)
    #: inner operation -> number of child points it waits for
    child_count: dict[int, int] = field(default_factory=dict)
    #: child point main operation -> the inner operation that launched it
    parent_of: dict[int, int] = field(default_factory=dict)
    #: main operation of a top-level point -> position of its launch in ``top``
    top_of: dict[int, int] = field(default_factory=dict)
    #: main operation -> its point slot (for instance-limit queues)
    slot_of: dict[int, PointSlot] = field(default_factory=dict)
    #: per operation: None, or for a point's main operation (limited by an InstanceLimit,
    #: inner operation that launched it or -1, position of its top-level launch or -1)
    role: list[tuple[bool, int, int] | None] = field(default_factory=list)


def build_template(log: PhaseLog, lr: LogicalResult) -> PhaseTemplate:
    """Convert one phase of the logical pass."""
    base = log.ops[0] if log.ops else 0
    n = len(log.ops)
    phase = log.phase
    g_phase, g_local, g_preds = lr.phase, lr.local, lr.preds
    kinds = [lr.kind[g] for g in log.ops]
    payload = [lr.payload[g] for g in log.ops]
    part = [lr.part[g] for g in log.ops]
    preds: list[tuple[int, ...]] = []
    for g in log.ops:
        refs = []
        for q in g_preds[g]:
            qp = g_phase[q]
            if qp == SETUP and phase != SETUP:
                refs.append(SETUP_TAG * STRIDE + g_local[q])
            else:
                refs.append((phase - qp) * STRIDE + g_local[q])
        preds.append(tuple(refs))
    gated = bytearray(n)
    tpl = PhaseTemplate(n=n, kind=kinds, preds=preds, payload=payload, part=part, gated=gated,
                        top=[])
    _launch_structure(tpl, log, base, gated)
    succ: list[list[int]] = [[] for _ in range(n)]
    base_pending = list(gated)
    cross = []
    for i, own_refs in enumerate(preds):
        far = []
        for ref in own_refs:
            d, li = divmod(ref, STRIDE)
            if d == 0:
                succ[li].append(i)
                base_pending[i] += 1
            else:
                far.append((d, li))
        if far:
            cross.append((i, tuple(far)))
    tpl.base_pending = base_pending
    tpl.succ = succ
    tpl.cross = cross
    role: list[tuple[bool, int, int] | None] = [None] * n
    for main, ps in tpl.slot_of.items():
        role[main] = (ps.pt.launch.limit > 0, tpl.parent_of.get(main, -1),
                      tpl.top_of.get(main, -1))
    tpl.role = role
    return tpl


def _launch_structure(tpl: PhaseTemplate, log: PhaseLog, base: int, gated: bytearray) -> None:
    for pos, rec in enumerate(log.top):
        slot = _launch_slot(tpl, rec, base, gated)
        tpl.top.append(slot)
        for ps in slot.points:
            tpl.top_of[ps.main] = pos
    for g_inner, recs in log.children.items():
        inner = g_inner - base
        launches = [_launch_slot(tpl, r, base, gated) for r in recs]
        tpl.children[inner] = launches
        count = 0
        for ls in launches:
            for ps in ls.points:
                tpl.parent_of[ps.main] = inner
                count += 1
        tpl.child_count[inner] = count


def _launch_slot(tpl: PhaseTemplate, rec: LaunchRec, base: int, gated: bytearray) -> LaunchSlot:
    """A logged launch with operation numbers local to the phase (a plain function: compiled by
    mypyc, closures form reference cycles that only the garbage collector frees)."""
    slots = []
    for prec in rec.points:
        gl = tuple(g - base for g in prec.gated)
        for i in gl:
            gated[i] = 1
        slot = PointSlot(prec.pt, prec.main - base, gl, prec.new_instances)
        tpl.slot_of[slot.main] = slot
        slots.append(slot)
    return LaunchSlot(rec.lt, rec.part, slots)
