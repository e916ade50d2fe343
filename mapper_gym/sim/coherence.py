"""The logical pass: dependences, data movement and memory, derived in program order.

Legion guarantees the result of running the task tree sequentially, depth first; its runtime
derives dependences and copies by analysing launches in that order. This pass does the same,
without any notion of time, and produces the *operations* the timing engine then schedules:

* ``TASK`` — a leaf point task; ``INNER`` — an inner point task (it issues its children);
* ``COPY`` — bring keys from a valid location to the location a task mapped them to;
* ``FOLD`` — fold a reduction instance into a location (transfer, then an apply pass);
* ``FILL`` — initialise a location from a pending ``Fill`` (a write pass, no transfer);
* ``FUTURE`` — a launch's future value is available (all its points done, plus the scalar
  all-reduce across address spaces when there are several).

State per key — a (region, piece, field class), see :mod:`~mapper_gym.sim.program` — (apps.md
§0.5, appmodel.py): the locations holding a valid copy, each with the
operation that made it valid; the last writer; the readers since; the pending reductions (the
reduction instance and the reducing task); whether a fill is pending. Dependences are Legion's:
read after write, write after read, write after write, reductions after reads and writes (but
not after each other: reductions with the same operator commute), and readers or writers after
reductions wait for the fold. A reader's copy comes from the valid location with the highest
bandwidth to its memory (``-tm:select_source_by_bandwidth``).

**Window.** The timing engine lets the top-level task run at most ``window`` iterations ahead:
it issues iteration ``j`` only once every operation of iteration ``j - window`` (and of the setup
phase) is done. So at the start of iteration ``j`` every reference to such an operation is a
reference to something finished, which a dependence on would not delay; the pass drops them
("pruning"). With finished operations forgotten, the state at the start of an iteration can
repeat exactly; when it equals the state at the start of the previous iteration (all references
relative), every later iteration produces exactly the same operations, and the pass stops: the
iteration just processed is the *template* of all later ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from mapper_gym.sim.errors import SimFailure
from mapper_gym.sim.memory import LOC_BITS, MemoryState
from mapper_gym.sim.program import RED, RO, RW, WO, FillT, LaunchT, PointT, Program, ReqT, StepT
from mapper_gym.sim.routes import Route
from mapper_gym.sim.units import to_ps

TASK, INNER, COPY, FOLD, FILL, FUTURE = range(6)
KIND_NAMES = ("task", "inner", "copy", "fold", "fill", "future")
SETUP = -1  # phase number of the setup steps
TEARDOWN = -2  # phase number of the teardown steps


@dataclass(slots=True)
class PointRec:
    """A point as issued: its main operation and the operations its mapping releases."""

    pt: PointT
    main: int
    gated: list[int]
    new_instances: int


@dataclass(slots=True)
class LaunchRec:
    """A launch as issued in one phase, by the top-level task (``ctx == -1``) or by an inner
    operation ``ctx``; ``part`` 0 is the iteration's untimed part, 1 its timed part."""

    lt: LaunchT
    ctx: int
    part: int
    points: list[PointRec] = field(default_factory=list)


@dataclass
class PhaseLog:
    """The operations of one phase (setup, one iteration, teardown), in creation order."""

    phase: int
    ops: list[int] = field(default_factory=list)
    top: list[LaunchRec] = field(default_factory=list)
    children: dict[int, list[LaunchRec]] = field(default_factory=dict)


@dataclass
class LogicalResult:
    """What the pass found: the phases it processed and where the template starts."""

    setup: PhaseLog
    iterations: list[PhaseLog]
    #: Iterations ``>= template`` are copies of ``iterations[template]`` (== len when none).
    template: int
    teardown: PhaseLog | None
    # global operation tables
    kind: list[int]
    phase: list[int]
    local: list[int]
    preds: list[tuple[int, ...]]
    payload: list[Any]
    part: list[int]
    memory: MemoryState
    copies: int
    folds: int
    fills: int


