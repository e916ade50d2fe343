"""The paper's tables from a results store.

A unit's **score** is the best normalized throughput among its evaluations (0 when none ran
successfully), recomputed from the ``eval`` records: the rewards the environment gave, not any
summary a file claims. A **series** is one optimizer configuration: agent, budget, backend,
feedback level, machine and problem size. For each series and benchmark, over the seeds:

=======  ===============================================================================
mean     arithmetic mean
std      sample standard deviation (n - 1 in the denominator, as the paper's Tables A1/A2:
         SUMMA's 0.86 ± 0.48 over five runs with one zero only works out that way); 0 for
         one seed
worst    minimum
median   median (the mean of the middle two for an even count)
best     maximum
=======  ===============================================================================

:func:`trajectories` gives best-so-far per iteration (the paper's Figure 4) and
:func:`average_curve` the mean over benchmarks of the mean over seeds (Figure 5).
:func:`write_report` writes all tables, plots and the HTML page of a store.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from experiments.config import APPS, finite

__all__ = [
    "ReportFiles",
    "Series",
    "StatRow",
    "UnitResult",
    "average_curve",
    "averages",
    "comparison_markdown",
    "describe_values",
    "series_markdown",
    "stat_rows",
    "trajectories",
    "unit_results",
    "write_report",
]


@dataclass(frozen=True, order=True)
class Series:
    """One optimizer configuration (what a table column or a plot line stands for)."""

    agent: str
    budget: int
    backend: str = "sim"
    feedback: str = "suggest"
    machine: str = "p100-node"
    problem: str | None = None

    def label(self, varying: Iterable[str] = ()) -> str:
        """``agent (budget it.)`` plus the fields named in ``varying``."""
        text = f"{self.agent} ({self.budget} it.)"
        extras = [str(getattr(self, name)) for name in varying if name != "budget"]
        return text + (" " + " ".join(f"[{e}]" for e in extras) if extras else "")


def _varying(series: Iterable[Series]) -> tuple[str, ...]:
    """Fields other than agent and budget that differ between series (shown in labels)."""
    items = list(series)
    names = ("backend", "feedback", "machine", "problem")
    return tuple(n for n in names if len({getattr(s, n) for s in items}) > 1)


@dataclass
class UnitResult:
    """One unit's evaluations, read from a store (scores per iteration; programs only of the
    evaluations that were the unit's best when read, so a 1000-iteration unit stays small)."""

    unit: str
    series: Series
    app: str
    seed: int
    rewards: list[float] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    #: Programs of candidate best evaluations, by iteration.
    programs: dict[int, str] = field(default_factory=dict)
    tokens: int = 0
    cost_usd: float | None = 0.0

    @property
    def evaluations(self) -> int:
        return len(self.rewards)

    @property
    def complete(self) -> bool:
        return self.evaluations >= self.series.budget

    @property
    def trajectory(self) -> list[float]:
        """Best normalized throughput so far after each evaluation (failures score 0)."""
        out: list[float] = []
        best = 0.0
        for reward, status in zip(self.rewards, self.statuses, strict=True):
            best = max(best, reward if status == "ok" else 0.0)
            out.append(best)
        return out

    @property
    def score(self) -> float:
        trajectory = self.trajectory
        return trajectory[-1] if trajectory else 0.0

    @property
    def best_iteration(self) -> int | None:
        """The first iteration with the best successful reward (None if none succeeded)."""
        best, where = 0.0, None
        for index, (reward, status) in enumerate(zip(self.rewards, self.statuses,
                                                     strict=True), start=1):
            if status == "ok" and (where is None or reward > best):
                best, where = reward, index
        return where

    @property
    def best_program(self) -> str | None:
        where = self.best_iteration
        return self.programs.get(where) if where is not None else None

    @property
    def failures(self) -> int:
        return sum(1 for s in self.statuses if s != "ok")


@dataclass
class _Collect:
    """What :func:`unit_results` keeps of a unit while streaming its records."""

    first: Mapping[str, Any]
    steps: dict[int, tuple[float, str, int, float | None, bool]] = field(default_factory=dict)
    programs: dict[int, str] = field(default_factory=dict)
    best: float = -1.0


