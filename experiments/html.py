"""A self-contained HTML summary page of a results store.

One static file beside the PNGs it shows (relative links, no scripts, no network): the
leaderboard (average normalized throughput per optimizer, with the validation check when one
was run), the comparison table, the per-optimizer tables in the paper's layout, the figures,
and the best mapper found for each benchmark.
"""

from __future__ import annotations

import datetime as _dt
import html
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from experiments.report import (
    Series,
    StatRow,
    UnitResult,
    _app_order,
    _varying,
    averages,
)

__all__ = ["write_html"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222;
       padding: 0 1rem; }
table { border-collapse: collapse; margin: 0.8rem 0 1.6rem; font-size: 0.92rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
td.ok { color: #176b2c; } td.bad { color: #a3141e; font-weight: 600; }
td.name { text-align: left; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.5rem 0; }
pre { background: #f7f7f7; padding: 0.6rem; overflow-x: auto; font-size: 0.8rem; }
.muted { color: #666; font-size: 0.9rem; }
"""


def _f(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]],
           classes: Sequence[Sequence[str]] | None = None) -> str:
    out = ["<table>", "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"]
    for index, row in enumerate(rows):
        cells = []
        for column, cell in enumerate(row):
            css = classes[index][column] if classes else ""
            attr = f' class="{css}"' if css else ""
            cells.append(f"<td{attr}>{cell}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _validation_by_series(validation: Sequence[Any] | None, units: Sequence[UnitResult]
                          ) -> dict[Series, tuple[int, int]]:
    """(valid, checked) per series from validation results (matched by unit id)."""
    if not validation:
        return {}
    series_of = {u.unit: u.series for u in units}
    out: dict[Series, list[int]] = {}
    for result in validation:
        series = series_of.get(getattr(result, "unit", None))
        if series is None:
            continue
        counts = out.setdefault(series, [0, 0])
        counts[1] += 1
        counts[0] += bool(getattr(result, "valid", False))
    return {s: (c[0], c[1]) for s, c in out.items()}


def write_html(path: str | Path, *, title: str, rows: Sequence[StatRow],
               units: Sequence[UnitResult], figures: Mapping[str, Path],
               validation: Sequence[Any] | None = None, store: Path | None = None,
               partial: int = 0) -> Path:
    """Write the summary page to ``path`` and return it."""
    path = Path(path)
    series = sorted({row.series for row in rows})
    varying = _varying(series)
    label = {s: html.escape(s.label(varying)) for s in series}
    means = averages(rows)
    checks = _validation_by_series(validation, units)
    parts = [
        "<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>{html.escape(title)}: mapper-gym results</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p class=\"muted\">Normalized throughput: the mapper's throughput divided by the "
        "expert mapper's on the same machine and problem; failures score 0. A unit's score is "
        "the best it found within its budget. "
        f"{len(units)} complete unit(s)"
        + (f", {partial} unfinished unit(s) left out" if partial else "")
        + (f"; store <code>{html.escape(str(store))}</code>" if store else "")
        + f"; generated {_dt.datetime.now().isoformat(timespec='seconds')}.</p>",
    ]

    # Leaderboard
    failures: dict[Series, list[int]] = {}
    tokens: dict[Series, int] = {}
    for unit in units:
        counts = failures.setdefault(unit.series, [0, 0])
        counts[0] += unit.failures
        counts[1] += unit.evaluations
        tokens[unit.series] = tokens.get(unit.series, 0) + unit.tokens
    ranked = sorted(series, key=lambda s: -means[s][0])
    board_rows, board_classes = [], []
    for rank, s in enumerate(ranked, start=1):
        failed, total = failures.get(s, [0, 0])
        check = "not run"
        css = ""
        if checks:
            valid, checked = checks.get(s, (0, 0))
            check = f"{valid}/{checked} valid" if checked else "not checked"
            css = "ok" if checked and valid == checked else "bad"
        board_rows.append([str(rank), label[s], _f(means[s][0]), str(means[s][1]),
                           f"{100.0 * failed / total:.0f} %" if total else "–",
                           f"{tokens.get(s, 0):,}" if tokens.get(s) else "–", check])
        board_classes.append(["", "name", "", "", "", "", css])
    parts += ["<h2>Leaderboard</h2>",
              "<p class=\"muted\">Average over benchmarks of the mean score over seeds. "
              "<em>Check</em>: the best mapper of every unit re-run by "
              "<code>mapper-gym validate</code> and its recorded score confirmed.</p>",
              _table(["#", "optimizer", "avg. normalized", "benchmarks", "failed evals",
                      "LLM tokens", "check"], board_rows, board_classes)]

    # Comparison table
    apps = sorted({row.app for row in rows}, key=_app_order)
    cell = {(row.series, row.app): row for row in rows}
    comparison = []
    for app in apps:
        line = [html.escape(app)]
        for s in series:
            row = cell.get((s, app))
            line.append(f"{row.mean:.2f} ± {row.std:.2f}" if row else "–")
        comparison.append(line)
    comparison.append(["<strong>average</strong>"]
                      + [f"<strong>{means[s][0]:.2f}</strong>" for s in series])
    parts += ["<h2>All optimizers (mean ± std over seeds)</h2>",
              _table(["benchmark", *[s.label(varying) for s in series]], comparison)]

    # Figures
    here = path.parent

    def image(name: str, alt: str) -> str:
        target = figures.get(name)
        if target is None:
            return ""
        rel = os.path.relpath(Path(target), here)
        return f"<img src=\"{html.escape(rel)}\" alt=\"{html.escape(alt)}\">"

    parts += ["<h2>Average normalized throughput vs iterations</h2>",
              image("average", "average normalized throughput against iterations"),
              "<h2>Optimization trajectories</h2>",
              image("trajectories", "best-so-far trajectories per benchmark")]

    # Per-series tables
    parts.append("<h2>Per optimizer (Tables A1/A2 layout)</h2>")
    for s in series:
        body = [[html.escape(r.app), f"{r.mean:.2f}", f"{r.std:.2f}", f"{r.worst:.2f}",
                 f"{r.median:.2f}", f"{r.best:.2f}", str(r.n)]
                for r in rows if r.series == s]
        parts += [f"<h3>{label[s]}</h3>",
                  _table(["benchmark", "mean", "std", "worst", "median", "best", "seeds"],
                         body)]

    # Best mappers
    parts.append("<h2>Best mapper per benchmark</h2>")
    best: dict[str, UnitResult] = {}
    for unit in units:
        current = best.get(unit.app)
        if unit.best_program and (current is None or unit.score > current.score):
            best[unit.app] = unit
    for app in sorted(best, key=_app_order):
        unit = best[app]
        parts.append(
            f"<details><summary>{html.escape(app)}: {unit.score:.3f} by "
            f"{label.get(unit.series, html.escape(unit.series.agent))}, seed {unit.seed}, "
            f"iteration {unit.best_iteration}</summary>"
            f"<pre>{html.escape(unit.best_program or '')}</pre></details>"
        )
    parts.append("</body></html>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path
