"""The timing engine: a discrete-event simulation of the operations of the logical pass.

**Processes and resources** (machine.md §5, §6):

* the *top-level task* issues its launches in program order and does no other work; it waits
  for a launch marked ``blocks_parent``, for an execution fence (until everything issued before
  it is done, then the fence overhead), and it runs at most ``window`` iterations ahead: it
  issues iteration ``j`` once every operation of iteration ``j - window`` is done (the
  runtime's bounded window of outstanding operations; see :mod:`mapper_gym.sim.coherence`);
* *runtime analysis* of a launch is charged, in program order per context and address space,
  to the least busy utility processor of each address space that analyses it (each owning
  address space under control replication, else the launching one); then each point's
  analysis, mapping and DSL evaluation, plus instance creation, is charged to a utility
  processor of the point's address space (a single launch's cost already covers its one
  point; it pays only instance creation). With back-pressure on (the default), the DSL mapper
  is one object per process, so point mappings of an address space never overlap. Traced
  iterations after the first use the ``*_traced`` costs;
* ``InstanceLimit``: at most N points of a task launched from one processor are mapped and not
  finished; further ones start mapping when one finishes;
* a *processor* runs the tasks mapped to it one at a time, in the order they become ready
  (ready = mapped, predecessors done, copies in place): task start overhead plus body;
* an *inner task* occupies its processor for the inner-task overhead, then issues its
  children; it is done when they are;
* a *copy* (or fold, or fill) is issued by a background worker of the destination address
  space (copy-issue overhead), waits its path latency, takes a copy engine of the GPU it
  enters or leaves, and moves its bytes over its route's links, shared with every other active
  transfer (:mod:`mapper_gym.sim.flows`). A fold then applies the reduction in place (a second
  transfer on the destination memory);
* a *future* is available when its launch's points are done, plus a scalar all-reduce across
  address spaces.

Ties are broken by a global sequence number, so a run is a deterministic function of its
inputs. All times are integer picoseconds (:mod:`mapper_gym.sim.units`).

**Blocks.** Operation state is kept per phase (the setup steps, one iteration) in a
:class:`Block`, instantiated from the phase's template when the top-level task starts issuing
the phase. The engine can report its complete state relative to the present moment
(:meth:`Engine.state`) and move itself forward by whole periods (:meth:`Engine.shift`); the
periodic-state driver (:mod:`mapper_gym.sim.periodic`) uses both to skip identical iterations.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable

from mapper_gym.sim.coherence import COPY, FILL, FOLD, FUTURE, INNER, SETUP, TASK
from mapper_gym.sim.flows import Flow, FlowTable, relative_phase, shifted_phase
from mapper_gym.sim.program import Program
from mapper_gym.sim.templates import SETUP_TAG, LaunchSlot, PhaseTemplate, PointSlot
from mapper_gym.sim.units import PS_PER_S, to_ps

# event codes
EV_READY, EV_DONE, EV_BODY, EV_ISSUED, EV_FLOW, EV_PARENT = range(6)

# parent items
IT_START, IT_LAUNCH, IT_END = range(3)


class Record:
    """What happened in one phase: busy time, copies, timer-relevant body times."""

    __slots__ = ("busy", "copies", "copy_bytes", "end", "fills", "first_start", "folds",
                 "last_end", "map_bound", "moved", "route_bytes", "task_time")

    def __init__(self) -> None:
        self.busy: dict[int, int] = {}
        self.task_time: dict[str, int] = {}
        self.copy_bytes: dict[str, float] = {}
        #: id(route) -> [route, bytes moved along it]
        self.route_bytes: dict[int, list] = {}
        self.copies = self.folds = self.fills = 0
        self.moved = 0.0
        self.first_start: dict[str, int] = {}
        self.last_end: dict[str, int] = {}
        self.end = 0
        self.map_bound = 0


class Block:
    """Operation states of one phase."""

    __slots__ = ("body_done", "done", "fast", "kids_left", "launch_left", "pending", "phase",
                 "ready", "rec", "static", "tpl", "traced", "undone", "waiters")

    def __init__(self, phase: int, tpl: PhaseTemplate, traced: bool, fast: Fast,
                 static: StaticRecord) -> None:
        self.phase = phase
        self.tpl = tpl
        self.traced = traced
        n = tpl.n
        self.pending: list[int] = []
        self.ready = [0] * n
        self.done = bytearray(n)
        self.undone = n
        self.waiters: dict[int, list[tuple[int, int]]] = {}
        self.kids_left: dict[int, int] = {}
        self.body_done: set[int] = set()
        self.launch_left: dict[int, int] = {}
        self.static = static
        self.rec = static.record()
        self.fast = fast


class Fast:
    """Per-template arrays the hot paths index directly (one attribute chain less per use)."""

    __slots__ = ("body", "dur", "dur_traced", "interest", "kind", "lat", "name", "nbytes",
                 "node", "part0", "proc", "start", "static_all", "static_timed", "zero")

    def __init__(self, tpl: PhaseTemplate, interests: frozenset[str]) -> None:
        n = tpl.n
        self.kind = tpl.kind
        #: operations without same-phase predecessors or gate, and those of the untimed part
        self.zero = [i for i, c in enumerate(tpl.base_pending) if c == 0]
        self.part0 = [i for i, p in enumerate(tpl.part) if p == 0]
        self.proc = [-1] * n
        self.dur = [0] * n
        self.dur_traced = [0] * n
        self.start = [0] * n
        self.body = [0] * n
        self.name: list[str] = [""] * n
        self.interest = [False] * n
        self.node = [0] * n
        self.lat = [0] * n
        self.nbytes = [0] * n
        for i, (k, pay) in enumerate(zip(tpl.kind, tpl.payload, strict=True)):
            if k in (TASK, INNER):
                self.proc[i] = pay.proc
                self.dur[i] = pay.duration
                self.dur_traced[i] = pay.duration_traced
                self.start[i] = pay.start_overhead
                self.body[i] = pay.body
                self.name[i] = pay.launch.task
                self.interest[i] = pay.launch.task in interests
            elif k == FUTURE:
                self.dur[i] = self.dur_traced[i] = pay
            else:
                self.node[i] = pay.dst_node
                route = pay.route if pay.route is not None else pay.apply
                self.lat[i] = route.latency
                self.nbytes[i] = pay.nbytes
                self.name[i] = pay.consumer.launch.task
        self.static_all = StaticRecord(tpl, self, frozenset())
        skipped = frozenset(self.part0)
        self.static_timed = StaticRecord(tpl, self, skipped) if skipped else self.static_all


class StaticRecord:
    """What a phase's record holds whatever the timing: every operation of a block runs exactly
    once, so the busy time per processor, the body time per task, the copies and the bytes per
    route are sums over the template, computed once instead of at every dispatch. ``skipped``
    are the operations a block marks done without running (the untimed part of a timed-only
    segment)."""

    __slots__ = ("busy", "copies", "copy_bytes", "fills", "folds", "moved", "route_bytes",
                 "task_time")

    def __init__(self, tpl: PhaseTemplate, fast: Fast, skipped: frozenset[int]) -> None:
        self.busy: dict[int, int] = {}
        self.task_time: dict[str, int] = {}
        self.copy_bytes: dict[str, float] = {}
        self.route_bytes: dict[int, list] = {}
        self.copies = self.folds = self.fills = 0
        self.moved = 0.0
        for i, k in enumerate(tpl.kind):
            if i in skipped:
                continue
            if k == TASK:
                body = fast.body[i]
                if body:
                    p = fast.proc[i]
                    self.busy[p] = self.busy.get(p, 0) + body
                    name = fast.name[i]
                    self.task_time[name] = self.task_time.get(name, 0) + body
            elif k in (COPY, FOLD, FILL):
                pay = tpl.payload[i]
                if k == COPY:
                    self.copies += 1
                elif k == FOLD:
                    self.folds += 1
                else:
                    self.fills += 1
                name = fast.name[i]
                self.copy_bytes[name] = self.copy_bytes.get(name, 0.0) + pay.nbytes
                # the transfers the engine starts for it (_ev_issued, _ev_flow)
                if pay.route is not None:
                    self._moved(pay.route, pay.nbytes)
                if pay.route is None or k == FOLD:
                    self._moved(pay.apply, pay.nbytes)

    def _moved(self, route, nbytes) -> None:
        entry = self.route_bytes.get(id(route))
        if entry is None:
            self.route_bytes[id(route)] = [route, nbytes]
        else:
            entry[1] += nbytes
        self.moved += nbytes

    def record(self) -> Record:
        """A fresh record holding these sums (the dictionaries are shared: nothing mutates
        them afterwards)."""
        rec = Record()
        rec.busy = self.busy
        rec.task_time = self.task_time
        rec.copy_bytes = self.copy_bytes
        rec.route_bytes = self.route_bytes
        rec.copies, rec.folds, rec.fills = self.copies, self.folds, self.fills
        rec.moved = self.moved
        return rec


class Segment:
    """What one engine run simulates: ``phases`` in order (the setup phase is -1), the parts
    of each iteration to issue (0 untimed, 1 timed), whether it ends with an execution fence,
    and when it starts (after a fence everything is drained, so a segment starts fresh)."""

    def __init__(self, phases: list[int], parts: tuple[int, ...], fence: bool, start: int,
                 traced_from: int | None) -> None:
        self.phases = phases
        self.parts = parts
        self.fence = fence
        self.start = start
        self.traced_from = traced_from


class Engine:
    """One segment of the run (see the module docstring)."""

    def __init__(self, prog: Program, template_of: Callable[[int], PhaseTemplate],
                 segment: Segment, window: int, interests: frozenset[str]) -> None:
        self.prog = prog
        self.template_of = template_of
        self.seg = segment
        self.window = window
        self.interests = interests
        mt = prog.mt
        machine = prog.plan.machine
        ov = machine.overheads
        self.mt = mt
        self.now = segment.start
        self.heap: list[tuple[int, int, int, int, int, int]] = []
        self.seq = 0
        self.blocks: dict[int, Block] = {}
        nodes = mt.nodes
        self.proc_free = [segment.start] * len(mt.procs)
        self.util_free = [[segment.start] * max(1, mt.util_per_node) for _ in range(nodes)]
        self.mapper_free = [segment.start] * nodes
        self.bg_free = [[segment.start] * max(1, mt.bgwork_per_node) for _ in range(nodes)]
        self.cursor = [segment.start] * nodes
        self.engine_busy = [0] * mt.engine_count
        self.engine_queue: list[deque[tuple[int, int]]] = [deque() for _ in
                                                           range(mt.engine_count)]
        self.flows = FlowTable(mt.link_bw)
        self.limits: dict[tuple[str, int], list] = {}
        self.serialise = prog.config.backpressure
        self.total_undone = 0
        # overheads (ps)
        self.c_index = (to_ps(ov.index_launch), to_ps(ov.index_launch_traced))
        self.c_single = (to_ps(ov.single_launch), to_ps(ov.single_launch_traced))
        self.c_point = (to_ps(ov.point_task), to_ps(ov.point_task_traced))
        self.c_create = to_ps(ov.instance_create)
        self.c_issue = to_ps(ov.copy_issue)
        self.c_fence = to_ps(ov.fence)
        net = machine.network.latency if machine.network is not None else 0.0
        self.c_msg_remote = to_ps(net + ov.inter_process_message)
        self.c_msg_local = to_ps(ov.inter_process_message)
        self.multi_node = nodes > 1
        self.ranks_per_host = machine.ranks_per_node
        # parent process
        self.items = self._items()
        self.pos = 0
        self.waiting: tuple | None = None
        self.finished = False
        self.fence_done: int | None = None
        self.stopped = False
        self.on_phase_start: Callable[[int], None] | None = None
        self.phase_start_time: dict[int, int] = {}
        self.records: dict[int, Record] = {}
        self._fast: dict[int, Fast] = {}
        #: stop as soon as these phases are complete (None: run to the end)
        self.stop_when: frozenset[int] | None = None

    # -- the parent's item list ---------------------------------------------------------------

    def _items(self) -> list[tuple[int, int, int]]:
        items: list[tuple[int, int, int]] = []
        parts = self.seg.parts
        for phase in self.seg.phases:
            items.append((IT_START, phase, 0))
            tpl = self.template_of(phase)
            for pos, ls in enumerate(tpl.top):
                if phase == SETUP or ls.part in parts:
                    items.append((IT_LAUNCH, phase, pos))
        items.append((IT_END, 0, 0))
        return items

    # -- running -----------------------------------------------------------------------------

    def push(self, t: int, code: int, phase: int, idx: int, extra: int = 0) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, code, phase, idx, extra))

    def run(self) -> None:
        self.push(self.now, EV_PARENT, 0, 0)
        heap = self.heap
        pop = heapq.heappop
        # direct calls, most frequent first (compiled by mypyc they become C calls)
        while heap and not self.stopped:
            t, _, code, phase, idx, extra = pop(heap)
            self.now = t
            if code == EV_DONE:
                self._complete(self.blocks[phase], idx)
            elif code == EV_FLOW:
                self._ev_flow(phase, idx, extra)
            elif code == EV_ISSUED:
                self._ev_issued(phase, idx, extra)
            elif code == EV_READY:
                self._dispatch(self.blocks[phase], idx)
            elif code == EV_BODY:
                self._ev_body(phase, idx, extra)
            else:
                self._ev_parent(phase, idx, extra)
            heap = self.heap

    # -- the parent process -------------------------------------------------------------------

    def _ev_parent(self, phase: int, idx: int, extra: int) -> None:
        if extra == 1:  # the fence completed
            self.fence_done = self.now
            self.finished = True
            return
        self.waiting = None
        self._parent_run()

    def _wake_parent(self) -> None:
        self.waiting = None
        self.push(self.now, EV_PARENT, 0, 0)

    def _parent_run(self) -> None:
        items = self.items
        while not self.stopped:
            kind, phase, pos = items[self.pos]
            if kind == IT_START:
                if phase >= 0:
                    limit = phase - self.window
                    for p, b in self.blocks.items():
                        if p <= limit and b.undone > 0:
                            self.waiting = ("block", p)
                            return
                if self.on_phase_start is not None:
                    self.on_phase_start(phase)
                    if self.stopped:
                        return
                    kind, phase, pos = items[self.pos]  # a shift may have moved the parent
                self.phase_start_time[phase] = self.now
                self._allocate(phase)
                self.pos += 1
            elif kind == IT_LAUNCH:
                block = self.blocks.get(phase)
                if block is None:  # a phase without operations to run
                    self.pos += 1
                    continue
                ls = block.tpl.top[pos]
                self._issue(block, ls, -1)
                self.pos += 1
                if ls.lt.launch.blocks_parent and block.launch_left.get(pos, 0) > 0:
                    self.waiting = ("launch", phase, pos)
                    return
            else:
                if self.seg.fence:
                    if self.total_undone > 0:
                        self.waiting = ("drain",)
                        return
                    self.push(self.now + self.c_fence, EV_PARENT, 0, 0, 1)
                else:
                    self.finished = True
                return

    # -- blocks ------------------------------------------------------------------------------

    def _allocate(self, phase: int) -> None:
        tpl = self.template_of(phase)
        traced = self.seg.traced_from is not None and phase >= self.seg.traced_from
        fast = self._fast.get(id(tpl))
        if fast is None:
            fast = self._fast[id(tpl)] = Fast(tpl, self.interests)
        timed_only = phase >= 0 and 0 not in self.seg.parts
        b = Block(phase, tpl, traced, fast, fast.static_timed if timed_only else fast.static_all)
        blocks = self.blocks
        blocks[phase] = b
        n = tpl.n
        pending = b.pending = tpl.base_pending.copy()
        done = b.done
        undone = n
        # the operations that can be ready now, in index order: those without predecessors,
        # and those whose only predecessors are untimed operations marked done here
        candidates = fast.zero
        if timed_only:
            succ = tpl.succ
            freed = []
            for i in fast.part0:
                done[i] = 1
                undone -= 1
                for s in succ[i]:
                    left = pending[s] - 1
                    pending[s] = left
                    if left == 0:
                        freed.append(s)
            if freed:
                candidates = sorted({*candidates, *freed})
        b.undone = undone
        self.total_undone += undone
        for i, far in tpl.cross:
            if done[i]:
                continue
            for d, li in far:
                pb = blocks.get(SETUP if d == SETUP_TAG else phase - d)
                if pb is None or pb.done[li]:
                    continue
                pending[i] += 1
                w = pb.waiters.get(li)
                if w is None:
                    pb.waiters[li] = [(phase, i)]
                else:
                    w.append((phase, i))
        for pos, ls in enumerate(tpl.top):
            b.launch_left[pos] = len(ls.points)
        for inner, count in tpl.child_count.items():
            b.kids_left[inner] = count
        if undone == 0:
            self._block_done(b)
            return
        for i in candidates:
            if pending[i] == 0 and not done[i]:
                self._ready(b, i)

    def _block_done(self, b: Block) -> None:
        """Every operation of ``b`` is done: keep its record, forget its state."""
        self.records[b.phase] = b.rec
        if self.blocks.get(b.phase) is b:
            del self.blocks[b.phase]
        stop = self.stop_when
        if stop is not None and b.phase in stop and all(p in self.records for p in stop):
            self.stopped = True
        w = self.waiting
        if w is not None and w[0] == "block" and w[1] == b.phase:
            self._wake_parent()

    # -- issuing launches (runtime analysis and mapping) -----------------------------------

    def _issue(self, b: Block, ls: LaunchSlot, ctx: int) -> None:
        """Issue launch ``ls`` of block ``b`` from the top-level task (``ctx == -1``) or from
        inner operation ``ctx`` of the same block."""
        lt = ls.lt
        now = self.now
        traced = 1 if b.traced else 0
        lcost = (self.c_index if lt.is_index else self.c_single)[traced]
        replicated = lt.replicated_parent and self.multi_node
        if ctx < 0:
            ctx_node = 0
            cursor = self.cursor
            launcher = -1
        else:
            parent_pt = b.tpl.payload[ctx]
            ctx_node = parent_pt.node
            cursor = None
            launcher = parent_pt.proc
        if replicated:
            analysers = list(dict.fromkeys(ps.pt.node for ps in ls.points))
        else:
            analysers = [ctx_node]
        done_at: dict[int, int] = {}
        for a in analysers:
            s = now
            if cursor is not None and cursor[a] > s:
                s = cursor[a]
            utils = self.util_free[a]
            ui = min(range(len(utils)), key=utils.__getitem__)
            if utils[ui] > s:
                s = utils[ui]
            e = s + lcost
            utils[ui] = e
            if cursor is not None:
                cursor[a] = e
            done_at[a] = e
        mt = self.mt
        for ps in ls.points:
            pt = ps.pt
            node = pt.node
            if replicated:
                base = done_at[node]
            else:
                base = done_at[ctx_node]
                if node != ctx_node:
                    same_host = node // self.ranks_per_host == ctx_node // self.ranks_per_host
                    base += self.c_msg_local if same_host else self.c_msg_remote
            if lt.limit > 0:
                proc = launcher if launcher >= 0 else mt.top_proc[node if replicated else 0]
                key = (lt.task, proc)
                lim = self.limits.get(key)
                if lim is None:
                    lim = self.limits[key] = [0, deque()]
                if lim[0] >= lt.limit:
                    lim[1].append((b.phase, ps.main, base))
                    continue
                lim[0] += 1
            self._map(b, ps, base)

    def _map(self, b: Block, ps: PointSlot, base: int) -> None:
        node = ps.pt.node
        now = self.now
        s = base if base > now else now
        if self.serialise:
            m = self.mapper_free[node]
            if m > s:
                s = m
        utils = self.util_free[node]
        ui = 0
        best = utils[0]
        for k in range(1, len(utils)):
            if utils[k] < best:
                best = utils[k]
                ui = k
        if best > s:
            s = best
        # a single launch's whole analysis and mapping is its launch cost (machine.md §6)
        e = s + self.c_point[1 if b.traced else 0] if ps.pt.launch.is_index else s
        if ps.new_instances:
            e += ps.new_instances * self.c_create
        utils[ui] = e
        if self.serialise:
            self.mapper_free[node] = e
        pending, ready, done = b.pending, b.ready, b.done
        for i in ps.gated:
            if done[i]:
                continue
            if ready[i] < e:
                ready[i] = e
            left = pending[i] - 1
            pending[i] = left
            if left == 0:
                if i == ps.main:
                    b.rec.map_bound += 1
                if e > now:
                    self.seq += 1
                    heapq.heappush(self.heap, (e if ready[i] < e else ready[i], self.seq,
                                               EV_READY, b.phase, i, 0))
                else:
                    self._dispatch(b, i)

    # -- operations --------------------------------------------------------------------------

    def _ready(self, b: Block, i: int) -> None:
        t = b.ready[i]
        if t > self.now:
            self.seq += 1
            heapq.heappush(self.heap, (t, self.seq, EV_READY, b.phase, i, 0))
        else:
            self._dispatch(b, i)

    def _dispatch(self, b: Block, i: int) -> None:
        fast = b.fast
        kind = fast.kind[i]
        now = self.now
        if kind == TASK:
            p = fast.proc[i]
            pf = self.proc_free
            s = pf[p]
            if s < now:
                s = now
            e = s + fast.dur[i]
            pf[p] = e
            self.seq += 1
            heapq.heappush(self.heap, (e, self.seq, EV_DONE, b.phase, i, 0))
            if fast.interest[i]:
                rec = b.rec
                name = fast.name[i]
                bs = s + fast.start[i]
                fs = rec.first_start.get(name)
                if fs is None or bs < fs:
                    rec.first_start[name] = bs
                le = rec.last_end.get(name)
                if le is None or e > le:
                    rec.last_end[name] = e
        elif kind == INNER:
            p = fast.proc[i]
            s = self.proc_free[p]
            if s < now:
                s = now
            e = s + (fast.dur_traced[i] if b.traced else fast.dur[i])
            self.proc_free[p] = e
            self.push(e, EV_BODY, b.phase, i)
        elif kind == FUTURE:
            self.push(now + fast.dur[i], EV_DONE, b.phase, i)
        else:
            bg = self.bg_free[fast.node[i]]
            bi = 0
            s = bg[0]
            for k in range(1, len(bg)):
                if bg[k] < s:
                    s = bg[k]
                    bi = k
            if s < now:
                s = now
            e = s + self.c_issue
            bg[bi] = e
            self.seq += 1
            heapq.heappush(self.heap, (e + fast.lat[i], self.seq, EV_ISSUED, b.phase, i, 0))

    def _ev_issued(self, phase: int, idx: int, extra: int) -> None:
        b = self.blocks[phase]
        pay = b.tpl.payload[idx]
        if pay.route is not None:
            engine = pay.route.engine
            if engine >= 0:
                if self.engine_busy[engine] >= self.mt.engine_slots:
                    self.engine_queue[engine].append((phase, idx))
                    return
                self.engine_busy[engine] += 1
            self._start_flow(b, idx, pay.route, pay.nbytes, 1, engine)
        else:
            self._start_flow(b, idx, pay.apply, pay.nbytes, 2, -1)

    def _start_flow(self, b: Block, idx: int, route, nbytes: float, stage: int,
                    engine: int) -> None:
        # the bytes it moves are in the block's record already (StaticRecord)
        now = self.now
        self._retimed(self.flows.add(Flow((b.phase, idx), route, nbytes, now, stage, engine),
                                     now))

    def _retimed(self, flows: list[Flow]) -> None:
        """Schedule the completion of flows whose rate just changed."""
        heap = self.heap
        push = heapq.heappush
        for f in flows:
            rate = f.rate
            if f.remaining <= 0.0 or rate <= 0.0 or rate == math.inf:
                t = f.last
            else:
                t = f.last + math.ceil(f.remaining * PS_PER_S / rate)
            self.seq += 1
            key = f.key
            push(heap, (t, self.seq, EV_FLOW, key[0], key[1], f.version))

    def _ev_flow(self, phase: int, idx: int, version: int) -> None:
        flows = self.flows
        f = flows.flows.get((phase, idx))
        if f is None or f.version != version:
            return  # a stale completion: the flow's rate changed since
        changed = flows.remove(f, self.now)
        if changed:
            self._retimed(changed)
        e = f.engine
        if e >= 0:
            self.engine_busy[e] -= 1
            q = self.engine_queue[e]
            if q:
                qp, qi = q.popleft()
                self.engine_busy[e] += 1
                qb = self.blocks[qp]
                pay = qb.tpl.payload[qi]
                self._start_flow(qb, qi, pay.route, pay.nbytes, 1, e)
        b = self.blocks[phase]
        if f.stage == 1 and b.fast.kind[idx] == FOLD:
            pay = b.tpl.payload[idx]
            self._start_flow(b, idx, pay.apply, pay.nbytes, 2, -1)
            return
        self._complete(b, idx)

    def _ev_body(self, phase: int, idx: int, extra: int) -> None:
        b = self.blocks[phase]
        b.body_done.add(idx)
        kids = b.tpl.children.get(idx, ())
        for ls in kids:
            self._issue(b, ls, idx)
        if b.kids_left.get(idx, 0) == 0:
            self._complete(b, idx)

    def _complete(self, b: Block, i: int) -> None:
        now = self.now
        b.done[i] = 1
        b.undone -= 1
        self.total_undone -= 1
        block_finished = b.undone == 0
        drained = self.total_undone == 0
        rec = b.rec
        if now > rec.end:
            rec.end = now
        tpl = b.tpl
        succ = tpl.succ[i]
        if succ:
            pending, ready = b.pending, b.ready
            for wi in succ:
                if ready[wi] < now:
                    ready[wi] = now
                left = pending[wi] - 1
                pending[wi] = left
                if left == 0:
                    t = ready[wi]
                    if t > now:
                        self.seq += 1
                        heapq.heappush(self.heap, (t, self.seq, EV_READY, b.phase, wi, 0))
                    else:
                        self._dispatch(b, wi)
        if b.waiters:
            waiters = b.waiters.pop(i, None)
            if waiters:
                blocks = self.blocks
                for wp, wi in waiters:
                    wb = blocks[wp]
                    if wb.ready[wi] < now:
                        wb.ready[wi] = now
                    wb.pending[wi] -= 1
                    if wb.pending[wi] == 0:
                        self._ready(wb, wi)
        role = tpl.role[i]
        if role is not None:
            limited, inner, pos = role
            if limited:
                self._limit_done(b, i, tpl.payload[i])
            if inner >= 0:
                left = b.kids_left[inner] - 1
                b.kids_left[inner] = left
                if left == 0 and inner in b.body_done:
                    self._complete(b, inner)
            elif pos >= 0:
                left = b.launch_left[pos] - 1
                b.launch_left[pos] = left
                if left == 0:
                    w = self.waiting
                    if w is not None and w[0] == "launch" and w[1] == b.phase and w[2] == pos:
                        self._wake_parent()
        if block_finished:
            self._block_done(b)
        if drained:
            w = self.waiting
            if w is not None and w[0] == "drain":
                self.waiting = None
                self.push(now + self.c_fence, EV_PARENT, 0, 0, 1)

    def _limit_done(self, b: Block, i: int, pt) -> None:
        lt = pt.launch
        inner = b.tpl.parent_of.get(i)
        if inner is not None:
            proc = b.tpl.payload[inner].proc
        else:
            replicated = lt.replicated_parent and self.multi_node
            proc = self.mt.top_proc[pt.node if replicated else 0]
        lim = self.limits.get((lt.task, proc))
        if lim is None:
            return
        lim[0] -= 1
        if lim[1]:
            phase, main, base = lim[1].popleft()
            lim[0] += 1
            qb = self.blocks[phase]
            self._map(qb, qb.tpl.slot_of[main], base)

    # -- state and shifting --------------------------------------------------------------------

    def fingerprint(self) -> tuple:
        """A cheap summary of the state relative to now: equal states have equal
        fingerprints, so the full :meth:`state` is only worth taking when they repeat."""
        now = self.now
        return (
            tuple(x - now if x > now else 0 for x in self.proc_free),
            self.total_undone, len(self.heap), len(self.flows.flows),
        )

    def state(self, j: int) -> tuple:
        """The complete state, relative to now and to iteration ``j`` (for equality tests)."""
        now = self.now
        flows = self.flows.flows
        heap = []
        for t, _, code, p, i, x in sorted(self.heap):
            if code == EV_FLOW:
                f = flows.get((p, i))
                if f is None or f.version != x:
                    continue
                x = 0
            heap.append((t - now, code, relative_phase(p, j) if code != EV_PARENT else p, i, x))
        blocks = []
        for p in sorted(self.blocks):
            b = self.blocks[p]
            done, pending, ready = b.done, b.pending, b.ready
            ops = []
            i = done.find(0)
            while i >= 0:
                r = ready[i] - now
                ops.append((i, pending[i], r if r > 0 else 0))
                i = done.find(0, i + 1)
            blocks.append((relative_phase(p, j), tuple(ops), tuple(sorted(b.kids_left.items())),
                           tuple(sorted(b.body_done)), tuple(sorted(b.launch_left.items()))))

        limits = tuple(sorted(
            (key, lim[0], tuple((relative_phase(p, j), m, max(base - now, 0))
                               for p, m, base in lim[1]))
            for key, lim in self.limits.items()))
        w = self.waiting
        if w is not None and len(w) > 1:
            w = (w[0], relative_phase(w[1], j), *w[2:])
        item = self.items[self.pos]
        return (
            tuple(heap), tuple(blocks),
            _ahead(self.proc_free, now), tuple(_ahead(u, now) for u in self.util_free),
            _ahead(self.mapper_free, now), tuple(_ahead(u, now) for u in self.bg_free),
            _ahead(self.cursor, now),
            tuple(self.engine_busy),
            tuple(tuple((relative_phase(p, j), i) for p, i in q) for q in self.engine_queue),
            self.flows.state(now, j), limits, w,
            (item[0], relative_phase(item[1], j) if item[0] != IT_END else 0, item[2]),
        )

    def shift(self, dphase: int, dt: int) -> None:
        """Move the whole state forward by ``dphase`` iterations and ``dt`` picoseconds."""
        self.now += dt
        heap = [(t + dt, s, c, shifted_phase(p, dphase) if c != EV_PARENT else p, i, x)
                for t, s, c, p, i, x in self.heap]
        heapq.heapify(heap)
        self.heap[:] = heap
        blocks = {}
        for p, b in self.blocks.items():
            b.phase = shifted_phase(p, dphase)
            b.ready = [r + dt for r in b.ready]
            b.waiters = {li: [(shifted_phase(wp, dphase), wi) for wp, wi in ws]
                         for li, ws in b.waiters.items()}
            b.rec = b.static.record()  # its times are taken again from here on
            blocks[b.phase] = b
        self.blocks = blocks
        self.proc_free = [x + dt for x in self.proc_free]
        self.util_free = [[x + dt for x in u] for u in self.util_free]
        self.mapper_free = [x + dt for x in self.mapper_free]
        self.bg_free = [[x + dt for x in u] for u in self.bg_free]
        self.cursor = [x + dt for x in self.cursor]
        self.engine_queue = [deque((shifted_phase(p, dphase), i) for p, i in q)
                             for q in self.engine_queue]
        self.flows.shift(dphase, dt)
        for lim in self.limits.values():
            lim[1] = deque((shifted_phase(p, dphase), m, base + dt) for p, m, base in lim[1])
        w = self.waiting
        if w is not None and len(w) > 1:
            self.waiting = (w[0], shifted_phase(w[1], dphase), *w[2:])
        # the parent's position: the same item, dphase iterations later
        kind, phase, pos = self.items[self.pos]
        target = (kind, shifted_phase(phase, dphase), pos)
        self.pos = self.items.index(target, self.pos)


def _ahead(times: list[int], now: int) -> tuple[int, ...]:
    """How far each of ``times`` lies ahead of ``now`` (0 when passed)."""
    return tuple(max(x - now, 0) for x in times)
