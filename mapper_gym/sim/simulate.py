"""``simulate(plan, config) -> RunResult``: one run of an application under a mapping plan.

The steps, each in its own module:

1. :mod:`~mapper_gym.sim.program` flattens the application and the plan (keys, locations,
   processors, task durations from :mod:`~mapper_gym.sim.cost`);
2. :mod:`~mapper_gym.sim.coherence` derives dependences, copies, reductions, fills and memory
   use in program order (:mod:`~mapper_gym.sim.memory` fails the run when an allocation does
   not fit), until the iterations repeat;
3. :mod:`~mapper_gym.sim.engine` schedules the operations in time, segment by segment
   (execution fences split the run), and :mod:`~mapper_gym.sim.periodic` skips iterations that
   provably repeat;
4. this module reads the program's timer (apps.md §x.5: task-body timestamps, a fenced
   window, or per-iteration fenced times) into a :class:`~mapper_gym.appmodel.Timing`, and
   builds the result: the program's stdout, a Legion-style log and the statistics.
"""

from __future__ import annotations

import gc
import math

from mapper_gym.appmodel import TimerMode, Timing
from mapper_gym.config import RunConfig
from mapper_gym.plan import MappingPlan
from mapper_gym.result import RunResult, RunStats, failed_result
from mapper_gym.sim.coherence import SETUP, Coherence, LogicalResult
from mapper_gym.sim.engine import Record, Segment
from mapper_gym.sim.errors import INTERNAL, SimFailure, execution_error
from mapper_gym.sim.log import INFO, PRINT, WARNING, RuntimeLog
from mapper_gym.sim.periodic import SegmentRun, run_segment
from mapper_gym.sim.program import Program, build_program
from mapper_gym.sim.templates import PhaseTemplate, build_template
from mapper_gym.sim.units import to_s

#: Iterations the top-level task may run ahead of the oldest unfinished one (the runtime's
#: window of outstanding operations, counted in iterations; see coherence.py).
WINDOW = 2

BACKEND = "sim"


def simulate(plan: MappingPlan, config: RunConfig | None = None, *,
             extrapolate: bool = True) -> RunResult:
    """Simulate ``plan.app`` on ``plan.machine`` under ``plan``'s decisions.

    ``extrapolate=False`` simulates every iteration instead of skipping provably repeating
    ones (slower; the result is identical). Failures of the run (out of memory, a layout a
    task variant rejects, ...) come back as a failed result, never as an exception.
    """
    config = RunConfig() if config is None else config
    collecting = gc.isenabled()
    if collecting:
        # The run builds many small, acyclic objects; the cyclic collector would rescan the
        # growing heap over and over (it doubles the time of large runs) and finds nothing.
        gc.disable()
    try:
        return _simulate(plan, config, extrapolate)
    finally:
        if collecting:
            gc.enable()


def _simulate(plan: MappingPlan, config: RunConfig, extrapolate: bool) -> RunResult:
    app = plan.app
    machine = plan.machine
    log = RuntimeLog()
    log.add(INFO, "sim", f"mapper-gym simulator: {app.name} (problem {app.preset}) on "
            f"{machine.describe()}")
    log.add(INFO, "sim", f"runtime flags: {' '.join(app.legion_flags)}")
    for warning in plan.warnings:
        log.add(WARNING, "mapper", f"[warning {warning.code}] {warning.message}")
    dsl_out = tuple(plan.dsl_output)
    prog: Program | None = None
    try:
        prog = build_program(plan, config)
        logical = Coherence(prog, WINDOW).run(app.schedule.iterations)
        timing, stats = _timing(prog, logical, log, extrapolate)
        for uid, peak in stats.memory_peak.items():
            if peak > 0:
                cap = stats.memory_capacity[uid]
                log.add(INFO, "sim", f"memory {uid}: peak {int(peak)} of {int(cap)} bytes "
                        f"({100.0 * peak / cap:.1f} %)")
    except SimFailure as failure:
        log.error(failure.diagnostic)
        if prog is not None:
            prog.release()
        return failed_result(
            failure.diagnostic, backend=BACKEND, unit=app.throughput_unit,
            stdout=_join(dsl_out + failure.stdout), stderr=log.text(),
            warnings=tuple(plan.warnings), status="runtime_error")
    prog.release()
    lines = app.stdout_lines(timing)
    throughput = app.throughput(timing)
    for line in lines:
        log.add(PRINT, "app", line, timing.run_started_at + timing.elapsed)
    return RunResult(
        status="ok",
        throughput=throughput,
        unit=app.throughput_unit,
        elapsed=timing.elapsed,
        stdout=_join(dsl_out + tuple(lines)),
        stderr=log.text(),
        backend=BACKEND,
        warnings=tuple(plan.warnings),
        stats=stats,
        plan_summary=plan.summary(),
    )


