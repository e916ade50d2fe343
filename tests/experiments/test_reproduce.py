"""The paper-study script: its grid, its comparison with the published numbers, a tiny run."""

from __future__ import annotations

import pytest

from experiments import read_records
from experiments.config import APPS
from experiments.report import Series, StatRow
from experiments.reproduce import comparison_markdown, llm_endpoint_configured, main, paper_config


def test_the_study_grid():
    config = paper_config(llm={"model": "gpt-4o-2024-08-06"})
    units = config.units()
    count = {}
    for unit in units:
        key = (unit.agent.label, unit.budget)
        count[key] = count.get(key, 0) + 1
    assert count == {("random", 10): 45, ("opentuner", 10): 45, ("opentuner", 1000): 45,
                     ("expert", 1): 9, ("default", 1): 9, ("llm", 10): 45}
    assert {u.app for u in units} == set(APPS)
    assert {u.feedback for u in units} == {"suggest"} and {u.backend for u in units} == {"sim"}
    assert config.evaluations() == 45 * 10 + 45 * 10 + 45 * 1000 + 18 + 45 * 10
    assert not any(u.agent.name == "llm" for u in paper_config().units())


def test_an_endpoint_is_a_key_or_a_local_server(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert not llm_endpoint_configured(None)
    assert llm_endpoint_configured("http://127.0.0.1:8000/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert llm_endpoint_configured(None)


def _row(agent: str, budget: int, app: str, mean: float) -> StatRow:
    return StatRow(Series(agent, budget), app, 5, mean, 0.1, mean - 0.1, mean, mean + 0.1)


def test_the_comparison_puts_published_numbers_beside_ours():
    rows = [_row("llm", 10, app, 1.1) for app in APPS]
    rows += [_row("opentuner", 10, app, 0.1) for app in APPS]
    rows += [_row("opentuner", 1000, app, 0.55) for app in APPS]
    text = comparison_markdown(rows)
    assert "| Circuit | 1.33 / 0.01 / 1.31 / 1.33 / 1.34 | 1.10 / 0.10 / 1.00 / 1.10 / 1.20 |" \
        in text
    assert "| Circuit | 0.97 | 0.10 |" in text
    assert "| llm (10 it.) / opentuner (10 it.) | 11.0x | 11.0x |" in text
    assert "| llm (10 it.) / opentuner (1000 it.) | 3.8x | 2.0x |" in text


def test_a_tiny_reproduction_end_to_end(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    code = main(["--name", "tiny", "--runs-dir", str(tmp_path), "--apps", "Circuit",
                 "--seeds", "2", "--no-opentuner-1000", "--executor", "serial",
                 "--wandb", "disabled",
                 "--llm-client", "tests.experiments.fakes:scripted_llm"])
    assert code == 0
    out = capsys.readouterr()
    assert "best mappers confirmed" in out.err
    report = tmp_path / "tiny" / "report"
    assert (report / "index.html").is_file() and (report / "average_vs_iterations.png").is_file()
    comparison = (report / "paper_comparison.md").read_text()
    assert "| Circuit | 1.33 / 0.01" in comparison
    units = read_records(tmp_path / "tiny" / "results.jsonl", "unit")
    assert {(u["agent"], u["budget"]) for u in units} == {
        ("random", 10), ("opentuner", 10), ("expert", 1), ("default", 1), ("llm", 10)}
    expert = next(u for u in units if u["agent"] == "expert")
    assert expert["best_score"] == pytest.approx(1.0)


def test_the_shipped_paper_grid_is_the_reproduction_grid():
    from pathlib import Path

    from experiments import load_config

    folder = Path(__file__).resolve().parents[2] / "experiments" / "configs"
    config, options = load_config(folder / "paper.toml")
    assert [u.unit_id for u in config.units()] == [u.unit_id for u in paper_config().units()]
    assert options.executor == "process" and options.wandb == "offline"
    smoke, _ = load_config(folder / "smoke.toml")
    assert len(smoke.units()) == 8
