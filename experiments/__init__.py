"""Experiments on mapper-gym: compare optimizers over benchmarks, seeds and budgets.

::

    from experiments import AgentSpec, ExperimentConfig, RunOptions, run_experiment, write_report

    config = ExperimentConfig(name="demo", agents=(AgentSpec("random"), AgentSpec("opentuner")),
                              seeds=(0, 1, 2, 3, 4), budgets=(10,))
    summary = run_experiment(config, RunOptions(executor="process"))
    write_report(summary.store)            # runs/demo/report/index.html

======================================  ==========================================================
module                                  job
======================================  ==========================================================
:mod:`experiments.config`               the grid (:class:`ExperimentConfig`), units, run options
:mod:`experiments.runner`               one unit (replay, cache, records) and the driver
:mod:`experiments.parallel`             executors: serial, process pool, Ray
:mod:`experiments.store`                the JSON Lines results store
:mod:`experiments.cache`                the persistent evaluation cache (SQLite)
:mod:`experiments.records`              the record layout
:mod:`experiments.factory`              a unit's environment and agent; the LLM tape
:mod:`experiments.wandb_log`            Weights & Biases runs per unit
:mod:`experiments.report`               the paper's tables
:mod:`experiments.plots`                the paper's figures (PNG, headless)
:mod:`experiments.html`                 the HTML summary page
:mod:`experiments.validate`             re-running recorded mappers
:mod:`experiments.reproduce`            the paper's study on the simulator
:mod:`experiments.bench_throughput`     evaluations per minute: one process vs the pool
:mod:`experiments.cli`                  ``mapper-gym compare``, ``report``, ``validate``
======================================  ==========================================================

Shipped grids: ``experiments/configs/paper.toml`` (the reproduction) and ``smoke.toml``.

Importing this package is cheap: matplotlib, W&B and Ray are imported where they are used.
"""

from experiments.config import (
    APPS,
    AgentSpec,
    ConfigError,
    ExperimentConfig,
    RunOptions,
    RunUnit,
    load_config,
)
from experiments.records import content
from experiments.report import stat_rows, unit_results, write_report
from experiments.runner import ExperimentSummary, run_experiment
from experiments.store import ResultsStore, read_records
from experiments.validate import ValidationResult, validate_records, validate_store

__all__ = [
    "APPS",
    "AgentSpec",
    "ConfigError",
    "ExperimentConfig",
    "ExperimentSummary",
    "ResultsStore",
    "RunOptions",
    "RunUnit",
    "ValidationResult",
    "content",
    "load_config",
    "read_records",
    "run_experiment",
    "stat_rows",
    "unit_results",
    "validate_records",
    "validate_store",
    "write_report",
]
