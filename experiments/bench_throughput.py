"""Evaluations per minute of the runner: one process against the process pool.

::

    python -m experiments.bench_throughput --seeds 4 --budget 25

runs the random agent on all nine benchmarks (simulator, p100-node, feedback ``suggest``)
twice in one invocation, first with the serial executor and then with the process pool, and
prints both rates and their ratio. Every evaluation is a real simulation: the persistent cache
is off and so is the backends' in-process LRU cache (``env_options={"cache": False}``), and each
measurement writes a fresh store in a temporary folder. The pool's time includes starting its
worker processes, which a real sweep pays too.
"""

from __future__ import annotations

import argparse
import json
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


def _rate(config: ExperimentConfig, executor: str, workers: int | None, folder: Path
          ) -> dict[str, Any]:
    options = RunOptions(runs_dir=folder, executor=executor, workers=workers, cache=None,
                         wandb="disabled", progress=False)
    started = time.perf_counter()
    summary = run_experiment(config, options)
    elapsed = time.perf_counter() - started
    if not summary.ok:
        raise RuntimeError(f"{executor}: units failed: {summary.errors}")
    return {"executor": summary.executor, "workers": summary.workers,
            "evaluations": summary.evaluations_written, "seconds": elapsed,
            "per_minute": 60.0 * summary.evaluations_written / elapsed}


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
    print(f"single process : {serial['per_minute']:8.0f} evaluations/min "
          f"({serial['seconds']:.1f} s)")
    print(f"process pool x{pool['workers']}: {pool['per_minute']:8.0f} evaluations/min "
          f"({pool['seconds']:.1f} s)")
    print(f"ratio          : {result['ratio']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
