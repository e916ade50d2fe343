"""Command-line entry points: ``mapper-gym compare``, ``report`` and ``validate``.

Each ``add_*_command(subparsers)`` registers one subcommand on an ``add_subparsers()`` object
(``mapper_gym.cli`` wires them in); ``python -m experiments`` offers the same three without the
rest of the ``mapper-gym`` command. Bad input is reported in one line and exit status 2, never
with a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "add_compare_command",
    "add_report_command",
    "add_validate_command",
    "build_parser",
    "main",
]


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


# ---------------------------------------------------------------------------------------------
# compare
# ---------------------------------------------------------------------------------------------


def add_compare_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``compare``: run a grid of agents × benchmarks × seeds × budgets."""
    parser = subparsers.add_parser(
        "compare", help="compare optimizers over benchmarks, seeds and budgets",
        description="Run every unit of a grid (agents x benchmarks x seeds x budgets x "
                    "backends x feedback levels x machines) into runs/<name>/results.jsonl. "
                    "A killed run resumes where it stopped when started again with the same "
                    "name; finished evaluations are never repeated. Flags override the "
                    "configuration file.")
    parser.add_argument("--config", metavar="FILE", help="experiment file (TOML or JSON)")
    parser.add_argument("--name", help="experiment name: the folder runs/<name>/")
    parser.add_argument("--agent", "--agents", dest="agents", action="append", metavar="SPEC",
                        help="agent: NAME, NAME:key=value:..., package.module:Class, with an "
                             "optional @label; repeat it or give plain names separated by "
                             "commas (random,opentuner)")
    parser.add_argument("--apps", help="benchmarks, comma-separated, or all (default all)")
    parser.add_argument("--seeds", help="seeds: 0-4 or 0,1,2 (default 0)")
    parser.add_argument("--budgets", help="evaluations per run: 10 or 10,1000 (default 10)")
    parser.add_argument("--backend", help="backends, comma-separated (default sim)")
    parser.add_argument("--feedback", help="feedback levels: raw, explain, suggest "
                                           "(default suggest)")
    parser.add_argument("--machine", help="machine presets or files, comma-separated "
                                          "(default p100-node)")
    parser.add_argument("--problem", help="problem preset (default: the group's size for "
                                          "the machine)")
    parser.add_argument("--executor", choices=("serial", "process", "ray"),
                        help="where units run (default process: a pool sized to the cores)")
    parser.add_argument("--workers", type=int, help="parallel units (default: the cores)")
    parser.add_argument("--ray-address", help="address of a running Ray cluster "
                                              "(implies --executor ray)")
    parser.add_argument("--runs-dir", help="folder of experiment folders (default runs)")
    parser.add_argument("--cache", help="evaluation cache file, or none "
                                        "(default runs/evaluation-cache.sqlite)")
    parser.add_argument("--wandb", choices=("offline", "online", "disabled"),
                        help="Weights & Biases mode (default offline)")
    parser.add_argument("--wandb-project", help="W&B project (default mapper-gym)")
    parser.add_argument("--wandb-entity", help="W&B entity")
    parser.add_argument("--report", action="store_true",
                        help="write the tables, figures and HTML page afterwards")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the grid's size and what is left to run, run nothing")
    parser.add_argument("--no-progress", action="store_true", help="no per-unit lines")
    parser.set_defaults(handler=cmd_compare)
    return parser


def _agents_from_flags(values: Sequence[str]) -> list[Any]:
    from experiments.config import parse_agent

    specs = []
    for value in values:
        if ":" not in value and "@" not in value and "," in value:
            specs.extend(parse_agent(v.strip()) for v in value.split(",") if v.strip())
        else:
            specs.append(parse_agent(value))
    return specs


def config_from_args(args: argparse.Namespace) -> tuple[Any, Any]:
    """The experiment and run options of ``compare``'s arguments (file, then flags)."""
    from experiments.config import (
        ConfigError,
        ExperimentConfig,
        RunOptions,
        load_config,
        parse_apps,
    )

    if args.config:
        config, options = load_config(args.config)
        data = config.to_dict()
    else:
        data = {"name": "compare", "agents": []}
        options = RunOptions()
    if args.name:
        data["name"] = args.name
    if args.agents:
        data["agents"] = [a.to_dict() for a in _agents_from_flags(args.agents)]
    if not data["agents"]:
        raise ConfigError("no agent: give --agent (e.g. --agent random) or a config file")
    if args.apps:
        data["apps"] = list(parse_apps(args.apps))
    for flag, key in (("seeds", "seeds"), ("budgets", "budgets")):
        if getattr(args, flag):
            data[key] = getattr(args, flag)
    for flag, key in (("backend", "backends"), ("feedback", "feedback"),
                      ("machine", "machines")):
        value = getattr(args, flag)
        if value:
            data[key] = [v.strip() for v in value.split(",") if v.strip()]
    if args.problem:
        data["problem"] = args.problem
    config = ExperimentConfig.from_dict(data)
    executor = args.executor or ("ray" if args.ray_address else None)
    options = options.with_overrides(
        executor=executor, workers=args.workers, ray_address=args.ray_address,
        runs_dir=Path(args.runs_dir) if args.runs_dir else None, cache=args.cache,
        wandb=args.wandb, wandb_project=args.wandb_project, wandb_entity=args.wandb_entity,
        progress=False if args.no_progress else None,
    )
    return config, options


