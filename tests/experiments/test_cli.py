"""``compare``, ``report`` and ``validate`` from the command line (in-process)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from experiments.cli import (
    add_compare_command,
    add_report_command,
    add_validate_command,
    main,
)
from experiments.store import ResultsStore, read_records
from tests.experiments.helpers import FAKE_AGENT, FAKE_ENV


def _config(tmp_path: Path, agents: str = f'"{FAKE_AGENT}"') -> Path:
    path = tmp_path / "exp.toml"
    path.write_text(f"""
name = "cli"
agents = [{agents}]
apps = ["Circuit", "Stencil"]
seeds = "0-1"
budgets = [4]
feedback = ["raw"]
env_factory = "{FAKE_ENV}"

[run]
executor = "serial"
wandb = "disabled"
cache = "none"
""")
    return path


def _compare(tmp_path: Path, *extra: str) -> int:
    return main(["compare", "--config", str(_config(tmp_path)), "--runs-dir",
                 str(tmp_path / "runs"), "--no-progress", *extra])


def test_compare_runs_the_grid_and_writes_the_report(tmp_path, evaluation_log, capsys):
    assert _compare(tmp_path, "--report") == 0
    store = tmp_path / "runs" / "cli" / "results.jsonl"
    assert len(read_records(store, "eval")) == 16
    assert (tmp_path / "runs" / "cli" / "report" / "index.html").is_file()
    assert "| benchmark |" in capsys.readouterr().out
    assert json.loads((tmp_path / "runs" / "cli" / "config.json").read_text())[
        "experiment"]["name"] == "cli"


def test_flags_override_the_file(tmp_path, evaluation_log, capsys):
    assert _compare(tmp_path, "--name", "other", "--seeds", "3", "--apps", "COSMA",
                    "--budgets", "2") == 0
    records = read_records(tmp_path / "runs" / "other" / "results.jsonl", "eval")
    assert {(r["app"], r["seed"], r["budget"]) for r in records} == {("COSMA", 3, 2)}


def test_dry_run_counts_what_is_left(tmp_path, evaluation_log, capsys):
    assert _compare(tmp_path, "--dry-run") == 0
    assert "4 units, 16 evaluations; 4 unit(s) left" in capsys.readouterr().out
    assert _compare(tmp_path) == 0
    capsys.readouterr()
    assert _compare(tmp_path, "--dry-run") == 0
    assert "0 unit(s) left" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["compare", "--agent", "annealing"], "unknown agent"),
    (["compare"], "no agent"),
    (["compare", "--agent", "random", "--seeds", "x"], "seeds"),
    (["compare", "--config", "/nonexistent.toml"], "cannot read"),
    (["report", "/nonexistent/results.jsonl"], "no such results file"),
    (["validate", "/nonexistent"], "no such results file"),
    (["compare", "--agent", "llm", "--apps", "Circuit"], "no LLM endpoint"),
    (["compare", "--agent", "random", "--machine", "no-such-machine"], "no-such-machine"),
    (["compare", "--agent", "random", "--problem", "Z"], "unknown problem"),
])
def test_bad_input_is_one_line_and_status_2(tmp_path, capsys, argv, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_locked_store_is_reported(tmp_path, evaluation_log, capsys):
    with ResultsStore(tmp_path / "runs" / "cli" / "results.jsonl"):
        assert _compare(tmp_path) == 2
    assert "another process" in capsys.readouterr().err


def test_a_failed_unit_makes_status_1(tmp_path, evaluation_log, capsys):
    path = _config(tmp_path, agents='"tests.experiments.fakes:CrashingAgent"')
    assert main(["compare", "--config", str(path), "--runs-dir", str(tmp_path / "runs"),
                 "--no-progress"]) == 1
    assert "agent exploded" in capsys.readouterr().err


def test_report_and_validate(tmp_path, evaluation_log, capsys):
    assert _compare(tmp_path) == 0
    run_dir = tmp_path / "runs" / "cli"
    assert main(["report", str(run_dir), "--out", str(tmp_path / "out"), "--validate"]) == 0
    page = (tmp_path / "out" / "index.html").read_text()
    assert "4/4 valid" in page
    capsys.readouterr()

    assert main(["validate", str(run_dir), "--json", str(tmp_path / "checks.json")]) == 0
    out = capsys.readouterr().out
    assert "4/4 check(s) passed" in out and "| 1 |" in out
    assert len(json.loads((tmp_path / "checks.json").read_text())) == 4
    assert main(["validate", str(run_dir), "--all"]) == 0
    assert "16/16 check(s) passed" in capsys.readouterr().out

    store = run_dir / "results.jsonl"
    lines = store.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    best = max((r for r in records if r["type"] == "eval"), key=lambda r: r["reward"])
    best["reward"] += 1.0
    store.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main(["validate", str(store)]) == 1
    assert "mismatch" in capsys.readouterr().out


def test_the_commands_plug_into_another_parser():
    parser = argparse.ArgumentParser(prog="mapper-gym")
    subparsers = parser.add_subparsers(dest="command")
    for add in (add_compare_command, add_report_command, add_validate_command):
        assert isinstance(add(subparsers), argparse.ArgumentParser)
    args = parser.parse_args(["compare", "--agent", "random", "--budgets", "10,1000"])
    assert args.handler.__name__ == "cmd_compare" and args.budgets == "10,1000"
    args = parser.parse_args(["validate", "runs/x", "--all"])
    assert args.all and args.handler.__name__ == "cmd_validate"
