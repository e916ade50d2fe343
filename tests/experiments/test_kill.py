"""A run killed with SIGKILL resumes: nothing finished is lost, nothing finished is redone.

The experiment runs in a child process (``python -m experiments compare``) with a process
pool; the test kills the whole process group once some evaluations are in the store, resumes
in this process, and compares with an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from experiments import content, load_config, read_records, run_experiment
from experiments.config import RunOptions
from tests.experiments.fakes import DELAY_VARIABLE, LOG_VARIABLE
from tests.experiments.helpers import FAKE_AGENT, FAKE_ENV, REPO_ROOT

CONFIG = f"""
name = "killed"
apps = ["Circuit", "Stencil", "Pennant"]
seeds = "0-1"
budgets = [8]
feedback = ["raw"]
env_factory = "{FAKE_ENV}"

[[agents]]
name = "{FAKE_AGENT}"

[run]
executor = "process"
workers = 2
wandb = "disabled"
cache = "none"
"""
TOTAL = 3 * 2 * 8


def _start(tmp_path: Path, log: Path) -> tuple[subprocess.Popen, Path]:
    config = tmp_path / "experiment.toml"
    config.write_text(CONFIG)
    environment = dict(os.environ, **{LOG_VARIABLE: str(log), DELAY_VARIABLE: "0.04"})
    environment["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    process = subprocess.Popen(
        [sys.executable, "-m", "experiments", "compare", "--config", str(config),
         "--runs-dir", str(tmp_path / "runs"), "--no-progress"],
        env=environment, cwd=tmp_path, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, config


def _wait_for_evaluations(store: Path, count: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if store.exists() and store.read_text().count('"type":"eval"') >= count:
            return
        if process.poll() is not None:
            pytest.fail("the experiment ended before it could be killed")
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    pytest.fail("no evaluations appeared in time")


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("PPid:") and int(line.split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in state


def _reference(tmp_path: Path, config_path: Path) -> dict[str, dict]:
    config, _ = load_config(config_path)
    options = RunOptions(runs_dir=tmp_path / "reference", executor="serial", wandb="disabled",
                         cache=None, progress=False)
    return {r["id"]: content(r) for r in read_records(run_experiment(config, options).store,
                                                       "eval")}


@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc")
def test_a_killed_run_resumes_without_losing_or_repeating_evaluations(tmp_path, monkeypatch):
    log = tmp_path / "evaluations.log"
    process, config_path = _start(tmp_path, log)
    store = tmp_path / "runs" / "killed" / "results.jsonl"
    _wait_for_evaluations(store, 15, process)
    os.killpg(process.pid, signal.SIGKILL)  # the driver and its workers, all at once
    process.wait()
    time.sleep(0.2)
    at_kill = store.read_bytes()
    finished = at_kill[: at_kill.rfind(b"\n") + 1]
    recorded = [json.loads(line) for line in finished.splitlines()]
    recorded_evals = [r for r in recorded if r["type"] == "eval"]
    evaluated_before = len(log.read_text().splitlines())
    assert 15 <= len(recorded_evals) < TOTAL

    monkeypatch.setenv(LOG_VARIABLE, str(log))
    config, _ = load_config(config_path)
    resumed = run_experiment(config, RunOptions(
        runs_dir=tmp_path / "runs", executor="serial", wandb="disabled", cache=None,
        progress=False))
    assert resumed.ok

    final = store.read_bytes()
    assert final.startswith(finished)  # every finished evaluation is still there, unchanged
    evals = read_records(store, "eval")
    ids = [r["id"] for r in evals]
    assert len(ids) == len(set(ids)) == TOTAL
    evaluated_after = len(log.read_text().splitlines()) - evaluated_before
    assert evaluated_after == TOTAL - len(recorded_evals)  # none of them was evaluated again
    assert resumed.evaluations_written == TOTAL - len(recorded_evals)

    monkeypatch.delenv(LOG_VARIABLE)
    assert {r["id"]: content(r) for r in evals} == _reference(tmp_path, config_path)


@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc")
def test_workers_stop_when_their_driver_is_killed(tmp_path):
    process, _ = _start(tmp_path, tmp_path / "evaluations.log")
    store = tmp_path / "runs" / "killed" / "results.jsonl"
    _wait_for_evaluations(store, 3, process)
    workers = [pid for pid in _children(process.pid) if _alive(pid)]
    os.kill(process.pid, signal.SIGKILL)  # only the driver
    process.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    leaked = [pid for pid in workers if _alive(pid)]
    for pid in leaked:  # clean up our own children before failing
        os.kill(pid, signal.SIGKILL)
    assert workers and not leaked
