"""Evaluations per minute of the runner: one process against the process pool.

::

    python -m experiments.bench_throughput --seeds 4 --budget 25

runs the random agent on all nine benchmarks (simulator, p100-node, feedback ``suggest``)
twice in one invocation, first with the serial executor and then with the process pool, and
prints both rates and their ratio. Every evaluation is a real simulation: the persistent cache
is off and so is the backends' in-process LRU cache (``env_options={"cache": False}``), and each
measurement writes a fresh store in a temporary folder. The pool's time includes starting its
worker processes, which a real sweep pays too. The CPU seconds used by other processes during
each measurement are reported as well (Linux), because on a shared machine they decide how
many cores the pool really had.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from experiments.config import APPS, AgentSpec, ExperimentConfig, RunOptions, available_cores
from experiments.runner import run_experiment

__all__ = ["measure", "throughput_config"]


def throughput_config(seeds: int, budget: int, apps: tuple[str, ...] = APPS) -> ExperimentConfig:
    """The benchmark's grid: random search, every app, ``seeds`` seeds, no caching."""
    return ExperimentConfig(name="throughput", agents=(AgentSpec("random"),), apps=apps,
                            seeds=tuple(range(seeds)), budgets=(budget,),
                            env_options={"cache": False})


def _busy_seconds() -> float | None:
    """CPU seconds all processes of the machine have used so far (Linux ``/proc/stat``)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    ticks = [int(v) for v in fields[:8]]
    idle = ticks[3] + ticks[4]
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def _rate(config: ExperimentConfig, executor: str, workers: int | None, folder: Path
          ) -> dict[str, Any]:
    """One measurement. Besides the wall-clock rate it records the CPU seconds this process
    and its workers used and, on Linux, what *other* processes used meanwhile: on a shared
    machine a pool cannot be faster than the cores left to it, and the numbers say so."""
    options = RunOptions(runs_dir=folder, executor=executor, workers=workers, cache=None,
                         wandb="disabled", progress=False)
    busy_before = _busy_seconds()
    times_before = os.times()
    started = time.perf_counter()
    summary = run_experiment(config, options)
    elapsed = time.perf_counter() - started
    times_after = os.times()
    busy_after = _busy_seconds()
    if not summary.ok:
        raise RuntimeError(f"{executor}: units failed: {summary.errors}")
    ours = sum(getattr(times_after, f) - getattr(times_before, f)
               for f in ("user", "system", "children_user", "children_system"))
    others = (None if busy_before is None or busy_after is None
              else max(0.0, busy_after - busy_before - ours))
    return {"executor": summary.executor, "workers": summary.workers,
            "evaluations": summary.evaluations_written, "seconds": elapsed,
            "per_minute": 60.0 * summary.evaluations_written / elapsed,
            "cpu_seconds": ours,
            "other_processes_cores": others / elapsed if others is not None else None}


def measure(seeds: int = 4, budget: int = 25, workers: int | None = None,
            apps: tuple[str, ...] = APPS) -> dict[str, Any]:
    """Run the grid serially and with the pool; both rates and the ratio (pool / serial)."""
    config = throughput_config(seeds, budget, apps)
    with tempfile.TemporaryDirectory(prefix="mapper-gym-throughput-") as folder:
        serial = _rate(config, "serial", None, Path(folder) / "serial")
        pool = _rate(config, "process", workers, Path(folder) / "pool")
    return {
        "grid": {"agent": "random", "apps": len(apps), "seeds": seeds, "budget": budget},
        "cores": available_cores(),
        "python": platform.python_version(),
        "serial": serial,
        "pool": pool,
        "ratio": pool["per_minute"] / serial["per_minute"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.bench_throughput",
        description="Evaluations per minute: one process vs the process pool (random agent, "
                    "all nine benchmarks, simulator, no caching).")
    parser.add_argument("--seeds", type=int, default=4, help="seeds per app (default 4)")
    parser.add_argument("--budget", type=int, default=25, help="evaluations per unit "
                                                               "(default 25)")
    parser.add_argument("--workers", type=int, default=None,
                        help="pool size (default: the cores)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = measure(args.seeds, args.budget, args.workers)
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    serial, pool = result["serial"], result["pool"]
    print(f"random agent, {result['grid']['apps']} apps x {args.seeds} seeds x "
          f"{args.budget} evaluations = {serial['evaluations']} evaluations, "
          f"{result['cores']} core(s)")
    for name, run in (("single process ", serial), (f"process pool x{pool['workers']}", pool)):
        others = run["other_processes_cores"]
        print(f"{name}: {run['per_minute']:8.0f} evaluations/min ({run['seconds']:.1f} s, "
              f"{run['cpu_seconds']:.1f} CPU s"
              + (f"; other processes used {others:.2f} cores meanwhile" if others is not None
                 else "") + ")")
    print(f"ratio          : {result['ratio']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