def unit_results(records: Iterable[Mapping[str, Any]], *, include_partial: bool = False
                 ) -> list[UnitResult]:
    """Units of the ``eval`` records (complete ones only unless ``include_partial``).

    Streams: ``records`` may be :func:`~experiments.store.iter_records` over a large store.
    Repeated evaluation ids (stores concatenated by hand) count once; a unit's evaluations are
    taken in iteration order, up to the first missing iteration.
    """
    by_unit: dict[str, _Collect] = {}
    for record in records:
        if record.get("type") != "eval":
            continue
        unit = str(record["unit"])
        collect = by_unit.get(unit)
        if collect is None:
            slim = {k: record.get(k) for k in ("agent", "budget", "backend", "feedback_level",
                                               "machine", "problem", "app", "seed")}
            collect = by_unit[unit] = _Collect(slim)
        iteration = int(record["iteration"])
        if iteration in collect.steps:
            continue
        reward, status = finite(record.get("reward")), str(record.get("status"))
        usage = record.get("usage") or {}
        collect.steps[iteration] = (reward, status, int(usage.get("total_tokens", 0) or 0),
                                    usage.get("cost_usd") if usage else 0.0, bool(usage))
        if status == "ok" and reward >= collect.best:
            collect.best = reward
            collect.programs[iteration] = str(record.get("program", ""))
    out: list[UnitResult] = []
    for unit, collect in by_unit.items():
        first = collect.first
        series = Series(
            agent=str(first["agent"]), budget=int(first["budget"]),
            backend=str(first.get("backend") or "sim"),
            feedback=str(first.get("feedback_level") or ""),
            machine=str(first.get("machine") or ""), problem=first.get("problem"),
        )
        result = UnitResult(unit=unit, series=series, app=str(first["app"]),
                            seed=int(first["seed"]))
        costs: list[float | None] = []
        iteration = 1
        while iteration in collect.steps and iteration <= series.budget:
            reward, status, tokens, cost, has_usage = collect.steps[iteration]
            result.rewards.append(reward)
            result.statuses.append(status)
            result.tokens += tokens
            if has_usage:
                costs.append(cost)
            iteration += 1
        result.programs = {i: p for i, p in collect.programs.items() if i < iteration}
        result.cost_usd = None if any(c is None for c in costs) else sum(
            float(c) for c in costs if c is not None)
        if result.complete or include_partial:
            out.append(result)
    return sorted(out, key=lambda u: (u.series, _app_order(u.app), u.seed))


def _app_order(app: str) -> tuple[int, str]:
    return (APPS.index(app), app) if app in APPS else (len(APPS), app)


# ---------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatRow:
    """Statistics of one series on one benchmark over its seeds."""

    series: Series
    app: str
    n: int
    mean: float
    std: float
    worst: float
    median: float
    best: float
    seeds: tuple[int, ...] = ()


def describe_values(values: Sequence[float]) -> tuple[float, float, float, float, float]:
    """(mean, sample std, min, median, max) of ``values`` (std 0 for a single value).

    Raises:
        ValueError: no values.
    """
    if not values:
        raise ValueError("no values to describe")
    data = [float(v) for v in values]
    mean = statistics.fmean(data)
    std = statistics.stdev(data) if len(data) > 1 else 0.0
    return mean, std, min(data), statistics.median(data), max(data)


def stat_rows(units: Iterable[UnitResult]) -> list[StatRow]:
    """One row per (series, benchmark), series in order, benchmarks in the paper's order."""
    groups: dict[tuple[Series, str], list[UnitResult]] = {}
    for unit in units:
        groups.setdefault((unit.series, unit.app), []).append(unit)
    rows = []
    for (series, app), members in sorted(groups.items(),
                                         key=lambda item: (item[0][0], _app_order(item[0][1]))):
        members.sort(key=lambda u: u.seed)
        mean, std, worst, median, best = describe_values([u.score for u in members])
        rows.append(StatRow(series, app, len(members), mean, std, worst, median, best,
                            tuple(u.seed for u in members)))
    return rows


def averages(rows: Iterable[StatRow]) -> dict[Series, tuple[float, int]]:
    """Per series: the mean over benchmarks of the per-benchmark means, and how many
    benchmarks it covers (the paper's "average normalized throughput")."""
    groups: dict[Series, list[float]] = {}
    for row in rows:
        groups.setdefault(row.series, []).append(row.mean)
    return {series: (statistics.fmean(means), len(means)) for series, means in groups.items()}


def trajectories(units: Iterable[UnitResult]) -> dict[tuple[Series, str], list[list[float]]]:
    """Best-so-far curves per (series, benchmark): one list per seed, in seed order."""
    out: dict[tuple[Series, str], list[list[float]]] = {}
    for unit in sorted(units, key=lambda u: u.seed):
        out.setdefault((unit.series, unit.app), []).append(unit.trajectory)
    return out


def average_curve(units: Iterable[UnitResult]) -> dict[Series, list[float]]:
    """Per series and iteration: the mean over benchmarks of the mean over seeds of the
    best-so-far score. Each benchmark counts once however many seeds it has; the curve is as
    long as the shortest unit of the series."""
    per_app: dict[Series, dict[str, list[list[float]]]] = {}
    for unit in units:
        per_app.setdefault(unit.series, {}).setdefault(unit.app, []).append(unit.trajectory)
    out: dict[Series, list[float]] = {}
    for series, apps in per_app.items():
        length = min(len(t) for curves in apps.values() for t in curves)
        if length == 0:
            continue
        app_means = [
            [statistics.fmean(curve[i] for curve in curves) for i in range(length)]
            for curves in apps.values()
        ]
        out[series] = [statistics.fmean(m[i] for m in app_means) for i in range(length)]
    return dict(sorted(out.items()))


# ---------------------------------------------------------------------------------------------
# Text formats
# ---------------------------------------------------------------------------------------------


