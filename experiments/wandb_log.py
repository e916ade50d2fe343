"""Weights & Biases logging: one W&B run per unit (agent, benchmark, seed, budget, ...).

Each run has the unit's configuration (and the experiment's), the trajectory of scores as
metrics by iteration (``score``: this evaluation's normalized throughput, ``best_so_far``,
``ok``, and token usage for LLM agents), the outcome in the summary, and the best mapper as an
artifact of type ``mapper``.

Safe defaults, because a logger must never hang or litter:

- A mode is always given (``offline`` unless asked otherwise; tests use ``disabled``): without
  one and without a network, ``wandb.init`` can wait for a login.
- Everything W&B writes goes under the run folder, ``runs/<name>/wandb/`` (runs, cache,
  artifact staging, config and the service's logs), not the user's home: the ``WANDB_*_DIR``
  variables are set for the duration of each call (a variable the user set is respected).
- No system metrics, code or git capture, no console capture.
- Logging happens in the driver, from the records in the store, after a unit finishes: workers
  (Ray nodes included) never need W&B, and a failed upload never loses a result.

``wandb sync runs/<name>/wandb/wandb/offline-run-*`` uploads offline runs later.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from experiments.config import ExperimentConfig, RunOptions, RunUnit, finite

__all__ = ["WandbLogger", "wandb_run_id"]

_DIR_VARIABLES = {
    "WANDB_DIR": "",
    "WANDB_CACHE_DIR": "cache",
    "WANDB_CONFIG_DIR": "config",
    "WANDB_DATA_DIR": "data",
    "WANDB_ARTIFACT_DIR": "artifacts",
}


@contextlib.contextmanager
def wandb_directories(root: Path) -> Iterator[None]:
    """Point W&B's folders under ``root`` while the block runs (user settings win)."""
    saved = {name: os.environ.get(name) for name in _DIR_VARIABLES}
    try:
        for name, sub in _DIR_VARIABLES.items():
            if not saved[name]:
                path = root / sub if sub else root
                path.mkdir(parents=True, exist_ok=True)
                os.environ[name] = str(path)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def wandb_run_id(experiment: str, unit: RunUnit) -> str:
    """A W&B run id fixed by the experiment and the unit (a re-log resumes the same run)."""
    return hashlib.sha256(f"{experiment}/{unit.unit_id}".encode()).hexdigest()[:20]


def _artifact_name(unit: RunUnit) -> str:
    raw = f"mapper-{unit.app}-{unit.agent.label}-s{unit.seed}-b{unit.budget}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", raw)[:120]


class WandbLogger:
    """Logs finished units to W&B in ``options.wandb`` mode.

    Args:
        config, options: the experiment and its execution options.
        run_dir: ``runs/<name>``; W&B writes under ``run_dir/wandb``.
        wandb_module: the module to use (``None`` imports ``wandb``; tests pass a recorder).
    """

    def __init__(self, config: ExperimentConfig, options: RunOptions, run_dir: Path,
                 *, wandb_module: Any | None = None) -> None:
        self.config = config
        self.mode = options.wandb
        self.project = options.wandb_project
        self.entity = options.wandb_entity
        self.root = Path(run_dir) / "wandb"
        self._module = wandb_module
        self.enabled = self.mode != "disabled"
        if self.enabled and self._module is None:
            try:
                import wandb
            except ImportError:
                print("W&B logging is off: wandb is not installed "
                      "(pip install 'mapper-gym[wandb]')", file=sys.stderr)
                self.enabled = False
            else:
                self._module = wandb

    def _settings(self) -> Any:
        wandb = self._module
        settings_type = getattr(wandb, "Settings", None)
        if settings_type is None:
            return None
        wanted = {"silent": True, "console": "off", "save_code": False,
                  "disable_git": True, "x_disable_stats": True}
        try:
            return settings_type(**wanted)
        except Exception:  # older or newer W&B without some of these fields
            return settings_type(silent=True)

    def log_unit(self, unit: RunUnit, record: Mapping[str, Any],
                 evaluations: Sequence[Mapping[str, Any]]) -> str:
        """Log one finished unit; returns the W&B run id."""
        wandb = self._module
        if wandb is None:
            import wandb as imported

            wandb = self._module = imported
        run_id = wandb_run_id(self.config.name, unit)
        with wandb_directories(self.root):
            kwargs: dict[str, Any] = {
                "project": self.project,
                "group": self.config.name,
                "job_type": unit.agent.label,
                "name": f"{unit.agent.label}-{unit.app}-s{unit.seed}-b{unit.budget}",
                "id": run_id,
                "resume": "allow",
                "mode": self.mode,
                "dir": str(self.root),
                "tags": [unit.agent.label, unit.app, unit.backend, unit.feedback,
                         unit.machine],
                "config": {
                    "unit": unit.identity(),
                    "unit_id": unit.unit_id,
                    "agent_label": unit.agent.label,
                    "experiment": self.config.to_dict(),
                },
                "reinit": "finish_previous",
            }
            if self.entity:
                kwargs["entity"] = self.entity
            settings = self._settings()
            if settings is not None:
                kwargs["settings"] = settings
            run = wandb.init(**kwargs)
            try:
                for evaluation in sorted(evaluations, key=lambda r: int(r["iteration"])):
                    usage = evaluation.get("usage") or {}
                    metrics = {
                        "score": finite(evaluation.get("reward")),
                        "best_so_far": finite(evaluation.get("best_so_far")),
                        "ok": int(evaluation.get("status") == "ok"),
                        "throughput": finite(evaluation.get("throughput")),
                    }
                    if usage:
                        metrics["tokens"] = int(usage.get("total_tokens", 0))
                    run.log(metrics, step=int(evaluation["iteration"]))
                summary = {
                    "best_score": finite(record.get("best_score")),
                    "best_iteration": record.get("best_iteration"),
                    "evaluations": record.get("evaluations"),
                    "failures": record.get("failures"),
                }
                if record.get("usage"):
                    summary["total_tokens"] = record["usage"].get("total_tokens")
                    summary["cost_usd"] = record["usage"].get("cost_usd")
                for key, value in summary.items():
                    run.summary[key] = value
                program = record.get("best_program")
                if program:
                    folder = self.root / "mappers" / unit.unit_id
                    folder.mkdir(parents=True, exist_ok=True)
                    path = folder / f"{unit.app}.dsl"
                    path.write_text(program if program.endswith("\n") else program + "\n")
                    artifact = wandb.Artifact(
                        _artifact_name(unit), type="mapper",
                        description=f"best mapper of {unit.title} (budget {unit.budget})",
                        metadata={"score": finite(record.get("best_score")),
                                  "iteration": record.get("best_iteration"),
                                  "unit": unit.unit_id, "app": unit.app},
                    )
                    artifact.add_file(str(path))
                    run.log_artifact(artifact)
            finally:
                run.finish()
        return str(getattr(run, "id", run_id) or run_id)
