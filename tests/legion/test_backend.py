"""LegionBackend: the Backend protocol on real Legion, its flags, its cache, what it refuses,
and back-pressure (InstanceLimit) really holding tasks back."""

from __future__ import annotations

import re

import pytest

from benchmarks import get_app
from mapper_gym.backends.base import Backend, BackendUnavailable
from mapper_gym.backends.cache import EvaluationCache
from mapper_gym.backends.problem import Problem
from mapper_gym.config import RunConfig
from mapper_gym.legion import LegionBackend, legion_problem, runtime_flags
from mapper_gym.legion.backend import utility_processors
from mapper_gym.machine import load_machine


def test_runtime_flags_create_the_machine_here():
    flags = runtime_flags(load_machine("local-cpu"))
    pairs = dict(zip(flags[::2], flags[1::2], strict=True))
    assert pairs["-ll:cpu"] == "2" and pairs["-ll:gpu"] == "0" and pairs["-ll:csize"] == "4096"
    assert pairs["-logfile"] == "stderr"


def test_utility_processors_only_with_a_core_to_spare():
    assert utility_processors(2, 1, host_cores=2) == 0
    assert utility_processors(2, 1, host_cores=4) == 1
    assert utility_processors(1, 2, host_cores=4) == 2


def test_machines_this_host_cannot_be():
    with pytest.raises(BackendUnavailable, match="GPU processors"):
        runtime_flags(load_machine("p100-node"))
    with pytest.raises(BackendUnavailable, match="nodes"):
        runtime_flags(load_machine("lassen", nodes=2))


def without_real_program(monkeypatch, app: str = "Pennant") -> str:
    """Make ``app`` look unimplemented for one test (every application may have a real
    program by now), so the refusal path is always exercised."""
    from mapper_gym.legion.apps import REAL_APPS

    monkeypatch.delitem(REAL_APPS, app)
    return app


def test_applications_without_a_real_implementation_are_refused(native, monkeypatch):
    app = without_real_program(monkeypatch)
    with pytest.raises(BackendUnavailable, match=f"{app} has no real Legion implementation"):
        LegionBackend(legion_problem(app), native=native)


def test_protocol_success_result_and_cache(problems, native):
    cache = EvaluationCache(8)
    backend = LegionBackend(problems["Circuit"], native=native, cache=cache, time_limit=120)
    assert isinstance(backend, Backend) and backend.name == "legion"
    text = get_app("Circuit").expert_mapper()
    result = backend.run(text)
    assert result.ok, result.raw_output()
    assert result.backend == "legion" and result.unit == "GFLOPS"
    gflops = float(re.search(r"^GFLOPS = +([0-9.]+) GFLOPS$", result.stdout, re.M).group(1))
    assert result.throughput == pytest.approx(gflops, rel=0.05, abs=0.002)
    assert result.raw_output().startswith("Performance Metric:")
    assert result.plan_summary["tasks"]["calculate_new_currents"]["kind"] == "CPU"
    assert set(result.stats.extra) >= {"wall_seconds", "peak_rss_bytes", "returncode", "build"}
    # per-processor and per-task busy time inside the measured window, from Realm's timelines
    assert set(result.stats.processor_busy) == {"n0.CPU0", "n0.CPU1"}
    assert set(result.stats.task_time) <= {"calculate_new_currents", "distribute_charge",
                                           "update_voltages"}
    assert result.stats.task_time.get("calculate_new_currents", 0) > 0
    assert sum(result.stats.processor_busy.values()) <= 2 * result.elapsed * 1.01
    assert set(result.stats.memory_capacity) == {"n0.SYSMEM0"}
    assert "circuit settings: loops=3" in result.stdout
    assert "{gpu}" not in result.stdout  # the runtime's log goes to stderr
    # the same program comes from the cache (a re-laid copy would not: positions differ)
    assert backend.run(text) is result


def test_instance_limit_holds_tasks_back(problems, make_backend):
    """InstanceLimit 1 with both points on one CPU: the second point of every launch waits
    for the first to finish (the mapper's own trace of in-flight tasks)."""
    text = """
    Task * CPU;
    InstanceLimit distribute_charge 1;
    cpus = Machine(CPU);
    def first(Task t) { return cpus[0, 0]; }
    IndexTaskMap distribute_charge first;
    """
    result = make_backend(problems["Circuit"]).run(text)
    assert result.ok, result.raw_output()
    events = re.findall(r"^MAPGYM (limit|limit-done) t=(\S+) task=(\S+) proc=(\S+) "
                        r"inflight=(\d+)", result.stderr, re.M)
    maps = [e for e in events if e[0] == "limit"]
    params = problems["Circuit"].model.params
    iterations = params["l"] + 2 * params["prune"]
    assert len(maps) == 2 * iterations  # every point of every iteration went through it
    assert {e[2] for e in events} == {"distribute_charge"} and {e[3] for e in events} == {
        "CPU:0:0"}
    assert max(int(e[4]) for e in maps) == 1
    # strictly alternating: a point is mapped only after the previous one finished
    assert [e[0] for e in events] == ["limit", "limit-done"] * (2 * iterations)


def test_without_backpressure_the_limit_is_inert(problems, make_backend):
    text = "Task * CPU;\nInstanceLimit distribute_charge 1;\n"
    result = make_backend(problems["Circuit"]).run(text, RunConfig(backpressure=False))
    assert result.ok
    assert "MAPGYM limit" not in result.stderr
    assert any(w.code == "W-LIMIT-OFF" for w in result.warnings)


def test_problem_sized_for_the_local_machine():
    problem = legion_problem("Stencil")
    assert isinstance(problem, Problem)
    assert problem.preset == "small" and problem.machine.name == "local-cpu"
    assert problem.model.params["ntx"] * problem.model.params["nty"] == 2
    with pytest.raises(ValueError):
        legion_problem("Stencil", problem="huge")