def _number(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}" if math.isfinite(value) else "n/a"


def series_markdown(rows: Sequence[StatRow], series: Series, *, digits: int = 2,
                    varying: Iterable[str] = ()) -> str:
    """The paper's Table A1/A2 layout for one series: a row per benchmark with mean, std,
    worst, median and best over seeds."""
    lines = [
        f"**{series.label(varying)}**",
        "",
        "| benchmark | mean | std | worst | median | best | seeds |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if row.series != series:
            continue
        lines.append(
            f"| {row.app} | {_number(row.mean, digits)} | {_number(row.std, digits)} | "
            f"{_number(row.worst, digits)} | {_number(row.median, digits)} | "
            f"{_number(row.best, digits)} | {row.n} |"
        )
    return "\n".join(lines) + "\n"


def comparison_markdown(rows: Sequence[StatRow], *, digits: int = 2) -> str:
    """All series side by side: mean ± std per benchmark, and the average over benchmarks."""
    series = sorted({row.series for row in rows})
    varying = _varying(series)
    apps = sorted({row.app for row in rows}, key=_app_order)
    cell = {(row.series, row.app): row for row in rows}
    header = "| benchmark | " + " | ".join(s.label(varying) for s in series) + " |"
    lines = [header, "|---|" + "---|" * len(series)]
    for app in apps:
        cells = []
        for s in series:
            row = cell.get((s, app))
            cells.append(f"{_number(row.mean, digits)} ± {_number(row.std, digits)}"
                         if row else "–")
        lines.append(f"| {app} | " + " | ".join(cells) + " |")
    means = averages(rows)
    lines.append("| **average** | " + " | ".join(
        f"**{_number(means[s][0], digits)}**" + (f" ({means[s][1]} apps)"
                                                 if means[s][1] != len(apps) else "")
        for s in series) + " |")
    return "\n".join(lines) + "\n"


def rows_csv(rows: Sequence[StatRow]) -> str:
    """Every row as CSV (full precision) for other tools."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["agent", "budget", "backend", "feedback", "machine", "problem", "app",
                     "n", "mean", "std", "worst", "median", "best", "seeds"])
    for row in rows:
        s = row.series
        writer.writerow([s.agent, s.budget, s.backend, s.feedback, s.machine, s.problem or "",
                         row.app, row.n, repr(row.mean), repr(row.std), repr(row.worst),
                         repr(row.median), repr(row.best), " ".join(map(str, row.seeds))])
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Everything at once
# ---------------------------------------------------------------------------------------------


@dataclass
class ReportFiles:
    """The files :func:`write_report` wrote."""

    folder: Path
    tables_md: Path
    tables_csv: Path
    figures: dict[str, Path]
    html: Path
    units: int
    partial_units: int


def write_report(store: str | Path, out_dir: str | Path | None = None, *,
                 validation: Sequence[Any] | None = None, title: str | None = None,
                 records: Sequence[Mapping[str, Any]] | None = None) -> ReportFiles:
    """Tables (Markdown, CSV), figures (PNG) and an HTML page for the store at ``store``.

    Args:
        store: a results file (``results.jsonl``) or a run folder holding one.
        out_dir: where to write (default: ``report/`` beside the store).
        validation: results of :func:`experiments.validate.validate_store`, shown as the
            leaderboard's check column.
        records: the store's records, if already read.

    Raises:
        ValueError: the store has no complete unit.
    """
    from experiments.html import write_html
    from experiments.plots import plot_average, plot_trajectories
    from experiments.store import iter_records

    path = Path(store)
    if path.is_dir():
        path = path / "results.jsonl"
    folder = Path(out_dir) if out_dir is not None else path.parent / "report"
    folder.mkdir(parents=True, exist_ok=True)
    every = unit_results(records if records is not None else iter_records(path),
                         include_partial=True)
    units = [u for u in every if u.complete]
    if not units:
        raise ValueError(f"{path}: no complete unit to report on "
                         f"({len(every)} partial unit(s))")
    rows = stat_rows(units)
    series = sorted({row.series for row in rows})
    varying = _varying(series)
    parts = [f"# {title or path.parent.name}: normalized throughput over seeds\n",
             "## All optimizers\n", comparison_markdown(rows)]
    parts.append("\n## Per optimizer (Tables A1/A2 layout)\n")
    for s in series:
        parts.extend([series_markdown(rows, s, varying=varying), ""])
    tables_md = folder / "tables.md"
    tables_md.write_text("\n".join(parts))
    tables_csv = folder / "tables.csv"
    tables_csv.write_text(rows_csv(rows))
    figures = plot_trajectories(units, folder / "trajectories")
    figures["average"] = plot_average(units, folder / "average_vs_iterations.png")
    html = write_html(folder / "index.html", title=title or path.parent.name, rows=rows,
                      units=units, figures=figures, validation=validation, store=path,
                      partial=len(every) - len(units))
    return ReportFiles(folder, tables_md, tables_csv, figures, html, len(units),
                       len(every) - len(units))
