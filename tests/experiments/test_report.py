"""Tables, figures and the HTML page from a small synthetic store, against hand-computed values."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from experiments.report import (
    Series,
    average_curve,
    averages,
    describe_values,
    stat_rows,
    trajectories,
    unit_results,
    write_report,
)
from experiments.store import encode_record

# (agent, app, seed) -> [(reward, status), ...]; budget 3 everywhere.
RUNS = {
    ("alpha", "Circuit", 0): [(0.5, "ok"), (0.0, "runtime_error"), (0.9, "ok")],
    ("alpha", "Circuit", 1): [(1.2, "ok"), (0.3, "ok"), (0.0, "compile_error")],
    ("alpha", "Circuit", 2): [(0.0, "runtime_error")] * 3,
    ("alpha", "Stencil", 0): [(1.0, "ok")] * 3,
    ("alpha", "Stencil", 1): [(0.2, "ok"), (0.4, "ok"), (0.1, "ok")],
    # a failed run's reward never counts, whatever the record says
    ("beta", "Circuit", 0): [(2.0, "runtime_error"), (0.6, "ok"), (0.6, "ok")],
    # unfinished: two of three evaluations
    ("beta", "Stencil", 0): [(0.9, "ok"), (0.95, "ok")],
}


def _records() -> list[dict]:
    out = [{"type": "session", "session": "s", "config": {}}]
    for (agent, app, seed), steps in RUNS.items():
        unit = f"{agent}-{app}-{seed}"
        for iteration, (reward, status) in enumerate(steps, start=1):
            out.append({
                "type": "eval", "id": f"{unit}-{iteration}", "unit": unit, "agent": agent,
                "app": app, "seed": seed, "budget": 3, "backend": "sim",
                "feedback_level": "suggest", "machine": "p100-node", "problem": None,
                "iteration": iteration, "reward": reward, "status": status,
                "program": f"# {unit} {iteration}\nTask * GPU;\n",
                "usage": {"total_tokens": 100, "cost_usd": 0.01} if agent == "beta" else None,
            })
    out.append(dict(out[3]))  # a repeated line counts once
    return out


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "runs" / "synthetic" / "results.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"".join(encode_record(r) for r in _records()))
    return path


ALPHA = Series("alpha", 3)
BETA = Series("beta", 3)


def test_unit_scores_are_the_best_successful_reward():
    units = {(u.series.agent, u.app, u.seed): u for u in unit_results(_records())}
    assert set(units) == set(RUNS) - {("beta", "Stencil", 0)}
    assert units[("alpha", "Circuit", 0)].score == 0.9
    assert units[("alpha", "Circuit", 0)].best_iteration == 3
    assert units[("alpha", "Circuit", 2)].score == 0.0
    assert units[("alpha", "Circuit", 2)].best_program is None
    assert units[("beta", "Circuit", 0)].score == 0.6
    assert units[("beta", "Circuit", 0)].best_iteration == 2
    assert units[("beta", "Circuit", 0)].tokens == 300
    assert units[("alpha", "Circuit", 1)].failures == 1
    partial = unit_results(_records(), include_partial=True)
    assert len(partial) == len(RUNS)


def test_table_rows_equal_hand_computed_statistics():
    rows = {(r.series, r.app): r for r in stat_rows(unit_results(_records()))}
    circuit = rows[(ALPHA, "Circuit")]  # scores 0.9, 1.2, 0.0
    assert circuit.n == 3 and circuit.seeds == (0, 1, 2)
    assert circuit.mean == pytest.approx(0.7)
    assert circuit.std == pytest.approx((0.78 / 2) ** 0.5)  # sample std: 0.6245
    assert (circuit.worst, circuit.median, circuit.best) == (0.0, 0.9, 1.2)
    stencil = rows[(ALPHA, "Stencil")]  # scores 1.0, 0.4
    assert stencil.mean == pytest.approx(0.7)
    assert stencil.std == pytest.approx(0.18 ** 0.5)
    assert stencil.median == pytest.approx(0.7)
    single = rows[(BETA, "Circuit")]
    assert (single.n, single.mean, single.std, single.worst, single.best) == (1, 0.6, 0.0,
                                                                              0.6, 0.6)
    assert (BETA, "Stencil") not in rows
    means = averages(rows.values())
    assert means[ALPHA] == (pytest.approx(0.7), 2)
    assert means[BETA] == (pytest.approx(0.6), 1)


def test_the_standard_deviation_is_the_papers_sample_one():
    # five runs consistent with the paper's PUMMA row: 0.57 / 0.55 / 0.00 / 0.66 / 1.09
    values = [0.0, 0.0, 0.66, 1.09, 1.09]
    mean, std, worst, median, best = describe_values(values)
    assert (round(mean, 2), round(std, 2), worst, median, best) == (0.57, 0.55, 0.0, 0.66,
                                                                    1.09)
    assert round(float(np.std(values)), 2) == 0.49  # the population std would not match
    assert describe_values([0.8]) == (0.8, 0.0, 0.8, 0.8, 0.8)
    with pytest.raises(ValueError):
        describe_values([])


def test_trajectories_and_the_average_curve():
    units = unit_results(_records())
    curves = trajectories(units)
    assert curves[(ALPHA, "Circuit")] == [[0.5, 0.5, 0.9], [1.2, 1.2, 1.2], [0.0, 0.0, 0.0]]
    assert curves[(BETA, "Circuit")] == [[0.0, 0.6, 0.6]]
    average = average_curve(units)
    circuit = [1.7 / 3, 1.7 / 3, 2.1 / 3]
    stencil = [0.6, 0.7, 0.7]
    assert average[ALPHA] == pytest.approx([(c + s) / 2 for c, s in zip(circuit, stencil,
                                                                         strict=True)])
    assert average[BETA] == pytest.approx([0.0, 0.6, 0.6])


def _check_png(path: Path, min_bytes: int = 8000) -> None:
    assert path.stat().st_size > min_bytes
    with Image.open(path) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert width >= 400 and height >= 300
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert pixels.std() > 5.0  # drawn on, not a blank canvas
    assert (pixels < 128).mean() > 0.005  # some dark ink: lines, text


def test_write_report_writes_tables_figures_and_html(store: Path):
    files = write_report(store.parent)
    assert files.units == 6 and files.partial_units == 1
    assert files.folder == store.parent / "report"

    table = files.tables_md.read_text()
    assert "| Circuit | 0.70 ± 0.62 | 0.60 ± 0.00 |" in table
    assert "| Stencil | 0.70 ± 0.42 | – |" in table
    assert "**0.70**" in table and "**0.60** (1 apps)" in table
    assert "| Circuit | 0.70 | 0.62 | 0.00 | 0.90 | 1.20 | 3 |" in table

    rows = list(csv.DictReader(io.StringIO(files.tables_csv.read_text())))
    circuit = next(r for r in rows if r["agent"] == "alpha" and r["app"] == "Circuit")
    assert float(circuit["mean"]) == pytest.approx(0.7)
    assert float(circuit["std"]) == pytest.approx(0.39 ** 0.5)
    assert circuit["seeds"] == "0 1 2"

    assert set(files.figures) == {"trajectories", "trajectory-Circuit", "trajectory-Stencil",
                                  "average"}
    for path in files.figures.values():
        _check_png(path)

    page = files.html.read_text()
    assert "<h1>synthetic</h1>" in page and "alpha (3 it.)" in page
    for source in re.findall(r'<img src="([^"]+)"', page):
        assert (files.html.parent / source).is_file()
    assert "1 unfinished unit(s) left out" in page
    assert "&lt;" not in page or "<pre>" in page


def test_a_store_without_complete_units_is_an_error(tmp_path: Path):
    path = tmp_path / "results.jsonl"
    path.write_bytes(encode_record({"type": "eval", "id": "u-1", "unit": "u", "agent": "a",
                                    "app": "Circuit", "seed": 0, "budget": 5, "iteration": 1,
                                    "reward": 1.0, "status": "ok", "program": "x"}))
    with pytest.raises(ValueError, match="no complete unit"):
        write_report(path)


def test_long_runs_are_drawn_on_a_log_axis(tmp_path: Path):
    records = []
    for seed in (0, 1):
        for iteration in range(1, 201):
            records.append({
                "type": "eval", "id": f"u{seed}-{iteration}", "unit": f"u{seed}",
                "agent": "opentuner", "app": "COSMA", "seed": seed, "budget": 200,
                "iteration": iteration, "reward": iteration / (200.0 + seed), "status": "ok",
                "program": str(iteration)})
    path = tmp_path / "long.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    files = write_report(path, tmp_path / "out", title="long")
    _check_png(files.figures["average"])
    _check_png(files.figures["trajectory-COSMA"])