@dataclass(slots=True, frozen=True)
class CopyPayload:
    """A COPY, FOLD or FILL: bytes moved, its route(s), the task it feeds, its engine."""

    nbytes: int
    route: Route | None  # the transfer's route; None for a FILL or a same-memory FOLD
    apply: Route | None  # the write/apply pass; None for a COPY
    consumer: PointT
    dst_node: int


class Coherence:
    """Runs the logical pass over a :class:`Program` (see the module docstring)."""

    def __init__(self, prog: Program, window: int) -> None:
        self.prog = prog
        self.window = window
        at, mt = prog.at, prog.mt
        n = at.nkeys
        self.valid: list[dict[int, int]] = [{} for _ in range(n)]
        self.writer = [-1] * n
        self.readers: list[list[int]] = [[] for _ in range(n)]
        self.reds: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        self.fill = bytearray(n)
        self.futures: dict[str, int] = {}
        self.key_bytes = at.key_bytes
        self.mem = MemoryState([m.capacity for m in mt.mems], at.key_bytes)
        self.nloc = 4 * len(mt.mems)  # red slots are location codes >= nloc
        self.slot_of: dict[tuple[int, tuple[int, ...]], int] = {}
        self.slot_mem: list[int] = []
        # operation tables
        self.kind: list[int] = []
        self.phase: list[int] = []
        self.local: list[int] = []
        self.preds: list[tuple[int, ...]] = []
        self.payload: list[Any] = []
        self.part: list[int] = []
        self.cur: PhaseLog | None = None
        self.cur_part = 1
        self.copies = self.folds = self.fills = 0
        machine = prog.plan.machine
        nodes = machine.nodes
        if nodes > 1:
            net = machine.network.latency if machine.network is not None else 0.0
            rounds = math.ceil(math.log2(nodes))
            self.future_ps = to_ps(rounds * (machine.overheads.allreduce_step + net))
        else:
            self.future_ps = 0

    # -- operations ------------------------------------------------------------------------

    def new_op(self, kind: int, preds, payload: Any) -> int:
        g = len(self.kind)
        log = self.cur
        assert log is not None
        self.kind.append(kind)
        self.phase.append(log.phase)
        self.local.append(len(log.ops))
        ps = [p for p in preds if p >= 0]
        if len(ps) > 1:
            # Drop predecessors that another predecessor already waits for: the operation
            # cannot become ready earlier either way (transitive reduction, one level deep).
            table = self.preds
            implied: set[int] = set()
            for q in ps:
                implied.update(table[q])
            if implied:
                ps = [p for p in ps if p not in implied]
            ps.sort()
        self.preds.append(tuple(ps))
        self.payload.append(payload)
        self.part.append(self.cur_part)
        log.ops.append(g)
        return g

    # -- memory callbacks ------------------------------------------------------------------

    def _live(self, key: int, loc: int) -> bool:
        if loc < self.nloc:
            return loc in self.valid[key]
        return any(s + self.nloc == loc for s, _ in self.reds[key])

    def _where(self, pt: PointT, rt: ReqT, mem: int) -> tuple[str, int, str, tuple[int, int]]:
        origin = rt.choice.memory_origin if rt.choice is not None else (0, 0)
        return pt.launch.task, rt.index, self.prog.mt.mems[mem].uid, origin

    def _pinned(self, pt: PointT, rt: ReqT, mem: int) -> list[int]:
        """Allocation ids in ``mem`` of the requirements ``pt`` mapped before ``rt``: in use
        by the task being mapped, so not reclaimable while it maps the rest."""
        out: list[int] = []
        for other in pt.reqs:
            if other is rt:
                break
            if other.mem != mem:
                continue
            if other.priv == RED:
                loc = self.nloc + self.slot_of[(other.mem, other.keys)]
            else:
                loc = other.loc
            out.extend((k << LOC_BITS) | loc for k in other.keys)
        return out

    def _ensure(self, pt: PointT, rt: ReqT, loc: int, mem: int) -> bool:
        return self.mem.ensure(rt.keys, loc, mem, self._live, self._where, pt, rt, mem,
                               pinned=self._pinned)

    # -- phases ----------------------------------------------------------------------------

    def run(self, iterations: int) -> LogicalResult:
        prog = self.prog
        setup = self._phase(SETUP, [], prog.setup)
        logs: list[PhaseLog] = []
        template = iterations
        previous = None
        for j in range(iterations):
            self._prune(j)
            sig = self._signature(j)
            if previous is not None and sig == previous:
                template = j - 1
                break
            previous = sig
            logs.append(self._phase(j, prog.untimed, prog.timed))
        teardown = self._phase(TEARDOWN, [], prog.teardown) if prog.teardown else None
        return LogicalResult(
            setup=setup, iterations=logs, template=min(template, len(logs)),
            teardown=teardown, kind=self.kind, phase=self.phase, local=self.local,
            preds=self.preds, payload=self.payload, part=self.part, memory=self.mem,
            copies=self.copies, folds=self.folds, fills=self.fills)

    def _phase(self, phase: int, untimed: list[StepT], timed: list[StepT]) -> PhaseLog:
        log = PhaseLog(phase)
        self.cur = log
        for part, steps in ((0, untimed), (1, timed)):
            self.cur_part = part
            for step in steps:
                if isinstance(step, FillT):
                    for k in step.keys:
                        self.valid[k] = {}
                        self.fill[k] = 1
                        self.reds[k] = []
                else:
                    log.top.append(self._launch(step, -1, part))
        return log

    def _launch(self, lt: LaunchT, ctx: int, part: int) -> LaunchRec:
        rec = LaunchRec(lt, ctx, part)
        launch = lt.launch
        fut_preds = [self.futures[name] for name in launch.uses_futures
                     if name in self.futures]
        mains = []
        for pt in lt.points:
            if pt.error is not None:
                raise SimFailure(pt.error, pt.error_output)
            if pt.inner:
                g = self.new_op(INNER, fut_preds, pt)
                prec = PointRec(pt, g, [g], 0)
                kids: list[LaunchRec] = []
                self.cur.children[g] = kids  # type: ignore[union-attr]
                for child in pt.children:
                    kids.append(self._launch(child, g, part))
            else:
                prec = self._leaf(pt, fut_preds)
            rec.points.append(prec)
            mains.append(prec.main)
        if launch.future is not None:
            self.futures[launch.future] = self.new_op(FUTURE, mains, self.future_ps)
        return rec

    # -- one leaf point --------------------------------------------------------------------

    def _leaf(self, pt: PointT, fut_preds: list[int]) -> PointRec:
        valid, writer, readers, reds, fill = (self.valid, self.writer, self.readers, self.reds,
                                              self.fill)
        preds: set[int] = set(fut_preds)
        add = preds.add
        update = preds.update
        gated: list[int] = []
        new_instances = 0
        deferred: list[tuple[ReqT, int]] = []
        for rt in pt.reqs:
            mem = rt.mem
            if mem < 0:
                continue
            priv = rt.priv
            keys = rt.keys
            if priv == RED:
                slot = self._slot(pt, rt)
                for k in keys:
                    w = writer[k]
                    if w >= 0:
                        add(w)
                    rd = readers[k]
                    if rd:
                        update(rd)
                if self._ensure(pt, rt, self.nloc + slot, mem):
                    new_instances += 1
                deferred.append((rt, slot))
                continue
            loc = rt.loc
            if priv == WO:
                for k in keys:
                    w = writer[k]
                    if w >= 0:
                        add(w)
                    rd = readers[k]
                    if rd:
                        update(rd)
                    for _, r in reds[k]:
                        if r >= 0:
                            add(r)
            else:
                rw = priv == RW
                slow = None
                for k in keys:
                    here = valid[k].get(loc)
                    if here is None or reds[k]:
                        if slow is None:
                            slow = [k]
                        else:
                            slow.append(k)
                    elif here >= 0:
                        add(here)
                    if rw:
                        rd = readers[k]
                        if rd:
                            update(rd)
                if slow is not None:
                    self._move_in(pt, rt, slow, loc, mem, preds, gated)
            if self._ensure(pt, rt, loc, mem):
                new_instances += 1
            deferred.append((rt, -1))
        x = self.new_op(TASK, preds, pt)
        gated.append(x)
        for rt, slot in deferred:
            priv = rt.priv
            if priv == RED:
                entry = (slot, x)
                for k in rt.keys:
                    reds[k].append(entry)
            elif priv == RO:
                loc = rt.loc
                collect = rt.collect
                for k in rt.keys:
                    readers[k].append(x)
                    v = valid[k]
                    if loc not in v:
                        v[loc] = -1  # uninitialised data: the instance is as good as any
                    if collect and len(v) > 1:
                        del v[loc]
                        self.mem.release(k, loc, rt.mem)
            else:
                loc = rt.loc
                for k in rt.keys:
                    valid[k] = {loc: x}
                    writer[k] = x
                    readers[k] = []
                    if reds[k]:
                        reds[k] = []
                    fill[k] = 0
        return PointRec(pt, x, gated, new_instances)

    def _move_in(self, pt: PointT, rt: ReqT, keys: list[int], loc: int, mem: int,
                 preds: set[int], gated: list[int]) -> None:
        """Make ``keys`` valid at ``loc`` for a reader: copies from the best valid source, a
        fill, and the folds of pending reductions."""
        valid, reds, fill = self.valid, self.reds, self.fill
        kb = self.key_bytes
        mt = self.prog.mt
        copies: dict[int, tuple[list[int], set[int]]] = {}
        fills: list[int] = []
        redk: list[int] = []
        for k in keys:
            v = valid[k]
            if reds[k]:
                redk.append(k)
            if loc in v:
                r = v[loc]
                if r >= 0:
                    preds.add(r)
            elif v:
                # the best-ranked source, the first of equals (no closure: see _signature)
                src = -1
                best: tuple[float, int, int] | None = None
                for s in v:
                    rank = mt.source_rank(s >> 2, mem)
                    if best is None or rank < best:
                        best, src = rank, s
                entry = copies.get(src)
                if entry is None:
                    entry = copies[src] = ([], set())
                entry[0].append(k)
                r = v[src]
                if r >= 0:
                    entry[1].add(r)
            elif fill[k]:
                fills.append(k)
        staged: list[int] = []
        node = mt.mems[mem].node
        if fills:
            nbytes = sum(kb[k] for k in fills)
            f = self.new_op(FILL, (), CopyPayload(nbytes, None, mt.write_pass(mem), pt, node))
            self.fills += 1
            gated.append(f)
            staged.append(f)
            for k in fills:
                fill[k] = 0
                valid[k][loc] = f
        for src, (ks, ps) in copies.items():
            nbytes = sum(kb[k] for k in ks)
            c = self.new_op(COPY, ps, CopyPayload(nbytes, mt.copy(src >> 2, mem), None, pt,
                                                  node))
            self.copies += 1
            gated.append(c)
            staged.append(c)
            for k in ks:
                valid[k][loc] = c
        if redk:
            preds.add(self._folds(pt, redk, loc, mem, staged, gated))
        else:
            preds.update(staged)

    def _slot(self, pt: PointT, rt: ReqT) -> int:
        """The reduction instance of a RED requirement: one per memory and set of keys.

        A task reducing into data that already has a pending reduction instance in the same
        memory (an earlier leaf of the same block on the same GPU) accumulates into that
        instance instead of allocating another: reductions commute, and the instance is
        folded once. Different blocks or memories get their own instances, as the runtime
        creates fresh ones (apps.md §0.5)."""
        key = (rt.mem, rt.keys)
        slot = self.slot_of.get(key)
        if slot is None:
            slot = self.slot_of[key] = len(self.slot_mem)
            self.slot_mem.append(rt.mem)
        return slot

    def _folds(self, pt: PointT, redk: list[int], loc: int, mem: int, staged: list[int],
               gated: list[int]) -> int:
        """Fold the pending reductions of ``redk`` into ``loc``: one FOLD per reduction
        instance, all issued once the data is in place (reductions commute, so the runtime
        applies them concurrently). Returns the operation after which ``loc`` is valid: the
        fold, or a zero-cost join of several."""
        mt = self.prog.mt
        kb = self.key_bytes
        order: dict[int, tuple[list[int], set[int]]] = {}
        for k in redk:
            for slot, r in self.reds[k]:
                entry = order.get(slot)
                if entry is None:
                    entry = order[slot] = ([], set())
                if not entry[0] or entry[0][-1] != k:
                    entry[0].append(k)
                entry[1].add(r)
        base = set(staged)
        for k in redk:
            r = self.valid[k].get(loc, -1)
            if r >= 0:
                base.add(r)
        folds = []
        for slot, (ks, reducers) in order.items():
            nbytes = sum(kb[k] for k in ks)
            smem = self.slot_mem[slot]
            route = mt.copy(smem, mem) if smem != mem else None
            f = self.new_op(FOLD, base | reducers, CopyPayload(
                nbytes, route, mt.apply_pass(mem), pt, mt.mems[mem].node))
            self.folds += 1
            gated.append(f)
            folds.append(f)
        last = folds[0] if len(folds) == 1 else self.new_op(FUTURE, folds, 0)
        for k in redk:
            self.reds[k] = []
            self.valid[k] = {loc: last}
        return last

    # -- pruning and signatures ------------------------------------------------------------

    def _prune(self, j: int) -> None:
        """Forget operations of phases ``<= j - window`` (setup included): finished before
        iteration ``j`` is issued (module docstring)."""
        limit = j - self.window
        if limit < SETUP:
            return
        phase = self.phase
        valid, writer, readers, reds = self.valid, self.writer, self.readers, self.reds
        for k in range(len(valid)):
            v = valid[k]
            for loc, r in v.items():
                if r >= 0 and phase[r] <= limit:
                    v[loc] = -1
            w = writer[k]
            if w >= 0 and phase[w] <= limit:
                writer[k] = -1
            rd = readers[k]
            if rd and phase[rd[0]] <= limit:
                readers[k] = [r for r in rd if phase[r] > limit]
            rs = reds[k]
            if rs:
                reds[k] = [(sl, -1 if r >= 0 and phase[r] <= limit else r) for sl, r in rs]
        for name, g in list(self.futures.items()):
            if g >= 0 and phase[g] <= limit:
                self.futures[name] = -1

    def _signature(self, j: int) -> tuple:
        """The state at the start of iteration ``j``, with every operation reference written
        relative to ``j`` (setup operations absolutely), as a flat tuple."""
        # References are encoded by _encode, a method rather than a closure: compiled by mypyc a
        # closure and its environment form a reference cycle that outlives the call, and the
        # garbage collector would have to trace it (the same holds for every hot helper of the
        # simulator's compiled modules).
        code: dict[int, int] = {}
        enc = _Encoder(self.phase, self.local, j, code).encode
        out: list = []
        add = out.append
        valid, writer, readers, reds, fill = (self.valid, self.writer, self.readers, self.reds,
                                              self.fill)
        for k in range(len(valid)):
            v = valid[k]
            if v:
                for loc, r in v.items():
                    add(loc)
                    add(enc(r))
            add(None)
            w = writer[k]
            if w >= 0:
                add(enc(w))
            for r in readers[k]:
                add(enc(r))
            add(None)
            for sl, r in reds[k]:
                add(sl)
                add(enc(r))
            add(fill[k])
        futures = tuple(sorted((n, enc(g)) for n, g in self.futures.items()))
        return (tuple(out), futures, self.mem.signature())


class _Encoder:
    """Operation references relative to iteration ``j`` (setup operations absolutely), memoised
    in ``code``: the encoding :meth:`Coherence._signature` compares."""

    def __init__(self, phase: list[int], local: list[int], j: int, code: dict[int, int]) -> None:
        self.phase = phase
        self.local = local
        self.j = j
        self.code = code

    def encode(self, g: int) -> int:
        c = self.code.get(g)
        if c is None:
            if g < 0:
                c = -1
            else:
                p = self.phase[g]
                c = -(self.local[g] + 2) if p == SETUP else ((self.j - p) << 32) | self.local[g]
            self.code[g] = c
        return c
