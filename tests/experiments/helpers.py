"""Shared helpers of the experiment tests: fake grids, run options, the evaluation log."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from experiments import AgentSpec, ExperimentConfig, RunOptions

FAKE_AGENT = "tests.experiments.fakes:FakeAgent"
FAKE_ENV = "tests.experiments.fakes:make_fake_env"
REPO_ROOT = Path(__file__).resolve().parents[2]


def fake_config(name: str, agents: Sequence[str] = (FAKE_AGENT,),
                apps: Sequence[str] = ("Circuit", "Stencil"), seeds: Sequence[int] = (0, 1),
                budgets: Sequence[int] = (6,)) -> ExperimentConfig:
    return ExperimentConfig(name=name, agents=tuple(AgentSpec(a) for a in agents),
                            apps=tuple(apps), seeds=tuple(seeds), budgets=tuple(budgets),
                            feedback=("raw",), env_factory=FAKE_ENV)


def options(tmp_path: Path, **changes) -> RunOptions:
    base = {"runs_dir": tmp_path / "runs", "executor": "serial", "wandb": "disabled",
            "cache": None, "progress": False}
    base.update(changes)
    return RunOptions(**base)


class EvaluationLog:
    """The fake environment's evaluation log: one line per real evaluation."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def lines(self) -> list[str]:
        return self.path.read_text().splitlines() if self.path.exists() else []

    def count(self) -> int:
        return len(self.lines())
