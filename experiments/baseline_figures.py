"""The baseline figures of the paper's comparison, on the simulator, for the nine applications.

For each application: random search (``--draws`` independent random mappers: how many failed
and the best normalized throughput) and OpenTuner (best normalized throughput after
``--short`` and after ``--long`` evaluations; both read from one seeded run of ``--long``
evaluations, since a seeded run's first ``--short`` steps are the ``--short`` run).

    python -m experiments.baseline_figures                     # all nine, 10 / 10 / 1000
    python -m experiments.baseline_figures --apps Circuit Stencil --long 200 --json out.json

Normalized throughput is relative to the expert mapper on the same machine and problem; a
failed run scores 0 (paper.md). Nothing is written unless ``--json`` is given.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

from mapper_gym.testing import ALL_APPS
from mapper_gym.tuning import tune


def app_figures(app: str, draws: int, short: int, long: int, seeds: Sequence[int],
                env_kwargs: dict[str, Any], progress: bool) -> dict[str, Any]:
    """Random search and OpenTuner figures for one application (means over ``seeds``)."""
    random_fail, random_best, ot_short, ot_long, ot_fail, seconds = [], [], [], [], [], []
    for seed in seeds:
        rnd = tune(app, "random", iters=draws, seed=seed, progress=progress,
                   env_kwargs=env_kwargs)
        random_fail.append(rnd.failure_rate)
        random_best.append(rnd.best_score)
        start = time.perf_counter()
        ot = tune(app, "opentuner", iters=long, seed=seed, progress=progress,
                  env_kwargs=env_kwargs)
        seconds.append(time.perf_counter() - start)
        ot_short.append(ot.best_after(short))
        ot_long.append(ot.best_score)
        ot_fail.append(ot.failure_rate)
    mean = statistics.fmean
    return {
        "app": app,
        "random_failure_rate": mean(random_fail),
        "random_best": mean(random_best),
        "opentuner_best_short": mean(ot_short),
        "opentuner_best_long": mean(ot_long),
        "opentuner_failure_rate": mean(ot_fail),
        "opentuner_seconds": mean(seconds),
    }


def format_table(rows: Sequence[dict[str, Any]], draws: int, short: int, long: int) -> str:
    """A Markdown table of :func:`app_figures` rows."""
    head = (f"| app | random: failed of {draws} | random: best | OpenTuner best @{short} | "
            f"OpenTuner best @{long} | OpenTuner failed @{long} | OpenTuner wall s |")
    lines = [head, "|" + "---|" * 7]
    for r in rows:
        lines.append(
            f"| {r['app']} | {r['random_failure_rate']:.0%} | {r['random_best']:.3f} | "
            f"{r['opentuner_best_short']:.3f} | {r['opentuner_best_long']:.3f} | "
            f"{r['opentuner_failure_rate']:.0%} | {r['opentuner_seconds']:.1f} |")
    if rows:
        fail = statistics.fmean(r["random_failure_rate"] for r in rows)
        lines.append(f"| all | {fail:.0%} | {statistics.fmean(r['random_best'] for r in rows):.3f}"
                     f" | {statistics.fmean(r['opentuner_best_short'] for r in rows):.3f} | "
                     f"{statistics.fmean(r['opentuner_best_long'] for r in rows):.3f} | "
                     f"{statistics.fmean(r['opentuner_failure_rate'] for r in rows):.0%} | "
                     f"{sum(r['opentuner_seconds'] for r in rows):.1f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", nargs="+", default=list(ALL_APPS))
    parser.add_argument("--draws", type=int, default=10, help="random mappers per app")
    parser.add_argument("--short", type=int, default=10, help="OpenTuner's short budget")
    parser.add_argument("--long", type=int, default=1000, help="OpenTuner's long budget")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--machine", default="p100-node")
    parser.add_argument("--progress", action="store_true", help="progress bars on stderr")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = parser.parse_args(argv)
    if not 1 <= args.short <= args.long:
        parser.error("need 1 <= --short <= --long")
    env_kwargs = {"machine": args.machine, "feedback": "raw"}
    rows = []
    for app in args.apps:
        rows.append(app_figures(app, args.draws, args.short, args.long, args.seeds,
                                env_kwargs, args.progress))
        print(f"{app}: done", file=sys.stderr)
    print(f"# simulator, {args.machine}, seeds {' '.join(map(str, args.seeds))}")
    print(format_table(rows, args.draws, args.short, args.long))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