def _join(lines: tuple[str, ...]) -> str:
    return "\n".join(lines) + ("\n" if lines else "")


def _templates(lr: LogicalResult):
    setup = build_template(lr.setup, lr)
    iters: list[PhaseTemplate] = [build_template(log, lr) for log in lr.iterations]
    last = len(iters) - 1

    def template_of(phase: int) -> PhaseTemplate:
        if phase == SETUP:
            return setup
        return iters[min(phase, lr.template, last)]

    return template_of


def _timing(prog: Program, lr: LogicalResult, log: RuntimeLog,
            extrapolate: bool) -> tuple[Timing, RunStats]:
    app = prog.app
    sched = app.schedule
    timer = sched.timer
    n_iter = sched.iterations
    w, m = sched.warmup, sched.measured
    measured = range(w, w + m)
    template_of = _templates(lr)
    traced_from = 1 if sched.traced else None
    interests = frozenset(t for t in (timer.start_task, timer.end_task, timer.init_start_task)
                          if t is not None)
    log.add(INFO, "sim", f"logical pass: {len(lr.iterations)} iteration(s) analysed, "
            f"iteration {lr.template} repeats from then on; {lr.copies} copies, {lr.folds} "
            f"reduction folds, {lr.fills} fills derived")

    def segment(phases, parts, fence, needed, need_end, extra=True) -> SegmentRun:
        seg = Segment(phases, parts, fence, 0, traced_from)
        run = run_segment(prog, template_of, seg, WINDOW, interests, lr.template,
                          frozenset(needed), need_end, extrapolate and extra)
        if parts == (1,):
            where = f"timed part of iteration {phases[0]}"
        elif phases[0] >= 0:
            where = f"iterations {phases[0]}..{phases[-1]}"
        else:
            where = f"setup and iterations 0..{phases[-1]}" if len(phases) > 1 else "setup"
        done = f"{where}: {run.simulated_phases} iteration(s) simulated"
        if run.pattern is not None:
            j0, d, delta, hi = run.pattern
            done += (f"; iterations {j0}..{hi - 1} repeat iterations {j0 - d}..{j0 - 1} every "
                     f"{to_s(delta) * 1e3:.6f} ms (exact periodic state)")
        log.add(INFO, "sim", done)
        return run

    per_iteration: list[tuple[Record, int]] = []
    if timer.mode is TimerMode.TASK_BODIES:
        phases = [SETUP, *range(n_iter)]
        run = segment(phases, (0, 1), False, {SETUP, 0, *measured}, False)
        start_task, end_task = timer.start_task, timer.end_task
        first, shift = run.record(w)
        t0 = _get(first.first_start, start_task, w) + shift
        last, shift = run.record(w + m - 1)
        t1 = _get(last.last_end, end_task, w + m - 1) + shift
        setup = run.records[SETUP]
        init0 = setup.first_start.get(timer.init_start_task, 0) if timer.init_start_task else 0
        rec0, shift0 = run.record(0)
        init1 = _get(rec0.last_end, end_task, 0) + shift0
        per_iteration = [run.record(p) for p in measured]
        timing = Timing(elapsed=to_s(t1 - t0), init_time=to_s(init1 - init0),
                        init_started_at=to_s(init0),
                        run_started_at=to_s(run.phase_start.get(0, 0)))
        runs = [run]
    elif timer.mode is TimerMode.FENCE_WINDOW:
        warm = segment([SETUP, *range(w)], (0, 1), True, {SETUP}, False)
        setup = warm.records[SETUP]
        init0 = setup.first_start.get(timer.init_start_task, 0) if timer.init_start_task else 0
        window_run = segment(list(measured), (0, 1), True, set(measured), True)
        assert window_run.fence_done is not None
        per_iteration = [window_run.record(p) for p in measured]
        timing = Timing(elapsed=to_s(window_run.fence_done), init_time=to_s(setup.end - init0),
                        init_started_at=to_s(init0),
                        run_started_at=to_s(warm.phase_start.get(0, setup.end)))
        runs = [warm, window_run]
    else:
        times: list[float] = []
        memo: dict[tuple[int, bool], tuple[SegmentRun, int]] = {}
        runs = []
        for j in measured:
            traced = traced_from is not None and j >= traced_from
            key = (min(j, lr.template), traced)
            if key not in memo:
                run = segment([j], (1,), True, {j}, True, extra=False)
                memo[key] = (run, j)
                runs.append(run)
            run, phase = memo[key]
            assert run.fence_done is not None
            times.append(to_s(run.fence_done))
            per_iteration.append((run.records[phase], 0))
        timing = Timing(elapsed=math.fsum(times), iteration_times=tuple(times))
    stats = _stats(prog, lr, per_iteration, runs)
    return timing, stats


