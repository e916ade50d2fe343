"""W&B logging: what is sent (with a recorder in place of wandb), and the real package in
``disabled`` mode (no network, no files in the home folder)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest

from experiments import read_records, run_experiment
from experiments.wandb_log import WandbLogger, wandb_directories
from tests.experiments.helpers import fake_config, options


class _Run:
    def __init__(self, module: RecordingWandb, kwargs: dict[str, Any]) -> None:
        self.module = module
        self.kwargs = kwargs
        self.id = kwargs["id"]
        self.logged: list[tuple[dict, int]] = []
        self.summary: dict[str, Any] = {}
        self.artifacts: list[Any] = []
        self.finished = False
        self.environment = {k: v for k, v in os.environ.items() if k.startswith("WANDB_")}

    def log(self, metrics: dict, step: int) -> None:
        self.logged.append((dict(metrics), step))

    def log_artifact(self, artifact: Any) -> None:
        self.artifacts.append(artifact)

    def finish(self) -> None:
        self.finished = True


class _Artifact:
    def __init__(self, name: str, type: str, description: str = "",
                 metadata: dict | None = None) -> None:
        self.name, self.type, self.metadata = name, type, metadata or {}
        self.files: list[tuple[str, str]] = []

    def add_file(self, path: str) -> None:
        self.files.append((path, Path(path).read_text()))


class _Settings:
    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs


class RecordingWandb:
    """Just enough of the wandb module's surface, recording every call."""

    Artifact = _Artifact
    Settings = _Settings

    def __init__(self) -> None:
        self.runs: list[_Run] = []

    def init(self, **kwargs: Any) -> _Run:
        run = _Run(self, kwargs)
        self.runs.append(run)
        return run


def test_one_run_per_unit_with_trajectory_best_mapper_and_config(tmp_path, evaluation_log,
                                                                 monkeypatch):
    for name in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_DATA_DIR",
                 "WANDB_ARTIFACT_DIR"):
        monkeypatch.delenv(name, raising=False)
    recorder = RecordingWandb()
    config = fake_config("logged", seeds=(0, 1))
    summary = run_experiment(config, options(tmp_path, wandb="offline"),
                             wandb_module=recorder)
    assert len(recorder.runs) == summary.units_finished == 4
    run_dir = tmp_path / "runs" / "logged"
    units = {r["unit"]: r for r in read_records(summary.store, "unit")}
    for run in recorder.runs:
        kwargs = run.kwargs
        assert kwargs["mode"] == "offline" and kwargs["group"] == "logged"
        assert Path(kwargs["dir"]) == run_dir / "wandb"
        assert run.environment["WANDB_CACHE_DIR"].startswith(str(run_dir / "wandb"))
        assert run.environment["WANDB_CONFIG_DIR"].startswith(str(run_dir / "wandb"))
        record = units[kwargs["config"]["unit_id"]]
        assert kwargs["name"] == f"{record['agent']}-{record['app']}-s{record['seed']}-b6"
        assert kwargs["config"]["unit"]["seed"] == record["seed"]
        assert kwargs["config"]["experiment"]["name"] == "logged"
        assert [step for _, step in run.logged] == [1, 2, 3, 4, 5, 6]
        assert [m["best_so_far"] for m, _ in run.logged] == record["trajectory"]
        assert run.summary["best_score"] == record["best_score"]
        assert run.finished
        if record["best_program"] is not None:
            (artifact,) = run.artifacts
            assert artifact.type == "mapper"
            assert artifact.files[0][1].rstrip("\n") == record["best_program"]
            assert artifact.metadata["score"] == record["best_score"]
    assert "WANDB_CACHE_DIR" not in os.environ  # restored after each call
    assert len(read_records(summary.store, "wandb")) == 4


def test_units_logged_before_are_not_logged_again_and_missed_ones_are(tmp_path,
                                                                      evaluation_log):
    config = fake_config("relog", apps=("Circuit",), seeds=(0, 1))
    first = RecordingWandb()
    store = run_experiment(config, options(tmp_path, wandb="offline"),
                           wandb_module=first).store
    assert len(first.runs) == 2
    # forget one of the two wandb markers, as if the driver died before writing it
    lines = store.read_text().splitlines(keepends=True)
    marker = next(i for i, line in enumerate(lines) if '"type":"wandb"' in line)
    store.write_text("".join(lines[:marker] + lines[marker + 1:]))
    second = RecordingWandb()
    run_experiment(config, options(tmp_path, wandb="offline"), wandb_module=second)
    assert len(second.runs) == 1
    assert second.runs[0].id == first.runs[0].id  # the same W&B run, resumed


def test_disabled_mode_never_touches_wandb(tmp_path, evaluation_log):
    recorder = RecordingWandb()
    run_experiment(fake_config("quiet"), options(tmp_path, wandb="disabled"),
                   wandb_module=recorder)
    assert recorder.runs == []


def test_user_chosen_wandb_folders_are_respected(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / "mine"))
    monkeypatch.delenv("WANDB_DATA_DIR", raising=False)
    with wandb_directories(tmp_path / "run"):
        assert os.environ["WANDB_CACHE_DIR"] == str(tmp_path / "mine")
        assert os.environ["WANDB_DATA_DIR"] == str(tmp_path / "run" / "data")
    assert "WANDB_DATA_DIR" not in os.environ


@pytest.mark.skipif(importlib.util.find_spec("wandb") is None, reason="wandb not installed")
def test_the_real_wandb_in_disabled_mode(tmp_path, evaluation_log, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    import wandb

    config = fake_config("real", apps=("Circuit",), seeds=(0,))
    store = run_experiment(config, options(tmp_path)).store
    unit = fake_config("real", apps=("Circuit",), seeds=(0,)).units()[0]
    logger = WandbLogger(config, options(tmp_path, wandb="disabled"), tmp_path / "run",
                         wandb_module=wandb)
    record = read_records(store, "unit")[0]
    run_id = logger.log_unit(unit, record, read_records(store, "eval"))
    assert run_id
    assert not (tmp_path / "home").exists()
