"""Executors: the process pool and Ray give the same records as one process."""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from experiments import AgentSpec, ExperimentConfig, content, read_records, run_experiment
from experiments.parallel import ProcessExecutor, RayExecutor
from tests.experiments.helpers import FAKE_AGENT, FAKE_ENV, REPO_ROOT, fake_config, options


def _contents(path: Path) -> dict[str, dict]:
    return {r["id"]: content(r) for r in read_records(path, "eval")}


def _units(path: Path) -> dict[str, dict]:
    return {r["unit"]: content(r) for r in read_records(path, "unit")}


def test_the_process_pool_gives_the_records_of_a_single_process(tmp_path, evaluation_log):
    config = fake_config("pool", apps=("Circuit", "Stencil", "COSMA"), seeds=(0, 1, 2))
    serial = run_experiment(config, options(tmp_path / "serial"))
    evaluations = evaluation_log.count()
    pooled = run_experiment(config, options(tmp_path / "pool", executor="process",
                                            workers=2))
    assert pooled.executor == "process" and pooled.workers == 2 and pooled.ok
    assert _contents(pooled.store) == _contents(serial.store)
    assert _units(pooled.store) == _units(serial.store)
    assert evaluation_log.count() == 2 * evaluations
    pids = {r["pid"] for r in read_records(pooled.store, "eval")}
    assert os.getpid() not in pids and len(pids) >= 1


def test_a_failing_unit_in_the_pool_does_not_stop_the_others(tmp_path, evaluation_log):
    config = fake_config("pool-fail", agents=("tests.experiments.fakes:CrashingAgent",
                                              "tests.experiments.fakes:FakeAgent"),
                         apps=("Circuit",), seeds=(0, 1))
    summary = run_experiment(config, options(tmp_path), executor=ProcessExecutor(2))
    assert summary.units_failed == 2 and summary.units_finished == 2


ray_missing = importlib.util.find_spec("ray") is None


@pytest.fixture(scope="module")
def ray_cluster():
    """A real local Ray instance in its own process, reached by address like a cluster.

    The head runs in a child process we start (and stop by closing its standard input), so
    the test submits to a running instance the way ``--ray-address`` does.
    """
    script = (
        "import sys, ray\n"
        "ray.init(num_cpus=2, include_dashboard=False, configure_logging=False,\n"
        "         _temp_dir=sys.argv[1])\n"
        "print(ray.get_runtime_context().gcs_address, flush=True)\n"
        "sys.stdin.read()\n"
        "ray.shutdown()\n"
    )
    # Token authentication as a real cluster has it, with a token of the test's own (given
    # to the head and to this client through the environment, nothing under ~/.ray).
    token = secrets.token_hex(32)
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token}
    environment = dict(os.environ, **auth, PYTHONPATH=os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p))
    temp = tempfile.mkdtemp(prefix="mg-ray-")  # short: Ray's socket paths must fit 107 bytes
    head = subprocess.Popen([sys.executable, "-c", script, temp], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=environment)
    try:
        address = head.stdout.readline().strip()
        assert address, "the Ray head did not start"
        with pytest.MonkeyPatch.context() as patch:
            for name, value in auth.items():
                patch.setenv(name, value)
            yield address
    finally:
        head.stdin.close()
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait()
        head.stdout.close()
        shutil.rmtree(temp, ignore_errors=True)


@pytest.mark.skipif(ray_missing, reason="ray is not installed (pip install 'mapper-gym[ray]')")
def test_ray_gives_the_records_of_the_process_pool(tmp_path, ray_cluster):
    """A small sweep on the simulator: random search and OpenTuner, two apps, two seeds."""
    config = ExperimentConfig(name="ray", agents=(AgentSpec("random"), AgentSpec("opentuner")),
                              apps=("Circuit", "Stencil"), seeds=(0, 1), budgets=(3,))
    pooled = run_experiment(config, options(tmp_path / "pool", executor="process", workers=2))
    started = time.perf_counter()
    remote = run_experiment(config, options(tmp_path / "ray", executor="ray",
                                            ray_address=ray_cluster, workers=2))
    assert remote.executor == "ray" and remote.ok, remote.errors
    assert _contents(remote.store) == _contents(pooled.store)
    assert _units(remote.store) == _units(pooled.store)
    assert time.perf_counter() - started < 120


@pytest.mark.skipif(ray_missing, reason="ray is not installed (pip install 'mapper-gym[ray]')")
def test_ray_reports_a_failing_unit(tmp_path, evaluation_log, ray_cluster):
    config = fake_config("ray-fail", agents=("tests.experiments.fakes:CrashingAgent",),
                         apps=("Circuit",), seeds=(0,))
    summary = run_experiment(config, options(tmp_path), executor=RayExecutor(ray_cluster, 1))
    assert summary.units_failed == 1
    assert "agent exploded" in read_records(summary.store, "unit_error")[0]["error"]


@pytest.mark.skipif(ray_missing, reason="ray is not installed (pip install 'mapper-gym[ray]')")
def test_an_unreachable_ray_cluster_is_a_clear_error(tmp_path, evaluation_log, capsys,
                                                     monkeypatch):
    """Ray retries an unreachable address for minutes, so its refusal is simulated here; what
    is tested is that the runner turns it into one line with the authentication hint."""
    import ray

    from experiments.cli import main

    def refuse(*args, **kwargs):
        raise ConnectionError("Failed to connect to Ray cluster at 127.0.0.1:9")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", refuse)
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    config = tmp_path / "exp.toml"
    config.write_text(f'name = "x"\nagents = ["{FAKE_AGENT}"]\napps = ["Circuit"]\n'
                      f'env_factory = "{FAKE_ENV}"\n[run]\nwandb = "disabled"\n')
    code = main(["compare", "--config", str(config), "--runs-dir", str(tmp_path),
                 "--ray-address", "127.0.0.1:9", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot reach the Ray cluster" in err and "Traceback" not in err
    assert "RAY_AUTH_MODE=token" in err
