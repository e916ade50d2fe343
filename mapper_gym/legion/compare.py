"""Real runs against the simulator: how long mappers really take here, and whether the
simulator ranks them the same way.

For one application, each mapping program runs ``repeat`` times on real Legion (programs
interleaved, so a change of host load hits all of them alike) and once in the simulator on the
same problem. The report gives the real median and range per program, the simulated time, and
both rankings. Timings on a shared host are noisy (legion.md): compare medians, and treat
programs whose real ranges overlap as tied.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mapper_gym.backends.problem import Problem
from mapper_gym.config import RunConfig

__all__ = ["Comparison", "compare_mappers", "format_comparison"]


@dataclass(frozen=True)
class Comparison:
    """One mapping program's real and simulated results on one problem."""

    program: str
    #: Real elapsed seconds of each successful run (empty when it failed).
    real: tuple[float, ...]
    #: The failure of the real runs, if any (``raw_output`` of the first failing run).
    real_error: str | None
    #: Simulated elapsed seconds (None when the simulator failed or is missing).
    simulated: float | None
    simulated_error: str | None

    @property
    def median(self) -> float | None:
        return statistics.median(self.real) if self.real else None


def compare_mappers(
    problem: Problem,
    programs: Mapping[str, str],
    *,
    repeat: int = 5,
    time_limit: float = 300.0,
    config: RunConfig | None = None,
) -> list[Comparison]:
    """Run every program of ``programs`` (name → DSL text) for real and in the simulator."""
    from mapper_gym.legion.backend import LegionBackend

    config = config or RunConfig()
    real = LegionBackend(problem, cache=False, time_limit=time_limit, progress=False,
                         log_decisions=False)
    times: dict[str, list[float]] = {name: [] for name in programs}
    errors: dict[str, str | None] = dict.fromkeys(programs)
    for _ in range(repeat):
        for name, text in programs.items():
            if errors[name] is not None:
                continue
            result = real.run(text, config)
            if result.ok and result.elapsed is not None:
                times[name].append(result.elapsed)
            else:
                errors[name] = result.raw_output()
    simulated: dict[str, tuple[float | None, str | None]] = {}
    try:
        from mapper_gym.backends.sim import SimBackend

        sim = SimBackend(problem, cache=False)
    except ImportError as missing:
        sim = None
        reason = f"simulator unavailable: {missing}"
    for name, text in programs.items():
        if sim is None:
            simulated[name] = (None, reason)
            continue
        outcome = sim.run(text, config)
        simulated[name] = ((outcome.elapsed, None) if outcome.ok
                           else (None, outcome.raw_output()))
    return [Comparison(name, tuple(times[name]), errors[name], *simulated[name])
            for name in programs]


def _ranks(values: Sequence[float | None]) -> list[int | None]:
    """1 for the fastest; equal values share a rank; failures get none."""
    present = sorted({v for v in values if v is not None})
    return [None if v is None else present.index(v) + 1 for v in values]


def format_comparison(title: str, rows: Sequence[Comparison]) -> str:
    """A plain-text table: real median [min, max], simulated time, and both ranks."""
    real_ranks = _ranks([r.median for r in rows])
    sim_ranks = _ranks([r.simulated for r in rows])
    lines = [title, f"{'program':<16} {'real median':>12} {'real range':>22} "
                    f"{'simulated':>12}  rank real/sim"]
    for row, rr, sr in zip(rows, real_ranks, sim_ranks, strict=True):
        if row.real:
            real_text = f"{row.median:12.6f} [{min(row.real):9.6f}, {max(row.real):9.6f}]"
        else:
            real_text = f"{'failed':>12} {'':>22}"
        sim_text = f"{row.simulated:12.6f}" if row.simulated is not None else f"{'failed':>12}"
        lines.append(f"{row.program:<16} {real_text} {sim_text}  "
                     f"{rr if rr is not None else '-'}/{sr if sr is not None else '-'}")
        for label, error in (("real", row.real_error), ("simulated", row.simulated_error)):
            if error:
                lines.append(f"{'':<16} {label}: {error}")
    return "\n".join(lines)