def cmd_compare(args: argparse.Namespace) -> int:
    """Exit 0 when every unit finished, 1 when some failed, 2 for bad input."""
    from experiments.config import ConfigError
    from experiments.parallel import ExecutorUnavailable
    from experiments.runner import pending_units, run_experiment
    from experiments.store import StoreCorrupt, StoreLocked

    try:
        config, options = config_from_args(args)
    except ConfigError as error:
        return _error(str(error))
    store = options.run_dir(config.name) / "results.jsonl"
    if args.dry_run:
        units = config.units()
        try:
            left = pending_units(store, units)
        except StoreCorrupt as error:
            return _error(str(error))
        print(f"{config.name}: {len(units)} units, {config.evaluations()} evaluations; "
              f"{len(left)} unit(s) left to run ({sum(u.budget for u in left)} evaluations "
              "at most); results in " + str(store))
        return 0
    try:
        summary = run_experiment(config, options)
    except (StoreLocked, StoreCorrupt, ConfigError, ExecutorUnavailable) as error:
        return _error(str(error))
    except ImportError as error:
        return _error(str(error))
    except KeyboardInterrupt:
        print(f"interrupted; finished evaluations are saved in {store}; run the same "
              "command again to resume", file=sys.stderr)
        return 130
    for unit_id, message in summary.errors:
        print(f"unit {unit_id} failed: {message}", file=sys.stderr)
    if args.report:
        code = _report(store, None, validate=False, title=config.name)
        if code:
            return code
    return 0 if summary.ok else 1


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------


def add_report_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``report``: tables, figures and an HTML page from a results store."""
    parser = subparsers.add_parser(
        "report", help="tables, figures and an HTML page from a results store",
        description="Per benchmark mean, std, worst, median and best normalized throughput "
                    "over seeds for every optimizer (the paper's Tables A1/A2), trajectories "
                    "per benchmark (Figure 4) and average normalized throughput against "
                    "iterations (Figure 5), as Markdown, CSV, PNG and index.html.")
    parser.add_argument("results", help="results.jsonl or a run folder (runs/<name>)")
    parser.add_argument("--out", help="output folder (default: report/ beside the store)")
    parser.add_argument("--validate", action="store_true",
                        help="re-run each unit's best mapper and show the check on the "
                             "leaderboard")
    parser.add_argument("--title", help="page title (default: the run folder's name)")
    parser.set_defaults(handler=cmd_report)
    return parser


def _report(results: Path, out: str | None, *, validate: bool, title: str | None) -> int:
    from experiments.report import write_report
    from experiments.store import StoreCorrupt, iter_records

    path = results / "results.jsonl" if results.is_dir() else results
    if not path.is_file():
        return _error(f"{path}: no such results file")
    try:
        validation = None
        if validate:
            from experiments.validate import validate_records

            validation = validate_records(iter_records(path))
        files = write_report(path, out, validation=validation, title=title)
    except StoreCorrupt as error:
        return _error(str(error))
    except ValueError as error:
        return _error(str(error))
    print(f"report of {files.units} unit(s)"
          + (f" ({files.partial_units} unfinished left out)" if files.partial_units else "")
          + f": {files.html}")
    print(files.tables_md.read_text())
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    return _report(Path(args.results), args.out, validate=args.validate, title=args.title)


# ---------------------------------------------------------------------------------------------
# validate
# ---------------------------------------------------------------------------------------------


def add_validate_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``validate``: re-run recorded best mappers and check their scores."""
    parser = subparsers.add_parser(
        "validate", help="re-run every recorded best mapper and check its recorded score",
        description="Re-run, with all caches off, the best mapper of every unit in a results "
                    "store (or every evaluation with --all) and compare the measured score, "
                    "status and throughput with the recorded ones. Prints the failures and a "
                    "leaderboard of validated results; exits 1 if any check fails.")
    parser.add_argument("results", help="results.jsonl or a run folder (runs/<name>)")
    parser.add_argument("--all", action="store_true", help="re-run every evaluation")
    parser.add_argument("--tolerance", type=float, default=None,
                        help="relative and absolute tolerance (default 1e-9 for the "
                             "deterministic simulator, 0.35 for measuring backends)")
    parser.add_argument("--json", metavar="FILE", help="write every check as JSON")
    parser.set_defaults(handler=cmd_validate)
    return parser


def cmd_validate(args: argparse.Namespace) -> int:
    from experiments.store import StoreCorrupt, iter_records
    from experiments.validate import leaderboard_rows, validate_records

    path = Path(args.results)
    if path.is_dir():
        path = path / "results.jsonl"
    if not path.is_file():
        return _error(f"{path}: no such results file")
    try:
        results = validate_records(iter_records(path), every=args.all,
                                   tolerance=args.tolerance)
        board = leaderboard_rows(iter_records(path), results) if results else []
    except StoreCorrupt as error:
        return _error(str(error))
    if not results:
        return _error(f"{path}: no evaluation to validate")
    bad = [r for r in results if not r.valid]
    for result in bad:
        print(f"{result.verdict}: {result.agent}/{result.app}/s{result.seed} budget "
              f"{result.budget} iteration {result.iteration}: {result.message}")
    print(f"{len(results) - len(bad)}/{len(results)} check(s) passed "
          f"({len({r.unit for r in results})} unit(s))")
    if board:
        print("\n| # | optimizer | avg. normalized | benchmarks | valid units |")
        print("|---|---|---|---|---|")
        for rank, row in enumerate(board, start=1):
            print(f"| {rank} | {row['label']} | {row['average']:.3f} | {row['benchmarks']} | "
                  f"{row['valid_units']}/{row['units']} |")
    if args.json:
        Path(args.json).write_text(json.dumps([r.to_dict() for r in results], indent=1))
    return 1 if bad else 0


# ---------------------------------------------------------------------------------------------
# python -m experiments
# ---------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m experiments",
        description="mapper-gym experiments: compare optimizers, report, validate.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_compare_command(subparsers)
    add_report_command(subparsers)
    add_validate_command(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))