def _get(table: dict[str, int], task: str | None, phase: int) -> int:
    if task is None or task not in table:
        raise SimFailure(execution_error(
            INTERNAL, f"the timer's task {task!r} did not run in iteration {phase}"))
    return table[task]


def _link_bytes(mt, records: list[Record]) -> dict[str, float]:
    """Bytes carried by each link over ``records``: per route, bytes moved times the route's
    load on the link.

    The totals are the left-to-right float sums over records and routes in order. When every
    term is a whole number and every total stays below 2**53, each partial sum is exact, so
    the totals are independent of the order of the terms: they are then summed per route
    first, in integers, with each distinct record counted once times its multiplicity (the
    per-iteration records of a periodic run are shared objects). Otherwise the terms are
    added one by one, in order."""
    count: dict[int, int] = {}
    distinct: list[Record] = []
    for rec in records:
        c = count.get(id(rec))
        if c is None:
            distinct.append(rec)
            count[id(rec)] = 1
        else:
            count[id(rec)] = c + 1
    per_route: dict[int, list] = {}
    exact = True
    for rec in distinct:
        times = count[id(rec)]
        for key, (route, nbytes) in rec.route_bytes.items():
            if type(nbytes) is not int:
                exact = False
                break
            entry = per_route.get(key)
            if entry is None:
                per_route[key] = [route, nbytes * times]
            else:
                entry[1] += nbytes * times
        if not exact:
            break
    link_ids = mt.link_ids
    if exact:
        totals: dict[str, int] = {}
        for route, nbytes in per_route.values():
            for li, load in route.loads:
                if not float(load).is_integer():
                    exact = False
                    break
                lid = link_ids[li]
                totals[lid] = totals.get(lid, 0) + nbytes * int(load)
            if not exact:
                break
        if exact and all(t < 2**53 for t in totals.values()):
            return {lid: float(t) for lid, t in totals.items()}
    link_bytes: dict[str, float] = {}
    for rec in records:
        for route, nbytes in rec.route_bytes.values():
            for li, load in route.loads:
                lid = link_ids[li]
                link_bytes[lid] = link_bytes.get(lid, 0.0) + nbytes * load
    return link_bytes


def _stats(prog: Program, lr: LogicalResult, per_iteration: list[tuple[Record, int]],
           runs: list[SegmentRun]) -> RunStats:
    mt = prog.mt
    busy: dict[str, float] = {}
    task_time: dict[str, float] = {}
    copy_bytes: dict[str, float] = {}
    copies = folds = fills = map_bound = 0
    moved = 0.0
    for rec, _ in per_iteration:
        for p, t in rec.busy.items():
            uid = mt.procs[p].uid
            busy[uid] = busy.get(uid, 0.0) + to_s(t)
        for name, t in rec.task_time.items():
            task_time[name] = task_time.get(name, 0.0) + to_s(t)
        for name, nbytes in rec.copy_bytes.items():
            copy_bytes[name] = copy_bytes.get(name, 0.0) + nbytes
        copies += rec.copies
        folds += rec.folds
        fills += rec.fills
        moved += rec.moved
        map_bound += rec.map_bound
    link_bytes = _link_bytes(mt, [rec for rec, _ in per_iteration])
    mem = lr.memory
    simulated = sum(r.simulated_phases for r in runs)
    skipped = sum(r.skipped_phases for r in runs)
    patterned = sum(r.pattern[3] - r.pattern[0] for r in runs if r.pattern is not None)
    return RunStats(
        processor_busy=dict(sorted(busy.items())),
        link_bytes=dict(sorted(link_bytes.items())),
        memory_peak={m.uid: float(mem.peak[i]) for i, m in enumerate(mt.mems)},
        memory_capacity={m.uid: float(m.capacity) for m in mt.mems},
        task_time=dict(sorted(task_time.items())),
        task_copy_bytes=dict(sorted(copy_bytes.items())),
        extra={
            "copies": copies,
            "reduction_folds": folds,
            "fills": fills,
            "bytes_moved": moved,
            "mapping_bound_tasks": map_bound,
            "instances_created": mem.created,
            "instances_reclaimed": mem.reclaimed,
            "instances_collected": mem.collected,
            "logical_template_iteration": lr.template,
            "simulated_iterations": simulated,
            "skipped_iterations": skipped,
            "pattern_iterations": patterned,
        },
    )
