"""The paper's figures as PNG files, drawn headless.

- :func:`plot_trajectories`: best-so-far normalized throughput against iteration, one panel
  per benchmark, for every optimizer: the mean over seeds as a line and the range over seeds
  (worst to best) as a band (the paper's Figure 4). Also one file per benchmark.
- :func:`plot_average`: the average over benchmarks of the mean best-so-far score against the
  number of iterations on a log axis, one line per optimizer (the paper's Figure 5).

An optimizer with a single evaluation (the expert and default mappers as constant agents) is
drawn as a dotted level across the panel.

Matplotlib's object API with the Agg canvas is used directly (no ``pyplot``), so nothing
global changes in the caller's process and no display is needed.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path

from experiments.report import (
    Series,
    UnitResult,
    _app_order,
    _varying,
    average_curve,
    trajectories,
)

__all__ = ["plot_average", "plot_trajectories"]

_DPI = 110


def _figure(width: float, height: float):  # -> matplotlib.figure.Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _colors(series: Sequence[Series]) -> dict[Series, tuple[float, ...]]:
    from matplotlib import colormaps

    palette = colormaps["tab10"] if len(series) <= 10 else colormaps["tab20"]
    return {s: palette(i % palette.N) for i, s in enumerate(series)}


def _log_axis(axes) -> None:
    """A log x axis labelled with plain numbers (1, 10, 100, not 10^0)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axes.set_xscale("log")
    axes.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axes.xaxis.set_minor_formatter(NullFormatter())


def _draw_panel(axes, curves: dict[Series, list[list[float]]], colors, labels,
                log_x: bool) -> None:
    for series, per_seed in curves.items():
        length = min(len(c) for c in per_seed)
        if length == 0:
            continue
        xs = list(range(1, length + 1))
        mean = [statistics.fmean(c[i] for c in per_seed) for i in range(length)]
        low = [min(c[i] for c in per_seed) for i in range(length)]
        high = [max(c[i] for c in per_seed) for i in range(length)]
        color = colors[series]
        if length == 1:  # a single evaluation (the expert and default mappers): a level
            axes.axhline(mean[0], color=color, linestyle=":", linewidth=1.6,
                         label=f"{labels[series]} (n={len(per_seed)})")
            continue
        axes.plot(xs, mean, color=color, linewidth=1.6,
                  label=f"{labels[series]} (n={len(per_seed)})",
                  marker="o" if length <= 20 else None, markersize=3)
        if len(per_seed) > 1:
            axes.fill_between(xs, low, high, color=color, alpha=0.18, linewidth=0)
    axes.axhline(1.0, color="0.4", linestyle="--", linewidth=0.9)
    if log_x:
        _log_axis(axes)
    axes.set_ylim(bottom=0.0)
    axes.grid(True, alpha=0.3)


def plot_trajectories(units: Iterable[UnitResult], folder: str | Path) -> dict[str, Path]:
    """Figure 4: best-so-far per iteration per benchmark (mean over seeds, range as a band).

    Writes ``<folder>.png`` (all benchmarks, one panel each) and
    ``<folder>/<App>.png`` (one per benchmark); returns their paths by name
    (``"trajectories"``, ``"trajectory-<App>"``).
    """
    units = list(units)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    curves = trajectories(units)
    series = sorted({s for s, _ in curves})
    apps = sorted({app for _, app in curves}, key=_app_order)
    colors = _colors(series)
    varying = _varying(series)
    labels = {s: s.label(varying) for s in series}
    longest = max((len(c) for per_seed in curves.values() for c in per_seed), default=1)
    log_x = longest > 100
    out: dict[str, Path] = {}

    columns = min(3, len(apps))
    rows = math.ceil(len(apps) / columns)
    grid = _figure(4.2 * columns, 3.2 * rows + 0.6)
    panels = grid.subplots(rows, columns, squeeze=False)
    for index, app in enumerate(apps):
        axes = panels[index // columns][index % columns]
        _draw_panel(axes, {s: curves[(s, app)] for s in series if (s, app) in curves},
                    colors, labels, log_x)
        axes.set_title(app)
        axes.set_xlabel("iteration")
        axes.set_ylabel("best normalized throughput")
    for index in range(len(apps), rows * columns):
        panels[index // columns][index % columns].set_visible(False)
    handles, names = [], []
    for axes in grid.axes:
        for handle, name in zip(*axes.get_legend_handles_labels(), strict=True):
            base = name.rsplit(" (n=", 1)[0]
            if base not in names:
                handles.append(handle)
                names.append(base)
    grid.legend(handles, names, loc="outside lower center", ncols=min(4, len(names)),
                frameon=False)
    grid.suptitle("Optimization trajectories: best so far (mean over seeds, band = range)")
    path = folder.with_suffix(".png")
    grid.savefig(path, dpi=_DPI)
    out["trajectories"] = path

    for app in apps:
        figure = _figure(5.6, 3.8)
        axes = figure.subplots()
        _draw_panel(axes, {s: curves[(s, app)] for s in series if (s, app) in curves},
                    colors, labels, log_x)
        axes.set_title(f"{app}: best normalized throughput so far")
        axes.set_xlabel("iteration")
        axes.set_ylabel("normalized throughput")
        axes.legend(fontsize="small", frameon=False)
        path = folder / f"{app}.png"
        figure.savefig(path, dpi=_DPI)
        out[f"trajectory-{app}"] = path
    return out


def plot_average(units: Iterable[UnitResult], path: str | Path) -> Path:
    """Figure 5: average normalized throughput (mean over benchmarks of the mean over seeds
    of the best so far) against iterations, log axis, one line per optimizer."""
    units = list(units)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    curves = average_curve(units)
    series = list(curves)
    colors = _colors(series)
    varying = _varying(series)
    apps_of: dict[Series, set[str]] = {}
    for unit in units:
        apps_of.setdefault(unit.series, set()).add(unit.app)
    figure = _figure(6.4, 4.2)
    axes = figure.subplots()
    for s, curve in curves.items():
        if len(curve) == 1:  # a single evaluation: a level, not a curve
            axes.axhline(curve[0], color=colors[s], linestyle=":", linewidth=1.6,
                         label=f"{s.label(varying)}: {curve[0]:.2f} ({len(apps_of[s])} apps)")
            continue
        xs = list(range(1, len(curve) + 1))
        axes.plot(xs, curve, color=colors[s], linewidth=1.8,
                  label=f"{s.label(varying)}: {curve[-1]:.2f} ({len(apps_of[s])} apps)")
        axes.plot([xs[-1]], [curve[-1]], color=colors[s], marker="o", markersize=5)
    axes.axhline(1.0, color="0.4", linestyle="--", linewidth=0.9, label="expert mapper")
    _log_axis(axes)
    axes.set_ylim(bottom=0.0)
    axes.set_xlabel("iterations (log scale)")
    axes.set_ylabel("average normalized throughput")
    axes.set_title("Average over benchmarks of the best mapper so far")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small", frameon=False)
    figure.savefig(path, dpi=_DPI)
    return path
