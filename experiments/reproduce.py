"""Reproduce the paper's study on the simulator, then write its tables and figures.

::

    python -m experiments.reproduce                   # the full study (hours of OpenTuner)
    python -m experiments.reproduce --quick           # a small version, minutes
    OPENAI_API_KEY=... python -m experiments.reproduce   # with the LLM agent

The study (paper.md), on all nine benchmarks, the simulator, the p100-node machine, AutoGuide
feedback at the ``suggest`` level:

- random mappers: 10 draws from the decision space per run;
- OpenTuner with the same 10 iterations, and with 1000;
- the LLM agent, 10 iterations (``gpt-4o-2024-08-06`` unless ``--llm-model``), when an
  endpoint is configured: ``OPENAI_API_KEY`` set, or ``--llm-base-url`` for a local server;
- the expert and default mappers once each, as reference points;

five seeds each. It is one experiment (``runs/<name>/``), so an interrupted reproduction
resumes where it stopped when started again. Afterwards every unit's best mapper is re-run
(:mod:`experiments.validate`), and ``runs/<name>/report/`` gets the tables (with the paper's
published LLM numbers beside ours in ``paper_comparison.md``), the figures and ``index.html``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from experiments.config import (
    APPS,
    AgentSpec,
    ConfigError,
    ExperimentConfig,
    RunOptions,
    parse_apps,
)

__all__ = ["PUBLISHED_LLM", "llm_endpoint_configured", "main", "paper_config"]

#: The paper's LLM agent (Trace, gpt-4o), normalized throughput over 5 runs of 10 iterations:
#: mean, std, worst, median, best (paper.md, Tables A1/A2).
PUBLISHED_LLM: dict[str, tuple[float, float, float, float, float]] = {
    "Circuit": (1.33, 0.01, 1.31, 1.33, 1.34),
    "Stencil": (1.01, 0.01, 1.00, 1.01, 1.02),
    "Pennant": (1.03, 0.02, 1.00, 1.03, 1.04),
    "Cannon": (1.09, 0.00, 1.08, 1.09, 1.09),
    "SUMMA": (0.86, 0.48, 0.00, 1.07, 1.09),
    "PUMMA": (0.57, 0.55, 0.00, 0.66, 1.09),
    "Johnson": (0.98, 0.17, 0.68, 1.06, 1.07),
    "Solomonik": (0.52, 0.41, 0.00, 0.61, 1.09),
    "COSMA": (1.25, 0.03, 1.23, 1.23, 1.31),
}
#: OpenTuner after 10 iterations (paper.md): Circuit's mean; 0.00 on the eight others.
PUBLISHED_OPENTUNER_10: dict[str, float] = {app: 0.0 for app in APPS} | {"Circuit": 0.97}
#: The paper's headline ratios over all nine: LLM(10) / OpenTuner(10) and / OpenTuner(1000).
PUBLISHED_RATIOS = {"opentuner (10 it.)": 11.0, "opentuner (1000 it.)": 3.8}


def llm_endpoint_configured(base_url: str | None, api_key_env: str = "OPENAI_API_KEY") -> bool:
    """Whether the LLM agent can reach an endpoint: a local server, or a key for OpenAI."""
    return bool(base_url) or bool(os.environ.get(api_key_env))


def paper_config(name: str = "paper", *, seeds: int = 5, random_budget: int = 10,
                 opentuner_budgets: Sequence[int] = (10, 1000), llm: dict[str, Any] | None
                 = None, llm_budget: int = 10, apps: Sequence[str] = APPS) -> ExperimentConfig:
    """The study as one experiment (see the module docstring); ``llm`` holds the LLM agent's
    options, ``None`` leaves it out."""
    agents = [
        AgentSpec("random", budgets=(random_budget,)),
        AgentSpec("opentuner", budgets=tuple(opentuner_budgets)),
        AgentSpec("expert", budgets=(1,), seeds=(0,)),
        AgentSpec("default", budgets=(1,), seeds=(0,)),
    ]
    if llm is not None:
        agents.append(AgentSpec("llm", options=llm, label="llm", budgets=(llm_budget,)))
    return ExperimentConfig(name=name, agents=tuple(agents), apps=tuple(apps),
                            seeds=tuple(range(seeds)), budgets=(random_budget,),
                            feedback=("suggest",), machines=("p100-node",), backends=("sim",))


def comparison_markdown(rows: Sequence[Any]) -> str:
    """Our numbers beside the paper's: the LLM agent's per-benchmark rows, and the average
    ratios of the LLM agent to OpenTuner."""
    from experiments.report import averages

    lines = ["# Reproduction against the paper", ""]
    llm_rows = {r.app: r for r in rows if r.series.agent == "llm"}
    if llm_rows:
        lines += ["## LLM agent, 10 iterations (mean / std / worst / median / best)", "",
                  "| benchmark | paper | this run |", "|---|---|---|"]
        for app in APPS:
            paper = " / ".join(f"{v:.2f}" for v in PUBLISHED_LLM[app])
            row = llm_rows.get(app)
            ours = (" / ".join(f"{v:.2f}" for v in (row.mean, row.std, row.worst, row.median,
                                                      row.best)) if row else "–")
            lines.append(f"| {app} | {paper} | {ours} |")
        lines.append("")
    ot10 = {r.app: r.mean for r in rows
            if r.series.agent == "opentuner" and r.series.budget == 10}
    if ot10:
        lines += ["## OpenTuner, 10 iterations (mean)", "", "| benchmark | paper | this run |",
                  "|---|---|---|"]
        lines += [f"| {app} | {PUBLISHED_OPENTUNER_10[app]:.2f} | "
                  + (f"{ot10[app]:.2f}" if app in ot10 else "–") + " |" for app in APPS]
        lines.append("")
    means = {series.label(): value for series, (value, _) in averages(rows).items()}
    lines += ["## Average normalized throughput over the benchmarks", "",
              "| optimizer | average |", "|---|---|"]
    lines += [f"| {label} | {value:.3f} |" for label, value in sorted(means.items())]
    llm = means.get("llm (10 it.)")
    if llm is not None:
        lines += ["", "| ratio | paper | this run |", "|---|---|---|"]
        for label, published in PUBLISHED_RATIOS.items():
            other = means.get(label)
            ours = f"{llm / other:.1f}x" if other else ("inf" if other == 0 else "–")
            lines.append(f"| llm (10 it.) / {label} | {published:.1f}x | {ours} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.reproduce",
        description="Reproduce the paper's study on the simulator: random (10 draws), "
                    "OpenTuner (10 and 1000 iterations) and, with an endpoint, the LLM agent "
                    "(10 iterations) on all nine benchmarks, five seeds; then tables, figures "
                    "and an HTML page.")
    parser.add_argument("--name", default="paper", help="experiment name (runs/<name>/)")
    parser.add_argument("--seeds", type=int, default=5, help="seeds per optimizer (5)")
    parser.add_argument("--quick", action="store_true",
                        help="a small version: 2 seeds, OpenTuner 10 and 100 iterations")
    parser.add_argument("--no-opentuner-1000", action="store_true",
                        help="leave out the 1000-iteration OpenTuner study")
    parser.add_argument("--llm-model", default="gpt-4o-2024-08-06", help="LLM model name")
    parser.add_argument("--llm-base-url", default=None,
                        help="OpenAI-compatible endpoint (default: OpenAI, needs "
                             "OPENAI_API_KEY)")
    parser.add_argument("--llm-max-cost", type=float, default=None,
                        help="dollar cap per LLM run")
    parser.add_argument("--llm-client", default=None, metavar="MODULE:FACTORY",
                        help="a chat client factory (config) -> ChatClient to use instead of "
                             "the OpenAI-compatible one (an in-house or scripted endpoint)")
    parser.add_argument("--no-llm", action="store_true", help="leave out the LLM agent")
    parser.add_argument("--apps", default="all", help="benchmarks (default all nine)")
    parser.add_argument("--executor", choices=("serial", "process", "ray"), default="process")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--ray-address", default=None)
    parser.add_argument("--runs-dir", default="runs")
    parser.add_argument("--wandb", choices=("offline", "online", "disabled"), default="offline")
    parser.add_argument("--no-validate", action="store_true",
                        help="skip re-running the best mappers")
    args = parser.parse_args(argv)

    from experiments.report import write_report
    from experiments.runner import run_experiment
    from experiments.store import StoreLocked, iter_records
    from experiments.validate import validate_records

    seeds = 2 if args.quick else args.seeds
    budgets = (10, 100) if args.quick else (10, 1000)
    if args.no_opentuner_1000:
        budgets = (10,)
    llm: dict[str, Any] | None = None
    if not args.no_llm and (args.llm_client or llm_endpoint_configured(args.llm_base_url)):
        llm = {"model": args.llm_model}
        if args.llm_base_url:
            llm["base_url"] = args.llm_base_url
        if args.llm_client:
            llm["client"] = args.llm_client
        if args.llm_max_cost is not None:
            llm["max_cost_usd"] = args.llm_max_cost
    elif not args.no_llm:
        print("LLM agent left out: no endpoint configured (set OPENAI_API_KEY or pass "
              "--llm-base-url)", file=sys.stderr)
    try:
        config = paper_config(args.name, seeds=seeds, opentuner_budgets=budgets, llm=llm,
                              apps=parse_apps(args.apps))
        options = RunOptions(executor="ray" if args.ray_address else args.executor,
                             workers=args.workers, ray_address=args.ray_address,
                             runs_dir=Path(args.runs_dir), wandb=args.wandb)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{config.name}: {len(config.units())} units, {config.evaluations()} evaluations",
          file=sys.stderr)
    try:
        summary = run_experiment(config, options)
    except StoreLocked as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    validation = None
    if not args.no_validate:
        validation = validate_records(iter_records(summary.store))
        bad = [r for r in validation if not r.valid]
        print(f"validation: {len(validation) - len(bad)}/{len(validation)} best mappers "
              "confirmed", file=sys.stderr)
    files = write_report(summary.store, validation=validation, title=config.name)
    from experiments.report import stat_rows, unit_results

    comparison = files.folder / "paper_comparison.md"
    comparison.write_text(comparison_markdown(stat_rows(unit_results(
        iter_records(summary.store)))))
    print(files.tables_md.read_text())
    print(comparison.read_text())
    print(f"report: {files.html}", file=sys.stderr)
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
