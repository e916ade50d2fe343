"""Running a segment of the program, skipping iterations that provably repeat.

Every iteration of a benchmark issues the same launches. Once the logical pass has found its
template (:mod:`mapper_gym.sim.coherence`), every later iteration has the same operations,
and the timing engine is a deterministic function of its state. So if the engine's complete
state when the top-level task starts issuing iteration ``j`` equals its state at iteration
``j - d``, shifted by ``Δ`` picoseconds (:meth:`Engine.state` compares everything relative to
the present moment, in integer picoseconds, so equality is exact), then iteration ``i + d``
behaves exactly like iteration ``i`` shifted by ``Δ`` for every ``i >= j - d`` — as long as
nothing different happens later. The only thing that does is the end of the loop: the last
``window`` iterations before it can finish differently (nothing follows them, or a fence waits
for them).

So the driver, at each iteration start after the template and the first ``window`` iterations:

1. records the engine state and looks for a period ``d <= MAX_PERIOD``;
2. once periodic at ``j0``, runs until the iterations ``[j0 - d, j0)`` are complete (their
   records become the pattern);
3. if everything the caller needs lies before the last ``window`` iterations, stops: those
   iterations are known from the pattern;
4. otherwise moves the engine forward by a whole number of periods (:meth:`Engine.shift`) to
   just before the end of the loop and simulates the end for real.

Records of iterations in ``[j0, jump target)`` then come from the pattern; all others were
simulated. With extrapolation off, the same segment is simulated iteration by iteration, and
the results are identical (the tests check this).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mapper_gym.sim.engine import Engine, Record, Segment
from mapper_gym.sim.program import Program
from mapper_gym.sim.templates import PhaseTemplate

#: Longest period (in iterations) the driver looks for.
MAX_PERIOD = 4


@dataclass
class SegmentRun:
    """The outcome of one segment: per-phase records, and how to read the skipped ones."""

    records: dict[int, Record]
    phase_start: dict[int, int]
    fence_done: int | None
    end_time: int
    #: (j0, d, Δ, hi): phases in [j0, hi) repeat phases [j0 - d, j0) shifted by Δ per period
    pattern: tuple[int, int, int, int] | None = None
    simulated_phases: int = 0
    skipped_phases: int = 0
    notes: list[str] = field(default_factory=list)

    def record(self, phase: int) -> tuple[Record, int]:
        """The record of ``phase`` and the time shift (ps) to add to its times."""
        pat = self.pattern
        if pat is not None:
            j0, d, delta, hi = pat
            if j0 <= phase < hi:
                k, r = divmod(phase - (j0 - d), d)
                return self.records[j0 - d + r], k * delta
        return self.records[phase], 0

    def has(self, phase: int) -> bool:
        pat = self.pattern
        if pat is not None and pat[0] <= phase < pat[3]:
            return True
        return phase in self.records


def run_segment(
    prog: Program,
    template_of: Callable[[int], PhaseTemplate],
    segment: Segment,
    window: int,
    interests: frozenset[str],
    template_start: int,
    needed: frozenset[int],
    need_end: bool,
    extrapolate: bool = True,
) -> SegmentRun:
    """Simulate ``segment``; ``needed`` are the phases whose records the caller reads,
    ``need_end`` whether it needs the segment's end (its fence)."""
    eng = Engine(prog, template_of, segment, window, interests)
    iteration_phases = [p for p in segment.phases if p >= 0]
    end_phase = iteration_phases[-1] + 1 if iteration_phases else 0
    horizon = end_phase - window  # phases below it never see the end of the loop
    snaps: dict[int, tuple[tuple, int]] = {}
    prints: dict[int, tuple] = {}
    state: dict[str, object] = {"pattern": None, "jumped": False, "skipped": 0}
    earliest = template_start + window  # states there only hold template operations

    def covered(p: int) -> bool:
        if p in eng.records:
            return True
        hi = state.get("hi")
        pattern = state["pattern"]
        return hi is not None and pattern is not None and pattern[0] <= p < hi  # type: ignore

    def hook(j: int) -> None:
        if not need_end and needed and all(covered(p) for p in needed):
            eng.stopped = True
            return
        if not extrapolate or j < 0:
            return
        pattern = state["pattern"]
        if pattern is None:
            if j < earliest or j - segment.phases[0] < window:
                return
            # full states are taken only around phases whose fingerprint repeats one of the
            # last MAX_PERIOD ones (in a periodic regime it always does)
            fp = eng.fingerprint()
            prints[j] = fp
            prints.pop(j - MAX_PERIOD - 1, None)
            if not any(prints.get(j - d) == fp for d in range(1, MAX_PERIOD + 1)):
                return
            st = eng.state(j)
            for d in range(1, MAX_PERIOD + 1):
                prev = snaps.get(j - d)
                if prev is not None and prev[0] == st:
                    state["pattern"] = (j, d, eng.now - prev[1])
                    snaps.clear()
                    return
            snaps[j] = (st, eng.now)
            snaps.pop(j - MAX_PERIOD, None)
            return
        if state["jumped"]:
            return
        j0, d, delta = pattern  # type: ignore[misc]
        if j - j0 < window or (j - j0) % d:
            return
        # the pattern phases [j0 - d, j0) are complete now
        later = [p for p in needed if p >= j0]
        if not need_end and all(p < horizon for p in later):
            state["hi"] = horizon
            eng.stopped = True
            return
        n = (horizon - j) // d
        if n >= 1:
            eng.shift(n * d, n * delta)
            state["skipped"] = n * d
        state["hi"] = j + max(n, 0) * d
        state["jumped"] = True

    eng.on_phase_start = hook
    if not need_end and needed and max(needed) < earliest:
        eng.stop_when = needed
    eng.run()
    eng.on_phase_start = None  # the hook refers to the engine: a cycle the collector would trace
    pattern = None
    if state["pattern"] is not None and "hi" in state:
        j0, d, delta = state["pattern"]  # type: ignore[misc]
        pattern = (j0, d, delta, state["hi"])
    run = SegmentRun(records=eng.records, phase_start=eng.phase_start_time,
                     fence_done=eng.fence_done, end_time=eng.now, pattern=pattern,
                     skipped_phases=int(state["skipped"]))  # type: ignore[arg-type]
    run.simulated_phases = len([p for p in eng.records if p >= 0])
    return run
